//! The store on PostgreSQL (real deployments): migrations from `migrations/server/postgres/`, a
//! small, bounded connection pool that reconnects after the database restarts; each connection
//! keeps its queries prepared (`Conn`).
//!
//! Invariants: a batch is one transaction and one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO
//! NOTHING` per table, so ingest costs one round trip per table whatever the batch size; a
//! connection that failed below SQL (closed, reset) is dropped, never reused; migrations run under
//! an advisory lock, so servers starting together do not race; every session runs with
//! `synchronous_commit = on` and the server refuses a cluster with `fsync = off`, so a batch the
//! server acknowledged (after its commit) survives a power cut.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use postgres::Client;

use columns::{insert_batch, AlertColumns, CheckInColumns, INSERT_ALERTS, INSERT_CHECK_INS};
use pgtls::PgTls;
use pool::Conn;
use venuecode_core::sync::{PolicyWire, Record, VenueInfo};
use venuecode_core::trust::Revocation;

use super::{
    join_reasons, revocation_from, revocation_parts, Counts, Device, RevocationPage, Store,
    StoreError, VenueRow, DEMO_VENUES, POLICY_COLUMNS,
};

mod accounts;
mod applications;
mod columns;
mod devices;
pub mod pgtls;
mod places;
mod pool;
mod reports;
mod retention;
mod sightings;
mod trace;

const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/server/postgres/0001_init.sql"),
    include_str!("../../../migrations/server/postgres/0002_sync.sql"),
    include_str!("../../../migrations/server/postgres/0003_devices_audit.sql"),
    include_str!("../../../migrations/server/postgres/0004_sightings.sql"),
    include_str!("../../../migrations/server/postgres/0005_policy.sql"),
    include_str!("../../../migrations/server/postgres/0006_accounts.sql"),
    include_str!("../../../migrations/server/postgres/0007_applications.sql"),
    include_str!("../../../migrations/server/postgres/0008_invitations.sql"),
    include_str!("../../../migrations/server/postgres/0009_places.sql"),
    include_str!("../../../migrations/server/postgres/0010_place_types.sql"),
    include_str!("../../../migrations/server/postgres/0011_trace_audit.sql"),
    include_str!("../../../migrations/server/postgres/0012_alert_notes.sql"),
    include_str!("../../../migrations/server/postgres/0013_inspector_ids.sql"),
    include_str!("../../../migrations/server/postgres/0014_capacity.sql"),
    include_str!("../../../migrations/server/postgres/0015_venue_time_covering.sql"),
    include_str!("../../../migrations/server/postgres/0016_subject_by_day.sql"),
    include_str!("../../../migrations/server/postgres/0017_venue_time_statistics.sql"),
    include_str!("../../../migrations/server/postgres/0018_check_in_key_by_id.sql"),
];

/// Check-ins after which the server first refreshes `check_ins` statistics itself; then at
/// twice as many, and so on up to [`LAST_ANALYZE`] (autovacuum's own schedule takes over).
const FIRST_ANALYZE: u64 = 5_000;
const LAST_ANALYZE: u64 = 10_000_000;
/// Arbitrary key of the advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x5643_4d49_4752;

/// The server's PostgreSQL store.
pub struct PgStore {
    config: postgres::Config,
    /// Plain or verified TLS, as the URL's `sslmode` asks ([`pgtls`]).
    tls: PgTls,
    idle: Mutex<Vec<Conn>>,
    /// Connections in use or being opened; at most [`MAX_CONNECTIONS`].
    in_use: Mutex<usize>,
    /// Check-ins this process stored, and the count at which it next refreshes the planner's
    /// statistics ([`PgStore::keep_statistics`]).
    ingested: std::sync::atomic::AtomicU64,
    analyze_at: std::sync::atomic::AtomicU64,
    freed: Condvar,
}

