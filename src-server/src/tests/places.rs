//! What a venue administrator does after approval, through the router: doors with a responsible
//! person (bad input named field by field, a name used twice refused), a station that enrols and
//! waits for the administrator's approval, a disabled door that enrols nothing and tells its
//! stations, a rename that sends the venue back to review, a pending application withdrawn, the
//! role handed over, and a venue closed by its reviewer (its stations refused).

use super::people::{application_body, person, sign_in, with_token, with_token_body};
use super::*;
use venuecode_core::accounts::Role;

fn door(name: &str) -> Vec<u8> {
    serde_json::json!({"name": name, "responsible_name": "王五", "responsible_phone": "13800138000"})
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn doors_devices_renames_withdrawals_hand_overs_and_closing_on_sqlite() {
    administrator_flow(&fixture(false)).await;
}

#[test]
fn doors_devices_renames_withdrawals_hand_overs_and_closing_on_postgres() {
    on_postgres("the administrator's flow", |f| async move {
        administrator_flow(&f).await
    });
}

async fn administrator_flow(f: &Fixture) {
    person(f, "li.si", Role::VenueAdmin, &[]).await;
    person(f, "zhao.liu", Role::VenueAdmin, &[]).await;
    person(f, "wang.reviewer", Role::Reviewer, &["659002001"]).await;
    let admin = sign_in(f, "li.si").await;
    let reviewer = sign_in(f, "wang.reviewer").await;
    let (_, v) = send(
        &f.app,
        with_token_body(
            "POST",
            "/api/v1/venues",
            &admin,
            application_body("幸福路 50 号"),
        ),
    )
    .await;
    let id = v["venue_id"].as_str().unwrap().to_string();
    let base = format!("/api/v1/venues/{id}");

    // Pending: no doors yet.
    let (status, _) = send(
        &f.app,
        with_token_body("POST", &format!("{base}/checkpoints"), &admin, door("南门")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, ok) = send(
        &f.app,
        with_token_body(
            "POST",
            &format!("{base}/decision"),
            &reviewer,
            br#"{"approve": true}"#.to_vec(),
        ),
    )
    .await;
    let code = ok["declaration_code"].as_str().unwrap().to_string();

    // Doors: bad input named, a name used twice refused, 南门 and 北门 added.
    let bad = r#"{"name": "", "responsible_name": "王", "responsible_phone": "1"}"#
        .as_bytes()
        .to_vec();
    let (status, body) = send(
        &f.app,
        with_token_body("POST", &format!("{base}/checkpoints"), &admin, bad),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["problems"].as_array().unwrap().len(), 3, "{body}");
    let (status, south) = send(
        &f.app,
        with_token_body("POST", &format!("{base}/checkpoints"), &admin, door("南门")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{south}");
    let (status, body) = send(
        &f.app,
        with_token_body(
            "POST",
            &format!("{base}/checkpoints"),
            &admin,
            door(" 南门 "),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("checkpoint_name_taken"))
    );
    let (_, north) = send(
        &f.app,
        with_token_body("POST", &format!("{base}/checkpoints"), &admin, door("北门")),
    )
    .await;
    let north_id = north["checkpoint_id"].as_str().unwrap().to_string();
    // Each door has its entry and exit codes (一门一码), signed by the venue authority.
    let (_, doors) = send(
        &f.app,
        with_token("GET", &format!("{base}/checkpoints"), &admin),
    )
    .await;
    let north_door = doors
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["checkpoint_id"] == north_id.as_str())
        .unwrap();
    let trust = venuecode_core::trust::TrustList {
        version: 1,
        issued_at: Utc::now() - chrono::Duration::days(1),
        expires_at: Utc::now() + chrono::Duration::days(30),
        keys: vec![venuecode_core::trust::TrustedKey {
            issuer: "XJBT-VA".into(),
            key: venue_authority().public(),
            role: venuecode_core::trust::KeyRole::VenueAuthority,
            not_before: Utc::now() - chrono::Duration::days(1),
            not_after: Utc::now() + chrono::Duration::days(30),
        }],
    };
    for (field, direction) in [
        ("entry_code", venuecode_core::gate::Direction::Entry),
        ("exit_code", venuecode_core::gate::Direction::Exit),
    ] {
        let url = north_door[field].as_str().unwrap();
        assert!(url.starts_with("https://csm.example.cn/csm/1/"), "{url}");
        let c = venuecode_core::venue_code::verify(url, &trust)
            .unwrap()
            .claims;
        assert_eq!(
            (c.venue_id.as_str(), c.checkpoint_id.as_str(), c.direction),
            (id.as_str(), north_id.as_str(), direction)
        );
        assert_eq!(c.region, "659002");
    }
    let south_id = south["checkpoint_id"].as_str().unwrap().to_string();
    let (_, list) = send(
        &f.app,
        with_token("GET", &format!("{base}/checkpoints"), &admin),
    )
    .await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "正门 from approval, 南门, 北门: {list}");
    assert!(names.contains(&"北门") && names.contains(&"正门"));

    // A station enrols at 北门 and waits for approval: it pulls (the trust list, to check codes
    // and keep check-ins locally) but its uploads are refused until then.
    let station = Station::new(90);
    let (status, body) = send(&f.app, station.enrol_at(&code, Some(&north_id), &nonce(1))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pull = "/api/v1/sync/pull?trust_version=0&revocations_since=0";
    let (status, body) = send(&f.app, station.request("GET", pull, vec![], &nonce(2))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let upload = batch(vec![Record::CheckIn(super::upload::fresh(1, &id))]);
    let (status, body) = send(
        &f.app,
        station.request("POST", "/api/v1/sync/upload", upload.clone(), &nonce(20)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("device_pending"))
    );
    let (_, members) = send(
        &f.app,
        with_token("GET", &format!("{base}/members"), &admin),
    )
    .await;
    assert_eq!(members["devices"][0]["pending"], true, "{members}");
    assert_eq!(members["devices"][0]["checkpoint_id"], north_id.as_str());
    let device = members["devices"][0]["device_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = send(
        &f.app,
        with_token("POST", &format!("{base}/devices/{device}/approve"), &admin),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = send(&f.app, station.request("GET", pull, vec![], &nonce(3))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // 南门 disabled: no station enrols there; the pull tells the stations.
    let mut off: serde_json::Value = serde_json::from_slice(&door("南门")).unwrap();
    off["disabled"] = true.into();
    let (status, body) = send(
        &f.app,
        with_token_body(
            "PUT",
            &format!("{base}/checkpoints/{south_id}"),
            &admin,
            off.to_string().into_bytes(),
        ),
    )
    .await;
    assert_eq!(
        (status, body["disabled"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{body}"
    );
    let (status, _) = send(
        &f.app,
        Station::new(91).enrol_at(&code, Some(&south_id), &nonce(4)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, body) = send(&f.app, station.request("GET", pull, vec![], &nonce(5))).await;
    let doors = body["venue"]["checkpoints"].as_array().unwrap();
    assert!(
        doors
            .iter()
            .any(|c| c["checkpoint_id"] == south_id.as_str() && c["disabled"] == true),
        "{body}"
    );

    // Handing over: li.si no longer manages it, zhao.liu does.
    let (status, _) = send(
        &f.app,
        with_token_body(
            "POST",
            &format!("{base}/handover"),
            &admin,
            br#"{"username": "zhao.liu"}"#.to_vec(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let admin = sign_in(f, "li.si").await;
    let heir = sign_in(f, "zhao.liu").await;
    let (status, _) = send(
        &f.app,
        with_token("GET", &format!("{base}/members"), &admin),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(&f.app, with_token("GET", &format!("{base}/members"), &heir)).await;
    assert_eq!(status, StatusCode::OK);

    // A new name: back to review; the same name and a new phone: not.
    let (status, body) = send(
        &f.app,
        with_token_body("PUT", &base, &heir, application_body("幸福路 50 号")),
    )
    .await;
    assert_eq!(
        (status, body["back_to_review"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{body}"
    );
    let mut renamed: serde_json::Value =
        serde_json::from_slice(&application_body("幸福路 50 号")).unwrap();
    renamed["name"] = "乌鲁木齐市幸福路农贸市场有限公司".into();
    let (_, body) = send(
        &f.app,
        with_token_body("PUT", &base, &heir, renamed.to_string().into_bytes()),
    )
    .await;
    assert_eq!(
        (body["back_to_review"].as_bool(), body["status"].as_str()),
        (Some(true), Some("pending"))
    );
    let (_, q) = send(&f.app, with_token("GET", "/api/v1/review/queue", &reviewer)).await;
    assert!(q
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["venue_id"] == id.as_str()));
    let (_, ok) = send(
        &f.app,
        with_token_body(
            "POST",
            &format!("{base}/decision"),
            &reviewer,
            br#"{"approve": true}"#.to_vec(),
        ),
    )
    .await;
    assert_eq!(ok["status"], "approved");

    // A pending application is withdrawn by its applicant, and gone.
    let (_, p) = send(
        &f.app,
        with_token_body(
            "POST",
            "/api/v1/venues",
            &admin,
            application_body("幸福路 52 号"),
        ),
    )
    .await;
    let pid = p["venue_id"].as_str().unwrap();
    let (status, _) = send(
        &f.app,
        with_token("DELETE", &format!("/api/v1/venues/{pid}"), &admin),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(
        &f.app,
        with_token("GET", &format!("/api/v1/venues/{pid}/history"), &admin),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Closed by the reviewer (a reason needed): its stations are refused, the history says who.
    let (status, _) = send(
        &f.app,
        with_token_body(
            "POST",
            &format!("{base}/close"),
            &reviewer,
            br#"{"reason": " "}"#.to_vec(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(
        &f.app,
        with_token_body(
            "POST",
            &format!("{base}/close"),
            &reviewer,
            r#"{"reason": "停业"}"#.as_bytes().to_vec(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = send(&f.app, station.request("GET", pull, vec![], &nonce(6))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("device_revoked"))
    );
    let (_, h) = send(&f.app, with_token("GET", &format!("{base}/history"), &heir)).await;
    let actions: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "applied",
            "approved",
            "checkpoint_added",
            "checkpoint_added",
            "device_approved",
            "checkpoint_changed",
            "handed_over",
            "amended",
            "amended",
            "approved",
            "closed"
        ]
    );
    let (_, mine) = send(&f.app, with_token("GET", "/api/v1/venues", &heir)).await;
    assert_eq!(mine[0]["status"], "closed");
}

#[tokio::test]
async fn deployment_rules_one_to_one_and_no_review() {
    use venuecode_core::deployment::DeploymentRules;
    // 粤康码's rules, and no review: an application is approved at once, an administrator holds
    // one venue, a venue has one administrator.
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(dir.path().join("s.db").to_str().unwrap()).unwrap();
    let f = fixture_with(
        dir,
        store,
        false,
        DeploymentRules {
            review_required: false,
            ..DeploymentRules::one_to_one()
        },
    );
    person(&f, "li.si", Role::VenueAdmin, &[]).await;
    person(&f, "zhao.liu", Role::VenueAdmin, &["demo-venue-0002"]).await;
    person(&f, "root", Role::SysAdmin, &[]).await;
    let admin = sign_in(&f, "li.si").await;
    let post = |body| with_token_body("POST", "/api/v1/venues", &admin, body);
    let (status, v) = send(&f.app, post(application_body("幸福路 80 号"))).await;
    assert_eq!(
        (status, v["status"].as_str()),
        (StatusCode::CREATED, Some("approved")),
        "{v}"
    );
    assert!(v["declaration_code"].as_str().is_some());
    let id = v["venue_id"].as_str().unwrap().to_string();
    let (_, h) = send(
        &f.app,
        with_token("GET", &format!("/api/v1/venues/{id}/history"), &admin),
    )
    .await;
    assert_eq!(h[1]["actor"], crate::venue_routes::AUTOMATIC);
    // A second venue: refused by the rule, nothing stored.
    let admin = sign_in(&f, "li.si").await;
    let (status, body) = send(
        &f.app,
        with_token_body(
            "POST",
            "/api/v1/venues",
            &admin,
            application_body("幸福路 82 号"),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("venues_per_admin"))
    );
    // A second administrator for the venue: refused; handing it to one who holds a venue: too.
    let root = sign_in(&f, "root").await;
    let invite = serde_json::json!({"role": "venue_admin", "scopes": [id], "display_name": "x"});
    let (status, body) = send(
        &f.app,
        with_token_body(
            "POST",
            "/api/v1/accounts/invitations",
            &root,
            invite.to_string().into_bytes(),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("admins_per_venue"))
    );
    let (status, body) = send(
        &f.app,
        with_token_body(
            "POST",
            &format!("/api/v1/venues/{id}/handover"),
            &admin,
            br#"{"username": "zhao.liu"}"#.to_vec(),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("venues_per_admin"))
    );
}
