//! Sightings the server can see and no single station can: the same person entering two venues
//! closer in time than travel allows, or entering one venue again through another station within
//! minutes — both the trace a shared screenshot (or a copied code) leaves.
//!
//! Invariants: only entries that passed on a scanned code count (a refusal admitted nobody, a
//! manual registration has a station-local subject); a pair is judged the same whichever record
//! arrives first, and is named by its two record ids in time order, so detecting it twice (two
//! servers, a retried upload) stores it once; nothing here knows who the person is — subjects
//! are the issuer's pseudonyms.

use chrono::{DateTime, Duration, Utc};

/// Travel speed assumed for the first [`NEAR_KM`] of a trip (straight line, a city by road).
pub const ROAD_KMH: f64 = 60.0;
/// Distance up to which a trip is taken to be by road.
pub const NEAR_KM: f64 = 100.0;
/// Travel speed assumed for any distance (an aircraft, door to door).
pub const AIR_KMH: f64 = 500.0;
/// Two venues whose map points are not both known: entries closer than this are "at once".
pub const AT_ONCE: Duration = Duration::minutes(2);
/// The same person entering one venue again within this, through another station, alerts (the
/// station alerts on its own re-entries with [`crate::gate::REENTRY_ALERT`], the same span).
pub const REENTRY: Duration = crate::gate::REENTRY_ALERT;
/// The longest travel time considered: entries further apart are never compared.
pub const WINDOW: Duration = Duration::hours(12);

/// A venue's map point, in millionths of a degree (WGS-84).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeoPoint {
    pub lat_e6: i32,
    pub lon_e6: i32,
}

impl GeoPoint {
    /// A point, if the coordinates are on the globe.
    pub fn new(lat_e6: i32, lon_e6: i32) -> Option<GeoPoint> {
        ((-90_000_000..=90_000_000).contains(&lat_e6)
            && (-180_000_000..=180_000_000).contains(&lon_e6))
        .then_some(GeoPoint { lat_e6, lon_e6 })
    }

    /// Great-circle distance in kilometres (haversine on a 6,371 km sphere).
    pub fn km_to(self, other: GeoPoint) -> f64 {
        let rad = |e6: i32| f64::from(e6) / 1e6 * std::f64::consts::PI / 180.0;
        let (la1, lo1, la2, lo2) = (
            rad(self.lat_e6),
            rad(self.lon_e6),
            rad(other.lat_e6),
            rad(other.lon_e6),
        );
        let h = ((la2 - la1) / 2.0).sin().powi(2)
            + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
        2.0 * 6371.0 * h.sqrt().min(1.0).asin()
    }
}

/// The least time a trip of `km` takes: by road for the first [`NEAR_KM`], never faster than
/// by air.
pub fn travel_time(km: f64) -> Duration {
    let hours = (km / AIR_KMH).max(km.min(NEAR_KM) / ROAD_KMH);
    Duration::milliseconds((hours * 3_600_000.0).round() as i64)
}

/// One entry that passed on a scanned code, as the server holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    pub record_id: String,
    pub venue_id: String,
    pub device_id: String,
    pub subject: String,
    pub at: DateTime<Utc>,
    /// The venue's map point, when it gave one.
    pub point: Option<GeoPoint>,
}

/// What a pair of entries suggests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SightingKind {
    /// Two venues, closer in time than travel between them allows.
    TwoPlaces,
    /// One venue again, through another station, within [`REENTRY`].
    ReEntry,
}

impl SightingKind {
    /// The stable code stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            SightingKind::TwoPlaces => "two_places",
            SightingKind::ReEntry => "reentry",
        }
    }

    pub fn from_code(code: &str) -> Option<SightingKind> {
        match code {
            "two_places" => Some(SightingKind::TwoPlaces),
            "reentry" => Some(SightingKind::ReEntry),
            _ => None,
        }
    }
}

