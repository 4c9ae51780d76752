//! The sync protocol between stations and the central server: wire types, request signing, the
//! rules a batch must meet, retry backoff and the clock-offset measurement.
//!
//! Upload: a station sends its outbox as [`UploadBatch`]es of [`Record`]s (client-made UUIDv7
//! ids); the server stores them idempotently by `(venue_id, id)` and acknowledges every id it
//! holds, new or already there. Download: [`PullResponse`] carries server time, the bound venue's
//! registry entry, its policy, a newer trust list if any, and a signed revocation delta from the
//! station's cursor. Every request but enrolment and `/time` is signed by the device key
//! ([`signing_bytes`]); enrolment is signed by the key it enrols (proof of possession).
//!
//! Invariants: everything here is pure (time, keys and randomness are arguments); a batch that
//! passes [`validate_batch`] names only the device's venue, holds at most [`MAX_BATCH_RECORDS`]
//! records with well-formed, distinct ids and no time beyond `now + FUTURE_SKEW`; the signing
//! bytes bind method, path, device, time, nonce and a hash of the body, so a changed byte of any of
//! them fails verification.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::gate::Policy;
use crate::keys::{hex, PublicKey, SecretKey};

/// Most records one upload may carry.
pub const MAX_BATCH_RECORDS: usize = 2_000;
/// Largest request body the server reads, in bytes.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// How far a record's time may lie ahead of the server's clock.
pub const FUTURE_SKEW: Duration = Duration::minutes(5);
/// How far a signed request's time may differ from the server's clock (either way).
pub const REQUEST_SKEW: Duration = Duration::minutes(5);
/// A station whose clock is off by more than this shows a banner.
pub const CLOCK_WARN: Duration = Duration::minutes(5);
/// A trust list older than this is shown as stale.
pub const TRUST_STALE: Duration = Duration::hours(48);
/// Longest text field the server accepts in a record.
pub const MAX_FIELD_CHARS: usize = 128;

/// Request headers of a signed request.
pub const HEADER_DEVICE: &str = "x-vc-device";
pub const HEADER_TIME: &str = "x-vc-time";
pub const HEADER_NONCE: &str = "x-vc-nonce";
pub const HEADER_SIGNATURE: &str = "x-vc-signature";

/// A check-in on the wire: what the station recorded, masked identity only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckInWire {
    pub id: String,
    pub venue_id: String,
    pub checkpoint_id: String,
    pub inspector: String,
    /// `entry` or `exit`.
    pub direction: String,
    pub at: DateTime<Utc>,
    /// `pass` or `refuse`.
    pub verdict: String,
    pub reasons: Vec<String>,
    /// `not_taken`, `normal`, `fever` or `celsius`.
    pub temperature: String,
    pub celsius: Option<f32>,
    pub fever: bool,
    pub code_id: Option<String>,
    pub subject: Option<String>,
    pub name_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub id_masked: Option<String>,
    pub color: Option<String>,
    pub manual: bool,
    pub proxy_name: Option<String>,
    pub proxy_phone: Option<String>,
    pub proxy_relation: Option<String>,
}

/// An alert (a refusal that must reach the authority first), carrying the check-in it is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertWire {
    pub id: String,
    pub venue_id: String,
    pub at: DateTime<Utc>,
    pub reasons: Vec<String>,
    pub check_in: CheckInWire,
}

/// One outbox record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    CheckIn(CheckInWire),
    Alert(AlertWire),
}

impl Record {
    /// The record's client-made id.
    pub fn id(&self) -> &str {
        match self {
            Record::CheckIn(c) => &c.id,
            Record::Alert(a) => &a.id,
        }
    }

    /// The venue it belongs to.
    pub fn venue_id(&self) -> &str {
        match self {
            Record::CheckIn(c) => &c.venue_id,
            Record::Alert(a) => &a.venue_id,
        }
    }

    /// When it happened at the station.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Record::CheckIn(c) => c.at,
            Record::Alert(a) => a.at,
        }
    }
}

