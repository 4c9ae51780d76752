//! API tests through the router (`oneshot`): the happy paths and every kind of bad input.

use super::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use venuecode_core::keys::SecretKey;
use venuecode_core::sync::{Record, UploadBatch};
use venuecode_core::trust::{KeyRole, Revocation, RevocationList, TrustList, TrustedKey};

use crate::store::testutil::{alert, check_in};

/// A check-in made a minute ago (the API refuses records older than the device's enrolment): a
/// manual registration, since every scanned code is verified again (see `scan`).
fn fresh(n: u64, venue: &str) -> venuecode_core::sync::CheckInWire {
    let mut c = check_in(n, venue);
    c.at = Utc::now() - Duration::seconds(60);
    c.manual = true;
    c.code_id = None;
    c.color = None;
    c.subject = Some(format!("local:{n:024x}"));
    c
}

/// A scan a minute ago of a real code from the fixture's issuer, as a station records it.
fn scan(n: u64, venue: &str, issuer: &SecretKey) -> venuecode_core::sync::CheckInWire {
    use venuecode_core::health_code::{HealthClaims, Pseudonym};
    let now = Utc::now();
    let claims = HealthClaims {
        issuer: "CN-DEMO".into(),
        issued_at: now - Duration::minutes(5),
        expires_at: now + Duration::hours(1),
        code_id: [n as u8; 8],
        subject: Pseudonym([7; 12]),
        name_masked: "张*".into(),
        phone_masked: "138****8000".into(),
        id_masked: "1101**********002X".into(),
        color: Color::Green,
        color_since: now - Duration::days(3),
        nat: None,
        guardian: None,
    };
    let mut c = check_in(n, venue);
    c.at = now - Duration::seconds(60);
    c.code = Some(health_code::issue(issuer, &claims));
    c.code_id = Some(claims.code_id_hex());
    c.subject = Some(claims.subject.to_hex());
    c.color = Some("green".into());
    c
}

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
        let body = serde_json::to_vec(&EnrolRequest {
            declaration_code: code.into(),
            inspector: "王五".into(),
            checkpoint_id: None,
            public_key: self.key.public().to_hex(),
        })
        .unwrap();
        self.request("POST", "/api/v1/devices/enrol", body, nonce)
    }
}

fn nonce(n: u64) -> String {
    format!("{n:032x}")
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
        keys: vec![TrustedKey {
            issuer: "CN-DEMO".into(),
            key: issuer.public(),
            role: KeyRole::HealthIssuer,
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(30),
        }],
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
    }
}