/// An alert about two entries of one person, the earlier first.
#[derive(Debug, Clone, PartialEq)]
pub struct SightingAlert {
    pub kind: SightingKind,
    pub first: Sighting,
    pub second: Sighting,
    /// Straight-line distance, when both venues gave a map point.
    pub km: Option<f64>,
    /// The least time the trip takes ([`travel_time`], or [`AT_ONCE`] / [`REENTRY`]).
    pub needed: Duration,
}

impl SightingAlert {
    /// The time between the two entries.
    pub fn gap(&self) -> Duration {
        self.second.at - self.first.at
    }

    /// A stable id for the pair: the same whichever server or upload found it.
    pub fn pair_id(&self) -> String {
        format!("{}+{}", self.first.record_id, self.second.record_id)
    }
}

/// Judges two entries; `None` when they are unremarkable (or not one person's).
pub fn judge(a: &Sighting, b: &Sighting) -> Option<SightingAlert> {
    if a.subject != b.subject || a.record_id == b.record_id {
        return None;
    }
    let (first, second) = if (a.at, &a.record_id) <= (b.at, &b.record_id) {
        (a, b)
    } else {
        (b, a)
    };
    let gap = second.at - first.at;
    let (kind, km, needed) = if first.venue_id == second.venue_id {
        // The station alerts on its own re-entries; the server adds those across stations,
        // and between residents' own check-ins (all under one device name: one code shown twice
        // at a door within minutes is a screenshot passed on).
        if first.device_id == second.device_id && first.device_id != crate::self_check_in::INSPECTOR
        {
            return None;
        }
        (SightingKind::ReEntry, None, REENTRY)
    } else {
        match (first.point, second.point) {
            (Some(p), Some(q)) => {
                let km = p.km_to(q);
                (SightingKind::TwoPlaces, Some(km), travel_time(km))
            }
            _ => (SightingKind::TwoPlaces, None, AT_ONCE),
        }
    };
    (gap < needed).then(|| SightingAlert {
        kind,
        first: first.clone(),
        second: second.clone(),
        km,
        needed,
    })
}

