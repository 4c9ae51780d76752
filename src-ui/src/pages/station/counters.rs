//! The live counters: people inside, entries, exits, refusals, fevers, scans.

use leptos::prelude::*;
use venuecode_ipc::StationCounters;

use crate::i18n::{use_i18n, Key};

#[component]
pub(super) fn CountersBar(
    counters: RwSignal<StationCounters>,
    scans: RwSignal<u64>,
) -> impl IntoView {
    let i18n = use_i18n();
    let cell = move |id: &'static str, key: Key, get: fn(&StationCounters) -> i64| {
        view! {
            <div class="counter">
                <span class="n" id=id>{move || get(&counters.get()).to_string()}</span>
                <span class="label">{move || i18n.t(key)}</span>
            </div>
        }
    };
    // 场内 with the venue's capacity beside it when set, and who came in by which gate.
    let capacity = move || {
        counters
            .get()
            .capacity
            .map(|cap| format!(" / {cap}"))
            .unwrap_or_default()
    };
    let gates = move || {
        counters
            .get()
            .by_gate
            .iter()
            .map(|g| format!("{} {}", g.name, g.inside))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let full = move || {
        let c = counters.get();
        c.capacity.is_some_and(|cap| c.inside >= i64::from(cap))
    };
    view! {
        <section class="counters" id="counters" data-scans=move || scans.get().to_string()>
            <div class="counter inside-counter" class:full=full>
                <span class="n"><span id="count-inside">{move || counters.get().inside.to_string()}</span>
                    <span class="cap" id="count-capacity">{capacity}</span></span>
                <span class="label">{move || i18n.t(Key::CountInside)}
                    {move || counters.get().capacity.map(|_| view! { <span>" · "{i18n.t(Key::CountCapacity)}</span> })}</span>
                <span class="gates" id="count-by-gate" title=move || i18n.t(Key::InsideByGate)>{gates}</span>
            </div>
            {cell("count-entries", Key::CountEntries, |c| c.entries)}
            {cell("count-refusals", Key::CountRefusals, |c| c.refusals)}
            {cell("count-fevers", Key::CountFevers, |c| c.fevers)}
        </section>
    }
}
