//! Settings: the UI language (persisted by the app) and the About facts.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{AppInfo, AppInfoRequest, IpcError, Language, SetLanguage};

use crate::api::invoke;
use crate::app::ErrorBanner;
use crate::i18n::{use_i18n, Key};

/// The Settings page.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let i18n = use_i18n();
    let error = RwSignal::new(None::<IpcError>);
    let choose = move |lang: Language| {
        spawn_local(async move {
            match invoke(&SetLanguage { language: lang }).await {
                Ok(settings) => {
                    error.set(None);
                    i18n.lang.set(settings.language);
                }
                Err(err) => error.set(Some(err)),
            }
        });
    };
    view! {
        <h1 id="page-title">{move || i18n.t(Key::NavSettings)}</h1>
        {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
        <section class="card">
            <h2>{move || i18n.t(Key::SettingsLanguage)}</h2>
            <div class="lang-buttons">
                <button
                    id="lang-zh"
                    class:selected=move || i18n.lang.get() == Language::ZhCn
                    on:click=move |_| choose(Language::ZhCn)
                >
                    {move || i18n.t(Key::LanguageZh)}
                </button>
                <button
                    id="lang-en"
                    class:selected=move || i18n.lang.get() == Language::En
                    on:click=move |_| choose(Language::En)
                >
                    {move || i18n.t(Key::LanguageEn)}
                </button>
            </div>
        </section>
        <About />
    }
}

#[component]
fn About() -> impl IntoView {
    let i18n = use_i18n();
    let info = RwSignal::new(None::<Result<AppInfo, IpcError>>);
    spawn_local(async move { info.set(Some(invoke(&AppInfoRequest {}).await)) });
    view! {
        <section class="card" id="about">
            <h2>{move || i18n.t(Key::SettingsAbout)}</h2>
            {move || match info.get() {
                None => view! { <p>{move || i18n.t(Key::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner err=e /> }.into_any(),
                Some(Ok(info)) => {
                    let server = info.server_url.clone();
                    view! {
                        <dl class="facts">
                            <dt>{move || i18n.t(Key::AboutVersion)}</dt>
                            <dd id="about-version">{info.version.clone()}</dd>
                            <dt>{move || i18n.t(Key::AboutCommit)}</dt>
                            <dd id="about-commit">{info.commit.clone()}</dd>
                            <dt>{move || i18n.t(Key::AboutDataDir)}</dt>
                            <dd id="about-data-dir">{info.data_dir.clone()}</dd>
                            <dt>{move || i18n.t(Key::AboutServer)}</dt>
                            <dd id="about-server">
                                {move || server.clone().unwrap_or_else(|| i18n.t(Key::AboutNoServer).to_string())}
                            </dd>
                        </dl>
                    }.into_any()
                }
            }}
        </section>
    }
}
