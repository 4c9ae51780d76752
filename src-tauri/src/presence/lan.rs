//! The exchange with the venue's other stations on the local network (core `lan` has the
//! protocol): an HTTP endpoint that answers signed asks with this station's log of passages
//! sealed to the asker, a DNS-SD advertisement and browser (mdns-sd) that finds the venue's other
//! stations, and a loop that asks each of them every half second for what they learned since
//! the mark kept for them.
//!
//! Configuration from the environment: `VENUECODE_LAN=off` turns it off; `VENUECODE_LAN_BIND`
//! (default `0.0.0.0:0`, any free port); `VENUECODE_LAN_MDNS=off` stops advertising and
//! browsing; `VENUECODE_LAN_LOOPBACK=1` also uses the loopback interface for mDNS (tests);
//! `VENUECODE_LAN_PEERS=host:port,...` adds peers by address (networks that block multicast).
//!
//! Invariants: a peer is heard only through a reply that verifies (core `lan`): what DNS-SD
//! says is a hint; an ask is answered only for a station of this venue; the mark for a peer moves
//! only after its passages were committed; this station never asks itself.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use venuecode_core::keys::{hex, PublicKey, SecretKey};
use venuecode_core::lan::{
    LanAsk, LanCredential, LanReply, ReplyParts, Signed, EXCHANGE_PATH, MAX_MESSAGE_BYTES,
    REPLY_PAGE, SERVICE_TYPE, TXT_DEVICE, TXT_VENUE,
};

use super::Ctx;
use crate::store::{PassageSource, Store};
use crate::sync::station_root;

/// How the LAN exchange runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanConfig {
    pub bind: String,
    pub mdns: bool,
    pub loopback: bool,
    pub peers: Vec<String>,
    pub every: StdDuration,
}

impl Default for LanConfig {
    fn default() -> Self {
        LanConfig {
            bind: "0.0.0.0:0".into(),
            mdns: true,
            loopback: false,
            peers: Vec::new(),
            every: StdDuration::from_millis(500),
        }
    }
}

impl LanConfig {
    /// From the environment (module doc); `None` when turned off.
    pub fn from_env() -> Option<LanConfig> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if var("VENUECODE_LAN").is_some_and(|v| v == "off" || v == "0") {
            return None;
        }
        let mut c = LanConfig::default();
        if let Some(b) = var("VENUECODE_LAN_BIND") {
            c.bind = b;
        }
        c.mdns = !var("VENUECODE_LAN_MDNS").is_some_and(|v| v == "off" || v == "0");
        c.loopback = var("VENUECODE_LAN_LOOPBACK").is_some_and(|v| v == "1");
        if let Some(p) = var("VENUECODE_LAN_PEERS") {
            c.peers = p
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        Some(c)
    }
}

/// What this station is on the LAN right now (from its store).
struct Me {
    device_id: String,
    venue: String,
    key: SecretKey,
    credential: LanCredential,
    root: PublicKey,
}

fn me(ctx: &Ctx, store: &mut Store) -> Option<Me> {
    let _g = ctx.db()?;
    let device = store.device().ok()??;
    let venue = device.venue_id.clone()?;
    let credential: LanCredential =
        serde_json::from_str(&store.sync_value("lan_credential").ok()??).ok()?;
    Some(Me {
        device_id: device.device_id.clone(),
        venue,
        key: SecretKey::from_hex(&device.secret_key).ok()?,
        credential,
        root: station_root(store, &ctx.data_dir).ok()?,
    })
}

fn random32() -> Option<[u8; 32]> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).ok()?;
    Some(b)
}

