//! The PostgreSQL engine's retention side (see `store/retention.rs`).

use chrono::{DateTime, Utc};

use super::PgStore;
use crate::store::retention::{placeholders, ALERTS, CHECK_INS, ORPHAN_NOTES, SIGHTING_ALERTS};
use crate::store::{Retention, StoreError};

impl Retention for PgStore {
    fn venue_ids(&self) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            Ok(
                c.query("SELECT venue_id FROM venues ORDER BY venue_id", &[])?
                    .iter()
                    .map(|r| r.get(0))
                    .collect(),
            )
        })
    }

    fn purge_check_ins(
        &self,
        venue_id: &str,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<u64, StoreError> {
        self.with(|c| {
            Ok(c.execute(
                &placeholders(CHECK_INS, '$'),
                &[&venue_id, &before.timestamp_millis(), &(limit as i64)],
            )?)
        })
    }

    fn purge_alerts(&self, before: DateTime<Utc>, limit: usize) -> Result<u64, StoreError> {
        self.with(|c| {
            Ok(c.execute(
                &placeholders(ALERTS, '$'),
                &[&before.timestamp_millis(), &(limit as i64)],
            )?)
        })
    }

    fn purge_sighting_alerts(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<u64, StoreError> {
        self.with(|c| {
            Ok(c.execute(
                &placeholders(SIGHTING_ALERTS, '$'),
                &[&before.timestamp_millis(), &(limit as i64)],
            )?)
        })
    }

    fn purge_orphan_notes(&self) -> Result<u64, StoreError> {
        self.with(|c| Ok(c.execute(ORPHAN_NOTES, &[])?))
    }
}
