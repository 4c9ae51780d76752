//! Sync state: the device identity and binding from enrolment, sync cursors and times, and the
//! revocation list pulled from the server.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use venuecode_core::checkin::Binding;
use venuecode_core::trust::{Revocation, RevocationList};

use super::settings::binding_pairs;
use super::{upsert, KeyValueTable, Store};
use crate::error::AppError;

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
