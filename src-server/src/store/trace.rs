//! The store's side of tracing (流调溯源): one person's check-ins in a window, everyone's check-ins
//! at some venues in a window, and the append-only audit of tracing queries.
//!
//! Invariants: reads go through the `(day, subject, at_ms)` and `(venue_id, at_ms)` indexes; only
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

/// One check-in at a venue as the co-presence of the people around a case reads it: the venue is
/// known to the caller and the door is not needed (nor copied, for tens of thousands of rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkRow {
    pub subject: String,
    /// An exit (else an entry).
    pub exit: bool,
    pub at: DateTime<Utc>,
    /// Let through (not refused).
    pub passed: bool,
    /// The masked name the check-in carries, if any.
    pub name_masked: Option<String>,
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

/// The columns a [`MarkRow`] is read from, in order, by both engines.
pub(crate) const MARK_COLUMNS: &str =
    "subject, direction = 'exit', at_ms, verdict = 'pass', name_masked";

/// The columns a [`TraceAuditRow`] is read from, in order.
pub(crate) const AUDIT_COLUMNS: &str =
    "id, at_ms, actor, subject, case_number, reason, from_ms, to_ms, visits, contacts";

/// How both engines number a check-in's day in the index that finds a person's check-ins
/// (migration 0016: `(at_ms / 86400000, subject, at_ms)`). Queries spell it exactly so, or the
/// index does not apply.
pub(crate) const DAY_OF_AT: &str = "at_ms / 86400000";

/// The longest span a query by person (on SQLite, by venue too) may name day by day: a trace spans
/// at most 30 days, a batch's sighting check its records' retention window and a day more, a
/// venue's statistics or export a year and a day (`statistics::MAX_DAYS`) in any time zone.
pub(crate) const MAX_DAYS: i64 = 400;

/// The day numbers `DAY_OF_AT` gives the instants from `from` to `to` (inclusive), in order;
/// empty when `to` is before `from`. Division truncates as it does in both databases.
pub(crate) fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<i64>, StoreError> {
    let (a, b) = (day_of(from), day_of(to));
    if b - a >= MAX_DAYS {
        return Err(StoreError::WindowTooLong {
            days: b - a + 1,
            max: MAX_DAYS,
        });
    }
    Ok((a..=b).collect())
}

/// The day number `DAY_OF_AT` gives `at` (division truncates as it does in both databases).
pub(crate) fn day_of(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis() / 86_400_000
}

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
    /// Every check-in with a subject at `venue_id` from `from` to `to`, oldest first, as
    /// co-presence reads the people around a case (index-only).
    fn marks_at(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<MarkRow>, StoreError>;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn days_cover_the_window_as_the_databases_number_them() {
        let days = days_between(at("2026-11-30T23:59:59Z"), at("2026-12-02T00:00:00Z"));
        let first = at("2026-11-30T00:00:00Z").timestamp_millis() / 86_400_000;
        assert_eq!(days.ok(), Some(vec![first, first + 1, first + 2]));
        let one = days_between(at("2026-12-01T10:00:00Z"), at("2026-12-01T11:00:00Z"));
        assert_eq!(one.map(|d| d.len()).ok(), Some(1));
        let reversed = days_between(at("2026-12-02T00:00:00Z"), at("2026-12-01T00:00:00Z"));
        assert_eq!(reversed.ok(), Some(vec![]));
        // Before 1970 the division truncates toward zero, as in SQLite and PostgreSQL.
        let early = days_between(at("1969-12-31T00:00:00Z"), at("1970-01-02T00:00:00Z"));
        assert_eq!(early.ok(), Some(vec![-1, 0, 1]));
    }

    #[test]
    fn an_absurd_window_is_refused_not_listed() {
        let e = days_between(at("2000-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z"));
        assert!(
            matches!(e, Err(StoreError::WindowTooLong { max: 400, .. })),
            "{e:?}"
        );
        assert!(days_between(at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z")).is_ok());
    }
}
