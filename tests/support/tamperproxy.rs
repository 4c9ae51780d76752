//! A tampering proxy: an attacker on the venue's network between station and server. It
//! forwards each HTTP/1.1 request and rewrites the answer the way a test sets — time turned back,
//! policy relaxed, revocations stripped, an old trust list put in — or answers an upload itself
//! with an acknowledgement of everything, never forwarding it (with signature headers copied
//! from an earlier genuine answer).
//!
//! Invariants: one request per connection (`Connection: close`, as the fault proxy); the body is
//! rewritten as JSON and `Content-Length` recomputed, so the station sees a well-formed answer
//! that differs only where the attack changed it; every rewrite that took effect is counted per
//! kind, so a test can show the attack really happened.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::faultproxy::{forward, read_request};

/// What the attacker does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tamper {
    /// Pass everything unchanged.
    Honest,
    /// `/time`: the time in the body and the answer-time header two days back.
    TimeBack,
    /// `/sync/pull`: accept yellow codes, fever only from 39 °C, no test required, and another
    /// phone number for reports.
    RelaxPolicy,
    /// `/sync/upload`: never forwarded; answered 200 with every id acknowledged.
    AckEverything,
    /// `/sync/pull`: the revocation page emptied.
    StripRevocations,
    /// `/sync/pull`: this (root-signed, older) trust list put in, base64.
    OldTrustList(String),
}

struct Shared {
    upstream: SocketAddr,
    tamper: Mutex<Tamper>,
    /// Headers of the last genuine answer (for forging acknowledgements).
    last_headers: Mutex<Vec<(String, String)>>,
    hits: Mutex<BTreeMap<String, u64>>,
    stop: AtomicBool,
}

/// A running tampering proxy.
pub struct TamperProxy {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl Drop for TamperProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

impl TamperProxy {
    /// Listens on a free loopback port, forwarding to `upstream`.
    pub fn start(upstream: SocketAddr) -> Result<TamperProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            tamper: Mutex::new(Tamper::Honest),
            last_headers: Mutex::new(Vec::new()),
            hits: Mutex::new(BTreeMap::new()),
            stop: AtomicBool::new(false),
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
        Ok(TamperProxy { shared, addr })
    }

    /// The proxy's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sets what the attacker does from now on.
    pub fn set(&self, t: Tamper) {
        if let Ok(mut held) = self.shared.tamper.lock() {
            *held = t;
        }
    }

    /// Every kind of tampering that took effect, with counts (for messages).
    pub fn hits_text(&self) -> String {
        self.shared
            .hits
            .lock()
            .map(|h| format!("{h:?}"))
            .unwrap_or_default()
    }

