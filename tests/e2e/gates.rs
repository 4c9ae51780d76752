//! One venue, two gates, in the real window (issue 18): two app instances on one machine are
//! enrolled at the hospital's 正门 and 东门; with the server stopped, a person scanned in at 正门
//! is counted inside at 东门 (heard over the LAN between the two apps), and leaving through 东门
//! takes them out at 正门 too. Screenshot of both windows, one above the other, in both languages.

use std::time::Duration;

use anyhow::Result;
use venuecode_tests::harness::{serial, Env};
use venuecode_tests::procs::free_port;
use venuecode_tests::webdriver::Session;

const WAIT: Duration = Duration::from_secs(30);

fn enrol(s: &Session, inspector: &str) -> Result<()> {
    s.click("#nav-settings")?;
    s.send_keys("#enrol-code", "100001")?;
    s.send_keys("#enrol-inspector", inspector)?;
    s.click("#enrol-submit")?;
    s.wait_contains("#enrol-result", "阿拉尔市人民医院", WAIT)
}

fn to_station(s: &Session) -> Result<()> {
    s.click("#nav-station")?;
    s.wait_text("#sync-online", "在线", WAIT)
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
    let main = env.open_app()?;
    enrol(&main, "王五")?;
    main.wait_contains("#enrol-result", "正门", WAIT)?;
    let second = env.open_second_app(&lan(b, a))?;
    let east = &second.session;
    enrol(east, "赵六")?;
    east.click("#enrol-cp-东门")?;
    east.wait_contains("#enrol-result", "东门", WAIT)?;
    to_station(&main)?;
    to_station(east)?;
    let code = env.server.green_code()?;

    // The uplink goes down; the gates go on between themselves.
    env.server.stop()?;
    main.key_burst(&code, 3)?;
    main.wait_text("#verdict-word", "通行", WAIT)?;
    main.click("#verdict-screen")?;
    main.wait_text("#count-inside", "1", WAIT)?;
    // The other gate's counter refreshes every 5 s.
    east.wait_text("#count-inside", "1", WAIT)?;
    east.wait_contains("#count-by-gate", "正门 1", WAIT)?;
    main.set_window_rect(0, 0, 1280, 640)?;
    east.set_window_rect(0, 640, 1280, 640)?;
    std::thread::sleep(Duration::from_millis(500));
    env.screenshot_screen("gates-zh-two-windows")?;

    // Out through 东门: both gates count nobody.
    east.click("#bind-exit")?;
    east.key_burst(&code, 3)?;
    east.wait_text("#verdict-word", "通行", WAIT)?;
    east.click("#verdict-screen")?;
    east.wait_text("#count-inside", "0", WAIT)?;
    main.wait_text("#count-inside", "0", WAIT)?;

    // And in again at 东门, in English on both.
    east.click("#bind-entry")?;
    east.key_burst(&code, 3)?;
    east.wait_text("#verdict-word", "通行", WAIT)?;
    east.click("#verdict-screen")?;
    main.wait_text("#count-inside", "1", WAIT)?;
    for s in [&main, east] {
        s.click("#nav-settings")?;
        s.click("#lang-en")?;
        s.click("#nav-station")?;
    }
    main.wait_contains("#count-by-gate", "东门 1", WAIT)?;
    main.wait_contains("#counters", "Inside", WAIT)?;
    std::thread::sleep(Duration::from_millis(500));
    env.screenshot_screen("gates-en-two-windows")?;
    Ok(())
}
