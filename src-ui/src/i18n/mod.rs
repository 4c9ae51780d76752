//! The one catalogue of user-facing text, zh-CN first, English second.
//!
//! Invariant: every [`Key`] has text in every language. The two `match`es (one file per language: `zh_cn.rs`, `en.rs`) are exhaustive, so
//! a key missing in one language is a compile error, not a blank on screen. Components never hold
//! literal user-facing strings; they ask [`I18n::t`].

mod en;
mod zh_cn;

use leptos::prelude::*;
use venuecode_ipc::{ErrorCode, Language};

/// A piece of user-facing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Brand,
    ProxyScan,
    ProxyScanWaiting,
    ProxyScanned,
    FieldProxyCode,
    EnrolTitle,
    EnrolCode,
    EnrolInspector,
    EnrolCheckpoint,
    EnrolServer,
    EnrolSubmit,
    EnrolDone,
    SyncOnline,
    SyncOffline,
    SyncWaiting,
    SyncLast,
    SyncNever,
    SyncTrust,
    SyncTrustStale,
    SyncNotEnrolled,
    SyncRevoked,
    SyncRejected,
    SyncNow,
    ClockBanner,
    CallNumber,
    AgoSeconds,
    AgoMinutes,
    AgoHours,
    AgoDays,
    ErrOffline,
    ErrUnknownDeclaration,
    ErrServerRefused,
    ErrScanStopped,
    ScanRestart,
    ScanStoppedTitle,
    NavStation,
    NavVenues,
    NavReview,
    NavTracing,
    NavSettings,
    VenuesIntro,
    VenuesNext,
    ReviewIntro,
    ReviewNext,
    TracingIntro,
    TracingNext,
    ComingSoon,
    SettingsLanguage,
    LanguageZh,
    LanguageEn,
    SettingsAbout,
    AboutVersion,
    AboutCommit,
    AboutDataDir,
    AboutServer,
    AboutNoServer,
    Loading,
    ErrStorage,
    ErrBadRequest,
    ErrBridge,
    ErrInternal,
    SourceCamera,
    SourceFolder,
    SourceDemo,
    FolderPath,
    ScanStart,
    ScanStop,
    ScanIdle,
    ErrNoCamera,
    ErrSource,
    KindUnknown,
    ColorGreen,
    ColorYellow,
    ColorRed,
    ReasonExpired,
    ReasonForged,
    ReasonRevoked,
    ReasonUnknownIssuer,
    ReasonNoTrust,
    ReasonDamaged,
    ReasonOther,
    ViaScanner,
    ViaCamera,
    BindTitle,
    BindEdit,
    VenueId,
    VenueName,
    Checkpoint,
    Inspector,
    DirEntry,
    DirExit,
    Save,
    TempNormal,
    TempFever,
    Celsius,
    Pass,
    Refuse,
    AlreadyInside,
    CountInside,
    CountEntries,
    CountRefusals,
    CountFevers,
    RRedCode,
    RYellowCode,
    RFever,
    RImplausible,
    RNatPositive,
    RNatPending,
    RNatMissing,
    RNatTooOld,
    RCodeTooOld,
    RNotInside,
    AlertInstructions,
    ErrNotBound,
    ErrInvalid,
    NatNegative,
    NatPositive,
    NatPending,
    HoursAgo,
    Since,
    ManualOpen,
    ManualTitle,
    IdNumber,
    PersonName,
    PhoneOptional,
    ProxyToggle,
    ProxyName,
    ProxyPhone,
    ProxyIs,
    RelParent,
    RelChild,
    RelSpouse,
    RelGrandparent,
    RelGrandchild,
    RelSibling,
    RelOther,
    Register,
    IdLength,
    IdCharacter,
    IdRegion,
    IdBirth,
    IdBirthFuture,
    IdBirthOld,
    IdCheck,
    FieldName,
    FieldProxyName,
    FieldRelation,
    ViaManual,
    TodayList,
    ManualBadge,
    VouchedBy,
    Close,
    KioskEnter,
    KioskPinNew,
    KioskPrompt,
    KioskExit,
    KioskPinWrong,
    Confirm,
    StationOptions,
    OptClear,
    OptSound,
    OptAutoClose,
    On,
    Off,
    Saved,
}

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
        ErrorCode::SourceUnavailable => Key::ErrSource,
        ErrorCode::NotBound => Key::ErrNotBound,
        ErrorCode::Invalid => Key::ErrInvalid,
        ErrorCode::Offline => Key::ErrOffline,
        ErrorCode::UnknownDeclaration => Key::ErrUnknownDeclaration,
        ErrorCode::ServerRefused => Key::ErrServerRefused,
        ErrorCode::ScanStopped => Key::ErrScanStopped,
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

/// The i18n key explaining a code check's error code.
pub fn reason_key(code: &str) -> Key {
    match code {
        "expired" => Key::ReasonExpired,
        // A key id the trust list does not have, for an issuer it knows: signed by someone else.
        "forged" | "unknown_key_id" => Key::ReasonForged,
        "revoked" | "revoked_subject" => Key::ReasonRevoked,
        "unknown_issuer" | "key_not_valid" => Key::ReasonUnknownIssuer,
        "no_trust_list" | "trust_list_invalid" => Key::ReasonNoTrust,
        "truncated" | "encoding" | "malformed" => Key::ReasonDamaged,
        "red_code" => Key::RRedCode,
        "yellow_code" => Key::RYellowCode,
        "fever" => Key::RFever,
        "implausible_temperature" => Key::RImplausible,
        "nat_positive" => Key::RNatPositive,
        "nat_pending" => Key::RNatPending,
        "nat_missing" => Key::RNatMissing,
        "nat_too_old" => Key::RNatTooOld,
        "code_too_old" => Key::RCodeTooOld,
        "already_inside" => Key::AlreadyInside,
        "not_inside" => Key::RNotInside,
        "not_a_code" => Key::KindUnknown,
        _ => Key::ReasonOther,
    }
}

/// The i18n key for an ID-number rule failure code.
pub fn id_error_key(code: &str) -> Key {
    match code {
        "length" => Key::IdLength,
        "character" => Key::IdCharacter,
        "region" => Key::IdRegion,
        "birth_date_future" => Key::IdBirthFuture,
        "birth_date_too_old" => Key::IdBirthOld,
        "check_digit" => Key::IdCheck,
        _ => Key::IdBirth,
    }
}

/// The i18n key for a relation's wire name.
pub fn relation_key(code: &str) -> Key {
    match code {
        "parent" => Key::RelParent,
        "child" => Key::RelChild,
        "spouse" => Key::RelSpouse,
        "grandparent" => Key::RelGrandparent,
        "grandchild" => Key::RelGrandchild,
        "sibling" => Key::RelSibling,
        _ => Key::RelOther,
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
