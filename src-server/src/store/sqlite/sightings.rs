//! The SQLite engine's sighting side: one person's entries around a batch (subjects passed as a
//! JSON array, read with `json_each`, one statement whatever the batch size) and the alerts kept.

use chrono::{DateTime, Utc};
use rusqlite::params;
use venuecode_core::sightings::{GeoPoint, Sighting, SightingAlert, SightingKind};

use super::SqliteStore;
use crate::store::sightings::{ms, AlertColumns, ALERT_LIST_COLUMNS, ENTRY_COLUMNS};
use crate::store::trace::{days_between, DAY_OF_AT};
use crate::store::{SightingAlertRow, Sightings, StoreError};

impl Sightings for SqliteStore {
    fn entries_of(
        &self,
        subjects: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Sighting>, StoreError> {
        if subjects.is_empty() {
            return Ok(Vec::new());
        }
        let list =
            serde_json::to_string(subjects).map_err(|e| StoreError::Ingest(e.to_string()))?;
        // The `(day, subject, at_ms)` index: a short range per day and person.
        let days = serde_json::to_string(&days_between(from, to)?)
            .map_err(|e| StoreError::Ingest(e.to_string()))?;
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM check_ins c LEFT JOIN venues v ON v.venue_id = c.venue_id
             WHERE c.{DAY_OF_AT} IN (SELECT value FROM json_each(?4))
               AND c.subject IN (SELECT value FROM json_each(?1))
               AND c.at_ms BETWEEN ?2 AND ?3
               AND c.verdict = 'pass' AND c.direction = 'entry' AND c.manual = 0"
        ))?;
        let rows = stmt.query_map(
            params![list, from.timestamp_millis(), to.timestamp_millis(), days],
            |r| {
                let lat: Option<i64> = r.get(5)?;
                let lon: Option<i64> = r.get(6)?;
                Ok(Sighting {
                    record_id: r.get(0)?,
                    venue_id: r.get(1)?,
                    device_id: r.get(2)?,
                    subject: r.get(3)?,
                    at: ms(r.get(4)?),
                    point: point(lat, lon),
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn add_sighting_alerts(
        &self,
        alerts: &[SightingAlert],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if alerts.is_empty() {
            return Ok(0);
        }
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut added = 0;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO sighting_alerts (venue_id, pair_id, kind, subject, first_venue_id,
                     first_check_in_id, first_device_id, first_at_ms, second_check_in_id,
                     second_device_id, second_at_ms, distance_m, needed_s, detected_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                 ON CONFLICT DO NOTHING",
            )?;
            for a in alerts {
                let c = AlertColumns::of(a);
                added += stmt.execute(params![
                    c.venue_id,
                    c.pair_id,
                    c.kind,
                    c.subject,
                    c.first_venue_id,
                    c.first_check_in_id,
                    c.first_device_id,
                    c.first_at_ms,
                    c.second_check_in_id,
                    c.second_device_id,
                    c.second_at_ms,
                    c.distance_m,
                    c.needed_s,
                    now.timestamp_millis()
                ])? as u64;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    fn sighting_alerts(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<SightingAlertRow>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ALERT_LIST_COLUMNS} FROM sighting_alerts WHERE detected_ms >= ?1
             ORDER BY detected_ms DESC, pair_id LIMIT ?2"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![since.timestamp_millis(), limit], |r| {
            let kind: String = r.get(0)?;
            Ok(SightingAlertRow {
                kind: SightingKind::from_code(&kind).unwrap_or(SightingKind::TwoPlaces),
                subject: r.get(1)?,
                first_venue_id: r.get(2)?,
                first_check_in_id: r.get(3)?,
                first_device_id: r.get(4)?,
                first_at: ms(r.get(5)?),
                second_venue_id: r.get(6)?,
                second_check_in_id: r.get(7)?,
                second_device_id: r.get(8)?,
                second_at: ms(r.get(9)?),
                distance_m: r.get(10)?,
                needed_s: r.get(11)?,
                detected_at: ms(r.get(12)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// A stored map point (both halves, on the globe) or none.
pub(super) fn point(lat: Option<i64>, lon: Option<i64>) -> Option<GeoPoint> {
    GeoPoint::new(i32::try_from(lat?).ok()?, i32::try_from(lon?).ok()?)
}
