//! People's work on this app (登录, 场所, 审核): signing in, the venue application with drafts
//! kept offline, the reviewer's queue, a venue's checkpoints and members — each a use case over
//! the local store and the [`client::PeopleClient`].
//!
//! Invariants: every rule is core's (the form is checked by `application::check`, the same rule
//! the server applies, before anything is sent); a screen read from the server is kept, and
//! shown with its age when the server cannot be reached; a 401 ends the kept session; a draft is
//! removed only once the server has it (or it is refused for its content, which is kept beside
//! it for the person to fix).

pub mod client;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use venuecode_core::application::{self, ApplicationInput};
use venuecode_core::region::Regions;
use venuecode_ipc::{
    AmendOutcome, ApplicationForm, ApplyOutcome, CheckpointOutcome, CheckpointRow, DeviceAction,
    DraftRow, FormProblem, HistoryRow, Loaded, Me, MemberDevice, QueueRow, RegionOption, VenueRow,
    VenueView,
};

pub use client::{PeopleClient, PeopleError};

/// What a blocking people call needs from the app's state.
#[derive(Clone)]
pub struct PeopleContext {
    pub data_dir: PathBuf,
    pub server_url: Option<String>,
    pub allow_http: bool,
    pub regions: Arc<Regions>,
}

impl PeopleContext {
    /// A client for the configured server carrying `token`.
    pub fn client(
        &self,
        store: &mut Store,
        token: Option<String>,
    ) -> Result<PeopleClient, PeopleError> {
        let url = self.server_url.as_deref().ok_or_else(|| {
            PeopleError::Offline("no server is configured (VENUECODE_SERVER_URL)".into())
        })?;
        let transport = Transport::for_station(store, &self.data_dir, self.allow_http)
            .map_err(|e| PeopleError::Offline(e.to_string()))?;
        PeopleClient::new(url, &transport, token)
    }
}

use std::path::PathBuf;
use std::sync::Arc;

use crate::store::{Draft, PersonSession, Store};
use crate::sync::Transport;

/// The person signed in, if the kept session has not expired.
pub fn who_am_i(store: &Store, now: DateTime<Utc>) -> Result<Option<(Me, String)>, PeopleError> {
    let Some(s) = store.person_session()? else {
        return Ok(None);
    };
    if s.expires_at <= now {
        return Ok(None);
    }
    let me: Me = serde_json::from_str(&s.me).map_err(|e| PeopleError::Decode(e.to_string()))?;
    Ok(Some((me, s.token)))
}

#[derive(Deserialize)]
struct LoginAnswer {
    token: String,
    expires_at: DateTime<Utc>,
    account: Me,
}

/// Signs in against the server and keeps the session.
pub fn sign_in(
    store: &mut Store,
    client: &PeopleClient,
    username: &str,
    password: &str,
) -> Result<Me, PeopleError> {
    let a: LoginAnswer = client
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(&json!({"username": username.trim(), "password": password})),
        )
        .map_err(|e| match e {
            PeopleError::NotSignedIn(why) => PeopleError::SignInRefused(why),
            PeopleError::Refused { code, message } if code == "account_locked" => {
                PeopleError::SignInRefused(message)
            }
            other => other,
        })?;
    store.set_person_session(&PersonSession {
        token: a.token,
        expires_at: a.expires_at,
        me: serde_json::to_string(&a.account).map_err(|e| PeopleError::Decode(e.to_string()))?,
    })?;
    Ok(a.account)
}

/// Ends the session on the server (when reachable) and here (always).
pub fn sign_out(store: &mut Store, client: Option<&PeopleClient>) -> Result<(), PeopleError> {
    if let Some(c) = client {
        let _ = c.send(Method::POST, "/api/v1/auth/logout", None);
    }
    store.clear_person_session()?;
    Ok(())
}

/// Reads `path` from the server, keeping it under `key`; when the server cannot be reached,
/// what was kept, with its age. A 401 forgets the session.
fn load<T: serde::Serialize + serde::de::DeserializeOwned>(
    store: &mut Store,
    client: &PeopleClient,
    key: &str,
    now: DateTime<Utc>,
    fetch: impl FnOnce(&PeopleClient) -> Result<T, PeopleError>,
) -> Result<Loaded<T>, PeopleError> {
    match fetch(client) {
        Ok(data) => {
            let body =
                serde_json::to_string(&data).map_err(|e| PeopleError::Decode(e.to_string()))?;
            store.cache_put(key, &body, now)?;
            Ok(Loaded {
                data,
                age_secs: 0,
                offline: false,
            })
        }
        Err(PeopleError::Offline(why)) => match store.cache_get(key)? {
            Some((body, at)) => Ok(Loaded {
                data: serde_json::from_str(&body)
                    .map_err(|e| PeopleError::Decode(e.to_string()))?,
                age_secs: (now - at).num_seconds().max(0),
                offline: true,
            }),
            None => Err(PeopleError::Offline(why)),
        },
        Err(PeopleError::NotSignedIn(why)) => {
            store.clear_person_session()?;
            Err(PeopleError::NotSignedIn(why))
        }
        Err(e) => Err(e),
    }
}

