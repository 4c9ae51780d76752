//! One venue, two gates, in the real window (issue 18): two app instances on one machine are
//! enrolled at the market's 北门 and 南门, with a capacity (限流) of one set by its administrator.
//! With the server stopped, a person scanned in at 北门 is counted inside at 南门 (heard over the
//! LAN between the two apps); the next person is held at 南门 (the venue is full); leaving through
//! 南门 takes the first out at 北门 too, and the second may then come in. Screenshots of both
//! windows, one above the other, in both languages, and of the held entry.

use std::time::Duration;

use anyhow::{Context, Result};
use venuecode_tests::harness::{serial, Env};
use venuecode_tests::procs::free_port;
use venuecode_tests::webdriver::Session;

const WAIT: Duration = Duration::from_secs(30);

fn enrol(s: &Session, inspector: &str) -> Result<()> {
    s.click("#nav-settings")?;
    s.send_keys("#enrol-code", "100003")?;
    s.send_keys("#enrol-inspector", inspector)?;
    s.click("#enrol-submit")?;
    s.wait_contains("#enrol-result", "幸福路农贸市场", WAIT)
}

fn to_station(s: &Session) -> Result<()> {
    s.click("#nav-station")?;
    s.wait_text("#sync-online", "在线", WAIT)
}

/// A green code for one person from the server's demo issuer.
fn green(env: &Env, name: &str, id: &str) -> Result<String> {
    let res: serde_json::Value = env
        .server
        .http()?
        .post(format!("{}/api/v1/demo/codes", env.server.url))
        .json(&serde_json::json!({
            "name": name, "phone": "13900139000", "id_number": id, "color": "green",
            "nat": {"result": "negative", "hours_ago": 30}
        }))
        .send()?
        .error_for_status()?
        .json()?;
    Ok(res["code"].as_str().context("code")?.to_string())
}

fn scan(s: &Session, code: &str, word: &str) -> Result<()> {
    s.burst_until(code, "#verdict-word", word)
}

#[test]
fn two_gates_on_one_machine_share_who_is_inside() -> Result<()> {
    let _serial = serial();
    // The two apps know each other by address (multicast DNS may not cross this machine's
    // network; tests/gates.rs checks discovery in a private network).
    let (a, b) = (free_port()?, free_port()?);
    let lan = |me: u16, peer: u16| {
        vec![
            ("VENUECODE_LAN_BIND", format!("127.0.0.1:{me}")),
            ("VENUECODE_LAN_PEERS", format!("127.0.0.1:{peer}")),
            ("VENUECODE_LAN_MDNS", "off".to_string()),
        ]
    };
    let mut env = Env::start_with_app_env(&lan(a, b))?;
    std::fs::create_dir_all(env.data_dir.join("trust"))?;
    for f in ["root.pub", "ca.pem"] {
        std::fs::copy(env.server.keys.join(f), env.data_dir.join("trust").join(f))?;
    }
    let north = env.open_app()?;
    enrol(&north, "王五")?;
    north.wait_contains("#enrol-result", "北门", WAIT)?;
    let second = env.open_second_app(&lan(b, a))?;
    let south = &second.session;
    enrol(south, "赵六")?;
    south.click("#enrol-cp-南门")?;
    south.wait_contains("#enrol-result", "南门", WAIT)?;

    // The market's administrator sets a capacity of one; the gates take it at "sync now".
    let http = env.server.http()?;
    let login: serde_json::Value = http
        .post(format!("{}/api/v1/auth/login", env.server.url))
        .json(&serde_json::json!({"username": "demo.admin", "password": "venuecode-demo-2026"}))
        .send()?
        .error_for_status()?
        .json()?;
    http.put(format!(
        "{}/api/v1/venues/demo-venue-0003/capacity",
        env.server.url
    ))
    .bearer_auth(login["token"].as_str().context("token")?)
    .json(&serde_json::json!({"capacity": 1}))
    .send()?
    .error_for_status()?;
    for s in [&north, south] {
        to_station(s)?;
        s.click("#sync-now")?;
        s.wait_contains("#count-capacity", "1", WAIT)?;
    }
    let zhang = green(&env, "张三", "11010519491231002X")?;
    let li = green(&env, "李四", "650102201501010013")?;

    // The uplink goes down; the gates go on between themselves.
    env.server.stop()?;
    scan(&north, &zhang, "通行")?;
    north.click("#verdict-screen")?;
    north.wait_text("#count-inside", "1", WAIT)?;
    // The other gate's counter refreshes every 5 s.
    south.wait_text("#count-inside", "1", WAIT)?;
    south.wait_contains("#count-by-gate", "北门 1", WAIT)?;
    north.set_window_rect(0, 0, 1280, 640)?;
    south.set_window_rect(0, 640, 1280, 640)?;
    std::thread::sleep(Duration::from_millis(500));
    env.screenshot_screen("gates-zh-two-windows")?;

    // Full: the next person waits at 南门, and nothing is recorded.
    scan(south, &li, "限流 · 请稍候")?;
    south.wait_contains("#verdict-reasons", "有人离开后再入场", WAIT)?;
    std::thread::sleep(Duration::from_millis(300));
    env.screenshot_screen("gates-zh-capacity-held")?;
    south.click("#verdict-screen")?;

    // Out through 南门: both gates count nobody, and the next person may come in.
    south.click("#bind-exit")?;
    scan(south, &zhang, "通行")?;
    south.click("#verdict-screen")?;
    south.wait_text("#count-inside", "0", WAIT)?;
    north.wait_text("#count-inside", "0", WAIT)?;
    south.click("#bind-entry")?;
    scan(south, &li, "通行")?;
    south.click("#verdict-screen")?;
    north.wait_text("#count-inside", "1", WAIT)?;

    // In English on both.
    for s in [&north, south] {
        s.click("#nav-settings")?;
        s.click("#lang-en")?;
        s.click("#nav-station")?;
    }
    north.wait_contains("#count-by-gate", "南门 1", WAIT)?;
    north.wait_contains("#counters", "Capacity", WAIT)?;
    std::thread::sleep(Duration::from_millis(500));
    env.screenshot_screen("gates-en-two-windows")?;
    Ok(())
}
