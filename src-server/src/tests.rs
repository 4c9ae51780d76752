//! API tests through the router (`oneshot`): the happy paths and every kind of bad input.

use super::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Duration;
use http_body_util::BodyExt;
use tower::ServiceExt;
use venuecode_core::health_code::{self, Color};
use venuecode_core::keys::SecretKey;
use venuecode_core::sync::{Record, UploadBatch};
use venuecode_core::trust::{KeyRole, Revocation, RevocationList, TrustList, TrustedKey};

use crate::store::testutil::{alert, check_in};

struct Station {
    key: SecretKey,
}

impl Station {
    fn new(seed: u8) -> Station {
        Station {
            key: SecretKey::from_seed(&[seed; 32]),
        }
    }

    fn request(&self, method: &str, path: &str, body: Vec<u8>, nonce: &str) -> Request<Body> {
        self.request_at(method, path, body, nonce, Utc::now().timestamp_millis())
    }

    fn request_at(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        nonce: &str,
        unix_ms: i64,
    ) -> Request<Body> {
        let h = sync::sign_request(&self.key, method, path, unix_ms, nonce, &body);
        Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .header(sync::HEADER_DEVICE, h.device)
            .header(sync::HEADER_TIME, h.unix_ms.to_string())
            .header(sync::HEADER_NONCE, h.nonce)
            .header(sync::HEADER_SIGNATURE, h.signature)
            .body(Body::from(body))
            .unwrap()
    }

    fn enrol_request(&self, code: &str, nonce: &str) -> Request<Body> {
        self.enrol_at(code, None, nonce)
    }

    fn enrol_at(&self, code: &str, checkpoint: Option<&str>, nonce: &str) -> Request<Body> {
        let body = serde_json::to_vec(&EnrolRequest {
            declaration_code: code.into(),
            inspector: "王五".into(),
            checkpoint_id: checkpoint.map(str::to_string),
            public_key: self.key.public().to_hex(),
        })
        .unwrap();
        self.request("POST", "/api/v1/devices/enrol", body, nonce)
    }
}

fn nonce(n: u64) -> String {
    format!("{n:032x}")
}

/// The fixture's venue authority key (it signs the doors' codes).
fn venue_authority() -> SecretKey {
    SecretKey::from_seed(&[44; 32])
}

/// The fixture's root key (the offline one; the server only holds its delegation).
fn root() -> SecretKey {
    SecretKey::from_seed(&[1; 32])
}

/// Sends a request; every answer to a request with a nonce must carry a valid signature over
/// that nonce, the path, the status and the body — errors included.
async fn send(app: &Router, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let nonce = req
        .headers()
        .get(sync::HEADER_NONCE)
        .map(|v| v.to_str().unwrap().to_string());
    let path = req.uri().path_and_query().unwrap().as_str().to_string();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    if let Some(nonce) = nonce.filter(|n| sync::check_nonce(n).is_ok()) {
        let h = sync::parse_answer_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()))
            .unwrap_or_else(|e| panic!("answer to {path} ({status}) not signed: {e}"));
        let t = sync::verify_answer(&root().public(), &path, &nonce, status.as_u16(), &h, &bytes)
            .unwrap_or_else(|e| panic!("answer to {path} ({status}): {e}"));
        assert!((Utc::now() - t).num_seconds().abs() < 60);
    }
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

