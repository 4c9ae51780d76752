//! What the station UI is shown about sync, and its wire form.

use chrono::{DateTime, Duration, Utc};
use venuecode_core::sync::{self as wire};

/// What the station UI shows about sync.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncStatus {
    pub server_url: Option<String>,
    pub enrolled: bool,
    pub device_id: Option<String>,
    /// The last round reached the server.
    pub online: bool,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The failure in full, for logs and support (not shown to inspectors).
    pub last_detail: Option<String>,
    /// What the UI says about `last_error`.
    pub last_problem: Option<venuecode_ipc::SyncProblem>,
    /// Server clock minus station clock.
    pub clock_offset: Duration,
    pub trust_fetched_at: Option<DateTime<Utc>>,
    pub trust_version: u64,
    pub waiting: i64,
    pub rejected: i64,
    /// Unacknowledged records older than the retention window (see `Store::overdue_unsent`).
    pub overdue: i64,
    pub sent_total: u64,
    /// Answers refused because they did not verify (tampering on the way), since start.
    pub refused_answers: u64,
    /// The last refused answer: when, and why in full.
    pub last_refused: Option<(DateTime<Utc>, String)>,
    /// The station's freshness (time set back, unverified, stale, blocked), as last computed.
    pub freshness: venuecode_core::sync::Freshness,
    /// The last pull said the device waits for its venue administrator's approval.
    pub pending: bool,
}

impl SyncStatus {
    /// The status as the UI shows it at `now`.
    pub fn to_wire(&self, now: DateTime<Utc>) -> venuecode_ipc::SyncStatus {
        venuecode_ipc::SyncStatus {
            server_url: self.server_url.clone(),
            enrolled: self.enrolled,
            device_id: self.device_id.clone(),
            online: self.online,
            waiting: self.waiting,
            rejected: self.rejected,
            overdue: self.overdue,
            last_sync_secs: self.last_success.map(|t| (now - t).num_seconds().max(0)),
            trust_age_secs: self
                .trust_fetched_at
                .map(|t| (now - t).num_seconds().max(0)),
            trust_stale: wire::trust_is_stale(self.trust_fetched_at, now) || self.freshness.stale,
            clock_offset_secs: self.clock_offset.num_seconds(),
            clock_warn: wire::clock_offset_warns(self.clock_offset),
            clock_set_back: self.freshness.set_back,
            time_unverified: self.freshness.unverified && self.enrolled,
            blocked: self.freshness.blocked,
            // A refused (tampered) answer stays on screen for ten minutes even when rounds in
            // between succeed: an attacker who tampers now and then must not go unseen.
            last_error: self.last_problem.or_else(|| {
                if self.pending {
                    return Some(venuecode_ipc::SyncProblem::DevicePending);
                }
                self.last_refused
                    .as_ref()
                    .filter(|(at, _)| now - *at < Duration::minutes(10))
                    .map(|_| venuecode_ipc::SyncProblem::Untrusted)
            }),
            last_error_code: self.last_error.clone(),
        }
    }
}
