//! HTTP routes for a venue's occupancy and capacity (限流, issue 18): how many people are inside
//! now across all its gates, and the most it takes at once.
//!
//! | route | role |
//! |---|---|
//! | `GET /api/v1/venues/{id}/occupancy` | the venue's administrator, or an authority over its region (counts only, never who) |
//! | `PUT /api/v1/venues/{id}/capacity` | the venue's administrator: sets (1–1,000,000) or removes (`null`) the capacity |
//!
//! Invariants: who is inside is core's rule (`presence::by_gate` over the stays of the
//! automatic-exit window, the same the stations use); a capacity reaches the venue's stations
//! with their next pull (every 5 minutes at most) in the signed policy, and the stations hold
//! entries at the cap; a change is logged (venue and value, no person).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use venuecode_core::copresence::Passage;
use venuecode_core::gate::Direction;

use crate::error::ApiError;
use crate::people;
use crate::report_routes::check_ins_of;
use crate::trace_routes::AUTO_CLOSE;
use crate::venue_routes::managed;
use crate::{blocking, body_bytes, json, AppState};

/// The routes, merged into the app.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/venues/{id}/occupancy", get(occupancy))
        .route("/api/v1/venues/{id}/capacity", put(set_capacity))
}

/// People inside who came in by one gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateInside {
    pub checkpoint_id: String,
    pub name: String,
    pub inside: usize,
}

/// A venue's occupancy now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Occupancy {
    pub venue_id: String,
    pub at: DateTime<Utc>,
    pub inside: usize,
    /// By the gate each person last entered by; every gate of the venue is listed.
    pub by_gate: Vec<GateInside>,
    pub capacity: Option<u32>,
}

/// What `PUT …/capacity` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CapacityBody {
    capacity: Option<u32>,
}

/// The venue's occupancy at `now` (also part of its statistics).
pub(crate) fn occupancy_of(
    store: &dyn crate::store::Store,
    venue_id: &str,
    now: DateTime<Utc>,
) -> Result<Occupancy, ApiError> {
    let passages: Vec<Passage> = store
        .passages_at(venue_id, now - AUTO_CLOSE, now)?
        .into_iter()
        .filter(|r| r.passed)
        .map(|r| Passage {
            direction: Direction::parse(&r.direction).unwrap_or(Direction::Entry),
            subject: r.subject,
            venue_id: r.venue_id,
            checkpoint_id: r.checkpoint_id,
            at: r.at,
        })
        .collect();
    let counts = venuecode_core::presence::by_gate(&passages, now, AUTO_CLOSE);
    let (_, policy) = store
        .venue_info(venue_id)?
        .ok_or_else(|| ApiError::NotFound(format!("no venue {venue_id}")))?;
    let by_gate = store
        .checkpoints(venue_id)?
        .into_iter()
        .map(|c| GateInside {
            inside: counts.get(&c.checkpoint_id).copied().unwrap_or(0),
            checkpoint_id: c.checkpoint_id,
            name: c.name,
        })
        .collect();
    Ok(Occupancy {
        venue_id: venue_id.to_string(),
        at: now,
        inside: counts.values().sum(),
        by_gate,
        capacity: policy.capacity,
    })
}

async fn occupancy(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Occupancy>, ApiError> {
    let store = state.store();
    blocking(move || {
        let now = Utc::now();
        let (_, who) = people::authenticate(store.as_ref(), &headers, now)?;
        let venue = check_ins_of(store.as_ref(), &who, &id)?;
        occupancy_of(store.as_ref(), &venue.venue_id, now).map(Json)
    })
    .await
}

async fn set_capacity(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<Occupancy>, ApiError> {
    let body = body_bytes(body)?;
    let store = state.store();
    blocking(move || {
        let now = Utc::now();
        let (_, who) = people::authenticate(store.as_ref(), &headers, now)?;
        let venue = managed(store.as_ref(), &who, &id)?;
        let wanted: CapacityBody = json(&body)?;
        let (_, mut policy) = store
            .venue_info(&venue.venue_id)?
            .ok_or_else(|| ApiError::NotFound(format!("no venue {id}")))?;
        policy.capacity = wanted.capacity;
        policy
            .validate()
            .map_err(|e| ApiError::Unprocessable("bad_capacity", e.to_string()))?;
        store.set_policy(&venue.venue_id, &policy, now)?;
        tracing::info!(venue = %venue.venue_id, capacity = ?policy.capacity, "capacity set");
        occupancy_of(store.as_ref(), &venue.venue_id, now).map(Json)
    })
    .await
}
