//! The station's local SQLite store: opening, migrations, and typed reads and writes.
//!
//! Invariants: the database runs in WAL mode with `synchronous = FULL`, so a committed write
//! survives power loss; migrations come from `migrations/local/` in order and the schema version is
//! `PRAGMA user_version`; every write runs in a transaction; this is the only module with SQL.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use venuecode_core::checkin::{Binding, CheckInDraft};
use venuecode_core::gate::{Direction, Presence, PresenceEffect, Verdict};
use venuecode_core::sync::{AlertWire, CheckInWire, Record};
use venuecode_core::trust::{Revocation, RevocationList};
use venuecode_ipc::{Language, Settings};

use crate::error::AppError;

/// The migrations, in order; index + 1 is the schema version each one produces.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/local/0001_init.sql"),
    include_str!("../../migrations/local/0002_checkins.sql"),
    include_str!("../../migrations/local/0003_sync.sql"),
];

/// The station's live counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Open presences at the venue now.
    pub inside: i64,
    /// Entries that passed today.
    pub entries: i64,
    /// Refusals today.
    pub refusals: i64,
    /// Fevers today.
    pub fevers: i64,
}

/// This device's identity and enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub secret_key: String,
    pub device_id: String,
    pub server_url: String,
    pub venue_id: Option<String>,
    pub checkpoint_id: Option<String>,
    pub inspector: Option<String>,
    pub enrolled_at: Option<String>,
}

/// A record waiting in the outbox: its id and its wire JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRecord {
    pub record_id: String,
    pub payload: String,
}

/// One line of the day's check-in list.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInLine {
    pub at: String,
    pub direction: String,
    pub verdict: String,
    pub reasons: String,
    pub name_masked: Option<String>,
    pub id_masked: Option<String>,
    pub manual: bool,
    pub proxy_name: Option<String>,
    pub proxy_relation: Option<String>,
}

/// The two key/value tables.
#[derive(Clone, Copy)]
enum KeyValueTable {
    Settings,
    SyncState,
}

/// Sets `key` to `value` in a key/value table, inside the caller's transaction.
fn upsert(
    tx: &rusqlite::Transaction<'_>,
    table: KeyValueTable,
    key: &str,
    value: &str,
) -> Result<(), AppError> {
    let sql = match table {
        KeyValueTable::Settings => {
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        }
        KeyValueTable::SyncState => {
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        }
    };
    tx.prepare_cached(sql)?.execute(params![key, value])?;
    Ok(())
}

