//! A checkpoint's posters (场所码海报), for the venue's administrator: direction (进/出), size (A4,
//! 60×90, 80×180) and template chosen with big buttons, a live preview of the page as it will
//! print, then "save PDF", "save PNG", "save all posters of this venue" (with progress and the
//! "how to post" sheet) and "print" (the saved PDF opens in the system's viewer).

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    Direction, GetVenue, IpcError, OpenPoster, PosterChoice, PosterFolder, PosterPreview,
    PosterProgress, PreviewPoster, SaveAllPosters, SavePoster, EVENT_POSTER_PROGRESS,
};

use super::View;
use crate::api::{invoke, listen, Subscription};
use crate::i18n::{use_i18n, Key};
use crate::shared::ErrorBanner;

/// The sizes offered, with their names and where each goes.
const SIZES: [(&str, Key, Key); 3] = [
    ("a4", Key::PosterSizeA4, Key::PosterPlaceA4),
    ("60x90", Key::PosterSize60, Key::PosterPlace60),
    ("80x180", Key::PosterSize80, Key::PosterPlace80),
];

#[component]
pub(super) fn PosterPage(
    venue_id: String,
    checkpoint_id: String,
    back: RwSignal<View>,
) -> impl IntoView {
    let i18n = use_i18n();
    let error = RwSignal::new(None::<IpcError>);
    let ids = StoredValue::new((venue_id.clone(), checkpoint_id.clone()));
    let direction = RwSignal::new(Direction::Entry);
    let size = RwSignal::new("a4".to_string());
    let template = RwSignal::new(String::new());
    let folder = RwSignal::new(String::new());
    // The preview with what it shows (size, direction).
    let preview = RwSignal::new(None::<(PosterPreview, String, Direction)>);
    let rendering = RwSignal::new(false);
    let saved = RwSignal::new(None::<String>);
    let sheet = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<PosterProgress>);
    let busy = RwSignal::new(false);
    // PNG resolution for messaging apps (dots per inch).
    let dpi = RwSignal::new(150u32);
    let names = RwSignal::new((String::new(), String::new()));

    spawn_local(async move {
        if let Ok(f) = invoke(&PosterFolder {}).await {
            folder.set(f);
        }
        let (venue_id, checkpoint_id) = ids.get_value();
        if let Ok(v) = invoke(&GetVenue { venue_id }).await {
            let door = v
                .data
                .checkpoints
                .iter()
                .find(|c| c.checkpoint_id == checkpoint_id)
                .map(|c| c.name.clone())
                .unwrap_or(checkpoint_id);
            names.set((v.data.venue.name, door));
        }
    });
    let subs = StoredValue::new_local(Vec::<Subscription>::new());
    spawn_local(async move {
        if let Ok(s) = listen(EVENT_POSTER_PROGRESS, move |p: PosterProgress| {
            progress.set(Some(p))
        })
        .await
        {
            subs.update_value(|v| v.push(s));
        }
    });
    let choice = move || {
        let (venue_id, checkpoint_id) = ids.get_value();
        PosterChoice {
            venue_id,
            checkpoint_id,
            direction: direction.get_untracked(),
            size: size.get_untracked(),
            template: Some(template.get_untracked()).filter(|t| !t.trim().is_empty()),
        }
    };
    // The preview follows every choice; an answer to an earlier choice that arrives late is
    // dropped, so the preview always shows the buttons' state.
    let asked = StoredValue::new(0u64);
    Effect::new(move |_| {
        direction.track();
        size.track();
        template.track();
        let poster = choice();
        let shows = (poster.size.clone(), poster.direction);
        asked.update_value(|n| *n += 1);
        let mine = asked.get_value();
        rendering.set(true);
        preview.set(None);
        spawn_local(async move {
            let answer = invoke(&PreviewPoster { poster }).await;
            if asked.get_value() != mine {
                return;
            }
            match answer {
                Ok(p) => {
                    preview.set(Some((p, shows.0, shows.1)));
                    error.set(None);
                }
                Err(e) => {
                    preview.set(None);
                    error.set(Some(e));
                }
            }
            rendering.set(false);
        });
    });
    let save = move |png: bool| {
        let req = SavePoster {
            poster: choice(),
            folder: folder.get_untracked(),
            png_dpi: png.then(|| dpi.get_untracked()),
        };
        busy.set(true);
        spawn_local(async move {
            match invoke(&req).await {
                Ok(s) => {
                    saved.set(Some(if png { s.png.unwrap_or(s.pdf) } else { s.pdf }));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let save_all = move |_| {
        let req = SaveAllPosters {
            venue_id: ids.get_value().0,
            size: size.get_untracked(),
            template: Some(template.get_untracked()).filter(|t| !t.trim().is_empty()),
            folder: folder.get_untracked(),
        };
        busy.set(true);
        progress.set(None);
        spawn_local(async move {
            match invoke(&req).await {
                Ok(all) => {
                    sheet.set(Some(all.sheet));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let print = move |_| {
        if let Some(path) = saved.get_untracked().filter(|p| p.ends_with(".pdf")) {
            spawn_local(async move {
                if let Err(e) = invoke(&OpenPoster { path }).await {
                    error.set(Some(e));
                }
            });
        }
    };
    let dir_button = move |id: &'static str, d: Direction, key: Key| {
        view! {
            <button id=id class:selected=move || direction.get() == d
                on:click=move |_| { saved.set(None); direction.set(d); }>{move || i18n.t(key)}</button>
        }
    };
    view! {
        <div class="title-row">
            <button id="poster-back" on:click=move |_| back.set(View::Venue(ids.get_value().0))>{move || i18n.t(Key::Back)}</button>
            <h1 id="page-title">{move || i18n.t(Key::PosterTitle)}</h1>
        </div>
        {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
        <div class="poster-layout">
            <section class="card form poster-controls" id="poster-controls">
                <h2 id="poster-door">{move || { let (v, d) = names.get(); format!("{v} · {d}") }}</h2>
                <div class="dir-buttons">
                    {dir_button("poster-entry", Direction::Entry, Key::DirEntry)}
                    {dir_button("poster-exit", Direction::Exit, Key::DirExit)}
                </div>
                <div class="size-buttons">
                    {SIZES.into_iter().map(|(code, name, _)| view! {
                        <button id=format!("poster-size-{code}") class:selected=move || size.get() == code
                            on:click=move |_| { saved.set(None); size.set(code.to_string()); }>{move || i18n.t(name)}</button>
                    }).collect_view()}
                </div>
                <p class="hint" id="poster-place">{move || {
                    let s = size.get();
                    SIZES.iter().find(|(c, _, _)| *c == s).map(|(_, _, place)| i18n.t(*place)).unwrap_or_default()
                }}</p>
                <label class="field">
                    <span>{move || i18n.t(Key::PosterTemplate)}</span>
                    <input id="poster-template" type="text" prop:value=move || template.get()
                        on:change=move |e| template.set(event_target_value(&e)) />
                </label>
                <label class="field">
                    <span>{move || i18n.t(Key::PosterFolder)}</span>
                    <input id="poster-folder" type="text" prop:value=move || folder.get()
                        on:input=move |e| folder.set(event_target_value(&e)) />
                </label>
                <div class="actions">
                    <button id="poster-save" class="primary" disabled=move || busy.get() || preview.get().is_none()
                        on:click=move |_| save(false)>{move || i18n.t(Key::PosterSavePdf)}</button>
                    <button id="poster-save-png" disabled=move || busy.get() || preview.get().is_none()
                        on:click=move |_| save(true)>{move || i18n.t(Key::PosterSavePng)}</button>
                    <select id="poster-dpi" title=move || i18n.t(Key::PosterDpi)
                        on:change=move |e| { if let Ok(v) = event_target_value(&e).parse() { dpi.set(v); } }>
                        {[72u32, 150, 300].into_iter().map(|d| view! {
                            <option value=d.to_string() selected=move || dpi.get() == d>{format!("{d} dpi")}</option>
                        }).collect_view()}
                    </select>
                    <button id="poster-print" disabled=move || !saved.get().is_some_and(|p| p.ends_with(".pdf"))
                        on:click=print>{move || i18n.t(Key::PosterPrint)}</button>
                </div>
                <div class="actions">
                    <button id="poster-save-all" disabled=move || busy.get() on:click=save_all>{move || i18n.t(Key::PosterSaveAll)}</button>
                    {move || progress.get().filter(|_| busy.get()).map(|p| view! {
                        <span id="poster-progress">{move || i18n.t(Key::PosterSaving)} " " {p.done} "/" {p.total}</span>
                    })}
                </div>
                {move || saved.get().map(|p| view! { <p class="note" id="poster-saved">{move || i18n.t(Key::PosterSaved)}{p.clone()}</p> })}
                {move || sheet.get().map(|p| view! { <p class="note" id="poster-sheet">{move || i18n.t(Key::PosterSheet)}{p.clone()}</p> })}
            </section>
            <section class="card poster-preview" id="poster-preview">
                {move || match preview.get() {
                    Some((p, size, direction)) => view! {
                        <img id="poster-image" alt="" data-size=size
                            data-direction=if direction == Direction::Entry { "entry" } else { "exit" }
                            src=format!("data:image/png;base64,{}", p.png_base64) />
                        <p class="facts" id="poster-facts">
                            {move || i18n.t(Key::PosterShortCode)} " " <b>{p.short_code.clone()}</b>
                            " · " {move || i18n.t(Key::PosterEcc)} " " {p.ecc.clone()}
                            " · " {move || i18n.t(Key::PosterModule)} " " {format!("{:.1} mm", p.module_mm)}
                        </p>
                    }.into_any(),
                    None => view! { <p class="hint">{move || if rendering.get() { i18n.t(Key::PosterRendering) } else { "" }}</p> }.into_any(),
                }}
            </section>
        </div>
    }
}
