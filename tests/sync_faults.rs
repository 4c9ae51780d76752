//! Sync through faults: three headless stations (`stationsim`, the real store and sync worker)
//! send 10,000 check-ins over TLS through a fault proxy (it terminates the stations' TLS and
//! opens its own to the server: dropped connections, delays, requests and answers cut half-way,
//! answers lost after the server acted, replayed requests, an outage) while
//! the server is killed -9 and restarted mid-batch, one station is killed -9 mid-sync and
//! restarted, and (PostgreSQL) the database itself is restarted. Afterwards the server must hold
//! exactly the records the stations created — the union of the append-only logs each station
//! fsyncs as it commits — compared by id and by count, on both engines.
//!
//! The fault sequence comes from `VENUECODE_FAULT_SEED` (decimal or 0x-hex; a fixed default per
//! engine), printed at the start and in every failure; `scripts/faults.sh N` runs N seeds. Each
//! step is checked to have met real traffic: every fault kind took effect on the upload path,
//! every replay got the `409 replayed` answer, the server kill and the outage each refused at least
//! one connection, the station was killed with records both sent and unsent, and the database
//! restart answered at least one request with 503.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use venuecode_server::pgcluster::{start_for_tests, TempCluster};
use venuecode_tests::faultproxy::{Fault, FaultProxy, Mix, Tally};
use venuecode_tests::harness::{binary, keygen, start_server, tempdir::TempDir};
use venuecode_tests::procs::{free_port, wait_for, ProcGuard};

/// Check-ins per station (10,000 in all).
const COUNTS: [i64; 3] = [3400, 3300, 3300];
/// Declaration codes: two stations at one venue, one at another.
const VENUES: [&str; 3] = ["100001", "100001", "100003"];
const BATCHES: [usize; 3] = [150, 400, 1000];
/// Pause between bursts of 50 records: station 2 is paced so that it is still syncing when it is
/// killed, whatever the machine's speed.
const PACE_MS: [u64; 3] = [0, 60, 0];
/// The path whose faults matter most: a lost or doubled upload is a lost or doubled record.
const UPLOAD: &str = "/api/v1/sync/upload";
/// The whole scenario must finish within this.
const LIMIT: Duration = Duration::from_secs(300);

struct ServerProc {
    port: u16,
    database: String,
    keys: PathBuf,
    proc: Option<ProcGuard>,
}

impl ServerProc {
    fn start(database: &str, keys: &Path) -> Result<ServerProc> {
        let mut s = ServerProc {
            port: free_port()?,
            database: database.to_string(),
            keys: keys.to_path_buf(),
            proc: None,
        };
        s.restart()?;
        Ok(s)
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn restart(&mut self) -> Result<()> {
        // Over TLS: the fault proxy terminates the stations' TLS and opens its own to the server.
        self.proc = Some(start_server(self.port, &self.database, &self.keys, &[])?);
        Ok(())
    }

    fn kill9(&mut self) -> Result<()> {
        if let Some(mut p) = self.proc.take() {
            p.kill9()?;
        }
        Ok(())
    }
}

/// One station process and what it last reported.
struct Station {
    n: usize,
    data: PathBuf,
    server: String,
    root_pub: PathBuf,
    proc: Option<ProcGuard>,
    generated: Arc<AtomicI64>,
    waiting: Arc<AtomicI64>,
    sent: Arc<AtomicI64>,
    done: Arc<AtomicI64>,
}

impl Station {
    fn start(&mut self) -> Result<()> {
        let mut cmd = Command::new(binary("stationsim")?);
        cmd.arg("--data")
            .arg(&self.data)
            .args(["--server", &self.server])
            .args(["--declaration", VENUES[self.n]])
            .args(["--count", &COUNTS[self.n].to_string()])
            .args(["--batch", &BATCHES[self.n].to_string()])
            .args(["--inspector", &format!("检测员{}", self.n + 1)])
            .arg("--root-pub")
            .arg(&self.root_pub)
            .arg("--ca")
            .arg(self.root_pub.with_file_name("ca.pem"))
            .arg("--created-log")
            .arg(self.created_log())
            .args(["--pace-ms", &PACE_MS[self.n].to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut proc = ProcGuard::spawn(&format!("stationsim {}", self.n + 1), cmd)?;
        let out = proc.take_stdout().context("stationsim stdout")?;
        let (generated, waiting, sent, done) = (
            self.generated.clone(),
            self.waiting.clone(),
            self.sent.clone(),
            self.done.clone(),
        );
        waiting.store(i64::MAX, Ordering::SeqCst);
        sent.store(0, Ordering::SeqCst);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let field = |k: &str| {
                    line.split_whitespace()
                        .find_map(|w| w.strip_prefix(k))
                        .and_then(|v| v.parse::<i64>().ok())
                };
                if let Some(g) = field("generated=") {
                    generated.store(g, Ordering::SeqCst);
                }
                if let Some(w) = field("waiting=") {
                    waiting.store(w, Ordering::SeqCst);
                }
                if let Some(n) = field("sent=") {
                    sent.store(n, Ordering::SeqCst);
                }
                if line.starts_with("done ") {
                    done.store(1, Ordering::SeqCst);
                }
            }
        });
        self.proc = Some(proc);
        Ok(())
    }

