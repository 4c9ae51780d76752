//! The SQLite engine's reports side (see `store/reports.rs`).

use chrono::{DateTime, Utc};
use rusqlite::{params, params_from_iter};
use venuecode_core::gate::Direction;
use venuecode_core::statistics::Group;

use super::{days, SqliteStore};
use crate::store::reports::{
    alerts_sql, split_reasons, CheckInRow, CountFold, Param, PhoneRow, CHECK_IN_COLUMNS,
};
use crate::store::trace::{ms, DAY_OF_AT};
use crate::store::{AlertQuery, AlertRow, Reports, StoreError};

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Param::Text(s) => s.to_sql(),
            Param::Int(i) => i.to_sql(),
        }
    }
}

/// A [`CheckInRow`] from a row read with [`CHECK_IN_COLUMNS`] first.
fn check_in_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CheckInRow> {
    Ok(CheckInRow {
        at: ms(r.get(0)?),
        checkpoint_id: r.get(1)?,
        inspector: r.get(2)?,
        direction: r.get(3)?,
        verdict: r.get(4)?,
        reasons: split_reasons(&r.get::<_, String>(5)?),
        temperature: r.get(6)?,
        celsius: r.get(7)?,
        name_masked: r.get(8)?,
        phone_masked: r.get(9)?,
        id_masked: r.get(10)?,
        color: r.get(11)?,
        manual: r.get::<_, i64>(12)? != 0,
        proxy_name: r.get(13)?,
        proxy_relation: r.get(14)?,
    })
}

/// Column `i` of `r` as text, borrowed.
fn text<'a>(r: &'a rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'a str> {
    r.get_ref(i)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Column `i` of `r` as text or NULL, borrowed.
fn text_or_null<'a>(r: &'a rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'a str>> {
    r.get_ref(i)?.as_str_or_null().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

