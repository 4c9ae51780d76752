//! The SQLite engine's tracing side (see `store/trace.rs`).

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{days, SqliteStore};
use crate::store::trace::{ms, MarkRow, AUDIT_COLUMNS, DAY_OF_AT, MARK_COLUMNS, PASSAGE_COLUMNS};
use crate::store::{PassageRow, StoreError, TraceAudit, TraceAuditRow, Tracing};

fn passage(r: &rusqlite::Row<'_>) -> rusqlite::Result<PassageRow> {
    Ok(PassageRow {
        venue_id: r.get(0)?,
        checkpoint_id: r.get(1)?,
        direction: r.get(2)?,
        at: ms(r.get(3)?),
        subject: r.get(4)?,
        manual: r.get::<_, i64>(5)? != 0,
        name_masked: r.get(6)?,
        passed: r.get::<_, i64>(7)? != 0,
    })
}

impl SqliteStore {
    /// Check-ins with a subject at `venue_id` from `from` to `to`, oldest first, read as
    /// `columns` and mapped by `map` (the `(day, venue_id, at_ms, …)` index, index-only; ordered
    /// by day and time, which is the index's order, so nothing is sorted).
    fn at_venue<T>(
        &self,
        columns: &str,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let days = days::between(from, to)?;
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {columns} FROM check_ins
             WHERE {on_days}
                 AND venue_id = ?1 AND at_ms BETWEEN ?2 AND ?3 AND subject IS NOT NULL
             ORDER BY {DAY_OF_AT}, at_ms",
            on_days = days::among(4)
        ))?;
        let rows = stmt.query_map(
            params![
                venue_id,
                from.timestamp_millis(),
                to.timestamp_millis(),
                days
            ],
            map,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Tracing for SqliteStore {
    fn passages_of(
        &self,
        subject: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PassageRow>, StoreError> {
        // The `(day, subject, at_ms)` index: one short range a day of the window.
        let days = days::between(from, to)?;
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {PASSAGE_COLUMNS} FROM check_ins
             WHERE {on_days}
                 AND subject = ?1 AND at_ms BETWEEN ?2 AND ?3
             ORDER BY at_ms",
            on_days = days::among(4)
        ))?;
        let rows = stmt.query_map(
            params![
                subject,
                from.timestamp_millis(),
                to.timestamp_millis(),
                days
            ],
            passage,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
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
        self.at_venue(MARK_COLUMNS, venue_id, from, to, |r| {
            Ok(MarkRow {
                subject: r.get(0)?,
                exit: r.get::<_, i64>(1)? != 0,
                at: ms(r.get(2)?),
                passed: r.get::<_, i64>(3)? != 0,
                name_masked: r.get(4)?,
            })
        })
    }

    fn inside_at(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<PassageRow>, StoreError> {
        let days = days::between(from, until)?;
        let conn = self.reader()?;
        // SQLite takes the bare columns of an aggregate query from the row that holds max().
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {PASSAGE_COLUMNS}, max(at_ms) FROM check_ins
             WHERE {on_days}
                 AND venue_id = ?1 AND at_ms >= ?2 AND at_ms < ?3 AND subject IS NOT NULL
                 AND verdict = 'pass'
             GROUP BY subject",
            on_days = days::among(4)
        ))?;
        let rows = stmt.query_map(
            params![
                venue_id,
                from.timestamp_millis(),
                until.timestamp_millis(),
                days
            ],
            passage,
        )?;
        let mut out: Vec<PassageRow> = rows
            .filter(|r| r.as_ref().map_or(true, |p| p.direction == "entry"))
            .collect::<Result<_, _>>()?;
        out.sort_by_key(|p| p.at);
        Ok(out)
    }

    fn record_trace(&self, a: &TraceAudit<'_>, now: DateTime<Utc>) -> Result<i64, StoreError> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO trace_audit (at_ms, actor, subject, case_number, reason, from_ms, to_ms,
                 visits, contacts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                now.timestamp_millis(),
                a.actor,
                a.subject,
                a.case_number,
                a.reason,
                a.from.timestamp_millis(),
                a.to.timestamp_millis(),
                a.visits,
                a.contacts
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    fn trace_audit(&self, limit: usize) -> Result<Vec<TraceAuditRow>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {AUDIT_COLUMNS} FROM trace_audit ORDER BY id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(TraceAuditRow {
                id: r.get(0)?,
                at: ms(r.get(1)?),
                actor: r.get(2)?,
                subject: r.get(3)?,
                case_number: r.get(4)?,
                reason: r.get(5)?,
                from: ms(r.get(6)?),
                to: ms(r.get(7)?),
                visits: r.get(8)?,
                contacts: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
