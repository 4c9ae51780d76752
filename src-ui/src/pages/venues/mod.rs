//! 场所: a venue administrator's venues and applications (a reviewer's and an authority's
//! venues, read only) — the list with statuses, drafts waiting for the network, the
//! application form (`apply.rs`), one venue's checkpoints and members (`detail.rs`) and a
//! checkpoint's posters (`posters.rs`).

mod apply;
mod detail;
mod posters;

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{DraftRow, IpcError, ListDrafts, ListVenues, Loaded, PersonRole, VenueRow};

use crate::api::invoke;
use crate::i18n::{status_key, use_i18n, Key};
use crate::shared::{ErrorBanner, OfflineAge, Who};

/// What the venues page shows.
#[derive(Debug, Clone, PartialEq)]
enum View {
    List,
    Apply(Option<DraftRow>),
    /// Changing an existing venue's details.
    Amend(VenueRow),
    Venue(String),
    /// One checkpoint's posters: venue id, checkpoint id.
    Posters(String, String),
    /// A venue's statistics (检测统计).
    Statistics(String),
}

/// A note shown above the list after an action (submitted, kept as a draft).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Note {
    Submitted,
    Kept,
    Amended,
    AmendedBack,
    Withdrawn,
    HandedOver,
}

/// The venues page.
#[component]
pub fn VenuesPage() -> impl IntoView {
    let view_state = RwSignal::new(View::List);
    let note = RwSignal::new(None::<Note>);
    move || match view_state.get() {
        View::List => view! { <VenueList view_state=view_state note=note /> }.into_any(),
        View::Apply(draft) => view! {
            <apply::ApplyForm draft=draft amend=None view_state=view_state note=note />
        }
        .into_any(),
        View::Amend(venue) => view! {
            <apply::ApplyForm draft=None amend=Some(venue) view_state=view_state note=note />
        }
        .into_any(),
        View::Venue(id) => {
            view! { <detail::VenueDetail venue_id=id back=view_state note=note /> }.into_any()
        }
        View::Posters(venue_id, checkpoint_id) => view! {
            <posters::PosterPage venue_id=venue_id checkpoint_id=checkpoint_id back=view_state />
        }
        .into_any(),
        View::Statistics(venue_id) => {
            let back_to = venue_id.clone();
            view! {
                <div class="title-row">
                    <button id="stats-back" on:click=move |_| view_state.set(View::Venue(back_to.clone()))>
                        {move || use_i18n().t(Key::Back)}
                    </button>
                    <h1 id="page-title">{move || use_i18n().t(Key::StatsTitle)}</h1>
                </div>
                <crate::pages::statistics::StatisticsScreen source=crate::pages::statistics::Source::Venue(venue_id) />
            }
            .into_any()
        }
    }
}

#[component]
fn VenueList(view_state: RwSignal<View>, note: RwSignal<Option<Note>>) -> impl IntoView {
    let i18n = use_i18n();
    let who = expect_context::<Who>();
    let admin = move || {
        who.me
            .get()
            .is_some_and(|m| m.role == PersonRole::VenueAdmin)
    };
    let error = RwSignal::new(None::<IpcError>);
    let venues = RwSignal::new(None::<Loaded<Vec<VenueRow>>>);
    let drafts = RwSignal::new(Vec::<DraftRow>::new());
    let load = move || {
        spawn_local(async move {
            match invoke(&ListVenues {}).await {
                Ok(v) => {
                    venues.set(Some(v));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
            if let Ok(d) = invoke(&ListDrafts {}).await {
                drafts.set(d);
            }
        });
    };
    load();
    // Drafts go in the background: look again every few seconds while any wait.
    let timer = set_interval_with_handle(
        move || {
            if !drafts.get_untracked().is_empty() {
                load();
            }
        },
        std::time::Duration::from_secs(5),
    )
    .ok();
    on_cleanup(move || {
        if let Some(t) = timer {
            t.clear();
        }
    });
    view! {
        <h1 id="page-title">{move || i18n.t(Key::NavVenues)}</h1>
        {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
        {move || note.get().map(|n| view! {
            <div class="notice" id="venues-note" role="status">
                {move || i18n.t(match n {
                    Note::Submitted => Key::Submitted,
                    Note::Kept => Key::DraftKept,
                    Note::Amended => Key::Amended,
                    Note::AmendedBack => Key::AmendedBack,
                    Note::Withdrawn => Key::Withdrawn,
                    Note::HandedOver => Key::HandedOver,
                })}
            </div>
        })}
        {move || admin().then(|| view! {
            <div class="actions top">
                <button id="apply-new" class="primary" on:click=move |_| { note.set(None); view_state.set(View::Apply(None)); }>
                    {move || i18n.t(Key::ApplyNew)}
                </button>
            </div>
        })}
        {move || (!drafts.get().is_empty()).then(|| view! {
            <section class="card" id="drafts">
                <h2>{move || i18n.t(Key::Drafts)}</h2>
                {drafts.get().into_iter().enumerate().map(|(i, d)| {
                    let open = d.clone();
                    view! {
                        <div class="row" id=format!("draft-{i}")>
                            <span class="grow">{d.form.name.clone()}</span>
                            {d.last_error.clone().map(|e| view! {
                                <span class="warn" title=e>{move || i18n.t(Key::DraftError)}</span>
                            })}
                            <button on:click=move |_| view_state.set(View::Apply(Some(open.clone())))>
                                {move || i18n.t(Key::Edit)}
                            </button>
                        </div>
                    }
                }).collect_view()}
            </section>
        })}
        {move || venues.get().map(|v| view! {
            <OfflineAge offline=v.offline age_secs=v.age_secs />
            <h2 class="section">{move || i18n.t(Key::MyVenues)}</h2>
            {v.data.is_empty().then(|| view! { <p class="empty">{move || i18n.t(Key::VenuesEmpty)}</p> })}
            <div class="list" id="venue-list">
                {v.data.into_iter().enumerate().map(|(i, row)| {
                    let id = row.venue_id.clone();
                    let status = row.status.clone();
                    let status_k = status_key(&status);
                    view! {
                        <section class="card venue-row" id=format!("venue-{i}")>
                            <div class="row">
                                <span class="venue-name grow">{row.name.clone()}</span>
                                <span class=format!("badge {status}") id=format!("venue-{i}-status")>
                                    {move || i18n.t(status_k)}
                                </span>
                                <button id=format!("venue-{i}-open") on:click=move |_| view_state.set(View::Venue(id.clone()))>
                                    {move || i18n.t(Key::Open)}
                                </button>
                            </div>
                            <p>{row.region_name.clone()} " · " {row.address.clone()}</p>
                            {row.reject_reason.clone().map(|r| view! {
                                <p class="warn" id=format!("venue-{i}-reason")>{move || i18n.t(Key::RejectReasonLabel)} ": " {r}</p>
                            })}
                        </section>
                    }
                }).collect_view()}
            </div>
        })}
    }
}
