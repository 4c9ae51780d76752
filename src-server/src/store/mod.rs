//! The server's store: one interface ([`Store`]) with an embedded SQLite implementation (the
//! default) and a PostgreSQL one, chosen by [`open`] from the `--database` argument.
//!
//! Invariants: the only modules of the server with SQL are the engine modules below; both engines
//! pass the same tests (`tests` at the bottom run against each); ingest is idempotent by
//! `(venue_id, id)` and all-or-nothing per batch; every method is blocking and is called from
//! blocking threads.

pub mod accounts;
pub mod applications;
pub mod places;
pub mod postgres;
pub mod reports;
pub mod retention;
pub mod sightings;
pub mod sqlite;
pub mod trace;

pub use accounts::{Account, Accounts, Credentials, Invitation, NewAccount};
pub use applications::{Applications, Decision, VenueEvent, VenueFilter, VenueSummary};
pub use places::{Amended, Checkpoint, Places};
pub use reports::{AlertQuery, AlertReason, AlertRow, CheckInRow, PhoneRow, Reports};
pub use retention::Retention;
pub use sightings::{SightingAlertRow, Sightings};
pub use trace::{MarkRow, PassageRow, TraceAudit, TraceAuditRow, Tracing};

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use venuecode_core::sync::{PolicyWire, Record, VenueInfo};
use venuecode_core::trust::Revocation;
use venuecode_core::venue::VenueCategory;

/// What the store can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("postgresql: {}", pg_message(.0))]
    Postgres(#[from] ::postgres::Error),
    #[error("database schema version {found} is newer than this server knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("the database lock was poisoned by an earlier failure")]
    Poisoned,
    /// One answer for every wrong code (unknown, or a venue not approved): nothing tells them apart.
    #[error("declaration code {0} was not accepted: check the venue's 6 digits")]
    UnknownDeclaration(String),
    #[error("venue {venue} has no checkpoint {checkpoint:?}")]
    UnknownCheckpoint { venue: String, checkpoint: String },
    #[error("storing a batch: {0}")]
    Ingest(String),
    #[error("device {0} is enrolled at another venue; revoke it there first")]
    EnrolledElsewhere(String),
    #[error("device {0} is revoked; only an administrator can re-activate it")]
    DeviceRevoked(String),
    #[error("{0}")]
    NotDurable(String),
    #[error("a window of {days} days is longer than a query by person may span ({max} days)")]
    WindowTooLong { days: i64, max: i64 },
    #[error("venue {0} is not a pending application: it was decided already, or does not exist")]
    NotPending(String),
    #[error("an application with this credit code and address is already {0}: no second one")]
    DuplicateApplication(String),
    #[error("the declaration code {0} is in use")]
    DeclarationCodeTaken(String),
    #[error("the invitation was used or has expired")]
    InvitationUsed,
    #[error("the user name {0} is taken")]
    UsernameTaken(String),
    #[error("no device {0} is enrolled")]
    UnknownDevice(String),
    #[error("key {0} is already enrolled: make a new key")]
    KeyInUse(String),
    #[error("this venue already has a checkpoint named {0}")]
    CheckpointNameTaken(String),
    #[error("{0} is not an active venue administrator")]
    NotAVenueAdmin(String),
    #[error("all {0} database connections are busy; retry shortly")]
    Busy(usize),
    #[error("database TLS: {0}")]
    PgTls(#[from] postgres::pgtls::PgTlsError),
}

impl StoreError {
    /// Whether the failure is the database being unreachable (worth a 503 and a retry).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Busy(_) => true,
            StoreError::Postgres(e) => match e.as_db_error() {
                None => true,
                // 08: connection exception, 53: insufficient resources, 57: operator
                // intervention (shutting down, starting up), 40001/40P01: retry the transaction.
                Some(db) => {
                    let code = db.code().code();
                    ["08", "53", "57"].iter().any(|c| code.starts_with(c))
                        || code == "40001"
                        || code == "40P01"
                }
            },
            StoreError::Sql(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}

fn pg_message(e: &::postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        // Below SQL the cause is what a person can act on ("invalid peer certificate:
        // UnknownIssuer", "connection refused"): name it.
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub device_id: String,
    pub public_key: String,
    pub venue_id: String,
    pub checkpoint_id: String,
    pub inspector: String,
    pub revoked: bool,
    /// When it first enrolled (server clock): no record it sends can be older.
    pub enrolled_at: DateTime<Utc>,
    /// Waiting for the venue administrator's approval: every signed request is refused.
    pub pending: bool,
}

/// What an enrolment asks for.
#[derive(Debug, Clone)]
pub struct NewDevice<'a> {
    pub declaration_code: &'a str,
    pub checkpoint_id: Option<&'a str>,
    pub inspector: &'a str,
    pub device_id: &'a str,
    pub public_key: &'a str,
}

/// One page of revocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationPage {
    /// The cursor after the last entry (the request's cursor when there are none).
    pub until: u64,
    pub entries: Vec<Revocation>,
    /// Revocations after `until` exist.
    pub more: bool,
}

