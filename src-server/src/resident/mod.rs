//! 扫场所码 for residents' phones: the page a poster's URL opens, and the two calls it makes.
//!
//! | route | role |
//! |---|---|
//! | `GET /csm/1/{payload}` | anyone (the poster's URL): the check-in page for that door, or a plain message why not |
//! | `POST /api/v1/health-code/inspect` | anyone: what a health code says (masked), before the phone keeps it |
//! | `POST /api/v1/self-check-in` | anyone holding the poster's URL and their own codes: checks them in |
//! | `GET /r/{file}` | anyone: the page's optional scanner module (WebAssembly), from `--web-dir` |
//! | `GET /api/v1/sync/phone-check-ins?since=MS` | an enrolled, active station: its venue's residents' own check-ins, for its list and counters (pulled every sync round) |
//!
//! No account: what authorises a check-in is a poster signed by this deployment's venue
//! authority (its door still open) and health codes signed by a listed issuer. Invariants: a
//! poster that does not verify, belongs to another deployment, or names a closed venue or a
//! withdrawn door records nothing; every code is verified here (signature, expiry, revocation in
//! the server's list) and judged by core's gate rule (`self_check_in`); refusals are stored with
//! their alert, on the same ingest path as a station's upload, and judged for shared codes and
//! impossible travel after the commit; the limits per venue and per person hold before anything
//! is stored. Nothing personal is logged.

use std::path::PathBuf;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use venuecode_core::codes::CodeError;
use venuecode_core::gate::Direction;
use venuecode_core::sync::{PhoneCheckIn, PhoneCheckIns, PolicyWire, PHONE_CHECK_IN_PAGE};
use venuecode_core::trust::TrustList;
use venuecode_core::venue_code::{self, VenueClaims};

use crate::error::ApiError;
use crate::store::{PhoneRow, Store};
use crate::{blocking, AppState};

mod check_in;
pub use check_in::{CodeView, PersonProblem, PersonResult, Refusal, SelfCheckInAnswer};

/// Self check-ins one venue takes per minute (a busy hospital's doors at their peak, twice over).
pub const PER_VENUE_MINUTE: u32 = 600;
/// Check-ins of one person per hour (a resident going in and out, and retrying).
pub const PER_PERSON_HOUR: u32 = 30;
/// Largest request body (six codes of a few hundred characters, with room).
const MAX_BODY: usize = 32 * 1024;
/// The venue's local time for the records' day (the deployment's, China by default).
const ZONE_SECONDS: i32 = 8 * 3600;

const PAGE: &str = include_str!("../../web/resident.html");

/// The routes, merged into the app.
pub fn routes() -> Router<AppState> {
    // The page and the scanner module go gzip-compressed to phones that ask (all do): a poor
    // network is the rule at a door. The API's answers stay as they are.
    let pages = Router::new()
        .route("/csm/1/{payload}", get(page))
        .route("/r/{file}", get(asset))
        .layer(tower_http::compression::CompressionLayer::new());
    Router::new()
        .route("/api/v1/sync/phone-check-ins", get(for_station))
        .route("/api/v1/health-code/inspect", post(check_in::inspect))
        .route("/api/v1/self-check-in", post(check_in::check_in))
        .merge(pages)
}

/// Why a poster opens no check-in (the page shows the code's text in the reader's language).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PosterError {
    #[error("this poster belongs to another deployment ({0}): scan the poster of this place's own system, or show your code to the staff")]
    OtherDeployment(String),
    #[error("this poster's code is damaged or was altered: nothing was recorded; show your code to the staff")]
    Invalid,
    #[error("this place does not take check-ins now (closed or not approved): show your code to the staff")]
    VenueClosed,
    #[error("this door's poster has been withdrawn: use another door's poster or show your code to the staff")]
    DoorWithdrawn,
    #[error("this server issues no posters (no venue authority configured)")]
    NotConfigured,
}

impl PosterError {
    pub fn code(&self) -> &'static str {
        match self {
            PosterError::OtherDeployment(_) => "other_deployment",
            PosterError::Invalid => "poster_invalid",
            PosterError::VenueClosed => "venue_closed",
            PosterError::DoorWithdrawn => "door_withdrawn",
            PosterError::NotConfigured => "not_configured",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            PosterError::OtherDeployment(_) | PosterError::Invalid => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            PosterError::VenueClosed | PosterError::DoorWithdrawn => StatusCode::GONE,
            PosterError::NotConfigured => StatusCode::NOT_FOUND,
        }
    }
}

/// A door a verified poster opens.
#[derive(Debug, Clone, Serialize)]
pub struct Door {
    pub venue_id: String,
    pub venue_name: String,
    pub checkpoint_id: String,
    pub checkpoint_name: String,
    /// `entry` or `exit`.
    pub direction: &'static str,
    /// The venue's report phone (called when someone is refused).
    pub phone: String,
    #[serde(skip)]
    claims: Option<VenueClaims>,
    #[serde(skip)]
    policy: Option<PolicyWire>,
}

