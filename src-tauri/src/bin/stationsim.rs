//! `stationsim`: a headless station for the sync fault tests and demos. It enrols with a venue's
//! declaration code, records check-ins through the real local store (one fsync'd transaction
//! each, outbox row included; manual registrations, every Kth a fever refusal with an alert), and runs the real sync
//! worker until its outbox is empty. Each check-in's id is appended to an append-only log
//! (`--created-log`, default `DIR/created.log`) and fsync'd right after its transaction commits:
//! that log, not the store, is what the station created, so a record the store loses is caught.
//! Killed and restarted, it carries on where it stopped: it first adds to the log any committed
//! id the kill kept from it (the crash window between commit and log write), then creates only
//! the check-ins the log is short of — it never tops up from what the store holds.
//!
//! Usage: `stationsim --data DIR --server URL --declaration CODE --count N [--inspector NAME]
//! [--batch B] [--alert-every K] [--root-pub FILE] [--created-log FILE] [--pace-ms MS]`.
//! Prints `enrolled <device>`, progress lines `progress generated=G waiting=W sent=S`, and
//! `done generated=G` before exiting 0.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration as StdDuration, Instant};

use anyhow::{bail, Context, Result};
use chrono::{Duration, Utc};
use venuecode_app::station::zone;
use venuecode_app::store::Store;
use venuecode_app::sync::{self, SyncConfig, SyncHandle};
use venuecode_core::checkin::CheckInDraft;
use venuecode_core::gate::{Direction, PresenceEffect, Verdict};

struct Args {
    data: PathBuf,
    server: String,
    declaration: String,
    inspector: String,
    count: i64,
    batch: usize,
    alert_every: i64,
    root_pub: Option<PathBuf>,
    ca: Option<PathBuf>,
    allow_http: bool,
    created_log: Option<PathBuf>,
    pace_ms: u64,
}

fn parse() -> Result<Args> {
    let mut a = Args {
        data: PathBuf::new(),
        server: String::new(),
        declaration: String::new(),
        inspector: "模拟检测员".into(),
        count: 0,
        batch: 500,
        alert_every: 25,
        root_pub: None,
        ca: None,
        allow_http: false,
        created_log: None,
        pace_ms: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().with_context(|| format!("{k} needs a value"));
        match k.as_str() {
            "--data" => a.data = v()?.into(),
            "--server" => a.server = v()?,
            "--declaration" => a.declaration = v()?,
            "--inspector" => a.inspector = v()?,
            "--count" => a.count = v()?.parse().context("--count")?,
            "--batch" => a.batch = v()?.parse().context("--batch")?,
            "--alert-every" => a.alert_every = v()?.parse().context("--alert-every")?,
            "--root-pub" => a.root_pub = Some(v()?.into()),
            "--ca" => a.ca = Some(v()?.into()),
            "--allow-http" => a.allow_http = true,
            "--created-log" => a.created_log = Some(v()?.into()),
            "--pace-ms" => a.pace_ms = v()?.parse().context("--pace-ms")?,
            other => bail!("unknown argument {other:?}"),
        }
    }
    if a.data.as_os_str().is_empty() || a.server.is_empty() || a.declaration.is_empty() {
        bail!("usage: stationsim --data DIR --server URL --declaration CODE --count N [--batch B] [--alert-every K] [--root-pub FILE] [--ca FILE] [--allow-http] [--created-log FILE] [--pace-ms MS]");
    }
    Ok(a)
}

fn draft(venue: &str, checkpoint: &str, inspector: &str, n: i64, alert_every: i64) -> CheckInDraft {
    let at = Utc::now();
    let refuse = alert_every > 0 && n % alert_every == 0;
    let subject = uuid::Uuid::new_v4().simple().to_string();
    CheckInDraft {
        venue_id: venue.into(),
        checkpoint_id: checkpoint.into(),
        inspector: inspector.into(),
        direction: Direction::Entry,
        at,
        day: at.with_timezone(&zone()).format("%Y-%m-%d").to_string(),
        temperature: "normal",
        celsius: None,
        verdict: if refuse {
            Verdict::Refuse
        } else {
            Verdict::Pass
        },
        reasons: if refuse { vec!["fever"] } else { vec![] },
        fever: refuse,
        // Manual registrations: a simulated station has no issuer to make real codes, and the
        // server verifies every scanned code again.
        code_id: None,
        subject: Some(format!("local:{}", &subject[..24])),
        name_masked: Some("张*".into()),
        phone_masked: Some("138****0000".into()),
        id_masked: Some("1101**********002X".into()),
        color: None,
        alert: refuse,
        manual: true,
        proxy_name: None,
        proxy_phone: None,
        proxy_relation: None,
        code: None,
        sealed_id: None,
    }
}

/// The append-only log of created check-in ids.
struct CreatedLog {
    file: File,
    ids: HashSet<String>,
}

