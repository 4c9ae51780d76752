//! The one catalogue of user-facing text, zh-CN first, English second.
//!
//! Invariant: every [`Key`] has text in every language. The two `match`es (one file per language: `zh_cn.rs`, `en.rs`) are exhaustive, so
//! a key missing in one language is a compile error, not a blank on screen. Components never hold
//! literal user-facing strings; they ask [`I18n::t`].

mod en;
mod keys;
mod zh_cn;

pub use keys::Key;

use leptos::prelude::*;
use venuecode_ipc::{ErrorCode, IdProblem, Language, Reason, Relation};

/// Text of `key` in `lang`.
pub fn text(lang: Language, key: Key) -> &'static str {
    match lang {
        Language::ZhCn => zh_cn::text(key),
        Language::En => en::text(key),
    }
}

/// The i18n key for a wire error code.
pub fn error_key(code: ErrorCode) -> Key {
    match code {
        ErrorCode::Storage => Key::ErrStorage,
        ErrorCode::BadRequest => Key::ErrBadRequest,
        ErrorCode::Bridge => Key::ErrBridge,
        ErrorCode::Internal => Key::ErrInternal,
        ErrorCode::NoCamera => Key::ErrNoCamera,
        ErrorCode::CameraDenied => Key::ErrCameraDenied,
        ErrorCode::CameraBusy => Key::ErrCameraBusy,
        ErrorCode::CameraUnplugged => Key::ErrCameraUnplugged,
        ErrorCode::SourceUnavailable => Key::ErrSource,
        ErrorCode::NotBound => Key::ErrNotBound,
        ErrorCode::Invalid => Key::ErrInvalid,
        ErrorCode::Offline => Key::ErrOffline,
        ErrorCode::UnknownDeclaration => Key::ErrUnknownDeclaration,
        ErrorCode::ServerRefused => Key::ErrServerRefused,
        ErrorCode::ScanStopped => Key::ErrScanStopped,
        ErrorCode::NotSignedIn => Key::ErrNotSignedIn,
        ErrorCode::Forbidden => Key::ErrForbidden,
        ErrorCode::SignInRefused => Key::ErrSignInRefused,
        ErrorCode::NoFont => Key::ErrNoFont,
        ErrorCode::CannotWrite => Key::ErrCannotWrite,
        ErrorCode::BadTemplate => Key::ErrBadTemplate,
        ErrorCode::NoDoorCode => Key::ErrNoDoorCode,
        ErrorCode::KioskOn => Key::ErrKioskOn,
        ErrorCode::KioskLocked => Key::ErrKioskLocked,
    }
}

/// "3 分钟前" / "3 min ago": an age in the largest whole unit.
pub fn age(i18n: I18n, secs: i64) -> String {
    let (n, unit) = match secs {
        s if s < 60 => (s, Key::AgoSeconds),
        s if s < 3600 => (s / 60, Key::AgoMinutes),
        s if s < 86400 => (s / 3600, Key::AgoHours),
        s => (s / 86400, Key::AgoDays),
    };
    format!("{n}{}", i18n.t(unit))
}

/// The i18n key of a reason (code checks, station state, gate rules): exhaustive, so a new
/// reason does not compile until it has text.
pub fn reason_key(r: Reason) -> Key {
    match r {
        Reason::Expired => Key::ReasonExpired,
        // A key id the trust list does not have, for an issuer it knows: signed by someone else.
        Reason::Forged | Reason::UnknownKeyId => Key::ReasonForged,
        Reason::Revoked | Reason::RevokedSubject => Key::ReasonRevoked,
        Reason::UnknownIssuer | Reason::KeyNotValid => Key::ReasonUnknownIssuer,
        Reason::NoTrustList | Reason::TrustListInvalid => Key::ReasonNoTrust,
        Reason::StationStale => Key::ReasonStationStale,
        Reason::CapacityFull => Key::ReasonCapacityFull,
        Reason::CheckpointDisabled => Key::CheckpointDisabledBanner,
        Reason::TrustListExpired => Key::ReasonTrustExpired,
        Reason::Truncated | Reason::Encoding | Reason::Malformed => Key::ReasonDamaged,
        Reason::NotYetValid => Key::ReasonNotYetValid,
        Reason::UnsupportedAlgorithm => Key::ReasonOther,
        Reason::RedCode => Key::RRedCode,
        Reason::YellowCode => Key::RYellowCode,
        Reason::Fever => Key::RFever,
        Reason::ImplausibleTemperature => Key::RImplausible,
        Reason::NatPositive => Key::RNatPositive,
        Reason::NatPending => Key::RNatPending,
        Reason::NatMissing => Key::RNatMissing,
        Reason::NatTooOld => Key::RNatTooOld,
        Reason::CodeTooOld => Key::RCodeTooOld,
        Reason::PaperCodeTooOld => Key::RPaperCodeTooOld,
        Reason::AlreadyInside => Key::AlreadyInside,
        Reason::NotInside => Key::RNotInside,
        Reason::NotACode => Key::KindUnknown,
    }
}