/// The settings rows of a binding.
fn binding_pairs(b: &Binding) -> [(&'static str, &str); 5] {
    [
        ("venue_id", b.venue_id.as_str()),
        ("venue_name", b.venue_name.as_str()),
        ("checkpoint_id", b.checkpoint_id.as_str()),
        ("inspector", b.inspector.as_str()),
        ("direction", b.direction.as_str()),
    ]
}

/// File name of the local database inside the data directory.
pub const DB_FILE: &str = "station.db";

/// An open local store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> Result<Store, AppError> {
        let path = data_dir.join(DB_FILE);
        let conn = Connection::open(&path).map_err(|source| AppError::Database {
            path: path.clone(),
            source,
        })?;
        let mut store = Store { conn, path };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&self) -> Result<(), AppError> {
        self.conn
            .pragma_update(None, "journal_mode", "WAL")
            .and_then(|_| self.conn.pragma_update(None, "synchronous", "FULL"))
            .and_then(|_| self.conn.pragma_update(None, "foreign_keys", "ON"))
            .and_then(|_| self.conn.busy_timeout(std::time::Duration::from_secs(5)))
            .map_err(|source| AppError::Database {
                path: self.path.clone(),
                source,
            })
    }

    fn migrate(&mut self) -> Result<(), AppError> {
        let known = MIGRATIONS.len() as i64;
        let found: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > known {
            return Err(AppError::SchemaTooNew { found, known });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The schema version now in the file.
    pub fn schema_version(&self) -> Result<i64, AppError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

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
        })
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

    /// Whether `subject` has an open presence at `venue` younger than `auto_close`.
    pub fn presence_of(
        &self,
        subject: &str,
        venue: &str,
        now: DateTime<Utc>,
        auto_close: Duration,
    ) -> Result<Presence, AppError> {
        let entered: Option<String> = self
            .conn
            .query_row(
                "SELECT entered_at FROM presence
                 WHERE subject = ?1 AND venue_id = ?2 AND exited_at IS NULL",
                params![subject, venue],
                |r| r.get(0),
            )
            .optional()?;
        Ok(
            match entered.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()) {
                Some(t) if now - t.with_timezone(&Utc) < auto_close => Presence::Inside {
                    since: t.with_timezone(&Utc),
                },
                _ => Presence::Outside,
            },
        )
    }

    /// Stores a check-in, its outbox row, its alert (if any) and the presence change in one
    /// transaction; returns the check-in id (UUIDv7).
    pub fn record(&mut self, d: &CheckInDraft, effect: PresenceEffect) -> Result<String, AppError> {
        let id = uuid::Uuid::now_v7().to_string();
        let at = d.at.to_rfc3339();
        let verdict = match d.verdict {
            Verdict::Pass => "pass",
            Verdict::Refuse => "refuse",
        };
        let reasons = d.reasons.join(" ");
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO check_ins (id, venue_id, checkpoint_id, inspector, direction, at, day,
                 temperature, celsius, verdict, reasons, fever, code_id, subject, name_masked,
                 phone_masked, id_masked, color, manual, proxy_name, proxy_phone, proxy_relation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20, ?21, ?22)",
            params![
                id,
                d.venue_id,
                d.checkpoint_id,
                d.inspector,
                d.direction.as_str(),
                at,
                d.day,
                d.temperature,
                d.celsius.map(f64::from),
                verdict,
                reasons,
                i64::from(d.fever),
                d.code_id,
                d.subject,
                d.name_masked,
                d.phone_masked,
                d.id_masked,
                d.color,
                i64::from(d.manual),
                d.proxy_name,
                d.proxy_phone,
                d.proxy_relation,
            ],
        )?;
        let wire = CheckInWire {
            id: id.clone(),
            venue_id: d.venue_id.clone(),
            checkpoint_id: d.checkpoint_id.clone(),
            inspector: d.inspector.clone(),
            direction: d.direction.as_str().into(),
            at: d.at,
            verdict: verdict.into(),
            reasons: d.reasons.iter().map(|r| r.to_string()).collect(),
            temperature: d.temperature.into(),
            celsius: d.celsius,
            fever: d.fever,
            code_id: d.code_id.clone(),
            subject: d.subject.clone(),
            name_masked: d.name_masked.clone(),
            phone_masked: d.phone_masked.clone(),
            id_masked: d.id_masked.clone(),
            color: d.color.map(str::to_string),
            manual: d.manual,
            proxy_name: d.proxy_name.clone(),
            proxy_phone: d.proxy_phone.clone(),
            proxy_relation: d.proxy_relation.map(str::to_string),
        };
        let encode =
            |r: &Record| serde_json::to_string(r).map_err(|e| AppError::Encode(e.to_string()));
        let outbox = "INSERT INTO outbox (id, lane, kind, record_id, payload, created_at)
                      VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
        if d.alert {
            let alert_id = uuid::Uuid::now_v7().to_string();
            let alert = Record::Alert(AlertWire {
                id: alert_id.clone(),
                venue_id: d.venue_id.clone(),
                at: d.at,
                reasons: wire.reasons.clone(),
                check_in: wire.clone(),
            });
            tx.execute(
                "INSERT INTO alerts (id, check_in_id, at, reasons) VALUES (?1, ?2, ?3, ?4)",
                params![alert_id, id, at, reasons],
            )?;
            tx.execute(
                outbox,
                params![
                    uuid::Uuid::now_v7().to_string(),
                    0,
                    "alert",
                    alert_id,
                    encode(&alert)?,
                    at
                ],
            )?;
        }
        tx.execute(
            outbox,
            params![
                uuid::Uuid::now_v7().to_string(),
                1,
                "check_in",
                id,
                encode(&Record::CheckIn(wire))?,
                at
            ],
        )?;
        if let Some(subject) = &d.subject {
            match effect {
                PresenceEffect::Open => {
                    // A stale presence (past the auto-close hours) is closed by the new entry.
                    tx.execute(
                        "UPDATE presence SET exited_at = ?3 WHERE subject = ?1 AND venue_id = ?2
                         AND exited_at IS NULL",
                        params![subject, d.venue_id, at],
                    )?;
                    tx.execute(
                        "INSERT INTO presence (subject, venue_id, entered_at, entry_id)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![subject, d.venue_id, at, id],
                    )?;
                }
                PresenceEffect::Close => {
                    tx.execute(
                        "UPDATE presence SET exited_at = ?3, exit_id = ?4
                         WHERE subject = ?1 AND venue_id = ?2 AND exited_at IS NULL",
                        params![subject, d.venue_id, at, id],
                    )?;
                }
                PresenceEffect::Keep => {}
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// The station's live counters for `day` at `venue`.
    pub fn counters(
        &self,
        venue: &str,
        day: &str,
        now: DateTime<Utc>,
        auto_close: Duration,
    ) -> Result<Counters, AppError> {
        let since = (now - auto_close).to_rfc3339();
        let inside: i64 = self.conn.query_row(
            "SELECT count(*) FROM presence WHERE venue_id = ?1 AND exited_at IS NULL AND entered_at > ?2",
            params![venue, since],
            |r| r.get(0),
        )?;
        let (entries, refusals, fevers): (i64, i64, i64) = self.conn.query_row(
            "SELECT
                coalesce(sum(direction = 'entry' AND verdict = 'pass'), 0),
                coalesce(sum(verdict = 'refuse'), 0),
                coalesce(sum(fever), 0)
             FROM check_ins WHERE venue_id = ?1 AND day = ?2",
            params![venue, day],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok(Counters {
            inside,
            entries,
            refusals,
            fevers,
        })
    }

    /// The newest check-ins of `day` at `venue`, newest first.
    pub fn day_list(
        &self,
        venue: &str,
        day: &str,
        limit: u32,
    ) -> Result<Vec<CheckInLine>, AppError> {
        let mut stmt = self.conn.prepare(
            "SELECT at, direction, verdict, reasons, name_masked, id_masked, manual, proxy_name,
                    proxy_relation
             FROM check_ins WHERE venue_id = ?1 AND day = ?2 ORDER BY at DESC, id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![venue, day, limit], |r| {
            Ok(CheckInLine {
                at: r.get(0)?,
                direction: r.get(1)?,
                verdict: r.get(2)?,
                reasons: r.get(3)?,
                name_masked: r.get(4)?,
                id_masked: r.get(5)?,
                manual: r.get::<_, i64>(6)? == 1,
                proxy_name: r.get(7)?,
                proxy_relation: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The station's own secret for pseudonyms of manually registered people (made once).
    pub fn local_secret(&mut self) -> Result<[u8; 32], AppError> {
        if let Some(hex) = self.get_setting("local_secret")? {
            if let Ok(b) = venuecode_core::keys::parse_hex(&hex) {
                if let Ok(secret) = <[u8; 32]>::try_from(b) {
                    return Ok(secret);
                }
            }
        }
        let mut secret = [0u8; 32];
        secret[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        secret[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        self.put_setting("local_secret", &venuecode_core::keys::hex(&secret))?;
        Ok(secret)
    }

    /// The stored kiosk PIN digest, if a PIN is set.
    pub fn kiosk_pin_digest(&self) -> Result<Option<String>, AppError> {
        self.get_setting("kiosk_pin")
    }

    /// Stores the kiosk PIN digest.
    pub fn set_kiosk_pin_digest(&mut self, digest: &str) -> Result<(), AppError> {
        self.put_setting("kiosk_pin", digest)
    }

    /// Rows in a table (for tests and diagnostics); `table` is one of the store's own names.
    pub fn count(&self, table: &'static str) -> Result<i64, AppError> {
        Ok(self
            .conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
    }

    /// The device identity, if one was made.
    pub fn device(&self) -> Result<Option<DeviceRow>, AppError> {
        Ok(self
            .conn
            .query_row(
                "SELECT secret_key, device_id, server_url, venue_id, checkpoint_id, inspector,
                     enrolled_at FROM device WHERE one = 1",
                [],
                |r| {
                    Ok(DeviceRow {
                        secret_key: r.get(0)?,
                        device_id: r.get(1)?,
                        server_url: r.get(2)?,
                        venue_id: r.get(3)?,
                        checkpoint_id: r.get(4)?,
                        inspector: r.get(5)?,
                        enrolled_at: r.get(6)?,
                    })
                },
            )
            .optional()?)
    }

    /// Keeps a freshly made key pair as this device's identity, unless it already has one; returns
    /// the identity held.
    pub fn create_device(
        &mut self,
        secret_key: &str,
        device_id: &str,
        server_url: &str,
    ) -> Result<DeviceRow, AppError> {
        self.conn.execute(
            "INSERT INTO device (one, secret_key, device_id, server_url) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (one) DO UPDATE SET server_url = excluded.server_url",
            params![secret_key, device_id, server_url],
        )?;
        self.device()?
            .ok_or_else(|| AppError::Invalid("the device identity was not kept".into()))
    }

    /// Records the server's enrolment answer and binds the station to it, in one transaction.
    pub fn set_enrolment(&mut self, b: &Binding, at: DateTime<Utc>) -> Result<(), AppError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE device SET venue_id = ?1, checkpoint_id = ?2, inspector = ?3, enrolled_at = ?4
             WHERE one = 1",
            params![b.venue_id, b.checkpoint_id, b.inspector, at.to_rfc3339()],
        )?;
        for (key, value) in binding_pairs(b) {
            upsert(&tx, KeyValueTable::Settings, key, value)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Up to `limit` records waiting to be sent, alerts first, oldest first within a lane.
    pub fn pending(&self, limit: usize) -> Result<Vec<PendingRecord>, AppError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT record_id, payload FROM outbox WHERE sent_at IS NULL AND rejected IS NULL
             ORDER BY lane, id LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(PendingRecord {
                    record_id: r.get(0)?,
                    payload: r.get(1)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// How many records wait to be sent, and how many were set aside as rejected.
    pub fn outbox_counts(&self) -> Result<(i64, i64), AppError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FILTER (WHERE sent_at IS NULL AND rejected IS NULL),
                    count(*) FILTER (WHERE rejected IS NOT NULL) FROM outbox",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Marks the acknowledged records as sent; returns how many changed.
    pub fn mark_sent(
        &mut self,
        record_ids: &[String],
        at: DateTime<Utc>,
    ) -> Result<usize, AppError> {
        let at = at.to_rfc3339();
        let tx = self.conn.transaction()?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET sent_at = ?2 WHERE record_id = ?1 AND sent_at IS NULL",
            )?;
            for id in record_ids {
                n += stmt.execute(params![id, at])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Sets a record aside that the server refused for its content; it is kept, not sent again.
    pub fn mark_rejected(&mut self, record_id: &str, reason: &str) -> Result<(), AppError> {
        self.conn.execute(
            "UPDATE outbox SET rejected = ?2 WHERE record_id = ?1 AND sent_at IS NULL",
            params![record_id, reason],
        )?;
        Ok(())
    }

    /// Deletes synced records older than `before` (the retention window): check-ins whose
    /// outbox rows — their own and their alerts' — were all acknowledged by the server, with
    /// those alerts, outbox rows and closed presences. Anything not yet sent, set aside as
    /// rejected, or still inside is kept whatever its age. Returns how many check-ins went.
    pub fn purge_synced(&mut self, before: DateTime<Utc>) -> Result<usize, AppError> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS purge (id TEXT PRIMARY KEY); DELETE FROM purge;",
        )?;
        tx.execute(
            "INSERT INTO purge (id)
             SELECT c.id FROM check_ins c
             WHERE c.at < ?1
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.record_id = c.id
                               AND o.sent_at IS NULL)
               AND NOT EXISTS (SELECT 1 FROM alerts a JOIN outbox o ON o.record_id = a.id
                               WHERE a.check_in_id = c.id AND o.sent_at IS NULL)
               AND NOT EXISTS (SELECT 1 FROM presence p WHERE p.entry_id = c.id
                               AND p.exited_at IS NULL)",
            [before.to_rfc3339()],
        )?;
        tx.execute_batch(
            "DELETE FROM outbox WHERE record_id IN (SELECT id FROM purge)
                 OR record_id IN (SELECT a.id FROM alerts a JOIN purge p ON a.check_in_id = p.id);
             DELETE FROM alerts WHERE check_in_id IN (SELECT id FROM purge);
             UPDATE presence SET exit_id = NULL WHERE exit_id IN (SELECT id FROM purge);
             DELETE FROM presence WHERE entry_id IN (SELECT id FROM purge);",
        )?;
        let n = tx.execute(
            "DELETE FROM check_ins WHERE id IN (SELECT id FROM purge)",
            [],
        )?;
        tx.execute_batch("DELETE FROM purge;")?;
        tx.commit()?;
        Ok(n)
    }

    /// A value sync kept.
    pub fn sync_value(&self, key: &str) -> Result<Option<String>, AppError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Keeps several sync values in one transaction.
    pub fn put_sync_values(&mut self, pairs: &[(&str, String)]) -> Result<(), AppError> {
        let tx = self.conn.transaction()?;
        for (key, value) in pairs {
            upsert(&tx, KeyValueTable::SyncState, key, value)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The revocations held, with their cursor.
    pub fn revocations(&self) -> Result<RevocationList, AppError> {
        let cursor = self
            .sync_value("revocations_cursor")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let entries = self
            .conn
            .prepare_cached("SELECT kind, target FROM revocations")?
            .query_map([], |r| {
                let kind: String = r.get(0)?;
                let target: String = r.get(1)?;
                Ok(if kind == "code" {
                    Revocation::Code(target)
                } else {
                    Revocation::Subject(target)
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RevocationList::restore(cursor, entries))
    }

    /// Keeps a revocation list (after a delta was applied to it) and its cursor.
    pub fn put_revocations(&mut self, list: &RevocationList) -> Result<(), AppError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO revocations (kind, target) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )?;
            for r in list.entries() {
                match r {
                    Revocation::Code(t) => stmt.execute(params!["code", t])?,
                    Revocation::Subject(t) => stmt.execute(params!["subject", t])?,
                };
            }
        }
        upsert(
            &tx,
            KeyValueTable::SyncState,
            "revocations_cursor",
            &list.cursor().to_string(),
        )?;
        tx.commit()?;
        Ok(())
    }

    fn get_setting(&self, key: &str) -> Result<Option<String>, AppError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn put_setting(&mut self, key: &str, value: &str) -> Result<(), AppError> {
        self.put_settings(&[(key, value)])
    }

    /// Writes several settings in one transaction.
    fn put_settings(&mut self, pairs: &[(&str, &str)]) -> Result<(), AppError> {
        let tx = self.conn.transaction()?;
        for (key, value) in pairs {
            upsert(&tx, KeyValueTable::Settings, key, value)?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_store_defaults_to_chinese_and_persists_language() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut store = Store::open(dir.path()).unwrap();
            assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
            assert_eq!(store.settings().unwrap().language, Language::ZhCn);
            store.set_language(Language::En).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.settings().unwrap().language, Language::En);
        let mode: String = store
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn unknown_stored_language_falls_back_to_default() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.put_setting("language", "xx").unwrap();
        assert_eq!(store.settings().unwrap().language, Language::ZhCn);
    }

    #[test]
    fn newer_schema_is_refused_not_clobbered() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.conn.pragma_update(None, "user_version", 99).unwrap();
        }
        match Store::open(dir.path()) {
            Err(AppError::SchemaTooNew { found: 99, .. }) => {}
            other => panic!("expected SchemaTooNew, got {:?}", other.err()),
        }
    }

    fn draft_at(at: DateTime<Utc>, alert: bool) -> CheckInDraft {
        CheckInDraft {
            venue_id: "V1".into(),
            checkpoint_id: "main".into(),
            inspector: "王五".into(),
            direction: Direction::Entry,
            at,
            day: at.format("%Y-%m-%d").to_string(),
            temperature: "normal",
            celsius: None,
            verdict: if alert {
                Verdict::Refuse
            } else {
                Verdict::Pass
            },
            reasons: if alert { vec!["red_code"] } else { vec![] },
            fever: false,
            code_id: None,
            subject: Some(uuid::Uuid::new_v4().simple().to_string()),
            name_masked: Some("张*".into()),
            phone_masked: None,
            id_masked: None,
            color: Some("green"),
            alert,
            manual: false,
            proxy_name: None,
            proxy_phone: None,
            proxy_relation: None,
        }
    }

    #[test]
    fn retention_purges_only_what_the_server_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        let old = now - Duration::days(30);
        let sent_old = store
            .record(&draft_at(old, true), PresenceEffect::Keep)
            .unwrap();
        let unsent_old = store
            .record(&draft_at(old, false), PresenceEffect::Keep)
            .unwrap();
        let inside_old = store
            .record(&draft_at(old, false), PresenceEffect::Open)
            .unwrap();
        let sent_new = store
            .record(&draft_at(now, false), PresenceEffect::Keep)
            .unwrap();
        let alert_id: String = store
            .conn
            .query_row(
                "SELECT id FROM alerts WHERE check_in_id = ?1",
                [&sent_old],
                |r| r.get(0),
            )
            .unwrap();
        store
            .mark_sent(
                &[
                    sent_old.clone(),
                    alert_id,
                    inside_old.clone(),
                    sent_new.clone(),
                ],
                now,
            )
            .unwrap();
        let purged = store.purge_synced(now - Duration::days(28)).unwrap();
        assert_eq!(
            purged, 1,
            "only the old, acknowledged check-in outside the venue goes"
        );
        let left: Vec<String> = store
            .conn
            .prepare("SELECT id FROM check_ins ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(!left.contains(&sent_old));
        assert!(
            left.contains(&unsent_old) && left.contains(&inside_old) && left.contains(&sent_new)
        );
        assert_eq!(store.count("alerts").unwrap(), 0);
        assert_eq!(
            store.outbox_counts().unwrap(),
            (1, 0),
            "the unsent one still waits"
        );
        // Idempotent.
        assert_eq!(store.purge_synced(now - Duration::days(28)).unwrap(), 0);
    }
}