/// `POST /api/v1/sync/upload`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadBatch {
    pub records: Vec<Record>,
}

/// The server's answer to an upload: every id it now holds from the batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadAck {
    pub acked: Vec<String>,
    /// How many of them were new (the rest were already stored: a retry or a replay).
    pub stored: u64,
}

/// `POST /api/v1/devices/enrol`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The venue's 6-digit declaration code (场所申报码).
    pub declaration_code: String,
    pub inspector: String,
    /// The checkpoint to bind to; the venue's first one when absent.
    pub checkpoint_id: Option<String>,
    /// The device's Ed25519 public key, hex; made on the device.
    pub public_key: String,
}

/// The server's answer to an enrolment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub device_id: String,
    pub venue: VenueInfo,
    pub checkpoint_id: String,
    pub inspector: String,
}

/// A venue's registry entry as a station needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VenueInfo {
    pub venue_id: String,
    pub name: String,
    pub address: String,
    /// Category code (01–06, 99).
    pub category: String,
    /// The number an inspector calls when someone is refused.
    pub phone: String,
    pub checkpoints: Vec<CheckpointInfo>,
    /// Changes whenever the entry changes.
    pub updated_at: DateTime<Utc>,
}

/// One checkpoint (a door) of a venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointInfo {
    pub checkpoint_id: String,
    pub name: String,
}

/// A venue's gate policy on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyWire {
    pub fever_threshold_c: f32,
    pub accept_yellow: bool,
    pub require_nat_within_hours: Option<i64>,
    pub max_code_age_hours: Option<i64>,
}

impl From<&Policy> for PolicyWire {
    fn from(p: &Policy) -> PolicyWire {
        PolicyWire {
            fever_threshold_c: p.fever_threshold_c,
            accept_yellow: p.accept_yellow,
            require_nat_within_hours: p.require_nat_within.map(|d| d.num_hours()),
            max_code_age_hours: p.max_code_age.map(|d| d.num_hours()),
        }
    }
}

impl PolicyWire {
    /// The policy, with implausible values replaced by the defaults.
    pub fn to_policy(&self) -> Policy {
        let d = Policy::default();
        let hours = |h: Option<i64>| {
            h.filter(|h| (1..=24 * 365).contains(h))
                .map(Duration::hours)
        };
        Policy {
            fever_threshold_c: if (36.0..=39.0).contains(&self.fever_threshold_c) {
                self.fever_threshold_c
            } else {
                d.fever_threshold_c
            },
            accept_yellow: self.accept_yellow,
            require_nat_within: hours(self.require_nat_within_hours),
            max_code_age: hours(self.max_code_age_hours),
        }
    }
}

/// `GET /api/v1/sync/pull?trust_version=V&revocations_since=N`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub server_time: DateTime<Utc>,
    pub venue: VenueInfo,
    pub checkpoint_id: String,
    pub inspector: String,
    pub policy: PolicyWire,
    /// The version of the server's trust list.
    pub trust_version: u64,
    /// The signed trust list (base64 of the COSE bytes), when newer than the station's.
    pub trust_list: Option<String>,
    /// The signed revocation delta from the station's cursor (base64 of the COSE bytes); absent
    /// when the server holds no root key to sign with.
    pub revocations: Option<String>,
}

/// `GET /api/v1/time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerTime {
    /// Milliseconds since the Unix epoch, UTC.
    pub unix_ms: i64,
}

/// The error body of every 4xx/5xx answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable code (`bad_batch`, `unknown_device`, `replayed`, …).
    pub error: String,
    /// What went wrong, for a person.
    pub message: String,
    /// The records the server refused, when the error is about some of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<String>,
}

/// A device id: the hex key id of the device's public key.
pub fn device_id(key: &PublicKey) -> String {
    key.key_id().to_string()
}

