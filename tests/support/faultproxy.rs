//! A TCP fault proxy for HTTP/1.1 between stations and the server: per request it passes,
//! drops the connection, delays, cuts the request or the response half-way, drops the answer
//! after the server acted, or replays the request to the server a second time. It can also be
//! taken "down" (every connection refused at once), as a network outage.
//!
//! Invariants: one request per client connection (it forces `Connection: close` upstream and
//! downstream), so a fault hits exactly one request; the fault sequence comes from a seeded
//! generator, so a failing run can be repeated; counters say how many of each fault happened.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};

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

struct Shared {
    upstream: Mutex<SocketAddr>,
    mix: Mix,
    rng: Mutex<u64>,
    down: AtomicBool,
    stop: AtomicBool,
    counts: Mutex<BTreeMap<Fault, u64>>,
    requests: AtomicU64,
}

/// A running fault proxy; stops accepting when dropped.
pub struct FaultProxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port in front of `upstream`.
    pub fn start(upstream: SocketAddr, mix: Mix, seed: u64) -> Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            mix,
            rng: Mutex::new(seed | 1),
            down: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            counts: Mutex::new(BTreeMap::new()),
            requests: AtomicU64::new(0),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = handle(&s, conn);
                });
            }
        });
        Ok(FaultProxy { addr, shared })
    }

    /// The base URL to give clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
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

    /// How many requests met each fault so far.
    pub fn counts(&self) -> BTreeMap<Fault, u64> {
        self.shared
            .counts
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// Requests seen (not counting connections refused while down).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Unblock the accept loop.
        let _ = TcpStream::connect(self.addr);
    }
}

impl Shared {
    fn next(&self) -> u64 {
        let mut x = self.rng.lock().map(|g| *g).unwrap_or(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if let Ok(mut g) = self.rng.lock() {
            *g = x;
        }
        x
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
}

/// Reads one HTTP/1.1 request (headers + Content-Length body) and rewrites it to
/// `Connection: close`.
fn read_request(conn: &mut TcpStream) -> Result<Vec<u8>> {
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
    while buf.len() < head_end + length {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            bail!("client closed before the body ended");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    out.extend_from_slice(&buf[head_end..head_end + length]);
    Ok(out)
}

/// Sends `req` upstream and reads the whole answer (the server closes after it).
fn forward(upstream: SocketAddr, req: &[u8]) -> Result<Vec<u8>> {
    let mut up = TcpStream::connect_timeout(&upstream, Duration::from_secs(3))?;
    up.set_read_timeout(Some(Duration::from_secs(30)))?;
    up.write_all(req)?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp)?;
    Ok(resp)
}

fn handle(s: &Shared, mut conn: TcpStream) -> Result<()> {
    if s.down.load(Ordering::SeqCst) {
        let _ = conn.shutdown(Shutdown::Both);
        return Ok(());
    }
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let fault = s.pick();
    let upstream = *s.upstream.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    if fault == Fault::DropConnection {
        count(s, fault);
        let _ = conn.shutdown(Shutdown::Both);
        return Ok(());
    }
    let req = read_request(&mut conn)?;
    s.requests.fetch_add(1, Ordering::SeqCst);
    count(s, fault);
    match fault {
        Fault::CutRequest => {
            if let Ok(mut up) = TcpStream::connect_timeout(&upstream, Duration::from_secs(3)) {
                let _ = up.write_all(&req[..req.len() / 2]);
                let _ = up.shutdown(Shutdown::Both);
            }
            let _ = conn.shutdown(Shutdown::Both);
            return Ok(());
        }
        Fault::Delay => std::thread::sleep(Duration::from_millis(200 + s.next() % 1300)),
        _ => {}
    }
    let resp = match forward(upstream, &req) {
        Ok(r) => r,
        Err(_) => {
            let _ = conn.shutdown(Shutdown::Both);
            return Ok(());
        }
    };
    match fault {
        Fault::CutResponse => {
            let _ = conn.write_all(&resp[..resp.len() / 2]);
        }
        Fault::DropResponse => {}
        Fault::Replay => {
            let _ = conn.write_all(&resp);
            let _ = conn.shutdown(Shutdown::Both);
            let _ = forward(upstream, &req);
        }
        _ => {
            let _ = conn.write_all(&resp);
        }
    }
    let _ = conn.shutdown(Shutdown::Both);
    Ok(())
}

fn count(s: &Shared, f: Fault) {
    if let Ok(mut c) = s.counts.lock() {
        *c.entry(f).or_default() += 1;
    }
}
