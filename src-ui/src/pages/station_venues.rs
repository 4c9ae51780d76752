//! The venues this station serves (one inspector, several venues): in Settings the full list —
//! active venue, door, inspector, records waiting, the server's refusal of a venue's key —
//! with switching and removing; on the 检测 screen a quick switch to another venue.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    ForgetVenue, IpcError, StationBinding, StationVenue, StationVenues, SwitchVenue,
};

use crate::api::invoke;
use crate::i18n::{use_i18n, Key};

/// What a venue's key problem is called.
fn problem_key(code: &str) -> Key {
    match code {
        "device_revoked" | "unknown_device" => Key::DeviceRevoked,
        "device_pending" => Key::DevicePending,
        _ => Key::VenuesServerRefused,
    }
}

/// Loads the station's venues into `venues`.
pub fn load_venues(venues: RwSignal<Vec<StationVenue>>) {
    spawn_local(async move {
        if let Ok(v) = invoke(&StationVenues {}).await {
            venues.set(v);
        }
    });
}

/// Switches the active venue; `done` runs with the new binding.
pub fn switch_to(
    venue_id: String,
    error: RwSignal<Option<IpcError>>,
    done: impl FnOnce(StationBinding) + 'static,
) {
    spawn_local(async move {
        match invoke(&SwitchVenue { venue_id }).await {
            Ok(b) => {
                error.set(None);
                done(b);
            }
            Err(e) => error.set(Some(e)),
        }
    });
}

/// The Settings card: every venue this station is enrolled at (shown once it holds any).
/// `reload` is bumped when an enrolment changes the list.
#[component]
pub fn StationVenuesCard(
    error: RwSignal<Option<IpcError>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let i18n = use_i18n();
    let venues = RwSignal::new(Vec::<StationVenue>::new());
    let confirming = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        reload.get();
        load_venues(venues);
    });
    let forget = move |venue_id: String| {
        spawn_local(async move {
            match invoke(&ForgetVenue { venue_id }).await {
                Ok(_) => {
                    error.set(None);
                    confirming.set(None);
                    load_venues(venues);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    move || {
        let list = venues.get();
        (!list.is_empty()).then(|| view! {
            <section class="card" id="station-venues">
                <h2>{move || i18n.t(Key::VenuesTitle)}</h2>
                <p class="hint">{move || i18n.t(Key::VenuesHint)}</p>
                {list.into_iter().enumerate().map(|(i, v)| {
                    let (id1, id2, id3) = (v.venue_id.clone(), v.venue_id.clone(), v.venue_id.clone());
                    let id3 = StoredValue::new(id3);
                    let asking = move || confirming.get().as_deref() == Some(id3.get_value().as_str());
                    let problem = v.problem.clone();
                    view! {
                        <div class="row" id=format!("sv-{i}")>
                            <span class="grow">
                                <b id=format!("sv-{i}-name")>{v.venue_name.clone()}</b>
                                " · " {v.checkpoint_name.clone()} " · " {v.inspector.clone()}
                                {(v.waiting > 0).then(|| view! {
                                    " · " <span id=format!("sv-{i}-waiting")>{move || i18n.t(Key::VenuesWaiting)}{v.waiting}</span>
                                })}
                            </span>
                            {v.active.then(|| view! {
                                <span class="badge approved" id=format!("sv-{i}-active")>{move || i18n.t(Key::VenuesActive)}</span>
                            })}
                            {problem.map(|p| view! {
                                <span class="badge rejected" id=format!("sv-{i}-problem")>{move || i18n.t(problem_key(&p))}</span>
                            })}
                            {(!v.active).then(|| view! {
                                <button id=format!("sv-{i}-switch") class="primary"
                                    on:click=move |_| switch_to(id1.clone(), error, move |_| reload.update(|n| *n += 1))>
                                    {move || i18n.t(Key::VenuesSwitch)}
                                </button>
                                <button id=format!("sv-{i}-forget") class="danger"
                                    on:click=move |_| if asking() { forget(id2.clone()) } else { confirming.set(Some(id2.clone())) }>
                                    {move || if asking() { i18n.t(Key::VenuesForgetConfirm) } else { i18n.t(Key::VenuesForget) }}
                                </button>
                            })}
                        </div>
                    }
                }).collect_view()}
            </section>
        })
    }
}
