//! The application form on the app: the form as the server reads it, checked by core's own rule
//! against the region table and the deployment's place types (inline validation), submitted or
//! kept as a draft when the server cannot be reached, drafts sent by a background thread once it
//! returns; the region picker's levels; the place types the server lists, kept for offline use.
//!
//! Invariants: the form is checked by `application::check`, the rule the server applies; the
//! place types checked against are the server's last list (the default list until one arrived);
//! a draft is deleted only once the server took it.

use chrono::{DateTime, Utc};
use reqwest::Method;
use venuecode_core::application::{self, ApplicationInput};
use venuecode_core::place_type::PlaceTypes;
use venuecode_core::region::Regions;
use venuecode_ipc::{
    ApplicationForm, ApplyOutcome, DraftRow, FormProblem, Loaded, PlaceTypeChoice, RegionOption,
    VenueRow,
};

use super::{load, named, who_am_i, PeopleClient, PeopleContext, PeopleError};
use crate::store::{Draft, Store};

/// Where the server's list of place types is kept.
const PLACE_TYPES_KEY: &str = "place_types";

/// The deployment's place types from the server (kept for offline use); with no server and
/// nothing kept, the default list.
pub fn place_types(
    store: &mut Store,
    client: &PeopleClient,
    now: DateTime<Utc>,
) -> Result<Loaded<Vec<PlaceTypeChoice>>, PeopleError> {
    match load(store, client, PLACE_TYPES_KEY, now, |c| {
        c.call::<Vec<PlaceTypeChoice>>(Method::GET, "/api/v1/place-types", None)
    }) {
        Err(PeopleError::Offline(_)) => Ok(Loaded {
            data: choices(&PlaceTypes::default_list()),
            age_secs: 0,
            offline: true,
        }),
        other => other,
    }
}

fn choices(types: &PlaceTypes) -> Vec<PlaceTypeChoice> {
    types
        .all()
        .map(|t| PlaceTypeChoice {
            code: t.code.clone(),
            category: t.category.code().into(),
            name_zh: t.name_zh.clone(),
            name_en: t.name_en.clone(),
        })
        .collect()
}

/// The place types the form is checked against: the server's last list, or the default list.
pub fn held_place_types(store: &Store) -> PlaceTypes {
    store
        .cache_get(PLACE_TYPES_KEY)
        .ok()
        .flatten()
        .and_then(|(body, _)| serde_json::from_str::<Vec<PlaceTypeChoice>>(&body).ok())
        .and_then(|list| {
            PlaceTypes::from_rows(list.iter().enumerate().map(|(i, t)| {
                (
                    i + 1,
                    t.code.as_str(),
                    t.name_zh.as_str(),
                    t.name_en.as_str(),
                )
            }))
            .ok()
        })
        .unwrap_or_else(PlaceTypes::default_list)
}

pub(super) fn problems(p: Vec<application::Problem>) -> Vec<FormProblem> {
    p.into_iter()
        .map(|p| FormProblem {
            field: serde_json::to_value(p.field)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            code: p.code,
        })
        .collect()
}

/// Degrees as typed → millionths; `Err` for text that is not a number.
fn micro_degrees(text: &str) -> Result<Option<i32>, ()> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let v: f64 = t.parse().map_err(|_| ())?;
    if !v.is_finite() || v.abs() > 180.0 {
        return Err(());
    }
    Ok(Some((v * 1e6).round() as i32))
}

/// The form as the server reads it, or the map point's problem.
pub(super) fn input(form: &ApplicationForm) -> (ApplicationInput, Option<FormProblem>) {
    let (lat, lon) = (
        micro_degrees(&form.latitude),
        micro_degrees(&form.longitude),
    );
    let bad_point = (lat.is_err() || lon.is_err()).then(|| FormProblem {
        field: "point".into(),
        code: "bad_point".into(),
    });
    (
        ApplicationInput {
            name: form.name.clone(),
            credit_code: form.credit_code.clone(),
            category: form.category.clone(),
            place_type: form.place_type.clone(),
            region: form.region.clone(),
            address: form.address.clone(),
            lat_e6: lat.ok().flatten(),
            lon_e6: lon.ok().flatten(),
            responsible_name: form.responsible_name.clone(),
            responsible_phone: form.responsible_phone.clone(),
        },
        bad_point,
    )
}

/// Every problem with the form, by the server's own rule.
pub fn check_form(
    form: &ApplicationForm,
    regions: &Regions,
    types: &PlaceTypes,
) -> Vec<FormProblem> {
    let (i, point) = input(form);
    let mut p = match application::check(&i, regions, types) {
        Ok(_) => Vec::new(),
        Err(p) => problems(p),
    };
    if !p.iter().any(|x| x.field == "point") {
        p.extend(point);
    }
    p
}

