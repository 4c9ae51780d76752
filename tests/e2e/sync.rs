//! Enrolment and sync in the real window: the station enrols from Settings with the venue's
//! declaration code, pulls the trust list and the venue's entry, shows itself online; a red code
//! scanned at the gate names the venue's phone number and reaches the server with its alert; a code
//! revoked on the server is refused after "sync now". Then an attacker between station and server
//! relaxes the policy: the answer is refused and the warning shows; while the attacker keeps the
//! station from syncing past the staleness limit, the station refuses every scan.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use venuecode_core::trust::Revocation;
use venuecode_tests::harness::{serial, sqlite_count, station_count, station_db, Env};
use venuecode_tests::procs::wait_for;
use venuecode_tests::tamperproxy::Tamper;

const WAIT: Duration = Duration::from_secs(30);

fn demo_code(env: &Env, name: &str, id: &str, color: &str) -> Result<(String, String)> {
    let res: serde_json::Value = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/demo/codes", env.server.url))
        .json(&serde_json::json!({
            "name": name, "phone": "13900139000", "id_number": id, "color": color,
            "nat": {"result": "negative", "hours_ago": 30}
        }))
        .send()?
        .error_for_status()?
        .json()?;
    Ok((
        res["code"].as_str().context("code")?.to_string(),
        res["code_id"].as_str().context("code_id")?.to_string(),
    ))
}

