//! Sync status: online or offline, records waiting, age of the last sync and of the trust list,
//! with warnings for a stale trust list, a clock more than 5 minutes off or set back, time not
//! verified by the server for too long, a tampered answer, and the blocking state.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{GetSyncStatus, SyncNow, SyncProblem, SyncStatus};

use crate::api::invoke;
use crate::i18n::{use_i18n, Key};

/// Sync status: online or offline, records waiting, age of the last sync and of the trust list,
/// with warnings for a stale trust list and a clock more than 5 minutes off.
#[component]
pub(super) fn SyncBar() -> impl IntoView {
    let i18n = use_i18n();
    let status = RwSignal::new(None::<SyncStatus>);
    let refresh = move || {
        spawn_local(async move {
            if let Ok(s) = invoke(&GetSyncStatus {}).await {
                status.set(Some(s));
            }
        })
    };
    refresh();
    let timer = set_interval_with_handle(refresh, std::time::Duration::from_secs(2)).ok();
    on_cleanup(move || {
        if let Some(t) = timer {
            t.clear();
        }
    });
    let now = move |_| {
        spawn_local(async move {
            if let Ok(s) = invoke(&SyncNow {}).await {
                status.set(Some(s));
            }
        })
    };
    move || {
        status.get().map(|s| {
            let when = |secs: Option<i64>| secs.map(|x| crate::i18n::age(i18n, x));
            let last = when(s.last_sync_secs);
            let trust = when(s.trust_age_secs);
            let offset = s.clock_offset_secs;
            // Problems someone must act on get a banner; the rest show as 离线 and retry.
            let problem = s.last_error.and_then(|p| match p {
                SyncProblem::NotEnrolled | SyncProblem::NoServer => Some(Key::SyncNotEnrolled),
                SyncProblem::DeviceRevoked | SyncProblem::UnknownDevice => Some(Key::SyncRevoked),
                SyncProblem::Untrusted => Some(Key::SyncUntrusted),
                SyncProblem::DevicePending => Some(Key::DevicePendingBanner),
                SyncProblem::Offline
                | SyncProblem::BadAnswer
                | SyncProblem::TrustInvalid
                | SyncProblem::Storage
                | SyncProblem::Internal
                | SyncProblem::ClockSkew
                | SyncProblem::ServerUnavailable
                | SyncProblem::ServerRefused => None,
            });
            view! {
                <div class="sync-bar" id="sync-status" class:online=s.online class:offline=!s.online>
                    <span class="pill" id="sync-online">
                        {move || if s.online { i18n.t(Key::SyncOnline) } else { i18n.t(Key::SyncOffline) }}
                    </span>
                    <span id="sync-waiting">{move || i18n.t(Key::SyncWaiting)}" "<b>{s.waiting}</b></span>
                    <span id="sync-last">{move || i18n.t(Key::SyncLast)}" "
                        {let last = last.clone(); move || last.clone().unwrap_or_else(|| i18n.t(Key::SyncNever).to_string())}
                    </span>
                    <span id="sync-trust" class:warn=s.trust_stale>{move || i18n.t(Key::SyncTrust)}" "
                        {let trust = trust.clone(); move || trust.clone().unwrap_or_else(|| i18n.t(Key::SyncNever).to_string())}
                    </span>
                    <button id="sync-now" on:click=now>{move || i18n.t(Key::SyncNow)}</button>
                </div>
                {problem.map(|k| view! { <div class="banner warn" id="sync-problem">{move || i18n.t(k)}</div> })}
                {(s.rejected > 0).then(|| view! { <div class="banner warn" id="sync-rejected">{s.rejected}" "{move || i18n.t(Key::SyncRejected)}</div> })}
                {(s.overdue > 0).then(|| view! { <div class="banner warn" id="sync-overdue">{s.overdue}" "{move || i18n.t(Key::SyncOverdue)}</div> })}
                {(s.trust_stale && s.enrolled).then(|| view! { <div class="banner warn" id="sync-trust-stale">{move || i18n.t(Key::SyncTrustStale)}</div> })}
                {s.blocked.then(|| view! { <div class="banner block" id="station-blocked">{move || i18n.t(Key::StationBlocked)}</div> })}
                {s.time_unverified.then(|| view! { <div class="banner warn" id="time-unverified">{move || i18n.t(Key::TimeUnverified)}</div> })}
                {s.clock_set_back.then(|| view! { <div class="banner warn" id="clock-set-back">{move || i18n.t(Key::ClockSetBack)}</div> })}
                {s.clock_warn.then(|| view! {
                    <div class="banner warn" id="clock-banner">{move || i18n.t(Key::ClockBanner)}{format!("{:+} min", offset / 60)}</div>
                })}
            }
        })
    }
}