/// Submits the form; kept as a draft when the server cannot be reached.
pub fn submit(
    store: &mut Store,
    client: &PeopleClient,
    regions: &Regions,
    form: &ApplicationForm,
    draft_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ApplyOutcome, PeopleError> {
    let problems = check_form(form, regions, &held_place_types(store));
    if !problems.is_empty() {
        return Ok(ApplyOutcome::Invalid { problems });
    }
    let (i, _) = input(form);
    let body = serde_json::to_value(&i).map_err(|e| PeopleError::Decode(e.to_string()))?;
    match client.call::<VenueRow>(Method::POST, "/api/v1/venues", Some(&body)) {
        Ok(v) => {
            if let Some(d) = draft_id {
                store.delete_draft(d)?;
            }
            Ok(ApplyOutcome::Submitted {
                venue: Box::new(named(v, regions)),
            })
        }
        Err(PeopleError::Offline(_)) => {
            let id = draft_id
                .map(str::to_string)
                .unwrap_or_else(|| format!("d-{}", uuid::Uuid::now_v7().simple()));
            store.save_draft(&Draft {
                draft_id: id.clone(),
                form: serde_json::to_string(form)
                    .map_err(|e| PeopleError::Decode(e.to_string()))?,
                saved_at: now,
                last_error: None,
            })?;
            Ok(ApplyOutcome::Kept { draft_id: id })
        }
        Err(PeopleError::Invalid(problems)) => Ok(ApplyOutcome::Invalid { problems }),
        Err(e) => Err(e),
    }
}

/// The drafts waiting.
pub fn drafts(store: &Store) -> Result<Vec<DraftRow>, PeopleError> {
    store
        .drafts()?
        .into_iter()
        .map(|d| {
            Ok(DraftRow {
                form: serde_json::from_str(&d.form)
                    .map_err(|e| PeopleError::Decode(e.to_string()))?,
                draft_id: d.draft_id,
                saved_at: d.saved_at.to_rfc3339(),
                last_error: d.last_error,
            })
        })
        .collect()
}

/// Sends every draft the server will take now; how many went. Stops at the first sign the
/// server is away; a draft refused for its content stays, with the reason.
pub fn send_drafts(
    store: &mut Store,
    client: &PeopleClient,
    regions: &Regions,
    now: DateTime<Utc>,
) -> Result<usize, PeopleError> {
    let mut sent = 0;
    for d in drafts(store)? {
        match submit(store, client, regions, &d.form, Some(&d.draft_id), now) {
            Ok(ApplyOutcome::Submitted { .. }) => sent += 1,
            Ok(ApplyOutcome::Kept { .. }) => break,
            Ok(ApplyOutcome::Invalid { problems }) => {
                let codes: Vec<String> = problems
                    .iter()
                    .map(|p| format!("{}: {}", p.field, p.code))
                    .collect();
                store.draft_failed(&d.draft_id, &codes.join(", "))?;
            }
            Err(e @ PeopleError::NotSignedIn(_)) => return Err(e),
            Err(e) => store.draft_failed(&d.draft_id, &e.to_string())?,
        }
    }
    Ok(sent)
}

/// Sends kept drafts in the background: every 5 s, when there are drafts and a person is signed
/// in, tries them (so a draft written offline goes once the server returns, restarts included).
pub fn start_draft_sender(ctx: PeopleContext) {
    let spawned = std::thread::Builder::new()
        .name("drafts".into())
        .spawn(move || {
            let mut store = match Store::open(&ctx.data_dir) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("venuecode: drafts will not be sent: {e}");
                    return;
                }
            };
            loop {
                std::thread::sleep(std::time::Duration::from_secs(5));
                if store.drafts().map(|d| d.is_empty()).unwrap_or(true) {
                    continue;
                }
                let Ok(Some((_, token))) = who_am_i(&store, Utc::now()) else {
                    continue;
                };
                if let Ok(client) = ctx.client(&mut store, Some(token)) {
                    let _ = send_drafts(&mut store, &client, &ctx.regions, Utc::now());
                }
            }
        });
    if let Err(e) = spawned {
        eprintln!("venuecode: drafts will not be sent: {e}");
    }
}

/// The regions under `parent`.
pub fn regions_under(regions: &Regions, parent: Option<&str>) -> Vec<RegionOption> {
    regions
        .children(parent)
        .into_iter()
        .map(|r| RegionOption {
            code: r.code.clone(),
            name: r.name.clone(),
            leaf: regions.is_leaf(&r.code),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_checked_by_the_server_rule_and_a_bad_point_is_named() {
        let regions = Regions::demo();
        let types = PlaceTypes::default_list();
        let mut form = ApplicationForm {
            name: String::new(),
            credit_code: "91330100716105852A".into(),
            category: "02".into(),
            place_type: "0203".into(),
            region: "659002001001".into(),
            address: "幸福路 10 号".into(),
            latitude: "north".into(),
            longitude: "87.6".into(),
            responsible_name: "李四".into(),
            responsible_phone: "13800138000".into(),
        };
        let fields: Vec<String> = check_form(&form, &regions, &types)
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, ["name", "credit_code", "point"]);
        form.latitude = "43.8".into();
        assert_eq!(micro_degrees(" 43.8 "), Ok(Some(43_800_000)));
        assert_eq!(micro_degrees("181"), Err(()));
        assert_eq!(micro_degrees(""), Ok(None));
        assert_eq!(regions_under(&regions, Some("659002001")).len(), 2);
        // A type under another category is named on the type.
        form.name = "阿拉尔市幸福路农贸市场管理有限公司".into();
        form.credit_code = "91330100716105852F".into();
        form.place_type = "0101".into();
        let problems = check_form(&form, &regions, &types);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].field.as_str(), problems[0].code.as_str()),
            ("place_type", "place_type_category")
        );
    }

    #[test]
    fn the_servers_list_of_place_types_is_kept_and_checked_against() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        assert_eq!(held_place_types(&store), PlaceTypes::default_list());
        let list = vec![PlaceTypeChoice {
            code: "0250".into(),
            category: "02".into(),
            name_zh: "夜市".into(),
            name_en: "Night markets".into(),
        }];
        store
            .cache_put(
                PLACE_TYPES_KEY,
                &serde_json::to_string(&list).unwrap(),
                Utc::now(),
            )
            .unwrap();
        let held = held_place_types(&store);
        assert_eq!(held.len(), 1);
        assert_eq!(held.get("0250").unwrap().name_zh, "夜市");
        // A damaged list falls back to the default one (the server checks again anyway).
        store
            .cache_put(PLACE_TYPES_KEY, "[{}]", Utc::now())
            .unwrap();
        assert_eq!(held_place_types(&store), PlaceTypes::default_list());
    }
}
