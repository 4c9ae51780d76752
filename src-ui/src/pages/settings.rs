//! Settings: the UI language (persisted by the app), the station's enrolment and the venues it
//! serves, its options, the camera (`camera_settings`), and the About facts.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    AppInfo, AppInfoRequest, CheckpointChoice, EnrolStation, GetSettings, IpcError, Language,
    SetLanguage, SetStationOptions, StationBinding, StationCheckpoints,
};

use crate::api::invoke;
use crate::i18n::{use_i18n, Key};
use crate::pages::station_venues::StationVenuesCard;
use crate::shared::ErrorBanner;

/// The Settings page.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let i18n = use_i18n();
    let error = RwSignal::new(None::<IpcError>);
    let venues_reload = RwSignal::new(0u32);
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
        <Enrolment error=error reload=venues_reload />
        <StationVenuesCard error=error reload=venues_reload />
        <StationOptions error=error />
        <crate::pages::camera_settings::CameraCard error=error />
        <About />
    }
}

/// Enrolment with the server: the venue's 6-digit declaration code and the inspector's name;
/// then the checkpoint, chosen from the venue's list (the first open one until chosen).
#[component]
fn Enrolment(error: RwSignal<Option<IpcError>>, reload: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let code = RwSignal::new(String::new());
    let inspector = RwSignal::new(String::new());
    let server = RwSignal::new(String::new());
    let done = RwSignal::new(None::<StationBinding>);
    let doors = RwSignal::new(Vec::<CheckpointChoice>::new());
    let busy = RwSignal::new(false);
    spawn_local(async move {
        if let Ok(info) = invoke(&AppInfoRequest {}).await {
            server.set(info.server_url.unwrap_or_default());
        }
    });
    let enrol = move |checkpoint_id: Option<String>| {
        let req = EnrolStation {
            server_url: Some(server.get_untracked()),
            declaration_code: code.get_untracked(),
            inspector: inspector.get_untracked(),
            checkpoint_id,
        };
        busy.set(true);
        spawn_local(async move {
            match invoke(&req).await {
                Ok(b) => {
                    error.set(None);
                    done.set(Some(b));
                    reload.update(|n| *n += 1);
                    if let Ok(d) = invoke(&StationCheckpoints {}).await {
                        doors.set(d);
                    }
                }
                Err(e) => {
                    done.set(None);
                    error.set(Some(e));
                }
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card options" id="enrolment">
            <h2>{move || i18n.t(Key::EnrolTitle)}</h2>
            <label>
                <span>{move || i18n.t(Key::EnrolCode)}</span>
                <input id="enrol-code" type="text" inputmode="numeric" maxlength="6" prop:value=move || code.get()
                    on:input=move |e| code.set(event_target_value(&e)) />
            </label>
            <label>
                <span>{move || i18n.t(Key::EnrolInspector)}</span>
                <input id="enrol-inspector" type="text" prop:value=move || inspector.get()
                    on:input=move |e| inspector.set(event_target_value(&e)) />
            </label>
            <label>
                <span>{move || i18n.t(Key::EnrolServer)}</span>
                <input id="enrol-server" type="text" prop:value=move || server.get()
                    on:input=move |e| server.set(event_target_value(&e)) />
            </label>
            <div class="lang-buttons">
                <button id="enrol-submit" class="primary" disabled=move || busy.get() on:click=move |_| enrol(None)>
                    {move || i18n.t(Key::EnrolSubmit)}
                </button>
                {move || done.get().map(|b| {
                    let door = doors.get().into_iter().find(|d| d.checkpoint_id == b.checkpoint_id)
                        .map(|d| d.name).unwrap_or(b.checkpoint_id.clone());
                    view! {
                        <span id="enrol-result">{move || i18n.t(Key::EnrolDone)}{b.venue_name.clone()}" · "{door}" · "{b.inspector.clone()}</span>
                    }
                })}
            </div>
            {move || done.get().filter(|_| doors.get().iter().filter(|d| !d.disabled).count() > 1).map(|b| view! {
                <div class="checkpoint-choice" id="enrol-checkpoints">
                    <span>{move || i18n.t(Key::BindChoose)}</span>
                    <div class="lang-buttons">
                        {doors.get().into_iter().filter(|d| !d.disabled).map(|d| {
                            let id = d.checkpoint_id.clone();
                            let selected = d.checkpoint_id == b.checkpoint_id;
                            view! {
                                <button id=format!("enrol-cp-{}", d.name) class:selected=selected disabled=move || busy.get()
                                    on:click=move |_| enrol(Some(id.clone()))>{d.name.clone()}</button>
                            }
                        }).collect_view()}
                    </div>
                </div>
            })}
        </section>
    }
}

/// Station options: how long a verdict stays, tones, presence auto-close.
#[component]
fn StationOptions(error: RwSignal<Option<IpcError>>) -> impl IntoView {
    let i18n = use_i18n();
    let clear = RwSignal::new(String::new());
    let sound = RwSignal::new(false);
    let hours = RwSignal::new(String::new());
    let saved = RwSignal::new(false);
    spawn_local(async move {
        if let Ok(s) = invoke(&GetSettings {}).await {
            clear.set(s.clear_after_secs.to_string());
            sound.set(s.sound);
            hours.set(s.auto_close_hours.to_string());
        }
    });
    let save = move |_| {
        let req = SetStationOptions {
            clear_after_secs: clear.get_untracked().trim().parse().unwrap_or(0),
            sound: sound.get_untracked(),
            auto_close_hours: hours.get_untracked().trim().parse().unwrap_or(0),
        };
        spawn_local(async move {
            match invoke(&req).await {
                Ok(_) => {
                    error.set(None);
                    saved.set(true);
                }
                Err(e) => {
                    saved.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    view! {
        <section class="card options" id="station-options">
            <h2>{move || i18n.t(Key::StationOptions)}</h2>
            <label>
                <span>{move || i18n.t(Key::OptClear)}</span>
                <input id="opt-clear" type="text" inputmode="numeric" prop:value=move || clear.get()
                    on:input=move |e| { clear.set(event_target_value(&e)); saved.set(false); } />
            </label>
            <label>
                <span>{move || i18n.t(Key::OptAutoClose)}</span>
                <input id="opt-autoclose" type="text" inputmode="numeric" prop:value=move || hours.get()
                    on:input=move |e| { hours.set(event_target_value(&e)); saved.set(false); } />
            </label>
            <div class="lang-buttons">
                <span>{move || i18n.t(Key::OptSound)}</span>
                <button id="opt-sound" class:selected=move || sound.get() on:click=move |_| { sound.update(|v| *v = !*v); saved.set(false); }>
                    {move || if sound.get() { i18n.t(Key::On) } else { i18n.t(Key::Off) }}
                </button>
                <button id="opt-save" on:click=save>{move || i18n.t(Key::Save)}</button>
                {move || saved.get().then(|| view! { <span id="opt-saved">{move || i18n.t(Key::Saved)}</span> })}
            </div>
        </section>
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
