//! VenueCode's central server: the HTTP API (axum) over a store on SQLite or PostgreSQL.
//!
//! Invariants: handlers are extract → authenticate → core rule or store call → response, with no
//! SQL and no rules of their own; every error leaves through [`error::ApiError`] (4xx with a code
//! and a message for bad input, 503 while the database is away, an opaque logged 500 otherwise);
//! the clock is read here, at the edge, and passed into the core and the store; a batch is
//! validated whole before anything of it is stored.

pub mod answers;
pub mod auth;
pub mod body;
pub mod demo;
pub mod enrolment;
pub mod error;
pub mod export_routes;
pub mod history;
pub mod identity;
pub mod occupancy_routes;
pub mod people;
pub mod people_routes;
#[cfg(any(test, feature = "test-support"))]
pub mod pgcluster;
pub mod place_routes;
pub mod pull;
pub mod relay;
pub mod report_routes;
pub mod resident;
pub mod retention;
pub mod serve;
pub mod sightings;
pub mod store;
mod trace_read;
pub mod trace_routes;
pub mod venue_routes;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, OriginalUri, State};
use axum::http::{header, HeaderMap, Method};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use chrono::Utc;
use serde::Serialize;
use venuecode_core::sync::{
    self, EnrolRequest, EnrolResponse, ServerTime, UploadAck, UploadBatch, MAX_BODY_BYTES,
};

use error::ApiError;
use store::Store;
use venuecode_keys::{IssuerKeys, ServerKeys};

/// Requests handled at once unless told otherwise.
pub const DEFAULT_IN_FLIGHT: usize = 512;
/// A whole request (reading the body, handling, answering) must finish within this.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// The body must arrive within this once the headers are in.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// The OpenAPI description of this API (also in `docs/openapi.json`).
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

/// The server's keys with the delegation header made once.
pub(crate) struct Keys {
    pub server: ServerKeys,
    pub delegation_header: axum::http::HeaderValue,
    /// The root succession chain (`x-vc-root-chain`), when the root was ever rotated.
    pub root_chain_header: Option<axum::http::HeaderValue>,
    /// The trust list alone, shared (residents' check-ins verify every poster and code with it).
    pub trust: Arc<venuecode_core::trust::TrustList>,
}

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    store: Arc<dyn Store>,
    keys: Option<Arc<Keys>>,
    issuer: Option<Arc<IssuerKeys>>,
    /// Requests in flight; when none is left, the next is shed with 503 at once.
    in_flight: Arc<tokio::sync::Semaphore>,
    /// Requests per device per minute (after authentication).
    device_limiter: Arc<auth::DeviceLimiter>,
    /// Records per device per hour.
    record_limiter: Arc<auth::DeviceLimiter>,
    /// The region table applications are checked against (the demo table unless given).
    regions: Arc<venuecode_core::region::Regions>,
    /// The place types applications choose from (the default list unless given).
    place_types: Arc<venuecode_core::place_type::PlaceTypes>,
    /// The deployment's rules (review, administrators per venue, venues per administrator).
    rules: venuecode_core::deployment::DeploymentRules,
    /// The venue authority's key and the public base URL the checkpoints' codes (一门一码) are
    /// issued under, when this server issues them.
    venue_codes: Option<Arc<VenueCodes>>,
    /// The health authority's tracing keys, when this server links registrations by hand and
    /// traces by ID number.
    tracing: Option<Arc<venuecode_keys::TracingKeys>>,
    /// Residents' own check-ins per venue per minute, and per person per hour.
    self_venue_limiter: Arc<auth::DeviceLimiter>,
    self_person_limiter: Arc<auth::DeviceLimiter>,
    /// Where the residents' page finds its optional scanner module (`--web-dir`).
    web_dir: Option<Arc<std::path::PathBuf>>,
    /// Wakes stations waiting for their venue's passages (issue 18).
    pub(crate) relay: Arc<relay::Relay>,
}

/// What the server issues checkpoint codes with.
pub struct VenueCodes {
    pub keys: venuecode_keys::VenueAuthorityKeys,
    /// E.g. `https://csm.example.cn` (the codes are URLs a phone opens).
    pub base_url: String,
}