/// Verifies a poster's URL and finds its door open; `Err` says why a phone cannot check in.
pub fn open_door(
    store: &dyn Store,
    trust: Option<&TrustList>,
    url: &str,
) -> Result<Result<Door, PosterError>, ApiError> {
    let Some(trust) = trust else {
        return Ok(Err(PosterError::NotConfigured));
    };
    let claims = match venue_code::verify(url, trust) {
        Ok(v) => v.claims,
        // Signed, but not by a key this deployment lists: another city's system (whose posters
        // name their own server), or a forgery dressed as one.
        Err(CodeError::UnknownIssuer(issuer)) => {
            return Ok(Err(PosterError::OtherDeployment(issuer)))
        }
        Err(CodeError::UnknownKeyId { issuer, .. }) => {
            return Ok(Err(PosterError::OtherDeployment(issuer)))
        }
        Err(_) => return Ok(Err(PosterError::Invalid)),
    };
    let open = store
        .venue_summary(&claims.venue_id)?
        .is_some_and(|v| v.status == "approved");
    let Some((info, policy)) = store.venue_info(&claims.venue_id)?.filter(|_| open) else {
        return Ok(Err(PosterError::VenueClosed));
    };
    let Some(door) = store
        .checkpoints(&claims.venue_id)?
        .into_iter()
        .find(|c| c.checkpoint_id == claims.checkpoint_id && !c.disabled)
    else {
        return Ok(Err(PosterError::DoorWithdrawn));
    };
    Ok(Ok(Door {
        venue_id: claims.venue_id.clone(),
        venue_name: info.name,
        checkpoint_id: door.checkpoint_id,
        checkpoint_name: door.name,
        direction: claims.direction.as_str(),
        phone: info.phone,
        claims: Some(claims),
        policy: Some(policy),
    }))
}

/// What the page boots with (embedded in it as JSON).
#[derive(Serialize)]
struct Boot<'a> {
    door: Option<&'a Door>,
    error: Option<ErrorView>,
    url: &'a str,
}

#[derive(Serialize)]
struct ErrorView {
    error: &'static str,
    message: String,
}

async fn page(
    State(state): State<AppState>,
    Path(payload): Path<String>,
) -> Result<Response, ApiError> {
    let url = poster_url(&payload);
    let store = state.store.clone();
    let trust = state.trust();
    let door = blocking(move || open_door(store.as_ref(), trust.as_deref(), &url)).await?;
    let (status, boot) = match &door {
        Ok(d) => (
            StatusCode::OK,
            serde_json::to_string(&Boot {
                door: Some(d),
                error: None,
                url: &payload,
            }),
        ),
        Err(e) => (
            e.status(),
            serde_json::to_string(&Boot {
                door: None,
                error: Some(ErrorView {
                    error: e.code(),
                    message: e.to_string(),
                }),
                url: &payload,
            }),
        ),
    };
    let boot = boot
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .replace('<', "\\u003c");
    let html = PAGE.replace("{\"boot\":0}", &boot);
    Ok((status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

/// A poster's URL from what a phone sends: the whole URL, its path, or its payload alone (the
/// host is never trusted: only the signature is).
fn poster_url(text: &str) -> String {
    let t = text.trim();
    if t.starts_with("https://") || t.starts_with("http://") {
        return t.to_string();
    }
    let payload = t.rsplit_once(venue_code::PATH).map_or(t, |(_, p)| p);
    format!("https://poster{}{payload}", venue_code::PATH)
}

/// How far back a station's first ask reaches (its list shows today; a day's doors at most).
const PHONE_LOOKBACK_HOURS: i64 = 24;

#[derive(Deserialize)]
struct SinceQuery {
    /// Unix milliseconds.
    since: i64,
}

/// A station's pull of its venue's residents' own check-ins (signed request, signed answer).
async fn for_station(
    State(state): State<AppState>,
    method: axum::http::Method,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    headers: axum::http::HeaderMap,
    query: Result<axum::extract::Query<SinceQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PhoneCheckIns>, ApiError> {
    let axum::extract::Query(q) =
        query.map_err(|e| ApiError::BadRequest("bad_query", e.body_text()))?;
    let device = crate::auth::authenticate(&state, &method, &uri, &headers, &[]).await?;
    let store = state.store.clone();
    blocking(move || {
        let floor = Utc::now() - chrono::Duration::hours(PHONE_LOOKBACK_HOURS);
        let since = DateTime::from_timestamp_millis(q.since)
            .unwrap_or(floor)
            .max(floor);
        let mut rows = store.phone_check_ins(&device.venue_id, since, PHONE_CHECK_IN_PAGE + 1)?;
        let more = rows.len() > PHONE_CHECK_IN_PAGE;
        rows.truncate(PHONE_CHECK_IN_PAGE);
        Ok(Json(PhoneCheckIns {
            entries: rows
                .into_iter()
                .map(
                    |PhoneRow {
                         id,
                         subject,
                         row: r,
                     }| PhoneCheckIn {
                        id,
                        subject,
                        checkpoint_id: r.checkpoint_id,
                        direction: r.direction,
                        at: r.at,
                        verdict: r.verdict,
                        reasons: r.reasons,
                        name_masked: r.name_masked,
                        id_masked: r.id_masked,
                        color: r.color,
                    },
                )
                .collect(),
            more,
        }))
    })
    .await
}

/// The page's optional modules, from the web directory (`--web-dir`): only known names.
async fn asset(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let kind = match file.as_str() {
        "scan.js" => "text/javascript; charset=utf-8",
        "scan_bg.wasm" => "application/wasm",
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let Some(dir) = state.web_dir() else {
        return (StatusCode::NOT_FOUND, "no scanner module on this server").into_response();
    };
    let path: PathBuf = dir.join(&file);
    match blocking(move || Ok(std::fs::read(&path).ok())).await {
        Ok(Some(bytes)) => (
            [
                (header::CONTENT_TYPE, kind),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            bytes,
        )
            .into_response(),
        _ => (StatusCode::NOT_FOUND, "no scanner module on this server").into_response(),
    }
}
