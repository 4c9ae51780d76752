//! Loading the history into a store as a city's stations deliver it (a day at a time, in time
//! order, from concurrent uploaders), the PostgreSQL server's settings, and removing what a
//! measurement added so a kept database stays the history it was loaded with.

use std::time::Instant;

use anyhow::Result;
use chrono::{DateTime, Utc};
use venuecode_core::sync::Record;
use venuecode_server::history::{self, Spec, VenueSeed};
use venuecode_server::store::{Device, Store};

/// The PostgreSQL server is configured as a deployment on this machine would be (2 cores,
/// 24 GB; docs/SCALING.md), not with the tests' small defaults: a quarter of memory for shared
/// buffers, checkpoints spread over 15 minutes, full-page images compressed with LZ4 (pglz, what
/// `on` means, was a sixth of the server's time under ingest). Commits stay
/// synchronous: an acknowledged upload is durable.
pub const PRODUCTION_PG: &[&str] = &[
    "shared_buffers=6GB",
    "effective_cache_size=18GB",
    "maintenance_work_mem=1GB",
    "work_mem=16MB",
    "wal_buffers=16MB",
    "max_wal_size=4GB",
    "min_wal_size=1GB",
    "checkpoint_timeout=15min",
    "checkpoint_completion_target=0.9",
    "wal_compression=lz4",
    "random_page_cost=1.1",
    "effective_io_concurrency=200",
    "synchronous_commit=on",
];

/// Where the history goes, addressed with the engine's own client (for what the `Store` trait
/// has no call for: the venues in bulk, and removing a measurement's rows).
pub enum Target {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

fn device() -> Device {
    Device {
        device_id: "00000000000b3c40".into(),
        public_key: "00".into(),
        venue_id: "hv-0000000".into(),
        checkpoint_id: "main".into(),
        inspector: "bench".into(),
        revoked: false,
        enrolled_at: DateTime::from_timestamp(0, 0).unwrap_or_default(),
        pending: false,
    }
}

/// Inserts the venues (approved).
pub fn insert_venues(target: &Target, venues: &[VenueSeed]) -> Result<()> {
    const SQL: &str = "INSERT INTO venues (venue_id, name, category, region, address, status, \
        created_at) VALUES ($1, $2, $3, $4, '茂名市', 'approved', '2026-01-01T00:00:00Z')";
    match target {
        Target::Sqlite(path) => {
            let mut c = rusqlite::Connection::open(path)?;
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare(&SQL.replace('$', "?"))?;
                for v in venues {
                    st.execute(rusqlite::params![v.venue_id, v.name, v.category, v.region])?;
                }
            }
            tx.commit()?;
        }
        Target::Postgres(url) => {
            let mut c = postgres::Client::connect(url, postgres::NoTls)?;
            let mut tx = c.transaction()?;
            let st = tx.prepare(SQL)?;
            for v in venues {
                tx.execute(&st, &[&v.venue_id, &v.name, &v.category, &v.region])?;
            }
            tx.commit()?;
            c.batch_execute("ANALYZE venues")?;
        }
    }
    Ok(())
}

/// SQLite: copies what the WAL holds into the database file and empties the WAL (what the store's
/// automatic checkpoints do every 256 MB), so a measurement that ends with it has paid for every
/// page its rows dirtied; returns how long it took. PostgreSQL: nothing (its checkpoints are
/// spread over 15 minutes on a running server).
pub fn checkpoint(target: &Target) -> Result<std::time::Duration> {
    let t = Instant::now();
    if let Target::Sqlite(path) = target {
        let c = rusqlite::Connection::open(path)?;
        c.busy_timeout(std::time::Duration::from_secs(30))?;
        let busy: i64 = c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        anyhow::ensure!(busy == 0, "the WAL checkpoint could not finish");
    }
    Ok(t.elapsed())
}

