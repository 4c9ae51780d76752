//! The station's sync client: enrolment, and a background worker that uploads the outbox in
//! batches (alerts first) and pulls the trust list, revocations, the venue's registry entry,
//! policy and server time, retrying with exponential backoff and jitter.
//!
//! Invariants: an outbox record is marked sent only when the server acknowledged its id (a lost
//! answer means it is sent again, and the server's idempotent store keeps it once); a record the
//! server refuses for its content is set aside with the reason, never deleted; every attempt is
//! signed afresh (new nonce, clock-corrected time); a trust list or revocation delta is kept only
//! after its root signature checked out; the worker owns its own database connection and never
//! blocks the UI.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration as StdDuration;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use venuecode_core::keys::{hex, SecretKey};
use venuecode_core::sync::{
    self as wire, backoff_delay, ClockSample, EnrolRequest, EnrolResponse, ErrorBody, PullResponse,
    ServerTime, UploadAck,
};
use venuecode_core::trust::{RevocationDelta, TrustList};

use crate::error::AppError;
use crate::store::{PendingRecord, Store};

/// How the worker paces itself.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Records per upload.
    pub batch_size: usize,
    /// First retry delay; doubles per failed attempt (full jitter).
    pub backoff_base: StdDuration,
    /// Longest retry delay after the server answered with an error (it may be overloaded).
    pub backoff_cap: StdDuration,
    /// Longest wait while the server cannot be reached at all: an offline station probes this
    /// often (with jitter), so it syncs within this long of the network coming back.
    pub offline_probe: StdDuration,
    /// Pause between rounds when all is sent.
    pub idle: StdDuration,
    /// How often to pull (trust list, revocations, registry, policy).
    pub pull_every: Duration,
    /// Per-request time limit.
    pub request_timeout: StdDuration,
}

impl Default for SyncConfig {
    fn default() -> SyncConfig {
        SyncConfig {
            batch_size: 500,
            backoff_base: StdDuration::from_millis(500),
            backoff_cap: StdDuration::from_secs(60),
            offline_probe: StdDuration::from_secs(2),
            idle: StdDuration::from_secs(30),
            pull_every: Duration::minutes(5),
            request_timeout: StdDuration::from_secs(20),
        }
    }
}

/// What went wrong talking to the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    #[error("no server is configured")]
    NoServer,
    #[error("the station is not enrolled")]
    NotEnrolled,
    #[error("server unreachable: {0}")]
    Network(String),
    #[error("server answered {status} {}: {}", body.error, body.message)]
    Server { status: u16, body: ErrorBody },
    #[error("server answer not understood: {0}")]
    Decode(String),
    #[error("{0}")]
    Trust(String),
    #[error(transparent)]
    Store(#[from] AppError),
}

impl SyncError {
    /// Errors that retrying will not fix until someone acts (re-enrol, new root key).
    pub fn needs_person(&self) -> bool {
        match self {
            SyncError::NoServer | SyncError::NotEnrolled | SyncError::Trust(_) => true,
            SyncError::Server { body, .. } => {
                matches!(body.error.as_str(), "unknown_device" | "device_revoked")
            }
            _ => false,
        }
    }

    /// The stable code the UI shows.
    pub fn code(&self) -> String {
        match self {
            SyncError::NoServer => "no_server".into(),
            SyncError::NotEnrolled => "not_enrolled".into(),
            SyncError::Network(_) => "offline".into(),
            SyncError::Server { body, .. } => body.error.clone(),
            SyncError::Decode(_) => "bad_answer".into(),
            SyncError::Trust(_) => "trust_invalid".into(),
            SyncError::Store(_) => "storage".into(),
        }
    }
}

