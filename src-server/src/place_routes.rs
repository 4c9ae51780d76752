//! HTTP routes for what a venue's administrator edits after approval — checkpoints (一门一码,
//! 一门一人), device approval, amending, withdrawing and handing over — and for a reviewer closing
//! a venue. Each states its role; each authenticates the person and asks core's
//! `Principal::may` before anything is read or written.
//!
//! | route | role |
//! |---|---|
//! | `GET /api/v1/venues/{id}/checkpoints` | whoever may read the venue (with each door's signed entry and exit codes once approved, when this server holds the venue authority's key) |
//! | `POST /api/v1/venues/{id}/checkpoints` | the venue's administrator (approved venue) |
//! | `PUT /api/v1/venues/{id}/checkpoints/{checkpoint}` | the venue's administrator |
//! | `POST /api/v1/venues/{id}/devices/{device}/approve` | the venue's administrator |
//! | `PUT /api/v1/venues/{id}` | the venue's administrator (a new name or credit code: back to review) |
//! | `DELETE /api/v1/venues/{id}` | the venue's administrator, while the application is pending |
//! | `POST /api/v1/venues/{id}/close` | a reviewer whose scope covers the venue's region |
//! | `POST /api/v1/venues/{id}/handover` | the venue's administrator (to another venue administrator) |

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{post, put};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use venuecode_core::accounts::Action;
use venuecode_core::application::{self, ApplicationInput};
use venuecode_core::checkpoint::{self, CheckpointInput};

use crate::error::ApiError;
use crate::people;
use crate::store::{Checkpoint, VenueSummary};
use crate::venue_routes::{forbidden, live_venues, managed, readable};
use crate::{blocking, body_bytes, json, AppState};

type Body = Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>;

/// The routes, merged into the app.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/venues/{id}/checkpoints",
            post(add_checkpoint).get(checkpoints),
        )
        .route(
            "/api/v1/venues/{id}/checkpoints/{checkpoint}",
            put(update_checkpoint),
        )
        .route(
            "/api/v1/venues/{id}/devices/{device}/approve",
            post(approve_device),
        )
        .route("/api/v1/venues/{id}", put(amend).delete(withdraw))
        .route("/api/v1/venues/{id}/close", post(close))
        .route("/api/v1/venues/{id}/handover", post(hand_over))
}

fn open_for_changes(v: &VenueSummary) -> Result<(), ApiError> {
    if v.status != "approved" {
        return Err(ApiError::Unprocessable(
            "not_approved",
            format!(
                "the venue is {}: checkpoints and devices follow approval",
                v.status
            ),
        ));
    }
    Ok(())
}

/// A checkpoint with its codes (一门一码): the entry and exit venue codes, signed by the venue
/// authority, as the URLs a poster carries.
#[derive(Debug, serde::Serialize)]
pub struct CheckpointView {
    #[serde(flatten)]
    pub checkpoint: Checkpoint,
    pub entry_code: Option<String>,
    pub exit_code: Option<String>,
}

/// The entry and exit codes of a door of an approved venue. Issued at the venue's creation time,
/// so the same door, name and direction always give the same code (Ed25519 is deterministic): a
/// reprinted poster matches the first one until the venue is renamed.
fn door_codes(
    codes: Option<&crate::VenueCodes>,
    venue: &VenueSummary,
    checkpoint_id: &str,
) -> (Option<String>, Option<String>) {
    use venuecode_core::gate::Direction;
    use venuecode_core::venue_code::{issue, VenueClaims};
    let (Some(codes), true) = (codes, venue.status == "approved") else {
        return (None, None);
    };
    let (Some(category), Ok(issued_at)) = (
        venuecode_core::venue::VenueCategory::from_code(&venue.category),
        chrono::DateTime::parse_from_rfc3339(&venue.created_at),
    ) else {
        return (None, None);
    };
    let claims = |direction| VenueClaims {
        issuer: codes.keys.name.clone(),
        issued_at: issued_at.with_timezone(&Utc),
        venue_id: venue.venue_id.clone(),
        checkpoint_id: checkpoint_id.to_string(),
        direction,
        venue_name: venue.name.clone(),
        region: venue.region.chars().take(6).collect(),
        category,
    };
    (
        Some(issue(
            &codes.keys.key,
            &claims(Direction::Entry),
            &codes.base_url,
        )),
        Some(issue(
            &codes.keys.key,
            &claims(Direction::Exit),
            &codes.base_url,
        )),
    )
}

