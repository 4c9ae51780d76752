//! The station's binding: venue, checkpoint, inspector and direction. Enrolled, they come from
//! the enrolment and the venue's registry (the checkpoint by name, chosen in Settings); only the
//! direction is chosen here, and an inspector serving several venues switches between them.
//! Unenrolled, the station may be bound by hand for the demo, and says that nothing it records
//! will sync.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    CheckpointChoice, Direction, GetCounters, GetSyncStatus, IpcError, SetBinding, StationBinding,
    StationCheckpoints, StationCounters, StationVenue,
};

use crate::api::invoke;
use crate::i18n::{use_i18n, Key};

use super::kiosk::KioskEnter;
use crate::pages::station_venues::{load_venues, switch_to};

#[component]
pub(super) fn BindingBar(
    binding: RwSignal<Option<StationBinding>>,
    counters: RwSignal<StationCounters>,
    error: RwSignal<Option<IpcError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let editing = RwSignal::new(false);
    let (venue_id, venue_name, checkpoint, inspector) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let direction = RwSignal::new(Direction::Entry);
    let enrolled = RwSignal::new(false);
    let doors = RwSignal::new(Vec::<CheckpointChoice>::new());
    spawn_local(async move {
        if let Ok(s) = invoke(&GetSyncStatus {}).await {
            enrolled.set(s.enrolled);
        }
        if let Ok(d) = invoke(&StationCheckpoints {}).await {
            doors.set(d);
        }
    });
    // One inspector, several venues: the others are one tap away.
    let venues = RwSignal::new(Vec::<StationVenue>::new());
    load_venues(venues);
    let switch = move |venue_id: String| {
        switch_to(venue_id, error, move |b| {
            binding.set(Some(b));
            load_venues(venues);
            spawn_local(async move {
                if let Ok(d) = invoke(&StationCheckpoints {}).await {
                    doors.set(d);
                }
                if let Ok(c) = invoke(&GetCounters {}).await {
                    counters.set(c);
                }
            });
        });
    };
    // Enrolled: the direction is the one thing chosen here.
    let set_direction = move |d: Direction| {
        if let Some(mut b) = binding.get_untracked() {
            b.direction = d;
            spawn_local(async move {
                match invoke(&SetBinding { binding: b }).await {
                    Ok(saved) => {
                        binding.set(Some(saved));
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    let edit = move |_| {
        if let Some(b) = binding.get_untracked() {
            venue_id.set(b.venue_id);
            venue_name.set(b.venue_name);
            checkpoint.set(b.checkpoint_id);
            inspector.set(b.inspector);
            direction.set(b.direction);
        }
        editing.set(true);
    };
    let save = move |_| {
        let b = StationBinding {
            venue_id: venue_id.get_untracked(),
            venue_name: venue_name.get_untracked(),
            checkpoint_id: checkpoint.get_untracked(),
            inspector: inspector.get_untracked(),
            direction: direction.get_untracked(),
        };
        spawn_local(async move {
            match invoke(&SetBinding { binding: b }).await {
                Ok(saved) => {
                    binding.set(Some(saved));
                    editing.set(false);
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let field = move |id: &'static str, key: Key, sig: RwSignal<String>| {
        view! {
            <label>
                <span>{move || i18n.t(key)}</span>
                <input id=id type="text" prop:value=move || sig.get() on:input=move |e| sig.set(event_target_value(&e)) />
            </label>
        }
    };
    view! {
        <section class="card binding" id="binding">
            {move || match (binding.get(), editing.get()) {
                (Some(b), _) if enrolled.get() => {
                    let door = doors.get().into_iter().find(|d| d.checkpoint_id == b.checkpoint_id);
                    let disabled = door.as_ref().is_some_and(|d| d.disabled);
                    let door = door.map(|d| d.name).unwrap_or(b.checkpoint_id.clone());
                    let dir = b.direction;
                    view! {
                        <div class="bound">
                            <span class="venue" id="bound-venue">{b.venue_name.clone()}</span>
                            <span id="bound-checkpoint">{door}</span>
                            <div class="dir-buttons">
                                <button id="bind-entry" class:selected=dir == Direction::Entry on:click=move |_| set_direction(Direction::Entry)>{move || i18n.t(Key::DirEntry)}</button>
                                <button id="bind-exit" class:selected=dir == Direction::Exit on:click=move |_| set_direction(Direction::Exit)>{move || i18n.t(Key::DirExit)}</button>
                            </div>
                            <span id="bound-inspector">{b.inspector.clone()}</span>
                        </div>
                        {disabled.then(|| view! { <div class="error" id="checkpoint-disabled">{move || i18n.t(Key::CheckpointDisabledBanner)}</div> })}
                        {move || {
                            let others: Vec<StationVenue> = venues.get().into_iter().filter(|v| !v.active).collect();
                            (!others.is_empty()).then(|| view! {
                                <div class="venue-switch" id="bound-switch">
                                    <span>{move || i18n.t(Key::VenuesOther)}</span>
                                    {others.into_iter().enumerate().map(|(i, v)| {
                                        let id = v.venue_id.clone();
                                        view! {
                                            <button id=format!("bound-switch-{i}") on:click=move |_| switch(id.clone())>{v.venue_name.clone()}</button>
                                        }
                                    }).collect_view()}
                                </div>
                            })
                        }}
                        <KioskEnter error=error />
                    }.into_any()
                }
                (Some(b), false) => {
                    let dir = match b.direction {
                        Direction::Entry => Key::DirEntry,
                        Direction::Exit => Key::DirExit,
                    };
                    view! {
                        <p class="warn" id="bind-demo">{move || i18n.t(Key::BindNotEnrolled)}</p>
                        <div class="bound">
                            <span class="venue" id="bound-venue">{b.venue_name.clone()}</span>
                            <span id="bound-checkpoint">{b.checkpoint_id.clone()}</span>
                            <span class="dir" id="bound-direction">{move || i18n.t(dir)}</span>
                            <span id="bound-inspector">{b.inspector.clone()}</span>
                            <button id="bind-edit" on:click=edit>{move || i18n.t(Key::BindEdit)}</button>
                        </div>
                        <KioskEnter error=error />
                    }.into_any()
                }
                _ => view! {
                    <div class="bind-form">
                        <h2>{move || i18n.t(Key::BindTitle)}</h2>
                        <p class="warn" id="bind-demo">{move || i18n.t(Key::BindNotEnrolled)}</p>
                        {field("bind-venue-id", Key::VenueId, venue_id)}
                        {field("bind-venue-name", Key::VenueName, venue_name)}
                        {field("bind-checkpoint", Key::Checkpoint, checkpoint)}
                        {field("bind-inspector", Key::Inspector, inspector)}
                        <div class="dir-buttons">
                            <button id="bind-entry" class:selected=move || direction.get() == Direction::Entry on:click=move |_| direction.set(Direction::Entry)>{move || i18n.t(Key::DirEntry)}</button>
                            <button id="bind-exit" class:selected=move || direction.get() == Direction::Exit on:click=move |_| direction.set(Direction::Exit)>{move || i18n.t(Key::DirExit)}</button>
                        </div>
                        <button id="bind-save" class="primary" on:click=save>{move || i18n.t(Key::Save)}</button>
                    </div>
                }.into_any(),
            }}
        </section>
    }
}
