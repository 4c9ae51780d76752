//! The days a SQLite query names. Check-ins are indexed by day first — `(day, subject, at_ms)`
//! and `(day, venue_id, at_ms, …)`, day being [`DAY_OF_AT`] (migrations 16 and 19) — so a reader
//! of a time window binds its days as a JSON list and asks `DAY_OF_AT IN (SELECT value FROM
//! json_each(?))`: one short index range per day, where a bare `at_ms` window could use neither
//! index. An open end is closed by the days the table holds (the index's first or last entry).
//!
//! Invariant: a list holds at most [`MAX_DAYS`] days, in order; an open-ended list stops there
//! (the windows asked open-ended — the relay's 48 hours, a phone's day, retention's backlog — are
//! far shorter; retention takes the oldest days first and comes back for the rest).

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::store::trace::{day_of, days_between, DAY_OF_AT, MAX_DAYS};
use crate::store::StoreError;

/// The days from `from` to `to` (inclusive), as a JSON list for `json_each`.
pub(super) fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<String, StoreError> {
    json(&days_between(from, to)?)
}

/// The days from `from`'s to the last day the table holds (at most [`MAX_DAYS`] of them).
pub(super) fn since(conn: &Connection, from: DateTime<Utc>) -> Result<String, StoreError> {
    let first = day_of(from);
    capped(first, held(conn, "max")?.unwrap_or(first))
}

/// The days from the first the table holds to `before`'s (at most [`MAX_DAYS`], oldest first).
pub(super) fn until(conn: &Connection, before: DateTime<Utc>) -> Result<String, StoreError> {
    let last = day_of(before);
    capped(held(conn, "min")?.unwrap_or(last), last)
}

/// The SQL condition that a check-in's day is among those bound to `?{param}` — spelled with
/// [`DAY_OF_AT`] exactly, or the day-first indexes do not apply.
pub(super) fn among(param: usize) -> String {
    format!("{DAY_OF_AT} IN (SELECT value FROM json_each(?{param}))")
}

/// The days `first..=last`, at most [`MAX_DAYS`] of them from `first`.
fn capped(first: i64, last: i64) -> Result<String, StoreError> {
    json(&(first..=last.min(first + MAX_DAYS - 1)).collect::<Vec<_>>())
}

/// The first or last day held: one step into either day-first index.
fn held(conn: &Connection, which: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {which}({DAY_OF_AT}) FROM check_ins"))?
        .query_row([], |r| r.get(0))?)
}

fn json(days: &[i64]) -> Result<String, StoreError> {
    serde_json::to_string(days).map_err(|e| StoreError::Ingest(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn held_days(days: &[i64]) -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE check_ins (at_ms INTEGER NOT NULL)")
            .unwrap();
        for d in days {
            c.execute("INSERT INTO check_ins VALUES (?1)", [d * DAY + 5])
                .unwrap();
        }
        c
    }

    fn list(s: &str) -> Vec<i64> {
        serde_json::from_str(s).unwrap()
    }

    fn day(d: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(d * DAY + DAY / 2).unwrap()
    }

    #[test]
    fn a_window_names_both_end_days() {
        let midnight = DateTime::from_timestamp_millis(20 * DAY).unwrap();
        let just_before = midnight - chrono::Duration::milliseconds(1);
        assert_eq!(list(&between(just_before, midnight).unwrap()), [19, 20]);
        assert_eq!(
            list(&between(midnight, just_before).unwrap()),
            Vec::<i64>::new()
        );
        assert!(matches!(
            between(day(0), day(MAX_DAYS)),
            Err(StoreError::WindowTooLong { .. })
        ));
    }

    #[test]
    fn open_ends_stop_at_the_days_held_and_at_the_cap() {
        let c = held_days(&[10, 12]);
        assert_eq!(list(&since(&c, day(11)).unwrap()), [11, 12]);
        assert_eq!(
            list(&since(&c, day(15)).unwrap()),
            Vec::<i64>::new(),
            "none held that late"
        );
        assert_eq!(list(&until(&c, day(11)).unwrap()), [10, 11]);
        let empty = held_days(&[]);
        assert_eq!(list(&since(&empty, day(3)).unwrap()), [3]);
        assert_eq!(list(&until(&empty, day(3)).unwrap()), [3]);
        // A day held far from the window: at most MAX_DAYS, from the window's side for `since`,
        // from the oldest day for `until` (retention deletes the oldest first).
        let far = held_days(&[10, 10 + 2 * MAX_DAYS]);
        let s = list(&since(&far, day(10)).unwrap());
        assert_eq!(
            (s.len() as i64, s[0], *s.last().unwrap()),
            (MAX_DAYS, 10, 9 + MAX_DAYS)
        );
        let u = list(&until(&far, day(10 + 2 * MAX_DAYS)).unwrap());
        assert_eq!(
            (u.len() as i64, u[0], *u.last().unwrap()),
            (MAX_DAYS, 10, 9 + MAX_DAYS)
        );
    }
}
