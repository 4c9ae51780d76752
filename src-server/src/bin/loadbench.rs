//! `loadbench`: N simulated stations upload signed check-in batches to a real server over
//! loopback HTTP; prints the ingest rate and the p50/p99 batch latency for SQLite and for
//! PostgreSQL (a throwaway cluster), in one run. SQLite runs twice: with the server's durable
//! setting (`synchronous = FULL`, every acknowledged batch fsync'd) and, for comparison, with
//! `synchronous = NORMAL` (what a power cut could undo), so the cost of durability is printed.
//!
//! With `--old N`, N check-ins 40 days old are stored first and each engine runs twice: once
//! with the old rows left alone, once while the retention sweep (`retention::sweep`, 28 days,
//! its production batch and pause) deletes them — the two rates side by side show what a purge
//! costs ingest.
//!
//! Usage: `cargo run --release -p venuecode-server --features test-support --bin loadbench --
//! [--stations 8]
//! [--batches 40] [--batch 1000] [--engine sqlite|postgres|both] [--old N]`. Client and server
//! share the machine's cores, as they would not in production: the figures are a floor.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use anyhow::{Context, Result};
use chrono::{Duration, Utc};
use venuecode_core::keys::{hex, SecretKey};
use venuecode_core::sync::{self, CheckInWire, Record, UploadBatch};
use venuecode_server::pgcluster::{ClusterError, TempCluster};
use venuecode_server::store::sqlite::{Durability, SqliteStore};
use venuecode_server::store::{self, NewDevice};
use venuecode_server::{app, retention, AppState};

struct Args {
    stations: usize,
    batches: usize,
    batch: usize,
    engine: String,
    /// Check-ins past the retention window stored before the run (0: none, no purge runs).
    old: usize,
}

fn parse() -> Result<Args> {
    let mut a = Args {
        stations: 8,
        batches: 40,
        batch: 1000,
        engine: "both".into(),
        old: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().with_context(|| format!("{k} needs a value"));
        match k.as_str() {
            "--stations" => a.stations = v()?.parse()?,
            "--batches" => a.batches = v()?.parse()?,
            "--batch" => a.batch = v()?.parse()?,
            "--engine" => a.engine = v()?,
            "--old" => a.old = v()?.parse()?,
            other => anyhow::bail!("unknown argument {other:?}"),
        }
    }
    Ok(a)
}

fn check_in(venue: &str, n: u64) -> Record {
    check_in_at(venue, n, Utc::now() - Duration::seconds(30))
}

