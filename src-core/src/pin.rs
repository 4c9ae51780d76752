//! The inspector PIN that leaves kiosk mode (快速打卡): its format and a salted digest, so the
//! station never stores the PIN itself.
//!
//! Invariant: a PIN is 4 to 8 ASCII digits; digests are compared in constant time.

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
}