    /// The append-only log of what this station created (kept outside its data directory).
    fn created_log(&self) -> PathBuf {
        self.data.with_extension("created.log")
    }

    /// The ids in the created log.
    fn created(&self) -> Result<BTreeSet<String>> {
        let text = std::fs::read_to_string(self.created_log())?;
        Ok(text
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect())
    }
}

/// The seed of the fault sequence: `VENUECODE_FAULT_SEED`, or a fixed default.
fn seed(default: u64) -> Result<u64> {
    match std::env::var("VENUECODE_FAULT_SEED") {
        Ok(v) if !v.trim().is_empty() => {
            let v = v.trim();
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed.with_context(|| format!("VENUECODE_FAULT_SEED={v:?} is not a number"))
        }
        _ => Ok(default),
    }
}

/// Prints to the process's stderr past the test harness's capture, so `scripts/faults.sh` and a
/// person running one seed see it.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Sent and unsent outbox rows in a (stopped) station's database.
fn outbox_split(data_dir: &Path) -> Result<(i64, i64)> {
    let conn = venuecode_tests::harness::station_db(data_dir)?;
    Ok(conn.query_row(
        "SELECT count(*) FILTER (WHERE sent_at IS NOT NULL),
                count(*) FILTER (WHERE sent_at IS NULL) FROM outbox",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

fn ids(data_dir: &Path, table: &str) -> Result<BTreeSet<String>> {
    let conn = venuecode_tests::harness::station_db(data_dir)?;
    let mut stmt = conn.prepare(&format!("SELECT id FROM {table}"))?;
    let ids = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<BTreeSet<String>, _>>()?;
    Ok(ids)
}

fn wait_until(what: &str, deadline: Instant, f: impl FnMut() -> bool) -> Result<()> {
    let mut f = f;
    let left = deadline.saturating_duration_since(Instant::now());
    wait_for(what, left, || f().then_some(()))
}

/// The database of a scenario, and (PostgreSQL) its cluster to stop and start mid-run.
struct Db<'a> {
    url: &'a str,
    cluster: Option<&'a TempCluster>,
}

/// Runs the scenario with the seed named in any failure, and prints one summary line.
fn run(name: &str, default_seed: u64, db: Db) -> Result<()> {
    let seed = seed(default_seed)?;
    say(&format!(
        "{name}: fault seed {seed:#x} (VENUECODE_FAULT_SEED)"
    ));
    let started = Instant::now();
    match scenario(name, seed, db) {
        Ok(tally) => {
            say(&format!(
                "FAULTS {name} seed={seed:#x} ok in {:.1} s; per path:\n{}",
                started.elapsed().as_secs_f64(),
                tally.per_path()
            ));
            Ok(())
        }
        Err(e) => {
            say(&format!("FAULTS {name} seed={seed:#x} FAILED: {e:#}"));
            Err(e.context(format!(
                "{name} with VENUECODE_FAULT_SEED={seed:#x} (set it to repeat this run)"
            )))
        }
    }
}

/// Runs the scenario against `db.url`; with a cluster, the database restarts mid-run.
fn scenario(name: &str, seed: u64, db: Db) -> Result<Tally> {
    let database = db.url;
    let started = Instant::now();
    let deadline = started + LIMIT;
    let tmp = TempDir::new(&format!("venuecode-sync-{name}-"))?;
    let keys = keygen(tmp.path())?;
    let mut server = ServerProc::start(database, &keys)?;
    let proxy = FaultProxy::start_tls(
        server.addr(),
        Mix::default(),
        seed,
        venuecode_tests::proxytls::ProxyTls::from_keys(&keys)?,
    )?;
    let mut stations: Vec<Station> = (0..3)
        .map(|n| Station {
            n,
            data: tmp.path().join(format!("station{}", n + 1)),
            server: proxy.url(),
            root_pub: keys.join("root.pub"),
            proc: None,
            generated: Arc::default(),
            waiting: Arc::default(),
            sent: Arc::default(),
            done: Arc::default(),
        })
        .collect();
    for s in &mut stations {
        s.start()?;
    }
    let total_generated =
        |st: &[Station]| -> i64 { st.iter().map(|s| s.generated.load(Ordering::SeqCst)).sum() };

    // 1. The server is killed -9 while batches are in flight, and comes back once a station's
    // request has met the closed port.
    wait_until("3,000 check-ins generated", deadline, || {
        total_generated(&stations) >= 3000
    })?;
    let failed_before = proxy.tally().upstream_failed;
    server.kill9()?;
    wait_until("a request refused by the killed server", deadline, || {
        proxy.tally().upstream_failed > failed_before
    })?;
    server.restart()?;
    proxy.set_upstream(server.addr());
    eprintln!(
        "{name}: server killed -9 and restarted at {:?}",
        started.elapsed()
    );

    // 2. A station is killed -9 mid-sync — some of its records acknowledged, some still waiting —
    // then restarted. (It is paced so that this moment always comes.)
    wait_until("station 2 mid-sync", deadline, || {
        let s = &stations[1];
        s.generated.load(Ordering::SeqCst) >= 1500
            && s.sent.load(Ordering::SeqCst) > 0
            && s.waiting.load(Ordering::SeqCst) > 0
            && s.done.load(Ordering::SeqCst) == 0
    })?;
    if let Some(mut p) = stations[1].proc.take() {
        p.kill9()?;
    }
    let (sent, unsent) = outbox_split(&stations[1].data)?;
    ensure!(
        sent > 0 && unsent > 0,
        "station 2 was not mid-sync when killed: {sent} sent, {unsent} unsent"
    );
    std::thread::sleep(Duration::from_millis(200));
    stations[1].start()?;
    eprintln!(
        "{name}: station 2 killed -9 with {sent} sent and {unsent} unsent, restarted at {:?}",
        started.elapsed()
    );

    // 3. A network outage: at least 1.5 s, and until a connection was refused.
    let outage = Instant::now();
    proxy.set_down(true);
    wait_until("a connection refused during the outage", deadline, || {
        outage.elapsed() >= Duration::from_millis(1500) && proxy.tally().refused_while_down > 0
    })?;
    proxy.set_down(false);

    // 4. The database stops (PostgreSQL, immediate mode, as a crash) until the server has
    // answered a request with 503, then starts again: the server must ride it out.
    if let Some(cluster) = db.cluster {
        wait_until("7,000 check-ins generated", deadline, || {
            total_generated(&stations) >= 7000
        })?;
        let unavailable = proxy.tally().status(503);
        cluster.stop("immediate")?;
        let waited = wait_until("a 503 while the database is down", deadline, || {
            proxy.tally().status(503) > unavailable
        });
        cluster.start_server()?;
        waited?;
        eprintln!("{name}: database restarted at {:?}", started.elapsed());
    }

    for s in &mut stations {
        let mut p = s.proc.take().context("station not running")?;
        let left = deadline.saturating_duration_since(Instant::now());
        let status = p.wait_exit(left)?;
        ensure!(
            status.success() && s.done.load(Ordering::SeqCst) == 1,
            "station {} ended with {status}",
            s.n + 1
        );
    }
    let took = started.elapsed();

    // What the stations created (their logs, written as each record committed)…
    let mut created = BTreeSet::new();
    let mut created_alerts = BTreeSet::new();
    for s in &stations {
        let db = s.data.clone();
        let logged = s.created()?;
        ensure!(
            logged.len() as i64 == COUNTS[s.n],
            "station {} logged {} check-ins, expected {}",
            s.n + 1,
            logged.len(),
            COUNTS[s.n]
        );
        let held = ids(&db, "check_ins")?;
        let missing: Vec<_> = logged.difference(&held).take(5).collect();
        ensure!(
            missing.is_empty(),
            "station {} lost committed check-ins from its own store, e.g. {missing:?}",
            s.n + 1
        );
        created.extend(logged);
        created_alerts.extend(ids(&db, "alerts")?);
    }
    ensure!(
        created.len() == 10_000,
        "stations created {} ids",
        created.len()
    );
    // …and what the server holds.
    server.kill9()?;
    let store = venuecode_server::store::open(database)?;
    let held: Vec<String> = store.check_in_ids()?;
    let held_alerts: Vec<String> = store.alert_ids()?;
    let counts = store.counts()?;
    let held_set: BTreeSet<String> = held.iter().cloned().collect();
    let lost: Vec<_> = created.difference(&held_set).take(5).collect();
    let extra: Vec<_> = held_set.difference(&created).take(5).collect();
    ensure!(lost.is_empty(), "{name}: lost check-ins, e.g. {lost:?}");
    ensure!(
        extra.is_empty(),
        "{name}: unknown check-ins, e.g. {extra:?}"
    );
    ensure!(
        counts.check_ins == 10_000 && held.len() == held_set.len(),
        "{name}: server holds {} rows for {} distinct ids",
        counts.check_ins,
        held_set.len()
    );
    ensure!(
        held_alerts.iter().cloned().collect::<BTreeSet<_>>() == created_alerts
            && counts.alerts as usize == created_alerts.len(),
        "{name}: alerts differ: server {} rows, stations {}",
        counts.alerts,
        created_alerts.len()
    );
    let tally = proxy.tally();
    eprintln!(
        "{name}: 10,000 check-ins and {} alerts from 3 stations, exactly once, in {took:?}; {} requests through the proxy",
        created_alerts.len(),
        tally.requests
    );
    for f in [
        Fault::DropConnection,
        Fault::Delay,
        Fault::CutRequest,
        Fault::CutResponse,
        Fault::DropResponse,
        Fault::Replay,
    ] {
        ensure!(
            tally.fault(UPLOAD, f) > 0,
            "{name}: fault {f:?} never took effect on {UPLOAD}; the test proved less than it claims\n{}",
            tally.per_path()
        );
    }
    // Every signed request replayed must get the duplicate answer — or, while the database is
    // down, 503, which stores nothing either (`/time` is unsigned and stateless: answering it
    // twice is right).
    let anomalies: Vec<_> = tally
        .replay_anomalies
        .iter()
        .filter(|(path, status, _)| path != "/api/v1/time" && *status != 503)
        .collect();
    ensure!(
        anomalies.is_empty(),
        "{name}: signed requests replayed without the `409 replayed` answer: {anomalies:?}"
    );
    Ok(tally)
}

#[test]
fn sqlite_server_holds_exactly_what_stations_created_through_faults() -> Result<()> {
    let tmp = TempDir::new("venuecode-sync-sqlite-db-")?;
    let db = tmp.path().join("server.db");
    let url = db.to_str().context("utf-8 path")?;
    run("sqlite", 0x5eed_0006, Db { url, cluster: None })
}

#[test]
fn postgres_server_holds_exactly_what_stations_created_through_faults() -> Result<()> {
    let Some(cluster) = start_for_tests("sync over PostgreSQL")? else {
        return Ok(());
    };
    let url = cluster.create_database("sync")?;
    run(
        "postgres",
        0x5eed_0008,
        Db {
            url: &url,
            cluster: Some(&cluster),
        },
    )
}
