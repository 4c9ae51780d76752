//! `GET /api/v1/sync/pull`: what a station downloads — the trust list when newer, a page of
//! revocations from its cursor, its venue's entry and policy, the authority's sealing key, and
//! its credential for the venue's other stations on the LAN (a device certificate renewed on
//! every pull; none while the device waits for approval).
//!
//! Role: an enrolled, active (or pending) station, by its signed request.

use axum::extract::{OriginalUri, Query, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use base64::Engine;
use chrono::Utc;
use serde::Deserialize;
use venuecode_core::lan::{DeviceCert, LanCredential, CERT_LIFETIME};
use venuecode_core::sync::{PullResponse, REVOCATION_PAGE};
use venuecode_core::trust::RevocationDelta;

use crate::error::ApiError;
use crate::{auth, blocking, AppState};

/// Query of `GET /api/v1/sync/pull`.
#[derive(Debug, Deserialize)]
pub struct PullQuery {
    #[serde(default)]
    pub trust_version: u64,
    #[serde(default)]
    pub revocations_since: u64,
}

pub async fn pull(
    State(state): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    query: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PullResponse>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest("bad_query", e.body_text()))?;
    let device = auth::authenticate(&state, &method, &uri, &headers, &[]).await?;
    let store = state.store.clone();
    let venue_id = device.venue_id.clone();
    let (venue, revoked) = blocking(move || {
        let venue = store
            .venue_info(&venue_id)?
            .ok_or_else(|| ApiError::NotFound(format!("venue {venue_id} is not registered")))?;
        Ok((
            venue,
            store.revocations_since(q.revocations_since, REVOCATION_PAGE)?,
        ))
    })
    .await?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let (trust_version, trust_list) = match &state.keys {
        Some(k) => (
            k.server.trust.version,
            (k.server.trust.version > q.trust_version).then(|| b64.encode(&k.server.trust_bytes)),
        ),
        None => (0, None),
    };
    let revocations = RevocationDelta {
        since: q.revocations_since,
        until: revoked.until,
        entries: revoked.entries,
        more: revoked.more,
    };
    let now = Utc::now();
    let lan = match &state.keys {
        Some(k) if !device.pending => Some(LanCredential::issue(
            &k.server.key,
            &k.server.delegation_bytes,
            &DeviceCert {
                device_id: device.device_id.clone(),
                public_key: device.public_key.clone(),
                venue_id: device.venue_id.clone(),
                checkpoint_id: device.checkpoint_id.clone(),
                not_before: now - chrono::Duration::minutes(10),
                not_after: now + CERT_LIFETIME,
            },
        )),
        _ => None,
    };
    Ok(Json(PullResponse {
        server_time: now,
        venue: venue.0,
        checkpoint_id: device.checkpoint_id,
        inspector: device.inspector,
        policy: venue.1,
        trust_version,
        trust_list,
        revocations,
        pending: device.pending,
        seal_key: state.tracing.as_ref().map(|k| k.seal_public_hex()),
        lan,
    }))
}
