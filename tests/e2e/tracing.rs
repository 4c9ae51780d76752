//! Statistics, alerts and tracing in the real window. The station at the market checks in 张三
//! and 王芳 and refuses 李四's red code (the station's own statistics show it, offline); the
//! health authority signs in: the 流调 badge and the alerts view show the refusal; an alert raised
//! by a second station while the view is open appears within seconds (measured, printed); the
//! authority handles an alert with a note, traces 张三 from his code to his visit and the people
//! co-present, and finds that query in the audit log; the venue's administrator reads the
//! market's statistics with their charts. Screenshots in both languages.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use chrono::Utc;
use venuecode_app::store::Store;
use venuecode_core::gate::{PresenceEffect, Verdict};
use venuecode_tests::harness::{serial, sqlite_count, Env};
use venuecode_tests::procs::wait_for;
use venuecode_tests::station::{draft, enrol, fast_sync, provisioned_station};
use venuecode_tests::webdriver::Session;

const WAIT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "venuecode-demo-2026";
const MARKET: &str = "幸福路农贸市场";

fn demo_code(env: &Env, name: &str, id: &str, color: &str) -> Result<String> {
    let res: serde_json::Value = env
        .server
        .http()?
        .post(format!("{}/api/v1/demo/codes", env.server.url))
        .json(&serde_json::json!({
            "name": name, "phone": "13900139000", "id_number": id, "color": color,
            "nat": {"result": "negative", "hours_ago": 30}
        }))
        .send()?
        .error_for_status()?
        .json()?;
    Ok(res["code"].as_str().context("code")?.to_string())
}

/// A resident's phone checks in with `code` at the door `poster` names (扫场所码).
fn phone_check_in(env: &Env, poster: &str, code: &str) -> Result<()> {
    let r = env
        .server
        .http()?
        .post(format!("{}/api/v1/self-check-in", env.server.url))
        .json(&serde_json::json!({ "poster": poster, "codes": [code] }))
        .send()?;
    ensure!(r.status().is_success(), "{}", r.text()?);
    Ok(())
}

fn click_when(s: &Session, css: &str) -> Result<()> {
    wait_for(css, WAIT, || s.find(css).ok().map(|_| ()))?;
    s.click(css)
}

fn sign_in(s: &Session, who: &str) -> Result<()> {
    click_when(s, "#role-person")?;
    s.send_keys("#login-username", who)?;
    s.send_keys("#login-password", PASSWORD)?;
    s.click("#login-submit")?;
    wait_for("signed in", WAIT, || s.find("#sign-out").ok().map(|_| ()))
}

fn scan(s: &Session, code: &str, word: &str) -> Result<()> {
    s.key_burst(code, 3)?;
    s.wait_text("#verdict-word", word, WAIT)?;
    s.click("#verdict-screen")
}

fn trace_zhang(s: &Session, code: &str, case: &str) -> Result<()> {
    click_when(s, "#tab-trace")?;
    click_when(s, "#trace-by-code")?;
    s.send_keys("#trace-who", code)?;
    s.send_keys("#trace-case", case)?;
    s.send_keys("#trace-reason", "确诊病例行程排查")?;
    s.click("#trace-run")?;
    s.wait_text("#trace-visit-count", "1", WAIT)?;
    s.wait_contains("#trace-visit-0", MARKET, WAIT)?;
    wait_for("contacts", WAIT, || {
        s.text("#trace-contact-count")
            .ok()?
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
    })?;
    s.wait_contains("#trace-contacts", "王*", WAIT)
}