impl From<SyncError> for venuecode_ipc::IpcError {
    fn from(e: SyncError) -> venuecode_ipc::IpcError {
        use venuecode_ipc::ErrorCode;
        if let SyncError::Store(inner) = e {
            return inner.into();
        }
        let code = match &e {
            SyncError::NoServer | SyncError::Network(_) => ErrorCode::Offline,
            SyncError::Server { body, .. } if body.error == "unknown_declaration_code" => {
                ErrorCode::UnknownDeclaration
            }
            SyncError::Server { status: 400, .. } => ErrorCode::Invalid,
            _ => ErrorCode::ServerRefused,
        };
        venuecode_ipc::IpcError {
            code,
            detail: e.to_string(),
        }
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The OS generator failing is not something a station can recover from; fall back to a
    // UUIDv4 (itself from the OS generator) rather than zeros if it ever reports an error.
    if getrandom::getrandom(&mut b).is_err() {
        for (i, chunk) in b.chunks_mut(16).enumerate() {
            let u = uuid::Uuid::new_v4().into_bytes();
            chunk.copy_from_slice(&u[..chunk.len()]);
            chunk[0] ^= i as u8;
        }
    }
    b
}

fn unit_random() -> f64 {
    let b: [u8; 8] = random_bytes();
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// The HTTP side: signs and sends requests for one device.
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
    key: SecretKey,
    offset: Mutex<Duration>,
}

/// What an upload came to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UploadOutcome {
    pub acked: Vec<String>,
    /// Records the server refused for their content (set aside).
    pub rejected: Vec<(String, String)>,
}

impl Client {
    /// A client for `base` (no trailing slash) signing with `key`.
    pub fn new(base: &str, key: SecretKey, timeout: StdDuration) -> Result<Client, SyncError> {
        let http = reqwest::blocking::Client::builder()
            .connect_timeout(StdDuration::from_secs(3))
            .timeout(timeout)
            .build()
            .map_err(|e| SyncError::Network(e.to_string()))?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_string(),
            key,
            offset: Mutex::new(Duration::zero()),
        })
    }

    /// The clock offset measured last (server minus station).
    pub fn offset(&self) -> Duration {
        self.offset
            .lock()
            .map(|o| *o)
            .unwrap_or_else(|_| Duration::zero())
    }

    /// Measures the clock offset against `/time` and keeps it for signing.
    pub fn measure_clock(&self) -> Result<ClockSample, SyncError> {
        let sent = Utc::now();
        let res = self
            .http
            .get(format!("{}/api/v1/time", self.base))
            .send()
            .map_err(|e| SyncError::Network(e.to_string()))?;
        let body = Self::read(res)?;
        let received = Utc::now();
        let t: ServerTime =
            serde_json::from_slice(&body).map_err(|e| SyncError::Decode(e.to_string()))?;
        let sample = ClockSample {
            sent,
            received,
            server: DateTime::from_timestamp_millis(t.unix_ms)
                .ok_or_else(|| SyncError::Decode("server time out of range".into()))?,
        };
        if let (Some(o), Ok(mut held)) = (sample.offset(), self.offset.lock()) {
            *held = o;
        }
        Ok(sample)
    }

    fn read(res: reqwest::blocking::Response) -> Result<Vec<u8>, SyncError> {
        let status = res.status();
        let bytes = res
            .bytes()
            .map_err(|e| SyncError::Network(format!("reading the answer: {e}")))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let body = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or_else(|_| ErrorBody {
            error: format!("http_{}", status.as_u16()),
            message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            rejected: vec![],
        });
        Err(SyncError::Server {
            status: status.as_u16(),
            body,
        })
    }

    /// Sends a signed request (fresh nonce, corrected time) and returns the body of a 2xx answer.
    fn send(
        &self,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, SyncError> {
        let nonce = hex(&random_bytes::<16>());
        let now = Utc::now() + self.offset();
        let h = wire::sign_request(
            &self.key,
            method,
            path_and_query,
            now.timestamp_millis(),
            &nonce,
            &body,
        );
        let url = format!("{}{path_and_query}", self.base);
        let req = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url).body(body),
        };
        let res = req
            .header("content-type", "application/json")
            .header(wire::HEADER_DEVICE, h.device)
            .header(wire::HEADER_TIME, h.unix_ms.to_string())
            .header(wire::HEADER_NONCE, h.nonce)
            .header(wire::HEADER_SIGNATURE, h.signature)
            .send()
            .map_err(|e| SyncError::Network(e.to_string()))?;
        Self::read(res)
    }

    /// Enrols this device with a venue's declaration code.
    pub fn enrol(
        &self,
        declaration_code: &str,
        inspector: &str,
        checkpoint_id: Option<&str>,
    ) -> Result<EnrolResponse, SyncError> {
        let body = serde_json::to_vec(&EnrolRequest {
            declaration_code: declaration_code.to_string(),
            inspector: inspector.to_string(),
            checkpoint_id: checkpoint_id.map(str::to_string),
            public_key: self.key.public().to_hex(),
        })
        .map_err(|e| SyncError::Decode(e.to_string()))?;
        let bytes = self.send("POST", "/api/v1/devices/enrol", body)?;
        serde_json::from_slice(&bytes).map_err(|e| SyncError::Decode(e.to_string()))
    }

    /// Pulls what the station needs, given what it holds.
    pub fn pull(&self, trust_version: u64, cursor: u64) -> Result<PullResponse, SyncError> {
        let path =
            format!("/api/v1/sync/pull?trust_version={trust_version}&revocations_since={cursor}");
        let bytes = self.send("GET", &path, Vec::new())?;
        serde_json::from_slice(&bytes).map_err(|e| SyncError::Decode(e.to_string()))
    }

    /// Uploads one batch of outbox records (their stored wire JSON, sent as is).
    pub fn upload(&self, records: &[PendingRecord]) -> Result<UploadOutcome, SyncError> {
        let mut body =
            Vec::with_capacity(records.iter().map(|r| r.payload.len() + 1).sum::<usize>() + 16);
        body.extend_from_slice(b"{\"records\":[");
        for (i, r) in records.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(r.payload.as_bytes());
        }
        body.extend_from_slice(b"]}");
        match self.send("POST", "/api/v1/sync/upload", body) {
            Ok(bytes) => {
                let ack: UploadAck =
                    serde_json::from_slice(&bytes).map_err(|e| SyncError::Decode(e.to_string()))?;
                Ok(UploadOutcome {
                    acked: ack.acked,
                    rejected: vec![],
                })
            }
            Err(SyncError::Server { status: 422, body }) if !body.rejected.is_empty() => {
                Ok(UploadOutcome {
                    acked: vec![],
                    rejected: body
                        .rejected
                        .iter()
                        .map(|id| (id.clone(), format!("{}: {}", body.error, body.message)))
                        .collect(),
                })
            }
            Err(e) => Err(e),
        }
    }
}

