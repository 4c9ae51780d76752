//! The HTTP side of sync: one device's signed requests (fresh nonce from the OS generator,
//! trusted time), `/time` for the clock offset, upload, pull, the relay (enrolment is in
//! `enrolment.rs`).
//!
//! Invariants: every answer — success or error, `/time` included — is verified against the
//! root key (delegation, signed time, signature over this request's nonce, path, status and
//! body) before anything in it is read; a signed time older than one seen before is refused; no
//! redirect is followed; an acknowledgement counts only for ids in the batch that was sent.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use venuecode_core::keys::{hex, PublicKey, SecretKey};
use venuecode_core::sync::{
    self as wire, ClockSample, EnrolRequest, EnrolResponse, ErrorBody, PhoneCheckIns, PullResponse,
    RotateKeyRequest, RotateKeyResponse, UploadAck,
};

use super::time::TimeKeeper;
use super::SyncError;
use crate::store::{PendingRecord, Store};

/// `N` bytes from the operating system's generator (keys and nonces come from nowhere else).
pub(super) fn random_bytes<const N: usize>() -> Result<[u8; N], SyncError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b)
        .map_err(|e| SyncError::Random(format!("the system random generator failed: {e}")))?;
    Ok(b)
}

/// A number in `[0, 1)` for backoff jitter; the middle of the range if the generator fails
/// (jitter only spreads retries out, it protects nothing).
pub(super) fn unit_random() -> f64 {
    random_bytes::<8>()
        .map(|b| (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64)
        .unwrap_or(0.5)
}

/// How the station reaches its server: https to a server certified by the deployment's CA
/// (the only CA trusted), or plain HTTP under the development flag.
#[derive(Debug, Clone, Default)]
pub struct Transport {
    /// The deployment's CA certificate (PEM), pinned at provisioning.
    pub ca_pem: Option<Vec<u8>>,
    /// Plain HTTP allowed (development flag).
    pub allow_http: bool,
}

impl Transport {
    /// The station's transport: the CA pinned in the store (from `trust/ca.pem` at first use).
    pub fn for_station(
        store: &mut Store,
        data_dir: &Path,
        allow_http: bool,
    ) -> Result<Transport, SyncError> {
        Ok(Transport {
            ca_pem: crate::checking::pinned_ca(store, data_dir)?,
            allow_http,
        })
    }

    /// An HTTP client for `base`: https to a server certified by the deployment's CA only (no
    /// public CA, no redirects), or plain HTTP under the development flag. Station sync and
    /// people's requests both go through it.
    pub fn http_client(
        &self,
        base: &str,
        timeout: StdDuration,
    ) -> Result<reqwest::blocking::Client, SyncError> {
        let https = base.starts_with("https://");
        if !https && !self.allow_http {
            return Err(SyncError::Trust(format!(
                "{base}: the station talks to its server over https only (VENUECODE_ALLOW_HTTP=1 is for development)"
            )));
        }
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(StdDuration::from_secs(3))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!self.allow_http)
            // Only the deployment's CA: a certificate from any public CA proves nothing here.
            .tls_built_in_root_certs(false);
        match &self.ca_pem {
            Some(pem) => {
                let ca = reqwest::Certificate::from_pem(pem).map_err(|e| {
                    SyncError::Trust(format!("the pinned deployment CA is damaged: {e}"))
                })?;
                builder = builder.add_root_certificate(ca);
            }
            None if https => {
                return Err(SyncError::Trust(
                    "no deployment CA: provision trust/ca.pem before enrolling".into(),
                ))
            }
            None => {}
        }
        builder
            .build()
            .map_err(|e| SyncError::Network(e.to_string()))
    }
}

