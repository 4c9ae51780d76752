//! The station (检测) screen: the station's binding, the temperature taps, the live preview with
//! the found code outlined, the live counters, and — for every code read from the camera or a USB
//! scanner — the full-screen verdict (通行/禁止) that clears itself after a few seconds.
//!
//! Invariant: decoding, verification, the gate rule and recording happen in the app
//! (`submit_scan`); this page only shows them. Leaving the page stops the scan.
//!
//! One file per component: `preview`, `binding`, `temperature`, `counters`, `sync_bar`,
//! `verdict`, `manual`, `today`, `kiosk`; this one holds the page, the scan state every component
//! shares, and what happens to a code read.

mod binding;
mod counters;
mod kiosk;
mod manual;
mod preview;
mod sync_bar;
mod temperature;
mod today;
mod verdict;

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    FrameSourceSpec, GetBinding, GetCounters, IpcError, Outline, ScanCode, ScanEnded, ScanPreview,
    ScanSeen, ScanVerdict, StartScan, StationBinding, StationCounters, StopScan, SubmitScan,
    TemperatureInput, EVENT_CODE, EVENT_PREVIEW, EVENT_SEEN, EVENT_SOURCE_ENDED,
};

use crate::api::{invoke, listen, Subscription};
use crate::i18n::{error_key, use_i18n, Key};
use crate::shared::{ErrorBanner, Kiosk};
use crate::wedge::WedgeDetector;

use binding::BindingBar;
use counters::CountersBar;
use kiosk::KioskBar;
use manual::ManualPanel;
use preview::Preview;
use sync_bar::SyncBar;
use temperature::TemperatureBar;
use today::TodayList;
use verdict::VerdictScreen;

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
    Manual,
}

/// The last code read and the verdict on it.
#[derive(Debug, Clone, PartialEq)]
struct LastScan {
    text: String,
    verdict: ScanVerdict,
    via: Via,
}

/// Everything a scan updates, in one copyable bundle.
#[derive(Clone, Copy)]
struct ScanState {
    last: RwSignal<Option<LastScan>>,
    error: RwSignal<Option<IpcError>>,
    temp: RwSignal<TemperatureInput>,
    counters: RwSignal<StationCounters>,
    /// Bumped by every verdict; the screen clears itself when its own number is still current.
    shown: RwSignal<u64>,
    /// The station options (seconds on screen, tones).
    options: RwSignal<venuecode_ipc::Settings>,
    /// The next code read is the proxy's own (manual panel), not a check-in.
    proxy_scan: RwSignal<bool>,
    /// The proxy's code read, with who it names (masked).
    proxy_code: RwSignal<Option<(String, String)>>,
    /// Kiosk mode, taken from the shell's context when the page is built: scans arrive in event
    /// callbacks, outside any component, where `use_context` finds nothing.
    kiosk: RwSignal<bool>,
}

/// Whether the key event goes to a text field (where a space is text, not a button press).
fn typing_in_field(e: &web_sys::KeyboardEvent) -> bool {
    use leptos::wasm_bindgen::JsCast;
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA"))
}

/// Submits `text` with the current temperature and shows the verdict.
fn handle_code(text: String, via: Via, st: ScanState) {
    if st.proxy_scan.get_untracked() {
        st.proxy_scan.set(false);
        spawn_local(async move {
            match invoke(&venuecode_ipc::CheckCode { text: text.clone() }).await {
                Ok(c) => {
                    let who = [c.name, c.phone]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    st.proxy_code.set(Some((text, who)));
                }
                Err(e) => st.error.set(Some(e)),
            }
        });
        return;
    }
    // In kiosk mode residents check themselves in: temperature counts as normal.
    let temperature = if st.kiosk.get_untracked() {
        TemperatureInput::Normal
    } else {
        st.temp.get_untracked()
    };
    spawn_local(async move {
        match invoke(&SubmitScan {
            text: text.clone(),
            temperature,
        })
        .await
        {
            Ok(verdict) => show_verdict(st, text, verdict, via),
            Err(e) => st.error.set(Some(e)),
        }
    });
}