impl CreatedLog {
    /// Opens (or creates) the log and adds the ids the store committed but the log missed. A last
    /// line without its newline is a write the kill cut short: it is cut off the file (the store
    /// still has that record, so it comes back through the reconciliation).
    fn open(path: &Path, store: &Store) -> Result<CreatedLog> {
        let mut ids = HashSet::new();
        if path.exists() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let complete = text.rfind('\n').map_or(0, |i| i + 1);
            if complete < text.len() {
                eprintln!(
                    "stationsim: dropping a half-written last line of {}",
                    path.display()
                );
                let f = OpenOptions::new().write(true).open(path)?;
                f.set_len(complete as u64)?;
                f.sync_data()?;
            }
            ids.extend(
                text[..complete]
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(str::to_string),
            );
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        let mut log = CreatedLog { file, ids };
        for id in store.check_in_ids()? {
            if !log.ids.contains(&id) {
                eprintln!(
                    "stationsim: {id} was committed but not logged before a crash; logged now"
                );
                log.append(id)?;
            }
        }
        Ok(log)
    }

    /// Appends one id — the whole line in one write, so a kill leaves all of it or none but a
    /// prefix without its newline — and makes it durable before returning.
    fn append(&mut self, id: String) -> Result<()> {
        self.file.write_all(format!("{id}\n").as_bytes())?;
        self.file.sync_data()?;
        self.ids.insert(id);
        Ok(())
    }

    fn len(&self) -> i64 {
        i64::try_from(self.ids.len()).unwrap_or(i64::MAX)
    }
}

fn main() -> Result<()> {
    let a = parse()?;
    std::fs::create_dir_all(a.data.join("trust"))?;
    if let Some(p) = &a.root_pub {
        std::fs::copy(p, a.data.join("trust/root.pub")).context("copying --root-pub")?;
    }
    if let Some(p) = &a.ca {
        std::fs::copy(p, a.data.join("trust/ca.pem")).context("copying --ca")?;
    }
    let mut store = Store::open(&a.data)?;
    // Enrol (through whatever the network does), unless a previous run did.
    let started = Instant::now();
    let mut attempt = 0;
    let time = std::sync::Arc::new(sync::TimeKeeper::start(Some(&store), sync::system_clock()));
    while store.device()?.and_then(|d| d.venue_id).is_none() {
        match sync::enrol(
            &mut store,
            &a.data,
            &time,
            &sync::Enrolment {
                server_url: &a.server,
                declaration_code: &a.declaration,
                inspector: &a.inspector,
                checkpoint_id: None,
                direction: Direction::Entry,
                allow_http: a.allow_http,
            },
        ) {
            Ok(_) => break,
            Err(e) if started.elapsed() < StdDuration::from_secs(120) => {
                attempt += 1;
                eprintln!("stationsim: enrolment attempt {attempt} failed: {e}");
                std::thread::sleep(StdDuration::from_millis(200));
            }
            Err(e) => return Err(e).context("enrolling"),
        }
    }
    let device = store.device()?.context("no device after enrolment")?;
    println!("enrolled {}", device.device_id);
    let binding = store.binding()?.context("no binding after enrolment")?;
    let handle = SyncHandle::start(
        &a.data,
        Some(a.server.clone()),
        SyncConfig {
            batch_size: a.batch,
            backoff_base: StdDuration::from_millis(50),
            backoff_cap: StdDuration::from_millis(800),
            offline_probe: StdDuration::from_millis(400),
            idle: StdDuration::from_millis(300),
            pull_every: Duration::seconds(5),
            request_timeout: StdDuration::from_secs(5),
            allow_http: a.allow_http,
            ..SyncConfig::default()
        },
    );
    let log_path = a
        .created_log
        .clone()
        .unwrap_or_else(|| a.data.join("created.log"));
    let mut log = CreatedLog::open(&log_path, &store)?;
    let mut generated = log.len();
    let mut last_report = Instant::now();
    loop {
        // Record in bursts, so sync runs while check-ins keep arriving, as at a gate.
        for _ in 0..50 {
            if generated >= a.count {
                break;
            }
            generated += 1;
            let d = draft(
                &binding.venue_id,
                &binding.checkpoint_id,
                &binding.inspector,
                generated,
                a.alert_every,
            );
            let id = store.record(&d, PresenceEffect::Keep)?;
            log.append(id)?;
        }
        if a.pace_ms > 0 && generated < a.count {
            std::thread::sleep(StdDuration::from_millis(a.pace_ms));
        }
        handle.wake();
        let (waiting, rejected) = store.outbox_counts()?;
        if rejected > 0 {
            bail!("{rejected} records were rejected by the server");
        }
        if last_report.elapsed() > StdDuration::from_millis(250) || waiting == 0 {
            let s = handle.status();
            println!(
                "progress generated={generated} waiting={waiting} sent={} error={}",
                s.sent_total,
                s.last_error.as_deref().unwrap_or("-")
            );
            last_report = Instant::now();
        }
        if generated >= a.count && waiting == 0 {
            break;
        }
        if generated >= a.count {
            std::thread::sleep(StdDuration::from_millis(100));
        }
    }
    if !handle.stop_and_wait(StdDuration::from_secs(30)) {
        bail!("the sync worker did not stop within 30 s");
    }
    println!("done generated={generated}");
    Ok(())
}
