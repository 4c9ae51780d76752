//! The SQLite engine's retention side (see `store/retention.rs`).

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{days, SqliteStore};
use crate::store::retention::{placeholders, ALERTS, ORPHAN_NOTES, SIGHTING_ALERTS};
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
        // The venue's oldest days first, by (day, venue_id, at_ms) (migration 19).
        let days = days::until(&conn, before)?;
        let n = conn
            .prepare_cached(&format!(
                "DELETE FROM check_ins WHERE (venue_id, id) IN (
                     SELECT venue_id, id FROM check_ins
                     WHERE {on_days}
                         AND venue_id = ?1 AND at_ms < ?2 LIMIT ?3)",
                on_days = days::among(4)
            ))?
            .execute(params![
                venue_id,
                before.timestamp_millis(),
                limit as i64,
                days
            ])?;
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
