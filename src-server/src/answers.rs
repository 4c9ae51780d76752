//! Signed answers: a middleware that signs every answer to a request carrying a station nonce
//! (signed requests and `/time` alike) with the server's delegated key, over the request's path,
//! the nonce, the status, the server's time and the body (`venuecode_core::sync::answer`).
//!
//! Invariants: an answer is signed after the handler made it, whole — status, errors included —
//! so a station can act on nothing an attacker on the network wrote; without server keys nothing
//! is signed and stations refuse the answers; the signing time is read here, at the edge.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use venuecode_core::sync::{
    self, HEADER_ANSWER_SIGNATURE, HEADER_ANSWER_TIME, HEADER_DELEGATION, HEADER_NONCE,
    HEADER_ROOT_CHAIN,
};

use crate::AppState;

/// Largest answer body the server signs (a page of revocations and a trust list fit easily).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Signs the answer when the request carried a well-formed nonce and the server has keys.
pub async fn sign_answers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let nonce = req
        .headers()
        .get(HEADER_NONCE)
        .and_then(|v| v.to_str().ok())
        .filter(|n| sync::check_nonce(n).is_ok())
        .map(str::to_string);
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let res = next.run(req).await;
    let (Some(nonce), Some(keys)) = (nonce, state.keys.clone()) else {
        return res;
    };
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_ANSWER_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("an answer could not be buffered for signing: {e}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let unix_ms = Utc::now().timestamp_millis();
    let signature = sync::sign_answer(
        &keys.server.key,
        &path,
        &nonce,
        parts.status.as_u16(),
        unix_ms,
        &bytes,
    );
    let h = &mut parts.headers;
    h.insert(HEADER_DELEGATION, keys.delegation_header.clone());
    if let Some(chain) = &keys.root_chain_header {
        h.insert(HEADER_ROOT_CHAIN, chain.clone());
    }
    h.insert(HEADER_ANSWER_TIME, HeaderValue::from(unix_ms));
    if let Ok(v) = HeaderValue::from_str(&signature) {
        h.insert(HEADER_ANSWER_SIGNATURE, v);
    }
    Response::from_parts(parts, Body::from(bytes))
}