#[test]
fn statistics_alerts_tracing_and_the_audit() -> Result<()> {
    let _serial = serial();
    let env = Env::start()?;
    std::fs::create_dir_all(env.data_dir.join("trust"))?;
    for f in ["root.pub", "ca.pem"] {
        std::fs::copy(env.server.keys.join(f), env.data_dir.join("trust").join(f))?;
    }
    let s = env.open_app()?;
    s.click("#nav-settings")?;
    s.send_keys("#enrol-inspector", "王五")?;
    s.send_keys("#enrol-code", "100003")?;
    s.click("#enrol-submit")?;
    s.wait_contains("#enrol-result", MARKET, WAIT)?;
    s.click("#nav-station")?;
    s.wait_text("#bound-venue", MARKET, WAIT)?;

    // 张三 and 王芳 in; 李四's red code refused (an alert).
    let zhang = env.server.green_code()?;
    scan(&s, &zhang, "通行")?;
    scan(
        &s,
        &demo_code(&env, "王芳", "110105195001010020", "green")?,
        "通行",
    )?;
    scan(
        &s,
        &demo_code(&env, "李四", "440524198001010013", "red")?,
        "禁止",
    )?;
    // A resident checks in with their own phone at the market's north-door poster (扫场所码):
    // the station's list shows it, badged, after the next sync round.
    let va = venuecode_keys::VenueAuthorityKeys::load(&env.server.keys.join("venue-authority"))?;
    let poster = venuecode_core::venue_code::issue(
        &va.key,
        &venuecode_core::venue_code::VenueClaims {
            issuer: va.name.clone(),
            issued_at: Utc::now(),
            venue_id: "demo-venue-0003".into(),
            checkpoint_id: "main".into(),
            direction: venuecode_core::gate::Direction::Entry,
            venue_name: MARKET.into(),
            region: "659002".into(),
            category: venuecode_core::venue::VenueCategory::Business,
        },
        &env.server.url,
    );
    phone_check_in(
        &env,
        &poster,
        &demo_code(&env, "赵六", "110105198001010032", "green")?,
    )?;
    s.click("#sync-now")?;
    s.wait_contains("#today-list", "扫场所码", WAIT)?;
    s.wait_contains("#today-list", "赵*", WAIT)?;
    env.check_fit(&s, "station-zh-phone-check-in")?;
    // The station's own statistics, from its store (the phone's check-in among them).
    s.click("#station-stats-open")?;
    s.wait_text("#stats-entries", "3", WAIT)?;
    s.wait_text("#stats-refused", "1", WAIT)?;
    s.execute("document.getElementById('station-stats').scrollIntoView()")?;
    env.check_fit(&s, "stats-zh-station")?;
    let db = &env.server.database;
    wait_for("the check-ins and the alert on the server", WAIT, || {
        (sqlite_count(db, "SELECT count(*) FROM check_ins").ok()? == 4
            && sqlite_count(db, "SELECT count(*) FROM alerts").ok()? == 1)
            .then_some(())
    })?;

    // The health authority.
    click_when(&s, "#switch-role")?;
    sign_in(&s, "demo.authority")?;
    s.wait_text("#alert-badge", "1", WAIT)?;
    s.wait_contains("#alert-0-reasons", "红码", WAIT)?;
    s.wait_contains("#alert-0", MARKET, WAIT)?;
    env.check_fit(&s, "tracing-zh-alerts")?;

    // A second station (the hospital) refuses someone with a fever while the view is open.
    let other = provisioned_station(&env.scratch().join("hospital"), &env.server.keys)?;
    let mut store = Store::open(&other)?;
    enrol(&mut store, &other, &env.server.url, "100001")?;
    let hospital = store.binding()?.context("bound")?.venue_id;
    let mut fever = draft(&hospital, Utc::now(), 1);
    fever.verdict = Verdict::Refuse;
    fever.reasons = vec!["fever"];
    fever.fever = true;
    fever.alert = true;
    store.record(&fever, PresenceEffect::Keep)?;
    let sync = fast_sync(&other, &env.server.url, 50);
    wait_for("the second alert on the server", WAIT, || {
        (sqlite_count(db, "SELECT count(*) FROM alerts").ok()? == 2).then_some(())
    })?;
    let arrived = Instant::now();
    s.wait_contains("#alert-0-reasons", "发热", WAIT)?;
    let shown = arrived.elapsed();
    println!(
        "alert latency: on screen {:.1} s after it reached the server (the view polls every 5 s)",
        shown.as_secs_f64()
    );
    ensure!(shown < Duration::from_secs(8), "took {shown:?}");
    sync.stop();
    s.wait_text("#alert-badge", "2", WAIT)?;

    // Handle the red-code alert (now the second) with a note; the badge counts one.
    s.click("#alert-1-save")?;
    s.find(".problem")?;
    s.send_keys("#alert-1-note", "已通知社区，居家隔离")?;
    s.click("#alert-1-save")?;
    s.wait_contains("#alert-1-handled", "已通知社区", WAIT)?;
    s.wait_text("#alert-badge", "1", WAIT)?;
    env.check_fit(&s, "tracing-zh-alert-handled")?;

    // A resident's own phone at the market's poster with a red code: refused, and the alert is
    // in this view within a poll.
    phone_check_in(
        &env,
        &poster,
        &demo_code(&env, "王红", "110105198505050046", "red")?,
    )?;
    s.wait_contains("#alert-0-reasons", "红码", WAIT)?;
    s.wait_contains("#alert-0", "北门", WAIT)?;
    s.wait_text("#alert-badge", "2", WAIT)?;
    env.check_fit(&s, "tracing-zh-phone-alert")?;

    // Trace 张三 from his code: his visit, the people there with him.
    trace_zhang(&s, &zhang, "2026-新-0012")?;
    env.check_fit(&s, "tracing-zh-trace")?;
    click_when(&s, "#tab-audit")?;
    s.wait_contains("#audit-0 .audit-case", "2026-新-0012", WAIT)?;
    env.check_fit(&s, "tracing-zh-audit")?;

    // English.
    s.click("#nav-settings")?;
    s.click("#lang-en")?;
    s.click("#nav-tracing")?;
    s.wait_contains("#alert-0-kind", "Refused entry", WAIT)?;
    env.check_fit(&s, "tracing-en-alerts")?;
    trace_zhang(&s, &zhang, "2026-XJ-0013")?;
    env.check_fit(&s, "tracing-en-trace")?;
    click_when(&s, "#tab-audit")?;
    s.wait_contains("#audit-0 .audit-case", "2026-XJ-0013", WAIT)?;
    env.check_fit(&s, "tracing-en-audit")?;

    // The market's administrator reads its statistics.
    s.click("#sign-out")?;
    sign_in(&s, "demo.admin")?;
    click_when(&s, "#nav-venues")?;
    // The list loads after the page: wait for the market to be in it.
    let i = wait_for("the market in the list", WAIT, || {
        (0..10).find(|i| {
            s.text(&format!("#venue-{i} .venue-name"))
                .is_ok_and(|t| t.contains(MARKET))
        })
    })?;
    click_when(&s, &format!("#venue-{i}-open"))?;
    click_when(&s, "#venue-statistics")?;
    // Two at the station, one by a resident's own phone (its own line among the inspectors);
    // refused: one at the station, one phone with a red code.
    s.wait_text("#stats-entries", "3", WAIT)?;
    s.wait_text("#stats-refused", "2", WAIT)?;
    s.wait_text("#stats-people", "5", WAIT)?;
    s.wait_contains("#stats-inspector-table", "own phone", WAIT)?;
    s.find("#stats-hour-chart .bar")?;
    env.check_fit(&s, "stats-en-venue")?;
    s.click("#stats-range-30")?;
    s.wait_contains("#stats-range", "—", WAIT)?;
    s.click("#nav-settings")?;
    s.click("#lang-zh")?;
    click_when(&s, "#nav-venues")?;
    click_when(&s, &format!("#venue-{i}-open"))?;
    click_when(&s, "#venue-statistics")?;
    s.wait_text("#stats-entries", "3", WAIT)?;
    s.wait_contains("#stats-inspector-table", "扫场所码", WAIT)?;
    // The server keeps the station's check-ins under its device id; the screen names the
    // inspector bound to it.
    s.wait_contains("#stats-inspector-table", "王五", WAIT)?;
    env.check_fit(&s, "stats-zh-venue")?;
    // The capacity (限流): checked as it is typed, then set; the gates get it at their next sync.
    s.clear("#capacity-input")?;
    s.send_keys("#capacity-input", "0")?;
    s.click("#capacity-save")?;
    s.wait_contains("#capacity-error", "1 至 1000000", WAIT)?;
    env.check_fit(&s, "stats-zh-capacity-invalid")?;
    s.clear("#capacity-input")?;
    s.send_keys("#capacity-input", "300")?;
    s.click("#capacity-save")?;
    s.wait_contains("#occupancy-capacity", "300", WAIT)?;
    env.check_fit(&s, "stats-zh-capacity")?;
    s.quit()?;

    // Codes issued, scanned, checked in by phone, refused, traced: none of these people's
    // names, ID numbers or phone in the server's or the app's log.
    let id = |text| crate::at_rest::Secret { text, fragment: 5 };
    let name = |text| crate::at_rest::Secret { text, fragment: 2 };
    crate::at_rest::logs_hold_nothing(
        &env.logs(),
        &[
            id("11010519491231002X"),
            id("110105195001010020"),
            id("440524198001010013"),
            id("110105198001010032"),
            id("110105198505050046"),
            id("13900139000"),
            name("张三"),
            name("王芳"),
            name("李四"),
            name("赵六"),
            name("王红"),
        ],
        "tracing query answered",
    )
}
