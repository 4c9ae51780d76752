//! The server's store on SQLite: migrations from `migrations/server/sqlite/`, venue registry, demo
//! data.
//!
//! Invariants: WAL mode; schema version in `PRAGMA user_version`; one connection behind a mutex
//! (callers run store calls on blocking threads); the only module of the server with SQL.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use venuecode_core::venue::VenueCategory;

const MIGRATIONS: &[&str] = &[include_str!("../../migrations/server/sqlite/0001_init.sql")];

/// What the store can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database schema version {found} is newer than this server knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("the database lock was poisoned by an earlier failure")]
    Poisoned,
}

/// The server's SQLite store.
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .and_then(|_| conn.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|_| conn.busy_timeout(std::time::Duration::from_secs(5)))
            .map_err(open_err)?;
        let known = MIGRATIONS.len() as i64;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > known {
            return Err(StoreError::SchemaTooNew { found, known });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// Number of venues in the registry.
    pub fn venue_count(&self) -> Result<i64, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(conn.query_row("SELECT count(*) FROM venues", [], |r| r.get(0))?)
    }

    /// Inserts the demo venues if they are not there yet (idempotent).
    pub fn seed_demo(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let demo = [
            (
                "demo-venue-0001",
                "阿拉尔市人民医院",
                VenueCategory::GovernmentPublicService,
                "659002",
                "阿拉尔市军垦大道 1 号",
            ),
            (
                "demo-venue-0002",
                "塔里木大学图书馆",
                VenueCategory::GovernmentPublicService,
                "659002",
                "阿拉尔市塔里木大道 705 号",
            ),
            (
                "demo-venue-0003",
                "幸福路农贸市场",
                VenueCategory::Business,
                "659002",
                "阿拉尔市幸福路 18 号",
            ),
        ];
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let tx = conn.transaction()?;
        for (id, name, category, region, address) in demo {
            tx.execute(
                "INSERT INTO venues (venue_id, name, category, region, address, status, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'approved', ?6)
                 ON CONFLICT (venue_id) DO NOTHING",
                params![id, name, category.code(), region, address, now.to_rfc3339()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_seed_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(store.venue_count().unwrap(), 0);
        store.seed_demo(Utc::now()).unwrap();
        let n = store.venue_count().unwrap();
        store.seed_demo(Utc::now()).unwrap();
        assert_eq!(store.venue_count().unwrap(), n);
        assert_eq!(n, 3);
    }
}