/// A new device key pair: `(secret hex, device id)`.
pub fn new_device_key() -> (String, String) {
    let key = SecretKey::from_seed(&random_bytes());
    let id = wire::device_id(&key.public());
    (key.to_hex(), id)
}

/// Enrols the station: makes (or reuses) its key pair, asks the server, binds the station.
pub fn enrol(
    store: &mut Store,
    server_url: &str,
    declaration_code: &str,
    inspector: &str,
    checkpoint_id: Option<&str>,
    direction: venuecode_core::gate::Direction,
) -> Result<EnrolResponse, SyncError> {
    let (secret, id) = new_device_key();
    let device = store.create_device(&secret, &id, server_url)?;
    let key = SecretKey::from_hex(&device.secret_key)
        .map_err(|_| SyncError::Decode("stored device key is damaged".into()))?;
    let client = Client::new(server_url, key, StdDuration::from_secs(20))?;
    client.measure_clock()?;
    let res = client.enrol(declaration_code, inspector, checkpoint_id)?;
    let binding = venuecode_core::checkin::Binding {
        venue_id: res.venue.venue_id.clone(),
        venue_name: res.venue.name.clone(),
        checkpoint_id: res.checkpoint_id.clone(),
        inspector: res.inspector.clone(),
        direction,
    };
    store.set_enrolment(&binding, Utc::now())?;
    store.put_sync_values(&[(
        "venue",
        serde_json::to_string(&res.venue).map_err(|e| SyncError::Decode(e.to_string()))?,
    )])?;
    Ok(res)
}

/// What the station UI shows about sync.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncStatus {
    pub server_url: Option<String>,
    pub enrolled: bool,
    pub device_id: Option<String>,
    /// The last round reached the server.
    pub online: bool,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Server clock minus station clock.
    pub clock_offset: Duration,
    pub trust_fetched_at: Option<DateTime<Utc>>,
    pub trust_version: u64,
    pub waiting: i64,
    pub rejected: i64,
    pub sent_total: u64,
}

