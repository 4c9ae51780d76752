//! Residents' own check-ins through the router: the poster's page for an open door and plain
//! refusals for every other poster; codes verified and judged like a station's, refusals stored
//! with their alert; one person twice, bad codes and limits record nothing; and the same code
//! again at the door is flagged.

use super::*;
use venuecode_core::gate::Direction;
use venuecode_core::health_code::{HealthClaims, Medium, Pseudonym};
use venuecode_core::venue::VenueCategory;
use venuecode_core::venue_code::{self, VenueClaims};

const MARKET: &str = "demo-venue-0003";

fn poster(key: &SecretKey, issuer: &str, checkpoint: &str, direction: Direction) -> String {
    venue_code::issue(
        key,
        &VenueClaims {
            issuer: issuer.into(),
            issued_at: Utc::now() - Duration::minutes(1),
            venue_id: MARKET.into(),
            checkpoint_id: checkpoint.into(),
            direction,
            venue_name: "幸福路农贸市场".into(),
            region: "659002".into(),
            category: VenueCategory::Business,
        },
        "https://csm.example.cn",
    )
}

fn code(f: &Fixture, person: u8, color: Color, expires_in: Duration) -> String {
    let now = Utc::now();
    health_code::issue(
        &f.issuer,
        &HealthClaims {
            issuer: "CN-DEMO".into(),
            issued_at: now - Duration::minutes(5),
            expires_at: now + expires_in,
            code_id: [person; 8],
            subject: Pseudonym([person; 12]),
            name_masked: format!("张{person}*"),
            phone_masked: "138****8000".into(),
            id_masked: "1101**********002X".into(),
            color,
            color_since: now - Duration::days(3),
            nat: None,
            guardian: None,
            medium: Medium::Screen,
        },
    )
}

