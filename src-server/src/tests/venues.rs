//! Venue applications through the router: apply (bad input answered field by field, nothing
//! stored), the reviewer's queue with duplicates flagged, approval with a declaration code,
//! rejection with a reason, the history — and a reviewer of another community who sees none of it.

use super::people::{application_body, person, sign_in, with_token, with_token_body};
use super::*;
use venuecode_core::accounts::Role;

#[tokio::test]
async fn an_application_is_filed_reviewed_and_its_history_kept() {
    let f = fixture(false);
    person(&f, "li.si", Role::VenueAdmin, &["demo-venue-0003"]).await;
    person(&f, "wang.reviewer", Role::Reviewer, &["659002001"]).await;
    person(&f, "far.reviewer", Role::Reviewer, &["440902"]).await;
    let admin = sign_in(&f, "li.si").await;
    let reviewer = sign_in(&f, "wang.reviewer").await;
    let far = sign_in(&f, "far.reviewer").await;
    let post = |token: &str, body: Vec<u8>| with_token_body("POST", "/api/v1/venues", token, body);

    // Bad input: every problem named with its field, nothing stored.
    let bad = serde_json::json!({
        "name": "",
        "credit_code": "91330100716105852A",
        "category": "02",
        "place_type": "0101",
        "region": "999999999999",
        "address": "幸福路\u{0}",
        "responsible_name": "李四",
        "responsible_phone": "123"
    });
    let (status, body) = send(&f.app, post(&admin, bad.to_string().into_bytes())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let fields: Vec<&str> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "credit_code",
            "place_type",
            "region",
            "address",
            "responsible_phone"
        ]
    );
    let (_, mine) = send(&f.app, with_token("GET", "/api/v1/venues", &admin)).await;
    assert_eq!(
        mine.as_array().unwrap().len(),
        1,
        "only the demo venue: {mine}"
    );

    // Two applications of one organisation; the same code and address again is refused.
    let (status, first) = send(&f.app, post(&admin, application_body("幸福路 20 号"))).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["status"], "pending");
    let (status, body) = send(&f.app, post(&admin, application_body("幸福路 20 号"))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("duplicate_application"))
    );
    let (_, second) = send(&f.app, post(&admin, application_body("幸福路 22 号"))).await;

    // The reviewer's queue: both, each flagging the other (same credit code); another
    // community's reviewer sees nothing and cannot decide.
    let (_, q) = send(&f.app, with_token("GET", "/api/v1/review/queue", &reviewer)).await;
    let q = q.as_array().unwrap();
    assert_eq!(q.len(), 2, "{q:?}");
    assert!(q
        .iter()
        .all(|e| e["duplicates"].as_array().unwrap().len() == 1));
    let (_, none) = send(&f.app, with_token("GET", "/api/v1/review/queue", &far)).await;
    assert_eq!(none.as_array().unwrap().len(), 0);
    let id = first["venue_id"].as_str().unwrap().to_string();
    let decide = |token: &str, body: &str| {
        with_token_body(
            "POST",
            &format!("/api/v1/venues/{id}/decision"),
            token,
            body.as_bytes().to_vec(),
        )
    };
    let (status, _) = send(&f.app, decide(&far, r#"{"approve": true}"#)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Approve: a declaration code; reject the other with a reason (a reason is required).
    let (status, ok) = send(&f.app, decide(&reviewer, r#"{"approve": true}"#)).await;
    assert_eq!(status, StatusCode::OK, "{ok}");
    assert_eq!(ok["status"], "approved");
    assert!(sync::is_declaration_code(
        ok["declaration_code"].as_str().unwrap()
    ));
    let (status, _) = send(
        &f.app,
        decide(&reviewer, r#"{"approve": false, "reason": "x"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "decided once");
    let other = second["venue_id"].as_str().unwrap();
    let reject = |body: &str| {
        with_token_body(
            "POST",
            &format!("/api/v1/venues/{other}/decision"),
            &reviewer,
            body.as_bytes().to_vec(),
        )
    };
    let (status, body) = send(&f.app, reject(r#"{"approve": false}"#)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_reason"))
    );
    let (status, no) = send(
        &f.app,
        reject(r#"{"approve": false, "reason": "名称与营业执照不符"}"#),
    )
    .await;
    assert_eq!(
        (status, no["reject_reason"].as_str()),
        (StatusCode::OK, Some("名称与营业执照不符"))
    );
    // The applicant sees both outcomes and the history of each.
    let (_, mine) = send(&f.app, with_token("GET", "/api/v1/venues", &admin)).await;
    assert_eq!(mine.as_array().unwrap().len(), 3);
    let (_, h) = send(
        &f.app,
        with_token("GET", &format!("/api/v1/venues/{other}/history"), &admin),
    )
    .await;
    let actions: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["applied", "rejected"]);
}

#[tokio::test]
async fn the_demo_has_one_account_per_role_and_an_application_waiting() {
    use crate::people::{seed_demo_people, DEMO_PASSWORD};
    let f = fixture(false);
    let store = f.store.clone();
    let made = tokio::task::spawn_blocking(move || {
        let regions = venuecode_core::region::Regions::demo();
        let first = seed_demo_people(
            store.as_ref(),
            &regions,
            &venuecode_core::place_type::PlaceTypes::default_list(),
            Utc::now(),
        )
        .unwrap();
        let again = seed_demo_people(
            store.as_ref(),
            &regions,
            &venuecode_core::place_type::PlaceTypes::default_list(),
            Utc::now(),
        )
        .unwrap();
        (first, again)
    })
    .await
    .unwrap();
    assert_eq!(made.0.len(), 4);
    assert!(made.1.is_empty(), "a second start makes nothing");
    let login = |name: &str| {
        Request::builder()
            .method("POST")
            .uri("/api/v1/auth/login")
            .header("content-type", "application/json")
            .body(Body::from(
                serde_json::json!({"username": name, "password": DEMO_PASSWORD}).to_string(),
            ))
            .unwrap()
    };
    let (status, body) = send(&f.app, login("demo.reviewer")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap();
    let (_, q) = send(&f.app, with_token("GET", "/api/v1/review/queue", token)).await;
    assert_eq!(q.as_array().unwrap().len(), 1, "{q}");
    assert_eq!(q[0]["venue_id"], "demo-application-1");
}
