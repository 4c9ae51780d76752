//! The PostgreSQL engine's reports side (see `store/reports.rs`).

use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use venuecode_core::gate::Direction;
use venuecode_core::statistics::Group;

use super::PgStore;
use crate::store::reports::{
    alerts_sql, split_reasons, CheckInRow, Param, PhoneRow, CHECK_IN_COLUMNS,
};
use crate::store::trace::ms;
use crate::store::{AlertQuery, AlertRow, Reports, StoreError};

fn bound(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| match p {
            Param::Text(s) => s as &(dyn ToSql + Sync),
            Param::Int(i) => i as &(dyn ToSql + Sync),
        })
        .collect()
}

/// A [`CheckInRow`] from a row read with [`CHECK_IN_COLUMNS`] first.
fn check_in_row(r: &postgres::Row) -> CheckInRow {
    CheckInRow {
        at: ms(r.get(0)),
        checkpoint_id: r.get(1),
        inspector: r.get(2),
        direction: r.get(3),
        verdict: r.get(4),
        reasons: split_reasons(r.get(5)),
        temperature: r.get(6),
        celsius: r.get::<_, Option<f32>>(7).map(f64::from),
        name_masked: r.get(8),
        phone_masked: r.get(9),
        id_masked: r.get(10),
        color: r.get(11),
        manual: r.get(12),
        proxy_name: r.get(13),
        proxy_relation: r.get(14),
    }
}

