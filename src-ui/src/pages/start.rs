//! The role choice the app opens on (检测 / 登录) and the sign-in form; the language can be
//! chosen here too, before anything else.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{IpcError, Language, SetLanguage, SignIn};

use crate::api::invoke;
use crate::i18n::{use_i18n, Key};
use crate::shared::{ErrorBanner, Mode, Who};

/// The start page.
#[component]
pub fn StartPage() -> impl IntoView {
    let i18n = use_i18n();
    let who = expect_context::<Who>();
    let signing_in = RwSignal::new(false);
    let error = RwSignal::new(None::<IpcError>);
    let choose_lang = move |lang: Language| {
        spawn_local(async move {
            if let Ok(s) = invoke(&SetLanguage { language: lang }).await {
                i18n.lang.set(s.language);
            }
        });
    };
    view! {
        <div class="start">
            <div class="start-head">
                <span class="brand big">{move || i18n.t(Key::Brand)}</span>
                <div class="lang-buttons small">
                    <button id="start-lang-zh" class:selected=move || i18n.lang.get() == Language::ZhCn
                        on:click=move |_| choose_lang(Language::ZhCn)>{move || i18n.t(Key::LanguageZh)}</button>
                    <button id="start-lang-en" class:selected=move || i18n.lang.get() == Language::En
                        on:click=move |_| choose_lang(Language::En)>{move || i18n.t(Key::LanguageEn)}</button>
                </div>
            </div>
            <h1 id="page-title">{move || i18n.t(if signing_in.get() { Key::LoginTitle } else { Key::RoleTitle })}</h1>
            {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
            {move || if signing_in.get() {
                view! { <SignInForm error=error back=signing_in /> }.into_any()
            } else {
                view! {
                    <div class="role-choice" id="role-choice">
                        <div class="role-card">
                            <button id="role-station" class="role" on:click=move |_| who.mode.set(Mode::Station)>
                                {move || i18n.t(Key::RoleStation)}
                            </button>
                            <p class="role-hint">{move || i18n.t(Key::RoleStationHint)}</p>
                        </div>
                        <div class="role-card">
                            <button id="role-person" class="role" on:click=move |_| signing_in.set(true)>
                                {move || i18n.t(Key::RolePerson)}
                            </button>
                            <p class="role-hint">{move || i18n.t(Key::RolePersonHint)}</p>
                        </div>
                    </div>
                }.into_any()
            }}
        </div>
    }
}

#[component]
fn SignInForm(error: RwSignal<Option<IpcError>>, back: RwSignal<bool>) -> impl IntoView {
    let i18n = use_i18n();
    let who = expect_context::<Who>();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let submit = move || {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let req = SignIn {
            username: username.get_untracked(),
            password: password.get_untracked(),
        };
        spawn_local(async move {
            match invoke(&req).await {
                Ok(me) => {
                    error.set(None);
                    who.me.set(Some(me));
                    who.mode.set(Mode::Person);
                }
                Err(e) => {
                    password.set(String::new());
                    error.set(Some(e));
                }
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card form sign-in" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <label>
                <span>{move || i18n.t(Key::LoginUsername)}</span>
                <input id="login-username" type="text" autocomplete="username"
                    prop:value=move || username.get() on:input=move |e| username.set(event_target_value(&e)) />
            </label>
            <label>
                <span>{move || i18n.t(Key::LoginPassword)}</span>
                <input id="login-password" type="password" autocomplete="current-password"
                    prop:value=move || password.get() on:input=move |e| password.set(event_target_value(&e)) />
            </label>
            <p class="hint">{move || i18n.t(Key::LoginNeedsNetwork)}</p>
            <div class="actions">
                <button id="login-back" type="button" on:click=move |_| { error.set(None); back.set(false); }>
                    {move || i18n.t(Key::Back)}
                </button>
                <button id="login-submit" type="submit" class="primary" disabled=move || busy.get()>
                    {move || i18n.t(Key::LoginSubmit)}
                </button>
            </div>
        </form>
    }
}
