//! The sync protocol's wire types: records (check-ins, alerts) with their format version, upload
//! and pull bodies, enrolment, venue entries, policy, server time and error bodies.
//!
//! Invariant: these are data only (serde); the rules about them live in `batch.rs` and `auth.rs`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::gate::Policy;
use crate::keys::PublicKey;
use crate::trust::RevocationDelta;

/// The format version of outbox records this build writes and the server accepts. A station
/// stamps it on every record when the record is made, so a record queued by an older or newer
/// build is recognised (and set aside by the server, not misread).
///
/// Format 2 adds the scanned code's text (`code`), which the server verifies again. Format 1
/// (queued by builds before it, no code) is refused: a record the server cannot check would let
/// a rogue device claim any subject and colour by writing `"format": 1`.
pub const RECORD_FORMAT: u32 = 2;
/// The oldest format the server accepts.
pub const MIN_RECORD_FORMAT: u32 = 2;

fn record_format_v1() -> u32 {
    1
}

/// Request headers of a signed request.
pub const HEADER_DEVICE: &str = "x-vc-device";
pub const HEADER_TIME: &str = "x-vc-time";
pub const HEADER_NONCE: &str = "x-vc-nonce";
pub const HEADER_SIGNATURE: &str = "x-vc-signature";

/// A check-in on the wire: what the station recorded, masked identity only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckInWire {
    /// [`RECORD_FORMAT`] when written; records queued before versions existed are format 1.
    #[serde(default = "record_format_v1")]
    pub format: u32,
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
    /// The scanned code's text (format 2): the server verifies it again against the issuer and
    /// checks code id, subject and colour against the record. Absent for manual registrations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A registration by hand: the ID number sealed to the health authority (core `seal`, the
    /// venue id as context), so the authority's server links it to the person's codes. Absent
    /// when the station has no sealing key yet, and for scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_id: Option<String>,
}

impl CheckInWire {
    /// The record of `draft` under `id` (a UUIDv7 made by whoever stores it first: the station,
    /// or the server for a resident's own check-in).
    pub fn from_draft(id: String, d: &crate::checkin::CheckInDraft) -> CheckInWire {
        CheckInWire {
            format: RECORD_FORMAT,
            id,
            venue_id: d.venue_id.clone(),
            checkpoint_id: d.checkpoint_id.clone(),
            inspector: d.inspector.clone(),
            direction: d.direction.as_str().into(),
            at: d.at,
            verdict: match d.verdict {
                crate::gate::Verdict::Pass => "pass",
                crate::gate::Verdict::Refuse => "refuse",
            }
            .into(),
            reasons: d.reasons.iter().map(|r| r.to_string()).collect(),
            temperature: d.temperature.into(),
            celsius: d.celsius,
            fever: d.fever,
            code_id: d.code_id.clone(),
            subject: d.subject.clone(),
            name_masked: d.name_masked.clone(),
            phone_masked: d.phone_masked.clone(),
            id_masked: d.id_masked.clone(),
            color: d.color.map(str::to_string),
            manual: d.manual,
            proxy_name: d.proxy_name.clone(),
            proxy_phone: d.proxy_phone.clone(),
            proxy_relation: d.proxy_relation.map(str::to_string),
            code: d.code.clone(),
            sealed_id: d.sealed_id.clone(),
        }
    }
}

impl AlertWire {
    /// The alert `id` about `check_in` (its reasons, time and venue).
    pub fn about(id: String, check_in: &CheckInWire) -> AlertWire {
        AlertWire {
            format: RECORD_FORMAT,
            id,
            venue_id: check_in.venue_id.clone(),
            at: check_in.at,
            reasons: check_in.reasons.clone(),
            check_in: check_in.clone(),
        }
    }
}

/// An alert (a refusal that must reach the authority first), carrying the check-in it is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertWire {
    /// [`RECORD_FORMAT`] when written; records queued before versions existed are format 1.
    #[serde(default = "record_format_v1")]
    pub format: u32,
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

/// `POST /api/v1/devices/rotate`: a device replaces its key. The request is signed by the new
/// key (proof of possession, like enrolment); `old_signature` is the old key's signature over
/// [`key_rotation_bytes`] (the old key's consent). The binding carries over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RotateKeyRequest {
    /// The device id of the key being replaced (16 hex characters).
    pub old_device_id: String,
    /// The new Ed25519 public key, hex.
    pub public_key: String,
    /// The old key's signature over [`key_rotation_bytes`], hex.
    pub old_signature: String,
}

