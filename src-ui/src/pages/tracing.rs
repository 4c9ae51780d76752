//! 流调: the health authority's work area — the alerts view (newest first, filtered, refreshed
//! every 5 s, handled with a note), tracing a person from their code, ID number or pseudonym to
//! their visits and the people co-present (sortable, grouped by place, a second hop on request),
//! and the audit of tracing queries.
//!
//! Invariant: the form says what is missing before anything is sent; every trace is a fresh,
//! audited server query (nothing traced is kept on this device).

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    AlertItem, AuditItem, HandleAlert, IpcError, ListAlerts, Loaded, TraceAuditLog, TracePerson,
    TraceResult,
};

use crate::api::invoke;
use crate::i18n::{use_i18n, Key};
use crate::shared::{ErrorBanner, OfflineAge};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Alerts,
    Trace,
    Audit,
}

/// The 流调 page.
#[component]
pub fn TracingPage() -> impl IntoView {
    let i18n = use_i18n();
    let tab = RwSignal::new(Tab::Alerts);
    // A trace started from an alert: the person's pseudonym.
    let start_from = RwSignal::new(None::<String>);
    let tab_button = move |t: Tab, key: Key, id: &'static str| {
        view! {
            <button id=id class="tab" class:active=move || tab.get() == t on:click=move |_| tab.set(t)>
                {move || i18n.t(key)}
            </button>
        }
    };
    view! {
        <h1 id="page-title">{move || i18n.t(Key::NavTracing)}</h1>
        <div class="tabs">
            {tab_button(Tab::Alerts, Key::TabAlerts, "tab-alerts")}
            {tab_button(Tab::Trace, Key::TabTrace, "tab-trace")}
            {tab_button(Tab::Audit, Key::TabAudit, "tab-audit")}
        </div>
        {move || match tab.get() {
            Tab::Alerts => view! { <Alerts on_trace=move |s| { start_from.set(Some(s)); tab.set(Tab::Trace); } /> }.into_any(),
            Tab::Trace => view! { <Trace start_from=start_from /> }.into_any(),
            Tab::Audit => view! { <Audit /> }.into_any(),
        }}
    }
}

/// The text of an alert reason code.
pub fn alert_reason_key(code: &str) -> Key {
    match code {
        "red_code" => Key::RRedCode,
        "yellow_code" => Key::RYellowCode,
        "fever" => Key::RFever,
        "implausible_temperature" => Key::RImplausible,
        "revoked" | "revoked_subject" => Key::ReasonRevoked,
        "expired" => Key::ReasonExpired,
        "forged" | "unknown_key_id" => Key::ReasonForged,
        "nat_positive" => Key::RNatPositive,
        "nat_pending" => Key::RNatPending,
        "nat_missing" => Key::RNatMissing,
        "nat_too_old" => Key::RNatTooOld,
        "code_too_old" => Key::RCodeTooOld,
        "impossible_travel" => Key::RImpossibleTravel,
        "shared_code" => Key::RSharedCode,
        _ => Key::ReasonOther,
    }
}

fn kind_key(kind: &str) -> Key {
    match kind {
        "two_places" => Key::AlertKindTwoPlaces,
        "reentry" => Key::AlertKindReentry,
        _ => Key::AlertKindRefusal,
    }
}

