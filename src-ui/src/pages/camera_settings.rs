//! Settings → 摄像头 / Camera: which camera the station scans with (a tablet's front or back
//! camera, or a USB one), at what frame size and rate. Saved by the app; used the next time
//! scanning starts with 摄像头. With no camera, the card says so and points to the other paths.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    CameraChoice, CameraFacing, CameraInfo, GetSettings, IpcError, ListCameras, SetCamera,
    CAMERA_RATES, CAMERA_SIZES,
};

use crate::api::invoke;
use crate::i18n::{use_i18n, Key};

/// The camera card.
#[component]
pub fn CameraCard(error: RwSignal<Option<IpcError>>) -> impl IntoView {
    let i18n = use_i18n();
    let cameras = RwSignal::new(None::<Vec<CameraInfo>>);
    let choice = RwSignal::new(CameraChoice::default());
    let saved = RwSignal::new(false);
    spawn_local(async move {
        if let Ok(s) = invoke(&GetSettings {}).await {
            choice.set(s.camera);
        }
        match invoke(&ListCameras {}).await {
            Ok(list) => cameras.set(Some(list)),
            Err(e) => {
                cameras.set(Some(Vec::new()));
                error.set(Some(e));
            }
        }
    });
    let save = move |_| {
        let req = SetCamera {
            camera: choice.get_untracked(),
        };
        spawn_local(async move {
            match invoke(&req).await {
                Ok(_) => {
                    error.set(None);
                    saved.set(true);
                }
                Err(e) => {
                    saved.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    let facing = move |f: CameraFacing| match f {
        CameraFacing::Front => i18n.t(Key::CameraFront),
        CameraFacing::Back => i18n.t(Key::CameraBack),
        CameraFacing::External => i18n.t(Key::CameraExternal),
        CameraFacing::Unknown => "",
    };
    let size_label = move |(w, h): (u32, u32)| {
        if w == 0 {
            i18n.t(Key::CameraAuto).to_string()
        } else {
            format!("{w} × {h}")
        }
    };
    let rate_label = move |r: u32| {
        if r == 0 {
            i18n.t(Key::CameraAuto).to_string()
        } else {
            format!("{r} fps")
        }
    };
    view! {
        <section class="card options" id="camera-options">
            <h2>{move || i18n.t(Key::CameraTitle)}</h2>
            {move || match cameras.get() {
                None => view! { <p>{move || i18n.t(Key::Loading)}</p> }.into_any(),
                Some(list) if list.is_empty() => view! {
                    <p class="hint" id="camera-none">{move || i18n.t(Key::CameraNone)}</p>
                }.into_any(),
                Some(list) => view! {
                    <label>
                        <span>{move || i18n.t(Key::CameraWhich)}</span>
                        <select id="camera-index" on:change=move |e| {
                            let index = event_target_value(&e).parse().unwrap_or(0);
                            choice.update(|c| c.index = index);
                            saved.set(false);
                        }>
                            {list.into_iter().map(|c| {
                                let label = format!("{} {}", c.name, facing(c.facing));
                                view! {
                                    <option value=c.index.to_string() selected=move || choice.get().index == c.index>{label}</option>
                                }
                            }).collect_view()}
                        </select>
                    </label>
                }.into_any(),
            }}
            <label>
                <span>{move || i18n.t(Key::CameraSize)}</span>
                <select id="camera-size" on:change=move |e| {
                    let i: usize = event_target_value(&e).parse().unwrap_or(0);
                    let (width, height) = CAMERA_SIZES.get(i).copied().unwrap_or((0, 0));
                    choice.update(|c| { c.width = width; c.height = height; });
                    saved.set(false);
                }>
                    {CAMERA_SIZES.iter().enumerate().map(|(i, &s)| view! {
                        <option value=i.to_string() selected=move || (choice.get().width, choice.get().height) == s>{move || size_label(s)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                <span>{move || i18n.t(Key::CameraRate)}</span>
                <select id="camera-fps" on:change=move |e| {
                    let fps = event_target_value(&e).parse().unwrap_or(0);
                    choice.update(|c| c.fps = fps);
                    saved.set(false);
                }>
                    {CAMERA_RATES.iter().map(|&r| view! {
                        <option value=r.to_string() selected=move || choice.get().fps == r>{move || rate_label(r)}</option>
                    }).collect_view()}
                </select>
            </label>
            <p class="hint">{move || i18n.t(Key::CameraHint)}</p>
            <div class="lang-buttons">
                <button id="camera-save" on:click=save>{move || i18n.t(Key::Save)}</button>
                {move || saved.get().then(|| view! { <span id="camera-saved">{move || i18n.t(Key::Saved)}</span> })}
            </div>
        </section>
    }
}
