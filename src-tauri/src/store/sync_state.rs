//! Sync state: the device identity and binding from enrolment, sync cursors and times, the
//! pinned root key, the highest trust-list version seen, the time floor, and the revocation list
//! pulled from the server (checked by lookup, never loaded whole for a scan).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use venuecode_core::checkin::Binding;
use venuecode_core::trust::{Revocation, RevocationDelta, RevocationList, Revocations};

use super::settings::binding_pairs;
use super::{upsert, KeyValueTable, Store};
use crate::error::AppError;

/// The persisted time floor and the last signed server time.
pub type TimeFloor = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// This device's identity and enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub secret_key: String,
    pub device_id: String,
    pub server_url: String,
    pub venue_id: Option<String>,
    pub checkpoint_id: Option<String>,
    pub inspector: Option<String>,
    pub enrolled_at: Option<String>,
}

impl Store {
    /// The device identity, if one was made.
    pub fn device(&self) -> Result<Option<DeviceRow>, AppError> {
        Ok(self
            .conn
            .query_row(
                "SELECT secret_key, device_id, server_url, venue_id, checkpoint_id, inspector,
                     enrolled_at FROM device WHERE one = 1",
                [],
                |r| {
                    Ok(DeviceRow {
                        secret_key: r.get(0)?,
                        device_id: r.get(1)?,
                        server_url: r.get(2)?,
                        venue_id: r.get(3)?,
                        checkpoint_id: r.get(4)?,
                        inspector: r.get(5)?,
                        enrolled_at: r.get(6)?,
                    })
                },
            )
            .optional()?)
    }

    /// Keeps a freshly made key pair as this device's identity, unless it already has one; returns
    /// the identity held.
    pub fn create_device(
        &mut self,
        secret_key: &str,
        device_id: &str,
        server_url: &str,
    ) -> Result<DeviceRow, AppError> {
        self.conn.execute(
            "INSERT INTO device (one, secret_key, device_id, server_url) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (one) DO UPDATE SET server_url = excluded.server_url",
            params![secret_key, device_id, server_url],
        )?;
        self.device()?
            .ok_or_else(|| AppError::Invalid("the device identity was not kept".into()))
    }

