//! The station's local SQLite store: opening, migrations, and typed reads and writes.
//!
//! Invariants: the database runs in WAL mode with `synchronous = FULL`, so a committed write
//! survives power loss; migrations come from `migrations/local/` in order and the schema version is
//! `PRAGMA user_version`; every write runs in a transaction; this is the only module with SQL.
//!
//! At rest (issue 16): the file is encrypted with SQLCipher under a random 256-bit key that lives
//! in the station's key store (`crate::vault`), never in the data directory when a platform
//! keystore is present; the data directory is 0700 and the database 0600 (SQLite gives its WAL
//! and shared-memory files the database's mode); `secure_delete` overwrites what is deleted. A
//! plain database from an older version is encrypted once, into a temporary file renamed over it.
//!
//! Files: this one opens the store (WAL, migrations) and holds the shared key/value upsert;
//! `settings.rs` (language, station options, binding, kiosk PIN, local secret), `checkins.rs`
//! (check-ins, presence, counters, the day's list), `outbox.rs` (what waits for the server),
//! `passages.rs` (the venue's passages from every gate, the LAN marks),
//! `sync_state.rs` (device identity, sync cursors, revocations), `people.rs` (the signed-in
//! person's session, what their screens last read, application drafts), `venues.rs` (the other
//! venues a station is enrolled at, parked while one is active).

mod at_rest;
mod checkins;
mod outbox;
mod passages;
mod people;
mod settings;
mod statistics;
mod sync_state;
mod venues;

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

use crate::error::AppError;

pub use checkins::{CheckInLine, Counters};
pub use outbox::PendingRecord;
pub use passages::{LogPage, Source as PassageSource};
pub use people::{Draft, PersonSession};
pub use sync_state::{DeviceRow, StoredRevocations};
pub use venues::{NewEnrolment, ParkedVenue};

/// The migrations, in order; index + 1 is the schema version each one produces.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/local/0001_init.sql"),
    include_str!("../../../migrations/local/0002_checkins.sql"),
    include_str!("../../../migrations/local/0003_sync.sql"),
    include_str!("../../../migrations/local/0004_people.sql"),
    include_str!("../../../migrations/local/0005_venues.sql"),
    include_str!("../../../migrations/local/0006_presence.sql"),
    include_str!("../../../migrations/local/0007_passages.sql"),
];

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

/// File name of the local database inside the data directory.
pub const DB_FILE: &str = "station.db";

/// An open local store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    data_dir: PathBuf,
    /// The station's pseudonym key, from the key store.
    pseudonym_key: [u8; 32],
}

/// The data directories this process has prepared (a plain database encrypted, the file made
/// 0600), each with one keyed connection held open for the life of the process; serialises that
/// preparation between threads.
///
/// Done once per process and directory, before this process holds any connection to the file:
/// closing any descriptor of a database file drops all of the process's POSIX locks on it, after
/// which another process would think itself the last connection and remove the WAL under us.
/// The held connection keeps SQLCipher active: when its last keyed connection closes, SQLCipher
/// frees its global mutexes and provider, and a thread opening another connection at that moment
/// could use them freed (a station crashed with SIGSEGV in the fault test before this).
static PREPARED: std::sync::Mutex<Vec<(PathBuf, Connection)>> = std::sync::Mutex::new(Vec::new());