impl SyncStatus {
    /// The status as the UI shows it at `now`.
    pub fn to_wire(&self, now: DateTime<Utc>) -> venuecode_ipc::SyncStatus {
        venuecode_ipc::SyncStatus {
            server_url: self.server_url.clone(),
            enrolled: self.enrolled,
            device_id: self.device_id.clone(),
            online: self.online,
            waiting: self.waiting,
            rejected: self.rejected,
            last_sync_secs: self.last_success.map(|t| (now - t).num_seconds().max(0)),
            trust_age_secs: self
                .trust_fetched_at
                .map(|t| (now - t).num_seconds().max(0)),
            trust_stale: wire::trust_is_stale(self.trust_fetched_at, now),
            clock_offset_secs: self.clock_offset.num_seconds(),
            clock_warn: wire::clock_offset_warns(self.clock_offset),
            last_error: self.last_error.clone(),
        }
    }
}

struct Shared {
    status: Mutex<SyncStatus>,
    wake: Mutex<bool>,
    cv: Condvar,
    stop: AtomicBool,
    /// The next round pulls even if the last pull is recent (the inspector pressed "sync now").
    force_pull: AtomicBool,
}

/// The background sync worker's handle.
#[derive(Clone)]
pub struct SyncHandle {
    shared: Arc<Shared>,
}

impl SyncHandle {
    /// Starts the worker over the store in `data_dir`.
    pub fn start(data_dir: &Path, server_url: Option<String>, config: SyncConfig) -> SyncHandle {
        let shared = Arc::new(Shared {
            status: Mutex::new(SyncStatus {
                server_url: server_url.clone(),
                ..SyncStatus::default()
            }),
            wake: Mutex::new(false),
            cv: Condvar::new(),
            stop: AtomicBool::new(false),
            force_pull: AtomicBool::new(false),
        });
        let handle = SyncHandle {
            shared: shared.clone(),
        };
        let data_dir = data_dir.to_path_buf();
        std::thread::Builder::new()
            .name("venuecode-sync".into())
            .spawn(move || worker(shared, data_dir, server_url, config))
            .map(|_| ())
            .unwrap_or_else(|e| eprintln!("venuecode: sync worker did not start: {e}"));
        handle
    }

    /// Asks the worker to run a round now (new records, network back, button pressed).
    pub fn wake(&self) {
        if let Ok(mut w) = self.shared.wake.lock() {
            *w = true;
            self.shared.cv.notify_all();
        }
    }

    /// Runs a full round now, pulling too (the "sync now" button).
    pub fn sync_now(&self) {
        self.shared.force_pull.store(true, Ordering::SeqCst);
        self.wake();
    }

    /// The current status.
    pub fn status(&self) -> SyncStatus {
        self.shared
            .status
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// The station's clock corrected by the measured offset: the trusted time for verification.
    pub fn trusted_now(&self) -> DateTime<Utc> {
        Utc::now() + self.status().clock_offset
    }

    /// Stops the worker after its current step.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.wake();
    }
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut SyncStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }

    /// Sleeps up to `d`, or until woken or stopped.
    fn sleep(&self, d: StdDuration) {
        let Ok(mut woken) = self.wake.lock() else {
            return;
        };
        let deadline = std::time::Instant::now() + d;
        while !*woken && !self.stop.load(Ordering::SeqCst) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            match self.cv.wait_timeout(woken, left) {
                Ok((w, _)) => woken = w,
                Err(_) => return,
            }
        }
        *woken = false;
    }
}

