//! Request signing: the bytes a device signs (method, path and query, device, time, nonce, body
//! hash), the signing headers, and the server's check of them.
//!
//! Invariants: header shapes are checked before any value is used; time arithmetic saturates and
//! never wraps into the accepted window; a changed byte of any signed part fails verification.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{device_id, HEADER_DEVICE, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIME, REQUEST_SKEW};
use crate::keys::{hex, PublicKey, SecretKey};

/// The bytes a device signs for one request.
pub fn signing_bytes(
    method: &str,
    path_and_query: &str,
    device: &str,
    unix_ms: i64,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    format!(
        "VC-REQ-1\n{}\n{path_and_query}\n{device}\n{unix_ms}\n{nonce}\n{}",
        method.to_ascii_uppercase(),
        hex(&Sha256::digest(body))
    )
    .into_bytes()
}

/// The four header values of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub device: String,
    pub unix_ms: i64,
    pub nonce: String,
    pub signature: String,
}

/// Signs a request; `nonce` must be fresh for every attempt (16+ random bytes, hex).
pub fn sign_request(
    key: &SecretKey,
    method: &str,
    path_and_query: &str,
    unix_ms: i64,
    nonce: &str,
    body: &[u8],
) -> SignedHeaders {
    let device = device_id(&key.public());
    let sig = key.sign(&signing_bytes(
        method,
        path_and_query,
        &device,
        unix_ms,
        nonce,
        body,
    ));
    SignedHeaders {
        device,
        unix_ms,
        nonce: nonce.to_string(),
        signature: hex(&sig),
    }
}

/// Why a signed request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("the request is not signed: header {0} is missing or not text")]
    Missing(&'static str),
    #[error("header {0} is malformed")]
    Malformed(&'static str),
    #[error("the request time is {off_secs} s away from the server's clock (allowed ±{allowed_secs} s): correct the station's clock")]
    Skewed { off_secs: i64, allowed_secs: i64 },
    #[error("the signature does not match the device's key")]
    BadSignature,
}

impl AuthError {
    /// A stable code for the wire.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing(_) | AuthError::Malformed(_) => "unsigned",
            AuthError::Skewed { .. } => "clock_skew",
            AuthError::BadSignature => "bad_signature",
        }
    }
}

/// Reads the signing headers of a request; `get` looks a header up by (lowercase) name and
/// gives its text, if it has one. Shapes are checked here (device id: 16 hex characters; time:
/// decimal milliseconds; nonce: 16–64 hex; signature: hex), values by [`verify_request`].
pub fn parse_signed_headers<'a>(
    get: impl Fn(&'static str) -> Option<&'a str>,
) -> Result<SignedHeaders, AuthError> {
    let header = |name| get(name).ok_or(AuthError::Missing(name));
    let device = header(HEADER_DEVICE)?;
    if device.len() != 16 || !device.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AuthError::Malformed(HEADER_DEVICE));
    }
    let time = header(HEADER_TIME)?;
    if time.is_empty() || time.len() > 19 || !time.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthError::Malformed(HEADER_TIME));
    }
    let unix_ms = time
        .parse()
        .map_err(|_| AuthError::Malformed(HEADER_TIME))?;
    let nonce = header(HEADER_NONCE)?;
    check_nonce(nonce)?;
    let signature = header(HEADER_SIGNATURE)?;
    if signature.len() != 128 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AuthError::Malformed(HEADER_SIGNATURE));
    }
    Ok(SignedHeaders {
        device: device.to_string(),
        unix_ms,
        nonce: nonce.to_string(),
        signature: signature.to_string(),
    })
}

/// Checks the shape of a nonce: 16–64 hex characters.
pub fn check_nonce(nonce: &str) -> Result<(), AuthError> {
    if (16..=64).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(AuthError::Malformed(HEADER_NONCE))
    }
}

/// Checks a request's time against the server's clock (the part of [`verify_request`] that needs
/// no body: the server runs it before it reads one).
pub fn check_request_time(headers: &SignedHeaders, now: DateTime<Utc>) -> Result<(), AuthError> {
    // Saturating and unsigned: a time of i64::MIN must not wrap back into the window.
    let off_ms = headers.unix_ms.saturating_sub(now.timestamp_millis());
    if off_ms.unsigned_abs() > REQUEST_SKEW.num_milliseconds().unsigned_abs() {
        return Err(AuthError::Skewed {
            off_secs: off_ms / 1000,
            allowed_secs: REQUEST_SKEW.num_seconds(),
        });
    }
    Ok(())
}

/// Checks a signed request against the device's key and the server's clock.
pub fn verify_request(
    key: &PublicKey,
    method: &str,
    path_and_query: &str,
    headers: &SignedHeaders,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    check_nonce(&headers.nonce)?;
    check_request_time(headers, now)?;
    let sig = crate::keys::parse_hex(&headers.signature)
        .map_err(|_| AuthError::Malformed(HEADER_SIGNATURE))?;
    let bytes = signing_bytes(
        method,
        path_and_query,
        &headers.device,
        headers.unix_ms,
        &headers.nonce,
        body,
    );
    if key.verify(&bytes, &sig) {
        Ok(())
    } else {
        Err(AuthError::BadSignature)
    }
}
