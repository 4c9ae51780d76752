//! Uploads through the router: idempotent ingest and acknowledgement, and every kind of bad
//! batch refused with a clear 4xx and nothing stored — scanned codes verified again included.

use super::*;

/// A check-in made a minute ago (the API refuses records older than the device's enrolment): a
/// manual registration, since every scanned code is verified again (see `scan`).
pub(super) fn fresh(n: u64, venue: &str) -> venuecode_core::sync::CheckInWire {
    let mut c = check_in(n, venue);
    c.at = Utc::now() - Duration::seconds(60);
    c.manual = true;
    c.code_id = None;
    c.color = None;
    c.subject = Some(format!("local:{n:024x}"));
    c
}

/// A scan a minute ago of a real code from the fixture's issuer, as a station records it.
pub(super) fn scan(n: u64, venue: &str, issuer: &SecretKey) -> venuecode_core::sync::CheckInWire {
    scan_of(
        n,
        venue,
        issuer,
        venuecode_core::health_code::Pseudonym([7; 12]),
    )
}

/// A scan a minute ago of `subject`'s code from the fixture's issuer.
pub(super) fn scan_of(
    n: u64,
    venue: &str,
    issuer: &SecretKey,
    subject: venuecode_core::health_code::Pseudonym,
) -> venuecode_core::sync::CheckInWire {
    use venuecode_core::health_code::HealthClaims;
    let now = Utc::now();
    let claims = HealthClaims {
        issuer: "CN-DEMO".into(),
        issued_at: now - Duration::minutes(5),
        expires_at: now + Duration::hours(1),
        code_id: [n as u8; 8],
        subject,
        name_masked: "张*".into(),
        phone_masked: "138****8000".into(),
        id_masked: "1101**********002X".into(),
        color: Color::Green,
        color_since: now - Duration::days(3),
        nat: None,
        guardian: None,
        medium: venuecode_core::health_code::Medium::Screen,
    };
    let mut c = check_in(n, venue);
    c.at = now - Duration::seconds(60);
    c.code = Some(health_code::issue(issuer, &claims));
    c.code_id = Some(claims.code_id_hex());
    c.subject = Some(claims.subject.to_hex());
    c.color = Some("green".into());
    c
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
