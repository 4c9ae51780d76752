//! The store's side of sighting alerts (core `sightings`): reading back one person's entries
//! around a batch, and keeping the alerts found, each pair once.
//!
//! Invariants: only entries that passed on a scanned code are read (`verdict = 'pass'`,
//! `direction = 'entry'`, not manual, with a subject); an alert is keyed by the later entry's
//! venue and the pair's record ids, so storing it again changes nothing.

use chrono::{DateTime, Utc};
use venuecode_core::sightings::{SightingAlert, SightingKind};

use super::StoreError;
use venuecode_core::sightings::Sighting;

/// A stored sighting alert, as an authority lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct SightingAlertRow {
    pub kind: SightingKind,
    pub subject: String,
    pub first_venue_id: String,
    pub first_check_in_id: String,
    pub first_device_id: String,
    pub first_at: DateTime<Utc>,
    pub second_venue_id: String,
    pub second_check_in_id: String,
    pub second_device_id: String,
    pub second_at: DateTime<Utc>,
    pub distance_m: Option<i64>,
    pub needed_s: i64,
    pub detected_at: DateTime<Utc>,
}

/// An alert's columns as both engines store them.
pub(crate) struct AlertColumns<'a> {
    pub venue_id: &'a str,
    pub pair_id: String,
    pub kind: &'static str,
    pub subject: &'a str,
    pub first_venue_id: &'a str,
    pub first_check_in_id: &'a str,
    pub first_device_id: &'a str,
    pub first_at_ms: i64,
    pub second_check_in_id: &'a str,
    pub second_device_id: &'a str,
    pub second_at_ms: i64,
    pub distance_m: Option<i64>,
    pub needed_s: i64,
}

impl<'a> AlertColumns<'a> {
    pub(crate) fn of(a: &'a SightingAlert) -> AlertColumns<'a> {
        AlertColumns {
            venue_id: &a.second.venue_id,
            pair_id: a.pair_id(),
            kind: a.kind.as_str(),
            subject: &a.first.subject,
            first_venue_id: &a.first.venue_id,
            first_check_in_id: &a.first.record_id,
            first_device_id: &a.first.device_id,
            first_at_ms: a.first.at.timestamp_millis(),
            second_check_in_id: &a.second.record_id,
            second_device_id: &a.second.device_id,
            second_at_ms: a.second.at.timestamp_millis(),
            distance_m: a.km.map(|km| (km * 1000.0).round() as i64),
            needed_s: a.needed.num_seconds(),
        }
    }
}

/// The columns listed, in this order, by both engines.
pub(crate) const ALERT_LIST_COLUMNS: &str = "kind, subject, first_venue_id, first_check_in_id, \
    first_device_id, first_at_ms, venue_id, second_check_in_id, second_device_id, second_at_ms, \
    distance_m, needed_s, detected_ms";

/// The entries read back around a batch, in this order, by both engines (the venue's map point
/// joined from the registry).
pub(crate) const ENTRY_COLUMNS: &str = "c.id, c.venue_id, c.device_id, c.subject, c.at_ms, \
    v.lat_e6, v.lon_e6";

pub(crate) fn ms(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t).unwrap_or_default()
}

/// The sighting side of the store.
pub trait Sightings {
    /// Entries that passed on a scanned code, of any of `subjects`, between `from` and `to`
    /// (inclusive), with their venue's map point.
    fn entries_of(
        &self,
        subjects: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Sighting>, StoreError>;
    /// Keeps `alerts`, skipping pairs already held; returns how many were new.
    fn add_sighting_alerts(
        &self,
        alerts: &[SightingAlert],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Alerts detected at or after `since`, newest first, at most `limit`.
    fn sighting_alerts(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<SightingAlertRow>, StoreError>;
}
