//! The outbox: records waiting for the server, what it acknowledged or set aside, and the
//! retention purge of what it holds.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::Store;
use crate::error::AppError;

/// A record waiting in the outbox: its id and its wire JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRecord {
    pub record_id: String,
    pub payload: String,
}

impl Store {
    /// Up to `limit` records waiting to be sent under the key of `venue_id` (the venue active
    /// when the sync round began), alerts first, oldest first within a lane: that venue's
    /// records, and those of no venue this station holds (the server judges a record it cannot
    /// place; a damaged one is set aside, never left to wait forever). A venue switched to
    /// during the round is not sent under the old key.
    pub fn pending(&self, venue_id: &str, limit: usize) -> Result<Vec<PendingRecord>, AppError> {
        self.pending_where(
            "(coalesce(json_extract(payload, '$.venue_id'), '') = ?2
               OR (coalesce(json_extract(payload, '$.venue_id'), '')
                       NOT IN (SELECT venue_id FROM parked_venues)
                   AND coalesce(json_extract(payload, '$.venue_id'), '')
                       NOT IN (SELECT venue_id FROM device WHERE venue_id IS NOT NULL)))",
            Some(venue_id),
            limit,
        )
    }

    /// Up to `limit` records of a parked venue waiting to be sent under its own key, in the
    /// same order.
    pub fn pending_of_venue(
        &self,
        venue_id: &str,
        limit: usize,
    ) -> Result<Vec<PendingRecord>, AppError> {
        self.pending_where(
            "json_extract(payload, '$.venue_id') = ?2",
            Some(venue_id),
            limit,
        )
    }

    fn pending_where(
        &self,
        filter: &str,
        venue_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PendingRecord>, AppError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT record_id, payload FROM outbox WHERE sent_at IS NULL AND rejected IS NULL
                 AND {filter}
             ORDER BY lane, id LIMIT ?1"
        ))?;
        let row = |r: &rusqlite::Row<'_>| {
            Ok(PendingRecord {
                record_id: r.get(0)?,
                payload: r.get(1)?,
            })
        };
        let rows = match venue_id {
            Some(v) => stmt.query_map(params![limit as i64, v], row)?,
            None => stmt.query_map(params![limit as i64], row)?,
        }
        .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// How many records wait to be sent for each venue that has any.
    pub fn waiting_by_venue(&self) -> Result<Vec<(String, i64)>, AppError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT json_extract(payload, '$.venue_id') AS v, count(*) FROM outbox
             WHERE sent_at IS NULL AND rejected IS NULL GROUP BY v",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get(1)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Drops the unsent records of any venue this station is not enrolled at — neither
    /// `venue_id` nor a parked venue (what a station bound by hand for the demo recorded before
    /// it enrolled): they never sync. Their check-ins stay in the local history. Returns how
    /// many were dropped.
    pub fn drop_unsent_of_other_venues(&mut self, venue_id: &str) -> Result<usize, AppError> {
        Ok(self.conn.execute(
            "DELETE FROM outbox WHERE sent_at IS NULL
                 AND json_extract(payload, '$.venue_id') IS NOT ?1
                 AND json_extract(payload, '$.venue_id') NOT IN (SELECT venue_id FROM parked_venues)",
            [venue_id],
        )?)
    }

    /// How many records wait to be sent, and how many were set aside as rejected.
    pub fn outbox_counts(&self) -> Result<(i64, i64), AppError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FILTER (WHERE sent_at IS NULL AND rejected IS NULL),
                    count(*) FILTER (WHERE rejected IS NOT NULL) FROM outbox",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Records queued before `before` (the retention window) that the server never acknowledged
    /// — still waiting or set aside: kept, and shown to the administrator rather than dropped.
    pub fn overdue_unsent(&self, before: DateTime<Utc>) -> Result<i64, AppError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND created_at < ?1",
            [before.to_rfc3339()],
            |r| r.get(0),
        )?)
    }

    /// Marks the acknowledged records as sent; returns how many changed.
    pub fn mark_sent(
        &mut self,
        record_ids: &[String],
        at: DateTime<Utc>,
    ) -> Result<usize, AppError> {
        let at = at.to_rfc3339();
        let tx = self.conn.transaction()?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET sent_at = ?2 WHERE record_id = ?1 AND sent_at IS NULL",
            )?;
            for id in record_ids {
                n += stmt.execute(params![id, at])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Sets a record aside that the server refused for its content; it is kept, not sent again.
    pub fn mark_rejected(&mut self, record_id: &str, reason: &str) -> Result<(), AppError> {
        self.conn.execute(
            "UPDATE outbox SET rejected = ?2 WHERE record_id = ?1 AND sent_at IS NULL",
            params![record_id, reason],
        )?;
        Ok(())
    }

    /// Deletes synced records older than `before` (the retention window): check-ins whose
    /// outbox rows — their own and their alerts' — were all acknowledged by the server, with
    /// those alerts, outbox rows and closed presences. Anything not yet sent, set aside as
    /// rejected, or still inside is kept whatever its age. Returns how many check-ins went.
    pub fn purge_synced(&mut self, before: DateTime<Utc>) -> Result<usize, AppError> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS purge (id TEXT PRIMARY KEY); DELETE FROM purge;",
        )?;
        tx.execute(
            "INSERT INTO purge (id)
             SELECT c.id FROM check_ins c
             WHERE c.at < ?1
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.record_id = c.id
                               AND o.sent_at IS NULL)
               AND NOT EXISTS (SELECT 1 FROM alerts a JOIN outbox o ON o.record_id = a.id
                               WHERE a.check_in_id = c.id AND o.sent_at IS NULL)
               AND NOT EXISTS (SELECT 1 FROM presence p WHERE p.entry_id = c.id
                               AND p.exited_at IS NULL)",
            [before.to_rfc3339()],
        )?;
        tx.execute_batch(
            "DELETE FROM outbox WHERE record_id IN (SELECT id FROM purge)
                 OR record_id IN (SELECT a.id FROM alerts a JOIN purge p ON a.check_in_id = p.id);
             DELETE FROM alerts WHERE check_in_id IN (SELECT id FROM purge);
             UPDATE presence SET exit_id = NULL WHERE exit_id IN (SELECT id FROM purge);
             DELETE FROM presence WHERE entry_id IN (SELECT id FROM purge);",
        )?;
        let n = tx.execute(
            "DELETE FROM check_ins WHERE id IN (SELECT id FROM purge)",
            [],
        )?;
        tx.execute_batch("DELETE FROM purge;")?;
        tx.commit()?;
        Ok(n)
    }
}