async fn get(app: &Router, uri: &str) -> (StatusCode, serde_json::Value) {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

struct Fixture {
    _dir: tempfile::TempDir,
    app: Router,
    store: Arc<dyn Store>,
    root: SecretKey,
    issuer: SecretKey,
}

fn server_keys(root: &SecretKey, issuer: &SecretKey) -> ServerKeys {
    let now = Utc::now();
    let trust = TrustList {
        version: 7,
        issued_at: now,
        expires_at: now + Duration::days(30),
        keys: vec![
            TrustedKey {
                issuer: "CN-DEMO".into(),
                key: issuer.public(),
                role: KeyRole::HealthIssuer,
                not_before: now - Duration::days(1),
                not_after: now + Duration::days(30),
            },
            // The venue authority the fixture issues posters with.
            TrustedKey {
                issuer: "XJBT-VA".into(),
                key: venue_authority().public(),
                role: KeyRole::VenueAuthority,
                not_before: now - Duration::days(1),
                not_after: now + Duration::days(30),
            },
        ],
    };
    let trust_bytes = trust.sign(root);
    let key = SecretKey::from_seed(&[6; 32]);
    let delegation = sync::Delegation {
        key: key.public(),
        not_before: now - Duration::hours(1),
        not_after: now + Duration::days(14),
    };
    ServerKeys {
        key,
        delegation_bytes: delegation.sign(root),
        delegation,
        trust_bytes,
        trust,
        root_chain: Vec::new(),
    }
}

fn fixture(issuer_on: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(dir.path().join("s.db").to_str().unwrap()).unwrap();
    fixture_on(dir, store, issuer_on)
}

/// The fixture's health-authority sealing secret.
const SEAL_SECRET: [u8; 32] = [4; 32];

/// The fixture over a given store (a SQLite file in `dir`, or a PostgreSQL database).
fn fixture_on(dir: tempfile::TempDir, store: Box<dyn Store>, issuer_on: bool) -> Fixture {
    fixture_with(dir, store, issuer_on, Default::default())
}

/// The fixture with a deployment's rules.
fn fixture_with(
    dir: tempfile::TempDir,
    store: Box<dyn Store>,
    issuer_on: bool,
    rules: venuecode_core::deployment::DeploymentRules,
) -> Fixture {
    fixture_tweaked(dir, store, issuer_on, rules, |s| s)
}

/// The fixture with its state changed by `tweak` before the router is built.
fn fixture_tweaked(
    dir: tempfile::TempDir,
    store: Box<dyn Store>,
    issuer_on: bool,
    rules: venuecode_core::deployment::DeploymentRules,
    tweak: impl FnOnce(AppState) -> AppState,
) -> Fixture {
    store.seed_demo(Utc::now()).unwrap();
    let root = root();
    let issuer = SecretKey::from_seed(&[2; 32]);
    let mut state = AppState::new(store)
        .with_keys(server_keys(&root, &issuer))
        .with_rules(rules)
        .with_venue_authority(
            venuecode_keys::VenueAuthorityKeys {
                name: "XJBT-VA".into(),
                key: venue_authority(),
            },
            "https://csm.example.cn",
        )
        .with_tracing(venuecode_keys::TracingKeys {
            seal_secret: SEAL_SECRET,
            // The demo issuer's pseudonym secret: the primary issuer.
            subject_secrets: vec![[3; 32]],
        });
    if issuer_on {
        state = state.with_demo_issuer(IssuerKeys {
            issuer: "CN-DEMO".into(),
            issuer_key: SecretKey::from_hex(&issuer.to_hex()).unwrap(),
            subject_secret: [3; 32],
        });
    }
    let state = tweak(state);
    let store = state.store();
    Fixture {
        _dir: dir,
        app: app(state),
        store,
        root,
        issuer,
    }
}

/// Runs `flow` against a fixture on a throwaway PostgreSQL cluster (as configured when there is
/// no PostgreSQL: `pgcluster::start_for_tests`). The store is opened and seeded outside the
/// runtime (blocking calls), the flow inside it.
fn on_postgres<F>(what: &str, flow: impl FnOnce(Fixture) -> F)
where
    F: std::future::Future<Output = ()>,
{
    let cluster = match crate::pgcluster::start_for_tests(what) {
        Ok(Some(c)) => c,
        Ok(None) => return,
        Err(e) => panic!("starting a throwaway PostgreSQL cluster: {e}"),
    };
    let url = cluster.create_database("flow").unwrap();
    let f = fixture_on(
        tempfile::tempdir().unwrap(),
        store::open(&url).unwrap(),
        false,
    );
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(flow(f));
}

fn batch(records: Vec<Record>) -> Vec<u8> {
    serde_json::to_vec(&UploadBatch { records }).unwrap()
}

const VENUE: &str = "demo-venue-0001";

async fn enrolled(f: &Fixture, seed: u8) -> Station {
    let s = Station::new(seed);
    let (status, body) = send(&f.app, s.enrol_request("100001", &nonce(u64::from(seed)))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    s
}

#[tokio::test]
async fn health_time_openapi_and_unknown_routes() {
    let f = fixture(false);
    let (status, body) = get(&f.app, "/api/v1/health").await;
    assert_eq!(status, StatusCode::OK);
    // Strangers learn that it answers, nothing more.
    assert_eq!(body, serde_json::json!({"status": "ok"}));
    let (_, body) = get(&f.app, "/api/v1/time").await;
    let skew = (body["unix_ms"].as_i64().unwrap() - Utc::now().timestamp_millis()).abs();
    assert!(skew < 60_000, "server time off by {skew} ms");
    let (status, doc) = get(&f.app, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/health",
        "/api/v1/time",
        "/api/v1/openapi.json",
        "/api/v1/devices/enrol",
        "/api/v1/sync/pull",
        "/api/v1/sync/upload",
        "/api/v1/demo/codes",
        "/api/v1/self-check-in",
        "/api/v1/health-code/inspect",
        "/csm/1/{payload}",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from openapi.json"
        );
    }
    let (status, _) = get(&f.app, "/api/v1/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pull_serves_venue_policy_trust_and_revocations_in_a_signed_answer() {
    let f = fixture(false);
    let s = enrolled(&f, 40).await;
    f.store
        .revoke(&Revocation::Code("00aa".into()), Utc::now())
        .unwrap();
    let path = "/api/v1/sync/pull?trust_version=0&revocations_since=0";
    let (status, body) = send(&f.app, s.request("GET", path, vec![], &nonce(1))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pull: venuecode_core::sync::PullResponse = serde_json::from_value(body).unwrap();
    assert_eq!(pull.venue.venue_id, VENUE);
    assert_eq!(pull.trust_version, 7);
    let b64 = base64::engine::general_purpose::STANDARD;
    let trust = TrustList::verify(
        &b64.decode(pull.trust_list.unwrap()).unwrap(),
        &f.root.public(),
    )
    .unwrap();
    assert_eq!(trust.keys[0].key, f.issuer.public());
    let mut list = RevocationList::default();
    list.apply(&pull.revocations).unwrap();
    assert!(!pull.revocations.more);
    assert!(list.code_revoked("00aa"));
    // Up to date: no list, an empty delta from the cursor.
    let path = format!(
        "/api/v1/sync/pull?trust_version=7&revocations_since={}",
        list.cursor()
    );
    let (_, body) = send(&f.app, s.request("GET", &path, vec![], &nonce(2))).await;
    let pull: venuecode_core::sync::PullResponse = serde_json::from_value(body).unwrap();
    assert!(pull.trust_list.is_none());
    assert!(pull.revocations.entries.is_empty());
    assert_eq!(pull.revocations.until, list.cursor());
    // The signature covers the query: asking for another cursor with the same signature fails.
    let req = s.request("GET", path.as_str(), vec![], &nonce(3));
    let (parts, body) = req.into_parts();
    let mut req = Request::from_parts(parts, body);
    *req.uri_mut() = "/api/v1/sync/pull?trust_version=0&revocations_since=0"
        .parse()
        .unwrap();
    let (status, _) = send(&f.app, req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(
        &f.app,
        s.request(
            "GET",
            "/api/v1/sync/pull?revocations_since=x",
            vec![],
            &nonce(4),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn demo_issuer_is_off_unless_enabled_and_issues_verifiable_codes() {
    let body = serde_json::json!({
        "name": "张三", "phone": "13800138000", "id_number": "11010519491231002X",
        "color": "green", "nat": {"result": "negative", "hours_ago": 20}
    })
    .to_string();
    let post = |b: &str| {
        Request::post("/api/v1/demo/codes")
            .body(Body::from(b.to_string()))
            .unwrap()
    };
    let off = fixture(false);
    let (status, res) = send(&off.app, post(&body)).await;
    assert_eq!(
        (status, res["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("disabled"))
    );
    let on = fixture(true);
    let (status, res) = send(&on.app, post(&body)).await;
    assert_eq!(status, StatusCode::OK, "{res}");
    let d = server_keys(&on.root, &on.issuer);
    let code = health_code::verify(
        res["code"].as_str().unwrap(),
        &d.trust,
        &RevocationList::default(),
        Utc::now(),
    )
    .unwrap();
    assert_eq!(code.claims.name_masked, "张*");
    // A wrong check digit has the right shape: 422; a wrong shape: 400 (as documented).
    let bad = body.replace("11010519491231002X", "110105194912310021");
    let (status, res) = send(&on.app, post(&bad)).await;
    assert_eq!(
        (status, res["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_id_number"))
    );
    let bad = body.replace("11010519491231002X", "1101051949123100");
    let (status, res) = send(&on.app, post(&bad)).await;
    assert_eq!(
        (status, res["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_id_number"))
    );
    // JSON Schema's integers include 24.0.
    let whole = body.replace("\"color\":", "\"valid_hours\":24.0,\"color\":");
    let (status, res) = send(&on.app, post(&whole)).await;
    assert_eq!(status, StatusCode::OK, "{res}");
}

#[tokio::test]
async fn time_is_signed_over_the_station_nonce_and_a_bad_nonce_gets_no_signature() {
    let f = fixture(false);
    // `send` checks the signature over this nonce.
    let req = Request::get("/api/v1/time")
        .header(sync::HEADER_NONCE, nonce(77))
        .body(Body::empty())
        .unwrap();
    let (status, body) = send(&f.app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["unix_ms"].as_i64().is_some());
    // A malformed nonce is refused, unsigned (nothing to bind the answer to).
    let res = f
        .app
        .clone()
        .oneshot(
            Request::get("/api/v1/time")
                .header(sync::HEADER_NONCE, "not hex")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.headers().get(sync::HEADER_ANSWER_SIGNATURE).is_none());
    // Error answers are signed too: an unknown device's refusal.
    let stranger = Station::new(99);
    let (status, _) = send(
        &f.app,
        stranger.request("GET", "/api/v1/sync/pull", vec![], &nonce(78)),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_server_at_capacity_sheds_load_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(dir.path().join("s.db").to_str().unwrap()).unwrap();
    let state = AppState::new(store).with_max_in_flight(2);
    // Two requests hold every slot.
    let held = state.in_flight.clone().acquire_many_owned(2).await.unwrap();
    let app = app(state.clone());
    let res = app
        .clone()
        .oneshot(Request::get("/api/v1/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "1");
    drop(held);
    let (status, _) = get(&app, "/api/v1/health").await;
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn a_device_is_limited_per_minute_and_the_next_minute_starts_afresh() {
    let l = auth::DeviceLimiter::new(3);
    assert!((0..3).all(|_| l.allow("d1", 100)));
    assert!(!l.allow("d1", 100));
    assert!(l.allow("d2", 100), "another device has its own count");
    assert!(l.allow("d1", 101));
}

mod enrolment;
mod people;
mod places;
mod reports;
mod resident;
mod sightings;
mod trace;
mod upload;
mod venues;
