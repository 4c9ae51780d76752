//! The HTTP side of sync: one device's signed requests (fresh nonce from the OS generator,
//! trusted time), `/time` for the clock offset, upload, pull, and the enrolment use case.
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
use venuecode_core::gate::Direction;
use venuecode_core::keys::{hex, PublicKey, SecretKey};
use venuecode_core::sync::{
    self as wire, ClockSample, EnrolRequest, EnrolResponse, ErrorBody, PhoneCheckIns, PullResponse,
    RotateKeyRequest, RotateKeyResponse, UploadAck,
};

use super::time::TimeKeeper;
use super::SyncError;
use crate::store::{PendingRecord, Store};

/// `N` bytes from the operating system's generator (keys and nonces come from nowhere else).
fn random_bytes<const N: usize>() -> Result<[u8; N], SyncError> {
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
        let path =
            format!("/api/v1/sync/pull?trust_version={trust_version}&revocations_since={cursor}");
        let bytes = self.send("GET", &path, Vec::new())?;
        serde_json::from_slice(&bytes).map_err(|e| SyncError::Decode(e.to_string()))
    }

    /// Residents' own check-ins at the station's venue from `since` (Unix ms).
    pub fn phone_check_ins(&self, since_ms: i64) -> Result<PhoneCheckIns, SyncError> {
        let path = format!("/api/v1/sync/phone-check-ins?since={since_ms}");
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

/// A new device key pair: `(secret hex, device id)`.
pub fn new_device_key() -> Result<(String, String), SyncError> {
    let key = SecretKey::from_seed(&random_bytes()?);
    let id = wire::device_id(&key.public());
    Ok((key.to_hex(), id))
}

/// What an enrolment asks for.
#[derive(Debug, Clone)]
pub struct Enrolment<'a> {
    pub server_url: &'a str,
    pub declaration_code: &'a str,
    pub inspector: &'a str,
    pub checkpoint_id: Option<&'a str>,
    pub direction: Direction,
    /// Plain HTTP allowed (development flag).
    pub allow_http: bool,
}

/// The root key the station trusts (built in or pinned), as a sync error when missing.
pub fn station_root(store: &mut Store, data_dir: &Path) -> Result<PublicKey, SyncError> {
    crate::checking::root_key(store, data_dir).map_err(|r| {
        SyncError::Trust(format!(
            "{r:?}: the station has no root key (provision trust/root.pub before enrolling)"
        ))
    })
}

/// Whether an enrolment refusal is about the key (bound to another venue, or revoked), so
/// another key may still enrol with the same declaration code.
fn refuses_key(e: &SyncError) -> bool {
    matches!(e, SyncError::Server { body, .. }
        if matches!(body.error.as_str(), "enrolled_elsewhere" | "device_revoked"))
}

