//! The acceptance case for tracing people registered by hand, with two real stations and a real
//! server: an elder registered by ID number at the hospital's gate (the station seals the number
//! to the health authority's key from its last pull) and the same person's health code scanned
//! at the market are found by one tracing query — from the ID number or from the code — and the
//! number itself is stored nowhere on the server.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use chrono::Utc;
use serde_json::{json, Value};
use venuecode_app::store::Store;
use venuecode_core::gate::{Direction, PresenceEffect, Verdict};
use venuecode_core::health_code::{self, Color};
use venuecode_ipc::{ManualOutcome, RegisterManual, TemperatureInput};
use venuecode_tests::harness::{tempdir::TempDir, Server};
use venuecode_tests::procs::wait_for;
use venuecode_tests::station::{demo_code, draft, enrol, fast_sync, provisioned_station};

const WAIT: Duration = Duration::from_secs(30);
/// 张三, whose demo codes the harness issues.
const ID: &str = "11010519491231002X";

fn count(server: &Server, sql: &str) -> Result<i64> {
    Ok(rusqlite::Connection::open(&server.database)?.query_row(sql, [], |r| r.get(0))?)
}

#[test]
fn a_registration_by_hand_and_a_scan_elsewhere_are_one_person_to_tracing() -> Result<()> {
    let tmp = TempDir::new("venuecode-tracing-link-")?;
    let server = Server::start(tmp.path())?;

    // The hospital's station: enrolled, one pull (the sealing key arrives signed), then 张三
    // registered by hand with his ID number.
    let hospital_dir = provisioned_station(&tmp.path().join("a"), &server.keys)?;
    let mut hospital = Store::open(&hospital_dir)?;
    enrol(&mut hospital, &hospital_dir, &server.url, "100001")?;
    let sync_a = fast_sync(&hospital_dir, &server.url, 50);
    wait_for("the sealing key from the pull", WAIT, || {
        Store::open(&hospital_dir)
            .ok()?
            .sync_value("seal_key")
            .ok()
            .flatten()
            .filter(|k| k.len() == 64)
    })?;
    let outcome = venuecode_app::station::register_manual(
        &mut hospital,
        &hospital_dir,
        &RegisterManual {
            id_number: ID.into(),
            name: "张三".into(),
            phone: None,
            temperature: TemperatureInput::Normal,
            proxy: None,
        },
        Utc::now(),
    )?;
    ensure!(
        matches!(outcome, ManualOutcome::Registered { .. }),
        "{outcome:?}"
    );

    // The market's station: 张三's own code scanned.
    let market_dir = provisioned_station(&tmp.path().join("b"), &server.keys)?;
    let mut market = Store::open(&market_dir)?;
    enrol(&mut market, &market_dir, &server.url, "100003")?;
    let (code, code_id) = demo_code(&server.keys, Color::Green, 1, 24)?;
    let trust = venuecode_keys::load_trust(&server.keys.join("trust.cose"), None)?;
    let claims = health_code::identify(&code, &trust)?;
    let venue = market.binding()?.context("bound")?.venue_id;
    let mut scan = draft(&venue, Utc::now(), 1);
    scan.manual = false;
    scan.code = Some(code.clone());
    scan.code_id = Some(code_id);
    scan.subject = Some(claims.subject.to_hex());
    scan.color = Some("green");
    scan.verdict = Verdict::Pass;
    scan.direction = Direction::Entry;
    market.record(&scan, PresenceEffect::Keep)?;
    let sync_b = fast_sync(&market_dir, &server.url, 50);
    wait_for("both check-ins on the server", WAIT, || {
        (count(&server, "SELECT count(*) FROM check_ins").ok()? == 2).then_some(())
    })?;
    sync_a.stop();
    sync_b.stop();

    // On the server the registration by hand carries the pseudonym the code carries.
    let linked = count(
        &server,
        &format!(
            "SELECT count(*) FROM check_ins WHERE subject = '{}'",
            claims.subject.to_hex()
        ),
    )?;
    ensure!(linked == 2, "both check-ins under one pseudonym: {linked}");
    let raw = std::fs::read(&server.database)?;
    ensure!(
        !raw.windows(ID.len()).any(|w| w == ID.as_bytes()),
        "the ID number is not in the server's database file"
    );

    // One query, from the number or from the code, finds both places.
    let http = server.http()?;
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", server.url))
        .json(&json!({"username": "demo.authority", "password": "venuecode-demo-2026"}))
        .send()?
        .error_for_status()?
        .json()?;
    let token = login["token"].as_str().context("token")?;
    for who in [json!({ "id_number": ID }), json!({ "code": code })] {
        let mut q = json!({
            "from": Utc::now() - chrono::Duration::hours(1),
            "to": Utc::now() + chrono::Duration::minutes(1),
            "case_number": "2026-新-0001",
            "reason": "确诊病例密接排查"
        });
        q.as_object_mut()
            .context("object")?
            .extend(who.as_object().context("object")?.clone());
        let t: Value = http
            .post(format!("{}/api/v1/trace", server.url))
            .bearer_auth(token)
            .json(&q)
            .send()?
            .error_for_status()?
            .json()?;
        let mut places: Vec<&str> = t["visits"]
            .as_array()
            .context("visits")?
            .iter()
            .filter_map(|v| v["venue_id"].as_str())
            .collect();
        places.sort();
        ensure!(
            places == ["demo-venue-0001", "demo-venue-0003"],
            "{who}: {t}"
        );
        let manual: Vec<bool> = t["visits"]
            .as_array()
            .context("visits")?
            .iter()
            .filter_map(|v| v["manual"].as_bool())
            .collect();
        ensure!(manual.contains(&true) && manual.contains(&false), "{t}");
    }
    Ok(())
}

