//! The station (检测) screen: the station's binding, the temperature taps, the live preview with
//! the found code outlined, the live counters, and — for every code read from the camera or a USB
//! scanner — the full-screen verdict (通行/禁止) that clears itself after a few seconds.
//!
//! Invariant: decoding, verification, the gate rule and recording happen in the app
//! (`submit_scan`); this page only shows them. Leaving the page stops the scan.

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    CheckInRow, CheckKioskPin, FrameSourceSpec, GetBinding, GetCounters, GetSyncStatus, IpcError,
    ManualOutcome, Outline, ProxyInput, RegisterManual, ScanCode, ScanPreview, ScanSeen,
    ScanVerdict, SetBinding, SetKioskPin, StartScan, StationBinding, StationCounters, StopScan,
    SubmitScan, SyncNow, SyncStatus, TemperatureInput, TodayCheckIns, EVENT_CODE, EVENT_PREVIEW,
    EVENT_SEEN,
};

use crate::api::{invoke, listen, Subscription};
use crate::app::{ErrorBanner, Kiosk};
use crate::i18n::{id_error_key, reason_key, relation_key, use_i18n, Key};
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
    let kiosk = use_context::<Kiosk>().is_some_and(|k| k.0.get_untracked());
    let temperature = if kiosk {
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
    st.counters.set(verdict.counters);
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
            handle_code(c.text, Via::Camera, st)
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

    let kiosk = expect_context::<Kiosk>().0;
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
                <BindingBar binding=binding error=error />
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
                        <button id="scan-start" class="primary" on:click=start>{move || i18n.t(Key::ScanStart)}</button>
                        <button id="scan-stop" disabled=move || !running.get() on:click=stop>{move || i18n.t(Key::ScanStop)}</button>
                    </div>
                </section>
                <ManualPanel st=st />
            </div>
            <div class="live">
                <CountersBar counters=st.counters scans=st.shown />
                <Preview preview=preview outlines=outlines running=running />
                <div class:hidden=move || kiosk.get()>
                    <TodayList shown=st.shown />
                </div>
            </div>
        </div>
        <VerdictScreen last=st.last />
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
fn BindingBar(
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
    let direction = RwSignal::new("entry".to_string());
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
                (Some(b), false) => {
                    let dir = if b.direction == "exit" { Key::DirExit } else { Key::DirEntry };
                    view! {
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
                        {field("bind-venue-id", Key::VenueId, venue_id)}
                        {field("bind-venue-name", Key::VenueName, venue_name)}
                        {field("bind-checkpoint", Key::Checkpoint, checkpoint)}
                        {field("bind-inspector", Key::Inspector, inspector)}
                        <div class="dir-buttons">
                            <button id="bind-entry" class:selected=move || direction.get() == "entry" on:click=move |_| direction.set("entry".into())>{move || i18n.t(Key::DirEntry)}</button>
                            <button id="bind-exit" class:selected=move || direction.get() == "exit" on:click=move |_| direction.set("exit".into())>{move || i18n.t(Key::DirExit)}</button>
                        </div>
                        <button id="bind-save" class="primary" on:click=save>{move || i18n.t(Key::Save)}</button>
                    </div>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn TemperatureBar(temp: RwSignal<TemperatureInput>) -> impl IntoView {
    let i18n = use_i18n();
    let celsius = RwSignal::new(String::new());
    Effect::new(move |_| {
        if temp.get() == TemperatureInput::Normal {
            celsius.set(String::new());
        }
    });
    view! {
        <section class="card temperature">
            <button id="temp-normal" class:selected=move || temp.get() == TemperatureInput::Normal
                on:click=move |_| temp.set(TemperatureInput::Normal)>{move || i18n.t(Key::TempNormal)}</button>
            <button id="temp-fever" class="fever" class:selected=move || temp.get() == TemperatureInput::Fever
                on:click=move |_| temp.set(TemperatureInput::Fever)>{move || i18n.t(Key::TempFever)}</button>
            <input id="temp-celsius" type="text" inputmode="decimal" placeholder=move || i18n.t(Key::Celsius)
                prop:value=move || celsius.get()
                on:input=move |e| {
                    let v = event_target_value(&e);
                    temp.set(match v.trim().replace(',', ".").parse::<f32>() {
                        Ok(c) if c.is_finite() => TemperatureInput::Celsius(c),
                        _ => TemperatureInput::Normal,
                    });
                    celsius.set(v);
                } />
        </section>
    }
}

#[component]
fn CountersBar(counters: RwSignal<StationCounters>, scans: RwSignal<u64>) -> impl IntoView {
    let i18n = use_i18n();
    let cell = move |id: &'static str, key: Key, get: fn(&StationCounters) -> i64| {
        view! {
            <div class="counter">
                <span class="n" id=id>{move || get(&counters.get()).to_string()}</span>
                <span class="label">{move || i18n.t(key)}</span>
            </div>
        }
    };
    view! {
        <section class="counters" id="counters" data-scans=move || scans.get().to_string()>
            {cell("count-inside", Key::CountInside, |c| c.inside)}
            {cell("count-entries", Key::CountEntries, |c| c.entries)}
            {cell("count-refusals", Key::CountRefusals, |c| c.refusals)}
            {cell("count-fevers", Key::CountFevers, |c| c.fevers)}
        </section>
    }
}

/// The full-screen verdict, readable from two metres; tap to dismiss.
/// Sync status: online or offline, records waiting, age of the last sync and of the trust list,
/// with warnings for a stale trust list and a clock more than 5 minutes off.
#[component]
fn SyncBar() -> impl IntoView {
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
            let problem = match s.last_error.as_deref() {
                Some("not_enrolled") | Some("no_server") => Some(Key::SyncNotEnrolled),
                Some("device_revoked") | Some("unknown_device") => Some(Key::SyncRevoked),
                _ => None,
            };
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
                {(s.trust_stale && s.enrolled).then(|| view! { <div class="banner warn" id="sync-trust-stale">{move || i18n.t(Key::SyncTrustStale)}</div> })}
                {s.clock_warn.then(|| view! {
                    <div class="banner warn" id="clock-banner">{move || i18n.t(Key::ClockBanner)}{format!("{:+} min", offset / 60)}</div>
                })}
            }
        })
    }
}

