//! What the shell and the pages share, kept apart from both so that imports point one way
//! (app → pages → shared): the kiosk-mode flag in context and the error banner.

use leptos::prelude::*;
use venuecode_ipc::IpcError;

use crate::i18n::{ipc_error_key, use_i18n};

/// Kiosk mode (快速打卡): the tablet faces the public; navigation is hidden until an inspector
/// enters the PIN.
#[derive(Debug, Clone, Copy)]
pub struct Kiosk(pub RwSignal<bool>);

/// A failure shown in the user's language, with the English detail for support.
#[component]
pub fn ErrorBanner(err: IpcError) -> impl IntoView {
    let i18n = use_i18n();
    let detail = err.detail.clone();
    let key = ipc_error_key(err.code, &err.detail);
    view! {
        <div class="error" role="alert" title=detail>
            {move || i18n.t(key)}
        </div>
    }
}

/// Who uses the app now: the station (device key), a signed-in person, or nobody chosen yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Reading the kept session and binding.
    Starting,
    /// The role choice (检测 / 登录).
    Choose,
    Station,
    Person,
}

/// The mode and the signed-in person, in context.
#[derive(Debug, Clone, Copy)]
pub struct Who {
    pub mode: RwSignal<Mode>,
    pub me: RwSignal<Option<venuecode_ipc::Me>>,
}

/// "Offline · shown as loaded N min ago" above a screen read from the server, when it came from
/// what was kept.
#[component]
pub fn OfflineAge(offline: bool, age_secs: i64) -> impl IntoView {
    let i18n = use_i18n();
    offline.then(|| {
        let (n, unit) = match age_secs {
            s if s < 60 => (s, crate::i18n::Key::AgoSeconds),
            s if s < 3600 => (s / 60, crate::i18n::Key::AgoMinutes),
            s if s < 86_400 => (s / 3600, crate::i18n::Key::AgoHours),
            s => (s / 86_400, crate::i18n::Key::AgoDays),
        };
        view! {
            <div class="offline-age" id="offline-age" role="status">
                {move || i18n.t(crate::i18n::Key::OfflineAge)} " · "
                {n} {move || i18n.t(unit)}
            </div>
        }
    })
}
