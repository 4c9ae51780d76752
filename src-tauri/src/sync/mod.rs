//! The station's sync client: enrolment, and a background worker that uploads the outbox in
//! batches (alerts first) and pulls the trust list, revocations, the venue's registry entry,
//! policy and server time, retrying with exponential backoff and jitter.
//!
//! Invariants: an outbox record is marked sent only when the server acknowledged its id (a lost
//! answer means it is sent again, and the server's idempotent store keeps it once); a record the
//! server refuses for its content is set aside with the reason, never deleted; every attempt is
//! signed afresh (new nonce, clock-corrected time); a trust list or revocation delta is kept only
//! after its root signature checked out; the worker owns its own database connection and never
//! blocks the UI.//!
//! Files: this one holds the configuration and errors; `client.rs` the HTTP side (signed
//! requests, upload, pull, the relay), `enrolment.rs` (enrolment, key rotation), `worker.rs` the background worker (rounds, settling
//! batches, pulling), `status.rs` what the UI is shown.

mod client;
mod enrolment;
mod phone;
mod status;
mod time;
mod worker;

use std::time::Duration as StdDuration;

use chrono::Duration;
use venuecode_core::sync::ErrorBody;
use venuecode_ipc::SyncProblem;

use crate::error::AppError;

pub use client::{Client, Transport, UploadOutcome};
pub use enrolment::{enrol, new_device_key, rotate_device_key, station_root, Enrolment};
pub use status::SyncStatus;
pub use time::{system_clock, OsClock, TimeKeeper};
pub use worker::SyncHandle;

/// How the worker paces itself.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Records per upload.
    pub batch_size: usize,
    /// First retry delay; doubles per failed attempt (full jitter).
    pub backoff_base: StdDuration,
    /// Longest retry delay after the server answered with an error (it may be overloaded).
    pub backoff_cap: StdDuration,
    /// Longest wait while the server cannot be reached at all: an offline station probes this
    /// often (with jitter), so it syncs within this long of the network coming back.
    pub offline_probe: StdDuration,
    /// Pause between rounds when all is sent.
    pub idle: StdDuration,
    /// How often to pull (trust list, revocations, registry, policy).
    pub pull_every: Duration,
    /// Per-request time limit.
    pub request_timeout: StdDuration,
    /// Plain HTTP allowed (development flag `VENUECODE_ALLOW_HTTP=1`; never in production).
    pub allow_http: bool,
    /// A device key older than this is replaced (`POST /api/v1/devices/rotate`).
    pub key_max_age: Duration,
    /// Presence shared between the venue's gates: the server's relay, the LAN exchange.
    pub presence: crate::presence::PresenceConfig,
}

/// How long a device key serves before the station replaces it.
pub const DEVICE_KEY_MAX_AGE: Duration = Duration::days(180);

impl Default for SyncConfig {
    fn default() -> SyncConfig {
        SyncConfig {
            batch_size: 500,
            backoff_base: StdDuration::from_millis(500),
            backoff_cap: StdDuration::from_secs(60),
            offline_probe: StdDuration::from_secs(2),
            idle: StdDuration::from_secs(30),
            pull_every: Duration::minutes(5),
            request_timeout: StdDuration::from_secs(20),
            allow_http: false,
            key_max_age: DEVICE_KEY_MAX_AGE,
            presence: crate::presence::PresenceConfig::default(),
        }
    }
}

/// What went wrong talking to the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    #[error("no server is configured")]
    NoServer,
    #[error("the station is not enrolled")]
    NotEnrolled,
    #[error("server unreachable: {0}")]
    Network(String),
    #[error("{0}")]
    Random(String),
    #[error("server answered {status} {}: {}", body.error, body.message)]
    Server { status: u16, body: ErrorBody },
    #[error("server answer not understood: {0}")]
    Decode(String),
    #[error("{0}")]
    Trust(String),
    #[error("an answer failed verification (altered, replayed or forged on the way): {0}")]
    Untrusted(String),
    #[error(transparent)]
    Store(#[from] AppError),
}

impl SyncError {
    /// Errors that retrying will not fix until someone acts (re-enrol, new root key).
    pub fn needs_person(&self) -> bool {
        match self {
            SyncError::NoServer | SyncError::NotEnrolled | SyncError::Trust(_) => true,
            SyncError::Server { body, .. } => {
                matches!(body.error.as_str(), "unknown_device" | "device_revoked")
            }
            _ => false,
        }
    }