fn check_in_at(venue: &str, n: u64, at: chrono::DateTime<Utc>) -> Record {
    Record::CheckIn(CheckInWire {
        format: venuecode_core::sync::RECORD_FORMAT,
        id: uuid::Uuid::now_v7().to_string(),
        venue_id: venue.into(),
        checkpoint_id: "main".into(),
        inspector: "模拟检测员".into(),
        direction: "entry".into(),
        at,
        verdict: "pass".into(),
        reasons: vec![],
        temperature: "normal".into(),
        celsius: Some(36.6),
        fever: false,
        code_id: Some(format!("{n:016x}")),
        subject: Some(format!("{:024x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15))),
        name_masked: Some("张*".into()),
        phone_masked: Some("138****0000".into()),
        id_masked: Some("1101**********002X".into()),
        color: Some("green".into()),
        manual: false,
        proxy_name: None,
        proxy_phone: None,
        proxy_relation: None,
        code: None,
        sealed_id: None,
    })
}

struct Outcome {
    records: usize,
    elapsed: StdDuration,
    latencies: Vec<StdDuration>,
}

/// Each simulated station's device key and venue.
type Stations = Vec<(SecretKey, &'static str)>;

/// Opens the store and enrols the stations' devices (blocking: before the runtime starts).
fn prepare(store: Box<dyn store::Store>, a: &Args) -> Result<(Box<dyn store::Store>, Stations)> {
    store.seed_demo(Utc::now())?;
    let venues = ["demo-venue-0001", "demo-venue-0002", "demo-venue-0003"];
    let codes = ["100001", "100002", "100003"];
    let mut keys = Vec::new();
    for i in 0..a.stations {
        let key = SecretKey::from_seed(&[i as u8 + 1; 32]);
        let id = sync::device_id(&key.public());
        store.enrol(
            &NewDevice {
                declaration_code: codes[i % 3],
                checkpoint_id: None,
                inspector: "检测员",
                device_id: &id,
                public_key: &key.public().to_hex(),
            },
            Utc::now(),
        )?;
        keys.push((key, venues[i % 3]));
    }
    // History past the window, through the store (the API refuses records that old).
    let old_at = Utc::now() - Duration::days(40);
    let mut n = 1u64 << 40;
    for chunk in 0..a.old.div_ceil(10_000) {
        let key = &keys[chunk % keys.len()];
        let device = store
            .device(&sync::device_id(&key.0.public()))?
            .context("enrolled device")?;
        let rows = 10_000.min(a.old - chunk * 10_000);
        let records = (0..rows)
            .map(|_| {
                n += 1;
                check_in_at(key.1, n, old_at)
            })
            .collect();
        store.ingest(&device, records, old_at)?;
    }
    Ok((store, keys))
}

/// What the retention sweep did during a run.
struct Sweep {
    deleted: u64,
    took: StdDuration,
}

async fn run(
    store: Box<dyn store::Store>,
    keys: Stations,
    a: &Args,
    purge: bool,
) -> Result<(Outcome, Option<Sweep>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    // Simulated stations send far more than a real gate: no per-device record limit here.
    let state = AppState::new(store).with_records_per_device_hour(u32::MAX);
    let shared = state.store();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app(state)).await;
    });
    // Bodies are made before the clock starts: the benchmark measures the server.
    let mut n = 0u64;
    let mut work = Vec::new();
    for (key, venue) in keys {
        let mut bodies = Vec::new();
        for _ in 0..a.batches {
            let records = (0..a.batch)
                .map(|_| {
                    n += 1;
                    check_in(venue, n)
                })
                .collect();
            bodies.push(serde_json::to_vec(&UploadBatch { records })?);
        }
        work.push((key, bodies));
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.stations)
        .build()?;
    let url = format!("http://{addr}/api/v1/sync/upload");
    let started = Instant::now();
    // The sweep as the server runs it (its batch and pause), started with the uploads.
    let sweep = purge.then(|| {
        tokio::task::spawn_blocking(move || {
            let t = Instant::now();
            let p = retention::sweep(
                shared.as_ref(),
                Utc::now(),
                Duration::days(retention::DEFAULT_DAYS),
                retention::BATCH,
                StdDuration::from_millis(20),
            )?;
            Ok::<_, anyhow::Error>(Sweep {
                deleted: p.check_ins,
                took: t.elapsed(),
            })
        })
    });
    let mut tasks = Vec::new();
    for (key, bodies) in work {
        let client = client.clone();
        let url = url.clone();
        let key = Arc::new(key);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for body in bodies {
                let mut nonce = [0u8; 16];
                nonce[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
                let h = sync::sign_request(
                    &key,
                    "POST",
                    "/api/v1/sync/upload",
                    Utc::now().timestamp_millis(),
                    &hex(&nonce),
                    &body,
                );
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header(sync::HEADER_DEVICE, h.device)
                    .header(sync::HEADER_TIME, h.unix_ms.to_string())
                    .header(sync::HEADER_NONCE, h.nonce)
                    .header(sync::HEADER_SIGNATURE, h.signature)
                    .body(body)
                    .send()
                    .await?;
                let status = res.status();
                let text = res.text().await?;
                anyhow::ensure!(status.is_success(), "upload failed: {status} {text}");
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let elapsed = started.elapsed();
    let sweep = match sweep {
        Some(s) => Some(s.await??),
        None => None,
    };
    server.abort();
    Ok((
        Outcome {
            records: a.stations * a.batches * a.batch,
            elapsed,
            latencies,
        },
        sweep,
    ))
}

/// Runs `a`'s load on a fresh store from `open`: once, or (with `--old`) without and then with
/// the retention sweep running, and prints each.
fn bench(
    rt: &tokio::runtime::Runtime,
    label: &str,
    a: &Args,
    open: &mut dyn FnMut() -> Result<Box<dyn store::Store>>,
) -> Result<()> {
    let modes: &[bool] = if a.old > 0 { &[false, true] } else { &[false] };
    for &purge in modes {
        let (store, keys) = prepare(open()?, a)?;
        let (mut o, sweep) = rt.block_on(run(store, keys, a, purge))?;
        let label = match (a.old > 0, purge) {
            (false, _) => label.to_string(),
            (true, false) => format!("{label} +{} old, no purge", a.old),
            (true, true) => format!("{label} +{} old, purging", a.old),
        };
        report(&label, a, &mut o);
        if let Some(s) = sweep {
            println!(
                "{:<9} the sweep deleted {} check-ins in {:.2} s while the uploads ran",
                "",
                s.deleted,
                s.took.as_secs_f64()
            );
        }
    }
    Ok(())
}

fn report(engine: &str, a: &Args, o: &mut Outcome) {
    o.latencies.sort();
    let pct = |p: f64| {
        let i = ((o.latencies.len() as f64 - 1.0) * p).round() as usize;
        o.latencies[i].as_secs_f64() * 1000.0
    };
    println!(
        "{engine:<9} stations {} batch {} batches {}: {} check-ins in {:.2} s = {:.0} check-ins/s; batch latency p50 {:.1} ms p99 {:.1} ms",
        a.stations,
        a.batch,
        o.latencies.len(),
        o.records,
        o.elapsed.as_secs_f64(),
        o.records as f64 / o.elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99)
    );
}

fn main() -> Result<()> {
    let a = parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if a.engine == "sqlite" || a.engine == "both" {
        // The server's durable setting, then (for comparison) what a power cut could undo.
        for (label, durability) in [
            ("sqlite", Durability::Full),
            ("sqlite-normal", Durability::NotDurableForBenchmarks),
        ] {
            let dir = tempfile::tempdir()?;
            let mut round = 0;
            bench(&rt, label, &a, &mut || {
                round += 1;
                let path = dir.path().join(format!("bench-{round}.db"));
                Ok(Box::new(SqliteStore::open_with(&path, durability)?))
            })?;
        }
    }
    if a.engine == "postgres" || a.engine == "both" {
        match TempCluster::start() {
            Ok(cluster) => {
                let mut round = 0;
                bench(&rt, "postgres", &a, &mut || {
                    round += 1;
                    let url = cluster.create_database(&format!("bench{round}"))?;
                    Ok(store::open(&url)?)
                })?;
            }
            Err(ClusterError::NoBinaries) => {
                println!("postgres  SKIPPED: PostgreSQL binaries absent (apt install postgresql)")
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
