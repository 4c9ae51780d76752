//! The station (检测) screen: choose a frame source, see the live preview with the found code
//! outlined, and the result of the last code read from the camera or a USB scanner.
//!
//! Invariant: decoding and verification happen in the app (events and `check_code`); this page
//! only shows them. Leaving the page stops the scan.

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    CheckCode, CodeCheck, FrameSourceSpec, IpcError, Outline, ScanCode, ScanPreview, ScanSeen,
    StartScan, StopScan, EVENT_CODE, EVENT_PREVIEW, EVENT_SEEN,
};

use crate::api::{invoke, listen, Subscription};
use crate::app::ErrorBanner;
use crate::i18n::{reason_key, use_i18n, Key};
use crate::wedge::WedgeDetector;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Camera,
    Folder,
    Demo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Camera,
    Scanner,
}

/// The last code read and what checking it said.
#[derive(Debug, Clone, PartialEq)]
struct LastScan {
    text: String,
    check: CodeCheck,
    via: Via,
}

/// Checks `text` in the app and shows the answer.
fn handle_code(
    text: String,
    via: Via,
    last: RwSignal<Option<LastScan>>,
    error: RwSignal<Option<IpcError>>,
) {
    spawn_local(async move {
        match invoke(&CheckCode { text: text.clone() }).await {
            Ok(check) => last.set(Some(LastScan { text, check, via })),
            Err(e) => error.set(Some(e)),
        }
    });
}