    /// What the status bar says about it (exhaustive over our own errors; the server's codes are
    /// named where the station acts on them, the rest are `ServerRefused` with their code).
    pub fn problem(&self) -> SyncProblem {
        match self {
            SyncError::NoServer => SyncProblem::NoServer,
            SyncError::NotEnrolled => SyncProblem::NotEnrolled,
            SyncError::Network(_) => SyncProblem::Offline,
            SyncError::Random(_) => SyncProblem::Internal,
            SyncError::Decode(_) => SyncProblem::BadAnswer,
            SyncError::Trust(_) => SyncProblem::TrustInvalid,
            SyncError::Untrusted(_) => SyncProblem::Untrusted,
            SyncError::Store(_) => SyncProblem::Storage,
            SyncError::Server { status, body } => match (body.error.as_str(), status) {
                ("unknown_device", _) => SyncProblem::UnknownDevice,
                ("device_revoked", _) => SyncProblem::DeviceRevoked,
                ("device_pending", _) => SyncProblem::DevicePending,
                ("clock_skew", _) => SyncProblem::ClockSkew,
                (_, 503) => SyncProblem::ServerUnavailable,
                _ => SyncProblem::ServerRefused,
            },
        }
    }

    /// The stable code the UI shows.
    pub fn code(&self) -> String {
        match self {
            SyncError::NoServer => "no_server".into(),
            SyncError::NotEnrolled => "not_enrolled".into(),
            SyncError::Network(_) => "offline".into(),
            SyncError::Server { body, .. } => body.error.clone(),
            SyncError::Decode(_) => "bad_answer".into(),
            SyncError::Trust(_) => "trust_invalid".into(),
            SyncError::Untrusted(_) => "untrusted_answer".into(),
            SyncError::Store(_) => "storage".into(),
            SyncError::Random(_) => "internal".into(),
        }
    }
}

impl From<SyncError> for venuecode_ipc::IpcError {
    fn from(e: SyncError) -> venuecode_ipc::IpcError {
        use venuecode_ipc::ErrorCode;
        if let SyncError::Store(inner) = e {
            return inner.into();
        }
        let code = match &e {
            SyncError::NoServer | SyncError::Network(_) => ErrorCode::Offline,
            SyncError::Server { body, .. } if body.error == "unknown_declaration_code" => {
                ErrorCode::UnknownDeclaration
            }
            SyncError::Server { status: 400, .. } => ErrorCode::Invalid,
            _ => ErrorCode::ServerRefused,
        };
        venuecode_ipc::IpcError {
            code,
            detail: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn status_warns_about_a_far_clock_and_a_stale_trust_list() {
        let now = Utc::now();
        let fresh = SyncStatus {
            online: true,
            enrolled: true,
            clock_offset: Duration::seconds(42),
            trust_fetched_at: Some(now - Duration::hours(47)),
            last_success: Some(now - Duration::seconds(90)),
            ..SyncStatus::default()
        };
        let w = fresh.to_wire(now);
        assert!(!w.clock_warn && !w.trust_stale);
        assert_eq!(w.clock_offset_secs, 42);
        assert_eq!(w.last_sync_secs, Some(90));
        assert_eq!(w.trust_age_secs, Some(47 * 3600));
        let off = SyncStatus {
            clock_offset: Duration::minutes(-7),
            trust_fetched_at: Some(now - Duration::hours(49)),
            ..fresh
        };
        let w = off.to_wire(now);
        assert!(w.clock_warn && w.trust_stale);
        assert_eq!(w.clock_offset_secs, -420);
        assert!(
            SyncStatus::default().to_wire(now).trust_stale,
            "no list at all is stale"
        );
    }

    #[test]
    fn server_refusals_map_to_codes_the_ui_knows() {
        let refused = |error: &str, status| SyncError::Server {
            status,
            body: ErrorBody {
                error: error.into(),
                message: "m".into(),
                rejected: vec![],
                problems: vec![],
            },
        };
        let ipc = |e: SyncError| venuecode_ipc::IpcError::from(e).code;
        use venuecode_ipc::ErrorCode;
        assert_eq!(ipc(SyncError::Network("x".into())), ErrorCode::Offline);
        assert_eq!(
            ipc(refused("unknown_declaration_code", 404)),
            ErrorCode::UnknownDeclaration
        );
        assert_eq!(ipc(refused("bad_inspector", 400)), ErrorCode::Invalid);
        assert_eq!(
            ipc(refused("device_revoked", 403)),
            ErrorCode::ServerRefused
        );
        assert!(refused("device_revoked", 403).needs_person());
        assert!(!refused("unavailable", 503).needs_person());
    }
}