impl AppState {
    /// State over `store`, serving no trust list and no demo issuer.
    pub fn new(store: Box<dyn Store>) -> AppState {
        AppState {
            store: Arc::from(store),
            keys: None,
            issuer: None,
            in_flight: Arc::new(tokio::sync::Semaphore::new(DEFAULT_IN_FLIGHT)),
            device_limiter: Arc::new(auth::DeviceLimiter::new(auth::DEVICE_REQUESTS_PER_MINUTE)),
            record_limiter: Arc::new(auth::DeviceLimiter::new(auth::DEVICE_RECORDS_PER_HOUR)),
            regions: Arc::new(venuecode_core::region::Regions::demo()),
            place_types: Arc::new(venuecode_core::place_type::PlaceTypes::default_list()),
            rules: venuecode_core::deployment::DeploymentRules::default(),
            venue_codes: None,
            tracing: None,
            self_venue_limiter: Arc::new(auth::DeviceLimiter::new(resident::PER_VENUE_MINUTE)),
            self_person_limiter: Arc::new(auth::DeviceLimiter::new(resident::PER_PERSON_HOUR)),
            web_dir: None,
            relay: Arc::new(relay::Relay::new()),
        }
    }

    /// Takes at most `per_venue_minute` residents' own check-ins per venue per minute and
    /// `per_person_hour` per person per hour (tests lower them).
    pub fn with_self_check_in_limits(
        mut self,
        per_venue_minute: u32,
        per_person_hour: u32,
    ) -> AppState {
        self.self_venue_limiter = Arc::new(auth::DeviceLimiter::new(per_venue_minute));
        self.self_person_limiter = Arc::new(auth::DeviceLimiter::new(per_person_hour));
        self
    }

    /// Serves the residents' page's scanner module from `dir` (`scan.js`, `scan_bg.wasm`).
    pub fn with_web_dir(mut self, dir: std::path::PathBuf) -> AppState {
        self.web_dir = Some(Arc::new(dir));
        self
    }

    pub(crate) fn web_dir(&self) -> Option<Arc<std::path::PathBuf>> {
        self.web_dir.clone()
    }

    /// The deployment's trust list, when the server has keys (shared, not copied per request).
    pub(crate) fn trust(&self) -> Option<Arc<venuecode_core::trust::TrustList>> {
        self.keys.as_ref().map(|k| k.trust.clone())
    }

    /// Links registrations by hand across stations and traces by ID number with these keys.
    pub fn with_tracing(mut self, keys: venuecode_keys::TracingKeys) -> AppState {
        self.tracing = Some(Arc::new(keys));
        self
    }

    /// The tracing keys, if this server holds them.
    pub fn tracing_keys(&self) -> Option<Arc<venuecode_keys::TracingKeys>> {
        self.tracing.clone()
    }

    /// Checks applications against this region table.
    pub fn with_regions(mut self, regions: venuecode_core::region::Regions) -> AppState {
        self.regions = Arc::new(regions);
        self
    }

    /// Checks applications against this list of place types.
    pub fn with_place_types(mut self, types: venuecode_core::place_type::PlaceTypes) -> AppState {
        self.place_types = Arc::new(types);
        self
    }

    /// Issues each checkpoint's entry and exit codes with the venue authority's key, as URLs
    /// under `base_url`.
    pub fn with_venue_authority(
        mut self,
        keys: venuecode_keys::VenueAuthorityKeys,
        base_url: &str,
    ) -> AppState {
        self.venue_codes = Some(Arc::new(VenueCodes {
            keys,
            base_url: base_url.trim_end_matches('/').to_string(),
        }));
        self
    }

    /// The deployment's rules for venues and administrators.
    pub fn with_rules(mut self, rules: venuecode_core::deployment::DeploymentRules) -> AppState {
        self.rules = rules;
        self
    }

    /// Accepts at most `n` records per device per hour (benchmarks raise it).
    pub fn with_records_per_device_hour(mut self, n: u32) -> AppState {
        self.record_limiter = Arc::new(auth::DeviceLimiter::new(n));
        self
    }

    /// Handles at most `n` requests at once; more are shed with 503.
    pub fn with_max_in_flight(mut self, n: usize) -> AppState {
        self.in_flight = Arc::new(tokio::sync::Semaphore::new(n.max(1)));
        self
    }