/// How many records the server holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub check_ins: i64,
    pub alerts: i64,
}

/// What an enrolment attempt came to, as the audit log keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Enrolled,
    /// A wrong declaration code (or a venue that is not approved): the one uniform refusal.
    Refused,
    /// Refused unheard: the source or the venue is locked out.
    Locked,
    /// A revoked key tried to enrol again.
    Revoked,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Enrolled => "enrolled",
            AttemptOutcome::Refused => "refused",
            AttemptOutcome::Locked => "locked",
            AttemptOutcome::Revoked => "revoked",
        }
    }
}

/// One enrolment attempt for the audit log.
#[derive(Debug, Clone)]
pub struct EnrolAttempt<'a> {
    /// Where it came from (the peer address; `unknown` when the server cannot tell).
    pub source: &'a str,
    pub declaration_code: &'a str,
    pub device_id: &'a str,
    pub outcome: AttemptOutcome,
}

/// What attempts are counted by.
#[derive(Debug, Clone, Copy)]
pub enum AttemptKey<'a> {
    Source(&'a str),
    DeclarationCode(&'a str),
}

impl<'a> AttemptKey<'a> {
    /// The column and the value (the column name is one of two constants, never input).
    pub(crate) fn column(self) -> (&'static str, &'a str) {
        match self {
            AttemptKey::Source(s) => ("source", s),
            AttemptKey::DeclarationCode(c) => ("declaration_code", c),
        }
    }
}

/// A device as an administrator lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceListing {
    pub device: Device,
    pub enrolled_at: DateTime<Utc>,
    /// When it last uploaded (its last activity), if ever.
    pub last_seen: Option<DateTime<Utc>>,
}

/// A venue's check-ins name their inspector by device id (the upload stamps it); this puts the
/// name of each of the venue's devices' inspector in its place. Ids of no device (`self`, a
/// removed device, generated history) are shown as they are.
pub fn name_inspectors<'a>(
    store: &dyn Store,
    venue_id: &str,
    inspectors: impl Iterator<Item = &'a mut String>,
) -> Result<(), StoreError> {
    let names: std::collections::HashMap<String, String> = store
        .devices(Some(venue_id))?
        .into_iter()
        .map(|d| (d.device.device_id, d.device.inspector))
        .collect();
    for inspector in inspectors {
        if let Some(name) = names.get(inspector.as_str()) {
            inspector.clone_from(name);
        }
    }
    Ok(())
}

/// One event in a device's life: enrolled, revoked, reactivated — when and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEvent {
    pub at: DateTime<Utc>,
    pub action: String,
    pub actor: String,
}

