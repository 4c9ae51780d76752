//! The IPC's vocabulary: the closed sets the UI must name in every language — reasons, code
//! kinds, colours, NAT results, directions, relations, ID-number problems, form fields and sync
//! problems. Each crosses as an enum (serde names are core's stable codes), so the UI's
//! exhaustive matches make an untranslated value a compile error.

use serde::{Deserialize, Serialize};

/// Why a verdict is what it is: one variant per code-check failure, per station state that stops a
/// check, and per gate rule. The app maps core's reasons onto these with exhaustive matches and the
/// UI translates them with one, so a new reason in core does not compile until it has a name here
/// and text in every language. The wire names are core's stable codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    // The code check (core's `CodeError`).
    NotACode,
    Encoding,
    Truncated,
    Malformed,
    UnsupportedAlgorithm,
    UnknownIssuer,
    UnknownKeyId,
    Forged,
    NotYetValid,
    Expired,
    KeyNotValid,
    Revoked,
    RevokedSubject,
    // The station cannot check at all.
    NoTrustList,
    TrustListInvalid,
    /// The trust list is past its expiry: sync to get the renewed one.
    TrustListExpired,
    /// The station has not synced within the policy's limits (or its time is unverified) and
    /// the policy says refuse: sync before admitting anyone.
    StationStale,
    /// The venue's administrator disabled the checkpoint this station is bound to: it records
    /// nothing until enrolled at another.
    CheckpointDisabled,
    /// The venue is at its capacity (限流): the entry is held, nothing recorded, until someone
    /// leaves by any gate.
    CapacityFull,
    // The gate rule (core's `gate::Reason`).
    RedCode,
    YellowCode,
    Fever,
    ImplausibleTemperature,
    NatPositive,
    NatPending,
    NatMissing,
    NatTooOld,
    CodeTooOld,
    PaperCodeTooOld,
    AlreadyInside,
    NotInside,
}

/// What a scanned text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    HealthCode,
    VenueCode,
    #[default]
    Unknown,
}

/// A health code's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeColor {
    Green,
    Yellow,
    Red,
}

/// A nucleic-acid test result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NatOutcome {
    Negative,
    Positive,
    Pending,
}

/// Which way a checkpoint counts people: 进 or 出.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Entry,
    Exit,
}

/// What a proxy (亲情代登记) is to the person registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Parent,
    Child,
    Spouse,
    Grandparent,
    Grandchild,
    Sibling,
    Other,
}

impl Relation {
    /// Every relation, in the order the form offers them.
    pub const ALL: [Relation; 7] = [
        Relation::Parent,
        Relation::Child,
        Relation::Spouse,
        Relation::Grandparent,
        Relation::Grandchild,
        Relation::Sibling,
        Relation::Other,
    ];
}

/// Why an ID number was refused (core's ID-number rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdProblem {
    Length,
    Character,
    Region,
    BirthDate,
    BirthDateFuture,
    BirthDateTooOld,
    CheckDigit,
}

/// A field of the manual registration form that needs correcting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManualField {
    Name,
    Relation,
    ProxyName,
    ProxyCode,
}

/// Why the last sync round failed, as the status bar explains it. The server's own refusals that
/// the station knows are named; any other is `ServerRefused` with its code in the status detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncProblem {
    NoServer,
    NotEnrolled,
    Offline,
    BadAnswer,
    TrustInvalid,
    Storage,
    Internal,
    UnknownDevice,
    DeviceRevoked,
    ClockSkew,
    ServerUnavailable,
    ServerRefused,
    /// Enrolled; waiting for the venue administrator's approval (records are kept meanwhile).
    DevicePending,
    /// An answer failed verification: altered, replayed or forged between station and server.
    Untrusted,
}
