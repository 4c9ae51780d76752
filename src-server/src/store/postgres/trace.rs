//! The PostgreSQL engine's tracing side (see `store/trace.rs`).

use chrono::{DateTime, Utc};

use super::PgStore;
use crate::store::trace::{
    days_between, ms, MarkRow, AUDIT_COLUMNS, DAY_OF_AT, MARK_COLUMNS, PASSAGE_COLUMNS,
};
use crate::store::{PassageRow, StoreError, TraceAudit, TraceAuditRow, Tracing};

fn passage(r: &postgres::Row) -> PassageRow {
    PassageRow {
        venue_id: r.get(0),
        checkpoint_id: r.get(1),
        direction: r.get(2),
        at: ms(r.get(3)),
        subject: r.get(4),
        manual: r.get(5),
        name_masked: r.get(6),
        passed: r.get(7),
    }
}

impl PgStore {
    /// Check-ins with a subject at `venue_id` from `from` to `to`, oldest first, read as
    /// `columns` and mapped by `map` (the `(venue_id, at_ms) INCLUDE (…)` index).
    fn at_venue<T>(
        &self,
        columns: &str,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        map: impl Fn(&postgres::Row) -> T,
    ) -> Result<Vec<T>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                &format!(
                    "SELECT {columns} FROM check_ins
                     WHERE venue_id = $1 AND at_ms BETWEEN $2 AND $3 AND subject IS NOT NULL
                     ORDER BY at_ms"
                ),
                &[&venue_id, &from.timestamp_millis(), &to.timestamp_millis()],
            )?;
            Ok(rows.iter().map(&map).collect())
        })
    }
}

impl Tracing for PgStore {
    fn passages_of(
        &self,
        subject: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PassageRow>, StoreError> {
        // The `(day, subject, at_ms)` index: one short range a day of the window.
        let days = days_between(from, to)?;
        self.with(|c| {
            let rows = c.query(
                &format!(
                    "SELECT {PASSAGE_COLUMNS} FROM check_ins
                     WHERE {DAY_OF_AT} = ANY($4) AND subject = $1 AND at_ms BETWEEN $2 AND $3
                     ORDER BY at_ms"
                ),
                &[
                    &subject,
                    &from.timestamp_millis(),
                    &to.timestamp_millis(),
                    &days,
                ],
            )?;
            Ok(rows.iter().map(passage).collect())
        })
    }

    fn passages_at(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PassageRow>, StoreError> {
        self.at_venue(PASSAGE_COLUMNS, venue_id, from, to, passage)
    }

    fn marks_at(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<MarkRow>, StoreError> {
        self.at_venue(MARK_COLUMNS, venue_id, from, to, |r| MarkRow {
            subject: r.get(0),
            exit: r.get(1),
            at: ms(r.get(2)),
            passed: r.get(3),
            name_masked: r.get(4),
        })
    }

    fn inside_at(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<PassageRow>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                &format!(
                    "SELECT DISTINCT ON (subject COLLATE \"C\") {PASSAGE_COLUMNS} FROM check_ins
                     WHERE venue_id = $1 AND at_ms >= $2 AND at_ms < $3 AND subject IS NOT NULL
                         AND verdict = 'pass'
                     ORDER BY subject COLLATE \"C\", at_ms DESC"
                ),
                &[
                    &venue_id,
                    &from.timestamp_millis(),
                    &until.timestamp_millis(),
                ],
            )?;
            let mut out: Vec<PassageRow> = rows
                .iter()
                .map(passage)
                .filter(|p| p.direction == "entry")
                .collect();
            out.sort_by_key(|p| p.at);
            Ok(out)
        })
    }

    fn record_trace(&self, a: &TraceAudit<'_>, now: DateTime<Utc>) -> Result<i64, StoreError> {
        self.with(|c| {
            let row = c.query_one(
                "INSERT INTO trace_audit (at_ms, actor, subject, case_number, reason, from_ms,
                     to_ms, visits, contacts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 RETURNING id",
                &[
                    &now.timestamp_millis(),
                    &a.actor,
                    &a.subject,
                    &a.case_number,
                    &a.reason,
                    &a.from.timestamp_millis(),
                    &a.to.timestamp_millis(),
                    &(a.visits as i32),
                    &(a.contacts as i32),
                ],
            )?;
            Ok(row.get(0))
        })
    }

    fn trace_audit(&self, limit: usize) -> Result<Vec<TraceAuditRow>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                &format!("SELECT {AUDIT_COLUMNS} FROM trace_audit ORDER BY id DESC LIMIT $1"),
                &[&(limit as i64)],
            )?;
            Ok(rows
                .iter()
                .map(|r| TraceAuditRow {
                    id: r.get(0),
                    at: ms(r.get(1)),
                    actor: r.get(2),
                    subject: r.get(3),
                    case_number: r.get(4),
                    reason: r.get(5),
                    from: ms(r.get(6)),
                    to: ms(r.get(7)),
                    visits: i64::from(r.get::<_, i32>(8)),
                    contacts: i64::from(r.get::<_, i32>(9)),
                })
                .collect())
        })
    }
}
