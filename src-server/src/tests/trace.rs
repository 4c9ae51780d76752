//! Tracing through the router: the authority traces a person from their subject over a window —
//! their visit, the person who overlapped, not the one who left long before; an authority of
//! another region sees nothing there; bad input is refused with its field; every query is in the
//! audit (which the database keeps append-only); other roles are refused.

use super::upload::fresh;
use super::*;
use crate::tests::people::{person, sign_in, with_token, with_token_body};
use venuecode_core::accounts::Role;

/// People registered by hand (station-local pseudonyms).
const CASE: &str = "local:0000000000000000000c0de1";
const OVERLAPPING: &str = "local:0000000000000000000c0de2";
const GONE: &str = "local:0000000000000000000c0de3";
const ALONGSIDE: &str = "local:0000000000000000000c0de4";

/// A check-in by hand at VENUE: `subject` passing `direction` `secs_ago` seconds ago (a station
/// sends nothing from before its enrolment, so the story plays out in minutes, with no margin).
fn passing(n: u64, subject: &str, direction: &str, secs_ago: i64) -> Record {
    let mut c = fresh(n, VENUE);
    c.subject = Some(subject.into());
    c.direction = direction.into();
    c.at = Utc::now() - Duration::seconds(secs_ago);
    Record::CheckIn(c)
}

