//! The station's trusted time, kept for the whole app: [`TimeKeeper`] wraps core's
//! `TrustedClock` with a monotonic clock and the persisted floor.
//!
//! Invariants: trusted time only moves back when a signed server time says so; it never goes
//! below the floor persisted in the store (the latest signed time, the newest local record, the
//! last trusted time saved); the OS clock is read through one function, which tests replace.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use venuecode_core::sync::{TimeReading, TimeWentBack, TrustedClock};

use crate::error::AppError;
use crate::store::Store;

/// Where the station reads the operating system's clock (tests pass a fake one).
pub type OsClock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The real operating-system clock.
pub fn system_clock() -> OsClock {
    Arc::new(Utc::now)
}

/// Trusted time for verification and records, shared by the sync worker and the commands.
pub struct TimeKeeper {
    clock: Mutex<TrustedClock>,
    base: Instant,
    os: OsClock,
}

impl TimeKeeper {
    /// Starts from what the store persisted (floor, last signed time, newest record).
    pub fn start(store: Option<&Store>, os: OsClock) -> TimeKeeper {
        let (floor, last_signed) = store
            .and_then(|s| s.time_floor().ok())
            .unwrap_or((None, None));
        TimeKeeper {
            clock: Mutex::new(TrustedClock::start(floor, last_signed, os(), 0)),
            base: Instant::now(),
            os,
        }
    }

    fn mono(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn with<T>(&self, f: impl FnOnce(&mut TrustedClock) -> T) -> Option<T> {
        self.clock.lock().ok().map(|mut c| f(&mut c))
    }

    /// Trusted time now.
    pub fn now(&self) -> DateTime<Utc> {
        let mono = self.mono();
        self.with(|c| c.now(mono)).unwrap_or_else(|| (self.os)())
    }

    /// The operating system's clock now.
    pub fn os_now(&self) -> DateTime<Utc> {
        (self.os)()
    }

    /// Takes a verified server time.
    pub fn signed(&self, t: DateTime<Utc>) -> Result<(), TimeWentBack> {
        let mono = self.mono();
        self.with(|c| c.signed(t, mono)).unwrap_or(Ok(()))
    }

    /// What the status shows; `max_unsigned` from the venue's policy.
    pub fn reading(&self, max_unsigned: Duration) -> TimeReading {
        let mono = self.mono();
        let os = (self.os)();
        self.with(|c| c.reading(os, mono, max_unsigned))
            .unwrap_or(TimeReading {
                now: os,
                set_back: false,
                unverified: true,
                last_signed: None,
            })
    }

    /// Saves the floor (trusted time now) and the last signed time.
    pub fn persist(&self, store: &mut Store) -> Result<(), AppError> {
        let mono = self.mono();
        let Some((floor, last)) = self.with(|c| (c.floor_to_persist(mono), c.last_signed())) else {
            return Err(AppError::Poisoned);
        };
        store.put_time_floor(floor, last)
    }
}
