//! The store's side of retention: what is deleted once older than the deployment's window —
//! check-ins, refusal alerts, sighting alerts, and handling notes whose alert is gone — a small
//! batch per statement, so ingest waits at most one short transaction. The tracing audit
//! (`trace_audit`) is exempt: append-only, it outlives the check-ins it names (docs/SECURITY.md).
//!
//! Invariant: check-ins are swept venue by venue over the venue's time index — `(venue_id, at_ms)`
//! on PostgreSQL, each statement on one shard when check-ins are distributed by venue; `(day,
//! venue_id, at_ms)` on SQLite, oldest days first — alerts over their time indexes.

use chrono::{DateTime, Utc};

use super::StoreError;

/// Deleting what the window no longer covers.
pub trait Retention {
    /// Every venue id, in order (the sweep's outer loop).
    fn venue_ids(&self) -> Result<Vec<String>, StoreError>;
    /// Deletes at most `limit` check-ins of `venue_id` made before `before`; how many went.
    fn purge_check_ins(
        &self,
        venue_id: &str,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<u64, StoreError>;
    /// Deletes at most `limit` refusal alerts made before `before`.
    fn purge_alerts(&self, before: DateTime<Utc>, limit: usize) -> Result<u64, StoreError>;
    /// Deletes at most `limit` sighting alerts whose later entry was before `before`.
    fn purge_sighting_alerts(&self, before: DateTime<Utc>, limit: usize)
        -> Result<u64, StoreError>;
    /// Deletes the handling notes of alerts no longer held.
    fn purge_orphan_notes(&self) -> Result<u64, StoreError>;
}

/// The SQL both engines run (`{P1}`… are the engine's placeholders); SQLite deletes check-ins
/// with its own statement, which names the days (`store/sqlite/days.rs`).
pub(crate) const CHECK_INS: &str = "DELETE FROM check_ins WHERE (venue_id, id) IN (
    SELECT venue_id, id FROM check_ins WHERE venue_id = {P1} AND at_ms < {P2} LIMIT {P3})";
pub(crate) const ALERTS: &str = "DELETE FROM alerts WHERE (venue_id, id) IN (
    SELECT venue_id, id FROM alerts WHERE at_ms < {P1} LIMIT {P2})";
pub(crate) const SIGHTING_ALERTS: &str =
    "DELETE FROM sighting_alerts WHERE (venue_id, pair_id) IN (
    SELECT venue_id, pair_id FROM sighting_alerts WHERE second_at_ms < {P1} LIMIT {P2})";
pub(crate) const ORPHAN_NOTES: &str = "DELETE FROM alert_notes WHERE
    NOT EXISTS (SELECT 1 FROM alerts a
                WHERE a.venue_id = alert_notes.venue_id AND a.id = alert_notes.alert_id)
    AND NOT EXISTS (SELECT 1 FROM sighting_alerts s
                WHERE s.venue_id = alert_notes.venue_id AND s.pair_id = alert_notes.alert_id)";

/// `sql` with `{P1}`, `{P2}`, `{P3}` replaced by `?1…` (SQLite) or `$1…` (PostgreSQL).
pub(crate) fn placeholders(sql: &str, mark: char) -> String {
    (1..=3).fold(sql.to_string(), |s, i| {
        s.replace(&format!("{{P{i}}}"), &format!("{mark}{i}"))
    })
}
