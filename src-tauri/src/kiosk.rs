//! Kiosk mode (快速打卡), enforced here rather than only hidden in the UI: residents at an
//! unattended tablet check themselves in; whatever the window does, the commands that change
//! the station refuse while it is on, and only the inspector's PIN turns it off.
//!
//! Invariants: the mode is stored (a restart comes back in kiosk mode); entering needs a new
//! valid PIN and cannot happen twice (the PIN cannot be replaced from inside kiosk mode); a wrong
//! PIN counts towards core's lockout (`pin::Attempts`), and while locked no PIN is checked at
//! all; every command listed in [`GUARDED`] calls [`guard`] first; a kiosk scan records the
//! temperature as not measured (no thermometer is wired to a kiosk).

use chrono::{DateTime, Utc};
use venuecode_ipc::TemperatureInput;

use crate::error::AppError;
use crate::store::Store;

/// The commands kiosk mode refuses (settings, enrolment and the server address, binding and
/// venues, signing a person in, a new PIN); the tests hold this list against the handlers.
pub const GUARDED: &[&str] = &[
    "set_binding",
    "set_station_options",
    "enrol_station",
    "switch_venue",
    "forget_venue",
    "sign_in",
    "set_kiosk_pin",
];

/// Refuses while kiosk mode is on.
pub fn guard(store: &Store) -> Result<(), AppError> {
    if store.kiosk_on()? {
        Err(AppError::KioskOn)
    } else {
        Ok(())
    }
}

/// Enters kiosk mode with a new PIN (stored as a salted digest).
pub fn enter(store: &mut Store, pin: &str) -> Result<bool, AppError> {
    guard(store)?;
    venuecode_core::pin::validate(pin).map_err(|e| AppError::Invalid(e.to_string()))?;
    let secret = store.local_secret()?;
    store.set_kiosk(true, Some(&venuecode_core::pin::digest(&secret, pin)))?;
    store.put_kiosk_attempts(&Default::default())?;
    Ok(true)
}

/// Leaves kiosk mode if `pin` is the PIN; false for a wrong one (counted). Locked after too many
/// wrong PINs: [`AppError::KioskLocked`] until the lock ends, the PIN unchecked.
pub fn leave(store: &mut Store, pin: &str, now: DateTime<Utc>) -> Result<bool, AppError> {
    let attempts = store.kiosk_attempts()?;
    attempts
        .may_try(now)
        .map_err(|until| AppError::KioskLocked { until })?;
    let secret = store.local_secret()?;
    let right = store
        .kiosk_pin_digest()?
        .is_some_and(|d| venuecode_core::pin::matches(&secret, pin, &d));
    let after = attempts.after(right, now);
    store.put_kiosk_attempts(&after)?;
    if right {
        store.set_kiosk(false, None)?;
    } else if let Some(until) = after.locked_until.filter(|u| *u > now) {
        return Err(AppError::KioskLocked { until });
    }
    Ok(right)
}

/// Whether kiosk mode is on, and a PIN lock in force.
pub fn state(store: &Store, now: DateTime<Utc>) -> Result<venuecode_ipc::KioskState, AppError> {
    Ok(venuecode_ipc::KioskState {
        on: store.kiosk_on()?,
        locked_until: store
            .kiosk_attempts()?
            .may_try(now)
            .err()
            .map(|t| t.to_rfc3339()),
    })
}

/// The temperature a scan records: in kiosk mode nobody measures it.
pub fn temperature(store: &Store, asked: TemperatureInput) -> Result<TemperatureInput, AppError> {
    Ok(if store.kiosk_on()? {
        TemperatureInput::NotTaken
    } else {
        asked
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use venuecode_core::pin::{LOCKOUT, MAX_FAILURES};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn kiosk_mode_survives_a_restart_and_guards_the_station() {
        let (dir, mut s) = store();
        assert!(guard(&s).is_ok());
        assert!(matches!(enter(&mut s, "12"), Err(AppError::Invalid(_))));
        assert!(enter(&mut s, "2468").unwrap());
        // A second PIN cannot replace the first from inside kiosk mode.
        assert!(matches!(enter(&mut s, "1111"), Err(AppError::KioskOn)));
        drop(s);
        let mut s = Store::open(dir.path()).unwrap();
        assert!(matches!(guard(&s), Err(AppError::KioskOn)));
        assert!(state(&s, Utc::now()).unwrap().on);
        assert_eq!(
            temperature(&s, TemperatureInput::Fever).unwrap(),
            TemperatureInput::NotTaken
        );
        assert!(!leave(&mut s, "1111", Utc::now()).unwrap());
        assert_ne!(s.kiosk_pin_digest().unwrap().as_deref(), Some("2468"));
        assert!(leave(&mut s, "2468", Utc::now()).unwrap());
        assert!(guard(&s).is_ok());
        assert_eq!(
            temperature(&s, TemperatureInput::Fever).unwrap(),
            TemperatureInput::Fever
        );
    }

    #[test]
    fn ten_wrong_pins_lock_the_way_out_even_for_the_right_pin() {
        let (_dir, mut s) = store();
        enter(&mut s, "2468").unwrap();
        let t0 = Utc::now();
        for _ in 1..MAX_FAILURES {
            assert!(!leave(&mut s, "0000", t0).unwrap());
        }
        assert!(matches!(
            leave(&mut s, "0000", t0),
            Err(AppError::KioskLocked { .. })
        ));
        // Locked: even the right PIN is not checked.
        assert!(matches!(
            leave(&mut s, "2468", t0 + chrono::Duration::minutes(1)),
            Err(AppError::KioskLocked { .. })
        ));
        assert!(state(&s, t0).unwrap().locked_until.is_some());
        assert!(guard(&s).is_err());
        assert!(leave(&mut s, "2468", t0 + LOCKOUT).unwrap());
    }

    #[test]
    fn every_guarded_command_asks_the_guard() {
        let sources = [
            include_str!("commands.rs"),
            include_str!("people_commands.rs"),
        ];
        for name in GUARDED {
            let body = sources
                .iter()
                .find_map(|src| {
                    let start = src.find(&format!("async fn {name}("))?;
                    let rest = &src[start..];
                    let end = rest[1..]
                        .find("#[tauri::command]")
                        .map_or(rest.len(), |e| e + 1);
                    Some(&rest[..end])
                })
                .unwrap_or_else(|| panic!("no handler for {name}"));
            assert!(
                body.contains("kiosk::guard")
                    || body.contains("kiosk::enter")
                    || body.contains("kiosk_on()"),
                "{name} does not ask the kiosk guard"
            );
        }
    }
}