/// Whether `text` is a 6-digit declaration code.
pub fn is_declaration_code(text: &str) -> bool {
    text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The bytes a device signs for one request.
pub fn signing_bytes(
    method: &str,
    path_and_query: &str,
    device: &str,
    unix_ms: i64,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    format!(
        "VC-REQ-1\n{}\n{path_and_query}\n{device}\n{unix_ms}\n{nonce}\n{}",
        method.to_ascii_uppercase(),
        hex(&Sha256::digest(body))
    )
    .into_bytes()
}

/// The four header values of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub device: String,
    pub unix_ms: i64,
    pub nonce: String,
    pub signature: String,
}

/// Signs a request; `nonce` must be fresh for every attempt (16+ random bytes, hex).
pub fn sign_request(
    key: &SecretKey,
    method: &str,
    path_and_query: &str,
    unix_ms: i64,
    nonce: &str,
    body: &[u8],
) -> SignedHeaders {
    let device = device_id(&key.public());
    let sig = key.sign(&signing_bytes(
        method,
        path_and_query,
        &device,
        unix_ms,
        nonce,
        body,
    ));
    SignedHeaders {
        device,
        unix_ms,
        nonce: nonce.to_string(),
        signature: hex(&sig),
    }
}

/// Why a signed request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("the request is not signed: header {0} is missing or not text")]
    Missing(&'static str),
    #[error("header {0} is malformed")]
    Malformed(&'static str),
    #[error("the request time is {off_secs} s away from the server's clock (allowed ±{allowed_secs} s): correct the station's clock")]
    Skewed { off_secs: i64, allowed_secs: i64 },
    #[error("the signature does not match the device's key")]
    BadSignature,
}

impl AuthError {
    /// A stable code for the wire.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing(_) | AuthError::Malformed(_) => "unsigned",
            AuthError::Skewed { .. } => "clock_skew",
            AuthError::BadSignature => "bad_signature",
        }
    }
}

/// Checks the shape of a nonce: 16–64 hex characters.
pub fn check_nonce(nonce: &str) -> Result<(), AuthError> {
    if (16..=64).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(AuthError::Malformed(HEADER_NONCE))
    }
}

/// Checks a signed request against the device's key and the server's clock.
pub fn verify_request(
    key: &PublicKey,
    method: &str,
    path_and_query: &str,
    headers: &SignedHeaders,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    check_nonce(&headers.nonce)?;
    let off_ms = headers.unix_ms.saturating_sub(now.timestamp_millis());
    if off_ms.abs() > REQUEST_SKEW.num_milliseconds() {
        return Err(AuthError::Skewed {
            off_secs: off_ms / 1000,
            allowed_secs: REQUEST_SKEW.num_seconds(),
        });
    }
    let sig = crate::keys::parse_hex(&headers.signature)
        .map_err(|_| AuthError::Malformed(HEADER_SIGNATURE))?;
    let bytes = signing_bytes(
        method,
        path_and_query,
        &headers.device,
        headers.unix_ms,
        &headers.nonce,
        body,
    );
    if key.verify(&bytes, &sig) {
        Ok(())
    } else {
        Err(AuthError::BadSignature)
    }
}

/// Why a batch was refused as a whole (nothing of it is stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    #[error("the batch is empty")]
    Empty,
    #[error("the batch holds {count} records; at most {max} per upload")]
    TooMany { count: usize, max: usize },
    #[error("record {id:?}: the id is not a lowercase UUID")]
    BadId { id: String },
    #[error("record {id:?} appears twice in the batch")]
    DuplicateId { id: String },
    #[error("record {id:?} is for venue {venue:?}, but this device is bound to another venue")]
    WrongVenue { id: String, venue: String },
    #[error("record {id:?} is dated {at}, more than {skew_min} minutes after the server's clock: correct the station's clock")]
    FromTheFuture {
        id: String,
        at: DateTime<Utc>,
        skew_min: i64,
    },
    #[error("record {id:?}: field {field} is longer than {max} characters")]
    FieldTooLong {
        id: String,
        field: &'static str,
        max: usize,
    },
    #[error("record {id:?}: field {field} has a value the server does not know")]
    BadValue { id: String, field: &'static str },
}

