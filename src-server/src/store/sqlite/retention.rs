//! The SQLite engine's retention side (see `store/retention.rs`).

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::SqliteStore;
use crate::store::retention::{placeholders, ALERTS, CHECK_INS, ORPHAN_NOTES, SIGHTING_ALERTS};
use crate::store::{Retention, StoreError};

impl Retention for SqliteStore {
    fn venue_ids(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn()?;
        let ids = conn
            .prepare("SELECT venue_id FROM venues ORDER BY venue_id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(ids)
    }

    fn purge_check_ins(
        &self,
        venue_id: &str,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<u64, StoreError> {
        let conn = self.conn()?;
        let n = conn
            .prepare_cached(&placeholders(CHECK_INS, '?'))?
            .execute(params![venue_id, before.timestamp_millis(), limit as i64])?;
        Ok(n as u64)
    }

    fn purge_alerts(&self, before: DateTime<Utc>, limit: usize) -> Result<u64, StoreError> {
        let conn = self.conn()?;
        let n = conn
            .prepare_cached(&placeholders(ALERTS, '?'))?
            .execute(params![before.timestamp_millis(), limit as i64])?;
        Ok(n as u64)
    }

    fn purge_sighting_alerts(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<u64, StoreError> {
        let conn = self.conn()?;
        let n = conn
            .prepare_cached(&placeholders(SIGHTING_ALERTS, '?'))?
            .execute(params![before.timestamp_millis(), limit as i64])?;
        Ok(n as u64)
    }

    fn purge_orphan_notes(&self) -> Result<u64, StoreError> {
        let conn = self.conn()?;
        Ok(conn.execute(ORPHAN_NOTES, [])? as u64)
    }
}