    /// How many answers were tampered with, per kind.
    pub fn hits(&self, kind: &str) -> u64 {
        self.shared
            .hits
            .lock()
            .map(|h| h.get(kind).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

/// An HTTP answer split into status line, headers and body.
struct Answer {
    status_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn parse(resp: &[u8]) -> Option<Answer> {
    let end = resp.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&resp[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?.to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Answer {
        status_line,
        headers,
        body: resp[end + 4..].to_vec(),
    })
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn set_header(&mut self, name: &str, value: String) {
        self.headers.retain(|(k, _)| k != name);
        self.headers.push((name.to_string(), value));
    }

    fn bytes(mut self) -> Vec<u8> {
        self.headers
            .retain(|(k, _)| k != "content-length" && k != "transfer-encoding");
        let mut out = format!("{}\r\n", self.status_line);
        for (k, v) in &self.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str(&format!("content-length: {}\r\n\r\n", self.body.len()));
        let mut bytes = out.into_bytes();
        bytes.append(&mut self.body);
        bytes
    }
}

const TWO_DAYS_MS: i64 = 2 * 86_400_000;

/// Rewrites one answer; returns the kind of tampering that took effect, if any.
fn rewrite(t: &Tamper, path: &str, a: &mut Answer) -> Option<&'static str> {
    let mut json: Value = serde_json::from_slice(&a.body).ok()?;
    let kind = match (t, path) {
        (Tamper::TimeBack, "/api/v1/time") => {
            let ms = json["unix_ms"].as_i64()? - TWO_DAYS_MS;
            json["unix_ms"] = ms.into();
            let signed: i64 = a.header("x-vc-answer-time")?.parse().ok()?;
            a.set_header("x-vc-answer-time", (signed - TWO_DAYS_MS).to_string());
            "time_back"
        }
        (Tamper::RelaxPolicy, "/api/v1/sync/pull") => {
            let p = json.get_mut("policy")?;
            p["accept_yellow"] = true.into();
            p["fever_threshold_c"] = 39.0.into();
            p["require_nat_within_hours"] = Value::Null;
            p["when_stale"] = "warn".into();
            json["venue"]["phone"] = "0000-0000000".into();
            "relax_policy"
        }
        (Tamper::StripRevocations, "/api/v1/sync/pull") => {
            let r = json.get_mut("revocations")?;
            if r["entries"].as_array()?.is_empty() {
                return None;
            }
            r["entries"] = Value::Array(vec![]);
            r["more"] = false.into();
            "strip_revocations"
        }
        (Tamper::OldTrustList(old), "/api/v1/sync/pull") => {
            json["trust_list"] = old.clone().into();
            json["trust_version"] = 1.into();
            "old_trust_list"
        }
        _ => return None,
    };
    a.body = serde_json::to_vec(&json).ok()?;
    Some(kind)
}

/// An acknowledgement of every id in an upload body, made by the attacker.
fn forged_ack(req: &[u8], headers: &[(String, String)]) -> Option<Vec<u8>> {
    let at = req.windows(4).position(|w| w == b"\r\n\r\n")?;
    let batch: Value = serde_json::from_slice(&req[at + 4..]).ok()?;
    let mut acked: Vec<Value> = batch["records"]
        .as_array()?
        .iter()
        .filter_map(|r| r.get("id").cloned())
        .collect();
    acked.push("0190f0e0-0000-7000-8000-0000000000ff".into());
    let n = acked.len();
    let mut a = Answer {
        status_line: "HTTP/1.1 200 OK".into(),
        headers: headers
            .iter()
            .filter(|(k, _)| k.starts_with("x-vc-") || k == "content-type")
            .cloned()
            .collect(),
        body: serde_json::to_vec(&serde_json::json!({ "acked": acked, "stored": n })).ok()?,
    };
    a.set_header("connection", "close".into());
    Some(a.bytes())
}

fn handle(s: &Shared, mut conn: TcpStream) -> Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let req = read_request(&mut conn)?;
    let tamper = s
        .tamper
        .lock()
        .map(|t| t.clone())
        .map_err(|_| anyhow::anyhow!("poisoned"))?;
    let count = |kind: &str| {
        if let Ok(mut h) = s.hits.lock() {
            *h.entry(kind.to_string()).or_default() += 1;
        }
    };
    if tamper == Tamper::AckEverything && req.path == "/api/v1/sync/upload" {
        let headers = s.last_headers.lock().map(|h| h.clone()).unwrap_or_default();
        if let Some(bytes) = forged_ack(&req.bytes, &headers) {
            count("ack_everything");
            let _ = conn.write_all(&bytes);
            let _ = conn.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
    let resp = forward(s.upstream, &req.bytes).context("forwarding")?;
    // The answer is rewritten by the attack in force when it comes back, not when the request
    // went out: a test that switches the attack and then changes the server's data must not
    // see an answer slip through honestly.
    let tamper = s
        .tamper
        .lock()
        .map(|t| t.clone())
        .map_err(|_| anyhow::anyhow!("poisoned"))?;
    let out = match parse(&resp) {
        Some(mut a) => {
            if a.header("x-vc-answer-signature").is_some() {
                if let Ok(mut h) = s.last_headers.lock() {
                    *h = a.headers.clone();
                }
            }
            match rewrite(&tamper, &req.path, &mut a) {
                Some(kind) => {
                    count(kind);
                    a.bytes()
                }
                None => resp,
            }
        }
        None => resp,
    };
    let _ = conn.write_all(&out);
    let _ = conn.shutdown(Shutdown::Both);
    Ok(())
}