/// Every alert between the `new` entries and `known` ones (which may include the new ones
/// themselves, as read back after storing), each pair once. Only entries of one subject are
/// compared (grouped first): linear in the entries, not quadratic.
pub fn find(new: &[Sighting], known: &[Sighting]) -> Vec<SightingAlert> {
    use std::collections::{HashMap, HashSet};
    let mut by_subject: HashMap<&str, Vec<&Sighting>> = HashMap::new();
    for s in known.iter().chain(new) {
        by_subject.entry(s.subject.as_str()).or_default().push(s);
    }
    let mut out: Vec<SightingAlert> = Vec::new();
    let mut seen = HashSet::new();
    for n in new {
        for k in by_subject.get(n.subject.as_str()).into_iter().flatten() {
            if let Some(alert) = judge(n, k) {
                if seen.insert(alert.pair_id()) {
                    out.push(alert);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + min * 60, 0).unwrap()
    }

    fn entry(id: &str, venue: &str, device: &str, min: i64, point: Option<GeoPoint>) -> Sighting {
        Sighting {
            record_id: id.into(),
            venue_id: venue.into(),
            device_id: device.into(),
            subject: "s1".into(),
            at: at(min),
            point,
        }
    }

    /// 阿拉尔 and 乌鲁木齐, about 650 km apart.
    const ALAER: GeoPoint = GeoPoint {
        lat_e6: 40_547_000,
        lon_e6: 81_280_000,
    };
    const URUMQI: GeoPoint = GeoPoint {
        lat_e6: 43_825_000,
        lon_e6: 87_617_000,
    };

    #[test]
    fn distances_and_travel_times() {
        let km = ALAER.km_to(URUMQI);
        assert!((600.0..700.0).contains(&km), "{km}");
        assert_eq!(ALAER.km_to(ALAER), 0.0);
        // 3 km in town: 3 minutes by road.
        assert_eq!(travel_time(3.0), Duration::minutes(3));
        // 100 km: 100 minutes; 1,000 km: 2 hours by air, faster than 100 km by road would
        // suggest for the rest.
        assert_eq!(travel_time(100.0), Duration::minutes(100));
        assert_eq!(travel_time(1000.0), Duration::hours(2));
        assert!(GeoPoint::new(90_000_001, 0).is_none());
        assert!(GeoPoint::new(0, -180_000_000).is_some());
        // Antipodes do not overflow the arcsine.
        let far = GeoPoint::new(-40_547_000, -98_720_000).unwrap();
        assert!((ALAER.km_to(far) - 20_015.0).abs() < 5.0);
    }

    #[test]
    fn two_venues_closer_than_travel_alert_either_way_round() {
        let town = GeoPoint::new(40_560_000, 81_280_000).unwrap(); // 1.4 km north
        let a = entry("a", "v1", "d1", 0, Some(ALAER));
        // 1.4 km in 1 minute: impossible by road.
        let b = entry("b", "v2", "d2", 1, Some(town));
        let alert = judge(&a, &b).unwrap();
        assert_eq!(alert.kind, SightingKind::TwoPlaces);
        assert_eq!(alert.first.record_id, "a");
        assert_eq!(alert.gap(), Duration::minutes(1));
        assert_eq!(
            judge(&b, &a),
            Some(alert.clone()),
            "order of arrival does not matter"
        );
        assert_eq!(alert.pair_id(), "a+b");
        // 5 minutes later is possible.
        assert!(judge(&a, &entry("b", "v2", "d2", 5, Some(town))).is_none());
        // 阿拉尔 to 乌鲁木齐 in 45 minutes is not; in 2 hours it is.
        assert!(judge(&a, &entry("c", "v3", "d3", 45, Some(URUMQI))).is_some());
        assert!(judge(&a, &entry("c", "v3", "d3", 120, Some(URUMQI))).is_none());
        // No map point: only "at once" counts.
        assert!(judge(&a, &entry("d", "v4", "d4", 1, None)).is_some());
        assert!(judge(&a, &entry("d", "v4", "d4", 3, None)).is_none());
        // Another person is nobody's concern.
        let mut other = entry("e", "v2", "d2", 1, Some(town));
        other.subject = "s2".into();
        assert!(judge(&a, &other).is_none());
    }

    #[test]
    fn one_venue_again_through_another_station_alerts() {
        let a = entry("a", "v1", "d1", 0, None);
        let alert = judge(&a, &entry("b", "v1", "d2", 10, None)).unwrap();
        assert_eq!(alert.kind, SightingKind::ReEntry);
        // The same station already alerted at the gate; after 30 minutes it is a new visit.
        assert!(judge(&a, &entry("b", "v1", "d1", 10, None)).is_none());
        assert!(judge(&a, &entry("b", "v1", "d2", 30, None)).is_none());
        assert!(judge(&a, &a).is_none());
        // Residents' own check-ins share one device name: one code twice at a door is flagged.
        let own = entry("s", "v1", crate::self_check_in::INSPECTOR, 0, None);
        let again = entry("t", "v1", crate::self_check_in::INSPECTOR, 4, None);
        assert_eq!(judge(&own, &again).unwrap().kind, SightingKind::ReEntry);
    }

    #[test]
    fn find_names_each_pair_once() {
        let a = entry("a", "v1", "d1", 0, None);
        let b = entry("b", "v2", "d2", 1, None);
        let c = entry("c", "v3", "d3", 1, None);
        // b and c arrive together; a is already held, and so are b and c once stored.
        let alerts = find(&[b.clone(), c.clone()], &[a, b, c]);
        let mut ids: Vec<String> = alerts.iter().map(|x| x.pair_id()).collect();
        ids.sort();
        assert_eq!(ids, ["a+b", "a+c", "b+c"]);
    }
}
