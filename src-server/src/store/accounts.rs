//! The store's side of people who sign in: accounts, sessions (by token hash) and the account
//! event log, on either engine.
//!
//! Invariants: a bearer token is never stored, only its SHA-256; a session is valid only while
//! unrevoked, unexpired and its account active; failed sign-ins are counted in a row and reset by
//! a success; every sign-in, failure, sign-out and creation is in `account_events`.

use chrono::{DateTime, Utc};
use venuecode_core::accounts::Role;

use super::StoreError;

/// An account as the server works with it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub account_id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scopes: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// What a sign-in needs to judge a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub account: Account,
    pub password_hash: String,
    pub failed_sign_ins: i64,
    pub last_failed: Option<DateTime<Utc>>,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub account_id: &'a str,
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub scopes: &'a [String],
    pub password_hash: &'a str,
    pub created_by: &'a str,
}

/// The columns read for an [`Account`], in this order, by both engines.
pub(crate) const ACCOUNT_COLUMNS: &str = "account_id, username, display_name, role, scopes, \
    status, created_ms";

pub(crate) fn account_from(
    account_id: String,
    username: String,
    display_name: String,
    role: &str,
    scopes: &str,
    status: &str,
    created_ms: i64,
) -> Account {
    Account {
        account_id,
        username,
        display_name,
        // The column's CHECK keeps the four codes; an unknown one is read as the least role.
        role: Role::from_code(role).unwrap_or(Role::VenueAdmin),
        scopes: scopes.split_whitespace().map(str::to_string).collect(),
        active: status == "active",
        created_at: DateTime::from_timestamp_millis(created_ms).unwrap_or_default(),
    }
}

/// An invitation to a role (what the invitee will be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub role: Role,
    pub scopes: Vec<String>,
    pub display_name: String,
    pub created_by: String,
}

pub(crate) fn invitation_from(
    role: &str,
    scopes: &str,
    display_name: String,
    created_by: String,
) -> Invitation {
    Invitation {
        role: Role::from_code(role).unwrap_or(Role::VenueAdmin),
        scopes: scopes.split_whitespace().map(str::to_string).collect(),
        display_name,
        created_by,
    }
}

/// The account side of the store.
pub trait Accounts {
    /// Keeps an invitation under the hash of its one-time code, valid until `expires`.
    fn create_invitation(
        &self,
        code_hash: &str,
        invitation: &Invitation,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The invitation with this code hash, if unused and unexpired at `now`.
    fn invitation(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>, StoreError>;
    /// Makes the account an invitation was for and uses the invitation up, in one transaction:
    /// [`StoreError::InvitationUsed`] when it was used (or expired) meanwhile, nothing made.
    fn accept_invitation(
        &self,
        code_hash: &str,
        account: &NewAccount<'_>,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError>;
    /// Creates an account; [`StoreError::UsernameTaken`] when the name is in use.
    fn create_account(&self, a: &NewAccount<'_>, now: DateTime<Utc>)
        -> Result<Account, StoreError>;
    /// The credentials of the account with this user name, if any.
    fn credentials(&self, username: &str) -> Result<Option<Credentials>, StoreError>;
    /// Records a sign-in attempt's outcome (a success resets the failures) in the account and its
    /// event log.
    fn record_sign_in(
        &self,
        account_id: &str,
        ok: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Opens a session for `account_id` under a token hash, lasting until `expires`.
    fn open_session(
        &self,
        token_hash: &str,
        account_id: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The account of a valid session (unrevoked, unexpired at `now`, account active).
    fn session_account(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError>;
    /// Ends a session (signing out); false when there was none open.
    fn close_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Every account, by user name.
    fn accounts(&self) -> Result<Vec<Account>, StoreError>;
}
