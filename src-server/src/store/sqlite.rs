//! The store on an embedded SQLite file: the default engine, migrations from
//! `migrations/server/sqlite/`.
//!
//! Invariants: WAL mode with `synchronous = FULL`: every commit is fsync'd before it returns, and
//! a batch is acknowledged only after its commit, so an acknowledged batch survives the server
//! being killed and the machine losing power (group commit keeps the cost to one fsync for all
//! the batches waiting together); schema version in `PRAGMA user_version`; one
//! connection behind a mutex, so writes are serial; concurrent upload batches are committed
//! together (group commit), each batch still all-or-nothing.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use venuecode_core::sync::{PolicyWire, Record, VenueInfo};
use venuecode_core::trust::Revocation;

use super::{
    join_reasons, revocation_from, revocation_parts, Counts, Device, RevocationPage, Store,
    StoreError, VenueRow, DEMO_VENUES, POLICY_COLUMNS,
};

mod accounts;
mod applications;
mod days;
mod devices;
mod places;
mod readers;
mod reports;
mod retention;
mod sightings;
mod trace;

const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/server/sqlite/0001_init.sql"),
    include_str!("../../../migrations/server/sqlite/0002_sync.sql"),
    include_str!("../../../migrations/server/sqlite/0003_devices_audit.sql"),
    include_str!("../../../migrations/server/sqlite/0004_sightings.sql"),
    include_str!("../../../migrations/server/sqlite/0005_policy.sql"),
    include_str!("../../../migrations/server/sqlite/0006_accounts.sql"),
    include_str!("../../../migrations/server/sqlite/0007_applications.sql"),
    include_str!("../../../migrations/server/sqlite/0008_invitations.sql"),
    include_str!("../../../migrations/server/sqlite/0009_places.sql"),
    include_str!("../../../migrations/server/sqlite/0010_place_types.sql"),
    include_str!("../../../migrations/server/sqlite/0011_trace_audit.sql"),
    include_str!("../../../migrations/server/sqlite/0012_alert_notes.sql"),
    include_str!("../../../migrations/server/sqlite/0013_inspector_ids.sql"),
    include_str!("../../../migrations/server/sqlite/0014_capacity.sql"),
    include_str!("../../../migrations/server/sqlite/0015_venue_time_covering.sql"),
    include_str!("../../../migrations/server/sqlite/0016_subject_by_day.sql"),
    include_str!("../../../migrations/server/sqlite/0017_venue_time_statistics.sql"),
    include_str!("../../../migrations/server/sqlite/0018_check_in_key_by_id.sql"),
    include_str!("../../../migrations/server/sqlite/0019_venue_time_by_day.sql"),
];

/// The server's SQLite store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// Read-only connections for the reads that run side by side (`sqlite/readers.rs`).
    readers: readers::Readers,
    /// Batches waiting to be committed (group commit, see [`commit_group`]).
    queue: Mutex<Vec<Arc<IngestJob>>>,
}

/// One upload batch waiting for the group commit, and its outcome.
struct IngestJob {
    device_id: String,
    records: Vec<Record>,
    received_ms: i64,
    result: Mutex<Option<Result<u64, String>>>,
    done: Condvar,
}

impl IngestJob {
    fn finish(&self, r: Result<u64, String>) {
        if let Ok(mut slot) = self.result.lock() {
            *slot = Some(r);
        }
        self.done.notify_all();
    }
}

/// Group commit: whoever holds the connection stores every batch queued so far in one
/// transaction, so a b-tree page touched by several batches is written to the WAL once. Each
/// batch keeps its own all-or-nothing: if the group fails, its batches are retried one by one.
fn commit_group(conn: &mut Connection, jobs: &[Arc<IngestJob>]) {
    match insert_jobs(conn, jobs) {
        Ok(counts) => {
            for (job, n) in jobs.iter().zip(counts) {
                job.finish(Ok(n));
            }
        }
        Err(e) if jobs.len() == 1 => jobs[0].finish(Err(e.to_string())),
        Err(_) => {
            for job in jobs {
                let one = insert_jobs(conn, std::slice::from_ref(job));
                job.finish(one.map(|v| v[0]).map_err(|e| e.to_string()));
            }
        }
    }
}

