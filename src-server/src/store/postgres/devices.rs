//! The PostgreSQL engine's device side: enrolment (a revoked key never re-enrols), device
//! lookup, revocation and re-activation (each logged as a device event), request nonces, and the
//! enrolment audit log the rate limits count from.

use chrono::{DateTime, Utc};

use super::PgStore;
use crate::store::{
    AttemptKey, AttemptOutcome, Device, DeviceEvent, DeviceListing, Devices, EnrolAttempt,
    NewDevice, StoreError,
};

pub(super) fn device_row(r: &postgres::Row) -> Device {
    Device {
        device_id: r.get(0),
        public_key: r.get(1),
        venue_id: r.get(2),
        checkpoint_id: r.get(3),
        inspector: r.get(4),
        revoked: r.get::<_, &str>(5) == "revoked",
        enrolled_at: DateTime::from_timestamp_millis(r.get(6)).unwrap_or_default(),
        pending: r.get(7),
    }
}

pub(super) const DEVICE_COLUMNS: &str =
    "SELECT device_id, public_key, venue_id, checkpoint_id, inspector, status, enrolled_ms, pending \
     FROM devices";

impl Devices for PgStore {
    fn enrol(&self, d: &NewDevice<'_>, now: DateTime<Utc>) -> Result<Device, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let venue: String = tx
                .query_opt(
                    "SELECT venue_id FROM venues WHERE declaration_code = $1
                     AND status = 'approved'",
                    &[&d.declaration_code],
                )?
                .map(|r| r.get(0))
                .ok_or_else(|| StoreError::UnknownDeclaration(d.declaration_code.to_string()))?;
            let checkpoint: Option<String> = match d.checkpoint_id {
                Some(cp) => tx.query_opt(
                    "SELECT checkpoint_id FROM checkpoints WHERE venue_id = $1
                     AND checkpoint_id = $2 AND NOT disabled",
                    &[&venue, &cp],
                )?,
                None => tx.query_opt(
                    "SELECT checkpoint_id FROM checkpoints WHERE venue_id = $1 AND NOT disabled
                     ORDER BY checkpoint_id = 'main' DESC, checkpoint_id LIMIT 1",
                    &[&venue],
                )?,
            }
            .map(|r| r.get(0));
            let checkpoint = checkpoint.ok_or_else(|| StoreError::UnknownCheckpoint {
                venue: venue.clone(),
                checkpoint: d.checkpoint_id.unwrap_or("").to_string(),
            })?;
            let existing: Option<(String, String)> = tx
                .query_opt(
                    "SELECT venue_id, status FROM devices WHERE device_id = $1 FOR UPDATE",
                    &[&d.device_id],
                )?
                .map(|r| (r.get(0), r.get(1)));
            if existing.as_ref().is_some_and(|(_, s)| s == "revoked") {
                return Err(StoreError::DeviceRevoked(d.device_id.to_string()));
            }
            if existing.as_ref().is_some_and(|(v, _)| *v != venue) {
                return Err(StoreError::EnrolledElsewhere(d.device_id.to_string()));
            }
            let row = tx.query_one(
                "INSERT INTO devices (device_id, public_key, venue_id, checkpoint_id, inspector,
                     status, enrolled_ms, pending)
                 VALUES ($1, $2, $3, $4, $5, 'active', $6,
                     (SELECT approve_devices FROM venues WHERE venue_id = $3))
                 ON CONFLICT (device_id) DO UPDATE SET checkpoint_id = excluded.checkpoint_id,
                     inspector = excluded.inspector
                 RETURNING device_id, public_key, venue_id, checkpoint_id, inspector, status,
                     enrolled_ms, pending",
                &[
                    &d.device_id,
                    &d.public_key,
                    &venue,
                    &checkpoint,
                    &d.inspector,
                    &now.timestamp_millis(),
                ],
            )?;
            tx.execute(
                "INSERT INTO device_events (at_ms, device_id, action, actor)
                 VALUES ($1, $2, 'enrolled', $3)",
                &[&now.timestamp_millis(), &d.device_id, &d.inspector],
            )?;
            tx.commit()?;
            Ok(device_row(&row))
        })
    }

    fn device(&self, device_id: &str) -> Result<Option<Device>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                &format!("{DEVICE_COLUMNS} WHERE device_id = $1"),
                &[&device_id],
            )?
            .map(|r| device_row(&r)))
        })
    }

    fn rotate_key(
        &self,
        old_id: &str,
        new_id: &str,
        new_public_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Device, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let old = tx
                .query_opt(
                    &format!("{DEVICE_COLUMNS} WHERE device_id = $1 FOR UPDATE"),
                    &[&old_id],
                )?
                .map(|r| device_row(&r))
                .ok_or_else(|| StoreError::UnknownDevice(old_id.to_string()))?;
            let from = format!("rotated from {old_id}");
            let existing = tx
                .query_opt(
                    &format!("{DEVICE_COLUMNS} WHERE device_id = $1"),
                    &[&new_id],
                )?
                .map(|r| device_row(&r));
            if let Some(new) = existing {
                let handed: bool = tx
                    .query_one(
                        "SELECT EXISTS (SELECT 1 FROM device_events WHERE device_id = $1
                             AND action = 'enrolled' AND actor = $2)",
                        &[&new_id, &from],
                    )?
                    .get(0);
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
            let row = tx.query_one(
                "INSERT INTO devices (device_id, public_key, venue_id, checkpoint_id, inspector,
                     status, enrolled_ms, pending)
                 VALUES ($1, $2, $3, $4, $5, 'active', $6, $7)
                 RETURNING device_id, public_key, venue_id, checkpoint_id, inspector, status,
                     enrolled_ms, pending",
                &[
                    &new_id,
                    &new_public_key,
                    &old.venue_id,
                    &old.checkpoint_id,
                    &old.inspector,
                    &old.enrolled_at.timestamp_millis(),
                    &old.pending,
                ],
            )?;
            tx.execute(
                "UPDATE devices SET status = 'revoked' WHERE device_id = $1",
                &[&old_id],
            )?;
            tx.execute(
                "INSERT INTO device_events (at_ms, device_id, action, actor)
                 VALUES ($1, $2, 'revoked', $3), ($1, $4, 'enrolled', $5)",
                &[
                    &at,
                    &old_id,
                    &format!("rotated to {new_id}"),
                    &new_id,
                    &from,
                ],
            )?;
            tx.commit()?;
            Ok(device_row(&row))
        })
    }

    fn set_revoked(
        &self,
        device_id: &str,
        revoked: bool,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let status = if revoked { "revoked" } else { "active" };
        let action = if revoked { "revoked" } else { "reactivated" };
        self.with(|c| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE devices SET status = $2 WHERE device_id = $1",
                &[&device_id, &status],
            )?;
            if n == 1 {
                tx.execute(
                    "INSERT INTO device_events (at_ms, device_id, action, actor)
                     VALUES ($1, $2, $3, $4)",
                    &[&now.timestamp_millis(), &device_id, &action, &actor],
                )?;
            }
            tx.commit()?;
            Ok(n == 1)
        })
    }

    fn use_nonce(
        &self,
        device_id: &str,
        nonce: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM request_nonces WHERE seen_ms < $1",
                &[&forget_before.timestamp_millis()],
            )?;
            Ok(c.execute(
                "INSERT INTO request_nonces (device_id, nonce, seen_ms) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&device_id, &nonce, &now.timestamp_millis()],
            )? == 1)
        })
    }

    fn record_enrolment_attempt(
        &self,
        a: &EnrolAttempt<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO enrolment_attempts (at_ms, source, declaration_code, device_id, outcome)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &now.timestamp_millis(),
                    &a.source,
                    &a.declaration_code,
                    &a.device_id,
                    &a.outcome.as_str(),
                ],
            )?;
            Ok(())
        })
    }

    fn enrolment_attempts(
        &self,
        key: AttemptKey<'_>,
        outcome: AttemptOutcome,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let (column, value) = key.column();
        self.with(|c| {
            Ok(c.query_one(
                &format!(
                    "SELECT count(*) FROM enrolment_attempts
                     WHERE {column} = $1 AND outcome = $2 AND at_ms >= $3"
                ),
                &[&value, &outcome.as_str(), &since.timestamp_millis()],
            )?
            .get(0))
        })
    }

    fn devices(&self, venue_id: Option<&str>) -> Result<Vec<DeviceListing>, StoreError> {
        self.with(|c| {
            Ok(c.query(
                "SELECT device_id, public_key, venue_id, checkpoint_id, inspector, status,
                     enrolled_ms, pending, last_seen_ms
                 FROM devices WHERE $1::text IS NULL OR venue_id = $1
                 ORDER BY venue_id, enrolled_ms",
                &[&venue_id],
            )?
            .iter()
            .map(|r| DeviceListing {
                device: device_row(r),
                enrolled_at: DateTime::from_timestamp_millis(r.get(6)).unwrap_or_default(),
                last_seen: r
                    .get::<_, Option<i64>>(8)
                    .and_then(DateTime::from_timestamp_millis),
            })
            .collect())
        })
    }

    fn set_declaration_code(
        &self,
        venue_id: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            if tx
                .query_opt("SELECT 1 FROM venues WHERE declaration_code = $1", &[&code])?
                .is_some()
            {
                return Err(StoreError::DeclarationCodeTaken(code.to_string()));
            }
            let n = tx.execute(
                "UPDATE venues SET declaration_code = $2, updated_ms = $3
                 WHERE venue_id = $1 AND status = 'approved'",
                &[&venue_id, &code, &now.timestamp_millis()],
            )?;
            tx.commit()?;
            Ok(n == 1)
        })
    }

    fn device_events(&self, device_id: &str) -> Result<Vec<DeviceEvent>, StoreError> {
        self.with(|c| {
            Ok(c.query(
                "SELECT at_ms, action, actor FROM device_events WHERE device_id = $1
                 ORDER BY at_ms, seq",
                &[&device_id],
            )?
            .iter()
            .map(|r| DeviceEvent {
                at: DateTime::from_timestamp_millis(r.get(0)).unwrap_or_default(),
                action: r.get(1),
                actor: r.get(2),
            })
            .collect())
        })
    }
}
