//! One venue: its status and details, the declaration code (shown, new code), checkpoints
//! (add, rename, responsible person, disable: 一门一码, 一门一人) and members (成员管理: the
//! inspectors' devices — approve, unbind). Changing needs the server; reading works offline.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    ChangeDevice, CheckpointOutcome, CheckpointRow, DeviceAction, FormProblem, GetVenue, IpcError,
    Loaded, PersonRole, RenewDeclarationCode, SaveCheckpoint, VenueView,
};

use super::View;
use crate::api::invoke;
use crate::i18n::{category_key, problem_key, status_key, use_i18n, Key};
use crate::shared::{ErrorBanner, OfflineAge, Who};

/// The venue page.
#[component]
pub(super) fn VenueDetail(venue_id: String, back: RwSignal<View>) -> impl IntoView {
    let i18n = use_i18n();
    let who = expect_context::<Who>();
    let manages = move || {
        who.me
            .get()
            .is_some_and(|m| m.role == PersonRole::VenueAdmin)
    };
    let error = RwSignal::new(None::<IpcError>);
    let loaded = RwSignal::new(None::<Loaded<VenueView>>);
    let id = StoredValue::new(venue_id);
    let reload = move || {
        let venue_id = id.get_value();
        spawn_local(async move {
            match invoke(&GetVenue { venue_id }).await {
                Ok(v) => {
                    loaded.set(Some(v));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    reload();
    let renew = move |_| {
        let venue_id = id.get_value();
        spawn_local(async move {
            match invoke(&RenewDeclarationCode { venue_id }).await {
                Ok(_) => reload(),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="title-row">
            <button id="venue-back" on:click=move |_| back.set(View::List)>{move || i18n.t(Key::Back)}</button>
            <h1 id="page-title">{move || i18n.t(Key::VenueTitle)}</h1>
        </div>
        {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
        {move || loaded.get().map(|l| {
            let v = l.data.venue.clone();
            let approved = v.status == "approved";
            let status = v.status.clone();
            let status_k = status_key(&status);
            let category = category_key(&v.category);
            let offline = l.offline;
            let checkpoints = l.data.checkpoints.clone();
            let names: Vec<(String, String)> = checkpoints.iter().map(|c| (c.checkpoint_id.clone(), c.name.clone())).collect();
            view! {
                <OfflineAge offline=l.offline age_secs=l.age_secs />
                <section class="card">
                    <div class="row">
                        <h2 class="venue-name grow" id="venue-name">{v.name.clone()}</h2>
                        <span class=format!("badge {status}") id="venue-status">{move || i18n.t(status_k)}</span>
                    </div>
                    <dl class="facts wide">
                        <dt>{move || i18n.t(Key::FCreditCode)}</dt><dd>{v.credit_code.clone().unwrap_or_default()}</dd>
                        <dt>{move || i18n.t(Key::FCategory)}</dt><dd>{move || category.map(|k| i18n.t(k)).unwrap_or_default()}</dd>
                        <dt>{move || i18n.t(Key::FRegion)}</dt><dd>{v.region_name.clone()}</dd>
                        <dt>{move || i18n.t(Key::FAddress)}</dt><dd>{v.address.clone()}</dd>
                        <dt>{move || i18n.t(Key::FResponsible)}</dt>
                        <dd>{v.responsible_name.clone().unwrap_or_default()} " " {v.responsible_phone.clone().unwrap_or_default()}</dd>
                    </dl>
                    {v.reject_reason.clone().map(|r| view! { <p class="warn">{move || i18n.t(Key::RejectReasonLabel)} ": " {r}</p> })}
                    {(!approved).then(|| view! { <p class="hint">{move || i18n.t(Key::NotApprovedYet)}</p> })}
                </section>
                {(approved && manages()).then(|| view! {
                    <section class="card">
                        <h2>{move || i18n.t(Key::DeclarationCode)}</h2>
                        <div class="row">
                            <span class="code-big" id="declaration-code">{v.declaration_code.clone().unwrap_or_default()}</span>
                            <button id="renew-code" disabled=offline on:click=renew>{move || i18n.t(Key::RenewCode)}</button>
                        </div>
                        <p class="hint">{move || i18n.t(Key::DeclarationHint)}</p>
                    </section>
                })}
                {approved.then(|| view! {
                    <Checkpoints venue_id=id.get_value() rows=checkpoints manages=manages() offline=offline
                        error=error on_change=reload />
                })}
                {(approved && manages()).then(|| {
                    let devices = l.data.devices.clone();
                    let venue_id = id.get_value();
                    view! {
                        <section class="card" id="members">
                            <h2>{move || i18n.t(Key::Members)}</h2>
                            {devices.is_empty().then(|| view! { <p class="empty">{move || i18n.t(Key::MembersEmpty)}</p> })}
                            {devices.into_iter().enumerate().map(|(i, d)| {
                                let door = names.iter().find(|(cid, _)| *cid == d.checkpoint_id).map(|(_, n)| n.clone()).unwrap_or(d.checkpoint_id.clone());
                                let state = if !d.active { Key::DeviceRevoked } else if d.pending { Key::DevicePending } else { Key::DeviceActive };
                                let act = move |action: DeviceAction, venue_id: String, device_id: String| {
                                    spawn_local(async move {
                                        match invoke(&ChangeDevice { venue_id, device_id, action }).await {
                                            Ok(()) => reload(),
                                            Err(e) => error.set(Some(e)),
                                        }
                                    });
                                };
                                let (v1, d1, v2, d2) = (venue_id.clone(), d.device_id.clone(), venue_id.clone(), d.device_id.clone());
                                let seen = d.last_seen.clone().map(|s| s.chars().take(16).collect::<String>().replace('T', " "));
                                view! {
                                    <div class="row device" id=format!("device-{i}")>
                                        <span class="grow">
                                            <b id=format!("device-{i}-inspector")>{d.inspector.clone()}</b> " · " {door}
                                            " · " {move || i18n.t(Key::LastSeen)} " " {seen.clone().unwrap_or_else(|| i18n.t(Key::Never).to_string())}
                                        </span>
                                        <span class="badge" class:pending=d.pending && d.active id=format!("device-{i}-state")>{move || i18n.t(state)}</span>
                                        {(d.active && d.pending).then(|| view! {
                                            <button id=format!("device-{i}-approve") class="primary" disabled=offline
                                                on:click=move |_| act(DeviceAction::Approve, v1.clone(), d1.clone())>{move || i18n.t(Key::ApproveDevice)}</button>
                                        })}
                                        {d.active.then(|| view! {
                                            <button id=format!("device-{i}-unbind") class="danger" disabled=offline
                                                on:click=move |_| act(DeviceAction::Revoke, v2.clone(), d2.clone())>{move || i18n.t(Key::Unbind)}</button>
                                        })}
                                    </div>
                                }
                            }).collect_view()}
                        </section>
                    }
                })}
            }
        })}
    }
}

#[component]
fn Checkpoints(
    venue_id: String,
    rows: Vec<CheckpointRow>,
    manages: bool,
    offline: bool,
    error: RwSignal<Option<IpcError>>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    // The checkpoint being edited: None = closed, Some(None) = a new one.
    let editing = RwSignal::new(None::<Option<CheckpointRow>>);
    let venue = StoredValue::new(venue_id);
    let toggle = move |c: CheckpointRow| {
        let req = SaveCheckpoint {
            venue_id: venue.get_value(),
            checkpoint_id: Some(c.checkpoint_id),
            name: c.name,
            responsible_name: c.responsible_name,
            responsible_phone: c.responsible_phone,
            disabled: !c.disabled,
        };
        spawn_local(async move {
            match invoke(&req).await {
                Ok(CheckpointOutcome::Saved { .. }) => on_change(),
                Ok(CheckpointOutcome::Invalid { .. }) => {}
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="card" id="checkpoints">
            <h2>{move || i18n.t(Key::Checkpoints)}</h2>
            {rows.into_iter().enumerate().map(|(i, c)| {
                let (c1, c2) = (c.clone(), c.clone());
                view! {
                    <div class="row checkpoint" class:disabled=c.disabled id=format!("checkpoint-{i}")>
                        <span class="grow">
                            <b id=format!("checkpoint-{i}-name")>{c.name.clone()}</b>
                            {(!c.responsible_name.is_empty()).then(|| format!(" · {} {}", c.responsible_name, c.responsible_phone))}
                        </span>
                        {c.disabled.then(|| view! { <span class="badge closed">{move || i18n.t(Key::Disabled)}</span> })}
                        {manages.then(|| view! {
                            <button id=format!("checkpoint-{i}-edit") disabled=offline
                                on:click=move |_| editing.set(Some(Some(c1.clone())))>{move || i18n.t(Key::Edit)}</button>
                            <button id=format!("checkpoint-{i}-toggle") disabled=offline
                                on:click=move |_| toggle(c2.clone())>
                                {move || i18n.t(if c.disabled { Key::Enable } else { Key::Disable })}
                            </button>
                        })}
                    </div>
                }
            }).collect_view()}
            {manages.then(|| view! {
                <div class="actions">
                    <button id="checkpoint-add" class="primary" disabled=offline
                        on:click=move |_| editing.set(Some(None))>{move || i18n.t(Key::AddCheckpoint)}</button>
                </div>
            })}
            {move || editing.get().map(|c| view! {
                <CheckpointForm venue_id=venue.get_value() existing=c error=error
                    on_done=move |saved| { editing.set(None); if saved { on_change(); } } />
            })}
        </section>
    }
}

#[component]
fn CheckpointForm(
    venue_id: String,
    existing: Option<CheckpointRow>,
    error: RwSignal<Option<IpcError>>,
    on_done: impl Fn(bool) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let name = RwSignal::new(
        existing
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
    );
    let person = RwSignal::new(
        existing
            .as_ref()
            .map(|c| c.responsible_name.clone())
            .unwrap_or_default(),
    );
    let phone = RwSignal::new(
        existing
            .as_ref()
            .map(|c| c.responsible_phone.clone())
            .unwrap_or_default(),
    );
    let problems = RwSignal::new(Vec::<FormProblem>::new());
    let id = existing.as_ref().map(|c| c.checkpoint_id.clone());
    let disabled = existing.as_ref().is_some_and(|c| c.disabled);
    let venue = StoredValue::new(venue_id);
    let problem_of = move |field: &str| {
        problems
            .get()
            .into_iter()
            .find(|p| p.field == field)
            .map(|p| problem_key(&p.code))
    };
    let save = move |_| {
        let req = SaveCheckpoint {
            venue_id: venue.get_value(),
            checkpoint_id: id.clone(),
            name: name.get_untracked(),
            responsible_name: person.get_untracked(),
            responsible_phone: phone.get_untracked(),
            disabled,
        };
        spawn_local(async move {
            match invoke(&req).await {
                Ok(CheckpointOutcome::Saved { .. }) => on_done(true),
                Ok(CheckpointOutcome::Invalid { problems: p }) => problems.set(p),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let field = move |fid: &'static str, field: &'static str, label: Key, sig: RwSignal<String>| {
        view! {
            <label class="field" class:bad=move || problem_of(field).is_some()>
                <span>{move || i18n.t(label)}</span>
                <input id=fid type="text" prop:value=move || sig.get() on:input=move |e| sig.set(event_target_value(&e)) />
                <span class="problem" id=format!("{fid}-problem")>{move || problem_of(field).map(|k| i18n.t(k))}</span>
            </label>
        }
    };
    view! {
        <div class="form checkpoint-form" id="checkpoint-form">
            <div class="pair">
                {field("cp-name", "checkpoint_name", Key::FCheckpointName, name)}
                {field("cp-responsible", "responsible_name", Key::FResponsible, person)}
                {field("cp-phone", "responsible_phone", Key::FPhone, phone)}
            </div>
            <div class="actions">
                <button id="cp-cancel" on:click=move |_| on_done(false)>{move || i18n.t(Key::Cancel)}</button>
                <button id="cp-save" class="primary" on:click=save>{move || i18n.t(Key::Save)}</button>
            </div>
        </div>
    }
}
