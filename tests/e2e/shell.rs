//! The app shell: language switching zh-CN ⇄ en, every work area, About, persistence across
//! restarts, CJK glyphs.

use std::time::Duration;

use anyhow::Result;
use venuecode_tests::harness::{serial, wait_for_ready, Env};
use venuecode_tests::webdriver::Session;

const WAIT: Duration = Duration::from_secs(20);

/// The station's work areas: (nav id, zh-CN title, English title). People's areas (场所, 审核,
/// 流调) follow their role once signed in (tests/e2e/people.rs).
const AREAS: [(&str, &str, &str); 2] = [
    ("station", "检测", "Station"),
    ("settings", "设置", "Settings"),
];

fn visit_every_area(env: &Env, s: &Session, lang: &str) -> Result<()> {
    for (id, zh, en) in AREAS {
        s.click(&format!("#nav-{id}"))?;
        let title = if lang == "zh" { zh } else { en };
        s.wait_text(&format!("#page-{id} #page-title"), title, WAIT)?;
        s.wait_text(&format!("#nav-{id}"), title, WAIT)?;
        env.check_fit(s, &format!("shell-{lang}-{id}"))?;
    }
    Ok(())
}

#[test]
fn shell_switches_language_visits_every_area_and_remembers_the_choice() -> Result<()> {
    let _one_at_a_time = serial();
    let env = Env::start()?;
    let s = env.open_app()?;

    // First start: zh-CN by default, with a CJK font the webview can use.
    s.wait_text("#brand", "场所码", WAIT)?;
    assert_eq!(s.execute("return document.documentElement.lang")?, "zh-CN");
    let cjk = s.execute("return document.fonts.check('20px \"Noto Sans CJK SC\"', '场所码')")?;
    assert_eq!(cjk, true, "no CJK font available to the webview");
    // The window runs under the content security policy: no eval of text, no inline script,
    // no connection to another host (tauri.conf.json; docs/SECURITY.md).
    let csp = s.execute(
        "const out = {};
         try { eval('1'); out.eval = 'allowed'; } catch (e) { out.eval = 'blocked'; }
         try { new Function('return 1')(); out.func = 'allowed'; } catch (e) { out.func = 'blocked'; }
         const el = document.createElement('script');
         el.textContent = 'window.__inlineRan = true';
         document.head.appendChild(el);
         out.inline = window.__inlineRan ? 'allowed' : 'blocked';
         out.frozen = Object.isFrozen(Object.prototype);
         return out;",
    )?;
    assert_eq!(
        csp,
        serde_json::json!({"eval": "blocked", "func": "blocked", "inline": "blocked", "frozen": true}),
        "the content security policy is not in force"
    );
    visit_every_area(&env, &s, "zh")?;

    // About shows the real version, the throwaway data dir and the server started for the test.
    s.click("#nav-settings")?;
    s.wait_text("#about-version", env!("CARGO_PKG_VERSION"), WAIT)?;
    s.wait_text("#about-data-dir", &env.data_dir.display().to_string(), WAIT)?;
    s.wait_text("#about-server", &env.server.url, WAIT)?;
    let commit = s.text("#about-commit")?;
    assert!(!commit.trim().is_empty(), "build commit is empty");

    // Station options: an out-of-range value is refused, a good one saved (checked after restart).
    s.clear("#opt-clear")?;
    s.send_keys("#opt-clear", "99")?;
    s.click("#opt-save")?;
    s.wait_text(".error", "输入有误，请检查后重试。", WAIT)?;
    s.clear("#opt-clear")?;
    s.send_keys("#opt-clear", "8")?;
    s.click("#opt-sound")?;
    s.click("#opt-save")?;
    s.wait_text("#opt-saved", "已保存", WAIT)?;

    // Camera: this machine has none, and the card says what to use instead; the size and
    // frame rate are chosen and saved (checked after the restart).
    s.wait_contains("#camera-none", "未找到摄像头", WAIT)?;
    s.select("#camera-size", "2")?;
    s.select("#camera-fps", "30")?;
    s.click("#camera-save")?;
    s.wait_text("#camera-saved", "已保存", WAIT)?;
    s.execute("document.querySelector('#camera-options').scrollIntoView(); return 1")?;
    env.screenshot("settings-zh-camera")?;

    // Switch to English: the whole shell follows.
    s.click("#lang-en")?;
    s.wait_text("#brand", "VenueCode", WAIT)?;
    assert_eq!(s.execute("return document.documentElement.lang")?, "en");
    visit_every_area(&env, &s, "en")?;
    s.quit()?;

    // Restart with the same data directory: English and the station options persisted.
    let s = env.open_app()?;
    s.wait_text("#brand", "VenueCode", WAIT)?;
    s.wait_text("#nav-station", "Station", WAIT)?;
    s.click("#nav-settings")?;
    venuecode_tests::procs::wait_for("saved options", WAIT, || {
        (s.prop("#opt-clear", "value").ok()? == "8").then_some(())
    })?;
    s.wait_text("#opt-sound", "On", WAIT)?;
    venuecode_tests::procs::wait_for("saved camera choice", WAIT, || {
        (s.prop("#camera-size", "value").ok()? == "2"
            && s.prop("#camera-fps", "value").ok()? == "30")
            .then_some(())
    })?;
    s.wait_contains("#camera-none", "No camera found", WAIT)?;
    s.execute("document.querySelector('#camera-options').scrollIntoView(); return 1")?;
    env.screenshot("settings-en-camera")?;

    // And back to zh-CN, which persists too.
    s.click("#nav-settings")?;
    s.click("#lang-zh")?;
    s.wait_text("#brand", "场所码", WAIT)?;
    s.quit()?;
    let s = env.open_app()?;
    wait_for_ready(&s)?;
    s.wait_text("#nav-settings", "设置", WAIT)?;
    s.quit()?;
    Ok(())
}