#[component]
fn Alerts(on_trace: impl Fn(String) + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let reason = RwSignal::new(String::new());
    let venue = RwSignal::new(String::new());
    let region = RwSignal::new(String::new());
    let hours = RwSignal::new(168u32);
    let unhandled = RwSignal::new(false);
    let error = RwSignal::new(None::<IpcError>);
    let list = RwSignal::new(None::<Loaded<Vec<AlertItem>>>);
    let load = move || {
        let req = ListAlerts {
            region: region.get_untracked(),
            venue_id: venue.get_untracked(),
            reason: reason.get_untracked(),
            hours: hours.get_untracked(),
            unhandled: unhandled.get_untracked(),
        };
        spawn_local(async move {
            match invoke(&req).await {
                Ok(l) => {
                    list.set(Some(l));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    load();
    // New alerts appear within 5 s: the view asks again while it is on screen.
    let poll = set_interval_with_handle(load, std::time::Duration::from_secs(5)).ok();
    on_cleanup(move || {
        if let Some(h) = poll {
            h.clear();
        }
    });
    let reasons = [
        ("", Key::AlertFilterAny),
        ("red_code", Key::RRedCode),
        ("yellow_code", Key::RYellowCode),
        ("fever", Key::RFever),
        ("revoked", Key::ReasonRevoked),
        ("shared_code", Key::RSharedCode),
        ("impossible_travel", Key::RImpossibleTravel),
    ];
    view! {
        <section class="card filters" id="alert-filters">
            <label>{move || i18n.t(Key::AlertFilterReason)}
                <select id="alert-reason" on:change=move |ev| { reason.set(event_target_value(&ev)); load(); }>
                    {reasons.into_iter().map(|(code, key)| view! {
                        <option value=code selected=move || reason.get() == code>{move || i18n.t(key)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>{move || i18n.t(Key::AlertFilterTime)}
                <select id="alert-hours" on:change=move |ev| {
                    hours.set(event_target_value(&ev).parse().unwrap_or(0)); load();
                }>
                    <option value="24" selected=move || hours.get() == 24>{move || i18n.t(Key::AlertHours24)}</option>
                    <option value="168" selected=move || hours.get() == 168>{move || i18n.t(Key::AlertHours168)}</option>
                    <option value="0" selected=move || hours.get() == 0>{move || i18n.t(Key::AlertHoursAny)}</option>
                </select>
            </label>
            <label>{move || i18n.t(Key::AlertFilterVenue)}
                <input id="alert-venue" prop:value=venue on:change=move |ev| { venue.set(event_target_value(&ev)); load(); } />
            </label>
            <label>{move || i18n.t(Key::AlertFilterRegion)}
                <input id="alert-region" inputmode="numeric" prop:value=region
                    on:change=move |ev| { region.set(event_target_value(&ev)); load(); } />
            </label>
            <label class="check">
                <input type="checkbox" id="alert-unhandled" prop:checked=unhandled
                    on:change=move |ev| { unhandled.set(event_target_checked(&ev)); load(); } />
                {move || i18n.t(Key::AlertUnhandledOnly)}
            </label>
            <span class="hint">{move || i18n.t(Key::AlertAutoRefresh)}</span>
        </section>
        {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
        {move || list.get().map(|l| view! {
            <OfflineAge offline=l.offline age_secs=l.age_secs />
            {l.data.is_empty().then(|| view! { <p class="empty" id="alerts-empty">{move || i18n.t(Key::AlertsEmpty)}</p> })}
            <div class="list" id="alerts">
                {l.data.into_iter().enumerate().map(|(i, a)| view! {
                    <AlertCard i=i a=a error=error on_done=load on_trace=on_trace offline=l.offline />
                }).collect_view()}
            </div>
        })}
    }
}

#[component]
fn AlertCard(
    i: usize,
    a: AlertItem,
    error: RwSignal<Option<IpcError>>,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
    on_trace: impl Fn(String) + Copy + Send + Sync + 'static,
    offline: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let note = RwSignal::new(String::new());
    let missing = RwSignal::new(false);
    let handled = a.handled.is_some();
    let (venue_id, alert_id) = (a.venue_id.clone(), a.alert_id.clone());
    let save = move |_| {
        let text = note.get_untracked().trim().to_string();
        if text.is_empty() {
            missing.set(true);
            return;
        }
        missing.set(false);
        let req = HandleAlert {
            venue_id: venue_id.clone(),
            alert_id: alert_id.clone(),
            note: text,
        };
        spawn_local(async move {
            match invoke(&req).await {
                Ok(()) => on_done(),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let subject = a.subject.clone();
    let kind = kind_key(&a.kind);
    view! {
        <article class="card alert" class:handled=handled id=format!("alert-{i}") data-kind=a.kind.clone()>
            <div class="row">
                <span class="badge refuse" id=format!("alert-{i}-kind")>{move || i18n.t(kind)}</span>
                <span class="grow alert-venue">{a.venue_name.clone()}{a.checkpoint.clone().map(|c| format!(" · {c}"))}</span>
                <span class="alert-at" id=format!("alert-{i}-at")>{a.at.clone()}</span>
            </div>
            <p class="alert-reasons" id=format!("alert-{i}-reasons")>
                {a.reasons.iter().map(|r| {
                    let k = alert_reason_key(r);
                    view! { <span class="chip">{move || i18n.t(k)}</span> }
                }).collect_view()}
                " " {a.name_masked.clone().unwrap_or_default()} " " {a.phone_masked.clone().unwrap_or_default()}
            </p>
            {match a.handled.clone() {
                Some(h) => view! {
                    <p class="handled" id=format!("alert-{i}-handled")>
                        "✓ " {move || i18n.t(Key::AlertHandled)} " · " {h.clone()} " — " {a.note.clone().unwrap_or_default()}
                    </p>
                }.into_any(),
                None => view! {
                    <div class="row">
                        <input class="grow" id=format!("alert-{i}-note") placeholder=move || i18n.t(Key::AlertNote)
                            prop:value=note on:input=move |ev| note.set(event_target_value(&ev)) />
                        <button id=format!("alert-{i}-save") class="primary" disabled=offline on:click=save>
                            {move || i18n.t(Key::AlertSaveNote)}
                        </button>
                    </div>
                    {move || missing.get().then(|| view! { <p class="problem">{move || i18n.t(Key::AlertNeedNote)}</p> })}
                }.into_any(),
            }}
            {subject.map(|s| view! {
                <button id=format!("alert-{i}-trace") on:click=move |_| on_trace(s.clone())>
                    {move || i18n.t(Key::AlertTraceThis)}
                </button>
            })}
        </article>
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Code,
    Id,
    Subject,
}

#[component]
fn Trace(start_from: RwSignal<Option<String>>) -> impl IntoView {
    let i18n = use_i18n();
    let by = RwSignal::new(By::Code);
    let who = RwSignal::new(String::new());
    if let Some(s) = start_from.get_untracked() {
        by.set(By::Subject);
        who.set(s);
        start_from.set(None);
    }
    let days = RwSignal::new(14u32);
    let margin = RwSignal::new(30u32);
    let case = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Key>::new());
    let error = RwSignal::new(None::<IpcError>);
    let result = RwSignal::new(None::<TraceResult>);
    let busy = RwSignal::new(false);
    let sort_by_place = RwSignal::new(false);
    let run = move || {
        let mut p = Vec::new();
        if who.get_untracked().trim().is_empty() {
            p.push(Key::TraceNeedPerson);
        }
        if case.get_untracked().trim().is_empty() {
            p.push(Key::TraceNeedCase);
        }
        if reason.get_untracked().trim().chars().count() < 4 {
            p.push(Key::TraceNeedReason);
        }
        problems.set(p.clone());
        if !p.is_empty() {
            return;
        }
        let text = who.get_untracked().trim().to_string();
        let mut req = TracePerson {
            days: days.get_untracked(),
            margin_minutes: margin.get_untracked(),
            case_number: case.get_untracked(),
            reason: reason.get_untracked(),
            ..TracePerson::default()
        };
        match by.get_untracked() {
            By::Code => req.code = text,
            By::Id => req.id_number = text,
            By::Subject => req.subject = text,
        }
        busy.set(true);
        spawn_local(async move {
            match invoke(&req).await {
                Ok(r) => {
                    result.set(Some(r));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let by_button = move |b: By, key: Key, id: &'static str| {
        view! {
            <button id=id class:active=move || by.get() == b on:click=move |_| { by.set(b); who.set(String::new()); }>
                {move || i18n.t(key)}
            </button>
        }
    };
    view! {
        <section class="card" id="trace-form">
            <div class="row">
                {by_button(By::Code, Key::TraceByCode, "trace-by-code")}
                {by_button(By::Id, Key::TraceById, "trace-by-id")}
                {by_button(By::Subject, Key::TraceBySubject, "trace-by-subject")}
            </div>
            <textarea id="trace-who" rows="2" placeholder=move || i18n.t(match by.get() {
                By::Code => Key::TraceCodeHint, By::Id => Key::TraceById, By::Subject => Key::TraceBySubject })
                prop:value=who on:input=move |ev| who.set(event_target_value(&ev)) />
            <div class="row">
                <label>{move || i18n.t(Key::TraceDays)}
                    <input id="trace-days" type="number" min="1" max="30" prop:value=move || days.get().to_string()
                        on:change=move |ev| days.set(event_target_value(&ev).parse::<u32>().unwrap_or(14).clamp(1, 30)) />
                </label>
                <label>{move || i18n.t(Key::TraceMargin)}
                    <input id="trace-margin" type="number" min="0" max="720" prop:value=move || margin.get().to_string()
                        on:change=move |ev| margin.set(event_target_value(&ev).parse::<u32>().unwrap_or(30).min(720)) />
                </label>
            </div>
            <div class="row">
                <label class="grow">{move || i18n.t(Key::TraceCase)}
                    <input id="trace-case" prop:value=case on:input=move |ev| case.set(event_target_value(&ev)) />
                </label>
                <label class="grow">{move || i18n.t(Key::TraceReason)}
                    <input id="trace-reason" prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev)) />
                </label>
            </div>
            {move || problems.get().into_iter().map(|k| view! { <p class="problem">{move || i18n.t(k)}</p> }).collect_view()}
            <button id="trace-run" class="primary big" disabled=move || busy.get() on:click=move |_| run()>
                {move || i18n.t(Key::TraceRun)}
            </button>
            <p class="hint">{move || i18n.t(Key::TraceAuditNote)}</p>
        </section>
        {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
        {move || result.get().map(|r| {
            let mut contacts = r.contacts.clone();
            if sort_by_place.get() {
                contacts.sort_by(|a, b| a.venue_name.cmp(&b.venue_name).then(a.start.cmp(&b.start)));
            } else {
                contacts.sort_by(|a, b| a.start.cmp(&b.start));
            }
            view! {
                <section class="card" id="trace-result" data-audit=r.audit_id>
                    <p class="hint">{move || i18n.t(Key::TraceAuditId)} " " <span id="trace-audit-id">{r.audit_id}</span></p>
                    <h2>{move || i18n.t(Key::TraceVisits)} " (" <span id="trace-visit-count">{r.visits.len()}</span> ")"</h2>
                    {r.visits.is_empty().then(|| view! { <p class="empty">{move || i18n.t(Key::TraceNoVisits)}</p> })}
                    <table class="counts" id="trace-visits">
                        <tbody>
                        {r.visits.iter().enumerate().map(|(i, v)| {
                            let ended = match v.ended.as_str() {
                                "exit" => Key::TraceEndedExit,
                                "exit_only" => Key::TraceEndedExitOnly,
                                _ => Key::TraceEndedAuto,
                            };
                            let how = if v.manual { Key::TraceManual } else { Key::TraceScan };
                            view! {
                                <tr id=format!("trace-visit-{i}")>
                                    <td>{v.venue_name.clone()}</td>
                                    <td>{v.checkpoints.join(", ")}</td>
                                    <td>{v.start.clone()} " — " {v.end.clone()}</td>
                                    <td>{move || i18n.t(ended)}</td>
                                    <td>{move || i18n.t(how)}</td>
                                </tr>
                            }
                        }).collect_view()}
                        </tbody>
                    </table>
                    <h2>{move || i18n.t(Key::TraceByPlace)}</h2>
                    <table class="counts" id="trace-by-place">
                        <tbody>
                        {r.by_place.iter().map(|p| view! {
                            <tr><td>{p.label.clone()}</td><td class="n">{p.counts.entries} " " {move || i18n.t(Key::TraceCount)}</td></tr>
                        }).collect_view()}
                        </tbody>
                    </table>
                    <div class="row">
                        <h2 class="grow">{move || i18n.t(Key::TraceContacts)} " (" <span id="trace-contact-count">{r.contacts_total}</span> ")"</h2>
                        <button id="trace-sort-time" class:active=move || !sort_by_place.get() on:click=move |_| sort_by_place.set(false)>{move || i18n.t(Key::TraceSortTime)}</button>
                        <button id="trace-sort-place" class:active=move || sort_by_place.get() on:click=move |_| sort_by_place.set(true)>{move || i18n.t(Key::TraceSortPlace)}</button>
                    </div>
                    {r.contacts.is_empty().then(|| view! { <p class="empty">{move || i18n.t(Key::TraceNoContacts)}</p> })}
                    {((r.contacts.len() as u64) < r.contacts_total).then(|| {
                        let (shown, total) = (r.contacts.len(), r.contacts_total);
                        view! { <p class="hint" id="trace-contacts-shown">{move || i18n.t(Key::TraceContactsShown).replace("{shown}", &shown.to_string()).replace("{total}", &total.to_string())}</p> }
                    })}
                    <table class="counts" id="trace-contacts">
                        <thead><tr>
                            <th>{move || i18n.t(Key::TracePerson)}</th>
                            <th>{move || i18n.t(Key::TracePlace)}</th>
                            <th>{move || i18n.t(Key::TraceWhen)}</th>
                            <th>{move || i18n.t(Key::TraceOverlap)}</th>
                            <th></th>
                        </tr></thead>
                        <tbody>
                        {contacts.into_iter().enumerate().map(|(i, c)| {
                            let s = c.subject.clone();
                            view! {
                                <tr id=format!("trace-contact-{i}")>
                                    <td>{c.name_masked.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td>{c.venue_name.clone()}</td>
                                    <td>{c.start.clone()} " — " {c.end.clone()}</td>
                                    <td class="n">{c.overlap_minutes}</td>
                                    <td><button id=format!("trace-contact-{i}-hop") on:click=move |_| {
                                        by.set(By::Subject);
                                        who.set(s.clone());
                                        result.set(None);
                                    }>{move || i18n.t(Key::TraceSecondHop)}</button></td>
                                </tr>
                            }
                        }).collect_view()}
                        </tbody>
                    </table>
                </section>
            }
        })}
    }
}

#[component]
fn Audit() -> impl IntoView {
    let i18n = use_i18n();
    let error = RwSignal::new(None::<IpcError>);
    let log = RwSignal::new(None::<Loaded<Vec<AuditItem>>>);
    spawn_local(async move {
        match invoke(&TraceAuditLog {}).await {
            Ok(l) => log.set(Some(l)),
            Err(e) => error.set(Some(e)),
        }
    });
    view! {
        {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
        {move || log.get().map(|l| view! {
            <OfflineAge offline=l.offline age_secs=l.age_secs />
            {l.data.is_empty().then(|| view! { <p class="empty">{move || i18n.t(Key::AuditEmpty)}</p> })}
            <div class="list" id="audit-log">
                {l.data.into_iter().enumerate().map(|(i, a)| view! {
                    <article class="card audit" id=format!("audit-{i}") data-id=a.id>
                        <div class="row">
                            <span class="audit-at">{a.at}</span>
                            <span class="grow">{a.actor}</span>
                            <span class="audit-case badge">{a.case_number}</span>
                        </div>
                        <dl class="facts">
                            <dt>{move || i18n.t(Key::TraceReason)}</dt><dd>{a.reason}</dd>
                            <dt>{move || i18n.t(Key::AuditWindow)}</dt><dd>{a.window}</dd>
                            <dt>{move || i18n.t(Key::AuditResults)}</dt><dd>{a.visits} " / " {a.contacts}</dd>
                            <dt>{move || i18n.t(Key::AuditSubject)}</dt>
                            <dd class="mono">{a.subject.chars().take(24).collect::<String>()} "…"</dd>
                        </dl>
                    </article>
                }).collect_view()}
            </div>
        })}
    }
}