#[component]
fn VerdictScreen(last: RwSignal<Option<LastScan>>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        last.get().map(|l| {
            let v = l.verdict.clone();
            let inside = v.reasons.iter().any(|r| r == "already_inside");
            let word = if inside {
                Key::AlreadyInside
            } else if v.pass {
                Key::Pass
            } else {
                Key::Refuse
            };
            let color = v.color.as_deref().map(|c| match c {
                "green" => Key::ColorGreen,
                "yellow" => Key::ColorYellow,
                _ => Key::ColorRed,
            });
            let since = v.color_since.as_deref().map(|s| s.chars().take(10).collect::<String>());
            let nat = v.nat_result.as_deref().map(|r| match r {
                "negative" => Key::NatNegative,
                "positive" => Key::NatPositive,
                _ => Key::NatPending,
            });
            let nat_hours = v.nat_hours.map(|h| format!("{h:.0}"));
            // The colour line already says red or yellow; the list gives every other reason.
            let reasons: Vec<Key> = v
                .reasons
                .iter()
                .filter(|r| !matches!(r.as_str(), "already_inside" | "red_code" | "yellow_code") || color.is_none())
                .map(|r| reason_key(r))
                .collect();
            let via = match l.via {
                Via::Scanner => Key::ViaScanner,
                Via::Camera => Key::ViaCamera,
                Via::Manual => Key::ViaManual,
            };
            let alert = v.alert;
            let text: String = l.text.chars().take(48).collect();
            view! {
                <div id="verdict-screen" class="verdict-screen" class:pass=v.pass && !inside class:inside=inside class:refuse=!v.pass
                    on:click=move |_| last.set(None)>
                    <p class="word" id="verdict-word">{move || i18n.t(word)}</p>
                    {v.name.clone().map(|n| view! { <p class="who" id="verdict-name">{n}</p> })}
                    {v.phone.clone().map(|p| view! { <p class="phone" id="verdict-phone">{p}</p> })}
                    {color.map(|k| view! {
                        <p class="color" id="verdict-color">{move || i18n.t(k)}
                            {since.clone().map(|s| view! { <span class="since">{s}" "{move || i18n.t(Key::Since)}</span> })}
                        </p>
                    })}
                    {nat.map(|k| view! {
                        <p class="nat" id="verdict-nat">{move || i18n.t(k)}
                            {nat_hours.clone().map(|h| view! { <span>" · "{h}" "{move || i18n.t(Key::HoursAgo)}</span> })}
                        </p>
                    })}
                    <ul class="reasons" id="verdict-reasons">
                        {reasons.into_iter().map(|k| view! { <li>{move || i18n.t(k)}</li> }).collect_view()}
                    </ul>
                    {alert.then(|| view! { <p class="instructions" id="verdict-alert">{move || i18n.t(Key::AlertInstructions)}</p> })}
                    {alert.then(|| v.venue_phone.clone()).flatten().map(|p| view! {
                        <p class="instructions call" id="verdict-call">{move || i18n.t(Key::CallNumber)}{p}</p>
                    })}
                    <p class="via" id="verdict-via">{move || i18n.t(via)}</p>
                    <p class="text" id="verdict-text">{text}</p>
                </div>
            }
        })
    }
}

