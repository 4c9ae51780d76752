//! The app shell: the navigation frame with the five work areas and the current page.
//!
//! Invariant: the shell owns which page is shown and the language; pages get both from context.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{GetSettings, IpcError, Language};

use crate::api::invoke;
use crate::i18n::{I18n, Key};
use crate::pages;
use crate::shared::{ErrorBanner, Kiosk};

/// The five work areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Station,
    Venues,
    Review,
    Tracing,
    Settings,
}

impl Page {
    const ALL: [Page; 5] = [
        Page::Station,
        Page::Venues,
        Page::Review,
        Page::Tracing,
        Page::Settings,
    ];

    fn key(self) -> Key {
        match self {
            Page::Station => Key::NavStation,
            Page::Venues => Key::NavVenues,
            Page::Review => Key::NavReview,
            Page::Tracing => Key::NavTracing,
            Page::Settings => Key::NavSettings,
        }
    }

    /// Stable id used by tests and styles.
    fn id(self) -> &'static str {
        match self {
            Page::Station => "station",
            Page::Venues => "venues",
            Page::Review => "review",
            Page::Tracing => "tracing",
            Page::Settings => "settings",
        }
    }
}

/// Sets `<html lang>` so the webview picks CJK or Latin glyph forms correctly.
pub fn apply_document_language(lang: Language) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", lang.tag());
    }
}

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    let i18n = I18n {
        lang: RwSignal::new(Language::default()),
    };
    provide_context(i18n);
    let page = RwSignal::new(Page::Station);
    let kiosk = Kiosk(RwSignal::new(false));
    provide_context(kiosk);
    let load_error = RwSignal::new(None::<IpcError>);
    let ready = RwSignal::new(false);

    spawn_local(async move {
        match invoke(&GetSettings {}).await {
            Ok(settings) => i18n.lang.set(settings.language),
            Err(err) => load_error.set(Some(err)),
        }
        ready.set(true);
    });
    Effect::new(move |_| apply_document_language(i18n.lang.get()));

    view! {
        <div class="shell" class:kiosk=move || kiosk.0.get() data-ready=move || ready.get().to_string()>
            <nav class="nav" class:hidden=move || kiosk.0.get()>
                <div class="brand" id="brand">{move || i18n.t(Key::Brand)}</div>
                {Page::ALL
                    .into_iter()
                    .map(|p| {
                        view! {
                            <button
                                id=format!("nav-{}", p.id())
                                class:active=move || page.get() == p
                                on:click=move |_| page.set(p)
                            >
                                {move || i18n.t(p.key())}
                            </button>
                        }
                    })
                    .collect_view()}
            </nav>
            <main class="main" id=move || format!("page-{}", page.get().id())>
                {move || load_error.get().map(|e| view! { <ErrorBanner err=e /> })}
                {move || match page.get() {
                    Page::Station => view! { <pages::station::StationPage /> }.into_any(),
                    Page::Venues => view! { <pages::placeholder::Placeholder
                        title=Key::NavVenues intro=Key::VenuesIntro next=Key::VenuesNext /> }.into_any(),
                    Page::Review => view! { <pages::placeholder::Placeholder
                        title=Key::NavReview intro=Key::ReviewIntro next=Key::ReviewNext /> }.into_any(),
                    Page::Tracing => view! { <pages::placeholder::Placeholder
                        title=Key::NavTracing intro=Key::TracingIntro next=Key::TracingNext /> }.into_any(),
                    Page::Settings => view! { <pages::settings::SettingsPage /> }.into_any(),
                }}
            </main>
        </div>
    }
}