/// Shows a verdict full screen, then clears it after a few seconds unless another replaced it.
fn show_verdict(st: ScanState, text: String, verdict: ScanVerdict, via: Via) {
    st.error.set(None);
    st.counters.set(verdict.counters.clone());
    if verdict.recorded {
        st.temp.set(TemperatureInput::Normal);
    }
    let options = st.options.get_untracked();
    if options.sound {
        crate::sound::verdict_tone(verdict.pass);
    }
    st.last.set(Some(LastScan { text, verdict, via }));
    st.shown.update(|n| *n += 1);
    let mine = st.shown.get_untracked();
    set_timeout(
        move || {
            if st.shown.get_untracked() == mine {
                st.last.set(None);
            }
        },
        std::time::Duration::from_secs(u64::from(options.clear_after_secs)),
    );
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
    let st = ScanState {
        last: RwSignal::new(None),
        error,
        temp: RwSignal::new(TemperatureInput::Normal),
        counters: RwSignal::new(StationCounters::default()),
        shown: RwSignal::new(0),
        options: RwSignal::new(venuecode_ipc::Settings::default()),
        proxy_scan: RwSignal::new(false),
        proxy_code: RwSignal::new(None),
        kiosk: expect_context::<Kiosk>().0,
    };
    let binding = RwSignal::new(None::<StationBinding>);
    spawn_local(async move {
        if let Ok(b) = invoke(&GetBinding {}).await {
            binding.set(b);
        }
        if let Ok(c) = invoke(&GetCounters {}).await {
            st.counters.set(c);
        }
        if let Ok(o) = invoke(&venuecode_ipc::GetSettings {}).await {
            st.options.set(o);
        }
    });
    // Residents' own check-ins at the poster arrive with sync: the counters follow.
    let counters_timer = set_interval_with_handle(
        move || {
            spawn_local(async move {
                if let Ok(c) = invoke(&GetCounters {}).await {
                    if st.counters.get_untracked() != c {
                        st.counters.set(c);
                    }
                }
            })
        },
        std::time::Duration::from_secs(5),
    )
    .ok();
    on_cleanup(move || {
        if let Some(t) = counters_timer {
            t.clear();
        }
    });
    let subs = StoredValue::new_local(Vec::<Subscription>::new());
    // Set when the scan loop stopped by itself: shown with a way to start it again.
    let stopped = RwSignal::new(None::<IpcError>);

    spawn_local(async move {
        let mut held = Vec::new();
        if let Ok(s) = listen(EVENT_PREVIEW, move |p: ScanPreview| preview.set(Some(p))).await {
            held.push(s);
        }
        if let Ok(s) = listen(EVENT_SEEN, move |s: ScanSeen| outlines.set(s.outlines)).await {
            held.push(s);
        }
        if let Ok(s) = listen(EVENT_CODE, move |c: ScanCode| {
            handle_code(c.text, Via::Camera, st)
        })
        .await
        {
            held.push(s);
        }
        if let Ok(s) = listen(EVENT_SOURCE_ENDED, move |e: ScanEnded| {
            running.set(false);
            preview.set(None);
            outlines.set(Vec::new());
            stopped.set(Some(e.error.unwrap_or(IpcError {
                code: venuecode_ipc::ErrorCode::ScanStopped,
                detail: "the frame source ended".into(),
            })));
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
        // A scanner's Space or Enter mid-burst must not press the focused button.
        let mid = wedge.with_value(|w| w.in_burst(t));
        if mid && (key == " " || key == "Enter") && !typing_in_field(&e) {
            e.prevent_default();
        }
        if let Some(text) = wedge.try_update_value(|w| w.key(&key, t)).flatten() {
            e.prevent_default();
            handle_code(text, Via::Scanner, st);
        }
    });

    // WebKit activates a focused button on Space's keyup: hold that back too, mid-burst.
    let keys_up = window_event_listener(ev::keyup, move |e| {
        if e.key() == " "
            && wedge.with_value(|w| w.in_burst(e.time_stamp()))
            && !typing_in_field(&e)
        {
            e.prevent_default();
        }
    });

    on_cleanup(move || {
        keys.remove();
        keys_up.remove();
        subs.update_value(|v| v.clear());
        spawn_local(async move {
            let _ = invoke(&StopScan {}).await;
        });
    });

    let start = move || {
        let picked = choice.get_untracked();
        let folder = folder.get_untracked();
        spawn_local(async move {
            let source = match picked {
                // The camera as Settings chose it (which one, size, frame rate).
                Choice::Camera => FrameSourceSpec::Camera(
                    invoke(&venuecode_ipc::GetSettings {})
                        .await
                        .map(|s| s.camera)
                        .unwrap_or_default(),
                ),
                Choice::Folder => FrameSourceSpec::Folder {
                    path: folder,
                    fps: 20,
                },
                Choice::Demo => FrameSourceSpec::Synthetic { fps: 20 },
            };
            match invoke(&StartScan { source }).await {
                Ok(_) => {
                    error.set(None);
                    stopped.set(None);
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

    let kiosk = expect_context::<Kiosk>().0;
    let stats_open = RwSignal::new(false);
    view! {
        <div class="page-head">
            <h1 id="page-title">{move || i18n.t(Key::NavStation)}</h1>
            <SyncBar />
        </div>
        {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
        <Show when=move || kiosk.get()>
            <KioskBar error=error />
        </Show>
        <div class="station-layout" class:kiosk=move || kiosk.get()>
            <div class="controls" class:hidden=move || kiosk.get()>
                <BindingBar binding=binding counters=st.counters error=error />
                <TemperatureBar temp=st.temp />
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
                        <button id="scan-start" class="primary" on:click=move |_| start()>{move || i18n.t(Key::ScanStart)}</button>
                        <button id="scan-stop" disabled=move || !running.get() on:click=stop>{move || i18n.t(Key::ScanStop)}</button>
                    </div>
                </section>
                <ManualPanel st=st />
            </div>
            <div class="live">
                <CountersBar counters=st.counters scans=st.shown />
                {move || stopped.get().map(|e| {
                    let detail = e.detail.clone();
                    view! {
                        <div class="scan-stopped error" id="scan-stopped" role="alert" title=detail>
                            <span><strong>{i18n.t(Key::ScanStoppedTitle)}</strong>" · "{i18n.t(error_key(e.code))}</span>
                            <button id="scan-restart" class="primary" on:click=move |_| start()>
                                {move || i18n.t(Key::ScanRestart)}
                            </button>
                        </div>
                    }
                })}
                <Preview preview=preview outlines=outlines running=running />
                <div class:hidden=move || kiosk.get()>
                    <TodayList shown=st.shown />
                    <button id="station-stats-open" on:click=move |_| stats_open.update(|o| *o = !*o)>
                        {move || i18n.t(Key::StatsStation)}
                    </button>
                </div>
            </div>
        </div>
        {move || (stats_open.get() && !kiosk.get()).then(|| view! {
            <div id="station-stats">
                <crate::pages::statistics::StatisticsScreen source=crate::pages::statistics::Source::Station />
            </div>
        })}
        <VerdictScreen last=st.last />
    }
}
