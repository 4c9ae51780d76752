//! Read-only connections beside the store's one writing connection. In WAL mode a reader sees the
//! last commit and neither waits for the writer nor holds it up, so the reads a request runs side
//! by side — a trace's window readers, a venue's counts beside who is inside now — run on both
//! cores instead of taking turns on the writer's mutex, and a long read never holds up an upload.
//!
//! Invariants: a reader cannot write (opened `SQLITE_OPEN_READ_ONLY`); one is opened when none is
//! idle, and at most [`KEPT`] idle ones are kept (each keeps its prepared statements).

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use crate::store::StoreError;

/// Idle readers kept for the next reads.
const KEPT: usize = 4;

/// The read-only connections of one database file.
pub(super) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// A reader lent out; back to the idle ones when dropped.
pub(super) struct Reader<'a> {
    pool: &'a Readers,
    conn: Option<Connection>,
}

impl Readers {
    pub(super) fn new(path: &Path) -> Readers {
        Readers {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle reader, or a new one.
    pub(super) fn get(&self) -> Result<Reader<'_>, StoreError> {
        let idle = self.idle.lock().map_err(|_| StoreError::Poisoned)?.pop();
        let conn = match idle {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                c.busy_timeout(std::time::Duration::from_secs(5))?;
                c.pragma_update(None, "cache_size", -65_536)?;
                c.set_prepared_statement_cache_capacity(32);
                c
            }
        };
        Ok(Reader {
            pool: self,
            conn: Some(conn),
        })
    }
}

impl Deref for Reader<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // Present from `get` until `drop`.
        self.conn
            .as_ref()
            .expect("a lent reader holds its connection")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut idle)) = (self.conn.take(), self.pool.idle.lock()) {
            if idle.len() < KEPT {
                idle.push(conn);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_sees_the_last_commit_and_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER);")
            .unwrap();
        let readers = Readers::new(&path);
        let count = |r: &Connection| -> i64 {
            r.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap()
        };
        {
            let r = readers.get().unwrap();
            assert_eq!(count(&r), 0);
            writer.execute("INSERT INTO t VALUES (1)", []).unwrap();
            assert_eq!(count(&r), 1, "a new read sees the commit");
            assert!(r.execute("INSERT INTO t VALUES (2)", []).is_err());
        }
        // Returned and lent again, not opened anew.
        assert_eq!(readers.idle.lock().unwrap().len(), 1);
        let (a, b) = (readers.get().unwrap(), readers.get().unwrap());
        assert_eq!(readers.idle.lock().unwrap().len(), 0);
        drop((a, b));
        assert_eq!(readers.idle.lock().unwrap().len(), 2);
    }
}
