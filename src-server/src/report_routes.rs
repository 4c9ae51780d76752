//! HTTP routes for what managers and health authorities read: a venue's statistics (检测统计) and
//! the alerts view. Each states its role; each authenticates and asks core's `Principal::may`.
//!
//! | route | role |
//! |---|---|
//! | `GET /api/v1/venues/{id}/statistics` | the venue's administrator, or an authority over its region (never a reviewer) |
//! | `GET /api/v1/alerts` | health authority (venues in its regions only) |
//! | `GET /api/v1/alerts/count` | health authority (the navigation badge: unhandled alerts of the last 7 days) |
//! | `POST /api/v1/alerts/{venue}/{alert}/handled` | health authority over the alert's venue |
//!
//! Invariants: statistics are core's fold of counted groups (no row leaves the store); the alerts
//! view never shows a venue outside the reader's regions; a page carries the cursor of its last
//! row; a handling note is 1–500 characters and names who wrote it.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use venuecode_core::accounts::{Action, Role};
use venuecode_core::statistics::{self, Statistics};

use crate::error::ApiError;
use crate::people;
use crate::store::{AlertQuery, AlertReason, AlertRow};
use crate::{blocking, body_bytes, json, AppState};

/// The routes, merged into the app.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/venues/{id}/statistics", get(venue_statistics))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/alerts/count", get(alert_count))
        .route("/api/v1/alerts/{venue}/{alert}/handled", post(handle))
}

/// The most alerts one page lists.
pub const MAX_PAGE: usize = 200;
/// The badge counts unhandled alerts this recent.
pub const BADGE_WINDOW: Duration = Duration::days(7);

fn bad(code: &'static str, message: &str) -> ApiError {
    ApiError::BadRequest(code, message.into())
}

type QueryOf<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

fn query<T>(q: QueryOf<T>) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::BadRequest("bad_query", e.body_text()))
}

/// The venue `id` if `who` may read its check-ins: 404 when it is outside their scope (not
/// confirmed to exist), 403 when they may read the venue but not who came in (a reviewer).
pub(crate) fn check_ins_of(
    store: &dyn crate::store::Store,
    who: &venuecode_core::accounts::Principal,
    id: &str,
) -> Result<crate::store::VenueSummary, ApiError> {
    let not_found = || ApiError::NotFound(format!("no venue {id}"));
    let venue = store.venue_summary(id)?.ok_or_else(not_found)?;
    let (venue_id, region) = (venue.venue_id.as_str(), venue.region.as_str());
    if who.may(Action::ReadCheckIns { venue_id, region }) {
        return Ok(venue);
    }
    if who.may(Action::ReadVenue { venue_id, region }) {
        return Err(ApiError::Forbidden(
            "a venue's check-ins are read by its administrator and the health authority".into(),
        ));
    }
    Err(not_found())
}

/// A statistics question: a range and the venue's offset from UTC.
#[derive(Debug, Deserialize)]
pub struct StatisticsQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Minutes east of UTC the hours and days are read in (default 480, China).
    #[serde(default)]
    pub tz_offset_minutes: Option<i32>,
}

/// A door's name beside its id.
#[derive(Debug, Clone, Serialize)]
pub struct DoorName {
    pub checkpoint_id: String,
    pub name: String,
}

/// What the statistics route answers.
#[derive(Debug, Clone, Serialize)]
pub struct StatisticsAnswer {
    pub venue_id: String,
    pub venue_name: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub tz_offset_minutes: i32,
    /// Different people who checked in over the range.
    pub people: i64,
    /// People inside now (open stays of the last hours; refused check-ins are not stays).
    pub present_now: usize,
    /// The same people by the gate they last entered by, and the venue's capacity (限流).
    pub occupancy: crate::occupancy_routes::Occupancy,
    pub doors: Vec<DoorName>,
    pub statistics: Statistics,
}