/// The server's answer to a key rotation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RotateKeyResponse {
    /// The device id of the new key; the old one is refused from now on.
    pub device_id: String,
}

/// What the old key signs to hand its binding to `new_key`.
pub fn key_rotation_bytes(old_device_id: &str, new_key: &PublicKey) -> Vec<u8> {
    format!("VC-ROTATE-1\n{old_device_id}\n{}", new_key.to_hex()).into_bytes()
}

/// Whether `text` is a device id's shape (16 lowercase hex characters).
pub fn is_device_id(text: &str) -> bool {
    text.len() == 16 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
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
    /// Disabled by the venue's administrator: a station bound here records nothing.
    #[serde(default)]
    pub disabled: bool,
}

/// A venue's gate policy on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyWire {
    pub fever_threshold_c: f32,
    pub accept_yellow: bool,
    pub require_nat_within_hours: Option<i64>,
    pub max_code_age_hours: Option<i64>,
    /// Hours a paper code (printed, for people without phones) stays acceptable; absent or
    /// implausible means the default (7 days).
    #[serde(default)]
    pub max_paper_code_age_hours: Option<i64>,
    /// Hours a station may go without a signed server time before its time counts as
    /// unverified (a blocking warning).
    #[serde(default = "default_max_unsigned_hours")]
    pub max_unsigned_time_hours: i64,
    /// Hours after the last complete pull (trust list, revocations) that a station is stale.
    #[serde(default = "default_stale_after_hours")]
    pub stale_after_hours: i64,
    /// What a stale station, or one whose time is unverified, does: `refuse` every scan (the
    /// default: fail closed) or `warn` and go on deciding.
    #[serde(default = "default_when_stale")]
    pub when_stale: String,
    /// The venue's capacity (限流): at most this many inside at once across its gates; at the
    /// cap a station holds further entries until someone leaves. Absent: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
}

fn default_max_unsigned_hours() -> i64 {
    24
}

fn default_stale_after_hours() -> i64 {
    48
}

fn default_when_stale() -> String {
    "refuse".into()
}

/// What a station does about its own freshness, from the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreshnessPolicy {
    pub max_unsigned: Duration,
    pub stale_after: Duration,
    /// Refuse every scan while stale or unverified (otherwise warn).
    pub refuse_when_stale: bool,
}

impl Default for FreshnessPolicy {
    fn default() -> FreshnessPolicy {
        FreshnessPolicy {
            max_unsigned: Duration::hours(default_max_unsigned_hours()),
            stale_after: Duration::hours(default_stale_after_hours()),
            refuse_when_stale: true,
        }
    }
}

impl From<&Policy> for PolicyWire {
    fn from(p: &Policy) -> PolicyWire {
        PolicyWire {
            fever_threshold_c: p.fever_threshold_c,
            accept_yellow: p.accept_yellow,
            require_nat_within_hours: p.require_nat_within.map(|d| d.num_hours()),
            max_code_age_hours: p.max_code_age.map(|d| d.num_hours()),
            max_paper_code_age_hours: Some(p.max_paper_code_age.num_hours()),
            max_unsigned_time_hours: default_max_unsigned_hours(),
            stale_after_hours: default_stale_after_hours(),
            when_stale: default_when_stale(),
            capacity: None,
        }
    }
}

/// Why a policy cannot be set (each message names the field and what it may be).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("fever_threshold_c must be between 36.0 and 39.0 °C")]
    FeverThreshold,
    #[error("{0} must be between 1 and {1} hours")]
    Hours(&'static str, i64),
    #[error("when_stale must be refuse or warn")]
    WhenStale,
    #[error("capacity must be between 1 and 1,000,000 people (or none)")]
    Capacity,
}

impl PolicyWire {
    /// Checks a policy an operator sets: every value in the range a station reads as given (so
    /// nothing set is silently replaced by a default).
    pub fn validate(&self) -> Result<(), PolicyError> {
        if !(36.0..=39.0).contains(&self.fever_threshold_c) {
            return Err(PolicyError::FeverThreshold);
        }
        let year = 24 * 365;
        let month = 24 * 30;
        for (name, value, max) in [
            (
                "require_nat_within_hours",
                self.require_nat_within_hours,
                year,
            ),
            ("max_code_age_hours", self.max_code_age_hours, year),
            (
                "max_paper_code_age_hours",
                self.max_paper_code_age_hours,
                year,
            ),
            (
                "max_unsigned_time_hours",
                Some(self.max_unsigned_time_hours),
                month,
            ),
            ("stale_after_hours", Some(self.stale_after_hours), month),
        ] {
            if value.is_some_and(|h| !(1..=max).contains(&h)) {
                return Err(PolicyError::Hours(name, max));
            }
        }
        if !matches!(self.when_stale.as_str(), "refuse" | "warn") {
            return Err(PolicyError::WhenStale);
        }
        if self.capacity.is_some_and(|c| !(1..=1_000_000).contains(&c)) {
            return Err(PolicyError::Capacity);
        }
        Ok(())
    }