/// Opens `data_dir`'s database with the station's key, encrypting a plain one first; no
/// migrations, no settings (tests and tools read through this).
pub fn open_keyed(data_dir: &Path) -> Result<(Connection, crate::vault::StationKeys), AppError> {
    let path = data_dir.join(DB_FILE);
    let keys = {
        let mut prepared = PREPARED.lock().unwrap_or_else(|p| p.into_inner());
        if prepared.iter().any(|(d, _)| d == data_dir) {
            crate::vault::station_keys(data_dir, false)?
        } else {
            crate::vault::private_dir(data_dir)?;
            let io = |source| AppError::DataDir {
                path: path.clone(),
                source,
            };
            let plain = at_rest::is_plain(&path).map_err(io)?;
            let fresh = !path.exists() || plain;
            let keys = crate::vault::station_keys(data_dir, fresh)?;
            if plain {
                at_rest::encrypt_in_place(&path, &keys.database)?;
            }
            at_rest::create_private(&path).map_err(io)?;
            let held = Connection::open(&path).map_err(|source| AppError::Database {
                path: path.clone(),
                source,
            })?;
            at_rest::key(&held, &keys.database, &path)?;
            prepared.push((data_dir.to_path_buf(), held));
            keys
        }
    };
    let conn = Connection::open(&path).map_err(|source| AppError::Database {
        path: path.clone(),
        source,
    })?;
    at_rest::key(&conn, &keys.database, &path)?;
    Ok((conn, keys))
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> Result<Store, AppError> {
        let (conn, keys) = open_keyed(data_dir)?;
        let mut store = Store {
            conn,
            path: data_dir.join(DB_FILE),
            data_dir: data_dir.to_path_buf(),
            pseudonym_key: keys.pseudonym,
        };
        store.configure()?;
        store.migrate()?;
        store.move_legacy_secret()?;
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
            .and_then(|_| self.conn.pragma_update(None, "secure_delete", "ON"))
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

    /// Rows in a table (for tests and diagnostics); `table` is one of the store's own names.
    pub fn count(&self, table: &'static str) -> Result<i64, AppError> {
        Ok(self
            .conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration, Utc};
    use venuecode_core::checkin::CheckInDraft;
    use venuecode_core::gate::{Direction, PresenceEffect, Verdict};
    use venuecode_ipc::Language;

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

    pub(super) fn draft_at(at: DateTime<Utc>, alert: bool) -> CheckInDraft {
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
            code: None,
            sealed_id: None,
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

    #[test]
    fn a_phone_entry_counts_inside_and_any_door_lets_them_out() {
        use venuecode_core::gate::{Direction, Presence};
        use venuecode_core::sync::PhoneCheckIn;
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        let zone = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        let day = now.with_timezone(&zone).format("%Y-%m-%d").to_string();
        let hours4 = Duration::hours(4);
        let phone = |id: &str, direction: &str, at| PhoneCheckIn {
            id: id.into(),
            subject: Some("s1".into()),
            checkpoint_id: "north".into(),
            direction: direction.into(),
            at,
            verdict: "pass".into(),
            reasons: vec![],
            name_masked: Some("张*".into()),
            id_masked: None,
            color: Some("green".into()),
        };
        let inside = |store: &Store| {
            (
                store.presence_of("s1", "V1", now, hours4).unwrap(),
                store.counters("V1", &day, now, hours4).unwrap().inside,
            )
        };
        // In by their phone at the north door's poster: inside at this (east) station too.
        let entered = now - Duration::minutes(10);
        store
            .record_phone_check_ins("V1", &[phone("p1", "entry", entered)], zone)
            .unwrap();
        assert_eq!(inside(&store), (Presence::Inside { since: entered }, 1));
        // Out through this station's door.
        let mut out = draft_at(now - Duration::minutes(5), false);
        out.subject = Some("s1".into());
        out.direction = Direction::Exit;
        store.record(&out, PresenceEffect::Close).unwrap();
        assert_eq!(inside(&store), (Presence::Outside, 0));
        // In through this station, out through the poster's exit (pulled later, twice).
        let mut back = draft_at(now - Duration::minutes(2), false);
        back.subject = Some("s1".into());
        store.record(&back, PresenceEffect::Open).unwrap();
        assert_eq!(inside(&store).1, 1);
        let left = [phone("p2", "exit", now - Duration::minutes(1))];
        assert_eq!(store.record_phone_check_ins("V1", &left, zone).unwrap(), 1);
        assert_eq!(store.record_phone_check_ins("V1", &left, zone).unwrap(), 0);
        assert_eq!(inside(&store), (Presence::Outside, 0));
        let open: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM presence WHERE exited_at IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(open, 0, "the station's own stay row is closed too");
    }

    #[test]
    fn unsent_records_past_the_window_are_counted_for_the_administrator() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        let old = now - Duration::days(30);
        let waiting = store
            .record(&draft_at(old, false), PresenceEffect::Keep)
            .unwrap();
        let refused = store
            .record(&draft_at(old, false), PresenceEffect::Keep)
            .unwrap();
        let sent = store
            .record(&draft_at(old, false), PresenceEffect::Keep)
            .unwrap();
        store
            .record(&draft_at(now, false), PresenceEffect::Keep)
            .unwrap();
        // Queued when they happened (an offline station's clock), a month ago.
        store
            .conn
            .execute(
                "UPDATE outbox SET created_at = ?1 WHERE record_id IN (?2, ?3, ?4)",
                params![old.to_rfc3339(), waiting, refused, sent],
            )
            .unwrap();
        store.mark_sent(&[sent], now).unwrap();
        store.mark_rejected(&refused, "too_old").unwrap();
        let window = now - Duration::days(28);
        assert_eq!(store.overdue_unsent(window).unwrap(), 2);
        // Purging leaves them (and keeps counting them) until the server has them.
        store.purge_synced(window).unwrap();
        assert_eq!(store.overdue_unsent(window).unwrap(), 2);
        assert_eq!(store.count("check_ins").unwrap(), 3);
    }

    #[test]
    fn demo_records_of_another_venue_are_dropped_at_enrolment_and_history_stays() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        // Bound by hand to "V1" for the demo: a pass and a refusal with its alert.
        store
            .record(&draft_at(now, false), PresenceEffect::Keep)
            .unwrap();
        store
            .record(&draft_at(now, true), PresenceEffect::Keep)
            .unwrap();
        let mut other = draft_at(now, false);
        other.venue_id = "V2".into();
        store.record(&other, PresenceEffect::Keep).unwrap();
        assert_eq!(store.outbox_counts().unwrap(), (4, 0));
        // Enrolled at V2: V1's records never sync; V2's still do; the history keeps all three.
        assert_eq!(store.drop_unsent_of_other_venues("V2").unwrap(), 3);
        assert_eq!(store.outbox_counts().unwrap(), (1, 0));
        assert_eq!(store.count("check_ins").unwrap(), 3);
    }
}
