//! The enrolment use case: a device proves possession of its key (the request is signed by the
//! key it enrols), names its venue by the 6-digit declaration code and its inspector, and is bound
//! to the venue's checkpoint. And key rotation: a device hands its binding to a new key, signed
//! by the new key with the old key's consent.
//!
//! Invariants: shapes are checked first (400), then possession (401: a key that is not one, a
//! device header that is not its id, a bad signature or time), then the nonce is spent, then the
//! lockouts (429: too many wrong codes from this source, too many enrolments for this venue),
//! and only then is anything written; every attempt past possession is in the audit log with its
//! outcome; every wrong code gets one answer; a device enrolled at another venue is refused, not
//! moved; a revoked key never re-enrols (an administrator re-activates it, logged).

use chrono::{DateTime, Duration, Utc};
use venuecode_core::keys::PublicKey;
use venuecode_core::sync::{
    self, is_declaration_code, EnrolRequest, EnrolResponse, RotateKeyRequest, RotateKeyResponse,
    SignedHeaders,
};

use crate::auth;
use crate::error::ApiError;
use crate::store::{AttemptKey, AttemptOutcome, EnrolAttempt, NewDevice, Store, StoreError};

/// The window the lockouts count in.
pub const LOCKOUT_WINDOW: Duration = Duration::minutes(15);
/// Wrong declaration codes one source may send within the window.
pub const MAX_WRONG_PER_SOURCE: i64 = 5;
/// Enrolments one venue accepts within the window (a leaked code cannot enrol a fleet).
pub const MAX_ENROLMENTS_PER_VENUE: i64 = 20;

/// The signed request an enrolment arrived in.
pub struct Signed<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub headers: &'a SignedHeaders,
    pub body: &'a [u8],
}

/// Proof of possession: the request is signed by `public_key` (hex), its device header is that
/// key's id, its time is current, and its nonce is spent. A key that is not one, or a header that
/// is not its id, proves nothing: 401. Returns the key and its device id.
fn prove_possession(
    store: &dyn Store,
    public_key: &str,
    signed: &Signed<'_>,
    now: DateTime<Utc>,
) -> Result<(PublicKey, String), ApiError> {
    let key = PublicKey::from_hex(public_key).map_err(|_| {
        ApiError::Unauthorized(
            "bad_public_key",
            "public_key must be an Ed25519 public key in 64 hex characters".into(),
        )
    })?;
    let device_id = sync::device_id(&key);
    if signed.headers.device != device_id {
        return Err(ApiError::Unauthorized(
            "bad_device_id",
            "the device header must be the key id of public_key".into(),
        ));
    }
    sync::verify_request(
        &key,
        signed.method,
        signed.path,
        signed.headers,
        signed.body,
        now,
    )?;
    auth::spend_nonce(store, &device_id, &signed.headers.nonce)?;
    Ok((key, device_id))
}

/// Checks and performs one enrolment at `now` (blocking: store calls).
pub fn enrol(
    store: &dyn Store,
    req: &EnrolRequest,
    signed: &Signed<'_>,
    source: &str,
    now: DateTime<Utc>,
) -> Result<EnrolResponse, ApiError> {
    if !is_declaration_code(&req.declaration_code) {
        return Err(ApiError::BadRequest(
            "bad_declaration_code",
            "the declaration code is the venue's 6 digits (场所申报码)".into(),
        ));
    }
    // As the API description says: at most 32 characters, not only spaces.
    let inspector = req.inspector.trim();
    if inspector.is_empty() || req.inspector.chars().count() > 32 {
        return Err(ApiError::BadRequest(
            "bad_inspector",
            "give the inspector's name (1 to 32 characters)".into(),
        ));
    }
    let (key, device_id) = prove_possession(store, &req.public_key, signed, now)?;
    let log = |outcome| {
        store.record_enrolment_attempt(
            &EnrolAttempt {
                source,
                declaration_code: &req.declaration_code,
                device_id: &device_id,
                outcome,
            },
            now,
        )
    };
    let since = now - LOCKOUT_WINDOW;
    let wrong =
        store.enrolment_attempts(AttemptKey::Source(source), AttemptOutcome::Refused, since)?;
    let enrolled = store.enrolment_attempts(
        AttemptKey::DeclarationCode(&req.declaration_code),
        AttemptOutcome::Enrolled,
        since,
    )?;
    if wrong >= MAX_WRONG_PER_SOURCE || enrolled >= MAX_ENROLMENTS_PER_VENUE {
        log(AttemptOutcome::Locked)?;
        return Err(ApiError::TooManyAttempts {
            retry_after_secs: LOCKOUT_WINDOW.num_seconds(),
        });
    }
    let device = match store.enrol(
        &NewDevice {
            declaration_code: &req.declaration_code,
            checkpoint_id: req.checkpoint_id.as_deref(),
            inspector,
            device_id: &device_id,
            public_key: &key.to_hex(),
        },
        now,
    ) {
        Ok(d) => {
            log(AttemptOutcome::Enrolled)?;
            d
        }
        Err(e) => {
            match &e {
                StoreError::UnknownDeclaration(_) => log(AttemptOutcome::Refused)?,
                StoreError::DeviceRevoked(_) => log(AttemptOutcome::Revoked)?,
                _ => {}
            }
            return Err(e.into());
        }
    };
    let venue = store
        .venue_info(&device.venue_id)?
        .ok_or_else(|| ApiError::NotFound("the venue vanished".into()))?;
    Ok(EnrolResponse {
        device_id: device.device_id,
        venue: venue.0,
        checkpoint_id: device.checkpoint_id,
        inspector: device.inspector,
    })
}

/// Checks and performs one device-key rotation at `now` (blocking: store calls). The request is
/// signed by the new key (possession); the old key's signature in the body is its consent; the
/// old key must be enrolled and active — or already handed to this same new key (a retry).
pub fn rotate(
    store: &dyn Store,
    req: &RotateKeyRequest,
    signed: &Signed<'_>,
    now: DateTime<Utc>,
) -> Result<RotateKeyResponse, ApiError> {
    if !sync::is_device_id(&req.old_device_id) {
        return Err(ApiError::BadRequest(
            "bad_device_id",
            "old_device_id is the old key's device id (16 hex characters)".into(),
        ));
    }
    let (key, device_id) = prove_possession(store, &req.public_key, signed, now)?;
    // The old key's consent, checked against the key the server holds for it.
    let old = store
        .device(&req.old_device_id)?
        .ok_or_else(|| StoreError::UnknownDevice(req.old_device_id.clone()))?;
    let consent = venuecode_core::keys::parse_hex(&req.old_signature)
        .ok()
        .zip(PublicKey::from_hex(&old.public_key).ok())
        .is_some_and(|(sig, old_key)| {
            old_key.verify(&sync::key_rotation_bytes(&old.device_id, &key), &sig)
        });
    if !consent {
        return Err(ApiError::Unauthorized(
            "bad_old_signature",
            "old_signature is not the old key's signature over the new key".into(),
        ));
    }
    let device = store.rotate_key(&old.device_id, &device_id, &key.to_hex(), now)?;
    Ok(RotateKeyResponse {
        device_id: device.device_id,
    })
}
