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
mod form;
pub mod reports;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use venuecode_core::region::Regions;
use venuecode_ipc::{
    AmendOutcome, ApplicationForm, CheckpointOutcome, CheckpointRow, DeviceAction, HistoryRow,
    Loaded, Me, MemberDevice, QueueRow, VenueRow, VenueView,
};

pub use client::{PeopleClient, PeopleError};
pub use form::{
    check_form, drafts, held_place_types, place_types, regions_under, send_drafts,
    start_draft_sender, submit,
};

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

use crate::store::{PersonSession, Store};
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
pub(crate) fn load<T: serde::Serialize + serde::de::DeserializeOwned>(
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
pub(crate) fn seg(s: &str) -> String {
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
            problems: form::problems(p),
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
    types: &venuecode_core::place_type::PlaceTypes,
    venue_id: &str,
    form: &ApplicationForm,
) -> Result<AmendOutcome, PeopleError> {
    let problems = check_form(form, regions, types);
    if !problems.is_empty() {
        return Ok(AmendOutcome::Invalid { problems });
    }
    let (i, _) = form::input(form);
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
