//! Kiosk mode: entering it with a PIN, and its bar with the resident prompt and the PIN-guarded way out.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{CheckKioskPin, IpcError, SetKioskPin};

use crate::api::invoke;
use crate::i18n::{use_i18n, Key};
use crate::shared::Kiosk;

/// Entering kiosk mode: the inspector picks the PIN that will leave it.
#[component]
pub(super) fn KioskEnter(error: RwSignal<Option<IpcError>>) -> impl IntoView {
    let i18n = use_i18n();
    let kiosk = expect_context::<Kiosk>().0;
    let pin = RwSignal::new(String::new());
    let enter = move |_| {
        let p = pin.get_untracked();
        spawn_local(async move {
            match invoke(&SetKioskPin { pin: p }).await {
                Ok(_) => {
                    pin.set(String::new());
                    error.set(None);
                    kiosk.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="kiosk-enter">
            <input id="kiosk-pin-new" type="password" inputmode="numeric" placeholder=move || i18n.t(Key::KioskPinNew)
                prop:value=move || pin.get() on:input=move |e| pin.set(event_target_value(&e)) />
            <button id="kiosk-enter" on:click=enter>{move || i18n.t(Key::KioskEnter)}</button>
        </div>
    }
}

/// Kiosk mode's bar: the prompt for residents and the PIN-guarded way out.
#[component]
pub(super) fn KioskBar(error: RwSignal<Option<IpcError>>) -> impl IntoView {
    let i18n = use_i18n();
    let kiosk = expect_context::<Kiosk>().0;
    let asking = RwSignal::new(false);
    let wrong = RwSignal::new(false);
    let pin = RwSignal::new(String::new());
    let confirm = move |_| {
        let p = pin.get_untracked();
        spawn_local(async move {
            match invoke(&CheckKioskPin { pin: p }).await {
                Ok(true) => {
                    pin.set(String::new());
                    wrong.set(false);
                    asking.set(false);
                    kiosk.set(false);
                }
                Ok(false) => wrong.set(true),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="kiosk-bar">
            <p class="prompt" id="kiosk-prompt">{move || i18n.t(Key::KioskPrompt)}</p>
            <Show when=move || asking.get() fallback=move || view! {
                <button id="kiosk-exit" class="quiet" on:click=move |_| asking.set(true)>{move || i18n.t(Key::KioskExit)}</button>
            }>
                <input id="kiosk-exit-pin" type="password" inputmode="numeric" prop:value=move || pin.get()
                    on:input=move |e| { pin.set(event_target_value(&e)); wrong.set(false); } />
                <button id="kiosk-exit-ok" on:click=confirm>{move || i18n.t(Key::Confirm)}</button>
                {move || wrong.get().then(|| view! { <span class="field-error" id="kiosk-pin-wrong">{move || i18n.t(Key::KioskPinWrong)}</span> })}
            </Show>
        </section>
    }
}
