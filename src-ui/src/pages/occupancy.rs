//! 场内与限流: how many are inside the venue now — in all and by the gate they came in by — beside
//! its capacity, and (for the venue's administrator, from the server) the form that sets or
//! removes the capacity. Part of the statistics screen.
//!
//! Invariant: the form checks the number inline (a whole number from 1 to 1,000,000) before
//! anything is sent; a saved capacity reaches the gates with their next sync.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{GateCount, IpcError, PersonRole, SetCapacity};

use crate::api::invoke;
use crate::i18n::{use_i18n, Key};
use crate::shared::{ErrorBanner, Who};

/// The most a capacity may be.
const MAX_CAPACITY: u32 = 1_000_000;

/// What the capacity field holds, checked.
fn parse_capacity(text: &str) -> Option<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_CAPACITY).contains(n))
}

/// The occupancy card; `venue_id` is set when the figures come from the server (the
/// administrator may then change the capacity), `reload` reads the statistics again.
#[component]
pub fn OccupancyCard(
    inside: i64,
    by_gate: Vec<GateCount>,
    capacity: Option<u32>,
    venue_id: Option<String>,
    reload: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let who = use_context::<Who>();
    let admin =
        move || who.is_some_and(|w| w.me.get().is_some_and(|m| m.role == PersonRole::VenueAdmin));
    let full = capacity.is_some_and(|c| inside >= i64::from(c));
    let text = RwSignal::new(capacity.map(|c| c.to_string()).unwrap_or_default());
    let touched = RwSignal::new(false);
    let saved = RwSignal::new(false);
    let error = RwSignal::new(None::<IpcError>);
    let invalid = move || touched.get() && parse_capacity(&text.get()).is_none();
    let venue = StoredValue::new(venue_id.clone());
    let send = move |capacity: Option<u32>| {
        let Some(venue_id) = venue.get_value() else {
            return;
        };
        saved.set(false);
        spawn_local(async move {
            match invoke(&SetCapacity { venue_id, capacity }).await {
                Ok(()) => {
                    error.set(None);
                    saved.set(true);
                    reload.run(());
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(true);
        if let Some(n) = parse_capacity(&text.get_untracked()) {
            send(Some(n));
        }
    };
    let gates = by_gate
        .into_iter()
        .map(|g| {
            view! {
                <div class="figure gate-figure">
                    <span class="figure-n" id=format!("occupancy-gate-{}", g.checkpoint_id)>{g.inside}</span>
                    <span class="figure-label">{g.name}</span>
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="card" id="occupancy">
            <h2>{move || i18n.t(Key::OccupancyTitle)}</h2>
            <div class="figures">
                <div class="figure occupancy-total" class:refuse=full>
                    <span class="figure-n"><span id="occupancy-inside">{inside}</span>
                        {capacity.map(|c| view! { <span class="cap" id="occupancy-capacity">" / "{c}</span> })}</span>
                    <span class="figure-label">{move || i18n.t(Key::CountInside)}
                        {move || if capacity.is_some() { format!(" · {}", i18n.t(Key::CountCapacity)) } else { format!(" · {}", i18n.t(Key::CapacityNone)) }}</span>
                </div>
                {gates}
            </div>
            <p class="hint">{move || i18n.t(Key::InsideByGateHint)}</p>
            {move || (admin() && venue.get_value().is_some()).then(|| view! {
                <form class="capacity-form" id="capacity-form" on:submit=save novalidate>
                    <label for="capacity-input">{move || i18n.t(Key::CapacityLabel)}</label>
                    <input id="capacity-input" type="number" inputmode="numeric" min="1" max="1000000"
                        prop:value=move || text.get()
                        class:invalid=invalid
                        on:input=move |ev| { text.set(event_target_value(&ev)); saved.set(false); }
                        on:blur=move |_| touched.set(true) />
                    <button type="submit" id="capacity-save" class="primary">{move || i18n.t(Key::CapacitySave)}</button>
                    {capacity.map(|_| view! {
                        <button type="button" id="capacity-clear" on:click=move |_| { text.set(String::new()); touched.set(false); send(None); }>
                            {move || i18n.t(Key::CapacityClear)}
                        </button>
                    })}
                    {move || invalid().then(|| view! { <p class="field-error" id="capacity-error">{i18n.t(Key::CapacityInvalid)}</p> })}
                    {move || saved.get().then(|| view! { <p class="notice" id="capacity-saved" role="status">{i18n.t(Key::CapacitySaved)}</p> })}
                    {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
                </form>
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_capacity_field_takes_whole_numbers_in_range() {
        assert_eq!(parse_capacity(" 300 "), Some(300));
        assert_eq!(parse_capacity("1"), Some(1));
        assert_eq!(parse_capacity("1000000"), Some(1_000_000));
        for bad in ["", "0", "-3", "2.5", "1000001", "三百", "1e3"] {
            assert_eq!(parse_capacity(bad), None, "{bad}");
        }
    }
}