    /// Records the server's enrolment answer and binds the station to it, in one transaction.
    pub fn set_enrolment(&mut self, b: &Binding, at: DateTime<Utc>) -> Result<(), AppError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE device SET venue_id = ?1, checkpoint_id = ?2, inspector = ?3, enrolled_at = ?4
             WHERE one = 1",
            params![b.venue_id, b.checkpoint_id, b.inspector, at.to_rfc3339()],
        )?;
        for (key, value) in binding_pairs(b) {
            upsert(&tx, KeyValueTable::Settings, key, value)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A value sync kept.
    pub fn sync_value(&self, key: &str) -> Result<Option<String>, AppError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Keeps several sync values in one transaction.
    pub fn put_sync_values(&mut self, pairs: &[(&str, String)]) -> Result<(), AppError> {
        let tx = self.conn.transaction()?;
        for (key, value) in pairs {
            upsert(&tx, KeyValueTable::SyncState, key, value)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The revocations held, with their cursor.
    pub fn revocations(&self) -> Result<RevocationList, AppError> {
        let cursor = self
            .sync_value("revocations_cursor")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let entries = self
            .conn
            .prepare_cached("SELECT kind, target FROM revocations")?
            .query_map([], |r| {
                let kind: String = r.get(0)?;
                let target: String = r.get(1)?;
                Ok(if kind == "code" {
                    Revocation::Code(target)
                } else {
                    Revocation::Subject(target)
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RevocationList::restore(cursor, entries))
    }

    /// The revocation cursor held.
    pub fn revocation_cursor(&self) -> Result<u64, AppError> {
        Ok(self
            .sync_value("revocations_cursor")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Adds one page of revocations cut from exactly the cursor held, and moves the cursor to its
    /// end, in one transaction.
    pub fn apply_revocation_page(&mut self, page: &RevocationDelta) -> Result<(), AppError> {
        let held = self.revocation_cursor()?;
        // The same rule as the in-memory list: no gap, no going back.
        RevocationList::restore(held, [])
            .apply(&RevocationDelta {
                entries: vec![],
                ..page.clone()
            })
            .map_err(|e| AppError::Invalid(format!("revocations: {e}")))?;
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO revocations (kind, target) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )?;
            for r in &page.entries {
                match r {
                    Revocation::Code(t) => stmt.execute(params!["code", t.to_ascii_lowercase()])?,
                    Revocation::Subject(t) => {
                        stmt.execute(params!["subject", t.to_ascii_lowercase()])?
                    }
                };
            }
        }
        upsert(
            &tx,
            KeyValueTable::SyncState,
            "revocations_cursor",
            &page.until.to_string(),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The revocations as verification asks for them: one indexed lookup per question.
    pub fn revocation_check(&self) -> StoredRevocations<'_> {
        StoredRevocations { store: self }
    }

    /// A device key made for a rotation the server has not confirmed yet (hex), if any.
    pub fn pending_device_key(&self) -> Result<Option<String>, AppError> {
        self.sync_value("pending_device_key")
    }

    /// Keeps a new device key before the server is asked to take it (first one wins: a retry
    /// after a lost answer uses the same key).
    pub fn set_pending_device_key(&mut self, secret_hex: &str) -> Result<(), AppError> {
        self.pin_value("pending_device_key", secret_hex)
    }

    /// Makes the pending key the device key (the server confirmed it as `device_id`), in one
    /// transaction, and notes when the key was made.
    pub fn adopt_pending_device_key(&mut self, device_id: &str) -> Result<(), AppError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE device SET secret_key = (SELECT value FROM sync_state
                 WHERE key = 'pending_device_key'), device_id = ?1
             WHERE one = 1 AND EXISTS (SELECT 1 FROM sync_state WHERE key = 'pending_device_key')",
            [device_id],
        )?;
        if n != 1 {
            return Err(AppError::Invalid("no pending device key to adopt".into()));
        }
        tx.execute(
            "DELETE FROM sync_state WHERE key = 'pending_device_key'",
            [],
        )?;
        tx.execute(
            "DELETE FROM sync_state WHERE key = 'device_key_made_at'",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// When the device key was made (noted the first time it is asked for, for stations made
    /// before this was kept), RFC 3339.
    pub fn device_key_made_at(&mut self, now: DateTime<Utc>) -> Result<DateTime<Utc>, AppError> {
        self.pin_value("device_key_made_at", &now.to_rfc3339())?;
        Ok(self
            .sync_value("device_key_made_at")?
            .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
            .map_or(now, |t| t.with_timezone(&Utc)))
    }

    /// The root public key pinned at first provisioning (hex), if any.
    pub fn pinned_root(&self) -> Result<Option<String>, AppError> {
        self.sync_value("root_pub")
    }

    /// The root a verified succession chain moved the station to (hex), if any: it outranks
    /// the pinned and the built-in root.
    pub fn succeeded_root(&self) -> Result<Option<String>, AppError> {
        self.sync_value("root_pub_succeeded")
    }

    /// Keeps the root a verified succession chain led to (only the sync client calls this,
    /// after the chain and the answer under the new root both checked out).
    pub fn move_root(&mut self, hex: &str) -> Result<(), AppError> {
        self.put_sync_values(&[("root_pub_succeeded", hex.to_string())])
    }

    /// Pins the root public key (hex); a key already pinned is never replaced. Returns the key
    /// pinned.
    pub fn pin_root(&mut self, hex: &str) -> Result<String, AppError> {
        self.pin_value("root_pub", hex)?;
        self.pinned_root()?
            .ok_or_else(|| AppError::Invalid("the root key was not pinned".into()))
    }

    /// Keeps `value` under `key` unless a value is already there (pinning: first one wins).
    pub fn pin_value(&mut self, key: &str, value: &str) -> Result<(), AppError> {
        self.conn.execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            [key, value],
        )?;
        Ok(())
    }

    /// The highest trust-list version this station has accepted (kept apart from the file).
    pub fn trust_version_seen(&self) -> Result<u64, AppError> {
        Ok(self
            .sync_value("trust_version_seen")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Raises the highest trust-list version seen.
    pub fn see_trust_version(&mut self, version: u64) -> Result<(), AppError> {
        let held = self.trust_version_seen()?;
        if version > held {
            self.put_sync_values(&[("trust_version_seen", version.to_string())])?;
        }
        Ok(())
    }

    /// The persisted time floor and the last signed server time (Unix milliseconds), raised to
    /// the newest local check-in.
    pub fn time_floor(&self) -> Result<TimeFloor, AppError> {
        let ms = |key: &str| -> Result<Option<DateTime<Utc>>, AppError> {
            Ok(self
                .sync_value(key)?
                .and_then(|v| v.parse::<i64>().ok())
                .and_then(DateTime::from_timestamp_millis))
        };
        // The last check-in made (records are made at trusted time, which only a signed time
        // moves back): one row by rowid, not a scan of every check-in at start-up.
        let newest: Option<String> = self
            .conn
            .query_row(
                "SELECT at FROM check_ins ORDER BY rowid DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let newest = newest
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc));
        let floor = ms("time_floor_ms")?.into_iter().chain(newest).max();
        Ok((floor, ms("last_signed_ms")?))
    }

    /// Persists the time floor and the last signed server time.
    pub fn put_time_floor(
        &mut self,
        floor: DateTime<Utc>,
        last_signed: Option<DateTime<Utc>>,
    ) -> Result<(), AppError> {
        let mut pairs = vec![("time_floor_ms", floor.timestamp_millis().to_string())];
        if let Some(t) = last_signed {
            pairs.push(("last_signed_ms", t.timestamp_millis().to_string()));
        }
        self.put_sync_values(&pairs)
    }

    /// Keeps a revocation list (after a delta was applied to it) and its cursor.
    pub fn put_revocations(&mut self, list: &RevocationList) -> Result<(), AppError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO revocations (kind, target) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )?;
            for r in list.entries() {
                match r {
                    Revocation::Code(t) => stmt.execute(params!["code", t])?,
                    Revocation::Subject(t) => stmt.execute(params!["subject", t])?,
                };
            }
        }
        upsert(
            &tx,
            KeyValueTable::SyncState,
            "revocations_cursor",
            &list.cursor().to_string(),
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// The station's revocations, looked up in its database. A failed lookup counts as revoked: a
/// station that cannot tell refuses rather than admits.
pub struct StoredRevocations<'a> {
    store: &'a Store,
}

impl StoredRevocations<'_> {
    fn holds(&self, kind: &str, target: &str) -> bool {
        self.store
            .conn
            .prepare_cached("SELECT 1 FROM revocations WHERE kind = ?1 AND target = ?2")
            .and_then(|mut s| s.exists(params![kind, target.to_ascii_lowercase()]))
            .unwrap_or(true)
    }
}

impl Revocations for StoredRevocations<'_> {
    fn code_revoked(&self, code_id_hex: &str) -> bool {
        self.holds("code", code_id_hex)
    }

    fn subject_revoked(&self, subject_hex: &str) -> bool {
        self.holds("subject", subject_hex)
    }
}
