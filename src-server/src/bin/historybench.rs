//! `historybench`: loads realistic history (the `history` generator: 茂名 scale, or TIMES over)
//! into a store and times, through the real router, what people do with it: tracing one person
//! over 14 days with everyone co-present (p50/p95 over 1,000 random people), one venue-day's
//! statistics (p50/p95 over 200 venues, the busiest included), the alerts view's first page —
//! then ingest while the tables hold the history. SQLite and PostgreSQL (a throwaway cluster)
//! in one run, one table printed at the end.
//!
//! Usage: `cargo run --release -p venuecode-server --features test-support --bin historybench --
//! [--times 1] [--fraction 1.0] [--engine sqlite|postgres|both] [--dir DIR] [--reuse]
//! [--uploaders 8] [--ingest-only]` (`--reuse`: measure the SQLite file a previous run left in
//! DIR, without loading it again — each such run adds its ingest day to the file;
//! `--uploaders`: concurrent uploaders for loading and for the ingest measurement;
//! `--ingest-only`: skip tracing, statistics and alerts). Loading takes minutes at 茂名 scale and
//! about half an hour on PostgreSQL at `--times 10` (disk: ~0.4 GB per million check-ins).

use std::time::{Duration as StdDuration, Instant};

use anyhow::{Context, Result};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use http_body_util::BodyExt;
use tower::ServiceExt;
use venuecode_core::accounts::Role;
use venuecode_core::sync::Record;
use venuecode_server::history::{self, Rng, Spec, VenueSeed};
use venuecode_server::people::{create_account, AccountSpec};
use venuecode_server::pgcluster::{ClusterError, TempCluster};
use venuecode_server::store::{self, Device, Store};
use venuecode_server::{app, AppState};

struct Args {
    times: u64,
    /// A fraction of the scale, for a quick look (1.0: the whole).
    fraction: f64,
    engine: String,
    dir: Option<std::path::PathBuf>,
    /// Measure the SQLite file already in `--dir` instead of generating and loading it again.
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
    Ok(a)
}

const PASSWORD: &str = "history-bench-2026";

/// The PostgreSQL server is configured as a deployment on this machine would be (2 cores,
/// 24 GB; docs/SCALING.md), not with the tests' small defaults: a quarter of memory for shared
/// buffers, checkpoints spread over 15 minutes, compressed full-page images. Commits stay
/// synchronous: an acknowledged upload is durable.
const PRODUCTION_PG: &[&str] = &[
    "shared_buffers=6GB",
    "effective_cache_size=18GB",
    "maintenance_work_mem=1GB",
    "work_mem=16MB",
    "wal_buffers=16MB",
    "max_wal_size=4GB",
    "min_wal_size=1GB",
    "checkpoint_timeout=15min",
    "checkpoint_completion_target=0.9",
    "wal_compression=on",
    "random_page_cost=1.1",
    "effective_io_concurrency=200",
    "synchronous_commit=on",
];

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

