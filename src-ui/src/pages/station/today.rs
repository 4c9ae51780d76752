//! Today's check-ins at this venue, refreshed after every verdict and every few seconds (the
//! residents' own check-ins at the poster arrive with sync).

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{CheckInRow, TodayCheckIns};

use crate::api::invoke;
use crate::i18n::{relation_key, use_i18n, Key};

/// Today's check-ins at this venue, refreshed after every verdict.
#[component]
pub(super) fn TodayList(shown: RwSignal<u64>) -> impl IntoView {
    let i18n = use_i18n();
    let rows = RwSignal::new(Vec::<CheckInRow>::new());
    let load = move || {
        spawn_local(async move {
            if let Ok(r) = invoke(&TodayCheckIns {}).await {
                if rows.get_untracked() != r {
                    rows.set(r);
                }
            }
        })
    };
    Effect::new(move |_| {
        shown.track();
        load();
    });
    let timer = set_interval_with_handle(load, std::time::Duration::from_secs(5)).ok();
    on_cleanup(move || {
        if let Some(t) = timer {
            t.clear();
        }
    });
    view! {
        <section class="today card" id="today">
            <h2>{move || i18n.t(Key::TodayList)}</h2>
            <ul id="today-list">
                {move || rows.get().into_iter().map(|r| {
                    let verdict = if r.pass { Key::Pass } else { Key::Refuse };
                    let rel = r.proxy_relation.map(relation_key);
                    view! {
                        <li class:refused=!r.pass>
                            <span class="time">{r.time.clone()}</span>
                            <span class="v">{move || i18n.t(verdict)}</span>
                            <span class="who">{r.name.clone().unwrap_or_default()}</span>
                            <span class="id">{r.id_masked.clone().unwrap_or_default()}</span>
                            {r.manual.then(|| view! { <span class="badge">{move || i18n.t(Key::ManualBadge)}</span> })}
                            {r.by_phone.then(|| view! { <span class="badge phone">{move || i18n.t(Key::PhoneBadge)}</span> })}
                            {r.proxy_name.clone().map(|p| view! {
                                <span class="proxy">{move || i18n.t(Key::VouchedBy)}": "{p.clone()}
                                    {rel.map(|k| view! { " ("{move || i18n.t(k)}")" })}
                                </span>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
