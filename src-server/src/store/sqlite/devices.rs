//! The SQLite engine's device side: enrolment (a revoked key never re-enrols), device lookup,
//! revocation and re-activation (each logged as a device event), request nonces, and the
//! enrolment audit log the rate limits count from.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::store::{
    AttemptKey, AttemptOutcome, Device, DeviceEvent, DeviceListing, Devices, EnrolAttempt,
    NewDevice, StoreError,
};

pub(super) fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        device_id: r.get(0)?,
        public_key: r.get(1)?,
        venue_id: r.get(2)?,
        checkpoint_id: r.get(3)?,
        inspector: r.get(4)?,
        revoked: r.get::<_, String>(5)? == "revoked",
        enrolled_at: DateTime::from_timestamp_millis(r.get(6)?).unwrap_or_default(),
        pending: r.get(7)?,
    })
}

pub(super) const DEVICE_COLUMNS: &str =
    "SELECT device_id, public_key, venue_id, checkpoint_id, inspector, status, enrolled_ms, pending \
     FROM devices";

impl Devices for SqliteStore {
    fn enrol(&self, d: &NewDevice<'_>, now: DateTime<Utc>) -> Result<Device, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let venue: String = tx
            .query_row(
                "SELECT venue_id FROM venues WHERE declaration_code = ?1 AND status = 'approved'",
                [d.declaration_code],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::UnknownDeclaration(d.declaration_code.to_string()))?;
        let checkpoint: Option<String> = match d.checkpoint_id {
            Some(cp) => tx
                .query_row(
                    "SELECT checkpoint_id FROM checkpoints WHERE venue_id = ?1 AND checkpoint_id = ?2
                         AND disabled = 0",
                    [&venue, cp],
                    |r| r.get(0),
                )
                .optional()?,
            None => tx
                .query_row(
                    "SELECT checkpoint_id FROM checkpoints WHERE venue_id = ?1 AND disabled = 0
                     ORDER BY checkpoint_id = 'main' DESC, checkpoint_id LIMIT 1",
                    [&venue],
                    |r| r.get(0),
                )
                .optional()?,
        };
        let checkpoint = checkpoint.ok_or_else(|| StoreError::UnknownCheckpoint {
            venue: venue.clone(),
            checkpoint: d.checkpoint_id.unwrap_or("").to_string(),
        })?;
        let existing: Option<(String, String)> = tx
            .query_row(
                "SELECT venue_id, status FROM devices WHERE device_id = ?1",
                [d.device_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if existing.as_ref().is_some_and(|(_, s)| s == "revoked") {
            return Err(StoreError::DeviceRevoked(d.device_id.to_string()));
        }
        if existing.as_ref().is_some_and(|(v, _)| *v != venue) {
            return Err(StoreError::EnrolledElsewhere(d.device_id.to_string()));
        }
        tx.execute(
            "INSERT INTO devices (device_id, public_key, venue_id, checkpoint_id, inspector, status,
                 enrolled_ms, pending)
             VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6,
                 (SELECT approve_devices FROM venues WHERE venue_id = ?3))
             ON CONFLICT (device_id) DO UPDATE SET checkpoint_id = excluded.checkpoint_id,
                 inspector = excluded.inspector, status = 'active'",
            params![
                d.device_id,
                d.public_key,
                venue,
                checkpoint,
                d.inspector,
                now.timestamp_millis()
            ],
        )?;
        let device = tx.query_row(
            &format!("{DEVICE_COLUMNS} WHERE device_id = ?1"),
            [d.device_id],
            device_row,
        )?;
        tx.execute(
            "INSERT INTO device_events (at_ms, device_id, action, actor) VALUES (?1, ?2, 'enrolled', ?3)",
            params![now.timestamp_millis(), d.device_id, d.inspector],
        )?;
        tx.commit()?;
        Ok(device)
    }

    fn device(&self, device_id: &str) -> Result<Option<Device>, StoreError> {
        Ok(self
            .conn()?
            .prepare_cached(&format!("{DEVICE_COLUMNS} WHERE device_id = ?1"))?
            .query_row([device_id], device_row)
            .optional()?)
    }