impl BatchError {
    /// A stable code for the wire.
    pub fn code(&self) -> &'static str {
        match self {
            BatchError::Empty | BatchError::TooMany { .. } => "bad_batch",
            BatchError::FromTheFuture { .. } => "future_timestamp",
            BatchError::WrongVenue { .. } => "wrong_venue",
            _ => "bad_record",
        }
    }

    /// The record the error is about, if it is about one.
    pub fn record_id(&self) -> Option<&str> {
        match self {
            BatchError::Empty | BatchError::TooMany { .. } => None,
            BatchError::BadId { id }
            | BatchError::DuplicateId { id }
            | BatchError::WrongVenue { id, .. }
            | BatchError::FromTheFuture { id, .. }
            | BatchError::FieldTooLong { id, .. }
            | BatchError::BadValue { id, .. } => Some(id),
        }
    }
}

/// Whether `s` is a canonical lowercase hyphenated UUID.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
}

fn check_check_in(c: &CheckInWire, id: &str) -> Result<(), BatchError> {
    let long = |field: &'static str, v: &str| {
        if v.chars().count() > MAX_FIELD_CHARS {
            Err(BatchError::FieldTooLong {
                id: id.to_string(),
                field,
                max: MAX_FIELD_CHARS,
            })
        } else {
            Ok(())
        }
    };
    let bad = |field: &'static str| BatchError::BadValue {
        id: id.to_string(),
        field,
    };
    long("checkpoint_id", &c.checkpoint_id)?;
    long("inspector", &c.inspector)?;
    for (field, v) in [
        ("code_id", &c.code_id),
        ("subject", &c.subject),
        ("name_masked", &c.name_masked),
        ("phone_masked", &c.phone_masked),
        ("id_masked", &c.id_masked),
        ("color", &c.color),
        ("proxy_name", &c.proxy_name),
        ("proxy_phone", &c.proxy_phone),
        ("proxy_relation", &c.proxy_relation),
    ] {
        long(field, v.as_deref().unwrap_or(""))?;
    }
    if !matches!(c.direction.as_str(), "entry" | "exit") {
        return Err(bad("direction"));
    }
    if !matches!(c.verdict.as_str(), "pass" | "refuse") {
        return Err(bad("verdict"));
    }
    if !matches!(
        c.temperature.as_str(),
        "not_taken" | "normal" | "fever" | "celsius"
    ) {
        return Err(bad("temperature"));
    }
    if c.celsius.is_some_and(|t| !t.is_finite()) {
        return Err(bad("celsius"));
    }
    if c.reasons.len() > 16 || c.reasons.iter().any(|r| r.len() > 40) {
        return Err(bad("reasons"));
    }
    Ok(())
}

/// Checks a batch from a device bound to `venue_id` against the server's clock `now`.
pub fn validate_batch(
    batch: &UploadBatch,
    venue_id: &str,
    now: DateTime<Utc>,
) -> Result<(), BatchError> {
    if batch.records.is_empty() {
        return Err(BatchError::Empty);
    }
    if batch.records.len() > MAX_BATCH_RECORDS {
        return Err(BatchError::TooMany {
            count: batch.records.len(),
            max: MAX_BATCH_RECORDS,
        });
    }
    let mut seen = std::collections::HashSet::with_capacity(batch.records.len());
    let limit = now + FUTURE_SKEW;
    for r in &batch.records {
        let id = r.id();
        if !is_uuid(id) {
            return Err(BatchError::BadId {
                id: id.chars().take(40).collect(),
            });
        }
        if !seen.insert(id) {
            return Err(BatchError::DuplicateId { id: id.to_string() });
        }
        if r.venue_id() != venue_id {
            return Err(BatchError::WrongVenue {
                id: id.to_string(),
                venue: r.venue_id().chars().take(40).collect(),
            });
        }
        if r.at() > limit {
            return Err(BatchError::FromTheFuture {
                id: id.to_string(),
                at: r.at(),
                skew_min: FUTURE_SKEW.num_minutes(),
            });
        }
        match r {
            Record::CheckIn(c) => check_check_in(c, id)?,
            Record::Alert(a) => {
                if a.check_in.venue_id != venue_id {
                    return Err(BatchError::WrongVenue {
                        id: id.to_string(),
                        venue: a.check_in.venue_id.chars().take(40).collect(),
                    });
                }
                if !is_uuid(&a.check_in.id) {
                    return Err(BatchError::BadValue {
                        id: id.to_string(),
                        field: "check_in.id",
                    });
                }
                if a.reasons.len() > 16 || a.reasons.iter().any(|r| r.len() > 40) {
                    return Err(BatchError::BadValue {
                        id: id.to_string(),
                        field: "reasons",
                    });
                }
                check_check_in(&a.check_in, id)?;
            }
        }
    }
    Ok(())
}