const RELATIONS: [&str; 7] = [
    "parent",
    "child",
    "spouse",
    "grandparent",
    "grandchild",
    "sibling",
    "other",
];

/// 手工登记: a person without a phone, by ID number, optionally vouched for by a relative present.
#[component]
fn ManualPanel(st: ScanState) -> impl IntoView {
    let i18n = use_i18n();
    let open = RwSignal::new(false);
    let (id, name, phone) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let proxy_on = RwSignal::new(false);
    let (proxy_name, proxy_phone, relation) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let id_error = RwSignal::new(None::<Key>);
    let field_error = RwSignal::new(None::<Key>);
    let submit = move |_| {
        let req = RegisterManual {
            id_number: id.get_untracked(),
            name: name.get_untracked(),
            phone: Some(phone.get_untracked()),
            temperature: st.temp.get_untracked(),
            proxy: proxy_on.get_untracked().then(|| ProxyInput {
                name: proxy_name.get_untracked(),
                phone: proxy_phone.get_untracked(),
                relation: relation.get_untracked(),
                code: st.proxy_code.get_untracked().map(|(text, _)| text),
            }),
        };
        spawn_local(async move {
            match invoke(&req).await {
                Ok(ManualOutcome::Registered { verdict }) => {
                    id_error.set(None);
                    field_error.set(None);
                    for s in [id, name, phone, proxy_name, proxy_phone, relation] {
                        s.set(String::new());
                    }
                    proxy_on.set(false);
                    st.proxy_code.set(None);
                    open.set(false);
                    show_verdict(st, String::new(), verdict, Via::Manual);
                }
                Ok(ManualOutcome::IdInvalid { reason }) => {
                    field_error.set(None);
                    id_error.set(Some(id_error_key(&reason)));
                }
                Ok(ManualOutcome::FieldInvalid { field }) => {
                    id_error.set(None);
                    field_error.set(Some(match field.as_str() {
                        "name" => Key::FieldName,
                        "proxy_name" => Key::FieldProxyName,
                        "proxy_code" => Key::FieldProxyCode,
                        _ => Key::FieldRelation,
                    }));
                }
                Err(e) => st.error.set(Some(e)),
            }
        });
    };
    let input = move |id_attr: &'static str, key: Key, sig: RwSignal<String>| {
        view! {
            <label>
                <span>{move || i18n.t(key)}</span>
                <input id=id_attr type="text" prop:value=move || sig.get() on:input=move |e| sig.set(event_target_value(&e)) />
            </label>
        }
    };
    view! {
        <section class="card manual" id="manual">
            <Show when=move || open.get() fallback=move || view! {
                <button id="manual-open" on:click=move |_| open.set(true)>{move || i18n.t(Key::ManualOpen)}</button>
            }>
                <h2>{move || i18n.t(Key::ManualTitle)}</h2>
                <div class="manual-form">
                    <label class:invalid=move || id_error.get().is_some()>
                        <span>{move || i18n.t(Key::IdNumber)}</span>
                        <input id="manual-id" type="text" inputmode="numeric" prop:value=move || id.get()
                            on:input=move |e| { id.set(event_target_value(&e)); id_error.set(None); } />
                        {move || id_error.get().map(|k| view! { <span class="field-error" id="manual-id-error">{move || i18n.t(k)}</span> })}
                    </label>
                    {input("manual-name", Key::PersonName, name)}
                    {input("manual-phone", Key::PhoneOptional, phone)}
                </div>
                <button id="proxy-toggle" class:selected=move || proxy_on.get() on:click=move |_| proxy_on.update(|v| *v = !*v)>
                    {move || i18n.t(Key::ProxyToggle)}
                </button>
                <Show when=move || proxy_on.get()>
                    <div class="proxy-scan">
                        <button id="proxy-scan" class:selected=move || st.proxy_scan.get()
                            on:click=move |_| { st.proxy_code.set(None); st.proxy_scan.update(|v| *v = !*v); }>
                            {move || i18n.t(Key::ProxyScan)}
                        </button>
                        {move || st.proxy_scan.get().then(|| view! { <span id="proxy-scan-waiting">{move || i18n.t(Key::ProxyScanWaiting)}</span> })}
                        {move || st.proxy_code.get().map(|(_, who)| view! {
                            <span id="proxy-scanned">{move || i18n.t(Key::ProxyScanned)}{who.clone()}</span>
                        })}
                    </div>
                    <Show when=move || st.proxy_code.get().is_none()>
                        <div class="manual-form">
                            {input("proxy-name", Key::ProxyName, proxy_name)}
                            {input("proxy-phone", Key::ProxyPhone, proxy_phone)}
                        </div>
                    </Show>
                    <p>{move || i18n.t(Key::ProxyIs)}</p>
                    <div class="relations">
                        {RELATIONS.into_iter().map(|r| view! {
                            <button id=format!("rel-{r}") class:selected=move || relation.get() == r on:click=move |_| relation.set(r.to_string())>
                                {move || i18n.t(relation_key(r))}
                            </button>
                        }).collect_view()}
                    </div>
                </Show>
                {move || field_error.get().map(|k| view! { <p class="field-error" id="manual-field-error">{move || i18n.t(k)}</p> })}
                <div class="run-buttons">
                    <button id="manual-submit" class="primary" on:click=submit>{move || i18n.t(Key::Register)}</button>
                    <button id="manual-close" on:click=move |_| open.set(false)>{move || i18n.t(Key::Close)}</button>
                </div>
            </Show>
        </section>
    }
}

