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

/// How far the operating system's clock may lag trusted time before the station says the clock
/// was set back.
pub const SET_BACK_WARN: Duration = Duration::minutes(2);

/// The station's trusted time: anchored at the last signed server time (or, before one arrives
/// in this run, at the later of the OS clock and the persisted floor) and advanced by a monotonic
/// clock, never below the floor. The OS clock only ever moves trusted time forward, and only
/// before the first signed time of a run; a signed time is the one thing that can move it back
/// (a floor pushed ahead by an OS clock set forward is corrected by the server).
///
/// `mono_ms` arguments are readings of a monotonic clock (milliseconds since any fixed point in
/// this run); they never go backwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedClock {
    anchor: DateTime<Utc>,
    anchor_mono_ms: u64,
    floor: DateTime<Utc>,
    last_signed: Option<DateTime<Utc>>,
}

/// What the station shows about its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeReading {
    /// Trusted time: what codes are checked against.
    pub now: DateTime<Utc>,
    /// The OS clock is behind trusted time by more than [`SET_BACK_WARN`].
    pub set_back: bool,
    /// No signed server time for longer than the policy allows (or never).
    pub unverified: bool,
    /// The last signed server time this station accepted.
    pub last_signed: Option<DateTime<Utc>>,
}

/// Why a signed time was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server's signed time {got} is older than one it signed before ({held}): refused as a replayed or rolled-back answer")]
pub struct TimeWentBack {
    pub held: DateTime<Utc>,
    pub got: DateTime<Utc>,
}

impl TrustedClock {
    /// The clock at start-up: `floor` and `last_signed` as persisted (the floor already raised to
    /// the newest local record by the caller), the OS clock now, the monotonic reading now.
    pub fn start(
        floor: Option<DateTime<Utc>>,
        last_signed: Option<DateTime<Utc>>,
        os_now: DateTime<Utc>,
        mono_ms: u64,
    ) -> TrustedClock {
        let floor = floor
            .into_iter()
            .chain(last_signed)
            .max()
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        TrustedClock {
            anchor: os_now.max(floor),
            anchor_mono_ms: mono_ms,
            floor,
            last_signed,
        }
    }

    /// Trusted time at monotonic reading `mono_ms`.
    pub fn now(&self, mono_ms: u64) -> DateTime<Utc> {
        let elapsed = mono_ms.saturating_sub(self.anchor_mono_ms);
        let elapsed = i64::try_from(elapsed)
            .ok()
            .and_then(Duration::try_milliseconds)
            .unwrap_or(Duration::MAX);
        self.anchor
            .checked_add_signed(elapsed)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
            .max(self.floor)
    }

    /// Takes a verified server time (received at `mono_ms`) as the new anchor. A time older than
    /// the last signed one (beyond a second's jitter between answers) is refused.
    pub fn signed(&mut self, server: DateTime<Utc>, mono_ms: u64) -> Result<(), TimeWentBack> {
        if let Some(held) = self.last_signed {
            if server < held - Duration::seconds(1) {
                return Err(TimeWentBack { held, got: server });
            }
        }
        self.anchor = server;
        self.anchor_mono_ms = mono_ms;
        self.last_signed = Some(self.last_signed.map_or(server, |h| h.max(server)));
        // The server is the authority: a floor pushed ahead of it (an OS clock set forward
        // before the first signed time) comes back to it.
        self.floor = server;
        Ok(())
    }

    /// Raises the floor to `t` (a record made, a periodic save), never above trusted time.
    pub fn raise_floor(&mut self, t: DateTime<Utc>, mono_ms: u64) {
        let t = t.min(self.now(mono_ms));
        self.floor = self.floor.max(t);
    }

    /// The floor to persist: trusted time now (it is never below the floor).
    pub fn floor_to_persist(&self, mono_ms: u64) -> DateTime<Utc> {
        self.now(mono_ms)
    }

    /// The last signed server time accepted.
    pub fn last_signed(&self) -> Option<DateTime<Utc>> {
        self.last_signed
    }

    /// What to show: trusted time, whether the OS clock was set back, whether the last signed
    /// time is older than `max_unsigned`.
    pub fn reading(
        &self,
        os_now: DateTime<Utc>,
        mono_ms: u64,
        max_unsigned: Duration,
    ) -> TimeReading {
        let now = self.now(mono_ms);
        TimeReading {
            now,
            set_back: os_now < now - SET_BACK_WARN,
            unverified: self.last_signed.is_none_or(|t| now - t > max_unsigned),
            last_signed: self.last_signed,
        }
    }
}

