//! The one catalogue of user-facing text, zh-CN first, English second.
//!
//! Invariant: every [`Key`] has text in every language. The two `match`es below are exhaustive, so
//! a key missing in one language is a compile error, not a blank on screen. Components never hold
//! literal user-facing strings; they ask [`I18n::t`].

use leptos::prelude::*;
use venuecode_ipc::{ErrorCode, Language};

/// A piece of user-facing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Brand,
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
    ScanWaiting,
    ScanIdle,
    ErrNoCamera,
    ErrSource,
    LastCode,
    KindHealth,
    KindVenue,
    KindUnknown,
    Verified,
    NotVerified,
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
}

fn zh_cn(key: Key) -> &'static str {
    match key {
        Key::Brand => "场所码",
        Key::NavStation => "检测",
        Key::NavVenues => "场所",
        Key::NavReview => "审核",
        Key::NavTracing => "流调",
        Key::NavSettings => "设置",
        Key::VenuesIntro => "申领场所码、添加出入口、邀请检测员、打印场所码海报、查看统计。",
        Key::VenuesNext => "场所申请与场所码海报将在这里管理。",
        Key::ReviewIntro => "社区审核员审核场所申请，审核通过的场所才能获得场所码。",
        Key::ReviewNext => "待审核的场所申请将在这里列出。",
        Key::TracingIntro => "疾控流调：查询某人到过哪些场所，以及同一时间在场的人员。",
        Key::TracingNext => "时空交集查询将在这里进行。",
        Key::ComingSoon => "即将推出",
        Key::SettingsLanguage => "界面语言",
        Key::LanguageZh => "简体中文",
        Key::LanguageEn => "English",
        Key::SettingsAbout => "关于",
        Key::AboutVersion => "版本",
        Key::AboutCommit => "构建提交",
        Key::AboutDataDir => "数据目录",
        Key::AboutServer => "中心服务器",
        Key::AboutNoServer => "未配置（离线工作）",
        Key::Loading => "加载中…",
        Key::ErrStorage => "本地数据库无法读写，请检查磁盘空间后重启应用。",
        Key::ErrBadRequest => "请求无法识别，请更新应用。",
        Key::ErrBridge => "界面与应用通信失败，请重启应用。",
        Key::ErrInternal => "发生内部错误，请重启应用；如反复出现请联系技术支持。",
        Key::SourceCamera => "摄像头",
        Key::SourceFolder => "图片文件夹",
        Key::SourceDemo => "演示画面",
        Key::FolderPath => "文件夹路径",
        Key::ScanStart => "开始扫码",
        Key::ScanStop => "停止",
        Key::ScanWaiting => "请出示健康码",
        Key::ScanIdle => "选择画面来源后开始扫码；也可直接使用 USB 扫码枪。",
        Key::ErrNoCamera => "未检测到摄像头。请改用图片文件夹或演示画面，或连接 USB 扫码枪。",
        Key::ErrSource => "无法读取所选画面来源，请检查路径。",
        Key::LastCode => "最近扫码",
        Key::KindHealth => "健康码",
        Key::KindVenue => "场所码",
        Key::KindUnknown => "不是健康码",
        Key::Verified => "验证通过",
        Key::NotVerified => "验证未通过",
        Key::ColorGreen => "绿码",
        Key::ColorYellow => "黄码",
        Key::ColorRed => "红码",
        Key::ReasonExpired => "健康码已过期，请刷新后重新出示",
        Key::ReasonForged => "健康码无效：已被篡改或伪造",
        Key::ReasonRevoked => "健康码已被撤销",
        Key::ReasonUnknownIssuer => "签发机构不在信任列表中",
        Key::ReasonNoTrust => "本机尚未获得信任列表，无法核验",
        Key::ReasonDamaged => "二维码不完整或已损坏，请重新扫描",
        Key::ReasonOther => "无法核验此二维码",
        Key::ViaScanner => "来自扫码枪",
        Key::ViaCamera => "来自摄像头画面",
    }
}

