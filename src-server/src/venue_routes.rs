//! HTTP routes for venue applications and their review. Each states its role; each calls
//! `people::authenticate` and asks core's `Principal::may` before anything is read or written.
//!
//! | route | role |
//! |---|---|
//! | `GET /api/v1/place-types` | any signed-in person (the deployment's list of place types) |
//! | `POST /api/v1/venues` | venue administrator (applies; the venue joins their scopes) |
//! | `GET /api/v1/venues` | venue administrator (their venues), reviewer and authority (their regions) |
//! | `GET /api/v1/review/queue` | reviewer (pending applications in their communities, duplicates flagged) |
//! | `POST /api/v1/venues/{id}/decision` | reviewer whose scope covers the venue's region |
//! | `GET /api/v1/venues/{id}/history` | whoever may read the venue |
//! | `GET /api/v1/venues/{id}/members` | the venue's administrator (declaration code, devices) |
//! | `POST /api/v1/venues/{id}/declaration-code` | the venue's administrator (a new code) |
//! | `POST /api/v1/venues/{id}/devices/{device}/revoke` | the venue's administrator |

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use venuecode_core::accounts::{Action, Principal, Role};
use venuecode_core::application::{self, ApplicationInput};

use crate::error::ApiError;
use crate::people;
use crate::store::{Decision, Store, StoreError, VenueEvent, VenueFilter, VenueSummary};
use crate::{blocking, body_bytes, json, AppState};

/// The venue routes, merged into the app.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/place-types", get(place_types))
        .route("/api/v1/venues", post(apply).get(list))
        .route("/api/v1/review/queue", get(queue))
        .route("/api/v1/venues/{id}/decision", post(decide))
        .route("/api/v1/venues/{id}/history", get(history))
        .route("/api/v1/venues/{id}/members", get(members))
        .route(
            "/api/v1/venues/{id}/declaration-code",
            post(new_declaration_code),
        )
        .route(
            "/api/v1/venues/{id}/devices/{device}/revoke",
            post(revoke_device),
        )
}

/// How many of `venue_ids` are live (pending or approved): what the rule on venues per
/// administrator counts (a rejected or closed venue frees its place).
pub(crate) fn live_venues(store: &dyn Store, venue_ids: &[String]) -> Result<usize, ApiError> {
    Ok(store
        .venue_summaries(&VenueFilter::Ids(venue_ids.to_vec()), None)?
        .iter()
        .filter(|v| v.status == "pending" || v.status == "approved")
        .count())
}

/// A place type as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlaceTypeView {
    pub code: String,
    /// The category code it sits under (01–06, 99).
    pub category: String,
    pub name_zh: String,
    pub name_en: String,
}

