//! The database file at rest: SQLCipher's key, the file's mode, and the one-time encryption of
//! a plain database left by an older version.
//!
//! Invariants: the key is a raw 256-bit key (`x'…'`, no passphrase derivation, so opening is
//! cheap); a wrong key is reported as such, never as an empty store; encryption writes a complete
//! encrypted copy, syncs it and renames it over the plain file, so a crash at any point leaves
//! either the plain database (done again at the next start) or the encrypted one.

use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use venuecode_core::keys::hex;

use crate::error::AppError;

/// The first 16 bytes of a plain SQLite database.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Whether `path` holds a plain (unencrypted) SQLite database.
pub(super) fn is_plain(path: &Path) -> std::io::Result<bool> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let mut head = [0u8; 16];
    match file.read_exact(&mut head) {
        Ok(()) => Ok(&head == PLAIN_HEADER),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// Creates `path` empty with mode 0600 if it does not exist (SQLite's WAL and shared-memory
/// files then get the same mode); tightens an existing file to 0600.
pub(super) fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", path.display()));
            if p.exists() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}

fn key_literal(key: &[u8; 32]) -> String {
    format!("\"x'{}'\"", hex(key))
}

/// Gives `conn` the key (its first statement) and checks that the key reads the file.
pub(super) fn key(conn: &Connection, key: &[u8; 32], path: &Path) -> Result<(), AppError> {
    conn.execute_batch(&format!("PRAGMA key = {};", key_literal(key)))
        .map_err(|source| AppError::Database {
            path: path.to_path_buf(),
            source,
        })?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(AppError::WrongKey {
                path: path.to_path_buf(),
            })
        }
        Err(source) => Err(AppError::Database {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Encrypts the plain database at `path` under `key`, in place and atomically.
pub(super) fn encrypt_in_place(path: &Path, key: &[u8; 32]) -> Result<(), AppError> {
    let db = |source| AppError::Database {
        path: path.to_path_buf(),
        source,
    };
    let io = |source| AppError::DataDir {
        path: path.to_path_buf(),
        source,
    };
    let tmp = PathBuf::from(format!("{}.encrypting", path.display()));
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", tmp.display()));
    }
    create_private(&tmp).map_err(io)?;
    {
        let plain = Connection::open(path).map_err(db)?;
        // Everything written so far into the main file, so the copy sees all of it.
        plain
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(db)?;
        let version: i64 = plain
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db)?;
        let target = tmp.to_string_lossy().replace('\'', "''");
        plain
            .execute_batch(&format!(
                "ATTACH DATABASE '{target}' AS encrypted KEY {};",
                key_literal(key)
            ))
            .map_err(db)?;
        plain
            .query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))
            .map_err(db)?;
        plain
            .execute_batch(&format!(
                "PRAGMA encrypted.user_version = {version}; DETACH DATABASE encrypted;"
            ))
            .map_err(db)?;
    }
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    if let Some(parent) = path.parent() {
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Store, DB_FILE, MIGRATIONS};
    use super::*;

    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_store_is_encrypted_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("station");
        let mut store = Store::open(&data).unwrap();
        store.put_setting("language", "en").unwrap();
        let db = data.join(DB_FILE);
        assert!(!is_plain(&db).unwrap());
        assert_eq!(mode(&data), 0o700);
        for f in [DB_FILE, "station.db-wal", "station.db-shm"] {
            assert_eq!(mode(&data.join(f)), 0o600, "{f}");
        }
        // Without the key, SQLite sees no database.
        let raw = Connection::open(&db).unwrap();
        let err = raw
            .query_row("SELECT count(*) FROM settings", [], |r| r.get::<_, i64>(0))
            .unwrap_err();
        assert!(err.to_string().contains("not a database"), "{err}");
        // With another key, the store says so.
        let other = Connection::open(&db).unwrap();
        match key(&other, &[7u8; 32], &db) {
            Err(AppError::WrongKey { .. }) => {}
            other => panic!("expected WrongKey, got {other:?}"),
        }
    }

    #[test]
    fn a_plain_database_is_encrypted_once_with_its_data_and_secret() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("station");
        std::fs::create_dir_all(&data).unwrap();
        let db = data.join(DB_FILE);
        let legacy = [9u8; 32];
        {
            // An older version's store: plain, WAL, the pseudonym secret in its settings.
            let mut plain = Connection::open(&db).unwrap();
            plain.pragma_update(None, "journal_mode", "WAL").unwrap();
            for (i, sql) in MIGRATIONS.iter().enumerate() {
                let tx = plain.transaction().unwrap();
                tx.execute_batch(sql).unwrap();
                tx.pragma_update(None, "user_version", (i + 1) as i64)
                    .unwrap();
                tx.commit().unwrap();
            }
            plain
                .execute_batch(&format!(
                    "INSERT INTO settings (key, value) VALUES ('local_secret', '{}'),
                                                          ('inspector', '王五');",
                    hex(&legacy)
                ))
                .unwrap();
            std::mem::forget(plain); // as if the old app had crashed: the WAL is left behind
        }
        assert!(is_plain(&db).unwrap());
        let mut store = Store::open(&data).unwrap();
        assert!(!is_plain(&db).unwrap());
        assert!(!PathBuf::from(format!("{}.encrypting", db.display())).exists());
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(
            store.get_setting("inspector").unwrap().as_deref(),
            Some("王五")
        );
        // The secret left the database for the key store, and is still the same secret.
        assert_eq!(store.local_secret().unwrap(), legacy);
        assert_eq!(store.get_setting("local_secret").unwrap(), None);
        drop(store);
        let again = Store::open(&data).unwrap();
        assert_eq!(again.pseudonym_key, legacy);
        let bytes = std::fs::read(&db).unwrap();
        let needle = "王五".as_bytes();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    }
}
