//! Retention on the server: check-ins, alerts and sighting alerts older than the deployment's
//! window (`--retention-days`, 28 by default, as the seeds' rules keep records) are deleted by a
//! background sweep, a batch at a time with a pause between batches, so ingest never waits
//! behind a long delete. The tracing audit is exempt.
//!
//! Invariants: nothing younger than the window is touched; a sweep that fails part-way leaves
//! what it has not reached for the next one (each batch is its own transaction); what it logs is
//! counts, never a record.

use chrono::{DateTime, Duration, Utc};

use crate::store::{Store, StoreError};

/// Days the server keeps check-ins and alerts unless told otherwise.
pub const DEFAULT_DAYS: i64 = 28;
/// Rows per delete statement.
pub const BATCH: usize = 2_000;
/// After each full batch the sweep rests this many times as long as the batch took (and at least
/// the caller's pause): deleting holds the write lock, so uploads get at least 4/5 of it.
pub const REST_FACTOR: u32 = 4;
/// How often the sweep runs.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// What one sweep deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Purged {
    pub check_ins: u64,
    pub alerts: u64,
    pub sighting_alerts: u64,
    pub notes: u64,
}

/// Deletes everything older than `now - window`, `batch` rows a statement, resting after each
/// full batch (a full batch means more may follow) at least `pause` and [`REST_FACTOR`] times as
/// long as the batch took, so other writers get the store.
pub fn sweep(
    store: &dyn Store,
    now: DateTime<Utc>,
    window: Duration,
    batch: usize,
    pause: std::time::Duration,
) -> Result<Purged, StoreError> {
    let before = now - window;
    let batch = batch.max(1);
    let mut p = Purged::default();
    let drain = |f: &mut dyn FnMut() -> Result<u64, StoreError>| -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let started = std::time::Instant::now();
            let n = f()?;
            total += n;
            if (n as usize) < batch {
                return Ok(total);
            }
            std::thread::sleep(pause.max(started.elapsed() * REST_FACTOR));
        }
    };
    for venue in store.venue_ids()? {
        p.check_ins += drain(&mut || store.purge_check_ins(&venue, before, batch))?;
    }
    p.alerts = drain(&mut || store.purge_alerts(before, batch))?;
    p.sighting_alerts = drain(&mut || store.purge_sighting_alerts(before, batch))?;
    p.notes = store.purge_orphan_notes()?;
    Ok(p)
}

/// Runs [`sweep`] now and every [`EVERY`] on the blocking pool; logs what went (counts only).
pub fn spawn(store: std::sync::Arc<dyn Store>, window: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            let store = store.clone();
            let run = tokio::task::spawn_blocking(move || {
                sweep(
                    store.as_ref(),
                    Utc::now(),
                    window,
                    BATCH,
                    std::time::Duration::from_millis(20),
                )
            })
            .await;
            match run {
                Ok(Ok(p)) if p != Purged::default() => tracing::info!(
                    check_ins = p.check_ins,
                    alerts = p.alerts,
                    sighting_alerts = p.sighting_alerts,
                    notes = p.notes,
                    days = window.num_days(),
                    "retention: deleted what the window no longer covers"
                ),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "retention sweep failed; the next one resumes")
                }
                Err(e) => tracing::warn!(error = %e, "retention sweep task failed"),
            }
        }
    });
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::testutil::{alert, at, check_in, NOW};
    use venuecode_core::sync::Record;

    /// Check-ins and alerts 30 and 1 days old at two venues: a sweep with a 28-day window at
    /// the faked `NOW` deletes exactly the old ones, in batches of 3, and a second sweep finds
    /// nothing.
    pub(crate) fn the_window_keeps_what_it_covers(store: &dyn Store) {
        store.seed_demo(at(NOW)).unwrap();
        let device = |venue: &str, code: &str| {
            store
                .enrol(
                    &crate::store::NewDevice {
                        declaration_code: code,
                        checkpoint_id: None,
                        inspector: "王五",
                        device_id: &format!("dev-{venue}"),
                        public_key: &format!("00{code}"),
                    },
                    at(NOW - 40 * 86_400),
                )
                .unwrap()
        };
        let mut old_ids = Vec::new();
        for (venue, code) in [("demo-venue-0001", "100001"), ("demo-venue-0002", "100002")] {
            let d = device(venue, code);
            let mut records = Vec::new();
            for n in 0..7u64 {
                let age_days = if n < 5 { 30 } else { 1 };
                let mut c = check_in(n + if venue.ends_with('1') { 0 } else { 100 }, venue);
                c.at = at(NOW - age_days * 86_400);
                if age_days == 30 {
                    old_ids.push(c.id.clone());
                }
                if n == 0 || n == 6 {
                    records.push(alert(
                        n + 1000 + if venue.ends_with('1') { 0 } else { 100 },
                        &c,
                    ));
                }
                records.push(Record::CheckIn(c));
            }
            store.ingest(&d, records, at(NOW - 86_400)).unwrap();
        }
        let before = store.counts().unwrap();
        assert_eq!((before.check_ins, before.alerts), (14, 4));
        let p = sweep(
            store,
            at(NOW),
            Duration::days(DEFAULT_DAYS),
            3,
            std::time::Duration::ZERO,
        )
        .unwrap();
        assert_eq!((p.check_ins, p.alerts), (10, 2), "{p:?}");
        let held = store.check_in_ids().unwrap();
        assert_eq!(held.len(), 4);
        assert!(old_ids.iter().all(|id| !held.contains(id)));
        assert_eq!(store.counts().unwrap().alerts, 2);
        let again = sweep(
            store,
            at(NOW),
            Duration::days(DEFAULT_DAYS),
            3,
            std::time::Duration::ZERO,
        )
        .unwrap();
        assert_eq!(again, Purged::default());
    }
}
