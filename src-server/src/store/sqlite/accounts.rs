//! The SQLite engine's account side: accounts, sessions by token hash, the account event log.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::store::accounts::{account_from, invitation_from, ACCOUNT_COLUMNS};
use crate::store::{Account, Accounts, Credentials, Invitation, NewAccount, StoreError};

fn account_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    Ok(account_from(
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        &r.get::<_, String>(3)?,
        &r.get::<_, String>(4)?,
        &r.get::<_, String>(5)?,
        r.get(6)?,
    ))
}

fn event(
    tx: &rusqlite::Transaction<'_>,
    at: DateTime<Utc>,
    account_id: &str,
    action: &str,
    actor: &str,
) -> rusqlite::Result<usize> {
    tx.execute(
        "INSERT INTO account_events (at_ms, account_id, action, actor) VALUES (?1, ?2, ?3, ?4)",
        params![at.timestamp_millis(), account_id, action, actor],
    )
}

/// Inserts an account (and its `created` event) inside `tx`.
fn insert_account(
    tx: &rusqlite::Transaction<'_>,
    a: &NewAccount<'_>,
    now: DateTime<Utc>,
) -> Result<Account, StoreError> {
    let taken: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE username = ?1)",
        [a.username],
        |r| r.get(0),
    )?;
    if taken {
        return Err(StoreError::UsernameTaken(a.username.to_string()));
    }
    tx.execute(
        "INSERT INTO accounts (account_id, username, display_name, role, scopes, password_hash,
             status, created_ms, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active', ?7, ?8)",
        params![
            a.account_id,
            a.username,
            a.display_name,
            a.role.as_str(),
            a.scopes.join(" "),
            a.password_hash,
            now.timestamp_millis(),
            a.created_by
        ],
    )?;
    event(tx, now, a.account_id, "created", a.created_by)?;
    Ok(tx.query_row(
        &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE account_id = ?1"),
        [a.account_id],
        account_row,
    )?)
}

impl Accounts for SqliteStore {
    fn create_account(
        &self,
        a: &NewAccount<'_>,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let account = insert_account(&tx, a, now)?;
        tx.commit()?;
        Ok(account)
    }

    fn create_invitation(
        &self,
        code_hash: &str,
        i: &Invitation,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn()?.execute(
            "INSERT INTO invitations (code_hash, role, scopes, display_name, created_by,
                 created_ms, expires_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                code_hash,
                i.role.as_str(),
                i.scopes.join(" "),
                i.display_name,
                i.created_by,
                now.timestamp_millis(),
                expires.timestamp_millis()
            ],
        )?;
        Ok(())
    }

    fn invitation(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>, StoreError> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT role, scopes, display_name, created_by FROM invitations
                 WHERE code_hash = ?1 AND used_ms IS NULL AND expires_ms > ?2",
                params![code_hash, now.timestamp_millis()],
                |r| {
                    Ok(invitation_from(
                        &r.get::<_, String>(0)?,
                        &r.get::<_, String>(1)?,
                        r.get(2)?,
                        r.get(3)?,
                    ))
                },
            )
            .optional()?)
    }

    fn accept_invitation(
        &self,
        code_hash: &str,
        a: &NewAccount<'_>,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE invitations SET used_ms = ?2, account_id = ?3
             WHERE code_hash = ?1 AND used_ms IS NULL AND expires_ms > ?2",
            params![code_hash, now.timestamp_millis(), a.account_id],
        )?;
        if n != 1 {
            return Err(StoreError::InvitationUsed);
        }
        let account = insert_account(&tx, a, now)?;
        tx.commit()?;
        Ok(account)
    }

    fn credentials(&self, username: &str) -> Result<Option<Credentials>, StoreError> {
        Ok(self
            .conn()?
            .query_row(
                &format!(
                    "SELECT {ACCOUNT_COLUMNS}, password_hash, failed_sign_ins, last_failed_ms
                     FROM accounts WHERE username = ?1"
                ),
                [username],
                |r| {
                    Ok(Credentials {
                        account: account_row(r)?,
                        password_hash: r.get(7)?,
                        failed_sign_ins: r.get(8)?,
                        last_failed: r
                            .get::<_, Option<i64>>(9)?
                            .and_then(DateTime::from_timestamp_millis),
                    })
                },
            )
            .optional()?)
    }

    fn record_sign_in(
        &self,
        account_id: &str,
        ok: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        if ok {
            tx.execute(
                "UPDATE accounts SET failed_sign_ins = 0 WHERE account_id = ?1",
                [account_id],
            )?;
        } else {
            tx.execute(
                "UPDATE accounts SET failed_sign_ins = failed_sign_ins + 1, last_failed_ms = ?2
                 WHERE account_id = ?1",
                params![account_id, now.timestamp_millis()],
            )?;
        }
        let action = if ok { "signed_in" } else { "sign_in_failed" };
        event(&tx, now, account_id, action, account_id)?;
        tx.commit()?;
        Ok(())
    }

    fn open_session(
        &self,
        token_hash: &str,
        account_id: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn()?.execute(
            "INSERT INTO sessions (token_hash, account_id, created_ms, expires_ms)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                token_hash,
                account_id,
                now.timestamp_millis(),
                expires.timestamp_millis()
            ],
        )?;
        Ok(())
    }

    fn session_account(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError> {
        Ok(self
            .conn()?
            .prepare_cached(
                "SELECT a.account_id, a.username, a.display_name, a.role, a.scopes, a.status,
                     a.created_ms
                 FROM sessions s JOIN accounts a ON a.account_id = s.account_id
                 WHERE s.token_hash = ?1 AND s.revoked_ms IS NULL AND s.expires_ms > ?2
                   AND a.status = 'active'",
            )?
            .query_row(params![token_hash, now.timestamp_millis()], account_row)
            .optional()?)
    }

    fn close_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let account: Option<String> = tx
            .query_row(
                "UPDATE sessions SET revoked_ms = ?2
                 WHERE token_hash = ?1 AND revoked_ms IS NULL RETURNING account_id",
                params![token_hash, now.timestamp_millis()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = &account {
            event(&tx, now, id, "signed_out", id)?;
        }
        tx.commit()?;
        Ok(account.is_some())
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY username"
        ))?;
        let rows = stmt.query_map([], account_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
