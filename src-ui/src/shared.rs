//! What the shell and the pages share, kept apart from both so that imports point one way
//! (app → pages → shared): the kiosk-mode flag in context and the error banner.

use leptos::prelude::*;
use venuecode_ipc::IpcError;

use crate::i18n::{error_key, use_i18n};

/// Kiosk mode (快速打卡): the tablet faces the public; navigation is hidden until an inspector
/// enters the PIN.
#[derive(Debug, Clone, Copy)]
pub struct Kiosk(pub RwSignal<bool>);

/// A failure shown in the user's language, with the English detail for support.
#[component]
pub fn ErrorBanner(err: IpcError) -> impl IntoView {
    let i18n = use_i18n();
    let detail = err.detail.clone();
    view! {
        <div class="error" role="alert" title=detail>
            {move || i18n.t(error_key(err.code))}
        </div>
    }
}
