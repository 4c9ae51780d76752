//! `historybench`: loads realistic history (the `history` generator: 茂名 scale, or TIMES over)
//! into a store and times, through the real router, what people do with it: tracing one person
//! over 14 days with everyone co-present (p50/p95 over 1,000 random people), one venue-day's
//! statistics (p50/p95 over 200 venues, the busiest included), the alerts view's first page —
//! then ingest while the tables hold the history. SQLite and PostgreSQL (a throwaway cluster)
//! in one run, one table printed at the end.
//!
//! Usage: `cargo run --release -p venuecode-server --features test-support --bin historybench --
//! [--times 1] [--fraction 1.0] [--engine sqlite|postgres|both] [--dir DIR] [--reuse]
//! [--uploaders 8] [--ingest-only]`.
//! - `--dir DIR` keeps the databases in DIR (the SQLite file, the PostgreSQL cluster in its own
//!   folder, each beside a note of the history it holds); `--reuse` measures what DIR holds
//!   instead of loading it again (each load takes minutes at 茂名 scale, about half an hour on
//!   PostgreSQL at `--times 10`; disk: ~0.4 GB per million check-ins). The day the ingest
//!   measurement adds is removed afterwards (a run stopped during it leaves it), so every run
//!   over a kept database measures the same history. A new history's "now" is 16:00 China time
//!   on its last day (the afternoon peak); a run over a kept one hours later finds fewer people
//!   inside the busiest venue (it says so).
//! - `--uploaders`: concurrent uploaders for loading and for the ingest measurement;
//!   `--ingest-only`: skip tracing, statistics and alerts.

mod load;
mod queries;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use load::{checkpoint, forget, in_arrival_order, insert_venues, upload, Target, PRODUCTION_PG};
use queries::{measure_queries, QueryFigures};
use venuecode_server::history::{self, Spec, VenueSeed};
use venuecode_server::pgcluster::{ClusterError, TempCluster};
use venuecode_server::store::{self, Store};
use venuecode_server::{app, AppState};

struct Args {
    times: u64,
    /// A fraction of the scale, for a quick look (1.0: the whole).
    fraction: f64,
    engine: String,
    /// Where the databases are kept (a temp dir, removed at the end, without it).
    dir: Option<PathBuf>,
    /// Measure the databases already in `--dir` instead of generating and loading them again.
    reuse: bool,
    /// Measure ingest only (no tracing, statistics or alerts).
    ingest_only: bool,
    /// Concurrent uploaders of the ingest measurement (the stations of a city upload at once).
    uploaders: usize,
}

fn parse() -> Result<Args> {
    let mut a = Args {
        times: 1,
        fraction: 1.0,
        engine: "both".into(),
        dir: None,
        reuse: false,
        ingest_only: false,
        uploaders: 8,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().with_context(|| format!("{k} needs a value"));
        match k.as_str() {
            "--times" => a.times = v()?.parse()?,
            "--fraction" => a.fraction = v()?.parse()?,
            "--engine" => a.engine = v()?,
            "--dir" => a.dir = Some(v()?.into()),
            "--reuse" => a.reuse = true,
            "--ingest-only" => a.ingest_only = true,
            "--uploaders" => a.uploaders = v()?.parse::<usize>()?.max(1),
            other => anyhow::bail!("unknown argument {other:?}"),
        }
    }
    anyhow::ensure!(
        !a.reuse || a.dir.is_some(),
        "--reuse measures what --dir holds: name the directory"
    );
    Ok(a)
}

/// The note beside a kept database: which history it holds (scale and start), so a later run
/// measures the same days and refuses a database of another scale.
fn note_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".history");
    PathBuf::from(name)
}

fn write_note(db: &Path, a: &Args, start: DateTime<Utc>) -> Result<()> {
    std::fs::write(
        note_path(db),
        format!("{} {} {}\n", a.times, a.fraction, start.to_rfc3339()),
    )?;
    Ok(())
}

/// The start of the history kept at `db`, checked against this run's scale.
fn read_note(db: &Path, a: &Args) -> Result<DateTime<Utc>> {
    let note = std::fs::read_to_string(note_path(db)).with_context(|| {
        format!(
            "{} has no note of the history it holds: load it again (without --reuse)",
            db.display()
        )
    })?;
    let mut parts = note.split_whitespace();
    let (times, fraction, start) = (parts.next(), parts.next(), parts.next());
    anyhow::ensure!(
        times == Some(a.times.to_string().as_str())
            && fraction.and_then(|f| f.parse::<f64>().ok()) == Some(a.fraction),
        "{} holds 茂名 × {} (fraction {}), not × {} (fraction {})",
        db.display(),
        times.unwrap_or("?"),
        fraction.unwrap_or("?"),
        a.times,
        a.fraction
    );
    Ok(DateTime::parse_from_rfc3339(start.context("no start in the note")?)?.to_utc())
}