fn en(key: Key) -> &'static str {
    match key {
        Key::Brand => "VenueCode",
        Key::NavStation => "Station",
        Key::NavVenues => "Venues",
        Key::NavReview => "Review",
        Key::NavTracing => "Tracing",
        Key::NavSettings => "Settings",
        Key::VenuesIntro => "Apply for a venue code, add gates, invite inspectors, print posters, read statistics.",
        Key::VenuesNext => "Venue applications and posters will be managed here.",
        Key::ReviewIntro => "Community reviewers approve venue applications; only approved venues get codes.",
        Key::ReviewNext => "Applications waiting for review will be listed here.",
        Key::TracingIntro => "Health authority tracing: where a person was, and who was there at the same time.",
        Key::TracingNext => "Place-and-time overlap queries will run here.",
        Key::ComingSoon => "Coming soon",
        Key::SettingsLanguage => "Language",
        Key::LanguageZh => "简体中文",
        Key::LanguageEn => "English",
        Key::SettingsAbout => "About",
        Key::AboutVersion => "Version",
        Key::AboutCommit => "Build commit",
        Key::AboutDataDir => "Data directory",
        Key::AboutServer => "Central server",
        Key::AboutNoServer => "not configured (working offline)",
        Key::Loading => "Loading…",
        Key::ErrStorage => "The local database cannot be read or written. Check free disk space, then restart the app.",
        Key::ErrBadRequest => "The request was not understood. Please update the app.",
        Key::ErrBridge => "The screen lost contact with the app. Please restart the app.",
        Key::ErrInternal => "Internal error. Restart the app; if it happens again, contact support.",
        Key::SourceCamera => "Camera",
        Key::SourceFolder => "Image folder",
        Key::SourceDemo => "Demo frames",
        Key::FolderPath => "Folder path",
        Key::ScanStart => "Start scanning",
        Key::ScanStop => "Stop",
        Key::ScanWaiting => "Show your health code",
        Key::ScanIdle => "Choose a source and start; a USB code scanner works at any time.",
        Key::ErrNoCamera => "No camera found. Use an image folder or the demo frames instead, or plug in a USB code scanner.",
        Key::ErrSource => "The chosen source cannot be read. Check the path.",
        Key::LastCode => "Last scan",
        Key::KindHealth => "Health code",
        Key::KindVenue => "Venue code",
        Key::KindUnknown => "Not a health code",
        Key::Verified => "Verified",
        Key::NotVerified => "Not verified",
        Key::ColorGreen => "Green",
        Key::ColorYellow => "Yellow",
        Key::ColorRed => "Red",
        Key::ReasonExpired => "The code has expired: refresh it and show it again",
        Key::ReasonForged => "Invalid code: altered or forged",
        Key::ReasonRevoked => "The code has been revoked",
        Key::ReasonUnknownIssuer => "The issuer is not on the trust list",
        Key::ReasonNoTrust => "This station has no trust list yet and cannot verify",
        Key::ReasonDamaged => "The code is incomplete or damaged: scan again",
        Key::ReasonOther => "This code cannot be verified",
        Key::ViaScanner => "from the USB scanner",
        Key::ViaCamera => "from the camera",
    }
}

/// Text of `key` in `lang`.
pub fn text(lang: Language, key: Key) -> &'static str {
    match lang {
        Language::ZhCn => zh_cn(key),
        Language::En => en(key),
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
    }
}

/// The i18n key explaining a code check's error code.
pub fn reason_key(code: &str) -> Key {
    match code {
        "expired" => Key::ReasonExpired,
        "forged" => Key::ReasonForged,
        "revoked" | "revoked_subject" => Key::ReasonRevoked,
        "unknown_issuer" | "unknown_key_id" | "key_not_valid" => Key::ReasonUnknownIssuer,
        "no_trust_list" | "trust_list_invalid" => Key::ReasonNoTrust,
        "truncated" | "encoding" | "malformed" => Key::ReasonDamaged,
        _ => Key::ReasonOther,
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