/// Exponential backoff with full jitter: attempt `n` (0-based) waits a uniformly random time in
/// `[0, min(cap, base · 2^n)]`. `unit` is a random number in `[0, 1)` from the caller.
pub fn backoff_delay(
    base: std::time::Duration,
    cap: std::time::Duration,
    attempt: u32,
    unit: f64,
) -> std::time::Duration {
    let ceiling = base
        .checked_mul(1u32 << attempt.min(20))
        .unwrap_or(cap)
        .min(cap);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

/// One round trip to `/time`: the station's clock when the request left and when the answer came
/// back, and the server's clock in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSample {
    pub sent: DateTime<Utc>,
    pub received: DateTime<Utc>,
    pub server: DateTime<Utc>,
}

impl ClockSample {
    /// Server clock minus station clock, assuming the answer was made half-way through the round
    /// trip (the NTP estimate); `None` when the round trip ran backwards (clock changed meanwhile).
    pub fn offset(&self) -> Option<Duration> {
        let rtt = self.received - self.sent;
        if rtt < Duration::zero() {
            return None;
        }
        Some(self.server - (self.sent + rtt / 2))
    }

    /// The round-trip time.
    pub fn round_trip(&self) -> Duration {
        self.received - self.sent
    }
}

/// Whether an offset is large enough to warn about.
pub fn clock_offset_warns(offset: Duration) -> bool {
    offset.abs() > CLOCK_WARN
}