type Job = (&'static str, Box<dyn FnOnce() + Send>);

pub(super) struct Lan;

impl Lan {
    /// Binds the endpoint and returns the threads to run: the answering endpoint and the loop
    /// that finds and asks peers.
    pub fn start(ctx: Arc<Ctx>, config: LanConfig) -> Result<Vec<Job>, String> {
        let server = Arc::new(
            tiny_http::Server::http(&config.bind)
                .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?,
        );
        let port = server.server_addr().to_ip().map(|a| a.port());
        ctx.update(|s| s.lan_port = port);
        let answer = {
            let ctx = ctx.clone();
            let server = server.clone();
            Box::new(move || answer_loop(&ctx, &server)) as Box<dyn FnOnce() + Send>
        };
        let ask = Box::new(move || ask_loop(&ctx, config, port.unwrap_or(0)));
        Ok(vec![
            ("venuecode-lan-answer", answer),
            ("venuecode-lan-ask", ask),
        ])
    }
}

fn answer_loop(ctx: &Ctx, server: &tiny_http::Server) {
    let Ok(mut store) = Store::open(&ctx.data_dir) else {
        eprintln!("venuecode: LAN: the store did not open");
        return;
    };
    while !ctx.stopped() {
        let mut req = match server.recv_timeout(StdDuration::from_millis(250)) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(_) => break,
        };
        let (status, body) = match read_ask(&mut req) {
            Ok(env) => answer(ctx, &mut store, &env),
            Err(e) => e,
        };
        let _ = req.respond(
            tiny_http::Response::from_string(body)
                .with_status_code(status)
                .with_header(
                    tiny_http::Header::from_bytes("content-type", "application/json")
                        .expect("a valid header"),
                ),
        );
    }
}

/// The signed ask a request carries: a POST to the exchange path, not too large.
fn read_ask(req: &mut tiny_http::Request) -> Result<Signed, (u16, String)> {
    if req.method() != &tiny_http::Method::Post || req.url() != EXCHANGE_PATH {
        return Err((404, "\"not found\"".into()));
    }
    let mut bytes = Vec::new();
    req.as_reader()
        .take(MAX_MESSAGE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| (400, "\"unreadable\"".into()))?;
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err((413, "\"too large\"".into()));
    }
    serde_json::from_slice(&bytes).map_err(|_| (400, "\"not a signed ask\"".into()))
}