impl PgStore {
    /// Connects to `url` and migrates the schema. `sslmode=verify-full&sslrootcert=CA.pem` (or
    /// `verify-ca`, `require`) connects over TLS only, verified against that CA ([`pgtls`]).
    pub fn open(url: &str) -> Result<PgStore, StoreError> {
        let (mut config, tls) = pgtls::parse(url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let store = PgStore {
            config,
            tls,
            idle: Mutex::new(Vec::new()),
            in_use: Mutex::new(0),
            freed: Condvar::new(),
            ingested: std::sync::atomic::AtomicU64::new(0),
            analyze_at: std::sync::atomic::AtomicU64::new(FIRST_ANALYZE),
        };
        store.with(|c| {
            let fsync: String = c.query_one("SHOW fsync", &[])?.get(0);
            if fsync != "on" {
                return Err(StoreError::NotDurable(format!(
                    "PostgreSQL runs with fsync = {fsync}: acknowledged batches would not survive \
                     a power cut; set fsync = on"
                )));
            }
            migrate(c)
        })?;
        Ok(store)
    }
}

impl PgStore {
    /// Refreshes the planner's statistics of `check_ins` when this process's ingest doubled
    /// since the last time. A table that grew from nothing faster than autovacuum looks (it
    /// wakes once a minute) is planned as nearly empty, and the one read by subject (sighting
    /// detection, tracing) then scans the whole table for every batch: measured, ingest fell from
    /// 44k to 15k check-ins/s before this.
    fn keep_statistics(&self, new: u64) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let total = self.ingested.fetch_add(new, Ordering::Relaxed) + new;
        let at = self.analyze_at.load(Ordering::Relaxed);
        if total < at || at > LAST_ANALYZE {
            return Ok(());
        }
        // One caller wins the doubling and runs ANALYZE (a sample: bounded cost at any size).
        if self
            .analyze_at
            .compare_exchange(at, at * 2, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            self.with(|c| Ok(c.batch_execute("ANALYZE check_ins")?))?;
        }
        Ok(())
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Closing a client blocks on the client's own runtime, which panics on an async worker
        // thread (the server drops its state there at shutdown): close them on a plain thread.
        let idle = self.idle.get_mut().map(std::mem::take).unwrap_or_default();
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

fn migrate(c: &mut Client) -> Result<(), StoreError> {
    let mut tx = c.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
    let found: i64 = tx
        .query_opt("SELECT version FROM schema_version", &[])?
        .map(|r| r.get(0))
        .unwrap_or(0);
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for sql in MIGRATIONS.iter().skip(found as usize) {
        tx.batch_execute(sql)?;
    }
    tx.execute("DELETE FROM schema_version", &[])?;
    tx.execute(
        "INSERT INTO schema_version (version) VALUES ($1)",
        &[&known],
    )?;
    tx.commit()?;
    Ok(())
}

impl Store for PgStore {
    fn engine(&self) -> &'static str {
        "postgres"
    }

    fn venue_count(&self) -> Result<i64, StoreError> {
        self.with(|c| Ok(c.query_one("SELECT count(*) FROM venues", &[])?.get(0)))
    }