/// The station's freshness as the gate and the status bar see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Freshness {
    /// The OS clock was set back (shown; trusted time is unaffected).
    pub set_back: bool,
    /// No signed server time for longer than the policy allows.
    pub unverified: bool,
    /// The last complete pull (trust list, revocations) is older than the policy allows.
    pub stale: bool,
    /// Every scan is refused until the station syncs: enrolled, the policy says refuse, and
    /// stale or unverified.
    pub blocked: bool,
}

/// The freshness rule: from the time reading, when the last complete pull happened, the policy,
/// and whether the station is enrolled (an unenrolled station has no server to be fresh from:
/// it warns, and its records go nowhere).
pub fn freshness(
    reading: &TimeReading,
    pulled_at: Option<DateTime<Utc>>,
    policy: &super::FreshnessPolicy,
    enrolled: bool,
) -> Freshness {
    let stale = pulled_at.is_none_or(|t| reading.now - t > policy.stale_after);
    Freshness {
        set_back: reading.set_back,
        unverified: reading.unverified,
        stale,
        blocked: enrolled && policy.refuse_when_stale && (stale || reading.unverified),
    }
}

#[cfg(test)]
mod trusted_clock_tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }
    const T: i64 = 1_790_000_000;
    const DAY: i64 = 86_400;

    #[test]
    fn a_clock_turned_back_across_a_restart_never_turns_trusted_time_back() {
        // Online: signed time T, ten minutes pass on the monotonic clock.
        let mut c = TrustedClock::start(None, None, at(T), 0);
        c.signed(at(T), 0).unwrap();
        assert_eq!(c.now(600_000), at(T + 600));
        let floor = c.floor_to_persist(600_000);
        let last = c.last_signed();
        // Restart offline with the OS clock a day back: trusted time stays at the floor and
        // moves on from there; the set-back shows.
        let c = TrustedClock::start(Some(floor), last, at(T + 600 - DAY), 5);
        assert_eq!(c.now(5), at(T + 600));
        assert_eq!(c.now(60_005), at(T + 660));
        let r = c.reading(at(T + 600 - DAY), 5, Duration::hours(24));
        assert!(r.set_back && !r.unverified, "{r:?}");
        // A day on without a signed time: the blocking warning.
        let r = c.reading(at(T), 25 * 3_600_000, Duration::hours(24));
        assert!(r.unverified);
    }

    #[test]
    fn a_stale_or_unverified_enrolled_station_is_blocked_when_the_policy_says_refuse() {
        let reading = |unverified| TimeReading {
            now: at(T),
            set_back: false,
            unverified,
            last_signed: Some(at(T)),
        };
        let refuse = super::super::FreshnessPolicy::default();
        let warn = super::super::FreshnessPolicy {
            refuse_when_stale: false,
            ..refuse
        };
        let fresh = Some(at(T - 3600));
        let old = Some(at(T - 49 * 3600));
        assert_eq!(
            freshness(&reading(false), fresh, &refuse, true),
            Freshness::default()
        );
        let f = freshness(&reading(false), old, &refuse, true);
        assert!(f.stale && f.blocked);
        assert!(freshness(&reading(true), fresh, &refuse, true).blocked);
        assert!(freshness(&reading(false), None, &refuse, true).blocked);
        let f = freshness(&reading(false), old, &warn, true);
        assert!(f.stale && !f.blocked);
        let f = freshness(&reading(true), None, &refuse, false);
        assert!(
            f.stale && f.unverified && !f.blocked,
            "unenrolled: warn only"
        );
    }

    #[test]
    fn the_os_clock_moves_time_forward_only_until_the_server_speaks() {
        // OS clock set forward a year before the first sync: trusted time follows it (failing
        // closed: codes expire early), and the first signed time brings it back.
        let mut c = TrustedClock::start(Some(at(T)), Some(at(T)), at(T + 365 * DAY), 0);
        assert_eq!(c.now(0), at(T + 365 * DAY));
        c.signed(at(T + 60), 1_000).unwrap();
        assert_eq!(c.now(1_000), at(T + 60));
        assert!(!c.reading(at(T + 60), 1_000, Duration::hours(24)).set_back);
        // Never signed: unverified from the start.
        let fresh = TrustedClock::start(None, None, at(T), 0);
        assert!(fresh.reading(at(T), 0, Duration::hours(24)).unverified);
    }

    #[test]
    fn an_older_signed_time_is_refused_and_the_floor_never_passes_now() {
        let mut c = TrustedClock::start(None, None, at(T), 0);
        c.signed(at(T), 0).unwrap();
        let e = c.signed(at(T - 2 * DAY), 0).unwrap_err();
        assert_eq!(e.held, at(T));
        assert_eq!(c.now(0), at(T));
        c.raise_floor(at(T + DAY), 0);
        assert_eq!(
            c.now(0),
            at(T),
            "a record from the future does not move time"
        );
        // Extreme monotonic readings saturate.
        assert!(c.now(u64::MAX).timestamp() > T);
    }
}