#[test]
fn enrol_sync_alert_and_revocation() -> Result<()> {
    let _serial = serial();
    let env = Env::start_behind_proxy()?;
    // Provisioning: the station is given the deployment's root key and TLS CA, nothing more.
    std::fs::create_dir_all(env.data_dir.join("trust"))?;
    for f in ["root.pub", "ca.pem"] {
        std::fs::copy(env.server.keys.join(f), env.data_dir.join("trust").join(f))?;
    }
    let s = env.open_app()?;

    // Before enrolment the station says so.
    s.wait_contains("#sync-problem", "本设备尚未注册", WAIT)?;
    s.click("#nav-settings")?;
    s.send_keys("#enrol-code", "999999")?;
    s.send_keys("#enrol-inspector", "王五")?;
    s.click("#enrol-submit")?;
    s.wait_contains(".error", "没有场所使用该申报码", WAIT)?;
    s.clear("#enrol-code")?;
    s.send_keys("#enrol-code", "100001")?;
    s.click("#enrol-submit")?;
    s.wait_contains("#enrol-result", "阿拉尔市人民医院 · 正门 · 王五", WAIT)?;
    env.check_fit(&s, "settings-zh-enrolled")?;
    // Tones on (they are off by default): pass and refuse sound different.
    s.click("#opt-sound")?;
    s.click("#opt-save")?;
    s.wait_text("#opt-saved", "已保存", WAIT)?; // saved asynchronously

    s.click("#nav-station")?;
    s.wait_text("#bound-venue", "阿拉尔市人民医院", WAIT)?;
    s.wait_text("#sync-online", "在线", WAIT)?;
    wait_for("the trust list to arrive", WAIT, || {
        s.text("#sync-trust")
            .ok()
            .filter(|t| t.contains("秒前"))
            .map(|_| ())
    })?;
    ensure!(env.data_dir.join("trust/trust.cose").is_file());

    // A red code: refused, with the venue's number to call; the alert and check-in reach the
    // server.
    let (red, _) = demo_code(&env, "李四", "440524198001010013", "red")?;
    // The navigation button still has the focus: the code's spaces must not press it.
    s.burst_until(&red, "#verdict-word", "禁止")?;
    ensure!(s.attr("html", "data-last-tone")?.as_deref() == Some("refuse"));
    s.wait_contains("#verdict-call", "0997-4612345", WAIT)
        .with_context(|| format!("verdict screen: {:?}", s.text("#verdict-screen")))?;
    env.check_fit(&s, "station-zh-refused-call")?;
    s.click("#verdict-screen")?;
    wait_for("the alert and check-in on the server", WAIT, || {
        let alerts = sqlite_count(&env.server.database, "SELECT count(*) FROM alerts").ok()?;
        let check_ins =
            sqlite_count(&env.server.database, "SELECT count(*) FROM check_ins").ok()?;
        (alerts == 1 && check_ins == 1).then_some(())
    })?;
    s.wait_text("#sync-waiting", "待上传 0", WAIT)?;

    // A green code passes; once revoked on the server and synced, the same code is refused.
    let (green, code_id) = demo_code(&env, "张三", "11010519491231002X", "green")?;
    s.burst_until(&green, "#verdict-word", "通行")?;
    ensure!(s.attr("html", "data-last-tone")?.as_deref() == Some("pass"));
    s.click("#verdict-screen")?;
    let store = venuecode_server::store::open(env.server.database.to_str().context("path")?)?;
    store.revoke(&Revocation::Code(code_id), chrono::Utc::now())?;
    s.click("#sync-now")?;
    wait_for("the revocation to arrive", WAIT, || {
        let n = station_count(&env.data_dir, "SELECT count(*) FROM revocations");
        (n.ok()? == 1).then_some(())
    })?;
    s.burst_until(&green, "#verdict-word", "禁止")?;
    s.wait_contains("#verdict-reasons", "已被撤销", WAIT)?;
    env.check_fit(&s, "station-zh-revoked")?;
    s.click("#verdict-screen")?;
    // Every record so far reaches the server, the revoked code's refusal and its alert included:
    // none is set aside.
    wait_for("the outbox to drain", WAIT, || {
        let waiting = station_count(
            &env.data_dir,
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND rejected IS NULL",
        )
        .ok()?;
        (waiting == 0).then_some(())
    })?;
    let rejected = station_count(
        &env.data_dir,
        "SELECT count(*) FROM outbox WHERE rejected IS NOT NULL",
    )?;
    ensure!(rejected == 0, "{rejected} records set aside by the server");

    // An attacker on the network relaxes the policy: the answer does not verify, is refused,
    // and the warning shows.
    let proxy = env.proxy.as_ref().context("proxy")?;
    proxy.set(Tamper::RelaxPolicy);
    s.click("#sync-now")?;
    s.wait_contains("#sync-problem", "校验失败", WAIT)?;
    ensure!(proxy.hits("relax_policy") > 0, "the attack never happened");
    env.check_fit(&s, "station-zh-answer-refused")?;
    // Kept from syncing past the staleness limit (the last complete pull set three days back),
    // the station refuses everyone until it syncs.
    let conn = station_db(&env.data_dir)?;
    let three_days_ago = (chrono::Utc::now() - chrono::Duration::days(3)).to_rfc3339();
    conn.execute(
        "UPDATE sync_state SET value = ?1 WHERE key = 'trust_fetched_at'",
        [&three_days_ago],
    )?;
    drop(conn);
    s.click("#sync-now")?;
    s.wait_contains("#station-blocked", "一律不予通行", WAIT)?;
    env.check_fit(&s, "station-zh-blocked")?;
    let (green2, _) = demo_code(&env, "王二", "110105198001010032", "green")?;
    s.burst_until(&green2, "#verdict-word", "禁止")?;
    s.wait_contains("#verdict-reasons", "长时间未同步", WAIT)?;
    env.check_fit(&s, "station-zh-blocked-stale")?;
    s.click("#verdict-screen")?;
    // Honest again: the station syncs and admits again.
    proxy.set(Tamper::Honest);
    s.click("#sync-now")?;
    wait_for("the block to lift", WAIT, || {
        let gone = s
            .execute("return document.querySelector('#station-blocked') === null")
            .ok()?;
        (gone.as_bool() == Some(true)).then_some(())
    })?;
    s.burst_until(&green2, "#verdict-word", "通行")?;
    s.quit()?;
    Ok(())
}