/// Inserts the venues (approved) with the engine's own client.
fn insert_venues(target: &Target, venues: &[VenueSeed]) -> Result<()> {
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

enum Target {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

/// A day's records in the order a city's stations deliver them: by time (each station uploads
/// what it has just recorded, so the server's stream interleaves the venues).
fn in_arrival_order(by_venue: Vec<(String, Vec<Record>)>) -> Vec<Record> {
    let mut all: Vec<Record> = by_venue.into_iter().flat_map(|(_, r)| r).collect();
    all.sort_by_key(Record::at);
    all
}

/// Loads the history; the rate.
fn load(store: &dyn Store, spec: &Spec, venues: &[VenueSeed], uploaders: usize) -> Result<f64> {
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
fn upload(store: &dyn Store, records: &[Record], uploaders: usize) -> Result<u64> {
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

async fn call(
    router: &axum::Router,
    req: Request<Body>,
) -> Result<(StatusCode, Vec<u8>, StdDuration)> {
    let t = Instant::now();
    let res = router.clone().oneshot(req).await?;
    let status = res.status();
    let body = res.into_body().collect().await?.to_bytes().to_vec();
    Ok((status, body, t.elapsed()))
}

fn percentile(v: &mut [StdDuration], p: f64) -> f64 {
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

struct Figures {
    engine: &'static str,
    rows: u64,
    load_rate: f64,
    trace: (f64, f64),
    trace_found: f64,
    stats: (f64, f64, f64),
    alerts: (f64, f64),
    ingest: f64,
}

async fn measure(
    engine: &'static str,
    store: Box<dyn Store>,
    spec: &Spec,
    venues: &[VenueSeed],
    load_rate: f64,
    queries: bool,
    uploaders: usize,
) -> Result<(std::sync::Arc<dyn Store>, Figures)> {
    let state = AppState::new(store);
    let store = state.store();
    let router = app(state);
    let (trace, trace_found, stats, alerts) = if queries {
        measure_queries(engine, &router, &store, spec, venues).await?
    } else {
        (
            (f64::NAN, f64::NAN),
            f64::NAN,
            (f64::NAN, f64::NAN, f64::NAN),
            (f64::NAN, f64::NAN),
        )
    };

    // Ingest with the history in place: one more day, 1,000 records a batch, from `uploaders`
    // concurrent uploaders.
    let s0 = store.clone();
    let held = tokio::task::spawn_blocking(move || s0.counts())
        .await??
        .check_ins as u64;
    let extra = Spec {
        start: spec.start + Duration::days(i64::from(spec.days)),
        // New ids on every run, also over a reused file.
        seed: spec.seed ^ 0xF00D ^ held,
        days: 1,
        check_ins: (spec.check_ins / u64::from(spec.days)).min(400_000),
        ..spec.clone()
    };
    let venues2 = venues.to_vec();
    let store2 = store.clone();
    let ingest = tokio::task::spawn_blocking(move || -> Result<f64> {
        let records = in_arrival_order(history::day(&extra, &venues2, 0));
        let n = records.len();
        let t = Instant::now();
        upload(store2.as_ref(), &records, uploaders)?;
        Ok(n as f64 / t.elapsed().as_secs_f64())
    })
    .await??;
    let s3 = store.clone();
    let rows = tokio::task::spawn_blocking(move || s3.counts())
        .await??
        .check_ins as u64;
    // The store leaves with the figures: a PostgreSQL client must not close inside the runtime.
    Ok((
        kept(store),
        Figures {
            engine,
            rows,
            load_rate,
            trace,
            trace_found,
            stats,
            alerts,
            ingest,
        },
    ))
}

type QueryFigures = ((f64, f64), f64, (f64, f64, f64), (f64, f64));

/// Tracing, a venue-day's statistics and the alerts page, through the router.
async fn measure_queries(
    engine: &'static str,
    router: &axum::Router,
    store: &std::sync::Arc<dyn Store>,
    spec: &Spec,
    venues: &[VenueSeed],
) -> Result<QueryFigures> {
    let s2 = store.clone();
    // Already there when a loaded file is measured again (--reuse): then signing in suffices.
    let _ = tokio::task::spawn_blocking(move || {
        create_account(
            s2.as_ref(),
            &AccountSpec {
                username: "bench.cdc",
                display_name: "bench",
                role: Role::Authority,
                scopes: vec!["4409".into()],
                password: PASSWORD,
                created_by: "historybench",
            },
            Utc::now(),
        )
    })
    .await?;
    let (_, body, _) = call(
        router,
        Request::post("/api/v1/auth/login")
            .header("content-type", "application/json")
            .body(Body::from(
                serde_json::json!({"username": "bench.cdc", "password": PASSWORD}).to_string(),
            ))?,
    )
    .await?;
    let token = serde_json::from_slice::<serde_json::Value>(&body)?["token"]
        .as_str()
        .context("token")?
        .to_string();
    let end = spec.start + Duration::days(i64::from(spec.days));
    let mut r = Rng::new(99);
    let people = spec.people();

    // Tracing: 1,000 random people over the last 14 days.
    let mut times = Vec::new();
    let mut found = 0usize;
    let mut contacts = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let subject = history::subject_of(spec.seed, r.below(people));
        let body = serde_json::json!({
            "subject": subject, "from": end - Duration::days(14), "to": end,
            "case_number": "BENCH-1", "reason": "scale benchmark"
        });
        let (status, out, t) = call(
            router,
            Request::post("/api/v1/trace")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::from(body.to_string()))?,
        )
        .await?;
        anyhow::ensure!(status == StatusCode::OK, "trace: {status}");
        let v: serde_json::Value = serde_json::from_slice(&out)?;
        found += v["visits"].as_array().map_or(0, Vec::len);
        contacts.push((
            v["contacts_total"].as_u64().unwrap_or(0) as usize,
            out.len(),
        ));
        times.push(t);
    }
    contacts.sort_unstable();
    eprintln!(
        "  trace answers: people met p50 {} p95 {} max {}; answer bytes p95 {}",
        contacts[500].0,
        contacts[950].0,
        contacts[999].0,
        {
            let mut b: Vec<usize> = contacts.iter().map(|c| c.1).collect();
            b.sort_unstable();
            b[950]
        }
    );
    let trace = (percentile(&mut times, 0.5), percentile(&mut times, 0.95));
    let trace_found = found as f64 / 1000.0;
    // What bounds a trace: its store calls, timed one by one for 100 people.
    let s4 = store.clone();
    let (seed, from) = (spec.seed, end - Duration::days(14));
    let venue0 = venues[0].venue_id.clone();
    let breakdown = tokio::task::spawn_blocking(move || -> Result<String> {
        let mut r = Rng::new(7);
        let (mut own, mut at, mut summary, mut audit) = (0.0, 0.0, 0.0, 0.0);
        for _ in 0..100 {
            let subject = history::subject_of(seed, r.below(people));
            let t = Instant::now();
            let rows = s4.passages_of(&subject, from, end)?;
            own += t.elapsed().as_secs_f64();
            let venue = rows.first().map_or(venue0.clone(), |p| p.venue_id.clone());
            let t = Instant::now();
            s4.passages_at(&venue, from, from + Duration::hours(6))?;
            at += t.elapsed().as_secs_f64();
            let t = Instant::now();
            s4.venue_summary(&venue)?;
            summary += t.elapsed().as_secs_f64();
            let t = Instant::now();
            s4.record_trace(
                &venuecode_server::store::TraceAudit {
                    actor: "bench",
                    subject: &subject,
                    case_number: "B",
                    reason: "breakdown",
                    from,
                    to: end,
                    visits: 0,
                    contacts: 0,
                },
                Utc::now(),
            )?;
            audit += t.elapsed().as_secs_f64();
        }
        Ok(format!(
            "  {engine}: per trace, mean ms — person's check-ins {:.1}, one venue's 6 h {:.1}, venue entry {:.1}, audit write {:.1}",
            own * 10.0,
            at * 10.0,
            summary * 10.0,
            audit * 10.0
        ))
    })
    .await??;
    eprintln!("{breakdown}");

    // A venue-day's statistics: the busiest venues and random ones.
    let day = end - Duration::days(3);
    let mut times = Vec::new();
    let mut busiest = 0.0;
    for i in 0..200 {
        let v = if i < 10 {
            i
        } else {
            r.below(venues.len() as u64) as usize
        };
        let url = format!(
            "/api/v1/venues/{}/statistics?from={}&to={}",
            venues[v].venue_id,
            day.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            (day + Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let (status, _, t) = call(
            router,
            Request::get(url)
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())?,
        )
        .await?;
        anyhow::ensure!(status == StatusCode::OK, "statistics: {status}");
        if i == 0 {
            busiest = t.as_secs_f64() * 1000.0;
        }
        times.push(t);
    }
    let stats = (
        percentile(&mut times, 0.5),
        percentile(&mut times, 0.95),
        busiest,
    );

    // The alerts view's first page.
    let mut times = Vec::new();
    for _ in 0..100 {
        let (status, _, t) = call(
            router,
            Request::get("/api/v1/alerts")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())?,
        )
        .await?;
        anyhow::ensure!(status == StatusCode::OK, "alerts: {status}");
        times.push(t);
    }
    let alerts = (percentile(&mut times, 0.5), percentile(&mut times, 0.95));
    Ok((trace, trace_found, stats, alerts))
}

/// Keeps the store alive past the async part.
fn kept(store: std::sync::Arc<dyn Store>) -> std::sync::Arc<dyn Store> {
    store
}

fn main() -> Result<()> {
    let a = parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // History ends an hour ago, so "the last 14 days" is the history's.
    let start = Utc::now() - Duration::days(30) - Duration::hours(1);
    let mut spec = Spec::maoming(a.times, start);
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
    if a.engine == "sqlite" || a.engine == "both" {
        let path = dir.join(format!("history-x{}.db", a.times));
        let reuse = a.reuse && path.exists();
        if !reuse {
            let _ = std::fs::remove_file(&path);
        }
        let store = store::open(path.to_str().context("path")?)?;
        let rate = if reuse {
            eprintln!("sqlite: measuring {} as it is", path.display());
            f64::NAN
        } else {
            insert_venues(&Target::Sqlite(path.clone()), &venues)?;
            eprintln!("sqlite: loading");
            load(store.as_ref(), &spec, &venues, a.uploaders)?
        };
        let (store, f) = rt.block_on(measure(
            "sqlite",
            store,
            &spec,
            &venues,
            rate,
            !a.ingest_only,
            a.uploaders,
        ))?;
        drop(store);
        all.push(f);
    }
    if a.engine == "postgres" || a.engine == "both" {
        match TempCluster::start_with(PRODUCTION_PG) {
            Ok(cluster) => {
                let url = cluster.create_database("history")?;
                let store = store::open(&url)?;
                insert_venues(&Target::Postgres(url.clone()), &venues)?;
                eprintln!("postgres: loading");
                let rate = load(store.as_ref(), &spec, &venues, a.uploaders)?;
                // What autovacuum has done on a server that has run for a while (it vacuums
                // after inserts): the visibility map lets index-only reads skip the heap.
                let mut c = postgres::Client::connect(&url, postgres::NoTls)?;
                c.batch_execute("VACUUM (ANALYZE) check_ins")?;
                let (store, f) = rt.block_on(measure(
                    "postgres",
                    store,
                    &spec,
                    &venues,
                    rate,
                    !a.ingest_only,
                    a.uploaders,
                ))?;
                drop(store);
                all.push(f);
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
            f.trace.0,
            f.trace.1,
            f.trace_found,
            f.stats.0,
            f.stats.1,
            f.stats.2,
            f.alerts.0,
            f.alerts.1,
            f.ingest
        );
    }
    println!("targets at ten times 茂名: trace p95 ≤ 50 ms, venue-day ≤ 20 ms, alerts ≤ 20 ms, ingest ≥ 50,000/s");
    Ok(())
}
