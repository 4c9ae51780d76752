//! The PostgreSQL engine's sighting side: one person's entries around a batch (`subject =
//! ANY($1)`, the one query that spans venues — on a distributed cluster it fans out like tracing,
//! see docs/SCALING.md) and the alerts kept.

use chrono::{DateTime, Utc};
use venuecode_core::sightings::{GeoPoint, Sighting, SightingAlert, SightingKind};

use super::PgStore;
use crate::store::sightings::{ms, AlertColumns, ALERT_LIST_COLUMNS, ENTRY_COLUMNS};
use crate::store::trace::{days_between, DAY_OF_AT};
use crate::store::{SightingAlertRow, Sightings, StoreError};

impl Sightings for PgStore {
    fn entries_of(
        &self,
        subjects: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Sighting>, StoreError> {
        if subjects.is_empty() {
            return Ok(Vec::new());
        }
        let days = days_between(from, to)?;
        self.with(|c| {
            // An index range per day and subject on `check_ins_subject_day` — as long as the
            // planner's statistics are current (PgStore::keep_statistics).
            let rows = c.query(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM check_ins c
                     LEFT JOIN venues v ON v.venue_id = c.venue_id
                     WHERE (c.{DAY_OF_AT}) = ANY($4) AND c.subject = ANY($1)
                       AND c.at_ms BETWEEN $2 AND $3
                       AND c.verdict = 'pass' AND c.direction = 'entry' AND NOT c.manual"
                ),
                &[
                    &subjects,
                    &from.timestamp_millis(),
                    &to.timestamp_millis(),
                    &days,
                ],
            )?;
            Ok(rows
                .iter()
                .map(|r| {
                    let lat: Option<i32> = r.get(5);
                    let lon: Option<i32> = r.get(6);
                    Sighting {
                        record_id: r.get(0),
                        venue_id: r.get(1),
                        device_id: r.get(2),
                        subject: r.get(3),
                        at: ms(r.get(4)),
                        point: lat.zip(lon).and_then(|(a, o)| GeoPoint::new(a, o)),
                    }
                })
                .collect())
        })
    }

    fn add_sighting_alerts(
        &self,
        alerts: &[SightingAlert],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if alerts.is_empty() {
            return Ok(0);
        }
        self.with(|c| {
            let mut tx = c.transaction()?;
            let stmt = tx.prepare(
                "INSERT INTO sighting_alerts (venue_id, pair_id, kind, subject, first_venue_id,
                     first_check_in_id, first_device_id, first_at_ms, second_check_in_id,
                     second_device_id, second_at_ms, distance_m, needed_s, detected_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                 ON CONFLICT DO NOTHING",
            )?;
            let mut added = 0;
            for a in alerts {
                let c = AlertColumns::of(a);
                added += tx.execute(
                    &stmt,
                    &[
                        &c.venue_id,
                        &c.pair_id,
                        &c.kind,
                        &c.subject,
                        &c.first_venue_id,
                        &c.first_check_in_id,
                        &c.first_device_id,
                        &c.first_at_ms,
                        &c.second_check_in_id,
                        &c.second_device_id,
                        &c.second_at_ms,
                        &c.distance_m,
                        &c.needed_s,
                        &now.timestamp_millis(),
                    ],
                )?;
            }
            tx.commit()?;
            Ok(added)
        })
    }

    fn sighting_alerts(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<SightingAlertRow>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(|c| {
            let rows = c.query(
                &format!(
                    "SELECT {ALERT_LIST_COLUMNS} FROM sighting_alerts WHERE detected_ms >= $1
                     ORDER BY detected_ms DESC, pair_id LIMIT $2"
                ),
                &[&since.timestamp_millis(), &limit],
            )?;
            Ok(rows
                .iter()
                .map(|r| SightingAlertRow {
                    kind: SightingKind::from_code(r.get(0)).unwrap_or(SightingKind::TwoPlaces),
                    subject: r.get(1),
                    first_venue_id: r.get(2),
                    first_check_in_id: r.get(3),
                    first_device_id: r.get(4),
                    first_at: ms(r.get(5)),
                    second_venue_id: r.get(6),
                    second_check_in_id: r.get(7),
                    second_device_id: r.get(8),
                    second_at: ms(r.get(9)),
                    distance_m: r.get(10),
                    needed_s: r.get(11),
                    detected_at: ms(r.get(12)),
                })
                .collect())
        })
    }
}