    fn seed_demo(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            for v in DEMO_VENUES {
                tx.execute(
                    "INSERT INTO venues (venue_id, name, category, region, address, status,
                         created_at, declaration_code, phone, updated_ms)
                     VALUES ($1, $2, $3, $4, $5, 'approved', $6, $7, $8, $9)
                     ON CONFLICT (venue_id) DO UPDATE SET
                         declaration_code = excluded.declaration_code, phone = excluded.phone
                     WHERE venues.declaration_code IS NULL",
                    &[
                        &v.venue_id,
                        &v.name,
                        &v.category.code(),
                        &v.region,
                        &v.address,
                        &now.to_rfc3339(),
                        &v.declaration_code,
                        &v.phone,
                        &now.timestamp_millis(),
                    ],
                )?;
                tx.execute(
                    "UPDATE venues SET lat_e6 = $2, lon_e6 = $3
                     WHERE venue_id = $1 AND lat_e6 IS NULL",
                    &[&v.venue_id, &v.point.0, &v.point.1],
                )?;
                for (cp, name) in v.checkpoints {
                    tx.execute(
                        "INSERT INTO checkpoints (venue_id, checkpoint_id, name)
                         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                        &[&v.venue_id, cp, name],
                    )?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn ingest(
        &self,
        device: &Device,
        records: Vec<Record>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let records = records.as_slice();
        let mut ci = CheckInColumns::default();
        let mut al = AlertColumns::default();
        for r in records {
            match r {
                Record::CheckIn(c) => {
                    ci.venue_id.push(&c.venue_id);
                    ci.id.push(&c.id);
                    ci.checkpoint_id.push(&c.checkpoint_id);
                    ci.inspector.push(&c.inspector);
                    ci.direction.push(&c.direction);
                    ci.at_ms.push(c.at.timestamp_millis());
                    ci.temperature.push(&c.temperature);
                    ci.celsius.push(c.celsius);
                    ci.verdict.push(&c.verdict);
                    ci.reasons.push(join_reasons(&c.reasons));
                    ci.fever.push(c.fever);
                    ci.code_id.push(c.code_id.as_deref());
                    ci.subject.push(c.subject.as_deref());
                    ci.name_masked.push(c.name_masked.as_deref());
                    ci.phone_masked.push(c.phone_masked.as_deref());
                    ci.id_masked.push(c.id_masked.as_deref());
                    ci.color.push(c.color.as_deref());
                    ci.manual.push(c.manual);
                    ci.proxy_name.push(c.proxy_name.as_deref());
                    ci.proxy_phone.push(c.proxy_phone.as_deref());
                    ci.proxy_relation.push(c.proxy_relation.as_deref());
                }
                Record::Alert(a) => {
                    al.venue_id.push(&a.check_in.venue_id);
                    al.id.push(&a.id);
                    al.check_in_id.push(&a.check_in.id);
                    al.checkpoint_id.push(&a.check_in.checkpoint_id);
                    al.at_ms.push(a.at.timestamp_millis());
                    al.reasons.push(join_reasons(&a.reasons));
                    al.subject.push(a.check_in.subject.as_deref());
                    al.name_masked.push(a.check_in.name_masked.as_deref());
                    al.phone_masked.push(a.check_in.phone_masked.as_deref());
                    al.color.push(a.check_in.color.as_deref());
                }
            }
        }
        let received = now.timestamp_millis();
        self.with(|c| {
            let prepare = |c: &mut Conn, sql: [&str; 2]| -> Result<_, postgres::Error> {
                Ok([c.prepared(sql[0])?, c.prepared(sql[1])?])
            };
            let alerts = prepare(c, INSERT_ALERTS)?;
            let check_ins = prepare(c, INSERT_CHECK_INS)?;
            let mut tx = c.transaction()?;
            let mut new = 0;
            if !al.id.is_empty() {
                new += insert_batch(
                    &mut tx,
                    &alerts,
                    &[
                        &al.venue_id,
                        &device.device_id,
                        &received,
                        &al.id,
                        &al.check_in_id,
                        &al.checkpoint_id,
                        &al.at_ms,
                        &al.reasons,
                        &al.subject,
                        &al.name_masked,
                        &al.phone_masked,
                        &al.color,
                    ],
                )?;
            }
            if !ci.id.is_empty() {
                new += insert_batch(
                    &mut tx,
                    &check_ins,
                    &[
                        &ci.venue_id,
                        &device.device_id,
                        &received,
                        &ci.id,
                        &ci.checkpoint_id,
                        &ci.inspector,
                        &ci.direction,
                        &ci.at_ms,
                        &ci.temperature,
                        &ci.celsius,
                        &ci.verdict,
                        &ci.reasons,
                        &ci.fever,
                        &ci.code_id,
                        &ci.subject,
                        &ci.name_masked,
                        &ci.phone_masked,
                        &ci.id_masked,
                        &ci.color,
                        &ci.manual,
                        &ci.proxy_name,
                        &ci.proxy_phone,
                        &ci.proxy_relation,
                    ],
                )?;
            }
            tx.execute(
                "UPDATE devices SET last_seen_ms = $2 WHERE device_id = $1",
                &[&device.device_id, &received],
            )?;
            tx.commit()?;
            Ok(new)
        })
        .and_then(|new| {
            self.keep_statistics(new)?;
            Ok(new)
        })
    }

    fn venue_info(&self, venue_id: &str) -> Result<Option<(VenueInfo, PolicyWire)>, StoreError> {
        self.with(|c| {
            let Some(r) = c.query_opt(
                &format!(
                    "SELECT venue_id, name, address, category, phone, updated_ms, {POLICY_COLUMNS}
                     FROM venues WHERE venue_id = $1"
                ),
                &[&venue_id],
            )?
            else {
                return Ok(None);
            };
            let row = VenueRow {
                venue_id: r.get(0),
                name: r.get(1),
                address: r.get(2),
                category: r.get(3),
                phone: r.get(4),
                updated_ms: r.get(5),
                fever_threshold_c: r.get(6),
                accept_yellow: r.get(7),
                require_nat_hours: r.get(8),
                max_code_age_hours: r.get(9),
                max_paper_code_age_hours: r.get(10),
                max_unsigned_time_hours: r.get(11),
                stale_after_hours: r.get(12),
                when_stale: r.get(13),
                capacity: r.get::<_, Option<i32>>(14).map(i64::from),
            };
            let checkpoints = c
                .query(
                    "SELECT checkpoint_id, name, disabled FROM checkpoints WHERE venue_id = $1
                     ORDER BY checkpoint_id",
                    &[&venue_id],
                )?
                .into_iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect();
            Ok(Some(row.into_wire(checkpoints)))
        })
    }

    fn set_policy(
        &self,
        venue_id: &str,
        p: &PolicyWire,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE venues SET fever_threshold_c = $2, accept_yellow = $3,
                     require_nat_hours = $4, max_code_age_hours = $5,
                     max_paper_code_age_hours = $6, max_unsigned_time_hours = $7,
                     stale_after_hours = $8, when_stale = $9, updated_ms = $10,
                     capacity = $11
                 WHERE venue_id = $1",
                &[
                    &venue_id,
                    &p.fever_threshold_c,
                    &p.accept_yellow,
                    &p.require_nat_within_hours,
                    &p.max_code_age_hours,
                    &p.max_paper_code_age_hours,
                    &p.max_unsigned_time_hours,
                    &p.stale_after_hours,
                    &p.when_stale,
                    &now.timestamp_millis(),
                    &p.capacity.map(|c| c.min(i32::MAX as u32) as i32),
                ],
            )?;
            Ok(n == 1)
        })
    }

