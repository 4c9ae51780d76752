//! The server's error type and its HTTP mapping: 4xx with a stable code and a message a person can
//! act on for the caller's mistakes, 503 when the database is unreachable (the station retries),
//! and an opaque 500 (logged with its cause) for ours.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use venuecode_core::sync::{AuthError, BatchError, ErrorBody};

use crate::store::StoreError;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    #[error("{1}")]
    BadRequest(&'static str, String),
    /// Authentication failed for a reason of the request's own (401 with this code).
    #[error("{1}")]
    Unauthorized(&'static str, String),
    /// Well-formed but not acceptable (422 with this code).
    #[error("{1}")]
    Unprocessable(&'static str, String),
    #[error("the request body is larger than {0} bytes; send smaller batches")]
    TooLarge(usize),
    #[error("{0}")]
    Auth(#[from] AuthError),
    #[error("device {0} is not enrolled: enrol it with the venue's declaration code")]
    UnknownDevice(String),
    #[error("device {0} has been revoked: ask the venue's manager")]
    Revoked(String),
    #[error("device {0} waits for the venue administrator's approval (成员管理)")]
    DevicePending(String),
    #[error("this request was already received (same nonce): a replay is not stored again")]
    Replayed,
    #[error("{0}")]
    Batch(#[from] BatchError),
    #[error("too many failed enrolment attempts from here or for this venue: wait {retry_after_secs} s, then check the declaration code")]
    TooManyAttempts { retry_after_secs: i64 },
    #[error("too many failed sign-ins in a row: the account is locked, wait {retry_after_secs} s")]
    AccountLocked { retry_after_secs: i64 },
    /// A form with problems (422 with this code and every problem, field by field).
    #[error("the form has {} problem(s): see problems", .1.len())]
    Invalid(&'static str, Vec<venuecode_core::application::Problem>),
    /// Signed in, but this person's role or scope does not reach what was asked (403).
    #[error("{0}")]
    Forbidden(String),
    #[error("the server is at capacity: retry in a moment")]
    Overloaded,
    #[error("device {0} sent more than {1} requests in a minute: slow down")]
    RateLimited(String, u32),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Disabled(&'static str),
    #[error("storage failure: {0}")]
    Store(#[from] StoreError),
    #[error("worker task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("{0}")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut rejected = Vec::new();
        let problems = match &self {
            ApiError::Invalid(_, p) => p.clone(),
            _ => Vec::new(),
        };
        let (status, code) = match &self {
            ApiError::BadRequest(code, _) => (StatusCode::BAD_REQUEST, *code),
            ApiError::Unauthorized(code, _) => (StatusCode::UNAUTHORIZED, *code),
            ApiError::Unprocessable(code, _) => (StatusCode::UNPROCESSABLE_ENTITY, *code),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::Auth(e) => (StatusCode::UNAUTHORIZED, e.code()),
            ApiError::UnknownDevice(_) => (StatusCode::UNAUTHORIZED, "unknown_device"),
            ApiError::Revoked(_) => (StatusCode::FORBIDDEN, "device_revoked"),
            ApiError::DevicePending(_) => (StatusCode::FORBIDDEN, "device_pending"),
            ApiError::Replayed => (StatusCode::CONFLICT, "replayed"),
            ApiError::Batch(e) => {
                rejected.extend(e.record_id().map(str::to_string));
                (StatusCode::UNPROCESSABLE_ENTITY, e.code())
            }
            ApiError::TooManyAttempts { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
            }
            ApiError::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            ApiError::AccountLocked { .. } => (StatusCode::TOO_MANY_REQUESTS, "account_locked"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Invalid(code, _) => (StatusCode::UNPROCESSABLE_ENTITY, *code),
            ApiError::Store(StoreError::NotPending(_)) => (StatusCode::CONFLICT, "not_pending"),
            ApiError::Store(StoreError::DuplicateApplication(_)) => {
                (StatusCode::CONFLICT, "duplicate_application")
            }
            ApiError::Store(StoreError::UsernameTaken(_)) => {
                (StatusCode::CONFLICT, "username_taken")
            }
            ApiError::RateLimited(..) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Disabled(_) => (StatusCode::NOT_FOUND, "disabled"),
            ApiError::Store(StoreError::UnknownDeclaration(_)) => {
                (StatusCode::NOT_FOUND, "unknown_declaration_code")
            }
            ApiError::Store(StoreError::UnknownCheckpoint { .. }) => {
                (StatusCode::NOT_FOUND, "unknown_checkpoint")
            }
            ApiError::Store(StoreError::DeviceRevoked(_)) => {
                (StatusCode::FORBIDDEN, "device_revoked")
            }
            ApiError::Store(StoreError::EnrolledElsewhere(_)) => {
                (StatusCode::CONFLICT, "enrolled_elsewhere")
            }
            ApiError::Store(StoreError::KeyInUse(_)) => (StatusCode::CONFLICT, "key_in_use"),
            ApiError::Store(StoreError::CheckpointNameTaken(_)) => {
                (StatusCode::CONFLICT, "checkpoint_name_taken")
            }
            ApiError::Store(StoreError::NotAVenueAdmin(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "not_a_venue_admin")
            }
            ApiError::Store(StoreError::UnknownDevice(_)) => {
                (StatusCode::UNAUTHORIZED, "unknown_device")
            }
            ApiError::Store(StoreError::WindowTooLong { .. }) => {
                (StatusCode::BAD_REQUEST, "bad_window")
            }
            ApiError::Store(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            ApiError::Store(_) | ApiError::Join(_) | ApiError::Internal(_) => {
                tracing::error!(error = %self, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let retry_after = match &self {
            ApiError::TooManyAttempts { retry_after_secs }
            | ApiError::AccountLocked { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let message = match status {
            StatusCode::INTERNAL_SERVER_ERROR => {
                "internal error; the server log has the cause".to_string()
            }
            StatusCode::SERVICE_UNAVAILABLE if !matches!(self, ApiError::Overloaded) => {
                "the database is unavailable; retry shortly".to_string()
            }
            _ => self.to_string(),
        };
        let mut res = (
            status,
            Json(ErrorBody {
                error: code.to_string(),
                message,
                rejected,
                problems,
            }),
        )
            .into_response();
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.max(1).into());
        }
        res
    }
}
