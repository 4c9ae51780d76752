//! After a batch is stored: read back the entries of its people around its times, judge every
//! pair with core `sightings`, and keep the alerts (each pair once).
//!
//! Invariant: detection runs after the batch's commit, on every upload of its ids (a retried
//! upload of records already held runs it again): of two uploads racing at two venues, the one
//! that commits last sees the other, and a failure here fails the upload (503), so the station
//! retries and nothing is missed.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use venuecode_core::sightings::{self, WINDOW};
use venuecode_core::sync::Record;

use crate::store::{Store, StoreError};

/// The subjects and times of a batch's entries that passed on a scanned code.
pub struct BatchEntries {
    ids: HashSet<String>,
    subjects: Vec<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

impl BatchEntries {
    /// Picks the entries out of a batch (before it is moved into the store).
    pub fn of(records: &[Record]) -> BatchEntries {
        let mut e = BatchEntries {
            ids: HashSet::new(),
            subjects: Vec::new(),
            from: None,
            to: None,
        };
        for r in records {
            let Record::CheckIn(c) = r else { continue };
            let Some(subject) = &c.subject else { continue };
            if c.manual || c.verdict != "pass" || c.direction != "entry" {
                continue;
            }
            e.ids.insert(c.id.clone());
            e.subjects.push(subject.clone());
            e.from = Some(e.from.map_or(c.at, |f| f.min(c.at)));
            e.to = Some(e.to.map_or(c.at, |t| t.max(c.at)));
        }
        e.subjects.sort();
        e.subjects.dedup();
        e
    }
}

/// Judges a stored batch's entries (from `venue_id`) against every entry of the same people
/// within [`WINDOW`]; returns how many new alerts were kept.
pub fn detect(
    store: &dyn Store,
    venue_id: &str,
    entries: &BatchEntries,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let (Some(from), Some(to)) = (entries.from, entries.to) else {
        return Ok(0);
    };
    let known = store.entries_of(&entries.subjects, from - WINDOW, to + WINDOW)?;
    let new: Vec<_> = known
        .iter()
        .filter(|s| s.venue_id == venue_id && entries.ids.contains(&s.record_id))
        .cloned()
        .collect();
    let alerts = sightings::find(&new, &known);
    if !alerts.is_empty() {
        tracing::warn!(
            venue = venue_id,
            alerts = alerts.len(),
            "entries closer in time than travel allows"
        );
    }
    store.add_sighting_alerts(&alerts, now)
}
