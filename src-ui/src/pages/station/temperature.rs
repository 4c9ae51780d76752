//! The temperature taps: normal, fever, or a measured value for the next person.

use leptos::prelude::*;
use venuecode_ipc::TemperatureInput;

use crate::i18n::{use_i18n, Key};

#[component]
pub(super) fn TemperatureBar(temp: RwSignal<TemperatureInput>) -> impl IntoView {
    let i18n = use_i18n();
    let celsius = RwSignal::new(String::new());
    Effect::new(move |_| {
        if temp.get() == TemperatureInput::Normal {
            celsius.set(String::new());
        }
    });
    view! {
        <section class="card temperature">
            <button id="temp-normal" class:selected=move || temp.get() == TemperatureInput::Normal
                on:click=move |_| temp.set(TemperatureInput::Normal)>{move || i18n.t(Key::TempNormal)}</button>
            <button id="temp-fever" class="fever" class:selected=move || temp.get() == TemperatureInput::Fever
                on:click=move |_| temp.set(TemperatureInput::Fever)>{move || i18n.t(Key::TempFever)}</button>
            <input id="temp-celsius" type="text" inputmode="decimal" placeholder=move || i18n.t(Key::Celsius)
                prop:value=move || celsius.get()
                on:input=move |e| {
                    let v = event_target_value(&e);
                    temp.set(match v.trim().replace(',', ".").parse::<f32>() {
                        Ok(c) if c.is_finite() => TemperatureInput::Celsius(c),
                        _ => TemperatureInput::Normal,
                    });
                    celsius.set(v);
                } />
        </section>
    }
}