    /// Serves this deployment's trust list and signs every answer with the server's delegated
    /// key.
    pub fn with_keys(mut self, server: ServerKeys) -> AppState {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&server.delegation_bytes);
        let delegation_header =
            axum::http::HeaderValue::from_str(&b64).expect("base64 is a valid header value");
        let root_chain_header = (!server.root_chain.is_empty()).then(|| {
            axum::http::HeaderValue::from_str(&sync::encode_chain(&server.root_chain))
                .expect("base64 and commas are a valid header value")
        });
        let trust = Arc::new(server.trust.clone());
        self.keys = Some(Arc::new(Keys {
            server,
            delegation_header,
            root_chain_header,
            trust,
        }));
        self
    }

    /// Turns on the demo issuer (`POST /api/v1/demo/codes`) with these keys.
    pub fn with_demo_issuer(mut self, keys: IssuerKeys) -> AppState {
        self.issuer = Some(Arc::new(keys));
        self
    }

    /// The store (for tools and tests).
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }
}

/// Runs a blocking store call off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await?
}

/// The router with every endpoint.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/time", get(time))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/devices/enrol", post(enrol))
        .route("/api/v1/devices/rotate", post(rotate_key))
        .route("/api/v1/sync/pull", get(pull::pull))
        .route("/api/v1/sync/upload", post(upload))
        .route("/api/v1/demo/codes", post(demo::demo_code))
        .merge(people_routes::routes())
        .merge(venue_routes::routes())
        .merge(place_routes::routes())
        .merge(trace_routes::routes())
        .merge(report_routes::routes())
        .merge(export_routes::routes())
        .merge(resident::routes())
        .merge(relay::routes())
        .merge(occupancy_routes::routes())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            answers::sign_answers,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), shed_load))
        // One structured log line per request: method, path (never the query or the body, so no
        // personal data and no codes), status and latency. Failures are logged with their cause
        // where they happen (error.rs).
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<axum::body::Body>| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_failure(())
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO),
                ),
        )
        .with_state(state)
}

/// Load shedding: a request that finds every slot taken is answered 503 at once (with
/// Retry-After), so an overloaded server stays responsive instead of queueing without end.
async fn shed_load(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    // A station's long poll of the relay waits without a slot (the relay bounds its waiters).
    if req.uri().path() == relay::PATH {
        return next.run(req).await;
    }
    match state.in_flight.clone().try_acquire_owned() {
        Ok(_permit) => next.run(req).await,
        Err(_) => {
            let mut res = ApiError::Overloaded.into_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(1));
            res
        }
    }
}

/// Health of the server and its database: whether they answer, and nothing else (no version,
/// engine or counts for strangers; `venuecode-server --version` and the logs have those).
#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
}

async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let store = state.store.clone();
    blocking(move || Ok(store.venue_count()?)).await?;
    Ok(Json(Health { status: "ok" }))
}

/// The server's time; the answer is signed over the station's `x-vc-nonce` (the signed
/// answer-time header is what stations trust). A nonce that is there but malformed is refused.
async fn time(headers: HeaderMap) -> Result<Json<ServerTime>, ApiError> {
    if let Some(v) = headers.get(sync::HEADER_NONCE) {
        let ok = v
            .to_str()
            .ok()
            .is_some_and(|n| sync::check_nonce(n).is_ok());
        if !ok {
            return Err(ApiError::BadRequest(
                "bad_nonce",
                "x-vc-nonce must be 16 to 64 hex characters, fresh per request".into(),
            ));
        }
    }
    Ok(Json(ServerTime {
        unix_ms: Utc::now().timestamp_millis(),
    }))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

pub(crate) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(_) => ApiError::TooLarge(MAX_BODY_BYTES),
        other => ApiError::BadRequest("bad_body", other.body_text()),
    })
}

pub(crate) fn json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::BadRequest(
            "bad_json",
            format!("the body is not valid JSON for this request: {e}"),
        )
    })
}