/// Enrols the station with a declaration code. One inspector may serve several venues and the
/// server binds a key to one venue, so the keys are tried in turn: the active venue's key (or a
/// first key: a re-enrolment at the same venue moves the station to the chosen door), then each
/// parked venue's key (the station switches to that venue), then a new key for a venue the
/// station has not held, which becomes active while the venue that was active is parked (its
/// records still sync under its own key).
pub fn enrol(
    store: &mut Store,
    data_dir: &Path,
    time: &Arc<TimeKeeper>,
    e: &Enrolment<'_>,
) -> Result<EnrolResponse, SyncError> {
    let root = station_root(store, data_dir)?;
    let transport = Transport::for_station(store, data_dir, e.allow_http)?;
    let client_for = |key: SecretKey| {
        Client::new(
            e.server_url,
            key,
            root,
            time.clone(),
            StdDuration::from_secs(20),
            &transport,
        )
    };
    // A root the verified chain moved to while asking; kept in the store after each answer.
    let new_root: std::cell::Cell<Option<PublicKey>> = std::cell::Cell::new(None);
    let ask = |client: &Client| -> Result<EnrolResponse, SyncError> {
        let res = client.enrol(e.declaration_code, e.inspector, e.checkpoint_id);
        if let Some(root) = client.take_new_root() {
            new_root.set(Some(root));
        }
        res
    };
    let parse = |hex: &str| {
        SecretKey::from_hex(hex)
            .map_err(|_| SyncError::Decode("stored device key is damaged".into()))
    };
    let binding_of = |res: &EnrolResponse| venuecode_core::checkin::Binding {
        venue_id: res.venue.venue_id.clone(),
        venue_name: res.venue.name.clone(),
        checkpoint_id: res.checkpoint_id.clone(),
        inspector: res.inspector.clone(),
        direction: e.direction,
    };
    let venue_json = |res: &EnrolResponse| {
        serde_json::to_string(&res.venue).map_err(|e| SyncError::Decode(e.to_string()))
    };

    // 1. The active key (made now if the station has none yet).
    let active = store.device()?;
    let active_enrolled = active.as_ref().is_some_and(|d| d.venue_id.is_some());
    let device = match active {
        Some(d) => d,
        None => {
            let (secret, id) = new_device_key()?;
            store.create_device(&secret, &id, e.server_url)?
        }
    };
    let first = client_for(parse(&device.secret_key)?)?;
    first.measure_clock()?;
    let outcome = ask(&first);
    let keep_root = |store: &mut Store| -> Result<(), SyncError> {
        if let Some(root) = new_root.take() {
            store.move_root(&root.to_hex())?;
        }
        Ok(())
    };
    let active_refusal = match outcome {
        Ok(res) => {
            keep_root(store)?;
            let binding = binding_of(&res);
            store.set_enrolment(&binding, time.now())?;
            // What the station recorded while bound by hand for the demo never syncs.
            store.drop_unsent_of_other_venues(&binding.venue_id)?;
            store.put_sync_values(&[("venue", venue_json(&res)?)])?;
            return Ok(res);
        }
        Err(err) if active_enrolled && refuses_key(&err) => err.code(),
        Err(err) => {
            keep_root(store)?;
            return Err(err);
        }
    };
    keep_root(store)?;
    let revoked = (active_refusal == "device_revoked").then_some("device_revoked");

    // 2. A parked venue's key: the code is that venue's; switch to it.
    for p in store.parked_venues()? {
        match ask(&client_for(parse(&p.secret_key)?)?) {
            Ok(res) => {
                keep_root(store)?;
                store.switch_venue(&p.binding.venue_id)?;
                if let Some(problem) = revoked {
                    store.set_parked_problem(&device_venue(&device), Some(problem))?;
                }
                store.set_enrolment(&binding_of(&res), time.now())?;
                store.put_sync_values(&[("venue", venue_json(&res)?)])?;
                return Ok(res);
            }
            Err(err) if refuses_key(&err) => keep_root(store)?,
            Err(err) => {
                keep_root(store)?;
                return Err(err);
            }
        }
    }

    // 3. A venue this station has not held: a new key of its own.
    let (secret, id) = new_device_key()?;
    let res = ask(&client_for(parse(&secret)?)?);
    keep_root(store)?;
    let res = res?;
    let binding = binding_of(&res);
    store.adopt_enrolment(
        &crate::store::NewEnrolment {
            secret_key: &secret,
            device_id: &id,
            server_url: e.server_url,
            binding: &binding,
            venue_json: &venue_json(&res)?,
        },
        time.now(),
        revoked,
    )?;
    Ok(res)
}

/// The venue a device row is enrolled at (empty when none).
fn device_venue(d: &crate::store::DeviceRow) -> String {
    d.venue_id.clone().unwrap_or_default()
}

/// Replaces the station's device key: a new key is made and kept as pending first (a crash or a
/// lost answer is finished on the next try with the same key), the server is asked under the new
/// key with the old key's consent, then the new key replaces the old one in the store. Returns
/// the new device id.
pub fn rotate_device_key(
    store: &mut Store,
    base: &str,
    root: PublicKey,
    time: &Arc<TimeKeeper>,
    transport: &Transport,
) -> Result<String, SyncError> {
    let device = store.device()?.ok_or(SyncError::NotEnrolled)?;
    let old = SecretKey::from_hex(&device.secret_key)
        .map_err(|_| SyncError::Decode("stored device key is damaged".into()))?;
    let pending_hex = match store.pending_device_key()? {
        Some(hex) => hex,
        None => {
            let (secret, _) = new_device_key()?;
            store.set_pending_device_key(&secret)?;
            secret
        }
    };
    let pending = || {
        SecretKey::from_hex(&pending_hex)
            .map_err(|_| SyncError::Decode("pending device key is damaged".into()))
    };
    let new_public = pending()?.public();
    let consent = hex(&old.sign(&wire::key_rotation_bytes(&device.device_id, &new_public)));
    let client = Client::new(
        base,
        pending()?,
        root,
        time.clone(),
        StdDuration::from_secs(20),
        transport,
    )?;
    let res = client.rotate(&device.device_id, &consent)?;
    if res.device_id != wire::device_id(&new_public) {
        return Err(SyncError::Decode(format!(
            "the server named device {} for the new key",
            res.device_id
        )));
    }
    store.adopt_pending_device_key(&res.device_id)?;
    Ok(res.device_id)
}
