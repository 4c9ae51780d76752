//! Device authentication of signed requests: the device must be enrolled and active, the
//! signature must match its key over method, path, time, nonce and body, the time must be within
//! the window, and the nonce unused.
//!
//! Invariants: the signature is checked before the nonce is recorded, so unsigned noise cannot
//! fill the nonce table; a nonce is remembered for twice the request window, longer than any
//! request carrying it can pass the time check.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, Method, Uri};
use chrono::Utc;
use venuecode_core::keys::PublicKey;
use venuecode_core::sync::{self, AuthError, SignedHeaders};

use crate::error::ApiError;
use crate::store::{Device, Store};
use crate::AppState;

/// Signed requests one device may make per minute (a station syncs every few seconds at most;
/// retries with backoff stay far below this).
pub const DEVICE_REQUESTS_PER_MINUTE: u32 = 600;

/// Records one device may upload per hour: a busy gate scans a few thousand people an hour;
/// a device sending more is a rogue (or a benchmark, which raises it).
pub const DEVICE_RECORDS_PER_HOUR: u32 = 20_000;

/// Counts what each authenticated device sends per fixed window (requests per minute, records
/// per hour: the caller numbers the windows), in memory: a limit per server process.
pub struct DeviceLimiter {
    limit: u32,
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl DeviceLimiter {
    /// At most `limit` units per device per window.
    pub fn new(limit: u32) -> DeviceLimiter {
        DeviceLimiter {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `device` in window `minute`; false when over the limit.
    pub fn allow(&self, device: &str, minute: i64) -> bool {
        self.allow_n(device, minute, 1)
    }

    /// Counts `n` units (requests, records) of `device` in window `window`; false when that
    /// takes it over the limit (the units are counted either way).
    pub fn allow_n(&self, device: &str, window: i64, n: usize) -> bool {
        let Ok(mut w) = self.windows.lock() else {
            return true;
        };
        if w.len() > 100_000 {
            w.retain(|_, (at, _)| *at == window);
        }
        let slot = w.entry(device.to_string()).or_insert((window, 0));
        if slot.0 != window {
            *slot = (window, 0);
        }
        slot.1 = slot.1.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        slot.1 <= self.limit
    }
}

/// The signing headers of a request (parsed and shape-checked in core).
pub fn signed_headers(headers: &HeaderMap) -> Result<SignedHeaders, AuthError> {
    sync::parse_signed_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()))
}

/// What the headers alone establish: an enrolled, active device and a request time inside the
/// window. The body is read only after this.
pub struct Preauthenticated {
    device: Device,
    key: PublicKey,
    signed: SignedHeaders,
}

impl Preauthenticated {
    /// The device waits for its venue administrator's approval: it may pull (verify codes,
    /// keep check-ins locally) but not upload.
    pub fn pending(&self) -> bool {
        self.device.pending
    }

    /// The device's id.
    pub fn device_id(&self) -> &str {
        &self.device.device_id
    }
}

/// Checks what needs no body: header shapes, the device (enrolled, not revoked), the time.
pub async fn preauthenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Preauthenticated, ApiError> {
    let signed = signed_headers(headers)?;
    sync::check_request_time(&signed, Utc::now())?;
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
    Ok(Preauthenticated {
        device,
        key,
        signed,
    })
}

/// Authenticates a signed request and returns the device that made it.
pub async fn authenticate(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Device, ApiError> {
    let pre = preauthenticate(state, headers).await?;
    finish(state, pre, method, uri, body).await
}

/// The rest of authentication once the body is in: the signature, the per-device request
/// limit, then (only then) the nonce is spent.
pub async fn finish(
    state: &AppState,
    pre: Preauthenticated,
    method: &Method,
    uri: &Uri,
    body: &[u8],
) -> Result<Device, ApiError> {
    let Preauthenticated {
        device,
        key,
        signed,
    } = pre;
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("");
    let now = Utc::now();
    sync::verify_request(&key, method.as_str(), path, &signed, body, now)?;
    if !state
        .device_limiter
        .allow(&device.device_id, now.timestamp().div_euclid(60))
    {
        return Err(ApiError::RateLimited(
            device.device_id.clone(),
            DEVICE_REQUESTS_PER_MINUTE,
        ));
    }
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
