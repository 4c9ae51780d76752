//! The PostgreSQL engine's administrator side: checkpoints, device approval, amending,
//! withdrawing, closing and handing over venues.

use chrono::{DateTime, Utc};
use venuecode_core::application::Application;
use venuecode_core::checkpoint::CheckpointSpec;

use super::applications::{event, summary_row};
use super::PgStore;
use crate::store::applications::SUMMARY_COLUMNS;
use crate::store::places::CHECKPOINT_COLUMNS;
use crate::store::{Amended, Checkpoint, Places, StoreError};

fn checkpoint_row(r: &postgres::Row) -> Checkpoint {
    Checkpoint {
        checkpoint_id: r.get(0),
        name: r.get(1),
        responsible_name: r.get(2),
        responsible_phone: r.get(3),
        disabled: r.get(4),
    }
}

fn name_taken(
    tx: &mut postgres::Transaction<'_>,
    venue_id: &str,
    checkpoint_id: &str,
    name: &str,
) -> Result<bool, postgres::Error> {
    // Two administrators adding one name at once: one waits for the other.
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('checkpoint ' || $1))",
        &[&venue_id],
    )?;
    Ok(tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM checkpoints WHERE venue_id = $1 AND name = $2
                 AND checkpoint_id <> $3)",
            &[&venue_id, &name, &checkpoint_id],
        )?
        .get(0))
}

fn bump(
    tx: &mut postgres::Transaction<'_>,
    venue_id: &str,
    now: DateTime<Utc>,
) -> Result<u64, postgres::Error> {
    tx.execute(
        "UPDATE venues SET updated_ms = GREATEST(updated_ms + 1, $2) WHERE venue_id = $1",
        &[&venue_id, &now.timestamp_millis()],
    )
}

/// SQL for `scopes` without the venue id in parameter `p` (a space-separated list).
fn drop_scope(p: &str) -> String {
    format!("trim(replace(' ' || scopes || ' ', ' ' || {p} || ' ', ' '))")
}

fn get_checkpoint(
    tx: &mut postgres::Transaction<'_>,
    venue_id: &str,
    checkpoint_id: &str,
) -> Result<Checkpoint, postgres::Error> {
    tx.query_one(
        &format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE venue_id = $1 AND checkpoint_id = $2"
        ),
        &[&venue_id, &checkpoint_id],
    )
    .map(|r| checkpoint_row(&r))
}

impl Places for PgStore {
    fn checkpoints(&self, venue_id: &str) -> Result<Vec<Checkpoint>, StoreError> {
        self.with(|c| {
            Ok(c.query(
                &format!(
                    "SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE venue_id = $1
                     ORDER BY checkpoint_id"
                ),
                &[&venue_id],
            )?
            .iter()
            .map(checkpoint_row)
            .collect())
        })
    }