async fn checkpoints(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Vec<CheckpointView>>, ApiError> {
    let store = state.store();
    let codes = state.venue_codes.clone();
    blocking(move || {
        let (_, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        let venue = readable(store.as_ref(), &who, &id)?;
        Ok(Json(
            store
                .checkpoints(&venue.venue_id)?
                .into_iter()
                .map(|c| {
                    let (entry_code, exit_code) =
                        door_codes(codes.as_deref(), &venue, &c.checkpoint_id);
                    CheckpointView {
                        checkpoint: c,
                        entry_code,
                        exit_code,
                    }
                })
                .collect(),
        ))
    })
    .await
}

fn checked(body: &[u8]) -> Result<venuecode_core::checkpoint::CheckpointSpec, ApiError> {
    let input: CheckpointInput = json(body)?;
    checkpoint::check(&input).map_err(|p| ApiError::Invalid("invalid_checkpoint", p))
}

async fn add_checkpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<(StatusCode, Json<Checkpoint>), ApiError> {
    let body = body_bytes(body)?;
    let store = state.store();
    blocking(move || {
        let (account, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        let venue = managed(store.as_ref(), &who, &id)?;
        open_for_changes(&venue)?;
        let spec = checked(&body)?;
        let cp_id = format!("cp-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let cp = store.add_checkpoint(
            &venue.venue_id,
            &cp_id,
            &spec,
            &people::actor(&account),
            Utc::now(),
        )?;
        Ok((StatusCode::CREATED, Json(cp)))
    })
    .await
}

async fn update_checkpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, cp_id)): Path<(String, String)>,
    body: Body,
) -> Result<Json<Checkpoint>, ApiError> {
    let body = body_bytes(body)?;
    let store = state.store();
    blocking(move || {
        let (account, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        let venue = managed(store.as_ref(), &who, &id)?;
        open_for_changes(&venue)?;
        let spec = checked(&body)?;
        store
            .update_checkpoint(
                &venue.venue_id,
                &cp_id,
                &spec,
                &people::actor(&account),
                Utc::now(),
            )?
            .map(Json)
            .ok_or_else(|| ApiError::NotFound(format!("no checkpoint {cp_id} at this venue")))
    })
    .await
}

async fn approve_device(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, device)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let store = state.store();
    blocking(move || {
        let (account, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        let venue = managed(store.as_ref(), &who, &id)?;
        if store.approve_device(
            &venue.venue_id,
            &device,
            &people::actor(&account),
            Utc::now(),
        )? {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(ApiError::NotFound(format!(
                "no device {device} at this venue"
            )))
        }
    })
    .await
}

/// The venue's new details, and whether that sent it back to review.
#[derive(Debug, serde::Serialize)]
pub struct AmendAnswer {
    #[serde(flatten)]
    pub venue: VenueSummary,
    pub back_to_review: bool,
}

async fn amend(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<AmendAnswer>, ApiError> {
    let body = body_bytes(body)?;
    let store = state.store();
    let regions = state.regions.clone();
    let types = state.place_types.clone();
    blocking(move || {
        let (account, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        let venue = managed(store.as_ref(), &who, &id)?;
        if venue.status == "closed" {
            return Err(ApiError::Unprocessable(
                "closed",
                "a closed venue is not changed".into(),
            ));
        }
        let input: ApplicationInput = json(&body)?;
        let a = application::check(&input, &regions, &types)
            .map_err(|p| ApiError::Invalid("invalid_application", p))?;
        let done = store.amend(&venue.venue_id, &a, &people::actor(&account), Utc::now())?;
        Ok(Json(AmendAnswer {
            venue: done.venue,
            back_to_review: done.back_to_review,
        }))
    })
    .await
}

async fn withdraw(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let store = state.store();
    blocking(move || {
        let (account, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        let venue = managed(store.as_ref(), &who, &id)?;
        if venue.status != "pending" {
            return Err(ApiError::Unprocessable(
                "not_pending",
                "only a pending application is deleted by its applicant; ask the reviewer to close an approved venue".into(),
            ));
        }
        store.withdraw(&venue.venue_id, &people::actor(&account), Utc::now())?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseRequest {
    reason: String,
}

async fn close(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let body = body_bytes(body)?;
    let store = state.store();
    blocking(move || {
        let (account, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        let req: CloseRequest = json(&body)?;
        let venue = readable(store.as_ref(), &who, &id)?;
        if !who.may(Action::Review {
            region: &venue.region,
        }) {
            return Err(forbidden("closing this venue (its reviewer does)"));
        }
        let reason = req.reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 || reason.chars().any(char::is_control)
        {
            return Err(ApiError::BadRequest(
                "bad_reason",
                "closing needs the reason the administrator reads (1 to 200 characters)".into(),
            ));
        }
        store.close_venue(
            &venue.venue_id,
            &people::actor(&account),
            reason,
            Utc::now(),
        )?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HandOverRequest {
    username: String,
}

async fn hand_over(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let body = body_bytes(body)?;
    let store = state.store();
    let rules = state.rules;
    blocking(move || {
        let (account, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        let req: HandOverRequest = json(&body)?;
        let venue = managed(store.as_ref(), &who, &id)?;
        // The heir takes one more venue: the deployment may limit how many one holds.
        let heir = store
            .accounts()?
            .into_iter()
            .find(|a| a.username == req.username.trim())
            .map(|a| a.scopes)
            .unwrap_or_default();
        rules
            .check_take_venue(live_venues(store.as_ref(), &heir)?)
            .map_err(|e| ApiError::Unprocessable(e.code(), e.to_string()))?;
        store.hand_over(
            &venue.venue_id,
            &account.account_id,
            req.username.trim(),
            Utc::now(),
        )?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