async fn post(f: &Fixture, path: &str, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
    send(
        &f.app,
        Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn page(f: &Fixture, url: &str) -> (StatusCode, String) {
    let path = &url[url.find("/csm/1/").unwrap()..];
    let res = f
        .app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn self_check_ins(f: &Fixture) -> usize {
    f.store
        .venue_check_ins(
            MARKET,
            Utc::now() - Duration::hours(1),
            Utc::now() + Duration::minutes(1),
            1000,
        )
        .unwrap()
        .iter()
        .filter(|c| c.inspector == "self")
        .count()
}

#[tokio::test]
async fn the_page_opens_for_an_open_door_and_says_why_not_for_every_other_poster() {
    let f = fixture(false);
    let va = venue_authority();
    let (status, html) = page(&f, &poster(&va, "XJBT-VA", "main", Direction::Entry)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("幸福路农贸市场") && html.contains("北门"),
        "{html}"
    );
    assert!(html.contains(r#""direction":"entry""#));
    // Another deployment's venue authority, a changed signature, a withdrawn door, an unknown
    // door: a page that says so, nothing else.
    let elsewhere = SecretKey::from_seed(&[99; 32]);
    let (status, html) = page(&f, &poster(&elsewhere, "GD-VA", "main", Direction::Entry)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("other_deployment"));
    let mut forged = poster(&va, "XJBT-VA", "main", Direction::Entry).into_bytes();
    let at = forged.len() - 5;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let (status, html) = page(&f, &String::from_utf8(forged).unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("poster_invalid"));
    let (status, html) = page(&f, &poster(&va, "XJBT-VA", "nowhere", Direction::Entry)).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("door_withdrawn"));
    // Markup in a venue's name cannot close the boot script.
    assert!(!html.contains("</script><"));
}

#[tokio::test]
async fn a_phone_checks_in_a_family_and_a_red_code_is_refused_with_an_alert() {
    let f = fixture(false);
    let url = poster(&venue_authority(), "XJBT-VA", "main", Direction::Entry);
    let (status, body) = post(
        &f,
        "/api/v1/self-check-in",
        serde_json::json!({"poster": url, "codes": [code(&f, 1, Color::Green, Duration::hours(1)), code(&f, 2, Color::Green, Duration::hours(1))]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["verdict"], "pass");
    assert_eq!(body["people"].as_array().unwrap().len(), 2);
    assert_eq!(body["checkpoint_name"], "北门");
    assert_eq!(self_check_ins(&f), 2);

    let (status, body) = post(
        &f,
        "/api/v1/self-check-in",
        serde_json::json!({"poster": url, "codes": [code(&f, 3, Color::Red, Duration::hours(1))]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["verdict"], "refuse");
    assert_eq!(body["people"][0]["reasons"][0], "red_code");
    assert_eq!(body["phone"], "0997-4655555");
    assert_eq!(f.store.counts().unwrap().alerts, 1);

    // A revoked code: refused and alerted, as at a station.
    let revoked = code(&f, 4, Color::Green, Duration::hours(1));
    f.store
        .revoke(
            &Revocation::Subject(Pseudonym([4; 12]).to_hex()),
            Utc::now(),
        )
        .unwrap();
    let (status, body) = post(
        &f,
        "/api/v1/self-check-in",
        serde_json::json!({"poster": url, "codes": [revoked]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["people"][0]["reasons"][0], "revoked_subject");
    assert_eq!(f.store.counts().unwrap().alerts, 2);

    // Person 1 again within minutes: recorded, and flagged as a shared code.
    let (status, _) = post(
        &f,
        "/api/v1/self-check-in",
        serde_json::json!({"poster": url, "codes": [code(&f, 1, Color::Green, Duration::hours(2))]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let flagged = f
        .store
        .alerts(&crate::store::AlertQuery {
            scopes: vec!["659002".into()],
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert!(
        flagged
            .iter()
            .any(|a| a.kind == "reentry" || a.reasons.iter().any(|r| r == "reentry")),
        "{flagged:?}"
    );
}

#[tokio::test]
async fn bad_requests_record_nothing_and_say_who() {
    let f = fixture(false);
    let url = poster(&venue_authority(), "XJBT-VA", "main", Direction::Entry);
    let green = code(&f, 1, Color::Green, Duration::hours(1));
    let mut other_code_same_person = code(&f, 1, Color::Green, Duration::hours(2));
    assert_ne!(green, other_code_same_person);
    let expired = code(&f, 2, Color::Green, Duration::minutes(-30));
    for (codes, error, who) in [
        (
            vec![green.clone(), other_code_same_person.clone()],
            "same_person",
            Some(2),
        ),
        (vec![green.clone(), green.clone()], "same_person", Some(2)),
        (vec![green.clone(), expired.clone()], "bad_codes", Some(2)),
        (vec!["not a code".to_string()], "bad_codes", Some(1)),
        (vec![], "nobody", None),
        (
            (1..=7)
                .map(|n| code(&f, n, Color::Green, Duration::hours(1)))
                .collect(),
            "too_many_people",
            None,
        ),
    ] {
        let (status, body) = post(
            &f,
            "/api/v1/self-check-in",
            serde_json::json!({"poster": url, "codes": codes}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}: {body}");
        assert_eq!(body["error"], error, "{body}");
        assert_eq!(
            body["people"][0]["index"].as_u64().map(|i| i as usize),
            who,
            "{body}"
        );
    }
    assert_eq!(
        post(
            &f,
            "/api/v1/self-check-in",
            serde_json::json!({"codes": []})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    other_code_same_person.clear();
    assert_eq!(self_check_ins(&f), 0);

    // Inspect: a good code's masked view with its QR, an expired one refused.
    let (status, body) = post(
        &f,
        "/api/v1/health-code/inspect",
        serde_json::json!({"code": green}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name_masked"], "张1*");
    assert!(body["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let (status, body) = post(
        &f,
        "/api/v1/health-code/inspect",
        serde_json::json!({"code": expired}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"], "expired");
}

#[tokio::test]
async fn the_limits_per_venue_and_per_person_hold_before_anything_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(dir.path().join("s.db").to_str().unwrap()).unwrap();
    let f = fixture_tweaked(dir, store, false, Default::default(), |s| {
        s.with_self_check_in_limits(2, 1)
    });
    let url = poster(&venue_authority(), "XJBT-VA", "main", Direction::Entry);
    let send_one = |n: u8| serde_json::json!({"poster": url, "codes": [code(&f, n, Color::Green, Duration::hours(1))]});
    assert_eq!(
        post(&f, "/api/v1/self-check-in", send_one(1)).await.0,
        StatusCode::OK
    );
    // Person 1 again: over one an hour.
    let (status, body) = post(&f, "/api/v1/self-check-in", send_one(1)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"], "person_busy");
    // The venue's third in this minute.
    let (status, body) = post(&f, "/api/v1/self-check-in", send_one(2)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], "venue_busy");
    assert_eq!(self_check_ins(&f), 1);
}