/// The device side of the store: enrolment, lookup, revocation, nonces and the audit logs.
pub trait Devices {
    /// Binds a device to the venue with the declaration code; re-enrolling the same key at the
    /// same venue updates the inspector and checkpoint. A revoked key is refused
    /// ([`StoreError::DeviceRevoked`]): only an administrator re-activates it.
    fn enrol(&self, d: &NewDevice<'_>, now: DateTime<Utc>) -> Result<Device, StoreError>;
    /// The device with this id, if enrolled.
    fn device(&self, device_id: &str) -> Result<Option<Device>, StoreError>;
    /// Hands an active device's binding (venue, checkpoint, inspector, enrolment time) to a new
    /// key and revokes the old one, logged on both (`rotated to …`, `rotated from …`). Asking
    /// again for the same pair returns the new device (a lost answer is retried safely).
    fn rotate_key(
        &self,
        old_device_id: &str,
        new_device_id: &str,
        new_public_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Device, StoreError>;
    /// Revokes (or re-activates) a device, logging who did it as a device event; false when
    /// there is no such device.
    fn set_revoked(
        &self,
        device_id: &str,
        revoked: bool,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Records a request nonce; false when this device used it before (a replay). Forgets nonces
    /// older than `forget_before`.
    fn use_nonce(
        &self,
        device_id: &str,
        nonce: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Appends an enrolment attempt to the audit log.
    fn record_enrolment_attempt(
        &self,
        a: &EnrolAttempt<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// How many attempts with `outcome` came from a source (or named a declaration code) since
    /// `since`.
    fn enrolment_attempts(
        &self,
        key: AttemptKey<'_>,
        outcome: AttemptOutcome,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError>;
    /// Every enrolled device (of one venue, when given), by venue and enrolment time.
    fn devices(&self, venue_id: Option<&str>) -> Result<Vec<DeviceListing>, StoreError>;
    /// Gives an approved venue a new declaration code (the old one enrols nothing from now on;
    /// devices bound already stay); false when there is no such approved venue.
    fn set_declaration_code(
        &self,
        venue_id: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// A device's events, oldest first.
    fn device_events(&self, device_id: &str) -> Result<Vec<DeviceEvent>, StoreError>;
}

/// The server's store, on either engine.
pub trait Store:
    Devices + Sightings + Accounts + Applications + Places + Tracing + Reports + Retention + Send + Sync
{
    /// `sqlite` or `postgres`.
    fn engine(&self) -> &'static str;
    /// Number of venues in the registry.
    fn venue_count(&self) -> Result<i64, StoreError>;
    /// Inserts the demo venues and checkpoints if they are not there yet (idempotent).
    fn seed_demo(&self, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Stores a validated batch from `device` in one transaction, skipping ids already held;
    /// returns how many were new. Each record is stored under the venue it names (both
    /// engines alike): `validate_batch` has checked that it is the device's, and the history
    /// benchmark loads many venues' records in one batch.
    fn ingest(
        &self,
        device: &Device,
        records: Vec<Record>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// A venue's registry entry and policy.
    fn venue_info(&self, venue_id: &str) -> Result<Option<(VenueInfo, PolicyWire)>, StoreError>;
    /// Sets a venue's whole policy (validated by the caller); false when there is no such venue.
    /// Stations get it with their next pull.
    fn set_policy(
        &self,
        venue_id: &str,
        policy: &PolicyWire,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// At most `limit` revocations after `cursor`, in order, the cursor after them, and whether
    /// more follow.
    fn revocations_since(&self, cursor: u64, limit: usize) -> Result<RevocationPage, StoreError>;
    /// Adds a revocation; returns its cursor.
    fn revoke(&self, r: &Revocation, now: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Whether this code (id, lowercase hex) or every code of this subject is revoked: a
    /// resident's own check-in asks the server's list, as a station asks its copy.
    fn is_revoked(&self, code_id: &str, subject: &str) -> Result<bool, StoreError>;
    /// Every check-in id held, sorted (audits and the sync fault tests).
    fn check_in_ids(&self) -> Result<Vec<String>, StoreError>;
    /// Every alert id held, sorted.
    fn alert_ids(&self) -> Result<Vec<String>, StoreError>;
    /// Row counts.
    fn counts(&self) -> Result<Counts, StoreError>;
}

/// Opens the store named by `database`: a `postgres://` or `postgresql://` URL, or a SQLite file
/// path.
pub fn open(database: &str) -> Result<Box<dyn Store>, StoreError> {
    if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        Ok(Box::new(postgres::PgStore::open(database)?))
    } else {
        Ok(Box::new(sqlite::SqliteStore::open(database.as_ref())?))
    }
}

/// A demo venue.
pub(crate) struct DemoVenue {
    pub venue_id: &'static str,
    pub name: &'static str,
    pub category: VenueCategory,
    pub region: &'static str,
    pub address: &'static str,
    pub declaration_code: &'static str,
    pub phone: &'static str,
    pub checkpoints: &'static [(&'static str, &'static str)],
    /// Map point (latitude, longitude) in millionths of a degree.
    pub point: (i32, i32),
}

/// The demo deployment's venues (declaration codes 100001–100003).
pub(crate) const DEMO_VENUES: &[DemoVenue] = &[
    DemoVenue {
        venue_id: "demo-venue-0001",
        name: "阿拉尔市人民医院",
        category: VenueCategory::GovernmentPublicService,
        region: "659002",
        address: "阿拉尔市军垦大道 1 号",
        declaration_code: "100001",
        phone: "0997-4612345",
        checkpoints: &[("main", "正门"), ("east", "东门")],
        point: (40_547_000, 81_277_000),
    },
    DemoVenue {
        venue_id: "demo-venue-0002",
        name: "塔里木大学图书馆",
        category: VenueCategory::GovernmentPublicService,
        region: "659002",
        address: "阿拉尔市塔里木大道 705 号",
        declaration_code: "100002",
        phone: "0997-4680000",
        checkpoints: &[("main", "正门")],
        point: (40_544_000, 81_303_000),
    },
    DemoVenue {
        venue_id: "demo-venue-0003",
        name: "幸福路农贸市场",
        category: VenueCategory::Business,
        region: "659002",
        address: "阿拉尔市幸福路 18 号",
        declaration_code: "100003",
        phone: "0997-4655555",
        checkpoints: &[("main", "北门"), ("south", "南门")],
        point: (40_556_000, 81_266_000),
    },
];

/// Space-joined reason codes, as both engines store them.
pub(crate) fn join_reasons(reasons: &[String]) -> String {
    reasons.join(" ")
}

/// A venue row as both engines read it, turned into wire types.
pub(crate) struct VenueRow {
    pub venue_id: String,
    pub name: String,
    pub address: String,
    pub category: String,
    pub phone: String,
    pub updated_ms: i64,
    pub fever_threshold_c: f32,
    pub accept_yellow: bool,
    pub require_nat_hours: Option<i64>,
    pub max_code_age_hours: Option<i64>,
    pub max_paper_code_age_hours: Option<i64>,
    pub max_unsigned_time_hours: Option<i64>,
    pub stale_after_hours: Option<i64>,
    pub when_stale: Option<String>,
    pub capacity: Option<i64>,
}

/// The policy columns of `venues`, in this order, as both engines read them after the registry
/// columns.
pub(crate) const POLICY_COLUMNS: &str = "fever_threshold_c, accept_yellow, require_nat_hours, \
    max_code_age_hours, max_paper_code_age_hours, max_unsigned_time_hours, stale_after_hours, \
    when_stale, capacity";

impl VenueRow {
    pub(crate) fn into_wire(
        self,
        checkpoints: Vec<(String, String, bool)>,
    ) -> (VenueInfo, PolicyWire) {
        // What the venue did not set is the default (24 h without a signed time, stale after
        // 48 h, refuse when stale, paper codes for 7 days).
        let defaults = PolicyWire::from(&venuecode_core::gate::Policy::default());
        let policy = PolicyWire {
            fever_threshold_c: self.fever_threshold_c,
            accept_yellow: self.accept_yellow,
            require_nat_within_hours: self.require_nat_hours,
            max_code_age_hours: self.max_code_age_hours,
            max_paper_code_age_hours: self
                .max_paper_code_age_hours
                .or(defaults.max_paper_code_age_hours),
            max_unsigned_time_hours: self
                .max_unsigned_time_hours
                .unwrap_or(defaults.max_unsigned_time_hours),
            stale_after_hours: self.stale_after_hours.unwrap_or(defaults.stale_after_hours),
            when_stale: self.when_stale.unwrap_or(defaults.when_stale),
            capacity: self
                .capacity
                .and_then(|c| u32::try_from(c).ok())
                .filter(|c| *c > 0),
        };
        let info = VenueInfo {
            venue_id: self.venue_id,
            name: self.name,
            address: self.address,
            category: self.category,
            phone: self.phone,
            checkpoints: checkpoints
                .into_iter()
                .map(
                    |(checkpoint_id, name, disabled)| venuecode_core::sync::CheckpointInfo {
                        checkpoint_id,
                        name,
                        disabled,
                    },
                )
                .collect(),
            updated_at: DateTime::from_timestamp_millis(self.updated_ms).unwrap_or_default(),
        };
        (info, policy)
    }
}

/// A revocation as stored: kind and target.
pub(crate) fn revocation_parts(r: &Revocation) -> (&'static str, &str) {
    match r {
        Revocation::Code(id) => ("code", id.as_str()),
        Revocation::Subject(id) => ("subject", id.as_str()),
    }
}

pub(crate) fn revocation_from(kind: &str, target: String) -> Revocation {
    if kind == "code" {
        Revocation::Code(target)
    } else {
        Revocation::Subject(target)
    }
}

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
mod tests;
