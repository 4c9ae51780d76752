//! Statistics and alerts through the router: a station's check-ins and a refusal's alert reach
//! the venue's statistics (its administrator and the region's authority read them, a reviewer may
//! not) and the authority's alerts view (filtered, counted for the badge, handled with a note);
//! bad input is refused with its field; another region sees nothing.

use super::*;
use crate::store::testutil::alert;
use crate::tests::people::{person, sign_in, with_token, with_token_body};
use crate::tests::upload::fresh;
use venuecode_core::accounts::Role;

fn stamp(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn statistics_and_alerts_reach_who_may_read_them() {
    let f = fixture(false);
    let s = enrolled(&f, 41).await;
    let mut refused = fresh(3, VENUE);
    refused.verdict = "refuse".into();
    refused.reasons = vec!["fever".into()];
    refused.fever = true;
    // Person 1 comes in and leaves half a minute later (times set, not read twice from the
    // clock: on a loaded machine two reads a millisecond apart put the exit first).
    let entry = fresh(1, VENUE);
    let mut exit = fresh(2, VENUE);
    exit.direction = "exit".into();
    exit.subject = entry.subject.clone();
    exit.at = entry.at + Duration::seconds(30);
    let mut fever_alert = alert(9, &refused);
    if let Record::Alert(a) = &mut fever_alert {
        a.reasons = vec!["fever".into()];
    }
    let records = vec![
        Record::CheckIn(entry),
        Record::CheckIn(exit),
        Record::CheckIn(fresh(4, VENUE)),
        Record::CheckIn(refused),
        fever_alert,
    ];
    let (status, body) = send(
        &f.app,
        s.request("POST", "/api/v1/sync/upload", batch(records), &nonce(410)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    person(&f, "li.admin", Role::VenueAdmin, &[VENUE]).await;
    person(&f, "wang.cdc", Role::Authority, &["659002"]).await;
    person(&f, "far.cdc", Role::Authority, &["440000"]).await;
    person(&f, "zhao.review", Role::Reviewer, &["659002"]).await;
    let admin = sign_in(&f, "li.admin").await;
    let cdc = sign_in(&f, "wang.cdc").await;

    let url = format!(
        "/api/v1/venues/{VENUE}/statistics?from={}&to={}&tz_offset_minutes=480",
        stamp(Utc::now() - Duration::days(1)),
        stamp(Utc::now() + Duration::minutes(1))
    );
    for token in [&admin, &cdc] {
        let (status, st) = send(&f.app, with_token("GET", &url, token)).await;
        assert_eq!(status, StatusCode::OK, "{st}");
        let totals = &st["statistics"]["totals"];
        assert_eq!(
            (
                &totals["entries"],
                &totals["exits"],
                &totals["refused"],
                &totals["fevers"]
            ),
            (
                &serde_json::json!(2),
                &serde_json::json!(1),
                &serde_json::json!(1),
                &serde_json::json!(1)
            ),
            "{st}"
        );
        assert_eq!(st["people"], 3, "{st}");
        // Person 4 is inside (no exit); person 1 left; the refused one never came in.
        assert_eq!(st["present_now"], 1, "{st}");
        assert_eq!(st["statistics"]["by_hour"].as_array().unwrap().len(), 24);
        // Stored by device id, shown by the device's inspector.
        let inspectors: Vec<&str> = st["statistics"]["by_inspector"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["key"].as_str().unwrap())
            .collect();
        assert_eq!(inspectors, ["王五"], "{st}");
        assert!(st["doors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["checkpoint_id"] == "main"));
    }
    let reviewer = sign_in(&f, "zhao.review").await;
    let (status, _) = send(&f.app, with_token("GET", &url, &reviewer)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let far = sign_in(&f, "far.cdc").await;
    let (status, _) = send(&f.app, with_token("GET", &url, &far)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for (bad, code) in [
        (
            format!(
                "/api/v1/venues/{VENUE}/statistics?from={}&to={}",
                stamp(Utc::now()),
                stamp(Utc::now() - Duration::days(1))
            ),
            "bad_range",
        ),
        (
            format!("/api/v1/venues/{VENUE}/statistics?from=yesterday"),
            "bad_query",
        ),
    ] {
        let (status, b) = send(&f.app, with_token("GET", &bad, &admin)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(b["error"], code, "{b}");
    }

    // The alerts view, the badge, handling.
    let (status, page) = send(&f.app, with_token("GET", "/api/v1/alerts", &cdc)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let alerts = page["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{page}");
    assert_eq!(alerts[0]["reasons"], serde_json::json!(["fever"]));
    assert_eq!(alerts[0]["kind"], "refusal");
    assert!(page["next"].is_null());
    let (_, count) = send(&f.app, with_token("GET", "/api/v1/alerts/count", &cdc)).await;
    assert_eq!(count["unhandled"], 1, "{count}");
    let (_, none) = send(
        &f.app,
        with_token("GET", "/api/v1/alerts?reason=red_code", &cdc),
    )
    .await;
    assert!(none["alerts"].as_array().unwrap().is_empty(), "{none}");
    let (_, elsewhere) = send(&f.app, with_token("GET", "/api/v1/alerts", &far)).await;
    assert!(
        elsewhere["alerts"].as_array().unwrap().is_empty(),
        "{elsewhere}"
    );
    for (bad, code) in [
        ("/api/v1/alerts?reason=purple", "bad_reason"),
        ("/api/v1/alerts?limit=0", "bad_limit"),
        ("/api/v1/alerts?region=65x", "bad_region"),
        ("/api/v1/alerts?before_venue=v", "bad_cursor"),
    ] {
        let (status, b) = send(&f.app, with_token("GET", bad, &cdc)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {b}");
        assert_eq!(b["error"], code, "{b}");
    }
    let handled = format!(
        "/api/v1/alerts/{VENUE}/{}/handled",
        alerts[0]["alert_id"].as_str().unwrap()
    );
    let note = |n: &str| serde_json::json!({ "note": n }).to_string().into_bytes();
    let (status, b) = send(&f.app, with_token_body("POST", &handled, &cdc, note(""))).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_note"))
    );
    let (status, _) = send(
        &f.app,
        with_token_body("POST", &handled, &far, note("不是我的")),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, b) = send(
        &f.app,
        with_token_body("POST", &handled, &cdc, note("已电话通知，居家隔离")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert!(b["handled_by"].as_str().unwrap().contains("wang.cdc"));
    let (_, count) = send(&f.app, with_token("GET", "/api/v1/alerts/count", &cdc)).await;
    assert_eq!(count["unhandled"], 0, "{count}");
    let (_, page) = send(&f.app, with_token("GET", "/api/v1/alerts", &cdc)).await;
    assert_eq!(page["alerts"][0]["note"], "已电话通知，居家隔离");
    let (_, open) = send(
        &f.app,
        with_token("GET", "/api/v1/alerts?unhandled=true", &cdc),
    )
    .await;
    assert!(open["alerts"].as_array().unwrap().is_empty());
}

/// The raw answer of a request (exports are files, not JSON).
async fn send_raw(
    app: &axum::Router,
    req: axum::http::Request<axum::body::Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let res = app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, bytes)
}

#[tokio::test]
async fn check_ins_and_alerts_export_to_excel_and_csv() {
    use calamine::{Data, Reader, Xlsx};
    let f = fixture(false);
    let s = enrolled(&f, 42).await;
    let passed = fresh(1, VENUE);
    let mut refused = fresh(3, VENUE);
    // After the pass, whatever the clock did between the two reads (rows come out by time).
    refused.at = passed.at + Duration::seconds(1);
    refused.verdict = "refuse".into();
    refused.reasons = vec!["fever".into()];
    refused.fever = true;
    refused.celsius = Some(38.4);
    let mut fever_alert = alert(9, &refused);
    if let Record::Alert(a) = &mut fever_alert {
        a.reasons = vec!["fever".into()];
    }
    let records = vec![
        Record::CheckIn(passed),
        Record::CheckIn(refused.clone()),
        fever_alert,
    ];
    let (status, body) = send(
        &f.app,
        s.request("POST", "/api/v1/sync/upload", batch(records), &nonce(420)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    person(&f, "li.admin", Role::VenueAdmin, &[VENUE]).await;
    person(&f, "wang.cdc", Role::Authority, &["659002"]).await;
    person(&f, "zhao.review", Role::Reviewer, &["659002"]).await;
    let admin = sign_in(&f, "li.admin").await;
    let url = |format: &str| {
        format!(
            "/api/v1/venues/{VENUE}/check-ins/export?from={}&to={}&format={format}",
            stamp(Utc::now() - Duration::days(1)),
            stamp(Utc::now() + Duration::minutes(1))
        )
    };
    let (status, headers, bytes) = send_raw(&f.app, with_token("GET", &url("xlsx"), &admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[axum::http::header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .ends_with(".xlsx\""));
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.sheet_names()[0].clone();
    assert_eq!(sheet, "阿拉尔市人民医院");
    let range = book.worksheet_range(&sheet).unwrap();
    assert_eq!(range.height(), 3, "a header and two check-ins");
    assert_eq!(range.get((0, 0)), Some(&Data::String("时间 Time".into())));
    assert!(matches!(range.get((1, 0)), Some(Data::DateTime(_))));
    assert_eq!(range.get((1, 1)), Some(&Data::String("正门".into())));
    assert_eq!(range.get((2, 3)), Some(&Data::String("refuse".into())));
    assert_eq!(range.get((2, 6)), Some(&Data::Float(38.4)));
    assert_eq!(range.get((1, 7)), Some(&Data::String("张*".into())));
    // The store keeps the inspector as the device's id; the export names them.
    assert_eq!(range.get((1, 14)), Some(&Data::String("王五".into())));
    let stored = f
        .store
        .venue_check_ins(VENUE, Utc::now() - Duration::days(1), Utc::now(), 10)
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored
        .iter()
        .all(|r| r.inspector == venuecode_core::sync::device_id(&s.key.public())));
    // CSV too; a reviewer may not; a bad format is refused.
    let (status, _, csv) = send_raw(&f.app, with_token("GET", &url("csv"), &admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 3);
    let reviewer = sign_in(&f, "zhao.review").await;
    let (status, _, _) = send_raw(&f.app, with_token("GET", &url("xlsx"), &reviewer)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, b) = send(&f.app, with_token("GET", &url("pdf"), &admin)).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_format"))
    );
    // The authority's alerts.
    let cdc = sign_in(&f, "wang.cdc").await;
    let (status, _, csv) = send_raw(
        &f.app,
        with_token("GET", "/api/v1/alerts/export?format=csv&reason=fever", &cdc),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[1].contains("阿拉尔市人民医院") && lines[1].contains("fever"),
        "{text}"
    );
    let (status, _, _) = send_raw(&f.app, with_token("GET", "/api/v1/alerts/export", &admin)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