/// Stores the batches in one transaction; returns how many rows of each were new.
fn insert_jobs(conn: &mut Connection, jobs: &[Arc<IngestJob>]) -> rusqlite::Result<Vec<u64>> {
    let tx = conn.transaction()?;
    let mut counts = Vec::with_capacity(jobs.len());
    {
        let mut check_in = tx.prepare_cached(
            "INSERT INTO check_ins (venue_id, id, device_id, checkpoint_id, inspector,
                 direction, at_ms, temperature, celsius, verdict, reasons, fever, code_id,
                 subject, name_masked, phone_masked, id_masked, color, manual, proxy_name,
                 proxy_phone, proxy_relation, received_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20, ?21, ?22, ?23)
             ON CONFLICT DO NOTHING",
        )?;
        let mut alert = tx.prepare_cached(
            "INSERT INTO alerts (venue_id, id, check_in_id, device_id, checkpoint_id, at_ms,
                 reasons, subject, name_masked, phone_masked, color, received_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT DO NOTHING",
        )?;
        let mut seen =
            tx.prepare_cached("UPDATE devices SET last_seen_ms = ?2 WHERE device_id = ?1")?;
        for job in jobs {
            let (device, received) = (&job.device_id, job.received_ms);
            let mut new = 0u64;
            for r in &job.records {
                new += match r {
                    Record::CheckIn(c) => check_in.execute(params![
                        c.venue_id,
                        c.id,
                        device,
                        c.checkpoint_id,
                        c.inspector,
                        c.direction,
                        c.at.timestamp_millis(),
                        c.temperature,
                        c.celsius.map(f64::from),
                        c.verdict,
                        join_reasons(&c.reasons),
                        c.fever,
                        c.code_id,
                        c.subject,
                        c.name_masked,
                        c.phone_masked,
                        c.id_masked,
                        c.color,
                        c.manual,
                        c.proxy_name,
                        c.proxy_phone,
                        c.proxy_relation,
                        received,
                    ])?,
                    Record::Alert(a) => alert.execute(params![
                        a.venue_id,
                        a.id,
                        a.check_in.id,
                        device,
                        a.check_in.checkpoint_id,
                        a.at.timestamp_millis(),
                        join_reasons(&a.reasons),
                        a.check_in.subject,
                        a.check_in.name_masked,
                        a.check_in.phone_masked,
                        a.check_in.color,
                        received,
                    ])?,
                } as u64;
            }
            seen.execute(params![device, received])?;
            counts.push(new);
        }
    }
    tx.commit()?;
    Ok(counts)
}

/// How far a commit goes before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = FULL`: every commit fsync'd (the server always uses this).
    Full,
    /// `synchronous = NORMAL`: a commit may be lost to a power cut. Only for the load benchmark's
    /// comparison, never for a server that acknowledges batches.
    NotDurableForBenchmarks,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it; commits are durable.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(path, Durability::Full)
    }

    /// [`SqliteStore::open`] with a chosen durability (the load benchmark compares both).
    pub fn open_with(path: &Path, durability: Durability) -> Result<SqliteStore, StoreError> {
        let synchronous = match durability {
            Durability::Full => "FULL",
            Durability::NotDurableForBenchmarks => "NORMAL",
        };
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .and_then(|_| conn.pragma_update(None, "synchronous", synchronous))
            .and_then(|_| conn.pragma_update(None, "foreign_keys", "ON"))
            // Ingest touches three b-trees per row (primary key, day+subject, day+venue): keep
            // their hot pages in memory, and checkpoint the WAL in larger steps — 256 MB, in
            // which a page of the current days' index parts is written many times, so the
            // checkpoint copies it into the file once.
            .and_then(|_| conn.pragma_update(None, "cache_size", -262_144))
            .and_then(|_| conn.pragma_update(None, "wal_autocheckpoint", 65_536))
            .and_then(|_| conn.busy_timeout(std::time::Duration::from_secs(5)))
            .map_err(open_err)?;
        conn.set_prepared_statement_cache_capacity(32);
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
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            readers: readers::Readers::new(path),
            queue: Mutex::new(Vec::new()),
        })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }

    /// A read-only connection: for reads a request may run beside others (tracing, statistics).
    fn reader(&self) -> Result<readers::Reader<'_>, StoreError> {
        self.readers.get()
    }
}

