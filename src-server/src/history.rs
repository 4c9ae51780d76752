//! A generator of realistic check-in history, for the scale benchmarks (茂名 scale: 26,261 venues,
//! 5.93 million check-ins over 30 days, and ten times that) and for the demo's week of history.
//!
//! What makes it realistic: venue popularity follows a Zipf law (a few hospitals and markets take
//! most of the traffic; at ten times 茂名, within each 茂名-sized city); each venue has regulars who come back (most visits), the rest come from
//! the whole population; visits follow a daily curve (morning and evening peaks, quiet nights);
//! about a fifth of visits are households arriving together (2–4 people within a minute, one of
//! them sometimes registered by a proxy); about 60 % of entries have an exit 10 minutes to 3
//! hours later, the rest none (the automatic-exit rule closes them); a few refusals (red, yellow
//! code, fever) raise alerts.
//!
//! Invariants: pure and deterministic — the same spec and seed give the same history (a
//! SplitMix64 stream; no clock, no randomness from the OS); every record is valid for the store
//! (UUID-shaped ids unique per venue, directions, verdicts, masked names only).

use chrono::{DateTime, Duration, Utc};
use venuecode_core::sync::{AlertWire, CheckInWire, Record, RECORD_FORMAT};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub venues: usize,
    /// Check-ins in all (entries and exits) over `days`.
    pub check_ins: u64,
    pub days: u32,
    /// The first day starts here (UTC).
    pub start: DateTime<Utc>,
    pub seed: u64,
}

impl Spec {
    /// 茂名's scale (the seeds' figures), `times` over.
    pub fn maoming(times: u64, start: DateTime<Utc>) -> Spec {
        Spec {
            venues: 26_261 * times as usize,
            check_ins: 5_930_000 * times,
            days: 30,
            start,
            seed: 2022,
        }
    }

    /// The number of different people: a visit every two days on average (a day's check-ins
    /// are about 1.6 per visit: entries, and exits for most).
    pub fn people(&self) -> u64 {
        (self.check_ins / u64::from(self.days.max(1)) * 5 / 4).max(100)
    }
}

/// SplitMix64: a small, well-mixed deterministic stream (test data, not secrets).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

fn mix(a: u64, b: u64) -> u64 {
    Rng::new(a ^ b.wrapping_mul(0x2545_F491_4F6C_DD1D)).next_u64()
}

/// Visits per hour of the day (local), a city's curve: morning market, lunch, evening.
const HOURS: [f64; 24] = [
    0.2, 0.1, 0.1, 0.1, 0.2, 0.6, 2.0, 5.0, 8.0, 9.0, 8.0, 7.0, 7.5, 6.0, 5.5, 5.5, 6.5, 8.0, 8.5,
    7.0, 5.0, 3.0, 1.5, 0.6,
];

/// Draws an index from cumulative weights.
fn pick(cumulative: &[f64], r: &mut Rng) -> usize {
    let x = r.unit() * cumulative.last().copied().unwrap_or(1.0);
    cumulative
        .partition_point(|c| *c <= x)
        .min(cumulative.len() - 1)
}

/// Venues in one city of 茂名's size: popularity is ranked within each such block.
pub const CITY_VENUES: usize = 26_261;

/// Venue `i`'s share of the traffic (before normalising): Zipf (exponent 1.05) by its rank
/// within its city. Ten times 茂名 is ten cities of 茂名's shape, not one city whose busiest
/// hospital takes ten times the patients: a ranking over 262,610 venues would give its first
/// venue about 200,000 check-ins a day, which no real place sees (茂名's busiest takes about
/// 24,000 here, a big hospital's day).
fn popularity(i: usize) -> f64 {
    1.0 / ((i % CITY_VENUES + 1) as f64).powf(1.05)
}

fn cumulate(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    weights
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

/// The generator's view of a venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueSeed {
    pub venue_id: String,
    pub name: String,
    /// Six-digit county, then three and three more (a community).
    pub region: String,
    pub category: &'static str,
}

/// The venues of a spec: ids `hv-000001…`, each city's busiest first, regions spread over 100
/// communities of 茂名 (4409…).
pub fn venues(spec: &Spec) -> Vec<VenueSeed> {
    const KINDS: [(&str, &str); 6] = [
        ("医院", "01"),
        ("农贸市场", "02"),
        ("超市", "02"),
        ("学校", "03"),
        ("车站", "04"),
        ("餐馆", "02"),
    ];
    (0..spec.venues)
        .map(|i| {
            let (kind, category) = KINDS[i % KINDS.len()];
            let community = mix(spec.seed, i as u64) % 100;
            VenueSeed {
                venue_id: format!("hv-{i:07}"),
                name: format!("茂名{kind}{i}"),
                region: format!("440902{:03}{:03}", community / 10 + 1, community % 10 + 1),
                category,
            }
        })
        .collect()
}