/// The HTTP side: signs and sends requests for one device and verifies the answers.
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
    key: SecretKey,
    /// The root answers are checked under; moved only along a verified succession chain.
    root: Mutex<PublicKey>,
    /// A root reached through the chain and not yet kept in the store ([`Client::take_new_root`]).
    new_root: Mutex<Option<PublicKey>>,
    time: Arc<TimeKeeper>,
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
    /// A client for `base` signing with a stored device key (hex), trusting the station's pinned
    /// root and TLS CA in `data_dir` — what the sync worker, each parked venue and the relay use.
    pub fn for_device(
        store: &mut Store,
        data_dir: &Path,
        base: &str,
        secret_hex: &str,
        time: Arc<TimeKeeper>,
        timeout: StdDuration,
        allow_http: bool,
    ) -> Result<Client, SyncError> {
        let key = SecretKey::from_hex(secret_hex)
            .map_err(|_| SyncError::Decode("stored device key is damaged".into()))?;
        let root = super::enrolment::station_root(store, data_dir)?;
        let transport = Transport::for_station(store, data_dir, allow_http)?;
        Client::new(base, key, root, time, timeout, &transport)
    }

    /// A client for `base` (no trailing slash) signing with `key`, trusting answers signed under
    /// `root`, keeping trusted time in `time`.
    pub fn new(
        base: &str,
        key: SecretKey,
        root: PublicKey,
        time: Arc<TimeKeeper>,
        timeout: StdDuration,
        transport: &Transport,
    ) -> Result<Client, SyncError> {
        let http = transport.http_client(base, timeout)?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_string(),
            key,
            root: Mutex::new(root),
            new_root: Mutex::new(None),
            time,
            offset: Mutex::new(Duration::zero()),
        })
    }

    /// A root this client moved to along the server's succession chain since last asked: the
    /// caller keeps it in the store ([`Store::move_root`]).
    pub fn take_new_root(&self) -> Option<PublicKey> {
        self.new_root.lock().ok().and_then(|mut n| n.take())
    }

    /// The clock offset measured last (server minus station).
    pub fn offset(&self) -> Duration {
        self.offset
            .lock()
            .map(|o| *o)
            .unwrap_or_else(|_| Duration::zero())
    }

    /// Measures the OS clock's offset against the server's signed time (`/time`, answered over
    /// a fresh nonce), which also anchors trusted time.
    pub fn measure_clock(&self) -> Result<ClockSample, SyncError> {
        let nonce = hex(&random_bytes::<16>()?);
        let path = "/api/v1/time";
        let sent = self.time.os_now();
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header(wire::HEADER_NONCE, &nonce)
            .send()
            .map_err(|e| SyncError::Network(e.to_string()))?;
        let (server, _) = self.read(res, path, &nonce)?;
        let received = self.time.os_now();
        let sample = ClockSample {
            sent,
            received,
            server,
        };
        if let (Some(o), Ok(mut held)) = (sample.offset(), self.offset.lock()) {
            *held = o;
        }
        Ok(sample)
    }

    /// Verifies an answer to the request with `nonce` at `path`, takes its signed time, and
    /// returns that time and the body of a 2xx answer (a verified error answer becomes
    /// `SyncError::Server`).
    fn read(
        &self,
        res: reqwest::blocking::Response,
        path: &str,
        nonce: &str,
    ) -> Result<(chrono::DateTime<Utc>, Vec<u8>), SyncError> {
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res
            .bytes()
            .map_err(|e| SyncError::Network(format!("reading the answer: {e}")))?;
        let untrusted = |e: String| SyncError::Untrusted(format!("{path} ({status}): {e}"));
        let signed =
            wire::parse_answer_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()))
                .map_err(|e| untrusted(e.to_string()))?;
        // A rotated root: follow the hand-overs the root held signed, then check the answer
        // under the root reached. Nobody without a root key can move it.
        let held = *self
            .root
            .lock()
            .map_err(|_| SyncError::Decode("root lock poisoned".into()))?;
        let root = match headers
            .get(wire::HEADER_ROOT_CHAIN)
            .and_then(|v| v.to_str().ok())
        {
            Some(chain) => wire::decode_chain(chain)
                .and_then(|links| wire::follow(&held, &links))
                .map_err(|e| untrusted(e.to_string()))?,
            None => held,
        };
        let at = wire::verify_answer(&root, path, nonce, status.as_u16(), &signed, &bytes)
            .map_err(|e| untrusted(e.to_string()))?;
        if root != held {
            if let (Ok(mut r), Ok(mut n)) = (self.root.lock(), self.new_root.lock()) {
                *r = root;
                *n = Some(root);
            }
        }
        self.time.signed(at).map_err(|e| untrusted(e.to_string()))?;
        if status.is_success() {
            return Ok((at, bytes.to_vec()));
        }
        let body = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or_else(|_| ErrorBody {
            error: format!("http_{}", status.as_u16()),
            message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            rejected: vec![],
            problems: vec![],
        });
        Err(SyncError::Server {
            status: status.as_u16(),
            body,
        })
    }

    /// The server's signed time of the last answer is kept by the time keeper; this is the
    /// trusted time requests are signed with.
    fn now_ms(&self) -> i64 {
        self.time.now().timestamp_millis()
    }

    /// Sends a signed request (fresh nonce, corrected time) and returns the body of a 2xx answer.
    fn send(
        &self,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, SyncError> {
        let nonce = hex(&random_bytes::<16>()?);
        let h = wire::sign_request(
            &self.key,
            method,
            path_and_query,
            self.now_ms(),
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
            .header(wire::HEADER_NONCE, &h.nonce)
            .header(wire::HEADER_SIGNATURE, h.signature)
            .send()
            .map_err(|e| SyncError::Network(e.to_string()))?;
        self.read(res, path_and_query, &nonce).map(|(_, body)| body)
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

    /// Asks the server to hand the old key's binding to this client's key (the new one), with
    /// the old key's consent.
    pub fn rotate(
        &self,
        old_device_id: &str,
        old_signature: &str,
    ) -> Result<RotateKeyResponse, SyncError> {
        let body = serde_json::to_vec(&RotateKeyRequest {
            old_device_id: old_device_id.to_string(),
            public_key: self.key.public().to_hex(),
            old_signature: old_signature.to_string(),
        })
        .map_err(|e| SyncError::Decode(e.to_string()))?;
        let bytes = self.send("POST", "/api/v1/devices/rotate", body)?;
        serde_json::from_slice(&bytes).map_err(|e| SyncError::Decode(e.to_string()))
    }

    /// Pulls what the station needs, given what it holds.
    pub fn pull(&self, trust_version: u64, cursor: u64) -> Result<PullResponse, SyncError> {
        self.get(&format!(
            "/api/v1/sync/pull?trust_version={trust_version}&revocations_since={cursor}"
        ))
    }

    /// Residents' own check-ins at the station's venue from `since` (Unix ms).
    pub fn phone_check_ins(&self, since_ms: i64) -> Result<PhoneCheckIns, SyncError> {
        self.get(&format!("/api/v1/sync/phone-check-ins?since={since_ms}"))
    }

    /// The venue's passages from its other gates received after `after` (Unix ms), held up to
    /// `wait` seconds while `seen` is still the venue's token (the server's relay).
    pub fn passages(
        &self,
        after: i64,
        seen: Option<&str>,
        wait: u64,
    ) -> Result<venuecode_core::sync::RelayedPassages, SyncError> {
        let seen = seen.map(|s| format!("&seen={s}")).unwrap_or_default();
        self.get(&format!(
            "/api/v1/sync/passages?after={after}&wait={wait}{seen}"
        ))
    }

    /// A signed GET whose verified answer is JSON.
    fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, SyncError> {
        let bytes = self.send("GET", path, Vec::new())?;
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
            // Only ids that were in this batch count, whatever the answer lists.
            Ok(bytes) => {
                let ack: UploadAck =
                    serde_json::from_slice(&bytes).map_err(|e| SyncError::Decode(e.to_string()))?;
                let sent: HashSet<&str> = records.iter().map(|r| r.record_id.as_str()).collect();
                Ok(UploadOutcome {
                    acked: ack
                        .acked
                        .into_iter()
                        .filter(|id| sent.contains(id.as_str()))
                        .collect(),
                    rejected: vec![],
                })
            }
            Err(SyncError::Server { status: 422, body }) if !body.rejected.is_empty() => {
                let sent: HashSet<&str> = records.iter().map(|r| r.record_id.as_str()).collect();
                Ok(UploadOutcome {
                    acked: vec![],
                    rejected: body
                        .rejected
                        .iter()
                        .filter(|id| sent.contains(id.as_str()))
                        .map(|id| (id.clone(), format!("{}: {}", body.error, body.message)))
                        .collect(),
                })
            }
            Err(e) => Err(e),
        }
    }
}