/// Today's check-ins at this venue, refreshed after every verdict.
#[component]
fn TodayList(shown: RwSignal<u64>) -> impl IntoView {
    let i18n = use_i18n();
    let rows = RwSignal::new(Vec::<CheckInRow>::new());
    Effect::new(move |_| {
        shown.track();
        spawn_local(async move {
            if let Ok(r) = invoke(&TodayCheckIns {}).await {
                rows.set(r);
            }
        });
    });
    view! {
        <section class="today card" id="today">
            <h2>{move || i18n.t(Key::TodayList)}</h2>
            <ul id="today-list">
                {move || rows.get().into_iter().map(|r| {
                    let verdict = if r.pass { Key::Pass } else { Key::Refuse };
                    let rel = r.proxy_relation.clone().map(|x| relation_key(&x));
                    view! {
                        <li class:refused=!r.pass>
                            <span class="time">{r.time.clone()}</span>
                            <span class="v">{move || i18n.t(verdict)}</span>
                            <span class="who">{r.name.clone().unwrap_or_default()}</span>
                            <span class="id">{r.id_masked.clone().unwrap_or_default()}</span>
                            {r.manual.then(|| view! { <span class="badge">{move || i18n.t(Key::ManualBadge)}</span> })}
                            {r.proxy_name.clone().map(|p| view! {
                                <span class="proxy">{move || i18n.t(Key::VouchedBy)}": "{p.clone()}
                                    {rel.map(|k| view! { " ("{move || i18n.t(k)}")" })}
                                </span>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// Entering kiosk mode: the inspector picks the PIN that will leave it.
#[component]
fn KioskEnter(error: RwSignal<Option<IpcError>>) -> impl IntoView {
    let i18n = use_i18n();
    let kiosk = expect_context::<Kiosk>().0;
    let pin = RwSignal::new(String::new());
    let enter = move |_| {
        let p = pin.get_untracked();
        spawn_local(async move {
            match invoke(&SetKioskPin { pin: p }).await {
                Ok(_) => {
                    pin.set(String::new());
                    error.set(None);
                    kiosk.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="kiosk-enter">
            <input id="kiosk-pin-new" type="password" inputmode="numeric" placeholder=move || i18n.t(Key::KioskPinNew)
                prop:value=move || pin.get() on:input=move |e| pin.set(event_target_value(&e)) />
            <button id="kiosk-enter" on:click=enter>{move || i18n.t(Key::KioskEnter)}</button>
        </div>
    }
}

/// Kiosk mode's bar: the prompt for residents and the PIN-guarded way out.
#[component]
fn KioskBar(error: RwSignal<Option<IpcError>>) -> impl IntoView {
    let i18n = use_i18n();
    let kiosk = expect_context::<Kiosk>().0;
    let asking = RwSignal::new(false);
    let wrong = RwSignal::new(false);
    let pin = RwSignal::new(String::new());
    let confirm = move |_| {
        let p = pin.get_untracked();
        spawn_local(async move {
            match invoke(&CheckKioskPin { pin: p }).await {
                Ok(true) => {
                    pin.set(String::new());
                    wrong.set(false);
                    asking.set(false);
                    kiosk.set(false);
                }
                Ok(false) => wrong.set(true),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="kiosk-bar">
            <p class="prompt" id="kiosk-prompt">{move || i18n.t(Key::KioskPrompt)}</p>
            <Show when=move || asking.get() fallback=move || view! {
                <button id="kiosk-exit" class="quiet" on:click=move |_| asking.set(true)>{move || i18n.t(Key::KioskExit)}</button>
            }>
                <input id="kiosk-exit-pin" type="password" inputmode="numeric" prop:value=move || pin.get()
                    on:input=move |e| { pin.set(event_target_value(&e)); wrong.set(false); } />
                <button id="kiosk-exit-ok" on:click=confirm>{move || i18n.t(Key::Confirm)}</button>
                {move || wrong.get().then(|| view! { <span class="field-error" id="kiosk-pin-wrong">{move || i18n.t(Key::KioskPinWrong)}</span> })}
            </Show>
        </section>
    }
}
