//! Request bodies: read whole up to the upload limit, or drained and dropped when the request is
//! refused before its body is wanted (a lingering close), so a client still sending reads the
//! answer instead of a reset connection.
//!
//! Invariants: nothing beyond [`MAX_BODY_BYTES`] is ever kept; draining stops at that many bytes
//! or after [`LINGER`], whichever comes first.

use axum::body::Bytes;
use venuecode_core::sync::MAX_BODY_BYTES;

use crate::error::ApiError;

/// How long a refused request's unread body is drained before the connection closes.
const LINGER: std::time::Duration = std::time::Duration::from_secs(2);

/// Reads and drops what is left of a refused request's body — at most [`MAX_BODY_BYTES`], for at
/// most [`LINGER`] — so a client still sending reads the answer instead of a reset connection
/// (what web servers call a lingering close). Nothing is kept.
pub async fn linger(mut body: axum::body::Body) {
    use http_body_util::BodyExt;
    let _ = tokio::time::timeout(LINGER, async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |d| d.len());
            if seen > MAX_BODY_BYTES {
                break;
            }
        }
    })
    .await;
}

/// Reads a body of at most [`MAX_BODY_BYTES`]; a longer one is refused (413) after the rest is
/// drained like a refused request's ([`linger`]).
pub async fn read_body(mut body: axum::body::Body) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt;
    let mut kept = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::BadRequest("bad_body", format!("the body could not be read: {e}"))
        })?;
        if let Some(d) = frame.data_ref() {
            if kept.len() + d.len() > MAX_BODY_BYTES {
                linger(body).await;
                return Err(ApiError::TooLarge(MAX_BODY_BYTES));
            }
            kept.extend_from_slice(d);
        }
    }
    Ok(Bytes::from(kept))
}