impl Store for SqliteStore {
    fn engine(&self) -> &'static str {
        "sqlite"
    }

    fn venue_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn()?
            .query_row("SELECT count(*) FROM venues", [], |r| r.get(0))?)
    }

    fn seed_demo(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        for v in DEMO_VENUES {
            tx.execute(
                "INSERT INTO venues (venue_id, name, category, region, address, status, created_at,
                     declaration_code, phone, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'approved', ?6, ?7, ?8, ?9)
                 ON CONFLICT (venue_id) DO UPDATE SET declaration_code = excluded.declaration_code,
                     phone = excluded.phone
                 WHERE venues.declaration_code IS NULL",
                params![
                    v.venue_id,
                    v.name,
                    v.category.code(),
                    v.region,
                    v.address,
                    now.to_rfc3339(),
                    v.declaration_code,
                    v.phone,
                    now.timestamp_millis()
                ],
            )?;
            tx.execute(
                "UPDATE venues SET lat_e6 = ?2, lon_e6 = ?3 WHERE venue_id = ?1 AND lat_e6 IS NULL",
                params![v.venue_id, v.point.0, v.point.1],
            )?;
            for (cp, name) in v.checkpoints {
                tx.execute(
                    "INSERT INTO checkpoints (venue_id, checkpoint_id, name) VALUES (?1, ?2, ?3)
                     ON CONFLICT DO NOTHING",
                    params![v.venue_id, cp, name],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn ingest(
        &self,
        device: &Device,
        records: Vec<Record>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let job = Arc::new(IngestJob {
            device_id: device.device_id.clone(),
            records,
            received_ms: now.timestamp_millis(),
            result: Mutex::new(None),
            done: Condvar::new(),
        });
        self.queue
            .lock()
            .map_err(|_| StoreError::Poisoned)?
            .push(job.clone());
        loop {
            let result = job.result.lock().map_err(|_| StoreError::Poisoned)?.take();
            if let Some(r) = result {
                return r.map_err(StoreError::Ingest);
            }
            match self.conn.try_lock() {
                Ok(mut conn) => {
                    let jobs =
                        std::mem::take(&mut *self.queue.lock().map_err(|_| StoreError::Poisoned)?);
                    if !jobs.is_empty() {
                        commit_group(&mut conn, &jobs);
                    }
                }
                Err(TryLockError::Poisoned(_)) => return Err(StoreError::Poisoned),
                Err(TryLockError::WouldBlock) => {
                    // Another request is committing; it may take this job along.
                    let guard = job.result.lock().map_err(|_| StoreError::Poisoned)?;
                    if guard.is_none() {
                        let _ = job
                            .done
                            .wait_timeout(guard, std::time::Duration::from_millis(2));
                    }
                }
            }
        }
    }

    fn venue_info(&self, venue_id: &str) -> Result<Option<(VenueInfo, PolicyWire)>, StoreError> {
        let conn = self.conn()?;
        let row = conn
            .query_row(
                &format!(
                    "SELECT venue_id, name, address, category, phone, updated_ms, {POLICY_COLUMNS}
                     FROM venues WHERE venue_id = ?1"
                ),
                [venue_id],
                |r| {
                    Ok(VenueRow {
                        venue_id: r.get(0)?,
                        name: r.get(1)?,
                        address: r.get(2)?,
                        category: r.get(3)?,
                        phone: r.get(4)?,
                        updated_ms: r.get(5)?,
                        fever_threshold_c: r.get::<_, f64>(6)? as f32,
                        accept_yellow: r.get(7)?,
                        require_nat_hours: r.get(8)?,
                        max_code_age_hours: r.get(9)?,
                        max_paper_code_age_hours: r.get(10)?,
                        max_unsigned_time_hours: r.get(11)?,
                        stale_after_hours: r.get(12)?,
                        when_stale: r.get(13)?,
                        capacity: r.get(14)?,
                    })
                },
            )
            .optional()?;
        let Some(row) = row else { return Ok(None) };
        let checkpoints = conn
            .prepare(
                "SELECT checkpoint_id, name, disabled FROM checkpoints WHERE venue_id = ?1
                 ORDER BY checkpoint_id",
            )?
            .query_map([venue_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(row.into_wire(checkpoints)))
    }

    fn set_policy(
        &self,
        venue_id: &str,
        p: &PolicyWire,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = self.conn()?.execute(
            "UPDATE venues SET fever_threshold_c = ?2, accept_yellow = ?3, require_nat_hours = ?4,
                 max_code_age_hours = ?5, max_paper_code_age_hours = ?6,
                 max_unsigned_time_hours = ?7, stale_after_hours = ?8, when_stale = ?9,
                 updated_ms = ?10, capacity = ?11
             WHERE venue_id = ?1",
            params![
                venue_id,
                f64::from(p.fever_threshold_c),
                p.accept_yellow,
                p.require_nat_within_hours,
                p.max_code_age_hours,
                p.max_paper_code_age_hours,
                p.max_unsigned_time_hours,
                p.stale_after_hours,
                p.when_stale,
                now.timestamp_millis(),
                p.capacity
            ],
        )?;
        Ok(n == 1)
    }

    fn revocations_since(&self, cursor: u64, limit: usize) -> Result<RevocationPage, StoreError> {
        let conn = self.conn()?;
        let mut until = cursor;
        let mut entries = conn
            .prepare(
                "SELECT seq, kind, target FROM revocations WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?
            .query_map(params![cursor as i64, limit as i64 + 1], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })?
            .map(|row| row.map(|(seq, kind, target)| (seq as u64, revocation_from(&kind, target))))
            .collect::<Result<Vec<_>, _>>()?;
        let more = entries.len() > limit;
        entries.truncate(limit);
        if let Some((seq, _)) = entries.last() {
            until = *seq;
        }
        Ok(RevocationPage {
            until,
            entries: entries.into_iter().map(|(_, r)| r).collect(),
            more,
        })
    }

    fn revoke(&self, r: &Revocation, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let (kind, target) = revocation_parts(r);
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO revocations (kind, target, made_ms) VALUES (?1, ?2, ?3)",
            params![kind, target.to_ascii_lowercase(), now.timestamp_millis()],
        )?;
        Ok(conn.last_insert_rowid() as u64)
    }

    fn is_revoked(&self, code_id: &str, subject: &str) -> Result<bool, StoreError> {
        let conn = self.conn()?;
        Ok(conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM revocations
                 WHERE (kind = 'code' AND target = ?1) OR (kind = 'subject' AND target = ?2))",
            params![code_id.to_ascii_lowercase(), subject.to_ascii_lowercase()],
            |r| r.get(0),
        )?)
    }

    fn check_in_ids(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn()?;
        let ids = conn
            .prepare("SELECT id FROM check_ins ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    fn alert_ids(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn()?;
        let ids = conn
            .prepare("SELECT id FROM alerts ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    fn counts(&self) -> Result<Counts, StoreError> {
        let conn = self.conn()?;
        Ok(Counts {
            check_ins: conn.query_row("SELECT count(*) FROM check_ins", [], |r| r.get(0))?,
            alerts: conn.query_row("SELECT count(*) FROM alerts", [], |r| r.get(0))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file written before migration 18 (key `(venue_id, id)`) keeps every check-in, column
    /// for column, when the table is rebuilt keyed `(id, venue_id)`, and keeps its two indexes.
    #[test]
    fn migration_18_rekeys_check_ins_and_keeps_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        {
            let c = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..17] {
                c.execute_batch(sql).unwrap();
            }
            c.pragma_update(None, "user_version", 17).unwrap();
            for (venue, id, at_ms, subject) in [
                (
                    "v-2",
                    "0190f0e0-0000-7000-8000-000000000002",
                    2_000,
                    Some("bb"),
                ),
                (
                    "v-1",
                    "0190f0e0-0000-7000-8000-000000000001",
                    1_000,
                    Some("aa"),
                ),
                ("v-1", "0190f0e0-0000-7000-8000-000000000003", 3_000, None),
            ] {
                c.execute(
                    "INSERT INTO check_ins (venue_id, id, device_id, checkpoint_id, inspector,
                         direction, at_ms, temperature, verdict, reasons, fever, subject, manual,
                         received_ms)
                     VALUES (?1, ?2, 'd', 'main', 'i', 'entry', ?3, 'normal', 'pass', '', 0, ?4,
                         0, 9)",
                    rusqlite::params![venue, id, at_ms, subject],
                )
                .unwrap();
            }
        }
        let store = SqliteStore::open(&path).unwrap();
        let c = store.conn().unwrap();
        let rows: Vec<(String, String, i64, Option<String>)> = c
            .prepare("SELECT venue_id, id, at_ms, subject FROM check_ins ORDER BY at_ms")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let short: Vec<(&str, &str, i64, Option<&str>)> = rows
            .iter()
            .map(|(v, id, at, s)| (v.as_str(), &id[33..], *at, s.as_deref()))
            .collect();
        assert_eq!(
            short,
            [
                ("v-1", "001", 1_000, Some("aa")),
                ("v-2", "002", 2_000, Some("bb")),
                ("v-1", "003", 3_000, None)
            ]
        );
        let names = |sql: &str| -> Vec<String> {
            c.prepare(sql)
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let key = names(
            "SELECT ii.name FROM pragma_index_list('check_ins') il,
                 pragma_index_info(il.name) ii WHERE il.origin = 'pk' ORDER BY ii.seqno",
        );
        assert_eq!(key, ["id", "venue_id"]);
        let indexes = names(
            "SELECT name FROM pragma_index_list('check_ins') WHERE origin = 'c' ORDER BY name",
        );
        assert_eq!(indexes, ["check_ins_subject_day", "check_ins_venue_day"]);
    }
}