async fn venue_statistics(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    q: QueryOf<StatisticsQuery>,
) -> Result<Json<StatisticsAnswer>, ApiError> {
    let store = state.store();
    blocking(move || {
        let now = Utc::now();
        let (_, who) = people::authenticate(store.as_ref(), &headers, now)?;
        let q = query(q)?;
        let venue = check_ins_of(store.as_ref(), &who, &id)?;
        let venue_id = venue.venue_id.as_str();
        let tz = q.tz_offset_minutes.unwrap_or(480);
        let offset = statistics::check_range(q.from, q.to, tz)
            .map_err(|e| bad("bad_range", &e.to_string()))?;
        // The range's counts and who is inside now are independent reads, each on its own
        // connection: the counts on a helper thread while this one reads the window (a busy
        // venue's answer waits for the slower of the two instead of both).
        let (counts, occupancy) = std::thread::scope(|scope| {
            let counts = scope.spawn(|| store.venue_counts(venue_id, q.from, q.to));
            // Inside now, in all and by gate: one read of the window (core's stay rules).
            let occupancy = crate::occupancy_routes::occupancy_of(store.as_ref(), venue_id, now);
            (counts.join(), occupancy)
        });
        let (mut groups, people) = counts.map_err(|_| crate::store::StoreError::Poisoned)??;
        let occupancy = occupancy?;
        crate::store::name_inspectors(
            store.as_ref(),
            venue_id,
            groups.iter_mut().map(|g| &mut g.inspector),
        )?;
        // Every door with its name: the occupancy already read them all, in order.
        let doors = occupancy
            .by_gate
            .iter()
            .map(|g| DoorName {
                checkpoint_id: g.checkpoint_id.clone(),
                name: g.name.clone(),
            })
            .collect();
        Ok(Json(StatisticsAnswer {
            venue_id: venue.venue_id.clone(),
            venue_name: venue.name.clone(),
            from: q.from,
            to: q.to,
            tz_offset_minutes: tz,
            people,
            present_now: occupancy.inside,
            occupancy,
            doors,
            statistics: statistics::fold(&groups, q.from, q.to, offset),
        }))
    })
    .await
}

/// The alerts view's filters, as the query string carries them.
#[derive(Debug, Default, Deserialize)]
pub struct AlertsQuery {
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub venue_id: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
    #[serde(default)]
    pub unhandled: Option<bool>,
    /// The cursor: the previous page's `next` values.
    #[serde(default)]
    pub before_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub before_venue: Option<String>,
    #[serde(default)]
    pub before_id: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Where the next page starts.
#[derive(Debug, Clone, Serialize)]
pub struct AlertCursor {
    pub before_at: DateTime<Utc>,
    pub before_venue: String,
    pub before_id: String,
}

/// One page of alerts.
#[derive(Debug, Clone, Serialize)]
pub struct AlertPage {
    pub alerts: Vec<AlertRow>,
    /// Absent on the last page.
    pub next: Option<AlertCursor>,
}

/// The badge's count.
#[derive(Debug, Clone, Serialize)]
pub struct AlertCount {
    pub unhandled: i64,
    pub since: DateTime<Utc>,
}

fn authority(who: &venuecode_core::accounts::Principal) -> Result<(), ApiError> {
    if who.role != Role::Authority {
        return Err(ApiError::Forbidden(
            "alerts are the health authority's work".into(),
        ));
    }
    Ok(())
}

fn short_text(v: &Option<String>, code: &'static str, what: &str) -> Result<(), ApiError> {
    match v {
        Some(s) if s.is_empty() || s.len() > 64 || !s.chars().all(|c| c.is_ascii_graphic()) => {
            Err(bad(code, what))
        }
        _ => Ok(()),
    }
}

pub(crate) fn alert_query(q: AlertsQuery, scopes: Vec<String>) -> Result<AlertQuery, ApiError> {
    if let Some(r) = &q.region {
        if r.is_empty() || r.len() > 12 || !r.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad("bad_region", "a region is a code of up to 12 digits"));
        }
    }
    short_text(&q.venue_id, "bad_venue", "give a venue id")?;
    let reason = match &q.reason {
        None => None,
        Some(r) => Some(AlertReason::parse(r).ok_or_else(|| {
            bad(
                "bad_reason",
                "reason is one of red_code, yellow_code, fever, revoked, shared_code, impossible_travel",
            )
        })?),
    };
    if let (Some(f), Some(t)) = (q.from, q.to) {
        if t < f {
            return Err(bad("bad_range", "the range must end after it starts"));
        }
    }
    let before =
        match (q.before_at, q.before_venue, q.before_id) {
            (None, None, None) => None,
            (Some(a), Some(v), Some(i)) => Some((a, v, i)),
            _ => return Err(bad(
                "bad_cursor",
                "give before_at, before_venue and before_id together (the previous page's next)",
            )),
        };
    let limit = match q.limit {
        None => 50,
        Some(n) if (1..=MAX_PAGE).contains(&n) => n,
        Some(_) => return Err(bad("bad_limit", "a page holds 1 to 200 alerts")),
    };
    Ok(AlertQuery {
        scopes,
        region: q.region,
        venue_id: q.venue_id,
        reason,
        from: q.from,
        to: q.to,
        unhandled: q.unhandled.unwrap_or(false),
        before,
        limit,
    })
}