struct Figures {
    engine: &'static str,
    rows: u64,
    load_rate: f64,
    q: QueryFigures,
    ingest: f64,
}

/// Measures the queries, then ingest while the tables hold the history: one more day, 1,000
/// records a batch, from `uploaders` concurrent uploaders (removed again from a kept database).
async fn measure(
    engine: &'static str,
    store: Box<dyn Store>,
    target: Target,
    spec: &Spec,
    venues: &[VenueSeed],
    a: &Args,
) -> Result<(Arc<dyn Store>, Figures)> {
    let end = spec.start + Duration::days(i64::from(spec.days));
    // A fresh history's "now" is 16:00 China time on its last day (see `main`); a kept one
    // measured hours later finds fewer people inside the busiest venue.
    let afternoon = end - Duration::days(1) + Duration::hours(8);
    let late = Utc::now() - afternoon;
    if late > Duration::hours(4) {
        eprintln!(
            "  note: now is {} h past the history's 16:00 (its last day); fewer people are \
             inside the busiest venue than at a fresh load, so its statistics read less",
            late.num_hours()
        );
    }
    let state = AppState::new(store);
    let store = state.store();
    let router = app(state);
    let q = if a.ingest_only {
        QueryFigures::none()
    } else {
        let q = measure_queries(engine, &router, &store, spec, venues).await?;
        eprintln!(
            "  {engine}: trace p50/p95 {:.1}/{:.1} ms, venue-day p50/p95/busiest {:.1}/{:.1}/{:.1} \
             ms, alerts p50/p95 {:.1}/{:.1} ms",
            q.trace.0, q.trace.1, q.stats.0, q.stats.1, q.stats.2, q.alerts.0, q.alerts.1
        );
        q
    };

    let extra = Spec {
        start: end,
        // New ids on every run: a kept database still holds the removed rows' index entries
        // until vacuumed, and the same keys again would be checked against them.
        seed: spec.seed ^ 0xF00D ^ Utc::now().timestamp_subsec_nanos() as u64,
        days: 1,
        check_ins: (spec.check_ins / u64::from(spec.days)).min(400_000),
        ..spec.clone()
    };
    let records = in_arrival_order(history::day(&extra, venues, 0));
    let (store2, uploaders, kept) = (store.clone(), a.uploaders, a.dir.is_some());
    let (ingest, rows) = tokio::task::spawn_blocking(move || -> Result<(f64, u64)> {
        // The day's first fifth warms the server's caches, untimed: a server that has been
        // running holds the current day's index pages (a kept database starts cold).
        // On SQLite the clock runs from an empty WAL until this part's pages are copied into the
        // file: a short measurement must not end with work left in the WAL.
        let (warm, timed) = records.split_at(records.len() / 5);
        upload(store2.as_ref(), warm, uploaders)?;
        checkpoint(&target)?;
        let t = Instant::now();
        upload(store2.as_ref(), timed, uploaders)?;
        let committed = t.elapsed();
        let copied = checkpoint(&target)?;
        let rate = timed.len() as f64 / t.elapsed().as_secs_f64();
        let rows = store2.counts()?.check_ins as u64;
        eprintln!(
            "  {engine}: ingest with the history {rate:.0} check-ins/s ({:.0}/s committed, then \
             {:.0} ms copying the WAL into the file)",
            timed.len() as f64 / committed.as_secs_f64(),
            copied.as_secs_f64() * 1e3
        );
        if kept {
            eprintln!("  {engine}: removing the ingested day from the kept database");
            forget(&target, &records)?;
        }
        Ok((rate, rows))
    })
    .await??;
    // The store leaves with the figures: a PostgreSQL client must not close inside the runtime.
    Ok((
        store,
        Figures {
            engine,
            rows,
            load_rate: f64::NAN,
            q,
            ingest,
        },
    ))
}

/// Loads the history into `store` (unless `--reuse`), then measures it.
fn run(
    rt: &tokio::runtime::Runtime,
    engine: &'static str,
    store: Box<dyn Store>,
    target: Target,
    spec: &Spec,
    venues: &[VenueSeed],
    a: &Args,
) -> Result<Figures> {
    let rate = if a.reuse {
        eprintln!("{engine}: measuring the kept history as it is");
        f64::NAN
    } else {
        insert_venues(&target, venues)?;
        eprintln!("{engine}: loading");
        let rate = load::load(store.as_ref(), spec, venues, a.uploaders)?;
        if let Target::Postgres(url) = &target {
            // What autovacuum has done on a server that has run for a while (it vacuums
            // after inserts): the visibility map lets index-only reads skip the heap.
            let mut c = postgres::Client::connect(url, postgres::NoTls)?;
            c.batch_execute("VACUUM (ANALYZE) check_ins")?;
        }
        rate
    };
    let (store, mut f) = rt.block_on(measure(engine, store, target, spec, venues, a))?;
    drop(store);
    f.load_rate = rate;
    Ok(f)
}

