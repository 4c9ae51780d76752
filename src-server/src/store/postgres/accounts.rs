//! The PostgreSQL engine's account side: accounts, sessions by token hash, the account event log.

use chrono::{DateTime, Utc};

use super::PgStore;
use crate::store::accounts::{account_from, invitation_from, ACCOUNT_COLUMNS};
use crate::store::{Account, Accounts, Credentials, Invitation, NewAccount, StoreError};

fn account_row(r: &postgres::Row) -> Account {
    account_from(
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        r.get(6),
    )
}

fn event(
    tx: &mut postgres::Transaction<'_>,
    at: DateTime<Utc>,
    account_id: &str,
    action: &str,
    actor: &str,
) -> Result<u64, postgres::Error> {
    tx.execute(
        "INSERT INTO account_events (at_ms, account_id, action, actor) VALUES ($1, $2, $3, $4)",
        &[&at.timestamp_millis(), &account_id, &action, &actor],
    )
}

/// Inserts an account (and its `created` event) inside `tx`.
fn insert_account(
    tx: &mut postgres::Transaction<'_>,
    a: &NewAccount<'_>,
    now: DateTime<Utc>,
) -> Result<Account, StoreError> {
    let row = tx.query_opt(
        &format!(
            "INSERT INTO accounts (account_id, username, display_name, role, scopes,
                 password_hash, status, created_ms, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8)
             ON CONFLICT (username) DO NOTHING
             RETURNING {ACCOUNT_COLUMNS}"
        ),
        &[
            &a.account_id,
            &a.username,
            &a.display_name,
            &a.role.as_str(),
            &a.scopes.join(" "),
            &a.password_hash,
            &now.timestamp_millis(),
            &a.created_by,
        ],
    )?;
    let Some(row) = row else {
        return Err(StoreError::UsernameTaken(a.username.to_string()));
    };
    event(tx, now, a.account_id, "created", a.created_by)?;
    Ok(account_row(&row))
}

impl Accounts for PgStore {
    fn create_account(
        &self,
        a: &NewAccount<'_>,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let account = insert_account(&mut tx, a, now)?;
            tx.commit()?;
            Ok(account)
        })
    }

    fn create_invitation(
        &self,
        code_hash: &str,
        i: &Invitation,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO invitations (code_hash, role, scopes, display_name, created_by,
                     created_ms, expires_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &code_hash,
                    &i.role.as_str(),
                    &i.scopes.join(" "),
                    &i.display_name,
                    &i.created_by,
                    &now.timestamp_millis(),
                    &expires.timestamp_millis(),
                ],
            )?;
            Ok(())
        })
    }

    fn invitation(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT role, scopes, display_name, created_by FROM invitations
                 WHERE code_hash = $1 AND used_ms IS NULL AND expires_ms > $2",
                &[&code_hash, &now.timestamp_millis()],
            )?
            .map(|r| invitation_from(r.get(0), r.get(1), r.get(2), r.get(3))))
        })
    }

    fn accept_invitation(
        &self,
        code_hash: &str,
        a: &NewAccount<'_>,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE invitations SET used_ms = $2, account_id = $3
                 WHERE code_hash = $1 AND used_ms IS NULL AND expires_ms > $2",
                &[&code_hash, &now.timestamp_millis(), &a.account_id],
            )?;
            if n != 1 {
                return Err(StoreError::InvitationUsed);
            }
            let account = insert_account(&mut tx, a, now)?;
            tx.commit()?;
            Ok(account)
        })
    }

    fn credentials(&self, username: &str) -> Result<Option<Credentials>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                &format!(
                    "SELECT {ACCOUNT_COLUMNS}, password_hash, failed_sign_ins, last_failed_ms
                     FROM accounts WHERE username = $1"
                ),
                &[&username],
            )?
            .map(|r| Credentials {
                account: account_row(&r),
                password_hash: r.get(7),
                failed_sign_ins: r.get(8),
                last_failed: r
                    .get::<_, Option<i64>>(9)
                    .and_then(DateTime::from_timestamp_millis),
            }))
        })
    }

    fn record_sign_in(
        &self,
        account_id: &str,
        ok: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            if ok {
                tx.execute(
                    "UPDATE accounts SET failed_sign_ins = 0 WHERE account_id = $1",
                    &[&account_id],
                )?;
            } else {
                tx.execute(
                    "UPDATE accounts SET failed_sign_ins = failed_sign_ins + 1,
                         last_failed_ms = $2
                     WHERE account_id = $1",
                    &[&account_id, &now.timestamp_millis()],
                )?;
            }
            let action = if ok { "signed_in" } else { "sign_in_failed" };
            event(&mut tx, now, account_id, action, account_id)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn open_session(
        &self,
        token_hash: &str,
        account_id: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO sessions (token_hash, account_id, created_ms, expires_ms)
                 VALUES ($1, $2, $3, $4)",
                &[
                    &token_hash,
                    &account_id,
                    &now.timestamp_millis(),
                    &expires.timestamp_millis(),
                ],
            )?;
            Ok(())
        })
    }

    fn session_account(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT a.account_id, a.username, a.display_name, a.role, a.scopes, a.status,
                     a.created_ms
                 FROM sessions s JOIN accounts a ON a.account_id = s.account_id
                 WHERE s.token_hash = $1 AND s.revoked_ms IS NULL AND s.expires_ms > $2
                   AND a.status = 'active'",
                &[&token_hash, &now.timestamp_millis()],
            )?
            .map(|r| account_row(&r)))
        })
    }

    fn close_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let account: Option<String> = tx
                .query_opt(
                    "UPDATE sessions SET revoked_ms = $2
                     WHERE token_hash = $1 AND revoked_ms IS NULL RETURNING account_id",
                    &[&token_hash, &now.timestamp_millis()],
                )?
                .map(|r| r.get(0));
            if let Some(id) = &account {
                event(&mut tx, now, id, "signed_out", id)?;
            }
            tx.commit()?;
            Ok(account.is_some())
        })
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.with(|c| {
            Ok(c.query(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY username"),
                &[],
            )?
            .iter()
            .map(account_row)
            .collect())
        })
    }
}
