//! Settings rows: the UI language, the station's options, its binding (venue, checkpoint,
//! inspector, direction), the kiosk PIN digest and the local secret.

use rusqlite::OptionalExtension;
use venuecode_core::checkin::Binding;
use venuecode_core::gate::Direction;
use venuecode_ipc::{Language, Settings};

use super::{upsert, KeyValueTable, Store};
use crate::error::AppError;

/// The settings rows of a binding.
pub(super) fn binding_pairs(b: &Binding) -> [(&'static str, &str); 5] {
    [
        ("venue_id", b.venue_id.as_str()),
        ("venue_name", b.venue_name.as_str()),
        ("checkpoint_id", b.checkpoint_id.as_str()),
        ("inspector", b.inspector.as_str()),
        ("direction", b.direction.as_str()),
    ]
}

impl Store {
    /// Reads the settings; missing or unknown values fall back to defaults.
    pub fn settings(&self) -> Result<Settings, AppError> {
        let d = Settings::default();
        let number = |key: &str, default: u32| -> Result<u32, AppError> {
            Ok(self
                .get_setting(key)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(default))
        };
        Ok(Settings {
            language: self
                .get_setting("language")?
                .and_then(|tag| Language::from_tag(&tag))
                .unwrap_or_default(),
            clear_after_secs: number("clear_after_secs", d.clear_after_secs)?,
            sound: self.get_setting("sound")?.is_some_and(|v| v == "on"),
            auto_close_hours: number("auto_close_hours", d.auto_close_hours)?,
            camera: venuecode_ipc::CameraChoice {
                index: number("camera_index", 0)?,
                width: number("camera_width", 0)?,
                height: number("camera_height", 0)?,
                fps: number("camera_fps", 0)?,
            },
        })
    }

    /// Stores the camera choice (already checked by the caller).
    pub fn set_camera(&mut self, c: venuecode_ipc::CameraChoice) -> Result<Settings, AppError> {
        let v = [c.index, c.width, c.height, c.fps].map(|n| n.to_string());
        self.put_settings(&[
            ("camera_index", v[0].as_str()),
            ("camera_width", v[1].as_str()),
            ("camera_height", v[2].as_str()),
            ("camera_fps", v[3].as_str()),
        ])?;
        self.settings()
    }

    /// Stores the station options (already checked by the caller).
    pub fn set_station_options(
        &mut self,
        clear_after_secs: u32,
        sound: bool,
        auto_close_hours: u32,
    ) -> Result<Settings, AppError> {
        let (clear, hours) = (clear_after_secs.to_string(), auto_close_hours.to_string());
        self.put_settings(&[
            ("clear_after_secs", clear.as_str()),
            ("sound", if sound { "on" } else { "off" }),
            ("auto_close_hours", hours.as_str()),
        ])?;
        self.settings()
    }

    /// Stores the UI language.
    pub fn set_language(&mut self, language: Language) -> Result<Settings, AppError> {
        self.put_setting("language", language.tag())?;
        self.settings()
    }

    /// What the station is bound to, if set up.
    pub fn binding(&self) -> Result<Option<Binding>, AppError> {
        let get = |k: &str| self.get_setting(k);
        let (Some(venue_id), Some(venue_name), Some(checkpoint_id), Some(inspector), Some(dir)) = (
            get("venue_id")?,
            get("venue_name")?,
            get("checkpoint_id")?,
            get("inspector")?,
            get("direction")?,
        ) else {
            return Ok(None);
        };
        Ok(Direction::parse(&dir).map(|direction| Binding {
            venue_id,
            venue_name,
            checkpoint_id,
            inspector,
            direction,
        }))
    }

    /// Binds the station (all fields in one transaction).
    pub fn set_binding(&mut self, b: &Binding) -> Result<(), AppError> {
        self.put_settings(&binding_pairs(b))
    }

    /// The stored kiosk PIN digest, if a PIN is set.
    pub fn kiosk_pin_digest(&self) -> Result<Option<String>, AppError> {
        self.get_setting("kiosk_pin")
    }

    /// Whether kiosk mode is on (kept across restarts).
    pub fn kiosk_on(&self) -> Result<bool, AppError> {
        Ok(self.get_setting("kiosk_on")?.as_deref() == Some("1"))
    }

    /// Turns kiosk mode on with a new PIN digest, or off, in one transaction.
    pub fn set_kiosk(&mut self, on: bool, pin_digest: Option<&str>) -> Result<(), AppError> {
        let flag = if on { "1" } else { "0" };
        match pin_digest {
            Some(d) => self.put_settings(&[("kiosk_on", flag), ("kiosk_pin", d)]),
            None => self.put_setting("kiosk_on", flag),
        }
    }

    /// Wrong PINs so far and a lock in force.
    pub fn kiosk_attempts(&self) -> Result<venuecode_core::pin::Attempts, AppError> {
        Ok(venuecode_core::pin::Attempts {
            failures: self
                .get_setting("kiosk_failures")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            locked_until: self
                .get_setting("kiosk_locked_until")?
                .and_then(|v| chrono::DateTime::parse_from_rfc3339(&v).ok())
                .map(|t| t.with_timezone(&chrono::Utc)),
        })
    }

    /// Keeps the PIN attempts.
    pub fn put_kiosk_attempts(
        &mut self,
        a: &venuecode_core::pin::Attempts,
    ) -> Result<(), AppError> {
        let failures = a.failures.to_string();
        let until = a.locked_until.map(|t| t.to_rfc3339()).unwrap_or_default();
        self.put_settings(&[
            ("kiosk_failures", &failures),
            ("kiosk_locked_until", &until),
        ])
    }

    /// The station's own secret for pseudonyms of manually registered people and the kiosk PIN
    /// digest; kept in the key store, apart from the data it protects.
    pub fn local_secret(&mut self) -> Result<[u8; 32], AppError> {
        Ok(self.pseudonym_key)
    }

    /// Moves the secret an older version kept in `settings` into the key store (once).
    pub(super) fn move_legacy_secret(&mut self) -> Result<(), AppError> {
        let Some(hex) = self.get_setting("local_secret")? else {
            return Ok(());
        };
        let legacy = venuecode_core::keys::parse_hex(&hex)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok());
        if let Some(secret) = legacy {
            crate::vault::replace_pseudonym(&self.data_dir, &secret)?;
            self.pseudonym_key = secret;
        }
        self.conn
            .execute("DELETE FROM settings WHERE key = 'local_secret'", [])?;
        Ok(())
    }

    pub(super) fn get_setting(&self, key: &str) -> Result<Option<String>, AppError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub(super) fn put_setting(&mut self, key: &str, value: &str) -> Result<(), AppError> {
        self.put_settings(&[(key, value)])
    }

    /// Writes several settings in one transaction.
    pub(super) fn put_settings(&mut self, pairs: &[(&str, &str)]) -> Result<(), AppError> {
        let tx = self.conn.transaction()?;
        for (key, value) in pairs {
            upsert(&tx, KeyValueTable::Settings, key, value)?;
        }
        tx.commit()?;
        Ok(())
    }
}