fn fixture(issuer_on: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(dir.path().join("s.db").to_str().unwrap()).unwrap();
    store.seed_demo(Utc::now()).unwrap();
    let root = root();
    let issuer = SecretKey::from_seed(&[2; 32]);
    let mut state = AppState::new(store).with_keys(server_keys(&root, &issuer));
    if issuer_on {
        state = state.with_demo_issuer(IssuerKeys {
            issuer: "CN-DEMO".into(),
            issuer_key: SecretKey::from_hex(&issuer.to_hex()).unwrap(),
            subject_secret: [3; 32],
        });
    }
    let store = state.store();
    Fixture {
        _dir: dir,
        app: app(state),
        store,
        root,
        issuer,
    }
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
async fn upload_is_idempotent_and_acks_every_id() {
    let f = fixture(false);
    let s = enrolled(&f, 20).await;
    // A real scan (its code verified again by the server) and a manual registration.
    let c1 = scan(1, VENUE, &f.issuer);
    let records = vec![
        alert(1, &c1),
        Record::CheckIn(c1),
        Record::CheckIn(fresh(2, VENUE)),
    ];
    let req = || {
        s.request(
            "POST",
            "/api/v1/sync/upload",
            batch(records.clone()),
            &nonce(100),
        )
    };
    let (status, body) = send(&f.app, req()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["acked"].as_array().unwrap().len(), 3);
    assert_eq!(body["stored"], 3);
    // A replay of the very same request (same nonce) is refused, and stores nothing.
    let (status, body) = send(&f.app, req()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("replayed"))
    );
    // A retry (fresh nonce) of the same records is acknowledged, and stores nothing new.
    let (status, body) = send(
        &f.app,
        s.request(
            "POST",
            "/api/v1/sync/upload",
            batch(records.clone()),
            &nonce(101),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["stored"], 0);
    assert_eq!(body["acked"].as_array().unwrap().len(), 3);
    let counts = f.store.counts().unwrap();
    assert_eq!((counts.check_ins, counts.alerts), (2, 1));
}

#[tokio::test]
#[allow(clippy::vec_init_then_push)] // one case per push reads best
async fn bad_uploads_get_a_clear_4xx_and_store_nothing() {
    let f = fixture(false);
    let s = enrolled(&f, 30).await;
    let path = "/api/v1/sync/upload";
    let good = batch(vec![Record::CheckIn(fresh(1, VENUE))]);
    let mut cases: Vec<(&str, Request<Body>, StatusCode, &str)> = Vec::new();
    let mut planted = fresh(20, VENUE);
    planted.at = Utc::now() - Duration::days(2);
    cases.push((
        "a record from before the device enrolled (planting a past visit)",
        s.request(
            "POST",
            path,
            batch(vec![Record::CheckIn(planted)]),
            &nonce(20),
        ),
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_old",
    ));
    let mut planted = scan(22, VENUE, &f.issuer);
    planted.subject = Some("ff".repeat(12));
    cases.push((
        "a scan whose code names someone else (planting a person)",
        s.request(
            "POST",
            path,
            batch(vec![Record::CheckIn(planted)]),
            &nonce(22),
        ),
        StatusCode::UNPROCESSABLE_ENTITY,
        "code_mismatch",
    ));
    let mut bare = scan(23, VENUE, &f.issuer);
    bare.code = None;
    cases.push((
        "a scan without its code",
        s.request("POST", path, batch(vec![Record::CheckIn(bare)]), &nonce(23)),
        StatusCode::UNPROCESSABLE_ENTITY,
        "code_mismatch",
    ));
    let mut hot = fresh(21, VENUE);
    hot.temperature = "celsius".into();
    hot.celsius = Some(52.0);
    cases.push((
        "a reading no person gives",
        s.request("POST", path, batch(vec![Record::CheckIn(hot)]), &nonce(21)),
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_record",
    ));
    cases.push((
        "malformed JSON",
        s.request("POST", path, b"{\"records\": [".to_vec(), &nonce(1)),
        StatusCode::BAD_REQUEST,
        "bad_json",
    ));
    cases.push((
        "empty batch",
        s.request("POST", path, batch(vec![]), &nonce(2)),
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_batch",
    ));
    cases.push((
        "too many records",
        s.request(
            "POST",
            path,
            batch(
                (0..2001)
                    .map(|n| Record::CheckIn(fresh(n, VENUE)))
                    .collect(),
            ),
            &nonce(3),
        ),
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_batch",
    ));
    cases.push((
        "oversized body",
        s.request("POST", path, vec![b' '; MAX_BODY_BYTES + 10], &nonce(4)),
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    ));
    let mut future = fresh(5, VENUE);
    future.at = Utc::now() + Duration::hours(2);
    cases.push((
        "a record from the future among good ones",
        s.request(
            "POST",
            path,
            batch(vec![
                Record::CheckIn(fresh(6, VENUE)),
                Record::CheckIn(future),
            ]),
            &nonce(5),
        ),
        StatusCode::UNPROCESSABLE_ENTITY,
        "future_timestamp",
    ));
    cases.push((
        "another venue's record",
        s.request(
            "POST",
            path,
            batch(vec![Record::CheckIn(fresh(7, "demo-venue-0002"))]),
            &nonce(6),
        ),
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_venue",
    ));
    let mut tampered = s.request("POST", path, good.clone(), &nonce(7));
    *tampered.body_mut() = Body::from(batch(vec![Record::CheckIn(fresh(8, VENUE))]));
    cases.push((
        "body changed after signing",
        tampered,
        StatusCode::UNAUTHORIZED,
        "bad_signature",
    ));
    cases.push((
        "unknown device",
        Station::new(99).request("POST", path, good.clone(), &nonce(8)),
        StatusCode::UNAUTHORIZED,
        "unknown_device",
    ));
    cases.push((
        "clock far off",
        s.request_at(
            "POST",
            path,
            good.clone(),
            &nonce(9),
            Utc::now().timestamp_millis() + 3_600_000,
        ),
        StatusCode::UNAUTHORIZED,
        "clock_skew",
    ));
    cases.push((
        "unsigned",
        Request::post(path).body(Body::from(good.clone())).unwrap(),
        StatusCode::UNAUTHORIZED,
        "unsigned",
    ));
    for (what, req, want_status, want_code) in cases {
        let (status, body) = send(&f.app, req).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (want_status, Some(want_code)),
            "{what}: {body}"
        );
        assert!(!body["message"].as_str().unwrap_or("").is_empty(), "{what}");
    }
    // The future record is named, so the station can set it aside.
    let mut future = fresh(5, VENUE);
    future.at = Utc::now() + Duration::hours(2);
    let (_, body) = send(
        &f.app,
        s.request(
            "POST",
            path,
            batch(vec![Record::CheckIn(future)]),
            &nonce(10),
        ),
    )
    .await;
    assert_eq!(body["rejected"][0], fresh(5, VENUE).id);
    assert_eq!(f.store.counts().unwrap().check_ins, 0, "nothing stored");
    // A revoked device is refused.
    f.store
        .set_revoked(&sync::device_id(&s.key.public()), true, "test", Utc::now())
        .unwrap();
    let (status, body) = send(&f.app, s.request("POST", path, good, &nonce(11))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("device_revoked"))
    );
    assert_eq!(f.store.counts().unwrap().check_ins, 0, "nothing stored");
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
    let pull: PullResponse = serde_json::from_value(body).unwrap();
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
    let pull: PullResponse = serde_json::from_value(body).unwrap();
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
