//! One venue: its status and details, the declaration code (shown, new code), checkpoints
//! (add, rename, responsible person, disable: 一门一码, 一门一人) and members (成员管理: the
//! inspectors' devices — approve, unbind), the history (who did what, when); the administrator
//! changes the details, deletes a pending application or hands the venue over; a reviewer closes
//! it. Changing needs the server; reading works offline.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    ChangeDevice, CheckpointOutcome, CheckpointRow, CloseVenue, DeviceAction, FormProblem,
    GetVenue, HandOverVenue, HistoryRow, IpcError, Language, ListPlaceTypes, Loaded, PersonRole,
    PlaceTypeChoice, RenewDeclarationCode, SaveCheckpoint, VenueRow, VenueView,
    WithdrawApplication,
};

use super::{Note, View};
use crate::api::invoke;
use crate::i18n::{category_key, history_key, problem_key, status_key, use_i18n, Key};
use crate::shared::{ErrorBanner, OfflineAge, Who};

/// The venue page.
#[component]
pub(super) fn VenueDetail(
    venue_id: String,
    back: RwSignal<View>,
    note: RwSignal<Option<Note>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let who = expect_context::<Who>();
    let manages = move || {
        who.me
            .get()
            .is_some_and(|m| m.role == PersonRole::VenueAdmin)
    };
    let reviews = move || who.me.get().is_some_and(|m| m.role == PersonRole::Reviewer);
    let copied = RwSignal::new(false);
    let error = RwSignal::new(None::<IpcError>);
    let loaded = RwSignal::new(None::<Loaded<VenueView>>);
    let id = StoredValue::new(venue_id);
    // The place types' names (the deployment's list).
    let types = RwSignal::new(Vec::<PlaceTypeChoice>::new());
    spawn_local(async move {
        if let Ok(l) = invoke(&ListPlaceTypes {}).await {
            types.set(l.data);
        }
    });
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
            <button id="venue-back" on:click=move |_| { note.set(None); back.set(View::List); }>{move || i18n.t(Key::Back)}</button>
            <h1 id="page-title">{move || i18n.t(Key::VenueTitle)}</h1>
        </div>
        {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
        {move || note.get().filter(|n| matches!(n, Note::Amended | Note::AmendedBack)).map(|n| view! {
            <div class="notice" id="venue-note" role="status">
                {move || i18n.t(if n == Note::AmendedBack { Key::AmendedBack } else { Key::Amended })}
            </div>
        })}
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
                        {(approved && !reviews()).then(|| view! {
                            <button id="venue-statistics" class="primary"
                                on:click=move |_| back.set(View::Statistics(id.get_value()))>
                                {move || i18n.t(Key::StatsOpen)}
                            </button>
                        })}
                    </div>
                    <dl class="facts wide">
                        <dt>{move || i18n.t(Key::FCreditCode)}</dt><dd>{v.credit_code.clone().unwrap_or_default()}</dd>
                        <dt>{move || i18n.t(Key::FCategory)}</dt><dd>{move || category.map(|k| i18n.t(k)).unwrap_or_default()}</dd>
                        {v.place_type.clone().map(|code| view! {
                            <dt>{move || i18n.t(Key::FPlaceType)}</dt>
                            <dd id="venue-place-type">{move || types.get().into_iter().find(|t| t.code == code)
                                .map(|t| if i18n.lang.get() == Language::ZhCn { t.name_zh } else { t.name_en })
                                .unwrap_or_else(|| code.clone())}</dd>
                        })}
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
                            <button id="copy-code" on:click={
                                let code = v.declaration_code.clone().unwrap_or_default();
                                move |_| copy_text(&code, copied)
                            }>
                                {move || i18n.t(if copied.get() { Key::Copied } else { Key::Copy })}
                            </button>
                            <button id="renew-code" disabled=offline on:click=renew>{move || i18n.t(Key::RenewCode)}</button>
                        </div>
                        <p class="hint">{move || i18n.t(Key::DeclarationHint)}</p>
                    </section>
                })}
                {(manages() || (reviews() && approved)).then(|| view! {
                    <VenueActions venue=v.clone() manages=manages() offline=offline error=error back=back note=note on_change=reload />
                })}
                {approved.then(|| view! {
                    <Checkpoints venue_id=id.get_value() rows=checkpoints manages=manages() offline=offline
                        error=error on_change=reload
                        on_posters=move |cp| back.set(View::Posters(id.get_value(), cp)) />
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
                <History rows=l.data.history.clone() />
            }
        })}
    }
}

/// Puts `text` on the clipboard and says so for a few seconds.
fn copy_text(text: &str, copied: RwSignal<bool>) {
    if let Some(w) = web_sys::window() {
        let promise = w.navigator().clipboard().write_text(text);
        leptos::task::spawn_local(async move {
            if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                copied.set(true);
                set_timeout(move || copied.set(false), std::time::Duration::from_secs(3));
            }
        });
    }
}

/// Who did what to the venue, and when, oldest first.
#[component]
fn History(rows: Vec<HistoryRow>) -> impl IntoView {
    let i18n = use_i18n();
    (!rows.is_empty()).then(|| view! {
        <section class="card" id="history">
            <h2>{move || i18n.t(Key::History)}</h2>
            {rows.into_iter().enumerate().map(|(i, h)| {
                let at = h.at.chars().take(16).collect::<String>().replace('T', " ");
                let action = history_key(&h.action);
                view! {
                    <div class="row history" id=format!("history-{i}")>
                        <span class="when">{at}</span>
                        <b>{move || i18n.t(action)}</b>
                        <span class="grow">{h.actor.clone()} {(!h.detail.is_empty()).then(|| format!(" · {}", h.detail))}</span>
                    </div>
                }
            }).collect_view()}
        </section>
    })
}