/// The peer address of a request, when the server was started with connection info.
fn source(ext: &axum::http::Extensions) -> String {
    ext.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

async fn enrol(
    State(state): State<AppState>,
    ext: axum::http::Extensions,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EnrolResponse>, ApiError> {
    let body = body_bytes(body)?;
    let req: EnrolRequest = json(&body)?;
    let request = PossessionRequest::new(method, &uri, &headers, body)?;
    let store = state.store.clone();
    let source = source(&ext);
    blocking(move || {
        Ok(Json(enrolment::enrol(
            store.as_ref(),
            &req,
            &request.signed(),
            &source,
            Utc::now(),
        )?))
    })
    .await
}

/// A request signed by the key it names (enrolment, key rotation), owned for a blocking task.
struct PossessionRequest {
    method: Method,
    path: String,
    headers: sync::SignedHeaders,
    body: Bytes,
}

impl PossessionRequest {
    fn new(
        method: Method,
        uri: &axum::http::Uri,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<PossessionRequest, ApiError> {
        Ok(PossessionRequest {
            method,
            path: uri.path_and_query().map_or("", |p| p.as_str()).to_string(),
            headers: auth::signed_headers(headers)?,
            body,
        })
    }

    fn signed(&self) -> enrolment::Signed<'_> {
        enrolment::Signed {
            method: self.method.as_str(),
            path: &self.path,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

/// `POST /api/v1/devices/rotate` (role: the device itself — signed by its new key, with its
/// old key's consent in the body).
async fn rotate_key(
    State(state): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<sync::RotateKeyResponse>, ApiError> {
    let body = body_bytes(body)?;
    let req: sync::RotateKeyRequest = json(&body)?;
    let request = PossessionRequest::new(method, &uri, &headers, body)?;
    let store = state.store.clone();
    blocking(move || {
        Ok(Json(enrolment::rotate(
            store.as_ref(),
            &req,
            &request.signed(),
            Utc::now(),
        )?))
    })
    .await
}

async fn upload(
    State(state): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Json<UploadAck>, ApiError> {
    // Up to 4 MiB of body is kept only for an enrolled, active device with a current time; a
    // refused request's body is read and dropped (a lingering close), never kept.
    let pre = match auth::preauthenticate(&state, &headers).await {
        Ok(pre) if pre.pending() => {
            body::linger(body).await;
            return Err(ApiError::DevicePending(pre.device_id().to_string()));
        }
        Ok(pre) => pre,
        Err(e) => {
            body::linger(body).await;
            return Err(e);
        }
    };
    let body = body::read_body(body).await?;
    let device = auth::finish(&state, pre, &method, &uri, &body).await?;
    let mut batch: UploadBatch = json(&body)?;
    let now = Utc::now();
    sync::validate_batch(
        &batch,
        sync::BatchSource {
            venue_id: &device.venue_id,
            enrolled_at: device.enrolled_at,
        },
        now,
    )?;
    if !state.record_limiter.allow_n(
        &device.device_id,
        now.timestamp().div_euclid(3600),
        batch.records.len(),
    ) {
        return Err(ApiError::RateLimited(
            device.device_id.clone(),
            auth::DEVICE_RECORDS_PER_HOUR,
        ));
    }
    // Every scanned code is verified again against the issuer, and must bear the record out.
    if let Some(keys) = &state.keys {
        sync::check_codes(&batch, &keys.server.trust)?;
    }
    // The door and the inspector are the device's binding, whatever the record says. The
    // inspector is kept as the device's id, not their name: the name stays with the device
    // record, and reports put it back (`store::name_inspectors`).
    sync::stamp_binding(&mut batch, &device.checkpoint_id, &device.device_id);
    // People registered by hand get the pseudonym their own code carries (the sealed ID number
    // is opened here and dropped); without tracing keys the sealed value is dropped unread.
    match &state.tracing {
        Some(keys) => {
            identity::link_batch(keys, &mut batch, now);
        }
        None => batch.records.iter_mut().for_each(|r| match r {
            sync::Record::CheckIn(c) => c.sealed_id = None,
            sync::Record::Alert(a) => a.check_in.sealed_id = None,
        }),
    }
    let store = state.store.clone();
    let acked = batch.records.iter().map(|r| r.id().to_string()).collect();
    let entries = sightings::BatchEntries::of(&batch.records);
    let relay = state.relay.clone();
    blocking(move || {
        let venue_id = device.venue_id.clone();
        let stored = store.ingest(&device, batch.records, now)?;
        relay.committed(&venue_id);
        // The same person at two venues closer than travel allows, or again through another
        // station: found after the commit, on every upload of these ids.
        sightings::detect(store.as_ref(), &venue_id, &entries, now)?;
        Ok(Json(UploadAck { acked, stored }))
    })
    .await
}

#[cfg(test)]
mod tests;
