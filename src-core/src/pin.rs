//! The inspector PIN that leaves kiosk mode (快速打卡): its format, a salted digest (the station
//! never stores the PIN itself), and the lockout after repeated wrong PINs.
//!
//! Invariants: a PIN is 4 to 8 ASCII digits; digests are compared in constant time; after
//! [`MAX_FAILURES`] wrong PINs in a row no PIN is even checked until [`LOCKOUT`] has passed
//! (so guessing all 10,000 four-digit PINs takes about ten days), and a right PIN resets the
//! count.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a PIN was not accepted as a new PIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinError {
    #[error("a PIN is 4 to 8 digits")]
    Format,
}

/// Checks a new PIN's format.
pub fn validate(pin: &str) -> Result<(), PinError> {
    if (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PinError::Format)
    }
}

fn pin_mac(secret: &[u8; 32], pin: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(b"venuecode/kiosk-pin/v1\0");
    mac.update(pin.as_bytes());
    mac
}

/// The salted digest stored for a PIN (hex).
pub fn digest(secret: &[u8; 32], pin: &str) -> String {
    crate::keys::hex(&pin_mac(secret, pin).finalize().into_bytes())
}

/// Whether `pin` matches a stored digest; the comparison is the hmac crate's constant-time one.
pub fn matches(secret: &[u8; 32], pin: &str, stored: &str) -> bool {
    match crate::keys::parse_hex(stored) {
        Ok(expected) => pin_mac(secret, pin).verify_slice(&expected).is_ok(),
        Err(_) => false,
    }
}

/// Wrong PINs in a row before the kiosk locks.
pub const MAX_FAILURES: u32 = 10;
/// How long the kiosk stays locked after [`MAX_FAILURES`] wrong PINs.
pub const LOCKOUT: Duration = Duration::minutes(15);

/// Wrong PINs so far, and a lock in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempts {
    pub failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Attempts {
    /// `Err(until)` while locked: the PIN is not checked at all.
    pub fn may_try(&self, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        match self.locked_until {
            Some(until) if now < until => Err(until),
            _ => Ok(()),
        }
    }

    /// The attempts after one PIN was checked at `now`: a right one clears them; the
    /// [`MAX_FAILURES`]th wrong one in a row locks for [`LOCKOUT`] and starts a new count.
    pub fn after(self, right: bool, now: DateTime<Utc>) -> Attempts {
        if right {
            return Attempts::default();
        }
        let failures = self.failures.saturating_add(1);
        if failures >= MAX_FAILURES {
            Attempts {
                failures: 0,
                locked_until: Some(now + LOCKOUT),
            }
        } else {
            Attempts {
                failures,
                locked_until: self.locked_until.filter(|u| *u > now),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins() {
        assert!(validate("1234").is_ok() && validate("12345678").is_ok());
        for bad in ["123", "123456789", "12a4", "", "１２３４"] {
            assert_eq!(validate(bad), Err(PinError::Format), "{bad}");
        }
        let s = [5u8; 32];
        let d = digest(&s, "2468");
        assert!(matches(&s, "2468", &d));
        assert!(!matches(&s, "2469", &d));
        assert!(!matches(&[6u8; 32], "2468", &d));
        // A damaged stored digest never matches (and never panics).
        assert!(!matches(&s, "2468", "zz"));
        assert!(!matches(&s, "2468", &d[..10]));
        assert!(!matches(&s, "2468", ""));
        assert!(!d.contains("2468"));
    }

    #[test]
    fn ten_wrong_pins_lock_for_the_lockout_and_a_right_one_clears_the_count() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut a = Attempts::default();
        for i in 1..MAX_FAILURES {
            assert!(a.may_try(t0).is_ok());
            a = a.after(false, t0);
            assert_eq!(a.failures, i);
        }
        a = a.after(false, t0);
        assert_eq!(a.may_try(t0), Err(t0 + LOCKOUT));
        assert_eq!(
            a.may_try(t0 + LOCKOUT - Duration::seconds(1)),
            Err(t0 + LOCKOUT)
        );
        assert!(a.may_try(t0 + LOCKOUT).is_ok());
        // Nine wrong, one right: the count starts again.
        let mut b = Attempts::default();
        for _ in 1..MAX_FAILURES {
            b = b.after(false, t0);
        }
        assert_eq!(b.after(true, t0), Attempts::default());
    }
}