/// A person's pseudonym in generated history (24 hex characters, like an issuer's).
pub fn subject_of(seed: u64, person: u64) -> String {
    let a = mix(seed, person);
    let b = mix(a, 0x5EED);
    format!("{:016x}{:08x}", a, b as u32)
}

/// A UUIDv7 as a station makes it: the first 48 bits are the milliseconds of `at` (stations
/// store a check-in the moment it is made), the rest drawn from `seed` and `n`. Time-ordered ids
/// matter to the benchmarks: the primary key `(id, venue_id)` then grows at its right edge, as
/// it does on a real server, instead of at random places.
fn uuid_like(seed: u64, n: u64, at: DateTime<Utc>) -> String {
    let a = mix(seed ^ 0xC0FFEE, n);
    let t = at.timestamp_millis().max(0) as u64 & 0xffff_ffff_ffff;
    format!(
        "{:08x}-{:04x}-7{:03x}-8{:03x}-{:012x}",
        (t >> 16) as u32,
        t as u16,
        (a >> 52) as u16 & 0xfff,
        (a >> 40) as u16 & 0xfff,
        a & 0xffff_ffff_ffff
    )
}

/// One day's records, venue by venue: `(venue_id, records)` with the day's share of the
/// check-ins. Day `d` of the spec (0-based).
pub fn day(spec: &Spec, venues: &[VenueSeed], d: u32) -> Vec<(String, Vec<Record>)> {
    let mut r = Rng::new(mix(spec.seed, u64::from(d) + 1));
    let zipf = cumulate((0..venues.len()).map(popularity));
    let hours = cumulate(HOURS.iter().copied());
    let people = spec.people();
    let per_day = spec.check_ins / u64::from(spec.days.max(1));
    let day_start = spec.start + Duration::days(i64::from(d));
    let mut by_venue: Vec<Vec<Record>> = vec![Vec::new(); venues.len()];
    let mut made = 0u64;
    let mut n = u64::from(d) << 40;
    while made < per_day {
        let v = pick(&zipf, &mut r);
        let venue = &venues[v];
        // China time: the hour of the day, then the minute.
        let hour = pick(&hours, &mut r) as i64;
        let at = day_start + Duration::hours(hour - 8) + Duration::seconds(r.below(3600) as i64);
        // Regulars: a pool per venue (bigger for busier venues); else anyone.
        let regulars = (people as f64 * (zipf[v] - if v > 0 { zipf[v - 1] } else { 0.0 })
            / zipf[zipf.len() - 1]
            * 3.0) as u64
            + 20;
        let household = if r.unit() < 0.2 { 2 + r.below(3) } else { 1 };
        for member in 0..household {
            let person = if r.unit() < 0.7 {
                mix(v as u64, r.below(regulars)) % people
            } else {
                r.below(people)
            };
            let subject = subject_of(spec.seed, person);
            let entered = at + Duration::seconds(member as i64 * 20);
            let roll = r.unit();
            let (verdict, reasons, fever, color): (&str, Vec<String>, bool, &str) = if roll < 0.002
            {
                ("refuse", vec!["red_code".into()], false, "red")
            } else if roll < 0.004 {
                ("refuse", vec!["yellow_code".into()], false, "yellow")
            } else if roll < 0.0045 {
                ("refuse", vec!["fever".into()], true, "green")
            } else {
                ("pass", vec![], false, "green")
            };
            let manual = member > 0 && r.unit() < 0.15;
            n += 1;
            let record = CheckInWire {
                format: RECORD_FORMAT,
                id: uuid_like(spec.seed, n, entered),
                venue_id: venue.venue_id.clone(),
                checkpoint_id: if r.unit() < 0.7 { "main" } else { "side" }.into(),
                inspector: format!("检测员{}", r.below(4) + 1),
                direction: "entry".into(),
                at: entered,
                verdict: verdict.into(),
                reasons: reasons.clone(),
                temperature: if fever { "fever" } else { "normal" }.into(),
                celsius: None,
                fever,
                code_id: (!manual).then(|| format!("{:016x}", mix(person, n))),
                subject: Some(subject),
                name_masked: Some(format!(
                    "{}*",
                    ["张", "李", "王", "陈", "刘", "黄"][(person % 6) as usize]
                )),
                phone_masked: Some(format!("13{}****{:04}", person % 10, person % 10_000)),
                id_masked: manual.then(|| "4409**********0000".to_string()),
                color: (!manual).then(|| color.to_string()),
                manual,
                proxy_name: manual.then(|| "张*".to_string()),
                proxy_phone: None,
                proxy_relation: manual.then(|| "child".to_string()),
                code: None,
                sealed_id: None,
            };
            made += 1;
            let exits = verdict == "pass" && r.unit() < 0.6;
            if verdict == "refuse" {
                n += 1;
                by_venue[v].push(Record::Alert(AlertWire {
                    format: RECORD_FORMAT,
                    id: uuid_like(spec.seed ^ 1, n, entered),
                    venue_id: venue.venue_id.clone(),
                    at: entered,
                    reasons,
                    check_in: record.clone(),
                }));
            }
            if exits {
                let mut exit = record.clone();
                n += 1;
                exit.direction = "exit".into();
                exit.at = entered + Duration::minutes(10 + r.below(170) as i64);
                exit.id = uuid_like(spec.seed, n, exit.at);
                by_venue[v].push(Record::CheckIn(exit));
                made += 1;
            }
            by_venue[v].push(Record::CheckIn(record));
        }
    }
    venues
        .iter()
        .zip(by_venue)
        .filter(|(_, rs)| !rs.is_empty())
        .map(|(v, rs)| (v.venue_id.clone(), rs))
        .collect()
}