fn query(case: &str, from_h: i64) -> Vec<u8> {
    serde_json::json!({
        "subject": CASE,
        "from": Utc::now() - Duration::hours(from_h),
        "to": Utc::now(),
        "margin_minutes": 0,
        "case_number": case,
        "reason": "确诊病例流调"
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn an_authority_traces_a_person_and_every_query_is_audited() {
    let f = fixture(false);
    let s = enrolled(&f, 31).await;
    // The case in for a minute; one person overlapping them by 20 s; one who left before.
    let records = vec![
        passing(1, CASE, "entry", 240),
        passing(2, CASE, "exit", 180),
        passing(3, OVERLAPPING, "entry", 200),
        passing(4, OVERLAPPING, "exit", 150),
        passing(5, GONE, "entry", 290),
        passing(6, GONE, "exit", 250),
        // In with the case for 50 s: listed before the one who overlapped for 20 s.
        passing(7, ALONGSIDE, "entry", 235),
        passing(8, ALONGSIDE, "exit", 185),
    ];
    let (status, body) = send(
        &f.app,
        s.request("POST", "/api/v1/sync/upload", batch(records), &nonce(310)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    person(&f, "wang.cdc", Role::Authority, &["659002"]).await;
    person(&f, "far.cdc", Role::Authority, &["440000"]).await;
    person(&f, "li.admin", Role::VenueAdmin, &[VENUE]).await;
    let cdc = sign_in(&f, "wang.cdc").await;
    let post = |token: &str, body: Vec<u8>| with_token_body("POST", "/api/v1/trace", token, body);

    let (status, t) = send(&f.app, post(&cdc, query("2026-粤-0042", 6))).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let visits = t["visits"].as_array().unwrap();
    assert_eq!(visits.len(), 1, "{t}");
    assert_eq!(visits[0]["venue_id"], VENUE);
    assert_eq!(visits[0]["ended"], "exit");
    assert_eq!(visits[0]["manual"], true);
    let contacts: Vec<&str> = t["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        contacts,
        [ALONGSIDE, OVERLAPPING],
        "longest together first: {t}"
    );
    assert_eq!(t["contacts"][1]["overlap_minutes"], 0, "20 seconds");
    assert_eq!(t["contacts"][1]["name_masked"], "张*");
    assert_eq!(t["by_place"][0]["contacts"], 2);
    assert_eq!(t["contacts_total"], 2);

    // Asked for one: the closest contact is listed, both are counted.
    let mut one: serde_json::Value = serde_json::from_slice(&query("2026-粤-0042", 6)).unwrap();
    one["limit"] = 1.into();
    let (status, t) = send(&f.app, post(&cdc, one.to_string().into_bytes())).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["contacts"].as_array().unwrap().len(), 1, "{t}");
    assert_eq!(t["contacts"][0]["subject"], ALONGSIDE);
    assert_eq!(
        (
            t["contacts_total"].as_i64(),
            t["by_place"][0]["contacts"].as_i64()
        ),
        (Some(2), Some(2))
    );

    // Another region's authority: the venue is not theirs, so nothing from it.
    let far = sign_in(&f, "far.cdc").await;
    let (status, t) = send(&f.app, post(&far, query("2026-琼-0001", 6))).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert!(t["visits"].as_array().unwrap().is_empty(), "{t}");
    assert!(t["contacts"].as_array().unwrap().is_empty(), "{t}");

    // Bad input is refused with its field, and not audited.
    for (body, code) in [
        (query("", 6), "bad_case_number"),
        (query("C-1", 24 * 31), "bad_window"),
        (
            serde_json::json!({"subject": "", "from": Utc::now() - Duration::hours(1),
                "to": Utc::now(), "case_number": "C", "reason": "检查一下"})
            .to_string()
            .into_bytes(),
            "bad_subject",
        ),
        (
            serde_json::json!({"subject": "x", "from": Utc::now() - Duration::hours(1),
                "to": Utc::now(), "case_number": "C", "reason": "x"})
            .to_string()
            .into_bytes(),
            "bad_reason",
        ),
        (
            {
                let mut q: serde_json::Value = serde_json::from_slice(&query("C-1", 6)).unwrap();
                q["limit"] = 0.into();
                q.to_string().into_bytes()
            },
            "bad_limit",
        ),
    ] {
        let (status, b) = send(&f.app, post(&cdc, body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(b["error"], code, "{b}");
    }

    // Both answered queries are in the audit, newest first.
    let (status, log) = send(&f.app, with_token("GET", "/api/v1/trace/audit", &cdc)).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let rows = log.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{log}");
    assert_eq!(rows[0]["case_number"], "2026-琼-0001");
    assert_eq!(rows[2]["case_number"], "2026-粤-0042");
    assert_eq!(rows[2]["subject"], CASE);
    // The audit counts everyone met, also when fewer were listed.
    for row in &rows[1..] {
        assert_eq!(
            (row["visits"].as_i64(), row["contacts"].as_i64()),
            (Some(1), Some(2))
        );
    }
    assert!(rows[2]["actor"].as_str().unwrap().contains("wang.cdc"));

    // The audit cannot be changed or deleted.
    let db = rusqlite::Connection::open(f._dir.path().join("s.db")).unwrap();
    assert!(db
        .execute("UPDATE trace_audit SET reason = 'x'", [])
        .is_err());
    assert!(db.execute("DELETE FROM trace_audit", []).is_err());

    // Other roles may not trace.
    let admin = sign_in(&f, "li.admin").await;
    let (status, _) = send(&f.app, post(&admin, query("C-2", 6))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(&f.app, with_token("GET", "/api/v1/trace/audit", &admin)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// The acceptance case: an elder registered by hand (ID number, sealed to the authority) at one
/// door and the same person's health code scanned at the other door are one person to tracing —
/// whether the authority starts from the ID number or from the code.
#[tokio::test]
async fn a_registration_by_hand_and_a_scan_of_the_same_person_are_found_by_one_query() {
    use venuecode_core::health_code::Pseudonym;
    use venuecode_core::idnumber::IdNumber;
    let f = fixture(false);
    let first = enrolled(&f, 51).await;
    let second = enrolled(&f, 52).await;
    let id = IdNumber::parse("11010519491231002X", Utc::now().date_naive()).unwrap();
    // The pull tells stations the key to seal to.
    let (status, pulled) = send(
        &f.app,
        first.request(
            "GET",
            "/api/v1/sync/pull?trust_version=0&revocations_since=0",
            vec![],
            &nonce(510),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{pulled}");
    let seal_key =
        venuecode_core::seal::public_key_from_hex(pulled["seal_key"].as_str().unwrap()).unwrap();
    assert_eq!(seal_key, venuecode_core::seal::public_key(&SEAL_SECRET));
    // Station one: by hand, an hour's stay ending four minutes ago.
    let mut by_hand = fresh(1, VENUE);
    by_hand.id_masked = Some(id.masked());
    by_hand.at = Utc::now() - Duration::minutes(5);
    by_hand.sealed_id = Some(
        venuecode_core::seal::seal(&seal_key, [8; 32], VENUE, id.as_str().as_bytes()).unwrap(),
    );
    let (status, body) = send(
        &f.app,
        first.request(
            "POST",
            "/api/v1/sync/upload",
            batch(vec![Record::CheckIn(by_hand)]),
            &nonce(511),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Station two: the same person's own code scanned (the issuer's pseudonym of the same number).
    let subject = Pseudonym::derive(&[3; 32], &id);
    let mut scanned = super::upload::scan_of(2, VENUE, &f.issuer, subject);
    scanned.direction = "exit".into();
    let (status, body) = send(
        &f.app,
        second.request(
            "POST",
            "/api/v1/sync/upload",
            batch(vec![Record::CheckIn(scanned.clone())]),
            &nonce(520),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    person(&f, "wang.cdc", Role::Authority, &["659002"]).await;
    let cdc = sign_in(&f, "wang.cdc").await;
    let window = |who: serde_json::Value| {
        let mut q = serde_json::json!({
            "from": Utc::now() - Duration::hours(2),
            "to": Utc::now(),
            "case_number": "2026-新-0007",
            "reason": "密接者流调"
        });
        q.as_object_mut()
            .unwrap()
            .extend(who.as_object().unwrap().clone());
        q.to_string().into_bytes()
    };
    for who in [
        serde_json::json!({ "id_number": id.as_str() }),
        serde_json::json!({ "code": scanned.code.clone().unwrap() }),
    ] {
        let (status, t) = send(
            &f.app,
            with_token_body("POST", "/api/v1/trace", &cdc, window(who)),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{t}");
        let visits = t["visits"].as_array().unwrap();
        // The entry by hand at one door and the exit scanned at the other: one stay.
        assert_eq!(visits.len(), 1, "{t}");
        assert_eq!(visits[0]["ended"], "exit", "{t}");
        let doors = visits[0]["checkpoints"].as_array().unwrap();
        assert!(!doors.is_empty(), "{t}");
        assert_eq!(t["subjects"][0], subject.to_hex(), "{t}");
    }
    // The audit never holds the number.
    let (_, log) = send(&f.app, with_token("GET", "/api/v1/trace/audit", &cdc)).await;
    assert!(!log.to_string().contains(id.as_str()), "{log}");
    // Bad names are refused with their field.
    for (who, code) in [
        (
            serde_json::json!({ "id_number": "110105194912310021" }),
            "bad_id_number",
        ),
        (serde_json::json!({ "code": "HC1:NOTACODE" }), "bad_code"),
        (
            serde_json::json!({ "id_number": id.as_str(), "subject": "x" }),
            "bad_subject",
        ),
    ] {
        let (status, b) = send(
            &f.app,
            with_token_body("POST", "/api/v1/trace", &cdc, window(who)),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(b["error"], code, "{b}");
    }
}
