//! Device authentication of signed requests: the device must be enrolled and active, the
//! signature must match its key over method, path, time, nonce and body, the time must be within
//! the window, and the nonce unused.
//!
//! Invariants: the signature is checked before the nonce is recorded, so unsigned noise cannot
//! fill the nonce table; a nonce is remembered for twice the request window, longer than any
//! request carrying it can pass the time check.

use axum::http::{HeaderMap, Method, Uri};
use chrono::Utc;
use venuecode_core::keys::PublicKey;
use venuecode_core::sync::{self, AuthError, SignedHeaders};

use crate::error::ApiError;
use crate::store::{Device, Store};
use crate::AppState;

/// The signing headers of a request (parsed and shape-checked in core).
pub fn signed_headers(headers: &HeaderMap) -> Result<SignedHeaders, AuthError> {
    sync::parse_signed_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()))
}

/// Authenticates a signed request and returns the device that made it.
pub async fn authenticate(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Device, ApiError> {
    let signed = signed_headers(headers)?;
    let store = state.store.clone();
    let id = signed.device.clone();
    let device = tokio::task::spawn_blocking(move || store.device(&id))
        .await??
        .ok_or_else(|| ApiError::UnknownDevice(signed.device.clone()))?;
    if device.revoked {
        return Err(ApiError::Revoked(device.device_id));
    }
    let key = PublicKey::from_hex(&device.public_key)
        .map_err(|_| ApiError::UnknownDevice(device.device_id.clone()))?;
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("");
    sync::verify_request(&key, method.as_str(), path, &signed, body, Utc::now())?;
    let store = state.store.clone();
    let id = device.device_id.clone();
    tokio::task::spawn_blocking(move || spend_nonce(store.as_ref(), &id, &signed.nonce)).await??;
    Ok(device)
}

/// Records a verified request's nonce; a second use is a replay. Blocking (store call).
pub(crate) fn spend_nonce(store: &dyn Store, device_id: &str, nonce: &str) -> Result<(), ApiError> {
    let now = Utc::now();
    if store.use_nonce(device_id, nonce, now, now - sync::REQUEST_SKEW * 2)? {
        Ok(())
    } else {
        Err(ApiError::Replayed)
    }
}
