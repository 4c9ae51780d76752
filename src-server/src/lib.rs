//! VenueCode's central server: the HTTP API (axum) over a store.
//!
//! Invariants: handlers are extract → store or core call → response, with no SQL and no rules;
//! every error leaves through [`error::ApiError`], which gives 4xx with a message for bad input
//! and an opaque, logged 500 for internal failures; the clock is read here, at the edge, and
//! passed into the core.

pub mod error;
pub mod store;

use std::sync::Arc;

use axum::{extract::State, routing::get, Json, Router};
use serde::Serialize;

use error::ApiError;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    store: Arc<store::Store>,
}

impl AppState {
    pub fn new(store: store::Store) -> AppState {
        AppState {
            store: Arc::new(store),
        }
    }
}

/// The router with every endpoint.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/time", get(time))
        .with_state(state)
}

/// Health of the server and its database.
#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub venues: i64,
}

async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let store = state.store.clone();
    let venues = tokio::task::spawn_blocking(move || store.venue_count()).await??;
    Ok(Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        venues,
    }))
}

/// The server's clock, for stations to measure their offset.
#[derive(Debug, Serialize)]
pub struct ServerTime {
    /// Milliseconds since the Unix epoch, UTC.
    pub unix_ms: i64,
}

async fn time() -> Json<ServerTime> {
    Json(ServerTime {
        unix_ms: chrono::Utc::now().timestamp_millis(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get_json(app: Router, uri: &str) -> (StatusCode, serde_json::Value) {
        let res = app
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    #[tokio::test]
    async fn health_counts_demo_venues() {
        let dir = tempfile::tempdir().unwrap();
        let store = store::Store::open(&dir.path().join("s.db")).unwrap();
        store.seed_demo(chrono::Utc::now()).unwrap();
        let (status, body) = get_json(app(AppState::new(store)), "/api/v1/health").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ok");
        assert!(body["venues"].as_i64().unwrap() >= 1);
    }

    #[tokio::test]
    async fn time_is_close_to_now_and_unknown_routes_404() {
        let dir = tempfile::tempdir().unwrap();
        let store = store::Store::open(&dir.path().join("s.db")).unwrap();
        let app = app(AppState::new(store));
        let (status, body) = get_json(app.clone(), "/api/v1/time").await;
        assert_eq!(status, StatusCode::OK);
        let skew =
            (body["unix_ms"].as_i64().unwrap() - chrono::Utc::now().timestamp_millis()).abs();
        assert!(skew < 60_000, "server time off by {skew} ms");
        let (status, _) = get_json(app, "/api/v1/nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