fn main() -> Result<()> {
    let a = parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // A new history's last day is today, and now is its 16:00 China time: the afternoon peak,
    // when the busiest venue has the most people inside (its evening, 8 h of it, lies ahead).
    let mut spec = Spec::maoming(a.times, Utc::now());
    spec.start = Utc::now() - Duration::hours(8) - Duration::days(i64::from(spec.days) - 1);
    if a.fraction < 1.0 {
        spec.venues = ((spec.venues as f64 * a.fraction) as usize).max(50);
        spec.check_ins = ((spec.check_ins as f64 * a.fraction) as u64).max(10_000);
    }
    let venues = history::venues(&spec);
    println!(
        "history: {} venues, {} check-ins over {} days, {} people (茂名 × {})",
        spec.venues,
        spec.check_ins,
        spec.days,
        spec.people(),
        a.times
    );
    let mut all = Vec::new();
    let tmp = tempfile::tempdir()?;
    let dir = a.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    if a.engine == "sqlite" || a.engine == "both" {
        let path = dir.join(format!("history-x{}.db", a.times));
        let spec = if a.reuse {
            anyhow::ensure!(path.is_file(), "--reuse: {} does not exist", path.display());
            Spec {
                start: read_note(&path, &a)?,
                ..spec.clone()
            }
        } else {
            let _ = std::fs::remove_file(&path);
            write_note(&path, &a, spec.start)?;
            spec.clone()
        };
        let store = store::open(path.to_str().context("path")?)?;
        let target = Target::Sqlite(path);
        all.push(run(&rt, "sqlite", store, target, &spec, &venues, &a)?);
    }
    if a.engine == "postgres" || a.engine == "both" {
        let started = if a.dir.is_some() {
            TempCluster::keep_in(&dir.join(format!("pg-x{}", a.times)), PRODUCTION_PG)
        } else {
            TempCluster::start_with(PRODUCTION_PG).map(|c| (c, true))
        };
        match started {
            Ok((cluster, fresh)) => {
                anyhow::ensure!(
                    fresh || a.reuse,
                    "{} already holds a cluster: add --reuse to measure it, or remove it",
                    cluster.path().display()
                );
                anyhow::ensure!(
                    !fresh || !a.reuse,
                    "--reuse: {} holds no cluster to measure",
                    cluster.path().display()
                );
                let db = cluster.path().join("history");
                let (spec, url) = if a.reuse {
                    let start = read_note(&db, &a)?;
                    let url = cluster.url().replace("/postgres?", "/history?");
                    (
                        Spec {
                            start,
                            ..spec.clone()
                        },
                        url,
                    )
                } else {
                    write_note(&db, &a, spec.start)?;
                    (spec.clone(), cluster.create_database("history")?)
                };
                let store = store::open(&url)?;
                let target = Target::Postgres(url);
                all.push(run(&rt, "postgres", store, target, &spec, &venues, &a)?);
            }
            Err(ClusterError::NoBinaries) => {
                println!("postgres  SKIPPED: PostgreSQL binaries absent (apt install postgresql)")
            }
            Err(e) => return Err(e.into()),
        }
    }
    println!(
        "\n{:<9} {:>10} {:>10} {:>17} {:>7} {:>24} {:>17} {:>12}",
        "engine",
        "rows",
        "load/s",
        "trace p50/p95 ms",
        "visits",
        "venue-day p50/p95/top ms",
        "alerts p50/p95",
        "ingest/s"
    );
    for f in &all {
        println!(
            "{:<9} {:>10} {:>10.0} {:>8.1} / {:<6.1} {:>7.1} {:>8.1} / {:.1} / {:<6.1} {:>7.1} / {:<6.1} {:>12.0}",
            f.engine,
            f.rows,
            f.load_rate,
            f.q.trace.0,
            f.q.trace.1,
            f.q.trace_found,
            f.q.stats.0,
            f.q.stats.1,
            f.q.stats.2,
            f.q.alerts.0,
            f.q.alerts.1,
            f.ingest
        );
    }
    println!("targets at ten times 茂名: trace p95 ≤ 50 ms, venue-day ≤ 20 ms, alerts ≤ 20 ms, ingest ≥ 50,000/s");
    Ok(())
}