/// A week of demo history for the demo venues, ending at `now`: a few hundred check-ins a day
/// (the hospital busiest), a few refusals with alerts, and — when `traced` gives 张三's pseudonym
/// (the demo issuer's) — his visits to trace: the hospital two days ago (10:00–10:40, China
/// time) and the market yesterday evening (17:00–17:30), with people there at the same times.
/// `doors` names each venue's second door (the generator's "side").
pub fn demo_week(
    venue_doors: &[(&str, &str)],
    now: DateTime<Utc>,
    traced: Option<&str>,
) -> Vec<Record> {
    let spec = Spec {
        venues: venue_doors.len(),
        check_ins: 7 * 220 * venue_doors.len() as u64,
        days: 7,
        start: now - Duration::days(7),
        seed: 0xDE30,
    };
    let vs: Vec<VenueSeed> = venue_doors
        .iter()
        .map(|(id, _)| VenueSeed {
            venue_id: id.to_string(),
            name: String::new(),
            region: String::new(),
            category: "01",
        })
        .collect();
    let mut out: Vec<Record> = Vec::new();
    for d in 0..spec.days {
        for (venue, records) in day(&spec, &vs, d) {
            let side = venue_doors
                .iter()
                .find(|(id, _)| *id == venue)
                .map_or("main", |(_, door)| *door);
            for mut r in records {
                let c = match &mut r {
                    Record::CheckIn(c) => c,
                    Record::Alert(a) => &mut a.check_in,
                };
                if c.checkpoint_id == "side" {
                    c.checkpoint_id = side.to_string();
                }
                // Nothing in the future, nothing from the demo's own people.
                if c.at < now {
                    out.push(r);
                }
            }
        }
    }
    if let (Some(subject), Some((hospital, _)), Some((market, _))) =
        (traced, venue_doors.first(), venue_doors.last())
    {
        let local_day = |days_ago: i64, h: i64, m: i64| {
            let today = (now + Duration::hours(8)).date_naive() - Duration::days(days_ago);
            today
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc() - Duration::hours(8) + Duration::minutes(h * 60 + m))
                .unwrap_or(now)
        };
        let mut n = 0u64;
        let mut visit = |venue: &str, who: &str, name: &str, entry: DateTime<Utc>, minutes: i64| {
            for (dir, at) in [
                ("entry", entry),
                ("exit", entry + Duration::minutes(minutes)),
            ] {
                n += 1;
                out.push(Record::CheckIn(CheckInWire {
                    format: RECORD_FORMAT,
                    id: uuid_like(0x7A5, n, at),
                    venue_id: venue.to_string(),
                    checkpoint_id: "main".into(),
                    inspector: "王五".into(),
                    direction: dir.into(),
                    at,
                    verdict: "pass".into(),
                    reasons: vec![],
                    temperature: "normal".into(),
                    celsius: None,
                    fever: false,
                    code_id: Some(format!("{:016x}", mix(0x7A5, n))),
                    subject: Some(who.to_string()),
                    name_masked: Some(name.to_string()),
                    phone_masked: Some("139****9000".into()),
                    id_masked: None,
                    color: Some("green".into()),
                    manual: false,
                    proxy_name: None,
                    proxy_phone: None,
                    proxy_relation: None,
                    code: None,
                    sealed_id: None,
                }));
            }
        };
        let at_hospital = local_day(2, 10, 0);
        let at_market = local_day(1, 17, 0);
        visit(hospital, subject, "张*", at_hospital, 40);
        visit(market, subject, "张*", at_market, 30);
        // People there with him.
        for (i, name) in ["李*", "王*", "陈*"].iter().enumerate() {
            let other = subject_of(0x7A5, i as u64);
            visit(
                hospital,
                &other,
                name,
                at_hospital + Duration::minutes(5 * i as i64),
                25,
            );
            visit(
                market,
                &other,
                name,
                at_market - Duration::minutes(10),
                25 + 5 * i as i64,
            );
        }
    }
    out
}

