//! HTTP routes for venue applications and their review. Each states its role; each calls
//! `people::authenticate` and asks core's `Principal::may` before anything is read or written.
//!
//! | route | role |
//! |---|---|
//! | `POST /api/v1/venues` | venue administrator (applies; the venue joins their scopes) |
//! | `GET /api/v1/venues` | venue administrator (their venues), reviewer and authority (their regions) |
//! | `GET /api/v1/review/queue` | reviewer (pending applications in their communities, duplicates flagged) |
//! | `POST /api/v1/venues/{id}/decision` | reviewer whose scope covers the venue's region |
//! | `GET /api/v1/venues/{id}/history` | whoever may read the venue |

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
        .route("/api/v1/venues", post(apply).get(list))
        .route("/api/v1/review/queue", get(queue))
        .route("/api/v1/venues/{id}/decision", post(decide))
        .route("/api/v1/venues/{id}/history", get(history))
}

fn forbidden(what: &str) -> ApiError {
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

fn readable(store: &dyn Store, who: &Principal, id: &str) -> Result<VenueSummary, ApiError> {
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
    blocking(move || {
        let (account, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        if who.role != Role::VenueAdmin {
            return Err(forbidden(
                "applying for a venue (venue administrators apply)",
            ));
        }
        let input: ApplicationInput = json(&body)?;
        let checked = application::check(&input, &regions)
            .map_err(|p| ApiError::Invalid("invalid_application", p))?;
        let id = format!("v-{}", uuid::Uuid::now_v7().simple());
        let s = store.apply(&id, &checked, &account.account_id, Utc::now())?;
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
        let entries = all
            .iter()
            .filter(|v| v.status == "pending")
            .map(|v| QueueEntry {
                duplicates: all
                    .iter()
                    .filter(|o| o.venue_id != v.venue_id && o.status != "rejected")
                    .filter(|o| {
                        (o.credit_code.is_some() && o.credit_code == v.credit_code)
                            || o.address == v.address
                    })
                    .map(|o| o.venue_id.clone())
                    .collect(),
                venue: v.clone(),
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
        for _ in 0..8 {
            let n = u32::from_le_bytes(
                venuecode_keys::random_bytes()
                    .map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?,
            );
            let code = format!("{:06}", 100_000 + n % 900_000);
            match store.decide(
                &id,
                &Decision::Approve {
                    declaration_code: code,
                },
                &account.account_id,
                now,
            ) {
                Err(StoreError::DeclarationCodeTaken(_)) => continue,
                other => return Ok(Json(other?)),
            }
        }
        Err(ApiError::Internal(
            "no free declaration code after 8 draws".into(),
        ))
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
