//! A TCP fault proxy for HTTP/1.1 between stations and the server: per request it passes,
//! drops the connection, delays, cuts the request or the response half-way, drops the answer
//! after the server acted, or replays the request to the server a second time. It can also be
//! taken "down" (every connection refused at once), as a network outage.
//!
//! Invariants: one request per client connection (it forces `Connection: close` upstream and
//! downstream), so a fault hits exactly one request; the fault sequence comes from one seeded
//! generator whose step is atomic across threads, so a seed gives one sequence of faults; a fault
//! is counted per request path only where it took effect (a cut request counts once half of it
//! reached the server, a lost answer once the server answered, a replay once the server answered
//! the second copy), connections refused while "down" and upstream connections that failed are
//! counted apart, and every answer's status is tallied per path.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::proxytls::{Conn, ProxyTls};

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    Pass,
    /// Close the client connection before reading anything.
    DropConnection,
    /// Wait, then pass.
    Delay,
    /// Send only the first half of the request upstream, then close both sides.
    CutRequest,
    /// Forward the request, send back only the first half of the answer, then close.
    CutResponse,
    /// Forward the request, then close without answering (the server acted; the client cannot
    /// know).
    DropResponse,
    /// Forward the request and answer; then send the very same bytes to the server again.
    Replay,
}

/// How often each fault happens, in percent (the rest pass).
#[derive(Debug, Clone)]
pub struct Mix {
    pub drop_connection: u32,
    pub delay: u32,
    pub cut_request: u32,
    pub cut_response: u32,
    pub drop_response: u32,
    pub replay: u32,
}

impl Default for Mix {
    fn default() -> Mix {
        Mix {
            drop_connection: 8,
            delay: 10,
            cut_request: 6,
            cut_response: 8,
            drop_response: 8,
            replay: 10,
        }
    }
}

/// What the proxy saw, per request path (query left out).
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Faults that took effect: `(path, fault)` → count.
    pub faults: BTreeMap<(String, Fault), u64>,
    /// Answers forwarded or not: `(path, HTTP status)` → count (the second copy of a replay
    /// included).
    pub statuses: BTreeMap<(String, u16), u64>,
    /// Replayed requests whose second answer was not `409 replayed` (path, status, start of the
    /// body): the caller decides which of them could mean a request acted on twice.
    pub replay_anomalies: Vec<(String, u16, String)>,
    /// Connections refused while the proxy was down (the outage).
    pub refused_while_down: u64,
    /// Requests whose upstream connection failed (the server was not there).
    pub upstream_failed: u64,
    /// Requests read from clients.
    pub requests: u64,
}

impl Tally {
    /// How often `fault` took effect on `path`.
    pub fn fault(&self, path: &str, fault: Fault) -> u64 {
        self.faults
            .get(&(path.to_string(), fault))
            .copied()
            .unwrap_or(0)
    }

    /// How many answers with `status` went through, on any path.
    pub fn status(&self, status: u16) -> u64 {
        self.statuses
            .iter()
            .filter(|((_, s), _)| *s == status)
            .map(|(_, n)| n)
            .sum()
    }

    /// One line per path: `path fault=n … | status=n …`.
    pub fn per_path(&self) -> String {
        let mut paths: Vec<&String> = self.faults.keys().map(|(p, _)| p).collect();
        paths.extend(self.statuses.keys().map(|(p, _)| p));
        paths.sort();
        paths.dedup();
        let mut out = String::new();
        for p in paths {
            let _ = write!(out, "{p}:");
            for ((q, f), n) in &self.faults {
                if q == p {
                    let _ = write!(out, " {f:?}={n}");
                }
            }
            let _ = write!(out, " |");
            for ((q, s), n) in &self.statuses {
                if q == p {
                    let _ = write!(out, " {s}={n}");
                }
            }
            out.push('\n');
        }
        let _ = write!(
            out,
            "refused while down={} upstream failed={} requests={}",
            self.refused_while_down, self.upstream_failed, self.requests
        );
        out
    }
}

struct Shared {
    upstream: Mutex<SocketAddr>,
    mix: Mix,
    rng: AtomicU64,
    down: AtomicBool,
    stop: AtomicBool,
    tally: Mutex<Tally>,
    /// TLS on both sides, or plain HTTP.
    tls: Option<Arc<ProxyTls>>,
}

