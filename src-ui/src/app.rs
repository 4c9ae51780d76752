//! The app shell: the navigation frame with the five work areas and the current page.
//!
//! Invariant: the shell owns which page is shown and the language; pages get both from context.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    CountAlerts, GetBinding, GetSettings, IpcError, Language, Me, PersonRole, SignOut, WhoAmI,
};

use crate::api::invoke;
use crate::i18n::{I18n, Key};
use crate::pages;
use crate::shared::{ErrorBanner, Kiosk, Mode, Who};

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
    /// The work areas of a mode: the station's, or a person's by role.
    pub fn areas(mode: Mode, me: Option<&Me>) -> Vec<Page> {
        match (mode, me.map(|m| m.role)) {
            (Mode::Person, Some(PersonRole::VenueAdmin)) => vec![Page::Venues, Page::Settings],
            (Mode::Person, Some(PersonRole::Reviewer)) => {
                vec![Page::Review, Page::Venues, Page::Settings]
            }
            (Mode::Person, Some(PersonRole::Authority)) => {
                vec![Page::Tracing, Page::Venues, Page::Settings]
            }
            (Mode::Person, _) => vec![Page::Settings],
            (Mode::Station, _) => vec![Page::Station, Page::Settings],
            _ => Vec::new(),
        }
    }

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
    let who = Who {
        mode: RwSignal::new(Mode::Starting),
        me: RwSignal::new(None),
    };
    provide_context(who);
    provide_context(page);

    spawn_local(async move {
        match invoke(&GetSettings {}).await {
            Ok(settings) => i18n.lang.set(settings.language),
            Err(err) => load_error.set(Some(err)),
        }
        // A kept session opens on the person's work; a bound station on the gate; else the
        // role choice.
        let me = invoke(&WhoAmI {}).await.ok().flatten();
        let bound = invoke(&GetBinding {}).await.ok().flatten().is_some();
        // Kiosk mode survives a restart (the back end keeps it): straight back to the gate.
        let kiosk_on = invoke(&venuecode_ipc::GetKiosk {})
            .await
            .is_ok_and(|k| k.on);
        if kiosk_on {
            kiosk.0.set(true);
            who.mode.set(Mode::Station);
            ready.set(true);
            return;
        }
        match me {
            Some(me) => {
                who.me.set(Some(me));
                who.mode.set(Mode::Person);
            }
            None if bound => who.mode.set(Mode::Station),
            None => who.mode.set(Mode::Choose),
        }
        ready.set(true);
    });
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = invoke(&SignOut {}).await;
            who.me.set(None);
            who.mode.set(Mode::Choose);
        });
    };
    Effect::new(move |_| apply_document_language(i18n.lang.get()));
    // The 流调 badge: unhandled alerts of the last 7 days, asked every 5 s while an authority is
    // signed in (polling: the app talks to the server only through its commands).
    let alert_count = RwSignal::new(0i64);
    let poll_alerts = move || {
        if who.mode.get_untracked() == Mode::Person
            && who
                .me
                .get_untracked()
                .is_some_and(|m| m.role == PersonRole::Authority)
        {
            spawn_local(async move {
                if let Ok(n) = invoke(&CountAlerts {}).await {
                    alert_count.set(n);
                }
            });
        } else {
            alert_count.set(0);
        }
    };
    Effect::new(move |_| {
        let _ = (who.mode.get(), who.me.get());
        poll_alerts();
    });
    let _ = set_interval_with_handle(poll_alerts, std::time::Duration::from_secs(5));
    // The page is always one of the mode's areas: the first after a change of person or mode.
    Effect::new(move |prev: Option<(Mode, Option<String>)>| {
        let mode = who.mode.get();
        let me = who.me.get();
        let now = (mode, me.as_ref().map(|m| m.username.clone()));
        let areas = Page::areas(mode, me.as_ref());
        let current = page.get_untracked();
        if let Some(first) = areas.first() {
            if prev.as_ref() != Some(&now) || !areas.contains(&current) {
                page.set(*first);
            }
        }
        now
    });

    view! {
        <div class="shell" class:kiosk=move || kiosk.0.get()
            class:bare=move || matches!(who.mode.get(), Mode::Choose | Mode::Starting) data-ready=move || ready.get().to_string()>
            <nav class="nav" class:hidden=move || kiosk.0.get() || matches!(who.mode.get(), Mode::Choose | Mode::Starting)>
                <div class="brand" id="brand">{move || i18n.t(Key::Brand)}</div>
                {move || Page::areas(who.mode.get(), who.me.get().as_ref())
                    .into_iter()
                    .map(|p| {
                        view! {
                            <button
                                id=format!("nav-{}", p.id())
                                class:active=move || page.get() == p
                                on:click=move |_| page.set(p)
                            >
                                {move || i18n.t(p.key())}
                                {(p == Page::Tracing).then(|| view! {
                                    <span class="nav-badge" id="alert-badge" class:hidden=move || alert_count.get() == 0>
                                        {move || alert_count.get()}
                                    </span>
                                })}
                            </button>
                        }
                    })
                    .collect_view()}
                <div class="nav-foot">
                    {move || who.me.get().map(|me| {
                        let role = match me.role {
                            PersonRole::VenueAdmin => Key::RoleVenueAdmin,
                            PersonRole::Reviewer => Key::RoleReviewer,
                            PersonRole::Authority => Key::RoleAuthority,
                            PersonRole::Sysadmin => Key::RoleSysadmin,
                        };
                        view! {
                            <div class="who" id="who">
                                <span id="who-name">{me.display_name.clone()}</span>
                                <span class="role" id="who-role">{move || i18n.t(role)}</span>
                            </div>
                            <button id="sign-out" on:click=sign_out>{move || i18n.t(Key::SignOut)}</button>
                        }
                    })}
                    {move || (who.mode.get() == Mode::Station).then(|| view! {
                        <button id="switch-role" on:click=move |_| who.mode.set(Mode::Choose)>
                            {move || i18n.t(Key::SwitchRole)}
                        </button>
                    })}
                </div>
            </nav>
            <main class="main" id=move || match who.mode.get() {
                Mode::Choose | Mode::Starting => "page-start".to_string(),
                _ => format!("page-{}", page.get().id()),
            }>
                {move || load_error.get().map(|e| view! { <ErrorBanner err=e /> })}
                {move || match who.mode.get() {
                    Mode::Starting => view! { <p class="loading">{move || i18n.t(Key::Loading)}</p> }.into_any(),
                    Mode::Choose => view! { <pages::start::StartPage /> }.into_any(),
                    _ => view! { <CurrentPage page=page /> }.into_any(),
                }}
            </main>
        </div>
    }
}

/// The page of the current work area.
#[component]
fn CurrentPage(page: RwSignal<Page>) -> impl IntoView {
    move || match page.get() {
        Page::Station => view! { <pages::station::StationPage /> }.into_any(),
        Page::Venues => view! { <pages::venues::VenuesPage /> }.into_any(),
        Page::Review => view! { <pages::review::ReviewPage /> }.into_any(),
        Page::Tracing => view! { <pages::tracing::TracingPage /> }.into_any(),
        Page::Settings => view! { <pages::settings::SettingsPage /> }.into_any(),
    }
}