fn worker(shared: Arc<Shared>, data_dir: PathBuf, server_url: Option<String>, config: SyncConfig) {
    let mut store = match Store::open(&data_dir) {
        Ok(s) => s,
        Err(e) => {
            shared.update(|s| s.last_error = Some(format!("storage: {e}")));
            return;
        }
    };
    let mut attempt: u32 = 0;
    let mut client: Option<(String, Client)> = None;
    let mut last_pull: Option<DateTime<Utc>> = None;
    let mut last_purge: Option<DateTime<Utc>> = None;
    // Restore what the last run learned, so the status is right before the first round.
    if let Ok(v) = store.sync_value("trust_fetched_at") {
        let at = v.and_then(|v| DateTime::parse_from_rfc3339(&v).ok());
        shared.update(|s| s.trust_fetched_at = at.map(|t| t.with_timezone(&Utc)));
    }
    while !shared.stop.load(Ordering::SeqCst) {
        let result = round(
            &shared,
            &mut store,
            &data_dir,
            server_url.as_deref(),
            &config,
            &mut client,
            &mut last_pull,
        );
        if let Ok((waiting, rejected)) = store.outbox_counts() {
            shared.update(|s| {
                s.waiting = waiting;
                s.rejected = rejected;
            });
        }
        let pause = match result {
            Ok(()) => {
                attempt = 0;
                // Retention: acknowledged records older than the policy window leave the
                // station, checked at most hourly.
                let now = Utc::now();
                if last_purge.is_none_or(|t| now - t > Duration::hours(1)) {
                    last_purge = Some(now);
                    if let Err(e) = store.purge_synced(now - venuecode_core::checkin::RETENTION) {
                        shared.update(|s| s.last_error = Some(format!("storage: {e}")));
                    }
                }
                shared.update(|s| {
                    s.online = true;
                    s.last_success = Some(Utc::now());
                    s.last_error = None;
                });
                config.idle
            }
            Err(e) => {
                let person = e.needs_person();
                shared.update(|s| {
                    // Not enrolled or no server: nothing was asked of the network, so say offline.
                    s.online = !matches!(
                        e,
                        SyncError::Network(_) | SyncError::NoServer | SyncError::NotEnrolled
                    );
                    s.last_error = Some(e.code());
                });
                if person {
                    config.idle
                } else {
                    attempt = attempt.saturating_add(1);
                    backoff_delay(
                        config.backoff_base,
                        if matches!(e, SyncError::Network(_)) {
                            config.offline_probe.min(config.backoff_cap)
                        } else {
                            config.backoff_cap
                        },
                        attempt - 1,
                        unit_random(),
                    )
                }
            }
        };
        shared.sleep(pause);
    }
}