/// A running fault proxy; stops accepting when dropped.
pub struct FaultProxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port in front of `upstream`; `seed` fixes the sequence
    /// of faults.
    pub fn start(upstream: SocketAddr, mix: Mix, seed: u64) -> Result<FaultProxy> {
        FaultProxy::start_with(upstream, mix, seed, None)
    }

    /// [`FaultProxy::start`] over TLS on both sides (see `proxytls.rs`): clients connect with
    /// https and trust the deployment CA; the proxy trusts it towards the server.
    pub fn start_tls(
        upstream: SocketAddr,
        mix: Mix,
        seed: u64,
        tls: ProxyTls,
    ) -> Result<FaultProxy> {
        FaultProxy::start_with(upstream, mix, seed, Some(Arc::new(tls)))
    }

    fn start_with(
        upstream: SocketAddr,
        mix: Mix,
        seed: u64,
        tls: Option<Arc<ProxyTls>>,
    ) -> Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            mix,
            // xorshift must not start at 0; mixing keeps nearby seeds apart.
            rng: AtomicU64::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            down: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            tally: Mutex::new(Tally::default()),
            tls,
        });
        let s = shared.clone();
        std::thread::Builder::new()
            .name("faultproxy-accept".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if s.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let s = s.clone();
                    // A thread that cannot start leaves the connection to close: the client
                    // sees a dropped connection, which it must survive anyway.
                    let _ = std::thread::Builder::new().spawn(move || {
                        let _ = handle(&s, conn);
                    });
                }
            })?;
        Ok(FaultProxy { addr, shared })
    }

    /// The base URL to give clients.
    pub fn url(&self) -> String {
        let scheme = if self.shared.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// Points the proxy at another upstream (a restarted server on a new port).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        if let Ok(mut u) = self.shared.upstream.lock() {
            *u = upstream;
        }
    }

    /// Takes the "network" down (every connection closed at once) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// What the proxy saw so far.
    pub fn tally(&self) -> Tally {
        self.shared
            .tally
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Unblock the accept loop.
        let _ = TcpStream::connect(self.addr);
    }
}

/// One xorshift64 step.
fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

impl Shared {
    /// The next number of the seeded sequence; atomic, so concurrent callers each get their own.
    fn next(&self) -> u64 {
        let prev = self
            .rng
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |x| Some(xorshift(x)))
            .unwrap_or(1);
        xorshift(prev)
    }

    fn pick(&self) -> Fault {
        let m = &self.mix;
        let mut roll = (self.next() % 100) as u32;
        for (p, f) in [
            (m.drop_connection, Fault::DropConnection),
            (m.delay, Fault::Delay),
            (m.cut_request, Fault::CutRequest),
            (m.cut_response, Fault::CutResponse),
            (m.drop_response, Fault::DropResponse),
            (m.replay, Fault::Replay),
        ] {
            if roll < p {
                return f;
            }
            roll -= p;
        }
        Fault::Pass
    }

    fn with(&self, f: impl FnOnce(&mut Tally)) {
        if let Ok(mut t) = self.tally.lock() {
            f(&mut t);
        }
    }

    fn fault(&self, path: &str, fault: Fault) {
        self.with(|t| *t.faults.entry((path.to_string(), fault)).or_default() += 1);
    }

    fn status(&self, path: &str, resp: &[u8]) {
        let status = status_of(resp);
        self.with(|t| *t.statuses.entry((path.to_string(), status)).or_default() += 1);
    }
}

/// One request from a client: its path (no query) and its bytes, rewritten to
/// `Connection: close`.
pub struct Request {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Reads one HTTP/1.1 request (headers + Content-Length body); shared with the tampering proxy.
pub fn read_request(conn: &mut dyn Read) -> Result<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            bail!("client closed before the headers ended");
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 64 * 1024 {
            bail!("headers too long");
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or("?")
        .split('?')
        .next()
        .unwrap_or("?")
        .to_string();
    let mut length = 0usize;
    let mut lines: Vec<&str> = Vec::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().context("content-length")?;
        }
        if lower.starts_with("connection:") {
            continue;
        }
        lines.push(line);
    }
    let end = head_end
        .checked_add(length)
        .context("content-length too large")?;
    while buf.len() < end {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            bail!("client closed before the body ended");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut bytes = lines.join("\r\n").into_bytes();
    bytes.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    bytes.extend_from_slice(&buf[head_end..end]);
    Ok(Request { path, bytes })
}

