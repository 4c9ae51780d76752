//! Time on the station: retry backoff with full jitter, the clock offset from one round trip to
//! `/time`, and when an offset or a trust list is worth a warning.
//!
//! Invariant: pure — the random number and every time are arguments.

use chrono::{DateTime, Duration, Utc};

use super::{CLOCK_WARN, TRUST_STALE};

/// Exponential backoff with full jitter: attempt `n` (0-based) waits a uniformly random time in
/// `[0, min(cap, base · 2^n)]`. `unit` is a random number in `[0, 1)` from the caller.
pub fn backoff_delay(
    base: std::time::Duration,
    cap: std::time::Duration,
    attempt: u32,
    unit: f64,
) -> std::time::Duration {
    let ceiling = base
        .checked_mul(1u32 << attempt.min(20))
        .unwrap_or(cap)
        .min(cap);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

/// One round trip to `/time`: the station's clock when the request left and when the answer came
/// back, and the server's clock in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSample {
    pub sent: DateTime<Utc>,
    pub received: DateTime<Utc>,
    pub server: DateTime<Utc>,
}

impl ClockSample {
    /// Server clock minus station clock, assuming the answer was made half-way through the round
    /// trip (the NTP estimate); `None` when the round trip ran backwards (clock changed meanwhile).
    pub fn offset(&self) -> Option<Duration> {
        let rtt = self.received - self.sent;
        if rtt < Duration::zero() {
            return None;
        }
        Some(self.server - (self.sent + rtt / 2))
    }

    /// The round-trip time.
    pub fn round_trip(&self) -> Duration {
        self.received - self.sent
    }
}

/// Whether an offset is large enough to warn about.
pub fn clock_offset_warns(offset: Duration) -> bool {
    offset.abs() > CLOCK_WARN
}

/// Whether a trust list fetched at `fetched_at` is stale at `now`.
pub fn trust_is_stale(fetched_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    fetched_at.is_none_or(|t| now - t > TRUST_STALE)
}
