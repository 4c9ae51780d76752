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
    view! {
        <section class="counters" id="counters" data-scans=move || scans.get().to_string()>
            {cell("count-inside", Key::CountInside, |c| c.inside)}
            {cell("count-entries", Key::CountEntries, |c| c.entries)}
            {cell("count-refusals", Key::CountRefusals, |c| c.refusals)}
            {cell("count-fevers", Key::CountFevers, |c| c.fevers)}
        </section>
    }
}