/// Whether a trust list fetched at `fetched_at` is stale at `now`.
pub fn trust_is_stale(fetched_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    fetched_at.is_none_or(|t| now - t > TRUST_STALE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    const NOW: i64 = 1_790_000_000;

    fn check_in(id: &str, venue: &str, t: i64) -> CheckInWire {
        CheckInWire {
            id: id.into(),
            venue_id: venue.into(),
            checkpoint_id: "main".into(),
            inspector: "王五".into(),
            direction: "entry".into(),
            at: at(t),
            verdict: "pass".into(),
            reasons: vec![],
            temperature: "normal".into(),
            celsius: None,
            fever: false,
            code_id: Some("00112233".into()),
            subject: Some("aabb".into()),
            name_masked: Some("张*".into()),
            phone_masked: None,
            id_masked: None,
            color: Some("green".into()),
            manual: false,
            proxy_name: None,
            proxy_phone: None,
            proxy_relation: None,
        }
    }

    fn uuid(n: u32) -> String {
        format!("0190f0e0-0000-7000-8000-{n:012x}")
    }

    #[test]
    fn a_good_batch_passes_and_round_trips_as_json() {
        let alert = Record::Alert(AlertWire {
            id: uuid(2),
            venue_id: "v1".into(),
            at: at(NOW),
            reasons: vec!["red_code".into()],
            check_in: check_in(&uuid(1), "v1", NOW),
        });
        let b = UploadBatch {
            records: vec![Record::CheckIn(check_in(&uuid(1), "v1", NOW)), alert],
        };
        validate_batch(&b, "v1", at(NOW)).unwrap();
        let text = serde_json::to_string(&b).unwrap();
        assert!(text.contains(r#""kind":"check_in""#) && text.contains(r#""kind":"alert""#));
        assert_eq!(serde_json::from_str::<UploadBatch>(&text).unwrap(), b);
    }

    #[test]
    fn bad_batches_are_refused_with_the_record_named() {
        let ok = |n| Record::CheckIn(check_in(&uuid(n), "v1", NOW));
        let err = |records: Vec<Record>| {
            validate_batch(&UploadBatch { records }, "v1", at(NOW)).unwrap_err()
        };
        assert_eq!(err(vec![]), BatchError::Empty);
        assert!(matches!(
            err((0..MAX_BATCH_RECORDS as u32 + 1).map(ok).collect()),
            BatchError::TooMany { .. }
        ));
        let e = err(vec![ok(1), ok(1)]);
        assert_eq!(e.record_id(), Some(uuid(1).as_str()));
        assert_eq!(
            err(vec![Record::CheckIn(check_in("not-a-uuid", "v1", NOW))]).code(),
            "bad_record"
        );
        assert_eq!(
            err(vec![Record::CheckIn(check_in(
                &uuid(1).to_uppercase(),
                "v1",
                NOW
            ))])
            .code(),
            "bad_record"
        );
        assert_eq!(
            err(vec![ok(1), Record::CheckIn(check_in(&uuid(2), "v2", NOW))]).code(),
            "wrong_venue"
        );
        let future = err(vec![Record::CheckIn(check_in(&uuid(3), "v1", NOW + 301))]);
        assert_eq!(future.code(), "future_timestamp");
        assert_eq!(future.record_id(), Some(uuid(3).as_str()));
        // Within the skew is fine: station clocks drift a little.
        validate_batch(
            &UploadBatch {
                records: vec![Record::CheckIn(check_in(&uuid(3), "v1", NOW + 299))],
            },
            "v1",
            at(NOW),
        )
        .unwrap();
        let mut long = check_in(&uuid(4), "v1", NOW);
        long.inspector = "x".repeat(MAX_FIELD_CHARS + 1);
        assert!(matches!(
            err(vec![Record::CheckIn(long)]),
            BatchError::FieldTooLong {
                field: "inspector",
                ..
            }
        ));
        let mut weird = check_in(&uuid(5), "v1", NOW);
        weird.verdict = "maybe".into();
        assert!(matches!(
            err(vec![Record::CheckIn(weird)]),
            BatchError::BadValue {
                field: "verdict",
                ..
            }
        ));
        let mut nan = check_in(&uuid(6), "v1", NOW);
        nan.temperature = "celsius".into();
        nan.celsius = Some(f32::NAN);
        assert_eq!(err(vec![Record::CheckIn(nan)]).code(), "bad_record");
        // An alert smuggling another venue's check-in.
        let smuggled = Record::Alert(AlertWire {
            id: uuid(7),
            venue_id: "v1".into(),
            at: at(NOW),
            reasons: vec![],
            check_in: check_in(&uuid(8), "v2", NOW),
        });
        assert_eq!(err(vec![smuggled]).code(), "wrong_venue");
    }

    #[test]
    fn signatures_bind_every_part_of_the_request() {
        let key = SecretKey::from_seed(&[7; 32]);
        let body = br#"{"records":[]}"#;
        let nonce = "00112233445566778899aabbccddeeff";
        let ms = NOW * 1000;
        let h = sign_request(&key, "POST", "/api/v1/sync/upload", ms, nonce, body);
        assert_eq!(h.device, device_id(&key.public()));
        let pk = key.public();
        let now = at(NOW);
        verify_request(&pk, "post", "/api/v1/sync/upload", &h, body, now).unwrap();
        assert_eq!(
            verify_request(&pk, "POST", "/api/v1/sync/pull", &h, body, now),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify_request(&pk, "POST", "/api/v1/sync/upload", &h, b"{}", now),
            Err(AuthError::BadSignature)
        );
        let mut other_nonce = h.clone();
        other_nonce.nonce = "ffeeddccbbaa99887766554433221100".into();
        assert_eq!(
            verify_request(&pk, "POST", "/api/v1/sync/upload", &other_nonce, body, now),
            Err(AuthError::BadSignature)
        );
        let other = SecretKey::from_seed(&[8; 32]).public();
        assert_eq!(
            verify_request(&other, "POST", "/api/v1/sync/upload", &h, body, now),
            Err(AuthError::BadSignature)
        );
        let late = verify_request(&pk, "POST", "/api/v1/sync/upload", &h, body, at(NOW + 301));
        assert!(matches!(late, Err(AuthError::Skewed { .. })));
        let mut short = h.clone();
        short.nonce = "abc".into();
        assert_eq!(
            verify_request(&pk, "POST", "/api/v1/sync/upload", &short, body, now),
            Err(AuthError::Malformed(HEADER_NONCE))
        );
        let mut garbled = h;
        garbled.signature = "zz".into();
        assert_eq!(
            verify_request(&pk, "POST", "/api/v1/sync/upload", &garbled, body, now),
            Err(AuthError::Malformed(HEADER_SIGNATURE))
        );
    }

    #[test]
    fn backoff_grows_to_the_cap_and_jitter_stays_inside() {
        use std::time::Duration as D;
        let (base, cap) = (D::from_millis(500), D::from_secs(30));
        assert_eq!(backoff_delay(base, cap, 0, 1.0), D::from_millis(500));
        assert_eq!(backoff_delay(base, cap, 3, 1.0), D::from_millis(4000));
        assert_eq!(backoff_delay(base, cap, 10, 1.0), cap);
        assert_eq!(backoff_delay(base, cap, u32::MAX, 1.0), cap);
        assert_eq!(backoff_delay(base, cap, 3, 0.0), D::ZERO);
        assert_eq!(backoff_delay(base, cap, 3, 0.5), D::from_millis(2000));
        assert_eq!(backoff_delay(base, cap, 3, 7.0), D::from_millis(4000));
    }

    #[test]
    fn clock_offset_is_the_ntp_estimate() {
        let ms = |m: i64| DateTime::from_timestamp_millis(NOW * 1000 + m).unwrap();
        let s = ClockSample {
            sent: ms(0),
            received: ms(200),
            server: ms(100 + 600_000),
        };
        assert_eq!(s.offset(), Some(Duration::minutes(10)));
        assert!(clock_offset_warns(s.offset().unwrap()));
        assert!(!clock_offset_warns(Duration::minutes(-4)));
        assert!(clock_offset_warns(Duration::minutes(-6)));
        let backwards = ClockSample {
            sent: ms(200),
            received: ms(0),
            server: ms(0),
        };
        assert_eq!(backwards.offset(), None);
    }

    #[test]
    fn trust_staleness_and_policy_clamping() {
        assert!(trust_is_stale(None, at(NOW)));
        assert!(!trust_is_stale(Some(at(NOW - 47 * 3600)), at(NOW)));
        assert!(trust_is_stale(Some(at(NOW - 49 * 3600)), at(NOW)));
        let wire = PolicyWire {
            fever_threshold_c: 12.0,
            accept_yellow: true,
            require_nat_within_hours: Some(48),
            max_code_age_hours: Some(-3),
        };
        let p = wire.to_policy();
        assert_eq!(p.fever_threshold_c, Policy::default().fever_threshold_c);
        assert!(p.accept_yellow);
        assert_eq!(p.require_nat_within, Some(Duration::hours(48)));
        assert_eq!(p.max_code_age, None);
        assert_eq!(PolicyWire::from(&p).to_policy(), p);
        assert!(is_declaration_code("123456"));
        assert!(!is_declaration_code("12345"));
        assert!(!is_declaration_code("12345a"));
        assert!(!is_declaration_code("１２３４５６"));
    }
}