/// Removes `records` (check-ins and alerts, by key) — the day a measurement ingested after the
/// history — so a kept database measures the same history next time. The rows removed.
pub fn forget(target: &Target, records: &[Record]) -> Result<u64> {
    const SQL: [&str; 2] = [
        "DELETE FROM check_ins WHERE venue_id = $1 AND id = $2",
        "DELETE FROM alerts WHERE venue_id = $1 AND id = $2",
    ];
    let table = |r: &Record| usize::from(matches!(r, Record::Alert(_)));
    let mut n = 0;
    match target {
        Target::Sqlite(path) => {
            let mut c = rusqlite::Connection::open(path)?;
            c.busy_timeout(std::time::Duration::from_secs(30))?;
            let tx = c.transaction()?;
            for r in records {
                let mut st = tx.prepare_cached(&SQL[table(r)].replace('$', "?"))?;
                n += st.execute([r.venue_id(), r.id()])? as u64;
            }
            tx.commit()?;
        }
        Target::Postgres(url) => {
            let mut c = postgres::Client::connect(url, postgres::NoTls)?;
            for (t, sql) in SQL.iter().enumerate() {
                let mine: Vec<&Record> = records.iter().filter(|r| table(r) == t).collect();
                let sql = format!(
                    "{} IN (SELECT * FROM unnest($1::text[], $2::text[]))",
                    sql.replace("venue_id = $1 AND id = $2", "(venue_id, id)")
                );
                for chunk in mine.chunks(10_000) {
                    let venues: Vec<&str> = chunk.iter().map(|r| r.venue_id()).collect();
                    let ids: Vec<&str> = chunk.iter().map(|r| r.id()).collect();
                    n += c.execute(&sql, &[&venues, &ids])?;
                }
            }
            // The next run inserts among the removed rows' dead index entries, which autovacuum
            // would leave for long (a day is far below its threshold): each run would insert
            // into more of them. Minutes at ten times 茂名 (every index is scanned).
            c.batch_execute("VACUUM check_ins")?;
            c.batch_execute("VACUUM alerts")?;
        }
    }
    Ok(n)
}

/// A day's records in the order a city's stations deliver them: by time (each station uploads
/// what it has just recorded, so the server's stream interleaves the venues).
pub fn in_arrival_order(by_venue: Vec<(String, Vec<Record>)>) -> Vec<Record> {
    let mut all: Vec<Record> = by_venue.into_iter().flat_map(|(_, r)| r).collect();
    all.sort_by_key(Record::at);
    all
}

/// Loads the history; the rate.
pub fn load(store: &dyn Store, spec: &Spec, venues: &[VenueSeed], uploaders: usize) -> Result<f64> {
    let started = Instant::now();
    let mut rows = 0u64;
    for d in 0..spec.days {
        rows += upload(
            store,
            &in_arrival_order(history::day(spec, venues, d)),
            uploaders,
        )?;
        eprint!(
            "\r  day {}/{}: {rows} rows, {:.0} rows/s   ",
            d + 1,
            spec.days,
            rows as f64 / started.elapsed().as_secs_f64()
        );
    }
    eprintln!();
    Ok(rows as f64 / started.elapsed().as_secs_f64())
}

/// Stores `records` in batches of 1,000 from `uploaders` concurrent uploaders: batch i goes to
/// uploader i % N, so together they deliver the stream in its order, as a city's stations do,
/// and the store may commit their batches together. The rows that were new.
pub fn upload(store: &dyn Store, records: &[Record], uploaders: usize) -> Result<u64> {
    let chunks: Vec<&[Record]> = records.chunks(1_000).collect();
    std::thread::scope(|scope| -> Result<u64> {
        let workers: Vec<_> = (0..uploaders)
            .map(|w| {
                let chunks = &chunks;
                scope.spawn(move || -> Result<u64> {
                    let mut new = 0;
                    for chunk in chunks.iter().skip(w).step_by(uploaders) {
                        new += store.ingest(&device(), chunk.to_vec(), Utc::now())?;
                    }
                    Ok(new)
                })
            })
            .collect();
        let mut new = 0;
        for w in workers {
            new += w
                .join()
                .map_err(|_| anyhow::anyhow!("an uploader panicked"))??;
        }
        Ok(new)
    })
}