/// `./x run`'s demo: the first start with `--demo-history` seeds a week at the demo venues, and
/// 张三 (the demo code's person) is found at the hospital and the market with people there.
#[test]
fn the_demo_week_has_zhang_san_to_trace() -> Result<()> {
    use venuecode_tests::harness::{client_for, keygen, start_server};
    use venuecode_tests::procs::free_port;
    let tmp = TempDir::new("venuecode-demo-week-")?;
    let keys = keygen(tmp.path())?;
    let port = free_port()?;
    let db = tmp.path().join("server.db");
    let demo_issuer = keys.join("demo-issuer");
    let _server = start_server(
        port,
        db.to_str().context("path")?,
        &keys,
        &[
            "--demo-history",
            "--demo-issuer",
            demo_issuer.to_str().context("path")?,
        ],
    )?;
    let url = format!("https://127.0.0.1:{port}");
    let http = client_for(&keys)?;
    let login: Value = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"username": "demo.authority", "password": "venuecode-demo-2026"}))
        .send()?
        .error_for_status()?
        .json()?;
    let token = login["token"].as_str().context("token")?;
    let (code, _) = demo_code(&keys, Color::Green, 1, 24)?;
    let t: Value = http
        .post(format!("{url}/api/v1/trace"))
        .bearer_auth(token)
        .json(&json!({
            "code": code,
            "from": Utc::now() - chrono::Duration::days(7),
            "to": Utc::now(),
            "case_number": "DEMO-1",
            "reason": "演示流调查询"
        }))
        .send()?
        .error_for_status()?
        .json()?;
    let places: Vec<&str> = t["visits"]
        .as_array()
        .context("visits")?
        .iter()
        .filter_map(|v| v["venue_name"].as_str())
        .collect();
    ensure!(
        places.contains(&"阿拉尔市人民医院") && places.contains(&"幸福路农贸市场"),
        "{t}"
    );
    ensure!(
        t["contacts"].as_array().context("contacts")?.len() >= 3,
        "{t}"
    );
    let alerts: Value = http
        .get(format!("{url}/api/v1/alerts"))
        .bearer_auth(token)
        .send()?
        .error_for_status()?
        .json()?;
    ensure!(!alerts["alerts"].as_array().context("alerts")?.is_empty());
    Ok(())
}