    fn rotate_key(
        &self,
        old_id: &str,
        new_id: &str,
        new_public_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Device, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let get = |id: &str| {
            tx.query_row(
                &format!("{DEVICE_COLUMNS} WHERE device_id = ?1"),
                [id],
                device_row,
            )
            .optional()
        };
        let old = get(old_id)?.ok_or_else(|| StoreError::UnknownDevice(old_id.to_string()))?;
        let from = format!("rotated from {old_id}");
        if let Some(new) = get(new_id)? {
            let handed: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM device_events WHERE device_id = ?1
                     AND action = 'enrolled' AND actor = ?2)",
                params![new_id, from],
                |r| r.get(0),
            )?;
            return if handed {
                Ok(new)
            } else {
                Err(StoreError::KeyInUse(new_id.to_string()))
            };
        }
        if old.revoked {
            return Err(StoreError::DeviceRevoked(old_id.to_string()));
        }
        let at = now.timestamp_millis();
        tx.execute(
            "INSERT INTO devices (device_id, public_key, venue_id, checkpoint_id, inspector, status,
                 enrolled_ms, pending)
             VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7)",
            params![
                new_id,
                new_public_key,
                old.venue_id,
                old.checkpoint_id,
                old.inspector,
                old.enrolled_at.timestamp_millis(),
                old.pending
            ],
        )?;
        tx.execute(
            "UPDATE devices SET status = 'revoked' WHERE device_id = ?1",
            [old_id],
        )?;
        tx.execute(
            "INSERT INTO device_events (at_ms, device_id, action, actor)
             VALUES (?1, ?2, 'revoked', ?3), (?1, ?4, 'enrolled', ?5)",
            params![at, old_id, format!("rotated to {new_id}"), new_id, from],
        )?;
        let new = get(new_id)?.ok_or_else(|| StoreError::UnknownDevice(new_id.to_string()))?;
        tx.commit()?;
        Ok(new)
    }

    fn set_revoked(
        &self,
        device_id: &str,
        revoked: bool,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE devices SET status = ?2 WHERE device_id = ?1",
            params![device_id, if revoked { "revoked" } else { "active" }],
        )?;
        if n == 1 {
            tx.execute(
                "INSERT INTO device_events (at_ms, device_id, action, actor) VALUES (?1, ?2, ?3, ?4)",
                params![
                    now.timestamp_millis(),
                    device_id,
                    if revoked { "revoked" } else { "reactivated" },
                    actor
                ],
            )?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    fn use_nonce(
        &self,
        device_id: &str,
        nonce: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let conn = self.conn()?;
        conn.prepare_cached("DELETE FROM request_nonces WHERE seen_ms < ?1")?
            .execute([forget_before.timestamp_millis()])?;
        let n = conn
            .prepare_cached(
                "INSERT INTO request_nonces (device_id, nonce, seen_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![device_id, nonce, now.timestamp_millis()])?;
        Ok(n == 1)
    }

    fn record_enrolment_attempt(
        &self,
        a: &EnrolAttempt<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn()?
            .prepare_cached(
                "INSERT INTO enrolment_attempts (at_ms, source, declaration_code, device_id, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                now.timestamp_millis(),
                a.source,
                a.declaration_code,
                a.device_id,
                a.outcome.as_str()
            ])?;
        Ok(())
    }

    fn enrolment_attempts(
        &self,
        key: AttemptKey<'_>,
        outcome: AttemptOutcome,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let (column, value) = key.column();
        Ok(self.conn()?.prepare_cached(&format!(
            "SELECT count(*) FROM enrolment_attempts WHERE {column} = ?1 AND outcome = ?2 AND at_ms >= ?3"
        ))?
        .query_row(params![value, outcome.as_str(), since.timestamp_millis()], |r| r.get(0))?)
    }

    fn devices(&self, venue_id: Option<&str>) -> Result<Vec<DeviceListing>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT device_id, public_key, venue_id, checkpoint_id, inspector, status, enrolled_ms,
                 pending, last_seen_ms
             FROM devices WHERE ?1 IS NULL OR venue_id = ?1 ORDER BY venue_id, enrolled_ms",
        )?;
        let rows = stmt
            .query_map([venue_id], |r| {
                Ok(DeviceListing {
                    device: device_row(r)?,
                    enrolled_at: DateTime::from_timestamp_millis(r.get(6)?).unwrap_or_default(),
                    last_seen: r
                        .get::<_, Option<i64>>(8)?
                        .and_then(DateTime::from_timestamp_millis),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn set_declaration_code(
        &self,
        venue_id: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM venues WHERE declaration_code = ?1)",
            [code],
            |r| r.get(0),
        )?;
        if taken {
            return Err(StoreError::DeclarationCodeTaken(code.to_string()));
        }
        let n = tx.execute(
            "UPDATE venues SET declaration_code = ?2, updated_ms = ?3
             WHERE venue_id = ?1 AND status = 'approved'",
            params![venue_id, code, now.timestamp_millis()],
        )?;
        tx.commit()?;
        Ok(n == 1)
    }

    fn device_events(&self, device_id: &str) -> Result<Vec<DeviceEvent>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT at_ms, action, actor FROM device_events WHERE device_id = ?1 ORDER BY at_ms, rowid",
        )?;
        let rows = stmt
            .query_map([device_id], |r| {
                Ok(DeviceEvent {
                    at: DateTime::from_timestamp_millis(r.get(0)?).unwrap_or_default(),
                    action: r.get(1)?,
                    actor: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}
