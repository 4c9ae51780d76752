//! The people use cases: signing in (argon2id password check, lockout after repeated failures,
//! one answer for a wrong name or password), sessions as bearer tokens, signing out, and the
//! first administrator made from the command line.
//!
//! Invariants: passwords are hashed with argon2id (RustCrypto `argon2`, default parameters) and
//! never stored or logged; an unknown user name costs the same hash check as a wrong password, so
//! timing tells nothing; a locked account is refused before its password is checked; a bearer
//! token is 32 random bytes, only its SHA-256 is stored; every handler that serves a person calls
//! [`authenticate`] and then asks core's `Principal::may`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use venuecode_core::accounts::{
    self, check_password, check_username, Principal, Role, SESSION_LIFETIME,
};
use venuecode_core::keys::hex;

use crate::error::ApiError;
use crate::store::{Account, NewAccount, Store, StoreError};

/// `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// An account as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    pub account_id: String,
    pub username: String,
    pub display_name: String,
    pub role: &'static str,
    pub scopes: Vec<String>,
    pub active: bool,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> AccountView {
        AccountView {
            account_id: a.account_id.clone(),
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            role: a.role.as_str(),
            scopes: a.scopes.clone(),
            active: a.active,
        }
    }
}

/// The answer to a successful sign-in.
#[derive(Debug, Serialize)]
pub struct LoginResponse {
    /// The bearer token (`Authorization: Bearer …`); shown once, never stored by the server.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub account: AccountView,
}

/// How a person is named in logs people read (venue history, device events): "显示名 (用户名)".
pub fn actor(a: &Account) -> String {
    format!("{} ({})", a.display_name, a.username)
}

