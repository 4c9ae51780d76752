//! One inspector, several venues, in the real window: the station enrols at the hospital, then
//! with the market's declaration code (the hospital is kept, not replaced); Settings lists both
//! with the active one marked; on the 检测 screen the inspector switches to the hospital with one
//! tap, checks a person in there, switches back and checks a person in at the market — each
//! check-in reaches the server as its own venue's, under that venue's device key. zh-CN, then the
//! list in English.

use std::time::Duration;

use anyhow::{ensure, Result};
use venuecode_tests::harness::{serial, sqlite_count, Env};
use venuecode_tests::procs::wait_for;
use venuecode_tests::webdriver::Session;

const WAIT: Duration = Duration::from_secs(30);
const HOSPITAL: &str = "阿拉尔市人民医院";
const MARKET: &str = "幸福路农贸市场";

fn enrol(s: &Session, code: &str, venue: &str) -> Result<()> {
    s.clear("#enrol-code")?;
    s.send_keys("#enrol-code", code)?;
    s.click("#enrol-submit")?;
    s.wait_contains("#enrol-result", venue, WAIT)
}

/// Check-ins on the server at `venue` by distinct devices.
fn on_server(env: &Env, venue: &str) -> Result<(i64, i64)> {
    let db = &env.server.database;
    Ok((
        sqlite_count(
            db,
            &format!("SELECT count(*) FROM check_ins WHERE venue_id = '{venue}'"),
        )?,
        sqlite_count(
            db,
            &format!("SELECT count(DISTINCT device_id) FROM check_ins WHERE venue_id = '{venue}'"),
        )?,
    ))
}

fn check_in(env: &Env, s: &Session) -> Result<()> {
    s.key_burst(&env.server.green_code()?, 3)?;
    s.wait_text("#verdict-word", "通行", WAIT)?;
    s.click("#verdict-screen")
}

#[test]
fn one_inspector_switches_between_two_venues() -> Result<()> {
    let _serial = serial();
    let env = Env::start()?;
    std::fs::create_dir_all(env.data_dir.join("trust"))?;
    for f in ["root.pub", "ca.pem"] {
        std::fs::copy(env.server.keys.join(f), env.data_dir.join("trust").join(f))?;
    }
    let s = env.open_app()?;
    s.click("#nav-settings")?;
    s.send_keys("#enrol-inspector", "王五")?;
    enrol(&s, "100001", HOSPITAL)?;
    enrol(&s, "100003", MARKET)?;
    // Both venues are listed, the market active, the hospital one tap away.
    s.wait_text("#sv-0-name", MARKET, WAIT)?;
    s.wait_text("#sv-0-active", "当前", WAIT)?;
    s.wait_text("#sv-1-name", HOSPITAL, WAIT)?;
    s.find("#sv-1-switch")?;
    s.execute("document.getElementById('station-venues').scrollIntoView()")?;
    env.check_fit(&s, "settings-zh-two-venues")?;

    s.click("#nav-station")?;
    s.wait_text("#bound-venue", MARKET, WAIT)?;
    s.wait_text("#bound-switch-0", HOSPITAL, WAIT)?;
    env.check_fit(&s, "station-zh-venue-switch")?;
    s.click("#bound-switch-0")?;
    s.wait_text("#bound-venue", HOSPITAL, WAIT)?;
    s.wait_text("#bound-switch-0", MARKET, WAIT)?;
    check_in(&env, &s)?;
    wait_for("the hospital's check-in on the server", WAIT, || {
        (on_server(&env, "demo-venue-0001").ok()? == (1, 1)).then_some(())
    })?;
    s.click("#bound-switch-0")?;
    s.wait_text("#bound-venue", MARKET, WAIT)?;
    check_in(&env, &s)?;
    wait_for("the market's check-in on the server", WAIT, || {
        (on_server(&env, "demo-venue-0003").ok()? == (1, 1)).then_some(())
    })?;
    let devices = sqlite_count(
        &env.server.database,
        "SELECT count(DISTINCT device_id) FROM check_ins",
    )?;
    ensure!(
        devices == 2,
        "each venue's check-in under its own key: {devices}"
    );

    // The list in English.
    s.click("#nav-settings")?;
    s.click("#lang-en")?;
    s.wait_text("#sv-0-active", "Active", WAIT)?;
    s.wait_text("#sv-1-switch", "Switch here", WAIT)?;
    s.execute("document.getElementById('station-venues').scrollIntoView()")?;
    env.check_fit(&s, "settings-en-two-venues")?;
    s.click("#nav-station")?;
    s.wait_text("#bound-switch-0", HOSPITAL, WAIT)?;
    env.check_fit(&s, "station-en-venue-switch")?;
    s.quit()
}
