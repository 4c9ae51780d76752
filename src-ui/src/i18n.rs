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
    StationIntro,
    StationNext,
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
}

fn zh_cn(key: Key) -> &'static str {
    match key {
        Key::Brand => "场所码",
        Key::NavStation => "检测",
        Key::NavVenues => "场所",
        Key::NavReview => "审核",
        Key::NavTracing => "流调",
        Key::NavSettings => "设置",
        Key::StationIntro => "在门岗扫描健康码，核验真伪与状态，记录体温，逢进必扫、逢扫必验。",
        Key::StationNext => "扫码核验、体温登记、手工登记与亲情代登记将在这里进行。",
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
        Key::StationIntro => "Scan health codes at the gate, verify them, record temperature: every entry scanned, every scan verified.",
        Key::StationNext => "Scanning, temperature, manual and family-proxy registration will happen here.",
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