async fn alerts(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: QueryOf<AlertsQuery>,
) -> Result<Json<AlertPage>, ApiError> {
    let store = state.store();
    blocking(move || {
        let (_, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        authority(&who)?;
        let q = alert_query(query(q)?, who.scopes.clone())?;
        let alerts = store.alerts(&q)?;
        let next = (alerts.len() == q.limit)
            .then(|| alerts.last())
            .flatten()
            .map(|a| AlertCursor {
                before_at: a.at,
                before_venue: a.venue_id.clone(),
                before_id: a.alert_id.clone(),
            });
        Ok(Json(AlertPage { alerts, next }))
    })
    .await
}

async fn alert_count(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<AlertCount>, ApiError> {
    let store = state.store();
    blocking(move || {
        let now = Utc::now();
        let (_, who) = people::authenticate(store.as_ref(), &headers, now)?;
        authority(&who)?;
        let since = now - BADGE_WINDOW;
        let unhandled = store.count_alerts(&AlertQuery {
            scopes: who.scopes.clone(),
            from: Some(since),
            unhandled: true,
            limit: 1,
            ..AlertQuery::default()
        })?;
        Ok(Json(AlertCount { unhandled, since }))
    })
    .await
}

/// A handling note.
#[derive(Debug, Deserialize)]
pub struct HandleRequest {
    pub note: String,
}

/// What marking an alert handled answers.
#[derive(Debug, Serialize)]
pub struct Handled {
    pub venue_id: String,
    pub alert_id: String,
    pub handled_at: DateTime<Utc>,
    pub handled_by: String,
    pub note: String,
}

async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((venue_id, alert_id)): Path<(String, String)>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<Handled>, ApiError> {
    let body = body_bytes(body)?;
    let store = state.store();
    blocking(move || {
        let now = Utc::now();
        let (account, who) = people::authenticate(store.as_ref(), &headers, now)?;
        authority(&who)?;
        let not_found = || ApiError::NotFound(format!("no alert {alert_id} at {venue_id}"));
        let venue = store.venue_summary(&venue_id)?.ok_or_else(not_found)?;
        if !who.may(Action::Trace {
            region: &venue.region,
        }) {
            return Err(not_found());
        }
        let req: HandleRequest = json(&body)?;
        let note = req.note.trim();
        let n = note.chars().count();
        if n == 0 || n > 500 || note.chars().any(|c| c.is_control() && c != '\n') {
            return Err(bad("bad_note", "write a note of 1 to 500 characters"));
        }
        let actor = people::actor(&account);
        if !store.handle_alert(&venue_id, &alert_id, &actor, note, now)? {
            return Err(not_found());
        }
        Ok(Json(Handled {
            venue_id,
            alert_id,
            handled_at: now,
            handled_by: actor,
            note: note.to_string(),
        }))
    })
    .await
}