/// The status code of an HTTP answer (0 when there is none).
fn status_of(resp: &[u8]) -> u16 {
    resp.split(|b| *b == b' ')
        .nth(1)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The start of an answer's body, for messages.
fn body_of(resp: &[u8]) -> String {
    let at = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(resp.len(), |i| i + 4);
    String::from_utf8_lossy(&resp[at..resp.len().min(at + 120)]).to_string()
}

/// Sends `req` upstream and reads the whole answer (the server closes after it).
pub fn forward(upstream: SocketAddr, req: &[u8]) -> Result<Vec<u8>> {
    forward_over(None, upstream, req)
}

/// Opens a connection upstream, over TLS when `tls` is given.
fn connect(tls: Option<&ProxyTls>, upstream: SocketAddr) -> Result<Box<dyn Conn>> {
    let tcp = TcpStream::connect_timeout(&upstream, Duration::from_secs(3))?;
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    tcp.set_write_timeout(Some(Duration::from_secs(30)))?;
    match tls {
        Some(t) => t.connect(tcp),
        None => Ok(Box::new(tcp)),
    }
}

/// [`forward`], over TLS when `tls` is given. A TLS server that closes without close_notify
/// after a whole answer ends the answer there.
fn forward_over(tls: Option<&ProxyTls>, upstream: SocketAddr, req: &[u8]) -> Result<Vec<u8>> {
    let mut up = connect(tls, upstream)?;
    up.write_all(req)?;
    up.flush()?;
    let mut resp = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match up.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => resp.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !resp.is_empty() => break,
            Err(e) => return Err(e.into()),
        }
    }
    up.close();
    if resp.is_empty() {
        bail!("the server closed without answering");
    }
    Ok(resp)
}

fn handle(s: &Shared, tcp: TcpStream) -> Result<()> {
    if s.down.load(Ordering::SeqCst) {
        s.with(|t| t.refused_while_down += 1);
        let _ = tcp.shutdown(Shutdown::Both);
        return Ok(());
    }
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    tcp.set_write_timeout(Some(Duration::from_secs(30)))?;
    let tls = s.tls.as_deref();
    let mut conn: Box<dyn Conn> = match tls {
        Some(t) => t.accept(tcp)?,
        None => Box::new(tcp),
    };
    let fault = s.pick();
    let upstream = *s.upstream.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let req = read_request(&mut *conn)?;
    let path = req.path.as_str();
    s.with(|t| t.requests += 1);
    match fault {
        Fault::DropConnection => {
            // Nothing reaches the server; the client sees the connection closed.
            s.fault(path, fault);
            conn.close();
            return Ok(());
        }
        Fault::CutRequest => {
            match connect(tls, upstream) {
                Ok(mut up) => {
                    if up.write_all(&req.bytes[..req.bytes.len() / 2]).is_ok() && up.flush().is_ok()
                    {
                        s.fault(path, fault);
                    }
                    up.close();
                }
                Err(_) => s.with(|t| t.upstream_failed += 1),
            }
            conn.close();
            return Ok(());
        }
        Fault::Delay => std::thread::sleep(Duration::from_millis(200 + s.next() % 1300)),
        _ => {}
    }
    let resp = match forward_over(tls, upstream, &req.bytes) {
        Ok(r) => r,
        Err(_) => {
            s.with(|t| t.upstream_failed += 1);
            conn.close();
            return Ok(());
        }
    };
    s.status(path, &resp);
    match fault {
        Fault::CutResponse => {
            let _ = conn.write_all(&resp[..resp.len() / 2]);
            s.fault(path, fault);
        }
        Fault::DropResponse => s.fault(path, fault),
        Fault::Replay => {
            let _ = conn.write_all(&resp);
            conn.close();
            if let Ok(again) = forward_over(tls, upstream, &req.bytes) {
                s.status(path, &again);
                s.fault(path, fault);
                let (status, body) = (status_of(&again), body_of(&again));
                if status != 409 || !body.contains("\"replayed\"") {
                    s.with(|t| t.replay_anomalies.push((path.to_string(), status, body)));
                }
            }
        }
        Fault::Delay => {
            let _ = conn.write_all(&resp);
            s.fault(path, fault);
        }
        _ => {
            let _ = conn.write_all(&resp);
        }
    }
    conn.close();
    Ok(())
}
