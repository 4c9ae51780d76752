//! The SQLite engine's administrator side: checkpoints, device approval, amending, withdrawing,
//! closing and handing over venues.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use venuecode_core::application::Application;
use venuecode_core::checkpoint::CheckpointSpec;

use super::applications::{event, summary_row};
use super::SqliteStore;
use crate::store::applications::SUMMARY_COLUMNS;
use crate::store::places::CHECKPOINT_COLUMNS;
use crate::store::{Amended, Checkpoint, Places, StoreError};

fn checkpoint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Checkpoint> {
    Ok(Checkpoint {
        checkpoint_id: r.get(0)?,
        name: r.get(1)?,
        responsible_name: r.get(2)?,
        responsible_phone: r.get(3)?,
        disabled: r.get(4)?,
    })
}

fn get_checkpoint(
    tx: &rusqlite::Transaction<'_>,
    venue_id: &str,
    checkpoint_id: &str,
) -> rusqlite::Result<Checkpoint> {
    tx.query_row(
        &format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE venue_id = ?1 AND checkpoint_id = ?2"
        ),
        [venue_id, checkpoint_id],
        checkpoint_row,
    )
}

/// Whether another checkpoint of the venue has this name.
fn name_taken(
    tx: &rusqlite::Transaction<'_>,
    venue_id: &str,
    checkpoint_id: &str,
    name: &str,
) -> rusqlite::Result<bool> {
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM checkpoints WHERE venue_id = ?1 AND name = ?2
             AND checkpoint_id <> ?3)",
        params![venue_id, name, checkpoint_id],
        |r| r.get(0),
    )
}

fn bump(
    tx: &rusqlite::Transaction<'_>,
    venue_id: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    tx.execute(
        "UPDATE venues SET updated_ms = max(updated_ms + 1, ?2) WHERE venue_id = ?1",
        params![venue_id, now.timestamp_millis()],
    )
}

/// SQL for `scopes` without the venue id in parameter `p` (a space-separated list).
fn drop_scope(p: &str) -> String {
    format!("trim(replace(' ' || scopes || ' ', ' ' || {p} || ' ', ' '))")
}

