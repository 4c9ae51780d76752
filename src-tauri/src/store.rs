//! The station's local SQLite store: opening, migrations, and typed reads and writes.
//!
//! Invariants: the database runs in WAL mode with `synchronous = FULL`, so a committed write
//! survives power loss; migrations come from `migrations/local/` in order and the schema version is
//! `PRAGMA user_version`; every write runs in a transaction; this is the only module with SQL.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use venuecode_ipc::{Language, Settings};

use crate::error::AppError;

/// The migrations, in order; index + 1 is the schema version each one produces.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/local/0001_init.sql")];

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
        let language = self
            .get_setting("language")?
            .and_then(|tag| Language::from_tag(&tag))
            .unwrap_or_default();
        Ok(Settings { language })
    }

    /// Stores the UI language.
    pub fn set_language(&mut self, language: Language) -> Result<Settings, AppError> {
        self.put_setting("language", language.tag())?;
        self.settings()
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
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
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
}
