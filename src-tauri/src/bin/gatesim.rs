//! `gatesim`: a headless station at one gate of a venue, for the tests of presence shared between
//! gates (issue 18) — the real store, sync worker, server relay and LAN exchange, and the real
//! scan path (`station::submit`: verify the code, decide with the venue-wide presence and the
//! venue's capacity, record).
//!
//! Usage: `gatesim --data DIR --server URL --declaration CODE [--checkpoint ID] [--inspector NAME]
//! [--root-pub FILE] [--ca FILE] [--allow-http] [--lan-bind ADDR] [--lan-peers A,B] [--no-mdns]
//! [--lan-loopback] [--no-relay] [--enrol-only]`. It enrols (unless a previous run did), waits for its first
//! pull, prints `ready <device id> <LAN port>`, then answers one line per command on stdin:
//! `scan entry|exit <code>` → `verdict <json>`; `state` → `state <json>` (the passage ids of the
//! last 48 hours, who is inside by gate, the peers heard); `quit`.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration as StdDuration, Instant};

use anyhow::{bail, Context, Result};
use chrono::Duration;
use venuecode_app::presence::{LanConfig, PresenceConfig};
use venuecode_app::store::Store;
use venuecode_app::sync::{self, SyncConfig, SyncHandle};
use venuecode_core::gate::Direction;
use venuecode_ipc::TemperatureInput;

#[derive(Default)]
struct Args {
    data: PathBuf,
    server: String,
    declaration: String,
    checkpoint: Option<String>,
    inspector: String,
    root_pub: Option<PathBuf>,
    ca: Option<PathBuf>,
    allow_http: bool,
    lan: LanConfig,
    relay: bool,
    /// Enrol, pull once, and exit (a gate installed while the server was up, started later).
    enrol_only: bool,
}

fn parse() -> Result<Args> {
    let mut a = Args {
        inspector: "模拟检测员".into(),
        relay: true,
        lan: LanConfig {
            bind: "127.0.0.1:0".into(),
            every: StdDuration::from_millis(300),
            ..LanConfig::default()
        },
        ..Args::default()
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().with_context(|| format!("{k} needs a value"));
        match k.as_str() {
            "--data" => a.data = v()?.into(),
            "--server" => a.server = v()?,
            "--declaration" => a.declaration = v()?,
            "--checkpoint" => a.checkpoint = Some(v()?),
            "--inspector" => a.inspector = v()?,
            "--root-pub" => a.root_pub = Some(v()?.into()),
            "--ca" => a.ca = Some(v()?.into()),
            "--allow-http" => a.allow_http = true,
            "--lan-bind" => a.lan.bind = v()?,
            "--lan-peers" => {
                a.lan.peers = v()?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            }
            "--no-mdns" => a.lan.mdns = false,
            "--lan-loopback" => a.lan.loopback = true,
            "--no-relay" => a.relay = false,
            "--enrol-only" => a.enrol_only = true,
            other => bail!("unknown argument {other:?}"),
        }
    }
    if a.data.as_os_str().is_empty() || a.server.is_empty() || a.declaration.is_empty() {
        bail!("usage: gatesim --data DIR --server URL --declaration CODE [--checkpoint ID] [--lan-bind ADDR] [--lan-peers A,B] [--no-mdns] [--lan-loopback] [--no-relay] [--root-pub FILE] [--ca FILE] [--allow-http]");
    }
    Ok(a)
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
    let time = std::sync::Arc::new(sync::TimeKeeper::start(Some(&store), sync::system_clock()));
    if store.device()?.and_then(|d| d.venue_id).is_none() {
        sync::enrol(
            &mut store,
            &a.data,
            &time,
            &sync::Enrolment {
                server_url: &a.server,
                declaration_code: &a.declaration,
                inspector: &a.inspector,
                checkpoint_id: a.checkpoint.as_deref(),
                direction: Direction::Entry,
                allow_http: a.allow_http,
            },
        )
        .context("enrolling")?;
    }
    let device = store.device()?.context("no device after enrolment")?;
    let handle = SyncHandle::start(
        &a.data,
        Some(a.server.clone()),
        SyncConfig {
            backoff_base: StdDuration::from_millis(50),
            backoff_cap: StdDuration::from_millis(800),
            offline_probe: StdDuration::from_millis(400),
            idle: StdDuration::from_millis(500),
            pull_every: Duration::seconds(5),
            request_timeout: StdDuration::from_secs(5),
            allow_http: a.allow_http,
            presence: PresenceConfig {
                relay: a.relay,
                lan: Some(a.lan.clone()),
            },
            ..SyncConfig::default()
        },
    );
    // The first pull brings the trust list, the policy and the LAN credential (a restart while
    // the server is away goes on with what it kept).
    let started = Instant::now();
    while store
        .sync_value("lan_credential")?
        .unwrap_or_default()
        .is_empty()
    {
        if started.elapsed() > StdDuration::from_secs(60) {
            bail!(
                "no first pull within 60 s: {:?}",
                handle.status().last_detail
            );
        }
        std::thread::sleep(StdDuration::from_millis(50));
    }
    if a.enrol_only {
        println!("enrolled {}", device.device_id);
        handle.stop_and_wait(StdDuration::from_secs(5));
        return Ok(());
    }
    let port = wait_port(&handle)?;
    println!("ready {} {port}", device.device_id);
    std::io::stdout().flush()?;
    let result = serve(&a, &mut store, &handle);
    handle.stop_and_wait(StdDuration::from_secs(5));
    result
}