impl Reports for PgStore {
    fn venue_passages(
        &self,
        venue_id: &str,
        except_device: &str,
        from_at: DateTime<Utc>,
        received_after_ms: i64,
        limit: usize,
    ) -> Result<Vec<(venuecode_core::presence::Passage, i64)>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                "SELECT id, subject, checkpoint_id, direction, at_ms, received_ms FROM check_ins
                 WHERE venue_id = $1 AND at_ms >= $2 AND received_ms > $3 AND device_id <> $4
                   AND verdict = 'pass' AND subject IS NOT NULL
                 ORDER BY received_ms, id LIMIT $5",
                &[
                    &venue_id,
                    &from_at.timestamp_millis(),
                    &received_after_ms,
                    &except_device,
                    &(limit as i64),
                ],
            )?;
            Ok(rows
                .iter()
                .filter_map(|r| {
                    crate::store::reports::passage_row((
                        r.get(0),
                        r.get(1),
                        r.get(2),
                        r.get(3),
                        r.get(4),
                        r.get(5),
                    ))
                })
                .collect())
        })
    }

    fn phone_check_ins(
        &self,
        venue_id: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<PhoneRow>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                &format!(
                    "SELECT {CHECK_IN_COLUMNS}, id, subject FROM check_ins
                     WHERE venue_id = $1 AND at_ms >= $2 AND inspector = 'self'
                     ORDER BY at_ms, id LIMIT $3"
                ),
                &[&venue_id, &since.timestamp_millis(), &(limit as i64)],
            )?;
            Ok(rows
                .iter()
                .map(|r| PhoneRow {
                    id: r.get(15),
                    subject: r.get(16),
                    row: check_in_row(r),
                })
                .collect())
        })
    }

    fn venue_check_ins(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<CheckInRow>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                &format!(
                    "SELECT {CHECK_IN_COLUMNS} FROM check_ins
                     WHERE venue_id = $1 AND at_ms BETWEEN $2 AND $3 ORDER BY at_ms LIMIT $4"
                ),
                &[
                    &venue_id,
                    &from.timestamp_millis(),
                    &to.timestamp_millis(),
                    &(limit as i64),
                ],
            )?;
            Ok(rows.iter().map(check_in_row).collect())
        })
    }

    fn venue_groups(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Group>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                "SELECT at_ms / 3600000, checkpoint_id, inspector, direction, verdict <> 'pass',
                     fever, count(*)
                 FROM check_ins WHERE venue_id = $1 AND at_ms BETWEEN $2 AND $3
                 GROUP BY 1, 2, 3, 4, 5, 6",
                &[&venue_id, &from.timestamp_millis(), &to.timestamp_millis()],
            )?;
            Ok(rows
                .iter()
                .map(|r| Group {
                    hour: r.get(0),
                    checkpoint_id: r.get(1),
                    inspector: r.get(2),
                    direction: Direction::parse(r.get(3)).unwrap_or(Direction::Entry),
                    refused: r.get(4),
                    fever: r.get(5),
                    count: r.get::<_, i64>(6).max(0) as u64,
                })
                .collect())
        })
    }

    fn venue_people(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.with(|c| {
            Ok(c.query_one(
                // Pseudonyms compared bytewise: the same count (equality is bytewise under any
                // deterministic collation), sorted with memcmp instead of the locale's strcoll.
                "SELECT count(DISTINCT subject COLLATE \"C\") FROM check_ins
                 WHERE venue_id = $1 AND at_ms BETWEEN $2 AND $3",
                &[&venue_id, &from.timestamp_millis(), &to.timestamp_millis()],
            )?
            .get(0))
        })
    }

    fn venue_counts(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Vec<Group>, i64), StoreError> {
        // Two aggregates over the same index range, each bound by its own hashing or sorting (a
        // busy venue's day: the range reads in 5 ms, grouping it takes 11, counting its people
        // 15): run side by side on two connections. One query reading the range once for both
        // (a materialised CTE, or grouping sets) measured slower than either alone.
        std::thread::scope(|scope| {
            let groups = scope.spawn(|| self.venue_groups(venue_id, from, to));
            let people = self.venue_people(venue_id, from, to);
            Ok((groups.join().map_err(|_| StoreError::Poisoned)??, people?))
        })
    }

    fn alerts(&self, q: &AlertQuery) -> Result<Vec<AlertRow>, StoreError> {
        let (sql, params) = alerts_sql(q, false, |n| format!("${n}"));
        self.with(|c| {
            let rows = c.query(&sql, &bound(&params))?;
            Ok(rows
                .iter()
                .map(|r| AlertRow {
                    venue_id: r.get(0),
                    venue_name: r.get(1),
                    region: r.get(2),
                    alert_id: r.get(3),
                    kind: r.get(4),
                    at: ms(r.get(5)),
                    checkpoint_id: r.get(6),
                    reasons: split_reasons(r.get(7)),
                    subject: r.get(8),
                    name_masked: r.get(9),
                    phone_masked: r.get(10),
                    color: r.get(11),
                    handled_at: r.get::<_, Option<i64>>(12).map(ms),
                    handled_by: r.get(13),
                    note: r.get(14),
                    checkpoint_name: r.get(15),
                })
                .collect())
        })
    }

    fn count_alerts(&self, q: &AlertQuery) -> Result<i64, StoreError> {
        let (sql, params) = alerts_sql(q, true, |n| format!("${n}"));
        self.with(|c| {
            let row = c.query_one(&sql, &bound(&params))?;
            Ok(row.get::<_, Option<i64>>(0).unwrap_or(0))
        })
    }

    fn handle_alert(
        &self,
        venue_id: &str,
        alert_id: &str,
        actor: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            let exists: bool = c
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM alerts WHERE venue_id = $1 AND id = $2)
                         OR EXISTS (SELECT 1 FROM sighting_alerts
                                    WHERE venue_id = $1 AND pair_id = $2)",
                    &[&venue_id, &alert_id],
                )?
                .get(0);
            if !exists {
                return Ok(false);
            }
            c.execute(
                "INSERT INTO alert_notes (venue_id, alert_id, handled_ms, actor, note)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (venue_id, alert_id) DO UPDATE
                 SET handled_ms = excluded.handled_ms, actor = excluded.actor,
                     note = excluded.note",
                &[&venue_id, &alert_id, &now.timestamp_millis(), &actor, &note],
            )?;
            Ok(true)
        })
    }
}