fn named(mut v: VenueRow, regions: &Regions) -> VenueRow {
    v.region_name = regions
        .full_name(&v.region)
        .unwrap_or_else(|| v.region.clone());
    v
}

/// The venues the person may read.
pub fn venues(
    store: &mut Store,
    client: &PeopleClient,
    regions: &Regions,
    now: DateTime<Utc>,
) -> Result<Loaded<Vec<VenueRow>>, PeopleError> {
    load(store, client, "venues", now, |c| {
        let list: Vec<VenueRow> = c.call(Method::GET, "/api/v1/venues", None)?;
        Ok(list.into_iter().map(|v| named(v, regions)).collect())
    })
}

#[derive(Deserialize)]
struct QueueAnswer {
    #[serde(flatten)]
    venue: VenueRow,
    duplicates: Vec<String>,
}

/// The reviewer's queue.
pub fn queue(
    store: &mut Store,
    client: &PeopleClient,
    regions: &Regions,
    now: DateTime<Utc>,
) -> Result<Loaded<Vec<QueueRow>>, PeopleError> {
    load(store, client, "queue", now, |c| {
        let list: Vec<QueueAnswer> = c.call(Method::GET, "/api/v1/review/queue", None)?;
        Ok(list
            .into_iter()
            .map(|q| QueueRow {
                venue: named(q.venue, regions),
                duplicates: q.duplicates,
            })
            .collect())
    })
}

/// Approves or rejects.
pub fn decide(
    client: &PeopleClient,
    regions: &Regions,
    venue_id: &str,
    approve: bool,
    reason: Option<&str>,
) -> Result<VenueRow, PeopleError> {
    let v: VenueRow = client.call(
        Method::POST,
        &format!("/api/v1/venues/{}/decision", seg(venue_id)),
        Some(&json!({"approve": approve, "reason": reason})),
    )?;
    Ok(named(v, regions))
}