/// What the administrator (change details, delete a pending application, hand over) or the
/// reviewer (close) does to the venue as a whole.
#[component]
fn VenueActions(
    venue: VenueRow,
    manages: bool,
    offline: bool,
    error: RwSignal<Option<IpcError>>,
    back: RwSignal<View>,
    note: RwSignal<Option<Note>>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    // Which confirmation is open: withdraw, hand over, close.
    let open = RwSignal::new(None::<&'static str>);
    let text = RwSignal::new(String::new());
    let id = StoredValue::new(venue.venue_id.clone());
    let pending = venue.status == "pending" && venue.declaration_code.is_none();
    let approved = venue.status == "approved";
    let closed = venue.status == "closed";
    let edit_row = StoredValue::new(venue.clone());
    let confirm = move |_| {
        let venue_id = id.get_value();
        let t = text.get_untracked();
        let which = open.get_untracked();
        spawn_local(async move {
            let done = match which {
                Some("withdraw") => invoke(&WithdrawApplication { venue_id })
                    .await
                    .map(|_| Some(Note::Withdrawn)),
                Some("handover") => invoke(&HandOverVenue {
                    venue_id,
                    username: t,
                })
                .await
                .map(|_| Some(Note::HandedOver)),
                Some("close") => invoke(&CloseVenue {
                    venue_id,
                    reason: t,
                })
                .await
                .map(|_| None),
                _ => return,
            };
            match done {
                Ok(Some(n)) => {
                    note.set(Some(n));
                    back.set(View::List);
                }
                Ok(None) => {
                    open.set(None);
                    on_change();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let start = move |which: &'static str| {
        text.set(String::new());
        open.set(Some(which));
    };
    view! {
        <section class="card" id="venue-actions">
            <div class="actions top">
                {(manages && !closed).then(|| view! {
                    <button id="venue-edit" disabled=offline on:click=move |_| back.set(View::Amend(edit_row.get_value()))>
                        {move || i18n.t(Key::EditVenue)}
                    </button>
                })}
                {(manages && pending).then(|| view! {
                    <button id="venue-withdraw" class="danger" disabled=offline on:click=move |_| start("withdraw")>
                        {move || i18n.t(Key::WithdrawApp)}
                    </button>
                })}
                {(manages && !closed).then(|| view! {
                    <button id="venue-handover" disabled=offline on:click=move |_| start("handover")>
                        {move || i18n.t(Key::HandOver)}
                    </button>
                })}
                {(!manages && approved).then(|| view! {
                    <button id="venue-close" class="danger" disabled=offline on:click=move |_| start("close")>
                        {move || i18n.t(Key::CloseVenueBtn)}
                    </button>
                })}
            </div>
            {move || open.get().map(|which| {
                let (label, button) = match which {
                    "withdraw" => (None, Key::ConfirmWithdraw),
                    "handover" => (Some(Key::HandOverTo), Key::ConfirmHandOver),
                    _ => (Some(Key::CloseReason), Key::ConfirmClose),
                };
                view! {
                    <div class="reject-form" id="venue-confirm">
                        {label.map(|l| view! {
                            <label>
                                <span>{move || i18n.t(l)}</span>
                                <input id="venue-confirm-text" type="text" maxlength="200"
                                    prop:value=move || text.get() on:input=move |e| text.set(event_target_value(&e)) />
                            </label>
                        })}
                        <button id="venue-confirm-cancel" on:click=move |_| open.set(None)>{move || i18n.t(Key::Cancel)}</button>
                        <button id="venue-confirm-ok" class="danger"
                            disabled=move || label.is_some() && text.get().trim().is_empty()
                            on:click=confirm>{move || i18n.t(button)}</button>
                    </div>
                }
            })}
        </section>
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
    /// Opens a checkpoint's posters.
    on_posters: impl Fn(String) + Copy + Send + Sync + 'static,
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
                        {c.entry_code.clone().map(|url| {
                            let done = RwSignal::new(false);
                            view! {
                                <button id=format!("checkpoint-{i}-entry-code") title=url.clone()
                                    on:click=move |_| copy_text(&url, done)>
                                    {move || i18n.t(if done.get() { Key::Copied } else { Key::CopyEntryCode })}
                                </button>
                            }
                        })}
                        {c.exit_code.clone().map(|url| {
                            let done = RwSignal::new(false);
                            view! {
                                <button id=format!("checkpoint-{i}-exit-code") title=url.clone()
                                    on:click=move |_| copy_text(&url, done)>
                                    {move || i18n.t(if done.get() { Key::Copied } else { Key::CopyExitCode })}
                                </button>
                            }
                        })}
                        {(manages && c.entry_code.is_some() && !c.disabled).then(|| {
                            let cp = c.checkpoint_id.clone();
                            view! {
                                <button id=format!("checkpoint-{i}-posters") class="primary"
                                    on:click=move |_| on_posters(cp.clone())>{move || i18n.t(Key::Posters)}</button>
                            }
                        })}
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