fn wait_port(handle: &SyncHandle) -> Result<u16> {
    let started = Instant::now();
    loop {
        if let Some(p) = handle.presence().lan_port {
            return Ok(p);
        }
        if started.elapsed() > StdDuration::from_secs(10) {
            bail!("the LAN endpoint did not start");
        }
        std::thread::sleep(StdDuration::from_millis(20));
    }
}

fn serve(a: &Args, store: &mut Store, handle: &SyncHandle) -> Result<()> {
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let line = line?;
        // A code's text may hold spaces (base45): it is the rest of the line.
        let words: Vec<&str> = line.trim().splitn(3, ' ').collect();
        let out = match words.as_slice() {
            ["scan", dir, code] => {
                let direction = Direction::parse(dir).context("entry or exit")?;
                let mut b = store.binding()?.context("not bound")?;
                if b.direction != direction {
                    b.direction = direction;
                    store.set_binding(&b)?;
                }
                let now = handle.trusted_now();
                let fresh = venuecode_app::station::freshness(store, &handle.time())?;
                let v = venuecode_app::station::submit(
                    store,
                    &a.data,
                    code,
                    TemperatureInput::NotTaken,
                    now,
                    fresh,
                )?;
                // As the app does after a scan: the record goes up now.
                handle.wake();
                format!(
                    "verdict {}",
                    serde_json::json!({
                        "pass": v.pass,
                        "recorded": v.recorded,
                        "reasons": v.reasons,
                        "inside": v.counters.inside,
                    })
                )
            }
            ["state"] => {
                let now = handle.trusted_now();
                let b = store.binding()?.context("not bound")?;
                let auto = Duration::hours(i64::from(store.settings()?.auto_close_hours));
                let presence = handle.presence();
                format!(
                    "state {}",
                    serde_json::json!({
                        "ids": store.passage_ids(&b.venue_id, now - Duration::hours(48))?,
                        "by_gate": store.inside_by_gate(&b.venue_id, now, auto)?,
                        "inside": venuecode_app::station::counters(store, now)?.inside,
                        "peers": presence.lan_peers,
                        "refused": presence.lan_refused,
                        "last_refused": presence.lan_last_refused,
                        "relay_online": presence.relay_online,
                        "capacity": venuecode_app::station::capacity(store)?,
                    })
                )
            }
            ["quit"] => return Ok(()),
            _ => format!("error unknown command {line:?}"),
        };
        println!("{out}");
        std::io::stdout().flush()?;
    }
    Ok(())
}