/// Seeds [`demo_week`] at the demo venues once (nothing when check-ins are already held); with
/// the demo issuer's pseudonym secret, 张三 (11010519491231002X, the demo code's person) is the
/// one to trace. How many records were stored.
pub fn seed_demo_week(
    store: &dyn crate::store::Store,
    demo_subject_secret: Option<[u8; 32]>,
    now: DateTime<Utc>,
) -> Result<u64, crate::store::StoreError> {
    if store.counts()?.check_ins > 0 {
        return Ok(0);
    }
    let traced = demo_subject_secret.and_then(|secret| {
        let id = venuecode_core::idnumber::IdNumber::parse("11010519491231002X", now.date_naive())
            .ok()?;
        Some(venuecode_core::health_code::Pseudonym::derive(&secret, &id).to_hex())
    });
    let week = demo_week(
        &[
            ("demo-venue-0001", "east"),
            ("demo-venue-0002", "main"),
            ("demo-venue-0003", "south"),
        ],
        now,
        traced.as_deref(),
    );
    let device = crate::store::Device {
        device_id: "demo-history".into(),
        public_key: "00".into(),
        venue_id: "demo-venue-0001".into(),
        checkpoint_id: "main".into(),
        inspector: "王五".into(),
        revoked: false,
        enrolled_at: now,
        pending: false,
    };
    store.ingest(&device, week, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec {
            venues: 200,
            check_ins: 30_000,
            days: 3,
            start: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
            seed: 7,
        }
    }

    #[test]
    fn the_demo_week_has_the_person_to_trace_and_nothing_in_the_future() {
        let now = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let doors = [("demo-venue-0001", "east"), ("demo-venue-0003", "south")];
        let week = demo_week(&doors, now, Some("aabbccddeeff001122334455"));
        let mine: Vec<&CheckInWire> = week
            .iter()
            .filter_map(|r| match r {
                Record::CheckIn(c) if c.subject.as_deref() == Some("aabbccddeeff001122334455") => {
                    Some(c)
                }
                _ => None,
            })
            .collect();
        assert_eq!(mine.len(), 4, "two visits, entry and exit");
        assert!(week.iter().all(|r| match r {
            Record::CheckIn(c) => c.at <= now && c.checkpoint_id != "side",
            Record::Alert(a) => a.check_in.at <= now,
        }));
        assert!(week.len() > 2_000);
        assert!(week.iter().any(|r| matches!(r, Record::Alert(_))));
    }

    #[test]
    fn history_is_deterministic_skewed_and_complete() {
        let s = spec();
        let vs = venues(&s);
        let a = day(&s, &vs, 0);
        assert_eq!(a, day(&s, &vs, 0), "same seed, same day");
        let count = |recs: &[Record]| {
            recs.iter()
                .filter(|r| matches!(r, Record::CheckIn(_)))
                .count()
        };
        let total: usize = a.iter().map(|(_, r)| count(r)).sum();
        assert!((10_000..10_010).contains(&total), "{total}");
        // The busiest venue takes far more than the median one.
        let mut per: Vec<usize> = a.iter().map(|(_, r)| count(r)).collect();
        per.sort_unstable();
        assert!(
            per[per.len() - 1] > 20 * per[per.len() / 2].max(1),
            "{per:?}"
        );
        // Entries with and without exits, households, refusals with alerts, ids unique.
        let all: Vec<&Record> = a.iter().flat_map(|(_, r)| r.iter()).collect();
        let exits = all
            .iter()
            .filter(|r| matches!(r, Record::CheckIn(c) if c.direction == "exit"))
            .count();
        assert!(exits > total / 4 && exits < total / 2, "{exits} of {total}");
        assert!(all.iter().any(|r| matches!(r, Record::Alert(_))));
        let mut ids: Vec<&str> = all.iter().map(|r| r.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        // People come back: fewer subjects than entries.
        let mut subjects: Vec<&str> = all
            .iter()
            .filter_map(|r| match r {
                Record::CheckIn(c) => c.subject.as_deref(),
                _ => None,
            })
            .collect();
        subjects.sort_unstable();
        subjects.dedup();
        assert!(subjects.len() < total * 9 / 10);
        assert_eq!(vs[0].region.len(), 12);
    }
}