    fn revocations_since(&self, cursor: u64, limit: usize) -> Result<RevocationPage, StoreError> {
        self.with(|c| {
            let mut entries: Vec<(u64, Revocation)> = c
                .query(
                    "SELECT seq, kind, target FROM revocations WHERE seq > $1 ORDER BY seq LIMIT $2",
                    &[&(cursor as i64), &(limit as i64 + 1)],
                )?
                .into_iter()
                .map(|r| {
                    (
                        r.get::<_, i64>(0) as u64,
                        revocation_from(r.get(1), r.get(2)),
                    )
                })
                .collect();
            let more = entries.len() > limit;
            entries.truncate(limit);
            Ok(RevocationPage {
                until: entries.last().map_or(cursor, |(seq, _)| *seq),
                entries: entries.into_iter().map(|(_, r)| r).collect(),
                more,
            })
        })
    }

    fn revoke(&self, r: &Revocation, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let (kind, target) = revocation_parts(r);
        let target = target.to_ascii_lowercase();
        self.with(|c| {
            // Serialise revocations: a sequence value taken by a transaction that commits later
            // than a higher one would be skipped by a station whose cursor already passed it.
            let mut tx = c.transaction()?;
            tx.batch_execute("LOCK TABLE revocations IN EXCLUSIVE MODE")?;
            let seq: i64 = tx
                .query_one(
                    "INSERT INTO revocations (kind, target, made_ms) VALUES ($1, $2, $3)
                     RETURNING seq",
                    &[&kind, &target, &now.timestamp_millis()],
                )?
                .get(0);
            tx.commit()?;
            Ok(seq as u64)
        })
    }

    fn is_revoked(&self, code_id: &str, subject: &str) -> Result<bool, StoreError> {
        let (code_id, subject) = (code_id.to_ascii_lowercase(), subject.to_ascii_lowercase());
        self.with(|c| {
            Ok(c.query_one(
                "SELECT EXISTS (SELECT 1 FROM revocations
                     WHERE (kind = 'code' AND target = $1) OR (kind = 'subject' AND target = $2))",
                &[&code_id, &subject],
            )?
            .get(0))
        })
    }

    fn check_in_ids(&self) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            Ok(c.query("SELECT id FROM check_ins ORDER BY id", &[])?
                .into_iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn alert_ids(&self) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            Ok(c.query("SELECT id FROM alerts ORDER BY id", &[])?
                .into_iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn counts(&self) -> Result<Counts, StoreError> {
        self.with(|c| {
            let r = c.query_one(
                "SELECT (SELECT count(*) FROM check_ins), (SELECT count(*) FROM alerts)",
                &[],
            )?;
            Ok(Counts {
                check_ins: r.get(0),
                alerts: r.get(1),
            })
        })
    }
}