fn refused(ctx: &Ctx, why: &str) {
    ctx.update(|s| {
        s.lan_refused += 1;
        s.lan_last_refused = Some(why.to_string());
    });
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Answers a peer's ask with what this station learned after the peer's mark, sealed to it.
fn answer(ctx: &Ctx, store: &mut Store, env: &Signed) -> (u16, String) {
    let Some(me) = me(ctx, store) else {
        return (503, quoted("this station is not enrolled at a venue yet"));
    };
    let now = ctx.time.now();
    let (ask, _peer) = match LanAsk::check(env, &me.root, &me.venue, now) {
        Ok(v) => v,
        Err(e) => {
            refused(ctx, &e.to_string());
            return (403, quoted(&e.to_string()));
        }
    };
    let page = {
        let Some(_g) = ctx.db() else {
            return (503, quoted("stopping"));
        };
        let epoch = match store.passage_epoch() {
            Ok(e) => e,
            Err(e) => return (500, quoted(&format!("storage: {e}"))),
        };
        // A mark in another log (this station's data was made anew) counts from the start.
        let after = if ask.epoch == epoch { ask.after } else { 0 };
        match store.passages_after(&me.venue, after, REPLY_PAGE) {
            Ok(p) => (epoch, p),
            Err(e) => return (500, quoted(&format!("storage: {e}"))),
        }
    };
    let Some(ephemeral) = random32() else {
        return (500, quoted("no randomness"));
    };
    let (epoch, page) = page;
    match LanReply::make(
        &ask,
        ReplyParts {
            from: &me.credential,
            epoch: &epoch,
            upto: page.upto,
            more: page.more,
            passages: &page.passages,
        },
        &me.key,
        ephemeral,
        now,
    ) {
        Ok(reply) => (200, serde_json::to_string(&reply).unwrap_or_default()),
        Err(e) => (400, quoted(&e.to_string())),
    }
}

/// A peer as the asking loop knows it.
#[derive(Debug, Clone, Default)]
struct Peer {
    /// Learned from DNS-SD or from its first reply.
    device_id: Option<String>,
    last_ok: Option<Instant>,
    /// Failures in a row, and when to ask again.
    fails: u32,
    next_try: Option<Instant>,
    /// Found by DNS-SD (dropped when it says the peer left); given addresses stay.
    discovered: bool,
}

/// The DNS-SD side: this station's advertisement and the browse of its venue's stations.
struct Discovery {
    daemon: mdns_sd::ServiceDaemon,
    events: mdns_sd::Receiver<mdns_sd::ServiceEvent>,
    /// The advertisement registered (full name), for the device and venue it names.
    registered: Option<(String, String, String)>,
}

impl Discovery {
    fn start(loopback: bool) -> Option<Discovery> {
        let daemon = mdns_sd::ServiceDaemon::new()
            .map_err(|e| eprintln!("venuecode: LAN: mDNS did not start: {e}"))
            .ok()?;
        if loopback {
            let _ = daemon.enable_interface(mdns_sd::IfKind::LoopbackV4);
        }
        let events = daemon.browse(SERVICE_TYPE).ok()?;
        Some(Discovery {
            daemon,
            events,
            registered: None,
        })
    }

    /// Advertises this station (again when its device or venue changed).
    fn advertise(&mut self, me: &Me, port: u16) {
        let wanted = (me.device_id.clone(), me.venue.clone());
        if self
            .registered
            .as_ref()
            .is_some_and(|(_, d, v)| (d, v) == (&wanted.0, &wanted.1))
        {
            return;
        }
        if let Some((name, _, _)) = self.registered.take() {
            let _ = self.daemon.unregister(&name);
        }
        let props = std::collections::HashMap::from([
            (TXT_VENUE.to_string(), me.venue.clone()),
            (TXT_DEVICE.to_string(), me.device_id.clone()),
        ]);
        let instance = format!("vc-{}", me.device_id);
        let host = format!("{instance}.local.");
        match mdns_sd::ServiceInfo::new(SERVICE_TYPE, &instance, &host, "", port, props) {
            Ok(info) => {
                let info = info.enable_addr_auto();
                let name = info.get_fullname().to_string();
                if self.daemon.register(info).is_ok() {
                    self.registered = Some((name, wanted.0, wanted.1));
                }
            }
            Err(e) => eprintln!("venuecode: LAN: advertisement refused: {e}"),
        }
    }

    /// Takes in what the browse found: the venue's other stations by address.
    fn drain(&self, me: &Me, peers: &mut BTreeMap<String, Peer>) {
        while let Ok(event) = self.events.try_recv() {
            match event {
                mdns_sd::ServiceEvent::ServiceResolved(info) => {
                    let device = info.get_property_val_str(TXT_DEVICE).map(str::to_string);
                    if info.get_property_val_str(TXT_VENUE) != Some(me.venue.as_str())
                        || device.as_deref() == Some(me.device_id.as_str())
                    {
                        continue;
                    }
                    for ip in info.get_addresses() {
                        let addr = std::net::SocketAddr::new(*ip, info.get_port()).to_string();
                        let p = peers.entry(addr).or_default();
                        p.device_id = device.clone();
                        p.discovered = true;
                    }
                }
                mdns_sd::ServiceEvent::ServiceRemoved(_, name) => {
                    let gone = name
                        .strip_prefix("vc-")
                        .and_then(|n| n.split('.').next())
                        .map(str::to_string);
                    peers.retain(|_, p| !(p.discovered && p.device_id == gone));
                }
                _ => {}
            }
        }
    }
}

fn ask_loop(ctx: &Ctx, config: LanConfig, port: u16) {
    let Ok(mut store) = Store::open(&ctx.data_dir) else {
        eprintln!("venuecode: LAN: the store did not open");
        return;
    };
    // A peer that is switched off must not hold up the others: a short connect timeout, and
    // a failing peer is asked less and less often (up to every 5 s).
    let http = match reqwest::blocking::Client::builder()
        .no_proxy()
        .connect_timeout(StdDuration::from_millis(500))
        .timeout(StdDuration::from_secs(3))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("venuecode: LAN: no HTTP client: {e}");
            return;
        }
    };
    let mut discovery = if config.mdns {
        Discovery::start(config.loopback)
    } else {
        None
    };
    let mut peers: BTreeMap<String, Peer> = config
        .peers
        .iter()
        .map(|a| (a.clone(), Peer::default()))
        .collect();
    while !ctx.stopped() {
        if let Some(me) = me(ctx, &mut store) {
            if let Some(d) = discovery.as_mut() {
                d.advertise(&me, port);
                d.drain(&me, &mut peers);
            }
            for (addr, peer) in peers.iter_mut() {
                if ctx.stopped() {
                    break;
                }
                if peer.next_try.is_some_and(|t| Instant::now() < t) {
                    continue;
                }
                match pull(ctx, &mut store, &http, &me, addr, peer) {
                    Ok(()) => {
                        peer.last_ok = Some(Instant::now());
                        peer.fails = 0;
                        peer.next_try = None;
                    }
                    Err(e) => {
                        if e.starts_with("refused") {
                            refused(ctx, &e);
                        }
                        peer.fails = peer.fails.saturating_add(1);
                        let wait =
                            (config.every * peer.fails.min(20)).min(StdDuration::from_secs(5));
                        peer.next_try = Some(Instant::now() + wait);
                    }
                }
            }
            let live: Vec<String> = peers
                .values()
                .filter(|p| {
                    p.last_ok
                        .is_some_and(|t| t.elapsed() < config.every * 4 + StdDuration::from_secs(3))
                })
                .filter_map(|p| p.device_id.clone())
                .collect();
            ctx.update(|s| s.lan_peers = live);
        }
        if ctx.sleep(config.every) {
            break;
        }
    }
    if let Some(d) = discovery {
        if let Some((name, _, _)) = &d.registered {
            let _ = d.daemon.unregister(name);
        }
        let _ = d.daemon.shutdown();
    }
}

