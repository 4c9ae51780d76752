//! People through the router: signing in (argon2id), one answer for a wrong name or password,
//! the lockout after five failures, sessions that end at sign-out; and the permission matrix —
//! every route that serves people or stations against every kind of caller, on both engines.

use super::*;
use crate::people::{create_account, AccountSpec};
use venuecode_core::accounts::Role;

const PASSWORD: &str = "阿拉尔 gate 2026";

/// Makes an account (on a blocking thread: the PostgreSQL client may not run on the runtime's).
pub(super) async fn person(f: &Fixture, username: &str, role: Role, scopes: &[&str]) {
    let store = f.store.clone();
    let username = username.to_string();
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        create_account(
            store.as_ref(),
            &AccountSpec {
                username: &username,
                display_name: &username,
                role,
                scopes,
                password: PASSWORD,
                created_by: "test",
            },
            Utc::now(),
        )
        .unwrap();
    })
    .await
    .unwrap();
}

fn login_request(username: &str, password: &str) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(
            serde_json::json!({"username": username, "password": password}).to_string(),
        ))
        .unwrap()
}

pub(super) async fn sign_in(f: &Fixture, username: &str) -> String {
    let (status, body) = send(&f.app, login_request(username, PASSWORD)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_string()
}

pub(super) fn with_token(method: &str, uri: &str, token: &str) -> Request<Body> {
    with_token_body(method, uri, token, Vec::new())
}

pub(super) fn with_token_body(
    method: &str,
    uri: &str,
    token: &str,
    body: Vec<u8>,
) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

/// A valid application (for 幸福路社区).
pub(super) fn application_body(address: &str) -> Vec<u8> {
    serde_json::json!({
        "name": "阿拉尔市幸福路农贸市场管理有限公司",
        "credit_code": "91330100716105852F",
        "category": "02",
        "place_type": "0203",
        "region": "659002001001",
        "address": address,
        "responsible_name": "李四",
        "responsible_phone": "13900139000"
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn sign_in_lockout_and_sign_out() {
    let f = fixture(false);
    person(&f, "wang.reviewer", Role::Reviewer, &["659002"]).await;
    let token = sign_in(&f, "wang.reviewer").await;
    let (status, me) = send(&f.app, with_token("GET", "/api/v1/auth/me", &token)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        (me["role"].as_str(), me["scopes"][0].as_str()),
        (Some("reviewer"), Some("659002"))
    );
    // A wrong password and an unknown name get the same answer.
    let (s1, b1) = send(&f.app, login_request("wang.reviewer", "wrong password!")).await;
    let (s2, b2) = send(&f.app, login_request("nobody.here", "wrong password!")).await;
    assert_eq!((s1, &b1["error"]), (StatusCode::UNAUTHORIZED, &b2["error"]));
    assert_eq!(s2, StatusCode::UNAUTHORIZED);
    // Five failures in a row lock the account, even against the right password.
    for _ in 0..4 {
        send(&f.app, login_request("wang.reviewer", "wrong password!")).await;
    }
    let (status, body) = send(&f.app, login_request("wang.reviewer", PASSWORD)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("account_locked"))
    );
    // The session opened before still works until it is signed out; then it is refused.
    let (status, _) = send(&f.app, with_token("POST", "/api/v1/auth/logout", &token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = send(&f.app, with_token("GET", "/api/v1/auth/me", &token)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("not_signed_in"))
    );
    // The password is stored as an argon2id hash, never as given.
    let c = f.store.credentials("wang.reviewer").unwrap().unwrap();
    assert!(
        c.password_hash.starts_with("$argon2id$"),
        "{}",
        c.password_hash
    );
    assert!(!c.password_hash.contains(PASSWORD));
}

/// Every route that serves people or stations, against every kind of caller: who gets in, and
/// who gets 401 (not signed in / not a station) or 403 (signed in, not their role or scope).
async fn permission_matrix(f: &Fixture) {
    person(f, "venue.admin", Role::VenueAdmin, &["demo-venue-0001"]).await;
    person(f, "reviewer", Role::Reviewer, &["659002"]).await;
    person(f, "authority", Role::Authority, &["659002"]).await;
    person(f, "sysadmin", Role::SysAdmin, &[]).await;
    let station = enrolled(f, 60).await;
    let station_id = sync::device_id(&station.key.public());
    let mut tokens = Vec::new();
    for who in ["venue.admin", "reviewer", "authority", "sysadmin"] {
        tokens.push((who, sign_in(f, who).await));
    }
    let pull = "/api/v1/sync/pull?trust_version=0&revocations_since=0";
    let reject = br#"{"approve": false, "reason": "x"}"#.to_vec();
    let hospital = "/api/v1/venues/demo-venue-0001";
    let checkpoint =
        r#"{"name": "北门", "responsible_name": "王五", "responsible_phone": "13800138000"}"#
            .as_bytes()
            .to_vec();
    let checkpoint_main =
        r#"{"name": "正门", "responsible_name": "王五", "responsible_phone": "13800138000"}"#
            .as_bytes()
            .to_vec();
    // (method, uri, body, [anonymous, station, venue admin, reviewer, authority, sysadmin]).
    // A venue outside one's scope is 404 (not confirmed to exist); the reviewer's 409 is the
    // demo venue being approved already (the scope let them in).
    let matrix: Vec<(&str, String, Vec<u8>, [u16; 6])> = vec![
        // Residents' own check-in needs no account: every caller gets the same answer (here,
        // a poster that does not verify; a code that does not).
        (
            "POST",
            "/api/v1/self-check-in".into(),
            br#"{"poster": "x", "codes": []}"#.to_vec(),
            [422, 422, 422, 422, 422, 422],
        ),
        (
            "POST",
            "/api/v1/health-code/inspect".into(),
            br#"{"code": "x"}"#.to_vec(),
            [422, 422, 422, 422, 422, 422],
        ),
        (
            "GET",
            "/api/v1/auth/me".into(),
            vec![],
            [401, 401, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/accounts".into(),
            vec![],
            [401, 401, 403, 403, 403, 200],
        ),
        (
            "GET",
            "/api/v1/place-types".into(),
            vec![],
            [401, 401, 200, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/trace".into(),
            serde_json::json!({
                "subject": "local:000000000000000000000001",
                "from": Utc::now() - chrono::Duration::hours(2), "to": Utc::now(),
                "case_number": "C-1", "reason": "permission matrix"
            })
            .to_string()
            .into_bytes(),
            [401, 401, 403, 403, 200, 403],
        ),
        (
            "GET",
            "/api/v1/trace/audit".into(),
            vec![],
            [401, 401, 403, 403, 200, 200],
        ),
        (
            "GET",
            format!(
                "{hospital}/statistics?from={}&to={}",
                (Utc::now() - chrono::Duration::days(1))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            vec![],
            [401, 401, 200, 403, 200, 404],
        ),
        // Occupancy (counts only): like the statistics.
        (
            "GET",
            format!("{hospital}/occupancy"),
            vec![],
            [401, 401, 200, 403, 200, 404],
        ),
        // The capacity: the venue's administrator only.
        (
            "PUT",
            format!("{hospital}/capacity"),
            br#"{"capacity": 300}"#.to_vec(),
            [401, 401, 200, 403, 403, 404],
        ),
        (
            "GET",
            "/api/v1/alerts".into(),
            vec![],
            [401, 401, 403, 403, 200, 403],
        ),
        (
            "GET",
            "/api/v1/alerts/count".into(),
            vec![],
            [401, 401, 403, 403, 200, 403],
        ),
        (
            "GET",
            format!(
                "{hospital}/check-ins/export?from={}&to={}",
                (Utc::now() - chrono::Duration::days(1))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            vec![],
            [401, 401, 200, 403, 200, 404],
        ),
        (
            "GET",
            "/api/v1/alerts/export".into(),
            vec![],
            [401, 401, 403, 403, 200, 403],
        ),
        // The authority passes the role check; there is no such alert.
        (
            "POST",
            format!("/api/v1/alerts/{VENUE}/no-such-alert/handled"),
            br#"{"note": "permission matrix"}"#.to_vec(),
            [401, 401, 403, 403, 404, 403],
        ),
        ("GET", pull.into(), vec![], [401, 200, 401, 401, 401, 401]),
        // Residents' own check-ins at the venue: its stations only (people's tokens are not
        // device signatures).
        (
            "GET",
            "/api/v1/sync/phone-check-ins?since=0".into(),
            vec![],
            [401, 200, 401, 401, 401, 401],
        ),
        // The venue's passages for its stations' shared presence: its stations only.
        (
            "GET",
            "/api/v1/sync/passages?after=0".into(),
            vec![],
            [401, 200, 401, 401, 401, 401],
        ),
        (
            "POST",
            "/api/v1/venues".into(),
            application_body("幸福路 30 号"),
            [401, 401, 201, 403, 403, 403],
        ),
        (
            "GET",
            "/api/v1/venues".into(),
            vec![],
            [401, 401, 200, 200, 200, 403],
        ),
        (
            "GET",
            "/api/v1/review/queue".into(),
            vec![],
            [401, 401, 403, 200, 403, 403],
        ),
        (
            "POST",
            format!("{hospital}/decision"),
            reject,
            [401, 401, 403, 409, 403, 404],
        ),
        (
            "GET",
            format!("{hospital}/history"),
            vec![],
            [401, 401, 200, 200, 200, 404],
        ),
        (
            "POST",
            "/api/v1/accounts/invitations".into(),
            br#"{"role": "reviewer", "scopes": ["659002"], "display_name": "x"}"#.to_vec(),
            [401, 401, 403, 403, 403, 201],
        ),
        // Anyone may try a code; a wrong one is 404 for everybody.
        (
            "POST",
            "/api/v1/accounts/accept".into(),
            format!(
                r#"{{"code": "{}", "username": "new.one", "password": "{PASSWORD}"}}"#,
                "0".repeat(32)
            )
            .into_bytes(),
            [404, 404, 404, 404, 404, 404],
        ),
        (
            "GET",
            format!("{hospital}/members"),
            vec![],
            [401, 401, 200, 403, 403, 404],
        ),
        (
            "POST",
            format!("{hospital}/declaration-code"),
            vec![],
            [401, 401, 200, 403, 403, 404],
        ),
        (
            "POST",
            "/api/v1/sync/upload".into(),
            batch(vec![Record::CheckIn(super::upload::fresh(1, VENUE))]),
            [401, 200, 401, 401, 401, 401],
        ),
        // Anyone may try to sign in; a wrong name is 401 for everybody.
        (
            "POST",
            "/api/v1/auth/login".into(),
            format!(r#"{{"username": "nobody.here", "password": "{PASSWORD}"}}"#).into_bytes(),
            [401, 401, 401, 401, 401, 401],
        ),
        // Key rotation is the device's own, signed by the new key: the station signing with its
        // enrolled key (not the new one) and every person's token get 401.
        (
            "POST",
            "/api/v1/devices/rotate".into(),
            serde_json::json!({
                "old_device_id": station_id,
                "public_key": Station::new(61).key.public().to_hex(),
                "old_signature": "00".repeat(64),
            })
            .to_string()
            .into_bytes(),
            [401, 401, 401, 401, 401, 401],
        ),
        (
            "GET",
            format!("{hospital}/checkpoints"),
            vec![],
            [401, 401, 200, 200, 200, 404],
        ),
        (
            "POST",
            format!("{hospital}/checkpoints"),
            checkpoint.clone(),
            [401, 401, 201, 403, 403, 404],
        ),
        (
            "PUT",
            format!("{hospital}/checkpoints/main"),
            checkpoint_main,
            [401, 401, 200, 403, 403, 404],
        ),
        (
            "POST",
            format!("{hospital}/devices/{station_id}/approve"),
            vec![],
            [401, 401, 204, 403, 403, 404],
        ),
        // The administrator's 422: the name is no venue administrator (the scope let them in).
        (
            "POST",
            format!("{hospital}/handover"),
            br#"{"username": "nobody.here"}"#.to_vec(),
            [401, 401, 422, 403, 403, 404],
        ),
        // It revokes the station (the rows above need it).
        (
            "POST",
            format!("{hospital}/devices/{station_id}/revoke"),
            vec![],
            [401, 401, 204, 403, 403, 404],
        ),
        // A new name sends the venue back to review (so it comes after the rows that need it
        // approved).
        (
            "PUT",
            hospital.to_string(),
            application_body("幸福路 40 号"),
            [401, 401, 200, 403, 403, 404],
        ),
        // The 409s: a venue that once had doors is never deleted (withdrawn), and a pending one
        // is not closed — each past the role and scope check.
        (
            "DELETE",
            hospital.to_string(),
            vec![],
            [401, 401, 409, 403, 403, 404],
        ),
        (
            "POST",
            format!("{hospital}/close"),
            br#"{"reason": "x"}"#.to_vec(),
            [401, 401, 403, 409, 403, 404],
        ),
        // Last: it ends each person's session.
        (
            "POST",
            "/api/v1/auth/logout".into(),
            vec![],
            [401, 401, 204, 204, 204, 204],
        ),
    ];
    let mut n = 1000;
    for (method, uri, body, expected) in &matrix {
        let mut got = Vec::new();
        let anonymous = Request::builder()
            .method(*method)
            .uri(uri.as_str())
            .header("content-type", "application/json")
            .body(Body::from(body.clone()))
            .unwrap();
        got.push(send(&f.app, anonymous).await.0.as_u16());
        n += 1;
        got.push(
            send(
                &f.app,
                station.request(method, uri, body.clone(), &nonce(n)),
            )
            .await
            .0
            .as_u16(),
        );
        for (_, token) in &tokens {
            got.push(
                send(&f.app, with_token_body(method, uri, token, body.clone()))
                    .await
                    .0
                    .as_u16(),
            );
        }
        assert_eq!(
            &got, expected,
            "{method} {uri}: anonymous, station, venue admin, reviewer, authority, sysadmin"
        );
    }
    // The administrator revoked the station (the last row): it is refused from then on, and the
    // revocation names who did it.
    let (status, _) = send(&f.app, station.request("GET", pull, vec![], &nonce(n + 1))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let store = f.store.clone();
    let log = tokio::task::spawn_blocking(move || store.device_events(&station_id).unwrap())
        .await
        .unwrap();
    assert_eq!(
        log.last().map(|e| e.actor.as_str()),
        Some("venue.admin (venue.admin)")
    );
}

#[tokio::test]
async fn the_permission_matrix_holds_on_sqlite() {
    permission_matrix(&fixture(false)).await;
}

#[test]
fn the_permission_matrix_holds_on_postgres() {
    on_postgres("the permission matrix", |f| async move {
        permission_matrix(&f).await
    });
}

#[tokio::test]
async fn a_system_administrator_invites_and_the_invitee_signs_up_once() {
    let f = fixture(false);
    person(&f, "root.admin", Role::SysAdmin, &[]).await;
    person(&f, "li.si", Role::VenueAdmin, &[]).await;
    let sys = sign_in(&f, "root.admin").await;
    let invite = |token: &str, body: &str| {
        with_token_body(
            "POST",
            "/api/v1/accounts/invitations",
            token,
            body.as_bytes().to_vec(),
        )
    };
    // Scopes must be regions in the table; a venue administrator is invited without any.
    let (status, body) = send(
        &f.app,
        invite(
            &sys,
            r#"{"role": "reviewer", "scopes": ["999"], "display_name": "王审核"}"#,
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_scopes"))
    );
    let venue_admin = sign_in(&f, "li.si").await;
    let (status, _) = send(
        &f.app,
        invite(
            &venue_admin,
            r#"{"role": "sysadmin", "display_name": "me"}"#,
        ),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only a system administrator invites"
    );
    let (status, inv) = send(
        &f.app,
        invite(
            &sys,
            r#"{"role": "reviewer", "scopes": ["659002001"], "display_name": "王审核"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    let code = inv["code"].as_str().unwrap().to_string();
    let accept = |username: &str, password: &str| {
        Request::builder()
            .method("POST")
            .uri("/api/v1/accounts/accept")
            .header("content-type", "application/json")
            .body(Body::from(
                serde_json::json!({"code": code, "username": username, "password": password})
                    .to_string(),
            ))
            .unwrap()
    };
    // A weak password is refused and leaves the invitation usable.
    let (status, body) = send(&f.app, accept("wang.shen", "short")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_password"))
    );
    let (status, me) = send(&f.app, accept("wang.shen", PASSWORD)).await;
    assert_eq!(status, StatusCode::CREATED, "{me}");
    assert_eq!(
        (
            me["role"].as_str(),
            me["scopes"][0].as_str(),
            me["display_name"].as_str()
        ),
        (Some("reviewer"), Some("659002001"), Some("王审核"))
    );
    let (status, _) = send(&f.app, accept("someone.else", PASSWORD)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an invitation is used once");
    let token = sign_in(&f, "wang.shen").await;
    let (status, _) = send(&f.app, with_token("GET", "/api/v1/review/queue", &token)).await;
    assert_eq!(status, StatusCode::OK);
}
