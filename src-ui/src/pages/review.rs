//! 审核: the community reviewer's queue — each pending application with what the applicant
//! gave, possible duplicates flagged, approve, or reject with the reason the applicant reads.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{DecideApplication, IpcError, Loaded, QueueRow, ReviewQueue};

use crate::api::invoke;
use crate::i18n::{category_key, use_i18n, Key};
use crate::shared::{ErrorBanner, OfflineAge};

/// The review page.
#[component]
pub fn ReviewPage() -> impl IntoView {
    let i18n = use_i18n();
    let error = RwSignal::new(None::<IpcError>);
    let queue = RwSignal::new(None::<Loaded<Vec<QueueRow>>>);
    let reload = move || {
        spawn_local(async move {
            match invoke(&ReviewQueue {}).await {
                Ok(q) => {
                    queue.set(Some(q));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    reload();
    view! {
        <h1 id="page-title">{move || i18n.t(Key::NavReview)}</h1>
        {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
        {move || queue.get().map(|q| view! {
            <OfflineAge offline=q.offline age_secs=q.age_secs />
            <h2 class="section">{move || i18n.t(Key::ReviewQueueTitle)}</h2>
            {q.data.is_empty().then(|| view! { <p class="empty" id="review-empty">{move || i18n.t(Key::ReviewEmpty)}</p> })}
            <div id="review-queue" class="list">
                {q.data.into_iter().enumerate().map(|(i, row)| view! {
                    <QueueCard i=i row=row error=error on_done=reload offline=q.offline />
                }).collect_view()}
            </div>
        })}
    }
}

#[component]
fn QueueCard(
    i: usize,
    row: QueueRow,
    error: RwSignal<Option<IpcError>>,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
    offline: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let rejecting = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let v = row.venue.clone();
    let id = v.venue_id.clone();
    let decide = move |approve: bool| {
        let req = DecideApplication {
            venue_id: id.clone(),
            approve,
            reason: (!approve).then(|| reason.get_untracked()),
        };
        spawn_local(async move {
            match invoke(&req).await {
                Ok(_) => on_done(),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let decide2 = decide.clone();
    let category = category_key(&v.category);
    let fact = move |label: Key, value: String| {
        view! {
            <dt>{move || i18n.t(label)}</dt><dd>{value}</dd>
        }
    };
    view! {
        <section class="card queue-item" id=format!("queue-{i}")>
            <h2 class="venue-name">{v.name.clone()}</h2>
            <dl class="facts wide">
                {fact(Key::FCreditCode, v.credit_code.clone().unwrap_or_default())}
                <dt>{move || i18n.t(Key::FCategory)}</dt>
                <dd>{move || category.map(|k| i18n.t(k)).unwrap_or_default()}</dd>
                {fact(Key::FRegion, v.region_name.clone())}
                {fact(Key::FAddress, v.address.clone())}
                {fact(Key::FResponsible, v.responsible_name.clone().unwrap_or_default())}
                {fact(Key::FPhone, v.responsible_phone.clone().unwrap_or_default())}
            </dl>
            {(!row.duplicates.is_empty()).then(|| view! {
                <p class="warn" id=format!("queue-{i}-duplicates")>
                    {move || i18n.t(Key::Duplicates)} ": " {row.duplicates.join("、")}
                </p>
            })}
            <div class="actions">
                <button id=format!("approve-{i}") class="primary" disabled=offline
                    on:click=move |_| decide(true)>{move || i18n.t(Key::Approve)}</button>
                <button id=format!("reject-{i}") class="danger" disabled=offline
                    on:click=move |_| rejecting.set(true)>{move || i18n.t(Key::Reject)}</button>
            </div>
            {move || rejecting.get().then(|| {
                let decide = decide2.clone();
                view! {
                    <div class="reject-form">
                        <label>
                            <span>{move || i18n.t(Key::RejectReason)}</span>
                            <input id=format!("reject-reason-{i}") type="text" maxlength="200"
                                prop:value=move || reason.get() on:input=move |e| reason.set(event_target_value(&e)) />
                        </label>
                        <button id=format!("reject-confirm-{i}") class="danger"
                            disabled=move || reason.get().trim().is_empty()
                            on:click=move |_| decide(false)>{move || i18n.t(Key::ConfirmReject)}</button>
                    </div>
                }
            })}
        </section>
    }
}