/// Asks one peer for everything after the mark held for it, page by page.
fn pull(
    ctx: &Ctx,
    store: &mut Store,
    http: &reqwest::blocking::Client,
    me: &Me,
    addr: &str,
    peer: &mut Peer,
) -> Result<(), String> {
    if peer.device_id.as_deref() == Some(me.device_id.as_str()) {
        return Ok(());
    }
    for _ in 0..50 {
        let (epoch, after) = match &peer.device_id {
            Some(d) => {
                let _g = ctx.db().ok_or("stopping")?;
                store
                    .lan_mark(d)
                    .map_err(|e| e.to_string())?
                    .unwrap_or_default()
            }
            None => Default::default(),
        };
        let secret = random32().ok_or("no randomness")?;
        let nonce = hex(&random32().ok_or("no randomness")?[..16]);
        let ask = LanAsk {
            from: me.credential.clone(),
            venue_id: me.venue.clone(),
            epoch,
            after,
            reply_key: hex(&venuecode_core::seal::public_key(&secret)),
            nonce,
            at: ctx.time.now(),
        };
        let res = http
            .post(format!("http://{addr}{EXCHANGE_PATH}"))
            .json(&ask.sign(&me.key))
            .send()
            .map_err(|e| format!("unreachable: {e}"))?;
        let status = res.status().as_u16();
        let bytes = res.bytes().map_err(|e| format!("unreadable: {e}"))?;
        if status != 200 {
            return Err(format!(
                "answered {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ));
        }
        let env: Signed =
            serde_json::from_slice(&bytes).map_err(|_| "refused: not a signed reply")?;
        let heard = LanReply::check(&env, &ask, &secret, &me.root, ctx.time.now())
            .map_err(|e| format!("refused: {e}"))?;
        if heard.peer.device_id == me.device_id {
            // This station's own address (a loopback path, a listed address of its own).
            peer.device_id = Some(me.device_id.clone());
            return Ok(());
        }
        {
            let _g = ctx.db().ok_or("stopping")?;
            store
                .merge_passages(&me.venue, &heard.passages, PassageSource::Lan)
                .map_err(|e| e.to_string())?;
            store
                .set_lan_mark(
                    &heard.peer.device_id,
                    &heard.epoch,
                    heard.upto,
                    ctx.time.now(),
                )
                .map_err(|e| e.to_string())?;
        }
        peer.device_id = Some(heard.peer.device_id);
        if !heard.more {
            return Ok(());
        }
    }
    Ok(())
}