/// The deployment's place types, by code (any signed-in person: the form offers them).
async fn place_types(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<PlaceTypeView>>, ApiError> {
    let store = state.store();
    let types = state.place_types.clone();
    blocking(move || {
        people::authenticate(store.as_ref(), &headers, Utc::now())?;
        Ok(Json(
            types
                .all()
                .map(|t| PlaceTypeView {
                    code: t.code.clone(),
                    category: t.category.code().into(),
                    name_zh: t.name_zh.clone(),
                    name_en: t.name_en.clone(),
                })
                .collect(),
        ))
    })
    .await
}

/// Who approved a venue in a deployment without review (its history says so).
pub const AUTOMATIC: &str = "automatic (no review in this deployment)";

pub(crate) fn forbidden(what: &str) -> ApiError {
    ApiError::Forbidden(format!("your role or scope does not reach {what}"))
}

/// What a person may list: their venues, or their regions.
fn filter_for(who: &Principal) -> Option<VenueFilter> {
    match who.role {
        Role::VenueAdmin => Some(VenueFilter::Ids(who.scopes.clone())),
        Role::Reviewer | Role::Authority => Some(VenueFilter::Regions(who.scopes.clone())),
        Role::SysAdmin => None,
    }
}

pub(crate) fn readable(
    store: &dyn Store,
    who: &Principal,
    id: &str,
) -> Result<VenueSummary, ApiError> {
    let venue = store
        .venue_summary(id)?
        .ok_or_else(|| ApiError::NotFound(format!("no venue {id}")))?;
    if !who.may(Action::ReadVenue {
        venue_id: &venue.venue_id,
        region: &venue.region,
    }) {
        // Not found rather than forbidden: a venue outside one's scope is not confirmed to exist.
        return Err(ApiError::NotFound(format!("no venue {id}")));
    }
    Ok(venue)
}

async fn apply(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<VenueSummary>), ApiError> {
    let body = body_bytes(body)?;
    let store = state.store();
    let regions = state.regions.clone();
    let types = state.place_types.clone();
    let rules = state.rules;
    blocking(move || {
        let (account, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        if who.role != Role::VenueAdmin {
            return Err(forbidden(
                "applying for a venue (venue administrators apply)",
            ));
        }
        let input: ApplicationInput = json(&body)?;
        let checked = application::check(&input, &regions, &types)
            .map_err(|p| ApiError::Invalid("invalid_application", p))?;
        rules
            .check_take_venue(live_venues(store.as_ref(), &who.scopes)?)
            .map_err(|e| ApiError::Unprocessable(e.code(), e.to_string()))?;
        let id = format!("v-{}", uuid::Uuid::now_v7().simple());
        let s = store.apply(&id, &checked, &account.account_id, Utc::now())?;
        if rules.review_required {
            return Ok((StatusCode::CREATED, Json(s)));
        }
        // No review in this deployment: approved at once, recorded as such.
        let s = with_fresh_code(|declaration_code| {
            store.decide(
                &id,
                &Decision::Approve { declaration_code },
                AUTOMATIC,
                Utc::now(),
            )
        })?;
        Ok((StatusCode::CREATED, Json(s)))
    })
    .await
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<VenueSummary>>, ApiError> {
    let store = state.store();
    blocking(move || {
        let (_, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        let filter = filter_for(&who).ok_or_else(|| forbidden("venues"))?;
        Ok(Json(store.venue_summaries(&filter, None)?))
    })
    .await
}

/// A pending application in a reviewer's queue.
#[derive(Debug, Serialize)]
pub struct QueueEntry {
    #[serde(flatten)]
    pub venue: VenueSummary,
    /// Other live venues in the reviewer's regions with the same credit code or address.
    pub duplicates: Vec<String>,
}

async fn queue(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<QueueEntry>>, ApiError> {
    let store = state.store();
    blocking(move || {
        let (_, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        if who.role != Role::Reviewer {
            return Err(forbidden("the review queue"));
        }
        let all = store.venue_summaries(&VenueFilter::Regions(who.scopes.clone()), None)?;
        // Live venues by credit code and by address: one pass, then a lookup per application.
        let mut by_key: std::collections::HashMap<(bool, &str), Vec<&str>> = Default::default();
        for o in all.iter().filter(|o| o.status != "rejected") {
            if let Some(code) = &o.credit_code {
                by_key.entry((true, code)).or_default().push(&o.venue_id);
            }
            by_key
                .entry((false, &o.address))
                .or_default()
                .push(&o.venue_id);
        }
        let entries = all
            .iter()
            .filter(|v| v.status == "pending")
            .map(|v| {
                let mut duplicates: Vec<String> = v
                    .credit_code
                    .as_deref()
                    .map(|c| (true, c))
                    .into_iter()
                    .chain([(false, v.address.as_str())])
                    .filter_map(|k| by_key.get(&k))
                    .flatten()
                    .filter(|id| **id != v.venue_id)
                    .map(|id| id.to_string())
                    .collect();
                duplicates.sort();
                duplicates.dedup();
                QueueEntry {
                    duplicates,
                    venue: v.clone(),
                }
            })
            .collect();
        Ok(Json(entries))
    })
    .await
}

/// `POST /api/v1/venues/{id}/decision`.
#[derive(Debug, Deserialize)]
pub struct DecisionRequest {
    pub approve: bool,
    /// Required when rejecting: what the applicant must change (1–200 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<VenueSummary>, ApiError> {
    let body = body_bytes(body)?;
    let store = state.store();
    blocking(move || {
        let (account, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        let req: DecisionRequest = json(&body)?;
        let venue = readable(store.as_ref(), &who, &id)?;
        if !who.may(Action::Review {
            region: &venue.region,
        }) {
            return Err(forbidden("reviewing this venue"));
        }
        let now = Utc::now();
        if !req.approve {
            let reason = req.reason.as_deref().unwrap_or("").trim().to_string();
            if reason.is_empty()
                || reason.chars().count() > 200
                || reason.chars().any(char::is_control)
            {
                return Err(ApiError::BadRequest(
                    "bad_reason",
                    "a rejection needs the reason the applicant reads (1 to 200 characters)".into(),
                ));
            }
            let s = store.decide(&id, &Decision::Reject { reason }, &account.account_id, now)?;
            return Ok(Json(s));
        }
        // A fresh 6-digit declaration code; a taken one (rare) is drawn again.
        let s = with_fresh_code(|declaration_code| {
            store.decide(
                &id,
                &Decision::Approve { declaration_code },
                &account.account_id,
                now,
            )
        })?;
        Ok(Json(s))
    })
    .await
}

async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Vec<VenueEvent>>, ApiError> {
    let store = state.store();
    blocking(move || {
        let (_, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        readable(store.as_ref(), &who, &id)?;
        Ok(Json(store.venue_history(&id)?))
    })
    .await
}

/// The venue its administrator manages, or why not (404 outside one's scope, 403 for a reader
/// who does not manage it).
pub(crate) fn managed(
    store: &dyn Store,
    who: &Principal,
    id: &str,
) -> Result<VenueSummary, ApiError> {
    let venue = readable(store, who, id)?;
    if !who.may(Action::ManageVenue {
        venue_id: &venue.venue_id,
        region: &venue.region,
    }) {
        return Err(forbidden("managing this venue (its administrator does)"));
    }
    Ok(venue)
}

/// A device as the venue's administrator sees it.
#[derive(Debug, Serialize)]
pub struct MemberDevice {
    pub device_id: String,
    pub checkpoint_id: String,
    pub inspector: String,
    pub enrolled_at: chrono::DateTime<Utc>,
    /// When it last uploaded, if ever (its last activity).
    pub last_seen: Option<chrono::DateTime<Utc>>,
    pub active: bool,
    /// Waiting for the administrator's approval.
    pub pending: bool,
}

/// The venue's members: its declaration code (场所申报码) and the inspectors' devices.
#[derive(Debug, Serialize)]
pub struct Members {
    pub declaration_code: Option<String>,
    pub devices: Vec<MemberDevice>,
}

async fn members(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Members>, ApiError> {
    let store = state.store();
    blocking(move || {
        let (_, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        let venue = managed(store.as_ref(), &who, &id)?;
        let devices = store
            .devices(Some(&venue.venue_id))?
            .into_iter()
            .map(|d| MemberDevice {
                device_id: d.device.device_id,
                checkpoint_id: d.device.checkpoint_id,
                inspector: d.device.inspector,
                enrolled_at: d.enrolled_at,
                last_seen: d.last_seen,
                active: !d.device.revoked,
                pending: d.device.pending,
            })
            .collect();
        Ok(Json(Members {
            declaration_code: venue.declaration_code,
            devices,
        }))
    })
    .await
}

/// Draws 6-digit codes until `set` takes one (a taken code is drawn again, at most 8 times).
fn with_fresh_code<T>(mut set: impl FnMut(String) -> Result<T, StoreError>) -> Result<T, ApiError> {
    for _ in 0..8 {
        let n = u32::from_le_bytes(
            venuecode_keys::random_bytes()
                .map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?,
        );
        match set(format!("{:06}", 100_000 + n % 900_000)) {
            Err(StoreError::DeclarationCodeTaken(_)) => continue,
            other => return Ok(other?),
        }
    }
    Err(ApiError::Internal(
        "no free declaration code after 8 draws".into(),
    ))
}

/// A new declaration code.
#[derive(Debug, Serialize)]
pub struct DeclarationCode {
    pub declaration_code: String,
}

async fn new_declaration_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<DeclarationCode>, ApiError> {
    let store = state.store();
    blocking(move || {
        let (_, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        let venue = managed(store.as_ref(), &who, &id)?;
        if venue.status != "approved" {
            return Err(ApiError::Unprocessable(
                "not_approved",
                "only an approved venue has a declaration code".into(),
            ));
        }
        let code = with_fresh_code(|code| {
            store
                .set_declaration_code(&venue.venue_id, &code, Utc::now())
                .map(|_| code)
        })?;
        Ok(Json(DeclarationCode {
            declaration_code: code,
        }))
    })
    .await
}

async fn revoke_device(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, device)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let store = state.store();
    blocking(move || {
        let (account, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        let venue = managed(store.as_ref(), &who, &id)?;
        let at_venue = store
            .device(&device)?
            .is_some_and(|d| d.venue_id == venue.venue_id);
        if !at_venue {
            return Err(ApiError::NotFound(format!(
                "no device {device} at this venue"
            )));
        }
        store.set_revoked(&device, true, &people::actor(&account), Utc::now())?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
