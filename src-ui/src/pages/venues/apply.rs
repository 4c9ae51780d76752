//! The venue application form (场所申请): every field checked as it is typed, by the same rule
//! the server applies (the app runs core's check), each problem next to its field in the
//! user's language; region chosen level by level down to the community; submitted, or kept as a
//! draft when the server cannot be reached. The same form changes an existing venue's details
//! (a new name or credit code sends it back to review).

use std::collections::HashSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    AmendOutcome, AmendVenue, ApplicationForm, ApplyOutcome, CheckApplication, DraftRow,
    FormProblem, IpcError, Language, ListPlaceTypes, ListRegions, PlaceTypeChoice, RegionOption,
    SubmitApplication, VenueRow,
};

use super::{Note, View};
use crate::api::invoke;
use crate::i18n::{category_key, problem_key, use_i18n, Key, CATEGORIES};
use crate::shared::ErrorBanner;

/// The application form.
#[component]
pub(super) fn ApplyForm(
    draft: Option<DraftRow>,
    amend: Option<VenueRow>,
    view_state: RwSignal<View>,
    note: RwSignal<Option<Note>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let draft_id = draft.as_ref().map(|d| d.draft_id.clone());
    let amending = amend.as_ref().map(|v| v.venue_id.clone());
    let is_amend = amending.is_some();
    let initial = match (&amend, draft) {
        (Some(v), _) => form_of(v),
        (None, Some(d)) => d.form,
        (None, None) => ApplicationForm::default(),
    };
    let form = RwSignal::new(initial);
    let problems = RwSignal::new(Vec::<FormProblem>::new());
    let touched = RwSignal::new(HashSet::<&'static str>::new());
    let show_all = RwSignal::new(false);
    let error = RwSignal::new(None::<IpcError>);
    let busy = RwSignal::new(false);
    // Regions, level by level: the options of each level and the code chosen there.
    let levels = RwSignal::new(Vec::<Vec<RegionOption>>::new());
    let chosen = RwSignal::new(Vec::<String>::new());

    // The deployment's place types (the server's list, kept offline).
    let types = RwSignal::new(Vec::<PlaceTypeChoice>::new());
    spawn_local(async move {
        if let Ok(l) = invoke(&ListPlaceTypes {}).await {
            types.set(l.data);
        }
    });
    // Check on every change (the same rule as the server).
    Effect::new(move |_| {
        let f = form.get();
        spawn_local(async move {
            if let Ok(p) = invoke(&CheckApplication { form: f }).await {
                problems.set(p);
            }
        });
    });
    // The region levels: provinces, then the children of each choice.
    let load_level = move |parent: Option<String>, depth: usize| {
        spawn_local(async move {
            if let Ok(opts) = invoke(&ListRegions { parent }).await {
                levels.update(|l| {
                    l.truncate(depth);
                    if !opts.is_empty() {
                        l.push(opts);
                    }
                });
            }
        });
    };
    load_level(None, 0);
    // A draft's region: open its levels.
    {
        let code = form.get_untracked().region;
        if !code.is_empty() {
            let mut path = Vec::new();
            let mut n = 2;
            while n <= code.len() {
                path.push(code[..n].to_string());
                n += if n < 6 { 2 } else { 3 };
            }
            chosen.set(path.clone());
            for (i, p) in path.iter().enumerate() {
                let p = p.clone();
                spawn_local(async move {
                    if let Ok(opts) = invoke(&ListRegions { parent: Some(p) }).await {
                        if !opts.is_empty() {
                            levels.update(|l| {
                                if l.len() == i + 1 {
                                    l.push(opts);
                                }
                            });
                        }
                    }
                });
            }
        }
    }
    let choose_region = move |depth: usize, code: String| {
        chosen.update(|c| {
            c.truncate(depth);
            if !code.is_empty() {
                c.push(code.clone());
            }
        });
        form.update(|f| f.region = chosen.get_untracked().last().cloned().unwrap_or_default());
        touched.update(|t| {
            t.insert("region");
        });
        levels.update(|l| l.truncate(depth + 1));
        if !code.is_empty() {
            load_level(Some(code), depth + 1);
        }
    };

    let problem_of = move |field: &'static str| {
        let shown = show_all.get() || touched.get().contains(field);
        problems
            .get()
            .into_iter()
            .find(|p| p.field == field)
            .filter(|_| shown)
            .map(|p| problem_key(&p.code))
    };
    let text_field = move |id: &'static str,
                           field: &'static str,
                           label: Key,
                           get: fn(&ApplicationForm) -> &String,
                           set: fn(&mut ApplicationForm, String)| {
        view! {
            <label class="field" class:bad=move || problem_of(field).is_some()>
                <span>{move || i18n.t(label)}</span>
                <input id=id type="text"
                    prop:value=move || get(&form.get()).clone()
                    on:input=move |e| { let v = event_target_value(&e); form.update(|f| set(f, v)); }
                    on:blur=move |_| touched.update(|t| { t.insert(field); }) />
                <span class="problem" id=format!("{id}-problem")>{move || problem_of(field).map(|k| i18n.t(k))}</span>
            </label>
        }
    };
    let submit = move |_| {
        show_all.set(true);
        if busy.get_untracked() || !problems.get_untracked().is_empty() {
            // Bring the first problem into view (the form is longer than a tablet's screen).
            set_timeout(
                || {
                    if let Some(el) = web_sys::window()
                        .and_then(|w| w.document())
                        .and_then(|d| d.query_selector(".field.bad").ok().flatten())
                    {
                        el.scroll_into_view();
                    }
                },
                std::time::Duration::from_millis(50),
            );
            return;
        }
        busy.set(true);
        if let Some(venue_id) = amending.clone() {
            let req = AmendVenue {
                venue_id: venue_id.clone(),
                form: form.get_untracked(),
            };
            spawn_local(async move {
                match invoke(&req).await {
                    Ok(AmendOutcome::Saved { back_to_review }) => {
                        note.set(Some(if back_to_review {
                            Note::AmendedBack
                        } else {
                            Note::Amended
                        }));
                        view_state.set(View::Venue(venue_id));
                    }
                    Ok(AmendOutcome::Invalid { problems: p }) => problems.set(p),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
            return;
        }
        let req = SubmitApplication {
            form: form.get_untracked(),
            draft_id: draft_id.clone(),
        };
        spawn_local(async move {
            match invoke(&req).await {
                Ok(ApplyOutcome::Submitted { .. }) => {
                    note.set(Some(Note::Submitted));
                    view_state.set(View::List);
                }
                Ok(ApplyOutcome::Kept { .. }) => {
                    note.set(Some(Note::Kept));
                    view_state.set(View::List);
                }
                Ok(ApplyOutcome::Invalid { problems: p }) => problems.set(p),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    view! {
        <h1 id="page-title">{move || i18n.t(if is_amend { Key::EditVenue } else { Key::ApplyTitle })}</h1>
        {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
        <section class="card form apply" id="apply-form">
            {text_field("f-name", "name", Key::FName, |f| &f.name, |f, v| f.name = v)}
            {text_field("f-credit", "credit_code", Key::FCreditCode, |f| &f.credit_code, |f, v| f.credit_code = v.to_uppercase())}
            <label class="field" class:bad=move || problem_of("category").is_some()>
                <span>{move || i18n.t(Key::FCategory)}</span>
                <select id="f-category"
                    on:change=move |e| {
                        let v = event_target_value(&e);
                        // A type under another category no longer fits: choose again.
                        form.update(|f| {
                            if !f.place_type.starts_with(&v) {
                                f.place_type.clear();
                            }
                            f.category = v;
                        });
                        touched.update(|t| { t.insert("category"); });
                    }>
                    <option value="" selected=move || form.get().category.is_empty()>{move || i18n.t(Key::ChooseOne)}</option>
                    {CATEGORIES.into_iter().map(|c| view! {
                        <option value=c selected=move || form.get().category == c>
                            {move || category_key(c).map(|k| i18n.t(k)).unwrap_or(c)}
                        </option>
                    }).collect_view()}
                </select>
                <span class="problem" id="f-category-problem">{move || problem_of("category").map(|k| i18n.t(k))}</span>
            </label>
            <label class="field" class:bad=move || problem_of("place_type").is_some()>
                <span>{move || i18n.t(Key::FPlaceType)}</span>
                <select id="f-place-type" disabled=move || form.get().category.is_empty()
                    on:change=move |e| { let v = event_target_value(&e); form.update(|f| f.place_type = v); touched.update(|t| { t.insert("place_type"); }); }>
                    <option value="" selected=move || form.get().place_type.is_empty()>
                        {move || i18n.t(if form.get().category.is_empty() { Key::PlaceTypeFirst } else { Key::ChooseOne })}
                    </option>
                    {move || {
                        let category = form.get().category;
                        types.get().into_iter().filter(|t| !category.is_empty() && t.category == category).map(|t| {
                            let code = t.code.clone();
                            view! {
                                <option value=t.code.clone() selected=move || form.get().place_type == code>
                                    {move || if i18n.lang.get() == Language::ZhCn { t.name_zh.clone() } else { t.name_en.clone() }}
                                </option>
                            }
                        }).collect_view()
                    }}
                </select>
                <span class="problem" id="f-place-type-problem">{move || problem_of("place_type").map(|k| i18n.t(k))}</span>
            </label>
            <div class="field" class:bad=move || problem_of("region").is_some()>
                <span>{move || i18n.t(Key::FRegion)}</span>
                <div class="region-levels">
                    {move || levels.get().into_iter().enumerate().map(|(depth, opts)| {
                        let current = chosen.get().get(depth).cloned().unwrap_or_default();
                        view! {
                            <select id=format!("f-region-{depth}")
                                on:change=move |e| choose_region(depth, event_target_value(&e))>
                                <option value="" selected=current.is_empty()>{move || i18n.t(Key::ChooseOne)}</option>
                                {opts.into_iter().map(|o| {
                                    let sel = o.code == current;
                                    view! { <option value=o.code.clone() selected=sel>{o.name.clone()}</option> }
                                }).collect_view()}
                            </select>
                        }
                    }).collect_view()}
                </div>
                <span class="problem" id="f-region-problem">{move || problem_of("region").map(|k| i18n.t(k))}</span>
            </div>
            {text_field("f-address", "address", Key::FAddress, |f| &f.address, |f, v| f.address = v)}
            <div class="pair">
                {text_field("f-lat", "point", Key::FLatitude, |f| &f.latitude, |f, v| f.latitude = v)}
                {text_field("f-lon", "point", Key::FLongitude, |f| &f.longitude, |f, v| f.longitude = v)}
            </div>
            <div class="pair">
                {text_field("f-responsible", "responsible_name", Key::FResponsible, |f| &f.responsible_name, |f, v| f.responsible_name = v)}
                {text_field("f-phone", "responsible_phone", Key::FPhone, |f| &f.responsible_phone, |f, v| f.responsible_phone = v)}
            </div>
            <div class="actions">
                <button id="apply-cancel" on:click=move |_| view_state.set(View::List)>{move || i18n.t(Key::Cancel)}</button>
                <button id="apply-submit" class="primary" disabled=move || busy.get() on:click=submit>
                    {move || i18n.t(if is_amend { Key::SaveChanges } else { Key::Submit })}
                </button>
            </div>
        </section>
    }
}

/// The form filled from a venue's details (the map point in degrees).
fn form_of(v: &VenueRow) -> ApplicationForm {
    let degrees = |e6: Option<i32>| {
        e6.map(|v| format!("{:.6}", f64::from(v) / 1e6))
            .unwrap_or_default()
    };
    ApplicationForm {
        name: v.name.clone(),
        credit_code: v.credit_code.clone().unwrap_or_default(),
        category: v.category.clone(),
        place_type: v.place_type.clone().unwrap_or_default(),
        region: v.region.clone(),
        address: v.address.clone(),
        latitude: degrees(v.lat_e6),
        longitude: degrees(v.lon_e6),
        responsible_name: v.responsible_name.clone().unwrap_or_default(),
        responsible_phone: v.responsible_phone.clone().unwrap_or_default(),
    }
}