/// Hashes a password with argon2id and a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt_bytes: [u8; 16] = venuecode_keys::random_bytes()
        .map_err(|e| ApiError::Internal(format!("no randomness for a salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| ApiError::Internal(format!("salt: {e}")))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| ApiError::Internal(format!("hashing: {e}")))?
        .to_string())
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash no password matches, checked for unknown user names so they cost what a wrong
/// password costs.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy: no account has this").unwrap_or_default())
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Signs a person in at `now` (blocking: an argon2 check and store calls).
pub fn login(
    store: &dyn Store,
    req: &LoginRequest,
    now: DateTime<Utc>,
) -> Result<LoginResponse, ApiError> {
    let wrong = || ApiError::Unauthorized("bad_credentials", "wrong user name or password".into());
    if req.username.len() > 64 || req.password.chars().count() > accounts::PASSWORD_CHARS.1 {
        return Err(wrong());
    }
    let Some(c) = store.credentials(req.username.trim())? else {
        let _ = password_matches(&req.password, decoy_hash());
        return Err(wrong());
    };
    if accounts::locked(c.failed_sign_ins, c.last_failed, now) {
        return Err(ApiError::AccountLocked {
            retry_after_secs: accounts::LOCKOUT.num_seconds(),
        });
    }
    let ok = password_matches(&req.password, &c.password_hash) && c.account.active;
    store.record_sign_in(&c.account.account_id, ok, now)?;
    if !ok {
        return Err(wrong());
    }
    let token_bytes: [u8; 32] = venuecode_keys::random_bytes()
        .map_err(|e| ApiError::Internal(format!("no randomness for a token: {e}")))?;
    let token = hex(&token_bytes);
    let expires_at = now + SESSION_LIFETIME;
    store.open_session(&token_hash(&token), &c.account.account_id, now, expires_at)?;
    Ok(LoginResponse {
        token,
        expires_at,
        account: AccountView::from(&c.account),
    })
}

/// The bearer token of a request, if it carries one of the right shape.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())).then_some(token)
}

/// The signed-in person making a request (blocking: a store call); 401 without a valid session.
pub fn authenticate(
    store: &dyn Store,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<(Account, Principal), ApiError> {
    let unsigned = || {
        ApiError::Unauthorized(
            "not_signed_in",
            "sign in first (Authorization: Bearer <token> from /api/v1/auth/login)".into(),
        )
    };
    let token = bearer(headers).ok_or_else(unsigned)?;
    let account = store
        .session_account(&token_hash(token), now)?
        .ok_or_else(unsigned)?;
    let principal = Principal {
        account_id: account.account_id.clone(),
        role: account.role,
        scopes: account.scopes.clone(),
    };
    Ok((account, principal))
}

/// Ends the session of the request's token.
pub fn logout(store: &dyn Store, headers: &HeaderMap, now: DateTime<Utc>) -> Result<(), ApiError> {
    authenticate(store, headers, now)?;
    let token = bearer(headers).unwrap_or_default();
    store.close_session(&token_hash(token), now)?;
    Ok(())
}

/// Why an account could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("{0}")]
    Username(#[from] accounts::UsernameError),
    #[error("{0}")]
    Password(#[from] accounts::PasswordError),
    #[error("the display name must be 1 to 32 characters")]
    DisplayName,
    #[error("a {0} needs at least one scope ({1})")]
    Scope(&'static str, &'static str),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Api(#[from] ApiError),
}

/// What an account is made of.
pub struct AccountSpec<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub scopes: Vec<String>,
    pub password: &'a str,
    pub created_by: &'a str,
}

/// Makes an account after checking every field (the command line's `admin create`, and later
/// invitations).
pub fn create_account(
    store: &dyn Store,
    spec: &AccountSpec<'_>,
    now: DateTime<Utc>,
) -> Result<Account, CreateError> {
    check_username(spec.username)?;
    check_password(spec.username, spec.password)?;
    let name = spec.display_name.trim();
    if name.is_empty() || name.chars().count() > 32 || name.chars().any(char::is_control) {
        return Err(CreateError::DisplayName);
    }
    let scopes: Vec<String> = spec
        .scopes
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    match spec.role {
        Role::Reviewer | Role::Authority if scopes.is_empty() => {
            return Err(CreateError::Scope(spec.role.as_str(), "a region code"))
        }
        // A venue administrator may start with no venue: they apply for theirs.
        _ => {}
    }
    let id = uuid::Uuid::new_v4().to_string();
    let hash = hash_password(spec.password)?;
    Ok(store.create_account(
        &NewAccount {
            account_id: &id,
            username: spec.username,
            display_name: name,
            role: spec.role,
            scopes: &scopes,
            password_hash: &hash,
            created_by: spec.created_by,
        },
        now,
    )?)
}

/// How long an invitation's one-time code stays valid.
pub const INVITATION_LIFETIME: chrono::Duration = chrono::Duration::days(7);

/// `POST /api/v1/accounts/invitations`.
#[derive(Debug, Deserialize)]
pub struct InviteRequest {
    pub role: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub display_name: String,
}

/// The answer to an invitation: the one-time code to hand to the person (shown once).
#[derive(Debug, Serialize)]
pub struct InviteResponse {
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// `POST /api/v1/accounts/accept`.
#[derive(Debug, Deserialize)]
pub struct AcceptRequest {
    pub code: String,
    pub username: String,
    pub password: String,
}

/// Invites a person to a role (a system administrator's act); region scopes must be in `regions`.
pub fn invite(
    store: &dyn Store,
    by: &Principal,
    req: &InviteRequest,
    regions: &venuecode_core::region::Regions,
    now: DateTime<Utc>,
) -> Result<InviteResponse, ApiError> {
    let bad = |code, what: &str| ApiError::BadRequest(code, what.to_string());
    let role = Role::from_code(&req.role).ok_or_else(|| {
        bad(
            "bad_role",
            "role is venue_admin, reviewer, authority or sysadmin",
        )
    })?;
    let name = req.display_name.trim();
    if name.is_empty() || name.chars().count() > 32 || name.chars().any(char::is_control) {
        return Err(bad(
            "bad_display_name",
            "the display name is 1 to 32 characters",
        ));
    }
    let scopes: Vec<String> = req.scopes.iter().map(|s| s.trim().to_string()).collect();
    if role.scoped_by_region() {
        if scopes.is_empty() || scopes.iter().any(|s| regions.get(s).is_none()) {
            return Err(bad(
                "bad_scopes",
                "a reviewer or an authority needs region codes from the region table",
            ));
        }
    } else if !scopes.is_empty() {
        return Err(bad(
            "bad_scopes",
            "only reviewers and authorities are invited with scopes (venue administrators apply for their venues)",
        ));
    }
    let code_bytes: [u8; 16] = venuecode_keys::random_bytes()
        .map_err(|e| ApiError::Internal(format!("no randomness for a code: {e}")))?;
    let code = hex(&code_bytes);
    let expires_at = now + INVITATION_LIFETIME;
    store.create_invitation(
        &token_hash(&code),
        &crate::store::Invitation {
            role,
            scopes,
            display_name: name.to_string(),
            created_by: by.account_id.clone(),
        },
        now,
        expires_at,
    )?;
    Ok(InviteResponse { code, expires_at })
}

/// Makes the account an invitation was for, with the user name and password the person chose.
pub fn accept(
    store: &dyn Store,
    req: &AcceptRequest,
    now: DateTime<Utc>,
) -> Result<AccountView, ApiError> {
    let gone = || {
        ApiError::NotFound(
            "no such invitation: it was used, has expired, or the code is wrong".into(),
        )
    };
    if req.code.len() != 32 || !req.code.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(gone());
    }
    let hash = token_hash(&req.code.to_ascii_lowercase());
    let inv = store.invitation(&hash, now)?.ok_or_else(gone)?;
    check_username(&req.username)
        .map_err(|e| ApiError::BadRequest("bad_username", e.to_string()))?;
    check_password(&req.username, &req.password)
        .map_err(|e| ApiError::BadRequest("bad_password", e.to_string()))?;
    let id = uuid::Uuid::new_v4().to_string();
    let password_hash = hash_password(&req.password)?;
    let account = store
        .accept_invitation(
            &hash,
            &NewAccount {
                account_id: &id,
                username: &req.username,
                display_name: &inv.display_name,
                role: inv.role,
                scopes: &inv.scopes,
                password_hash: &password_hash,
                created_by: &inv.created_by,
            },
            now,
        )
        .map_err(|e| match e {
            StoreError::InvitationUsed => gone(),
            other => other.into(),
        })?;
    Ok(AccountView::from(&account))
}

/// The demo's password for every demo account (printed by `./x run` and in the README; demo data
/// only — `--demo`).
pub const DEMO_PASSWORD: &str = "venuecode-demo-2026";

/// The demo accounts, one per role: user name, display name, role, scopes.
pub const DEMO_PEOPLE: &[(&str, &str, Role, &[&str])] = &[
    (
        "demo.admin",
        "演示场所管理员",
        Role::VenueAdmin,
        &["demo-venue-0003"],
    ),
    (
        "demo.reviewer",
        "演示社区审核员",
        Role::Reviewer,
        &["659002"],
    ),
    (
        "demo.authority",
        "演示疾控流调",
        Role::Authority,
        &["659002"],
    ),
    ("demo.sysadmin", "演示系统管理员", Role::SysAdmin, &[]),
];

/// Makes the demo accounts that are missing and, once, a pending application by the demo venue
/// administrator for the reviewer's queue (`--demo` only). Returns the user names made.
pub fn seed_demo_people(
    store: &dyn Store,
    regions: &venuecode_core::region::Regions,
    types: &venuecode_core::place_type::PlaceTypes,
    now: DateTime<Utc>,
) -> Result<Vec<String>, CreateError> {
    let mut made = Vec::new();
    for (username, name, role, scopes) in DEMO_PEOPLE {
        if store.credentials(username)?.is_some() {
            continue;
        }
        let account = create_account(
            store,
            &AccountSpec {
                username,
                display_name: name,
                role: *role,
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                password: DEMO_PASSWORD,
                created_by: "demo",
            },
            now,
        )?;
        if *role == Role::VenueAdmin {
            let input = venuecode_core::application::ApplicationInput {
                name: "阿拉尔市塔里木大道便民超市有限公司".into(),
                credit_code: "91330100716105852F".into(),
                category: "02".into(),
                place_type: "0202".into(),
                region: "659002001002".into(),
                address: "阿拉尔市塔里木大道 88 号".into(),
                lat_e6: Some(40_545_000),
                lon_e6: Some(81_290_000),
                responsible_name: "演示场所管理员".into(),
                responsible_phone: "13900139000".into(),
            };
            if let Ok(a) = venuecode_core::application::check(&input, regions, types) {
                match store.apply("demo-application-1", &a, &account.account_id, now) {
                    Ok(_) | Err(StoreError::DuplicateApplication(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        made.push(username.to_string());
    }
    Ok(made)
}
