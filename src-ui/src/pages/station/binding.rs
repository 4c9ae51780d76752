//! The station's binding: venue, checkpoint, inspector and direction. Enrolled, they come from
//! the enrolment and the venue's registry (the checkpoint by name, chosen in Settings); only the
//! direction is chosen here. Unenrolled, the station may be bound by hand for the demo, and says
//! that nothing it records will sync.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    CheckpointChoice, Direction, GetSyncStatus, IpcError, SetBinding, StationBinding,
    StationCheckpoints,
};

use crate::api::invoke;
use crate::i18n::{use_i18n, Key};

use super::kiosk::KioskEnter;

#[component]
pub(super) fn BindingBar(
    binding: RwSignal<Option<StationBinding>>,
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