/// The station page.
#[component]
pub fn StationPage() -> impl IntoView {
    let i18n = use_i18n();
    let choice = RwSignal::new(Choice::Camera);
    let folder = RwSignal::new(String::new());
    let running = RwSignal::new(false);
    let error = RwSignal::new(None::<IpcError>);
    let preview = RwSignal::new(None::<ScanPreview>);
    let outlines = RwSignal::new(Vec::<Outline>::new());
    let last = RwSignal::new(None::<LastScan>);
    let handled = RwSignal::new(0u64);
    Effect::new(move |_| {
        if last.with(Option::is_some) {
            handled.update(|n| *n += 1);
        }
    });
    let subs = StoredValue::new_local(Vec::<Subscription>::new());

    spawn_local(async move {
        let mut held = Vec::new();
        if let Ok(s) = listen(EVENT_PREVIEW, move |p: ScanPreview| preview.set(Some(p))).await {
            held.push(s);
        }
        if let Ok(s) = listen(EVENT_SEEN, move |s: ScanSeen| outlines.set(s.outlines)).await {
            held.push(s);
        }
        if let Ok(s) = listen(EVENT_CODE, move |c: ScanCode| {
            handle_code(c.text, Via::Camera, last, error)
        })
        .await
        {
            held.push(s);
        }
        subs.update_value(|v| v.extend(held));
    });

    let wedge = StoredValue::new_local(WedgeDetector::default());
    let keys = window_event_listener(ev::keydown, move |e| {
        let key = e.key();
        let t = e.time_stamp();
        if let Some(text) = wedge.try_update_value(|w| w.key(&key, t)).flatten() {
            e.prevent_default();
            handle_code(text, Via::Scanner, last, error);
        }
    });

    on_cleanup(move || {
        keys.remove();
        subs.update_value(|v| v.clear());
        spawn_local(async move {
            let _ = invoke(&StopScan {}).await;
        });
    });

    let start = move |_| {
        let source = match choice.get_untracked() {
            Choice::Camera => FrameSourceSpec::Camera { index: 0 },
            Choice::Folder => FrameSourceSpec::Folder {
                path: folder.get_untracked(),
                fps: 20,
            },
            Choice::Demo => FrameSourceSpec::Synthetic { fps: 20 },
        };
        spawn_local(async move {
            match invoke(&StartScan { source }).await {
                Ok(_) => {
                    error.set(None);
                    running.set(true);
                }
                Err(e) => {
                    running.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    let stop = move |_| {
        spawn_local(async move {
            let _ = invoke(&StopScan {}).await;
            running.set(false);
            preview.set(None);
            outlines.set(Vec::new());
        });
    };

    let choice_button = move |c: Choice, id: &'static str, key: Key| {
        view! {
            <button id=id class:selected=move || choice.get() == c on:click=move |_| choice.set(c)>
                {move || i18n.t(key)}
            </button>
        }
    };

    view! {
        <h1 id="page-title">{move || i18n.t(Key::NavStation)}</h1>
        {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
        <section class="card sources">
            <div class="source-buttons">
                {choice_button(Choice::Camera, "source-camera", Key::SourceCamera)}
                {choice_button(Choice::Folder, "source-folder", Key::SourceFolder)}
                {choice_button(Choice::Demo, "source-demo", Key::SourceDemo)}
            </div>
            <Show when=move || choice.get() == Choice::Folder>
                <input
                    id="folder-path"
                    type="text"
                    placeholder=move || i18n.t(Key::FolderPath)
                    prop:value=move || folder.get()
                    on:input=move |e| folder.set(event_target_value(&e))
                />
            </Show>
            <div class="run-buttons">
                <button id="scan-start" class="primary" on:click=start>{move || i18n.t(Key::ScanStart)}</button>
                <button id="scan-stop" disabled=move || !running.get() on:click=stop>{move || i18n.t(Key::ScanStop)}</button>
            </div>
        </section>
        <div class="station-grid">
            <Preview preview=preview outlines=outlines running=running />
            <ResultPanel last=last handled=handled />
        </div>
    }
}

#[component]
fn Preview(
    preview: RwSignal<Option<ScanPreview>>,
    outlines: RwSignal<Vec<Outline>>,
    running: RwSignal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="preview" id="preview">
            {move || match preview.get() {
                None => view! {
                    <p class="idle">{move || if running.get() { i18n.t(Key::Loading) } else { i18n.t(Key::ScanIdle) }}</p>
                }.into_any(),
                Some(p) => {
                    let (w, h) = (p.width, p.height);
                    view! {
                        <div class="frame">
                            <img id="scan-preview" src=p.data_url data-fps=format!("{:.0}", p.fps) data-seq=p.seq.to_string() />
                            <svg class="overlay" viewBox=format!("0 0 {w} {h}") preserveAspectRatio="none">
                                {move || outlines.get().into_iter().map(|o| {
                                    let pts = o.iter().map(|[x, y]| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ");
                                    view! { <polygon class="outline" points=pts /> }
                                }).collect_view()}
                            </svg>
                        </div>
                    }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn ResultPanel(last: RwSignal<Option<LastScan>>, handled: RwSignal<u64>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="result" id="scan-result" data-count=move || handled.get().to_string() class:pass=move || last.get().is_some_and(|l| l.check.valid && l.check.color.as_deref() == Some("green"))
            class:refuse=move || last.get().is_some_and(|l| !(l.check.valid && l.check.color.as_deref() == Some("green")))>
            <h2>{move || i18n.t(Key::LastCode)}</h2>
            {move || match last.get() {
                None => view! { <p class="waiting">{move || i18n.t(Key::ScanWaiting)}</p> }.into_any(),
                Some(l) => {
                    let check = l.check.clone();
                    let kind = match check.kind.as_str() {
                        "health_code" => Key::KindHealth,
                        "venue_code" => Key::KindVenue,
                        _ => Key::KindUnknown,
                    };
                    let verdict = if check.valid { Key::Verified } else { Key::NotVerified };
                    let color = check.color.as_deref().map(|c| match c {
                        "green" => Key::ColorGreen,
                        "yellow" => Key::ColorYellow,
                        _ => Key::ColorRed,
                    });
                    let reason = check.error.as_deref().map(reason_key);
                    let via = if l.via == Via::Scanner { Key::ViaScanner } else { Key::ViaCamera };
                    view! {
                        <p class="verdict" id="scan-verdict">{move || i18n.t(verdict)}</p>
                        <p id="scan-kind">{move || i18n.t(kind)}</p>
                        {color.map(|k| view! { <p class="color" id="scan-color">{move || i18n.t(k)}</p> })}
                        {check.name.clone().map(|n| view! { <p class="who" id="scan-name">{n}</p> })}
                        {check.phone.clone().map(|p| view! { <p id="scan-phone">{p}</p> })}
                        {check.venue_name.clone().map(|v| view! { <p id="scan-venue">{v}</p> })}
                        {reason.map(|k| view! { <p class="reason" id="scan-reason">{move || i18n.t(k)}</p> })}
                        <p class="via" id="scan-via">{move || i18n.t(via)}</p>
                        <p class="text" id="scan-text">{l.text.chars().take(48).collect::<String>()}</p>
                    }.into_any()
                }
            }}
        </section>
    }
}