impl Reports for SqliteStore {
    fn venue_passages(
        &self,
        venue_id: &str,
        except_device: &str,
        from_at: DateTime<Utc>,
        received_after_ms: i64,
        limit: usize,
    ) -> Result<Vec<(venuecode_core::presence::Passage, i64)>, StoreError> {
        let conn = self.conn()?;
        let days = days::since(&conn, from_at)?;
        // The venue's window by (day, venue_id, at_ms), filtered by arrival: no index of its
        // own, so ingest pays nothing for the relay.
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, subject, checkpoint_id, direction, at_ms, received_ms FROM check_ins
             WHERE {on_days}
               AND venue_id = ?1 AND at_ms >= ?2 AND received_ms > ?3 AND device_id <> ?4
               AND verdict = 'pass' AND subject IS NOT NULL
             ORDER BY received_ms, id LIMIT ?5",
            on_days = days::among(6)
        ))?;
        let rows = stmt.query_map(
            params![
                venue_id,
                from_at.timestamp_millis(),
                received_after_ms,
                except_device,
                limit as i64,
                days
            ],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            if let Some(p) = crate::store::reports::passage_row(row?) {
                out.push(p);
            }
        }
        Ok(out)
    }

    fn phone_check_ins(
        &self,
        venue_id: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<PhoneRow>, StoreError> {
        let conn = self.conn()?;
        let days = days::since(&conn, since)?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {CHECK_IN_COLUMNS}, id, subject FROM check_ins
             WHERE {on_days}
               AND venue_id = ?1 AND at_ms >= ?2 AND inspector = 'self'
             ORDER BY at_ms, id LIMIT ?3",
            on_days = days::among(4)
        ))?;
        let rows = stmt.query_map(
            params![venue_id, since.timestamp_millis(), limit as i64, days],
            |r| {
                Ok(PhoneRow {
                    id: r.get(15)?,
                    subject: r.get(16)?,
                    row: check_in_row(r)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn venue_check_ins(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<CheckInRow>, StoreError> {
        let days = days::between(from, to)?;
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {CHECK_IN_COLUMNS} FROM check_ins
             WHERE {on_days}
               AND venue_id = ?1 AND at_ms BETWEEN ?2 AND ?3
             ORDER BY {DAY_OF_AT}, at_ms LIMIT ?4",
            on_days = days::among(5)
        ))?;
        let rows = stmt.query_map(
            params![
                venue_id,
                from.timestamp_millis(),
                to.timestamp_millis(),
                limit as i64,
                days
            ],
            check_in_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn venue_groups(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Group>, StoreError> {
        let days = days::between(from, to)?;
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT at_ms / 3600000, checkpoint_id, inspector, direction, verdict <> 'pass',
                 fever, count(*)
             FROM check_ins WHERE {on_days}
                 AND venue_id = ?1 AND at_ms BETWEEN ?2 AND ?3
             GROUP BY 1, 2, 3, 4, 5, 6",
            on_days = days::among(4)
        ))?;
        let rows = stmt.query_map(
            params![
                venue_id,
                from.timestamp_millis(),
                to.timestamp_millis(),
                days
            ],
            |r| {
                Ok(Group {
                    hour: r.get(0)?,
                    checkpoint_id: r.get(1)?,
                    inspector: r.get(2)?,
                    direction: Direction::parse(&r.get::<_, String>(3)?)
                        .unwrap_or(Direction::Entry),
                    refused: r.get::<_, i64>(4)? != 0,
                    fever: r.get::<_, i64>(5)? != 0,
                    count: r.get::<_, i64>(6)?.max(0) as u64,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn venue_people(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let days = days::between(from, to)?;
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT count(DISTINCT subject) FROM check_ins
             WHERE {on_days}
                 AND venue_id = ?1 AND at_ms BETWEEN ?2 AND ?3",
            on_days = days::among(4)
        ))?;
        Ok(stmt.query_row(
            params![
                venue_id,
                from.timestamp_millis(),
                to.timestamp_millis(),
                days
            ],
            |r| r.get(0),
        )?)
    }

    fn venue_counts(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Vec<Group>, i64), StoreError> {
        // One index-only pass (migration 17) instead of a GROUP BY and a count(DISTINCT): the
        // rows' strings are borrowed, each door, inspector and person kept once.
        let days = days::between(from, to)?;
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT at_ms / 3600000, checkpoint_id, inspector, direction, verdict <> 'pass',
                 fever, subject
             FROM check_ins WHERE {on_days}
                 AND venue_id = ?1 AND at_ms BETWEEN ?2 AND ?3",
            on_days = days::among(4)
        ))?;
        let mut rows = stmt.query(params![
            venue_id,
            from.timestamp_millis(),
            to.timestamp_millis(),
            days
        ])?;
        let mut fold = CountFold::default();
        while let Some(r) = rows.next()? {
            fold.add(
                r.get(0)?,
                text(r, 1)?,
                text(r, 2)?,
                text(r, 3)?,
                r.get::<_, i64>(4)? != 0,
                r.get::<_, i64>(5)? != 0,
                text_or_null(r, 6)?,
            );
        }
        Ok(fold.finish())
    }

    fn alerts(&self, q: &AlertQuery) -> Result<Vec<AlertRow>, StoreError> {
        let (sql, params) = alerts_sql(q, false, |n| format!("?{n}"));
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(params.iter()), |r| {
            Ok(AlertRow {
                venue_id: r.get(0)?,
                venue_name: r.get(1)?,
                region: r.get(2)?,
                alert_id: r.get(3)?,
                kind: r.get(4)?,
                at: ms(r.get(5)?),
                checkpoint_id: r.get(6)?,
                reasons: split_reasons(&r.get::<_, String>(7)?),
                subject: r.get(8)?,
                name_masked: r.get(9)?,
                phone_masked: r.get(10)?,
                color: r.get(11)?,
                handled_at: r.get::<_, Option<i64>>(12)?.map(ms),
                handled_by: r.get(13)?,
                note: r.get(14)?,
                checkpoint_name: r.get(15)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn count_alerts(&self, q: &AlertQuery) -> Result<i64, StoreError> {
        let (sql, params) = alerts_sql(q, true, |n| format!("?{n}"));
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(&sql)?;
        Ok(stmt
            .query_row(params_from_iter(params.iter()), |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .unwrap_or(0))
    }

    fn handle_alert(
        &self,
        venue_id: &str,
        alert_id: &str,
        actor: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let conn = self.conn()?;
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM alerts WHERE venue_id = ?1 AND id = ?2)
                 OR EXISTS (SELECT 1 FROM sighting_alerts WHERE venue_id = ?1 AND pair_id = ?2)",
            params![venue_id, alert_id],
            |r| r.get(0),
        )?;
        if !exists {
            return Ok(false);
        }
        conn.execute(
            "INSERT INTO alert_notes (venue_id, alert_id, handled_ms, actor, note)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (venue_id, alert_id) DO UPDATE
             SET handled_ms = excluded.handled_ms, actor = excluded.actor, note = excluded.note",
            params![venue_id, alert_id, now.timestamp_millis(), actor, note],
        )?;
        Ok(true)
    }
}