    /// The freshness rules, with implausible values (under an hour, over 30 days) replaced by
    /// the defaults and anything but `warn` read as `refuse`.
    pub fn freshness(&self) -> FreshnessPolicy {
        let d = FreshnessPolicy::default();
        let hours = |h: i64, default: Duration| {
            if (1..=24 * 30).contains(&h) {
                Duration::hours(h)
            } else {
                default
            }
        };
        FreshnessPolicy {
            max_unsigned: hours(self.max_unsigned_time_hours, d.max_unsigned),
            stale_after: hours(self.stale_after_hours, d.stale_after),
            refuse_when_stale: self.when_stale != "warn",
        }
    }

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
            // On by default: absent or implausible means the default age, never off.
            max_code_age: hours(self.max_code_age_hours).or(d.max_code_age),
            max_paper_code_age: hours(self.max_paper_code_age_hours)
                .unwrap_or(d.max_paper_code_age),
        }
    }
}

/// Most revocations one pull answer carries; more arrive page by page.
pub const REVOCATION_PAGE: usize = 5_000;

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
    /// One page of revocations from the station's cursor (the whole answer is signed); when
    /// `more` is set the station pulls again from `until`.
    pub revocations: RevocationDelta,
    /// The device waits for its venue administrator's approval: its uploads are refused until
    /// then (it keeps its check-ins).
    #[serde(default)]
    pub pending: bool,
    /// The health authority's public sealing key (64 hex), when the deployment traces people
    /// registered by hand: stations seal their ID numbers to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal_key: Option<String>,
    /// The device's credential for its venue's other stations on the LAN (renewed every pull;
    /// absent from a server without keys or an older build).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lan: Option<crate::lan::LanCredential>,
}

/// Most passages one relay answer carries; more follow from `received_upto`.
pub const RELAY_PAGE: usize = 2_000;

/// `GET /api/v1/sync/passages`: the venue's passages from its other stations and residents'
/// phones, for the station's shared presence (long-polled, see the server's relay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelayedPassages {
    pub passages: Vec<crate::presence::Passage>,
    /// The arrival time (Unix ms) reached: the next ask gives it as `after`.
    pub received_upto: i64,
    /// Changes with every commit at the venue: the next ask gives it as `seen`, and is held
    /// while it is still current.
    pub token: String,
    pub more: bool,
}

/// Most residents' own check-ins one answer carries; more arrive page by page.
pub const PHONE_CHECK_IN_PAGE: usize = 500;

/// `GET /api/v1/sync/phone-check-ins?since=MS`: residents' own check-ins (扫场所码) at the
/// station's venue from `since` (Unix ms), oldest first, for the station's list and counters.
/// The station asks again from a little before the last one it holds (ids make a second copy
/// harmless), so a check-in committed late is not skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhoneCheckIns {
    pub entries: Vec<PhoneCheckIn>,
    /// More follow the last entry: ask again from its time.
    pub more: bool,
}

/// One resident's own check-in as a station shows it (masked identity only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhoneCheckIn {
    pub id: String,
    /// The person's pseudonym (as the station's own scans carry it): a phone's entry opens a stay
    /// at the venue and its exit closes one, at any gate. Absent from servers before issue 18.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub checkpoint_id: String,
    /// `entry` or `exit`.
    pub direction: String,
    pub at: DateTime<Utc>,
    /// `pass` or `refuse`.
    pub verdict: String,
    pub reasons: Vec<String>,
    pub name_masked: Option<String>,
    pub id_masked: Option<String>,
    pub color: Option<String>,
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
    /// The fields a form got wrong, each with its own code, when the error is about a form.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<crate::application::Problem>,
}

/// A device id: the hex key id of the device's public key.
pub fn device_id(key: &PublicKey) -> String {
    key.key_id().to_string()
}

/// Whether `text` is a 6-digit declaration code.
pub fn is_declaration_code(text: &str) -> bool {
    text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit())
}
