//! Enrolment through the router: binding, bad input, proof of possession, the lockout after
//! repeated wrong codes, and a revoked key that cannot enrol itself again.

use super::*;

#[tokio::test]
async fn enrolment_binds_a_device_and_refuses_bad_input() {
    let f = fixture(false);
    let s = Station::new(9);
    let (status, body) = send(&f.app, s.enrol_request("100001", &nonce(1))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["venue"]["venue_id"], VENUE);
    assert_eq!(body["venue"]["phone"], "0997-4612345");
    assert_eq!(body["checkpoint_id"], "main");
    assert_eq!(body["device_id"], sync::device_id(&s.key.public()));
    // The same request again is a replay.
    let (status, body) = send(&f.app, s.enrol_request("100001", &nonce(1))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("replayed"))
    );
    let (status, body) = send(&f.app, s.enrol_request("12345", &nonce(2))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_declaration_code"))
    );
    let (status, body) = send(&f.app, Station::new(10).enrol_request("999999", &nonce(3))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_declaration_code"))
    );
    // Signed by another key than the one enrolled: no proof of possession.
    let other = Station::new(11);
    let body = serde_json::to_vec(&EnrolRequest {
        declaration_code: "100001".into(),
        inspector: "x".into(),
        checkpoint_id: None,
        public_key: s.key.public().to_hex(),
    })
    .unwrap();
    let (status, body) = send(
        &f.app,
        other.request("POST", "/api/v1/devices/enrol", body, &nonce(4)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_device_id"))
    );
    let (status, body) = send(
        &f.app,
        Request::post("/api/v1/devices/enrol")
            .body(Body::from("{not json"))
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_json"))
    );
}

#[tokio::test]
async fn enrolment_brute_force_is_locked_out_and_a_revoked_key_cannot_re_enrol() {
    let f = fixture(false);
    // Wrong codes: one uniform answer each, whatever the code.
    for (n, code) in ["999999", "123456", "100009", "000000", "555555"]
        .iter()
        .enumerate()
    {
        let (status, body) = send(
            &f.app,
            Station::new(50 + n as u8).enrol_request(code, &nonce(100 + n as u64)),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("unknown_declaration_code")),
            "{code}"
        );
        assert!(body["message"]
            .as_str()
            .unwrap()
            .contains("was not accepted"));
    }
    // The sixth try from the same source is locked out — even with the right code.
    let req = Station::new(60).enrol_request("100001", &nonce(200));
    let res = f.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        res.headers().get(header::RETRY_AFTER).unwrap(),
        &crate::enrolment::LOCKOUT_WINDOW.num_seconds().to_string()
    );
    let counted = f
        .store
        .enrolment_attempts(
            store::AttemptKey::Source("unknown"),
            store::AttemptOutcome::Locked,
            Utc::now() - Duration::minutes(1),
        )
        .unwrap();
    assert_eq!(counted, 1, "the locked attempt is in the audit log");
    assert!(f
        .store
        .device(&sync::device_id(&Station::new(60).key.public()))
        .unwrap()
        .is_none());

    // A revoked device cannot enrol itself again (a fresh store: no lockout in the way).
    let f = fixture(false);
    let s = Station::new(70);
    let (status, _) = send(&f.app, s.enrol_request("100001", &nonce(1))).await;
    assert_eq!(status, StatusCode::OK);
    let id = sync::device_id(&s.key.public());
    assert!(f
        .store
        .set_revoked(&id, true, "管理员", Utc::now())
        .unwrap());
    let (status, body) = send(&f.app, s.enrol_request("100001", &nonce(2))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("device_revoked"))
    );
    assert!(f.store.device(&id).unwrap().unwrap().revoked);
}

#[tokio::test]
async fn a_device_rotates_its_key_and_the_old_key_is_refused_from_then_on() {
    use venuecode_core::keys::hex;
    use venuecode_core::sync::{key_rotation_bytes, RotateKeyRequest};
    let f = fixture(false);
    let old = enrolled(&f, 50).await;
    let old_id = sync::device_id(&old.key.public());
    let new = Station::new(51);
    let new_id = sync::device_id(&new.key.public());
    let consent = |by: &Station, to: &Station| {
        hex(&by.key.sign(&key_rotation_bytes(&old_id, &to.key.public())))
    };
    let rotate = |signer: &Station, to: &Station, sig: String, n: u64| {
        let body = serde_json::to_vec(&RotateKeyRequest {
            old_device_id: old_id.clone(),
            public_key: to.key.public().to_hex(),
            old_signature: sig,
        })
        .unwrap();
        signer.request("POST", "/api/v1/devices/rotate", body, &nonce(n))
    };
    // The new key cannot consent for the old one.
    let (status, body) = send(&f.app, rotate(&new, &new, consent(&new, &new), 1)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_old_signature"))
    );
    // Signed by another key than the new one: no proof of possession.
    let (status, body) = send(&f.app, rotate(&old, &new, consent(&old, &new), 2)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_device_id"))
    );
    let (status, body) = send(&f.app, rotate(&new, &new, consent(&old, &new), 3)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["device_id"], new_id);
    // A retry (the answer was lost) gets the same answer.
    let (status, body) = send(&f.app, rotate(&new, &new, consent(&old, &new), 4)).await;
    assert_eq!(
        (status, body["device_id"].as_str()),
        (StatusCode::OK, Some(new_id.as_str()))
    );
    // The binding carried over, enrolment time included; the old key is refused.
    let (o, n) = (
        f.store.device(&old_id).unwrap().unwrap(),
        f.store.device(&new_id).unwrap().unwrap(),
    );
    assert!(o.revoked && !n.revoked);
    assert_eq!(
        (&n.venue_id, &n.checkpoint_id, &n.inspector, n.enrolled_at),
        (&o.venue_id, &o.checkpoint_id, &o.inspector, o.enrolled_at)
    );
    let pull = "/api/v1/sync/pull?trust_version=0&revocations_since=0";
    let (status, _) = send(&f.app, old.request("GET", pull, vec![], &nonce(5))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = send(&f.app, new.request("GET", pull, vec![], &nonce(6))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let log: Vec<String> = f
        .store
        .device_events(&old_id)
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.action, e.actor))
        .collect();
    assert_eq!(log.last().unwrap(), &format!("revoked rotated to {new_id}"));
    // The old key, now revoked, hands nothing to a third key; a key already enrolled is no
    // successor.
    let third = Station::new(52);
    let (status, body) = send(&f.app, rotate(&third, &third, consent(&old, &third), 7)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("device_revoked"))
    );
    let taken = enrolled(&f, 53).await;
    let (status, body) = send(&f.app, rotate(&taken, &taken, consent(&old, &taken), 8)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("key_in_use"))
    );
}