/// The i18n key of an ID-number rule failure.
pub fn id_error_key(p: IdProblem) -> Key {
    match p {
        IdProblem::Length => Key::IdLength,
        IdProblem::Character => Key::IdCharacter,
        IdProblem::Region => Key::IdRegion,
        IdProblem::BirthDate => Key::IdBirth,
        IdProblem::BirthDateFuture => Key::IdBirthFuture,
        IdProblem::BirthDateTooOld => Key::IdBirthOld,
        IdProblem::CheckDigit => Key::IdCheck,
    }
}

/// The i18n key of a relation.
pub fn relation_key(r: Relation) -> Key {
    match r {
        Relation::Parent => Key::RelParent,
        Relation::Child => Key::RelChild,
        Relation::Spouse => Key::RelSpouse,
        Relation::Grandparent => Key::RelGrandparent,
        Relation::Grandchild => Key::RelGrandchild,
        Relation::Sibling => Key::RelSibling,
        Relation::Other => Key::RelOther,
    }
}

/// The text of an error: for a server refusal with a code people meet in their work (its
/// `detail` starts with `code:`), that code's own text; otherwise the error code's.
pub fn ipc_error_key(code: ErrorCode, detail: &str) -> Key {
    if code == ErrorCode::ServerRefused {
        let server = detail.split(':').next().unwrap_or("").trim();
        let specific = match server {
            "duplicate_application" => Some(Key::SrvDuplicate),
            "checkpoint_name_taken" => Some(Key::SrvCheckpointTaken),
            "not_a_venue_admin" => Some(Key::SrvNotAdmin),
            "venues_per_admin" => Some(Key::SrvVenuesPerAdmin),
            "admins_per_venue" => Some(Key::SrvAdminsPerVenue),
            "not_pending" => Some(Key::SrvNotPending),
            "bad_reason" => Some(Key::SrvBadReason),
            _ => None,
        };
        if let Some(k) = specific {
            return k;
        }
    }
    error_key(code)
}

/// The text of a form problem (the server's stable codes; an unknown code reads "not valid").
pub fn problem_key(code: &str) -> Key {
    match code {
        "required" => Key::PRequired,
        "too_short" => Key::PTooShort,
        "too_long" => Key::PTooLong,
        "control_characters" => Key::PControl,
        "credit_code_length" => Key::PCreditLength,
        "credit_code_character" => Key::PCreditChar,
        "credit_code_division" => Key::PCreditDivision,
        "credit_code_check" => Key::PCreditCheck,
        "unknown_category" => Key::PCategory,
        "unknown_place_type" => Key::PPlaceType,
        "place_type_category" => Key::PPlaceTypeCategory,
        "unknown_region" => Key::PRegion,
        "bad_point" => Key::PPoint,
        "bad_phone" => Key::PPhone,
        _ => Key::PInvalid,
    }
}

/// The name of a venue category by its code.
pub fn category_key(code: &str) -> Option<Key> {
    Some(match code {
        "01" => Key::Cat01,
        "02" => Key::Cat02,
        "03" => Key::Cat03,
        "04" => Key::Cat04,
        "05" => Key::Cat05,
        "06" => Key::Cat06,
        "99" => Key::Cat99,
        _ => return None,
    })
}

/// The categories in display order.
pub const CATEGORIES: [&str; 7] = ["01", "02", "03", "04", "05", "06", "99"];

/// The text of a step in a venue's history (the server's stable action names).
pub fn history_key(action: &str) -> Key {
    match action {
        "applied" => Key::HApplied,
        "approved" => Key::HApproved,
        "rejected" => Key::HRejected,
        "checkpoint_added" => Key::HCheckpointAdded,
        "checkpoint_changed" => Key::HCheckpointChanged,
        "device_approved" => Key::HDeviceApproved,
        "amended" => Key::HAmended,
        "handed_over" => Key::HHandedOver,
        "closed" => Key::HClosed,
        _ => Key::HOther,
    }
}

/// The text of a venue status.
pub fn status_key(status: &str) -> Key {
    match status {
        "approved" => Key::StatusApproved,
        "rejected" => Key::StatusRejected,
        "closed" => Key::StatusClosed,
        _ => Key::StatusPending,
    }
}

/// The current language as shared state; provided once at the root.
#[derive(Debug, Clone, Copy)]
pub struct I18n {
    pub lang: RwSignal<Language>,
}

impl I18n {
    /// Reactive lookup: re-runs whoever calls it when the language changes.
    pub fn t(&self, key: Key) -> &'static str {
        text(self.lang.get(), key)
    }
}

/// The i18n state from context.
pub fn use_i18n() -> I18n {
    expect_context::<I18n>()
}