fn round(
    shared: &Shared,
    store: &mut Store,
    data_dir: &Path,
    configured_url: Option<&str>,
    config: &SyncConfig,
    client: &mut Option<(String, Client)>,
    last_pull: &mut Option<DateTime<Utc>>,
) -> Result<(), SyncError> {
    let device = store.device()?;
    let enrolled = device.as_ref().is_some_and(|d| d.venue_id.is_some());
    shared.update(|s| {
        s.enrolled = enrolled;
        s.device_id = device.as_ref().map(|d| d.device_id.clone());
    });
    let Some(device) = device.filter(|_| enrolled) else {
        return Err(if configured_url.is_some() {
            SyncError::NotEnrolled
        } else {
            SyncError::NoServer
        });
    };
    let url = configured_url.unwrap_or(&device.server_url).to_string();
    shared.update(|s| s.server_url = Some(url.clone()));
    if client.as_ref().is_none_or(|(u, _)| *u != url) {
        let key = SecretKey::from_hex(&device.secret_key)
            .map_err(|_| SyncError::Decode("stored device key is damaged".into()))?;
        *client = Some((url.clone(), Client::new(&url, key, config.request_timeout)?));
    }
    let Some((_, c)) = client.as_ref() else {
        return Err(SyncError::NoServer);
    };
    c.measure_clock()?;
    shared.update(|s| {
        s.online = true;
        s.clock_offset = c.offset();
    });
    // Records first: they are what must not wait; then what the station downloads.
    loop {
        let batch = store.pending(config.batch_size)?;
        if batch.is_empty() {
            break;
        }
        let out = c.upload(&batch)?;
        for (id, reason) in &out.rejected {
            store.mark_rejected(id, reason)?;
        }
        let n = store.mark_sent(&out.acked, Utc::now())?;
        shared.update(|s| s.sent_total += n as u64);
        if out.acked.is_empty() && out.rejected.is_empty() {
            return Err(SyncError::Decode("the server acknowledged nothing".into()));
        }
    }
    let now = Utc::now() + c.offset();
    let forced = shared.force_pull.swap(false, Ordering::SeqCst);
    if forced || last_pull.is_none_or(|t| now - t >= config.pull_every) {
        pull(shared, store, data_dir, c)?;
        *last_pull = Some(now);
    }
    Ok(())
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Pulls and keeps what the server has for this station.
fn pull(shared: &Shared, store: &mut Store, data_dir: &Path, c: &Client) -> Result<(), SyncError> {
    let root = crate::checking::root_key(data_dir)
        .map_err(|code| SyncError::Trust(format!("{code}: the station has no valid root.pub")))?;
    let held = crate::checking::load_trust(data_dir).ok();
    let revocations = store.revocations()?;
    let res = c.pull(held.as_ref().map_or(0, |t| t.version), revocations.cursor())?;
    let b64 = base64::engine::general_purpose::STANDARD;
    if let Some(list) = &res.trust_list {
        let bytes = b64
            .decode(list)
            .map_err(|e| SyncError::Decode(format!("trust list: {e}")))?;
        let list = match &held {
            Some(h) => h.update(&bytes, &root),
            None => TrustList::verify(&bytes, &root),
        }
        .map_err(|e| SyncError::Trust(format!("trust list from the server: {e}")))?;
        crate::checking::save_trust(data_dir, &bytes)?;
        shared.update(|s| s.trust_version = list.version);
    } else if let Some(h) = &held {
        shared.update(|s| s.trust_version = h.version);
    }
    if let Some(delta) = &res.revocations {
        let bytes = b64
            .decode(delta)
            .map_err(|e| SyncError::Decode(format!("revocations: {e}")))?;
        let delta = RevocationDelta::verify(&bytes, &root)
            .map_err(|e| SyncError::Trust(format!("revocations from the server: {e}")))?;
        let mut list = revocations;
        list.apply(&delta)
            .map_err(|e| SyncError::Decode(format!("revocations: {e}")))?;
        store.put_revocations(&list)?;
    }
    let fetched = Utc::now();
    store.put_sync_values(&[
        ("venue", json(&res.venue)),
        ("policy", json(&res.policy)),
        ("trust_fetched_at", fetched.to_rfc3339()),
        (
            "server_time_offset_ms",
            (res.server_time - Utc::now())
                .num_milliseconds()
                .to_string(),
        ),
    ])?;
    if let Some(mut b) = store.binding()? {
        if b.venue_id == res.venue.venue_id && b.venue_name != res.venue.name {
            b.venue_name = res.venue.name.clone();
            store.set_binding(&b)?;
        }
    }
    shared.update(|s| s.trust_fetched_at = Some(fetched));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_warns_about_a_far_clock_and_a_stale_trust_list() {
        let now = Utc::now();
        let fresh = SyncStatus {
            online: true,
            enrolled: true,
            clock_offset: Duration::seconds(42),
            trust_fetched_at: Some(now - Duration::hours(47)),
            last_success: Some(now - Duration::seconds(90)),
            ..SyncStatus::default()
        };
        let w = fresh.to_wire(now);
        assert!(!w.clock_warn && !w.trust_stale);
        assert_eq!(w.clock_offset_secs, 42);
        assert_eq!(w.last_sync_secs, Some(90));
        assert_eq!(w.trust_age_secs, Some(47 * 3600));
        let off = SyncStatus {
            clock_offset: Duration::minutes(-7),
            trust_fetched_at: Some(now - Duration::hours(49)),
            ..fresh
        };
        let w = off.to_wire(now);
        assert!(w.clock_warn && w.trust_stale);
        assert_eq!(w.clock_offset_secs, -420);
        assert!(
            SyncStatus::default().to_wire(now).trust_stale,
            "no list at all is stale"
        );
    }

    #[test]
    fn server_refusals_map_to_codes_the_ui_knows() {
        let refused = |error: &str, status| SyncError::Server {
            status,
            body: ErrorBody {
                error: error.into(),
                message: "m".into(),
                rejected: vec![],
            },
        };
        let ipc = |e: SyncError| venuecode_ipc::IpcError::from(e).code;
        use venuecode_ipc::ErrorCode;
        assert_eq!(ipc(SyncError::Network("x".into())), ErrorCode::Offline);
        assert_eq!(
            ipc(refused("unknown_declaration_code", 404)),
            ErrorCode::UnknownDeclaration
        );
        assert_eq!(ipc(refused("bad_inspector", 400)), ErrorCode::Invalid);
        assert_eq!(
            ipc(refused("device_revoked", 403)),
            ErrorCode::ServerRefused
        );
        assert!(refused("device_revoked", 403).needs_person());
        assert!(!refused("unavailable", 503).needs_person());
    }
}