impl Places for SqliteStore {
    fn checkpoints(&self, venue_id: &str) -> Result<Vec<Checkpoint>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE venue_id = ?1 ORDER BY checkpoint_id"
        ))?;
        let rows = stmt.query_map([venue_id], checkpoint_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn add_checkpoint(
        &self,
        venue_id: &str,
        checkpoint_id: &str,
        c: &CheckpointSpec,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Checkpoint, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        if name_taken(&tx, venue_id, checkpoint_id, &c.name)? {
            return Err(StoreError::CheckpointNameTaken(c.name.clone()));
        }
        tx.execute(
            "INSERT INTO checkpoints (venue_id, checkpoint_id, name, responsible_name,
                 responsible_phone, disabled)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                venue_id,
                checkpoint_id,
                c.name,
                c.responsible_name,
                c.responsible_phone,
                c.disabled
            ],
        )?;
        bump(&tx, venue_id, now)?;
        event(&tx, now, venue_id, "checkpoint_added", actor, &c.name)?;
        let cp = get_checkpoint(&tx, venue_id, checkpoint_id)?;
        tx.commit()?;
        Ok(cp)
    }

    fn update_checkpoint(
        &self,
        venue_id: &str,
        checkpoint_id: &str,
        c: &CheckpointSpec,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Checkpoint>, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        if name_taken(&tx, venue_id, checkpoint_id, &c.name)? {
            return Err(StoreError::CheckpointNameTaken(c.name.clone()));
        }
        let n = tx.execute(
            "UPDATE checkpoints SET name = ?3, responsible_name = ?4, responsible_phone = ?5,
                 disabled = ?6
             WHERE venue_id = ?1 AND checkpoint_id = ?2",
            params![
                venue_id,
                checkpoint_id,
                c.name,
                c.responsible_name,
                c.responsible_phone,
                c.disabled
            ],
        )?;
        if n != 1 {
            return Ok(None);
        }
        bump(&tx, venue_id, now)?;
        let what = format!(
            "{checkpoint_id}: {}{}",
            c.name,
            if c.disabled { " (disabled)" } else { "" }
        );
        event(&tx, now, venue_id, "checkpoint_changed", actor, &what)?;
        let cp = get_checkpoint(&tx, venue_id, checkpoint_id)?;
        tx.commit()?;
        Ok(Some(cp))
    }

    fn approve_device(
        &self,
        venue_id: &str,
        device_id: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE devices SET pending = 0 WHERE device_id = ?1 AND venue_id = ?2",
            [device_id, venue_id],
        )?;
        if n != 1 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO device_events (at_ms, device_id, action, actor) VALUES (?1, ?2, 'approved', ?3)",
            params![now.timestamp_millis(), device_id, actor],
        )?;
        event(&tx, now, venue_id, "device_approved", actor, device_id)?;
        tx.commit()?;
        Ok(true)
    }

    fn amend(
        &self,
        venue_id: &str,
        a: &Application,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Amended, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let before: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT name, credit_code FROM venues WHERE venue_id = ?1 AND closed_ms IS NULL",
                [venue_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (name, credit) = before.ok_or_else(|| StoreError::NotPending(venue_id.to_string()))?;
        let back = name != a.name || credit.as_deref() != Some(a.credit_code.as_str());
        tx.execute(
            "UPDATE venues SET name = ?2, credit_code = ?3, category = ?4, region = ?5,
                 address = ?6, lat_e6 = ?7, lon_e6 = ?8, responsible_name = ?9,
                 responsible_phone = ?10, updated_ms = max(updated_ms + 1, ?11),
                 status = CASE WHEN ?12 THEN 'pending' ELSE status END,
                 reject_reason = CASE WHEN ?12 THEN NULL ELSE reject_reason END,
                 place_type = ?13
             WHERE venue_id = ?1",
            params![
                venue_id,
                a.name,
                a.credit_code.as_str(),
                a.category.code(),
                a.region,
                a.address,
                a.point.map(|p| p.lat_e6),
                a.point.map(|p| p.lon_e6),
                a.responsible_name,
                a.responsible_phone,
                now.timestamp_millis(),
                back,
                a.place_type
            ],
        )?;
        let detail = if back { "back to review" } else { "" };
        event(&tx, now, venue_id, "amended", actor, detail)?;
        let venue = tx.query_row(
            &format!("SELECT {SUMMARY_COLUMNS} FROM venues WHERE venue_id = ?1"),
            [venue_id],
            summary_row,
        )?;
        tx.commit()?;
        Ok(Amended {
            venue,
            back_to_review: back,
        })
    }

    fn withdraw(&self, venue_id: &str, actor: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM venues WHERE venue_id = ?1 AND status = 'pending'
                 AND declaration_code IS NULL
                 AND NOT EXISTS (SELECT 1 FROM checkpoints WHERE venue_id = ?1)",
            [venue_id],
        )?;
        if n != 1 {
            return Err(StoreError::NotPending(venue_id.to_string()));
        }
        tx.execute(
            &format!(
                "UPDATE accounts SET scopes = {} WHERE role = 'venue_admin'
                     AND instr(' ' || scopes || ' ', ' ' || ?1 || ' ') > 0",
                drop_scope("?1")
            ),
            [venue_id],
        )?;
        event(&tx, now, venue_id, "withdrawn", actor, "")?;
        tx.commit()?;
        Ok(())
    }

    fn close_venue(
        &self,
        venue_id: &str,
        actor: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let at = now.timestamp_millis();
        let n = tx.execute(
            "UPDATE venues SET closed_ms = ?2, declaration_code = NULL,
                 updated_ms = max(updated_ms + 1, ?2)
             WHERE venue_id = ?1 AND status = 'approved' AND closed_ms IS NULL",
            params![venue_id, at],
        )?;
        if n != 1 {
            return Err(StoreError::NotPending(venue_id.to_string()));
        }
        tx.execute(
            "INSERT INTO device_events (at_ms, device_id, action, actor)
             SELECT ?2, device_id, 'revoked', ?3 FROM devices
             WHERE venue_id = ?1 AND status = 'active'",
            params![venue_id, at, format!("venue closed by {actor}")],
        )?;
        tx.execute(
            "UPDATE devices SET status = 'revoked' WHERE venue_id = ?1",
            [venue_id],
        )?;
        event(&tx, now, venue_id, "closed", actor, reason)?;
        tx.commit()?;
        Ok(())
    }

    fn hand_over(
        &self,
        venue_id: &str,
        from_account: &str,
        to_username: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let to: Option<String> = tx
            .query_row(
                "SELECT account_id FROM accounts WHERE username = ?1 AND role = 'venue_admin'
                     AND status = 'active'",
                [to_username],
                |r| r.get(0),
            )
            .optional()?;
        let to = to.ok_or_else(|| StoreError::NotAVenueAdmin(to_username.to_string()))?;
        if to == from_account {
            return Ok(());
        }
        tx.execute(
            &format!(
                "UPDATE accounts SET scopes = {} WHERE account_id = ?1",
                drop_scope("?2")
            ),
            params![from_account, venue_id],
        )?;
        tx.execute(
            &format!(
                "UPDATE accounts SET scopes = trim({} || ' ' || ?2) WHERE account_id = ?1",
                drop_scope("?2")
            ),
            params![to, venue_id],
        )?;
        event(&tx, now, venue_id, "handed_over", from_account, to_username)?;
        tx.commit()?;
        Ok(())
    }
}