/// A path segment made safe (ids are ours, but nothing typed reaches a URL unescaped).
fn seg(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[derive(Deserialize)]
struct MembersAnswer {
    devices: Vec<MemberDevice>,
}

/// One venue: its entry, checkpoints and (for its administrator) devices.
pub fn venue(
    store: &mut Store,
    client: &PeopleClient,
    regions: &Regions,
    manages: bool,
    venue_id: &str,
    now: DateTime<Utc>,
) -> Result<Loaded<VenueView>, PeopleError> {
    let id = seg(venue_id);
    load(store, client, &format!("venue:{id}"), now, |c| {
        let list: Vec<VenueRow> = c.call(Method::GET, "/api/v1/venues", None)?;
        let venue = list
            .into_iter()
            .find(|v| v.venue_id == id)
            .ok_or_else(|| PeopleError::Forbidden(format!("no venue {id} in your scope")))?;
        let approved = venue.status == "approved";
        let checkpoints: Vec<CheckpointRow> = if approved {
            c.call(
                Method::GET,
                &format!("/api/v1/venues/{id}/checkpoints"),
                None,
            )?
        } else {
            Vec::new()
        };
        let devices = if manages && approved {
            c.call::<MembersAnswer>(Method::GET, &format!("/api/v1/venues/{id}/members"), None)?
                .devices
        } else {
            Vec::new()
        };
        let history: Vec<HistoryRow> =
            c.call(Method::GET, &format!("/api/v1/venues/{id}/history"), None)?;
        Ok(VenueView {
            venue: named(venue, regions),
            checkpoints,
            devices,
            history,
        })
    })
}

/// Adds or changes a checkpoint.
pub fn save_checkpoint(
    client: &PeopleClient,
    r: &venuecode_ipc::SaveCheckpoint,
) -> Result<CheckpointOutcome, PeopleError> {
    let input = venuecode_core::checkpoint::CheckpointInput {
        name: r.name.clone(),
        responsible_name: r.responsible_name.clone(),
        responsible_phone: r.responsible_phone.clone(),
        disabled: r.disabled,
    };
    if let Err(p) = venuecode_core::checkpoint::check(&input) {
        return Ok(CheckpointOutcome::Invalid {
            problems: problems(p),
        });
    }
    let body = serde_json::to_value(&input).map_err(|e| PeopleError::Decode(e.to_string()))?;
    let id = seg(&r.venue_id);
    let answer = match &r.checkpoint_id {
        None => client.call(
            Method::POST,
            &format!("/api/v1/venues/{id}/checkpoints"),
            Some(&body),
        ),
        Some(cp) => client.call(
            Method::PUT,
            &format!("/api/v1/venues/{id}/checkpoints/{}", seg(cp)),
            Some(&body),
        ),
    };
    match answer {
        Ok(checkpoint) => Ok(CheckpointOutcome::Saved { checkpoint }),
        Err(PeopleError::Invalid(problems)) => Ok(CheckpointOutcome::Invalid { problems }),
        Err(e) => Err(e),
    }
}

/// Changes a venue's details (checked by core's rule first).
pub fn amend(
    client: &PeopleClient,
    regions: &Regions,
    venue_id: &str,
    form: &ApplicationForm,
) -> Result<AmendOutcome, PeopleError> {
    let problems = check_form(form, regions);
    if !problems.is_empty() {
        return Ok(AmendOutcome::Invalid { problems });
    }
    let (i, _) = input(form);
    let body = serde_json::to_value(&i).map_err(|e| PeopleError::Decode(e.to_string()))?;
    #[derive(Deserialize)]
    struct Answer {
        back_to_review: bool,
    }
    match client.call::<Answer>(
        Method::PUT,
        &format!("/api/v1/venues/{}", seg(venue_id)),
        Some(&body),
    ) {
        Ok(a) => Ok(AmendOutcome::Saved {
            back_to_review: a.back_to_review,
        }),
        Err(PeopleError::Invalid(problems)) => Ok(AmendOutcome::Invalid { problems }),
        Err(e) => Err(e),
    }
}

/// Deletes a pending application.
pub fn withdraw(client: &PeopleClient, venue_id: &str) -> Result<(), PeopleError> {
    client.send(
        Method::DELETE,
        &format!("/api/v1/venues/{}", seg(venue_id)),
        None,
    )?;
    Ok(())
}

/// Closes a venue (a reviewer), with the reason.
pub fn close(client: &PeopleClient, venue_id: &str, reason: &str) -> Result<(), PeopleError> {
    client.send(
        Method::POST,
        &format!("/api/v1/venues/{}/close", seg(venue_id)),
        Some(&json!({"reason": reason})),
    )?;
    Ok(())
}

/// Hands the venue to another venue administrator.
pub fn hand_over(client: &PeopleClient, venue_id: &str, username: &str) -> Result<(), PeopleError> {
    client.send(
        Method::POST,
        &format!("/api/v1/venues/{}/handover", seg(venue_id)),
        Some(&json!({"username": username.trim()})),
    )?;
    Ok(())
}

/// Approves or revokes a device.
pub fn change_device(
    client: &PeopleClient,
    venue_id: &str,
    device_id: &str,
    action: DeviceAction,
) -> Result<(), PeopleError> {
    let verb = match action {
        DeviceAction::Approve => "approve",
        DeviceAction::Revoke => "revoke",
    };
    client.send(
        Method::POST,
        &format!(
            "/api/v1/venues/{}/devices/{}/{verb}",
            seg(venue_id),
            seg(device_id)
        ),
        None,
    )?;
    Ok(())
}

#[derive(Deserialize)]
struct CodeAnswer {
    declaration_code: String,
}

/// A fresh declaration code.
pub fn renew_code(client: &PeopleClient, venue_id: &str) -> Result<String, PeopleError> {
    Ok(client
        .call::<CodeAnswer>(
            Method::POST,
            &format!("/api/v1/venues/{}/declaration-code", seg(venue_id)),
            None,
        )?
        .declaration_code)
}

fn problems(p: Vec<application::Problem>) -> Vec<FormProblem> {
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
fn input(form: &ApplicationForm) -> (ApplicationInput, Option<FormProblem>) {
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
pub fn check_form(form: &ApplicationForm, regions: &Regions) -> Vec<FormProblem> {
    let (i, point) = input(form);
    let mut p = match application::check(&i, regions) {
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
    let problems = check_form(form, regions);
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
        let mut form = ApplicationForm {
            name: String::new(),
            credit_code: "91330100716105852A".into(),
            category: "02".into(),
            region: "659002001001".into(),
            address: "幸福路 10 号".into(),
            latitude: "north".into(),
            longitude: "87.6".into(),
            responsible_name: "李四".into(),
            responsible_phone: "13800138000".into(),
        };
        let fields: Vec<String> = check_form(&form, &regions)
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, ["name", "credit_code", "point"]);
        form.latitude = "43.8".into();
        assert_eq!(micro_degrees(" 43.8 "), Ok(Some(43_800_000)));
        assert_eq!(micro_degrees("181"), Err(()));
        assert_eq!(micro_degrees(""), Ok(None));
        assert_eq!(regions_under(&regions, Some("659002001")).len(), 2);
    }
}
