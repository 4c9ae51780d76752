//! The store's side of tracing (流调溯源): one person's check-ins in a window, everyone's check-ins
//! at some venues in a window, and the append-only audit of tracing queries.
//!
//! Invariants: reads go through the `(subject, at_ms)` and `(venue_id, at_ms)` indexes; only
//! check-ins with a subject are read; an audit row is never changed or deleted (the database
//! refuses it).

use chrono::{DateTime, Utc};

use super::StoreError;

/// One check-in as tracing reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassageRow {
    pub venue_id: String,
    pub checkpoint_id: String,
    /// `entry` or `exit`.
    pub direction: String,
    pub at: DateTime<Utc>,
    pub subject: String,
    /// Registered by hand (ID number or proxy) rather than a scanned code.
    pub manual: bool,
    /// The masked name the check-in carries, if any.
    pub name_masked: Option<String>,
    /// Let through (not refused).
    pub passed: bool,
}

/// One tracing query, as it is audited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceAudit<'a> {
    pub actor: &'a str,
    pub subject: &'a str,
    pub case_number: &'a str,
    pub reason: &'a str,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub visits: i64,
    pub contacts: i64,
}

/// An audited tracing query, as supervisors read it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TraceAuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub subject: String,
    pub case_number: String,
    pub reason: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub visits: i64,
    pub contacts: i64,
}

/// The columns a [`PassageRow`] is read from, in order, by both engines.
pub(crate) const PASSAGE_COLUMNS: &str =
    "venue_id, checkpoint_id, direction, at_ms, subject, manual, name_masked, verdict = 'pass'";

/// The columns a [`TraceAuditRow`] is read from, in order.
pub(crate) const AUDIT_COLUMNS: &str =
    "id, at_ms, actor, subject, case_number, reason, from_ms, to_ms, visits, contacts";

pub(crate) fn ms(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(v).unwrap_or_default()
}

/// The tracing side of the store.
pub trait Tracing {
    /// `subject`'s check-ins from `from` to `to` (inclusive), oldest first.
    fn passages_of(
        &self,
        subject: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PassageRow>, StoreError>;
    /// Every check-in with a subject at `venue_id` from `from` to `to`, oldest first.
    fn passages_at(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PassageRow>, StoreError>;
    /// Who was inside `venue_id` at `until` by what they did in `[from, until)`: for each
    /// person whose last let-through passage there is an entry, that entry. Read in the
    /// database, so a busy venue's hours before a window cost the reader only the people still
    /// inside (the stay rules need no more: an automatic exit counts from the last entry).
    fn inside_at(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<PassageRow>, StoreError>;
    /// Writes one query to the audit; its id.
    fn record_trace(&self, a: &TraceAudit<'_>, now: DateTime<Utc>) -> Result<i64, StoreError>;
    /// The newest `limit` audited queries, newest first.
    fn trace_audit(&self, limit: usize) -> Result<Vec<TraceAuditRow>, StoreError>;
}