    fn add_checkpoint(
        &self,
        venue_id: &str,
        checkpoint_id: &str,
        cp: &CheckpointSpec,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Checkpoint, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            if name_taken(&mut tx, venue_id, checkpoint_id, &cp.name)? {
                return Err(StoreError::CheckpointNameTaken(cp.name.clone()));
            }
            tx.execute(
                "INSERT INTO checkpoints (venue_id, checkpoint_id, name, responsible_name,
                     responsible_phone, disabled)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &venue_id,
                    &checkpoint_id,
                    &cp.name,
                    &cp.responsible_name,
                    &cp.responsible_phone,
                    &cp.disabled,
                ],
            )?;
            bump(&mut tx, venue_id, now)?;
            event(&mut tx, now, venue_id, "checkpoint_added", actor, &cp.name)?;
            let out = get_checkpoint(&mut tx, venue_id, checkpoint_id)?;
            tx.commit()?;
            Ok(out)
        })
    }

    fn update_checkpoint(
        &self,
        venue_id: &str,
        checkpoint_id: &str,
        cp: &CheckpointSpec,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Checkpoint>, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            if name_taken(&mut tx, venue_id, checkpoint_id, &cp.name)? {
                return Err(StoreError::CheckpointNameTaken(cp.name.clone()));
            }
            let n = tx.execute(
                "UPDATE checkpoints SET name = $3, responsible_name = $4, responsible_phone = $5,
                     disabled = $6
                 WHERE venue_id = $1 AND checkpoint_id = $2",
                &[
                    &venue_id,
                    &checkpoint_id,
                    &cp.name,
                    &cp.responsible_name,
                    &cp.responsible_phone,
                    &cp.disabled,
                ],
            )?;
            if n != 1 {
                return Ok(None);
            }
            bump(&mut tx, venue_id, now)?;
            let what = format!(
                "{checkpoint_id}: {}{}",
                cp.name,
                if cp.disabled { " (disabled)" } else { "" }
            );
            event(&mut tx, now, venue_id, "checkpoint_changed", actor, &what)?;
            let out = get_checkpoint(&mut tx, venue_id, checkpoint_id)?;
            tx.commit()?;
            Ok(Some(out))
        })
    }

    fn approve_device(
        &self,
        venue_id: &str,
        device_id: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE devices SET pending = false WHERE device_id = $1 AND venue_id = $2",
                &[&device_id, &venue_id],
            )?;
            if n != 1 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO device_events (at_ms, device_id, action, actor)
                 VALUES ($1, $2, 'approved', $3)",
                &[&now.timestamp_millis(), &device_id, &actor],
            )?;
            event(&mut tx, now, venue_id, "device_approved", actor, device_id)?;
            tx.commit()?;
            Ok(true)
        })
    }

    fn amend(
        &self,
        venue_id: &str,
        a: &Application,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Amended, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let before = tx.query_opt(
                "SELECT name, credit_code FROM venues WHERE venue_id = $1 AND closed_ms IS NULL
                 FOR UPDATE",
                &[&venue_id],
            )?;
            let row = before.ok_or_else(|| StoreError::NotPending(venue_id.to_string()))?;
            let (name, credit): (String, Option<String>) = (row.get(0), row.get(1));
            let back = name != a.name || credit.as_deref() != Some(a.credit_code.as_str());
            tx.execute(
                "UPDATE venues SET name = $2, credit_code = $3, category = $4, region = $5,
                     address = $6, lat_e6 = $7, lon_e6 = $8, responsible_name = $9,
                     responsible_phone = $10, updated_ms = GREATEST(updated_ms + 1, $11),
                     status = CASE WHEN $12 THEN 'pending' ELSE status END,
                     reject_reason = CASE WHEN $12 THEN NULL ELSE reject_reason END,
                     place_type = $13
                 WHERE venue_id = $1",
                &[
                    &venue_id,
                    &a.name,
                    &a.credit_code.as_str(),
                    &a.category.code(),
                    &a.region,
                    &a.address,
                    &a.point.map(|p| p.lat_e6),
                    &a.point.map(|p| p.lon_e6),
                    &a.responsible_name,
                    &a.responsible_phone,
                    &now.timestamp_millis(),
                    &back,
                    &a.place_type,
                ],
            )?;
            let detail = if back { "back to review" } else { "" };
            event(&mut tx, now, venue_id, "amended", actor, detail)?;
            let row = tx.query_one(
                &format!("SELECT {SUMMARY_COLUMNS} FROM venues WHERE venue_id = $1"),
                &[&venue_id],
            )?;
            tx.commit()?;
            Ok(Amended {
                venue: summary_row(&row),
                back_to_review: back,
            })
        })
    }

    fn withdraw(&self, venue_id: &str, actor: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                "DELETE FROM venues WHERE venue_id = $1 AND status = 'pending'
                     AND declaration_code IS NULL
                     AND NOT EXISTS (SELECT 1 FROM checkpoints WHERE venue_id = $1)",
                &[&venue_id],
            )?;
            if n != 1 {
                return Err(StoreError::NotPending(venue_id.to_string()));
            }
            tx.execute(
                &format!(
                    "UPDATE accounts SET scopes = {} WHERE role = 'venue_admin'
                         AND strpos(' ' || scopes || ' ', ' ' || $1 || ' ') > 0",
                    drop_scope("$1")
                ),
                &[&venue_id],
            )?;
            event(&mut tx, now, venue_id, "withdrawn", actor, "")?;
            tx.commit()?;
            Ok(())
        })
    }

    fn close_venue(
        &self,
        venue_id: &str,
        actor: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let at = now.timestamp_millis();
            let n = tx.execute(
                "UPDATE venues SET closed_ms = $2, declaration_code = NULL,
                     updated_ms = GREATEST(updated_ms + 1, $2)
                 WHERE venue_id = $1 AND status = 'approved' AND closed_ms IS NULL",
                &[&venue_id, &at],
            )?;
            if n != 1 {
                return Err(StoreError::NotPending(venue_id.to_string()));
            }
            tx.execute(
                "INSERT INTO device_events (at_ms, device_id, action, actor)
                 SELECT $2, device_id, 'revoked', $3 FROM devices
                 WHERE venue_id = $1 AND status = 'active'",
                &[&venue_id, &at, &format!("venue closed by {actor}")],
            )?;
            tx.execute(
                "UPDATE devices SET status = 'revoked' WHERE venue_id = $1",
                &[&venue_id],
            )?;
            event(&mut tx, now, venue_id, "closed", actor, reason)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn hand_over(
        &self,
        venue_id: &str,
        from_account: &str,
        to_username: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let to: String = tx
                .query_opt(
                    "SELECT account_id FROM accounts WHERE username = $1 AND role = 'venue_admin'
                         AND status = 'active'",
                    &[&to_username],
                )?
                .map(|r| r.get(0))
                .ok_or_else(|| StoreError::NotAVenueAdmin(to_username.to_string()))?;
            if to == from_account {
                return Ok(());
            }
            tx.execute(
                &format!(
                    "UPDATE accounts SET scopes = {} WHERE account_id = $1",
                    drop_scope("$2")
                ),
                &[&from_account, &venue_id],
            )?;
            tx.execute(
                &format!(
                    "UPDATE accounts SET scopes = trim({} || ' ' || $2) WHERE account_id = $1",
                    drop_scope("$2")
                ),
                &[&to, &venue_id],
            )?;
            event(
                &mut tx,
                now,
                venue_id,
                "handed_over",
                from_account,
                to_username,
            )?;
            tx.commit()?;
            Ok(())
        })
    }
}
