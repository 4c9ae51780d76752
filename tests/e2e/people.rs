//! People's work in the real window, zh-CN then English, with a screenshot of every new screen:
//! the role choice and sign-in; a venue administrator's application (an empty name and a bad
//! credit code refused inline) → submitted → the reviewer approves it → the administrator adds
//! 南门 and 北门 → this app, as a station, enrols with the declaration code at 北门 and waits →
//! the administrator approves the device → the station checks a person in at 北门 → the
//! administrator unbinds the inspector and the station is refused on its next sync. And offline:
//! a draft written with the server stopped survives an app restart and is sent when it returns.

use std::time::Duration;

use anyhow::Result;
use venuecode_tests::harness::{serial, sqlite_count, Env};
use venuecode_tests::procs::wait_for;
use venuecode_tests::webdriver::Session;

const WAIT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "venuecode-demo-2026";
const VENUE: &str = "阿拉尔市幸福路农贸市场管理有限公司";

/// Gives the app the deployment's root key and TLS CA (provisioning).
fn provision(env: &Env) -> Result<()> {
    std::fs::create_dir_all(env.data_dir.join("trust"))?;
    for f in ["root.pub", "ca.pem"] {
        std::fs::copy(env.server.keys.join(f), env.data_dir.join("trust").join(f))?;
    }
    Ok(())
}

/// Clicks `css` once it is on screen (pages load what they show after they mount).
fn click_when(s: &Session, css: &str) -> Result<()> {
    wait_for(css, WAIT, || s.find(css).ok().map(|_| ()))?;
    s.click(css)
}

fn sign_in(s: &Session, who: &str) -> Result<()> {
    click_when(s, "#role-person")?;
    s.send_keys("#login-username", who)?;
    s.send_keys("#login-password", PASSWORD)?;
    s.click("#login-submit")?;
    s.find("#sign-out")
        .map(|_| ())
        .or_else(|_| wait_for("signed in", WAIT, || s.find("#sign-out").ok().map(|_| ())))
}

fn sign_out(s: &Session) -> Result<()> {
    s.click("#sign-out")?;
    wait_for("the role choice", WAIT, || {
        s.find("#role-choice").ok().map(|_| ())
    })
}

/// Fills the application form (region chosen level by level).
fn fill_application(s: &Session, name: &str, credit: &str, address: &str) -> Result<()> {
    if name.is_empty() {
        // Touched and left empty.
        s.click("#f-name")?;
    } else {
        s.send_keys("#f-name", name)?;
    }
    s.send_keys("#f-credit", credit)?;
    s.select("#f-category", "02")?;
    // The place types under the category (the server's list).
    wait_for("the place types of the category", WAIT, || {
        s.find("#f-place-type option[value='0203']")
            .ok()
            .map(|_| ())
    })?;
    s.select("#f-place-type", "0203")?;
    for (level, code) in ["65", "6590", "659002", "659002001", "659002001001"]
        .iter()
        .enumerate()
    {
        let css = format!("#f-region-{level}");
        wait_for(&format!("region level {level}"), WAIT, || {
            s.find(&css).ok().map(|_| ())
        })?;
        s.select(&css, code)?;
    }
    s.send_keys("#f-address", address)?;
    s.send_keys("#f-responsible", "李四")?;
    s.send_keys("#f-phone", "13900139000")?;
    Ok(())
}

/// The index of the list entry (`prefix-N`) whose `.venue-name` reads `name`.
fn index_of(s: &Session, prefix: &str, name: &str) -> Result<usize> {
    let script = format!(
        "const all = [...document.querySelectorAll('[id^=\"{prefix}-\"] .venue-name')]; \
         return all.findIndex(e => e.textContent.trim() === {name});",
        name = serde_json::to_string(name)?
    );
    let mut found = -1;
    wait_for(&format!("{name} in the list"), WAIT, || {
        found = s.execute(&script).ok()?.as_i64()?;
        (found >= 0).then_some(())
    })?;
    Ok(found as usize)
}

fn add_checkpoint(s: &Session, name: &str, n: usize) -> Result<()> {
    s.click("#checkpoint-add")?;
    s.send_keys("#cp-name", name)?;
    s.send_keys("#cp-responsible", "王五")?;
    s.send_keys("#cp-phone", "13800138000")?;
    s.click("#cp-save")?;
    s.wait_text(&format!("#checkpoint-{n}-name"), name, WAIT)
        .or_else(|_| {
            wait_for(&format!("checkpoint {name}"), WAIT, || {
                s.text("#checkpoints")
                    .ok()
                    .filter(|t| t.contains(name))
                    .map(|_| ())
            })
        })
}

fn open_my_venue(s: &Session) -> Result<()> {
    let i = index_of(s, "venue", VENUE)?;
    s.click(&format!("#venue-{i}-open"))?;
    s.wait_text("#venue-name", VENUE, WAIT)
}

#[test]
fn apply_review_checkpoints_enrol_approve_check_in_unbind() -> Result<()> {
    let _serial = serial();
    let env = Env::start()?;
    provision(&env)?;
    let s = env.open_app_as_is()?;

    // The role choice, then sign-in as the venue administrator.
    s.wait_text("#page-start #page-title", "请选择使用方式", WAIT)?;
    env.check_fit(&s, "people-zh-role-choice")?;
    s.click("#role-person")?;
    s.send_keys("#login-username", "demo.admin")?;
    s.send_keys("#login-password", "wrong-password-1")?;
    s.click("#login-submit")?;
    s.wait_contains(".error", "用户名或密码错误", WAIT)?;
    env.check_fit(&s, "people-zh-sign-in-refused")?;
    s.clear("#login-username")?;
    s.send_keys("#login-username", "demo.admin")?;
    s.send_keys("#login-password", PASSWORD)?;
    s.click("#login-submit")?;
    s.wait_text("#page-venues #page-title", "场所", WAIT)?;
    s.wait_text("#who-role", "场所管理员", WAIT)?;

    // The application: an empty name and a wrong check character are refused next to their
    // fields, before anything is sent.
    click_when(&s, "#apply-new")?;
    fill_application(&s, "", "91330100716105852A", "幸福路 60 号")?;
    s.click("#apply-submit")?;
    s.wait_text("#f-name-problem", "必填", WAIT)?;
    s.wait_contains("#f-credit-problem", "校验码不正确", WAIT)?;
    env.check_fit(&s, "people-zh-apply-invalid")?;
    s.send_keys("#f-name", VENUE)?;
    s.clear("#f-credit")?;
    s.send_keys("#f-credit", "91330100716105852F")?;
    wait_for("the problems to clear", WAIT, || {
        (s.text("#f-name-problem").ok()?.is_empty() && s.text("#f-credit-problem").ok()?.is_empty())
            .then_some(())
    })?;
    s.click("#apply-submit")?;
    s.wait_contains("#venues-note", "已提交", WAIT)?;
    let i = index_of(&s, "venue", VENUE)?;
    s.wait_text(&format!("#venue-{i}-status"), "审核中", WAIT)?;
    env.check_fit(&s, "people-zh-venues")?;
    sign_out(&s)?;

    // The reviewer approves it.
    sign_in(&s, "demo.reviewer")?;
    s.wait_text("#page-review #page-title", "审核", WAIT)?;
    let q = index_of(&s, "queue", VENUE)?;
    env.check_fit(&s, "people-zh-review")?;
    s.click(&format!("#approve-{q}"))?;
    wait_for("the queue to lose it", WAIT, || {
        (!s.text("#review-queue").ok()?.contains(VENUE)).then_some(())
    })?;
    sign_out(&s)?;

    // The administrator adds 南门 and 北门 and reads the declaration code.
    sign_in(&s, "demo.admin")?;
    let i = index_of(&s, "venue", VENUE)?;
    s.wait_text(&format!("#venue-{i}-status"), "已通过", WAIT)?;
    open_my_venue(&s)?;
    s.wait_text("#venue-place-type", "农集贸市场", WAIT)?;
    add_checkpoint(&s, "南门", 1)?;
    add_checkpoint(&s, "北门", 2)?;
    // Each door has its entry and exit codes (一门一码), ready to copy.
    s.find("#checkpoint-1-entry-code")?;
    s.find("#checkpoint-1-exit-code")?;
    let code = s.text("#declaration-code")?.trim().to_string();
    anyhow::ensure!(code.len() == 6, "declaration code {code:?}");
    env.check_fit(&s, "people-zh-venue")?;
    sign_out(&s)?;

    // This app, as a station, enrols with the code and chooses 北门; it waits for approval.
    s.click("#role-station")?;
    s.click("#nav-settings")?;
    s.send_keys("#enrol-code", &code)?;
    s.send_keys("#enrol-inspector", "王五")?;
    s.click("#enrol-submit")?;
    s.wait_contains("#enrol-result", VENUE, WAIT)?;
    s.click("#enrol-cp-北门")?;
    s.wait_contains("#enrol-result", "北门", WAIT)?;
    env.check_fit(&s, "people-zh-enrol-choose-checkpoint")?;
    s.click("#nav-station")?;
    s.wait_text("#bound-checkpoint", "北门", WAIT)?;
    s.click("#sync-now")?;
    s.wait_contains("#sync-problem", "等待场所管理员批准", WAIT)?;
    env.check_fit(&s, "people-zh-station-pending")?;

    // The administrator approves the device (成员管理).
    click_when(&s, "#switch-role")?;
    sign_in(&s, "demo.admin")?;
    open_my_venue(&s)?;
    s.wait_text("#device-0-state", "待批准", WAIT)?;
    env.check_fit(&s, "people-zh-members-pending")?;
    click_when(&s, "#device-0-approve")?;
    s.wait_text("#device-0-state", "使用中", WAIT)?;
    sign_out(&s)?;

    // The station syncs and checks a person in at 北门; the check-in reaches the server there.
    s.click("#role-station")?;
    click_when(&s, "#sync-now")?;
    s.wait_text("#sync-online", "在线", WAIT)?;
    wait_for("the trust list", WAIT, || {
        s.text("#sync-trust")
            .ok()
            .filter(|t| t.contains("秒前"))
            .map(|_| ())
    })?;
    let green = env.server.green_code()?;
    s.key_burst(&green, 3)?;
    s.wait_text("#verdict-word", "通行", WAIT)?;
    s.click("#verdict-screen")?;
    let north = "SELECT count(*) FROM check_ins c JOIN checkpoints k \
                 ON k.venue_id = c.venue_id AND k.checkpoint_id = c.checkpoint_id \
                 WHERE k.name = '北门'";
    wait_for("the check-in at 北门 on the server", WAIT, || {
        (sqlite_count(&env.server.database, north).ok()? == 1).then_some(())
    })?;

    // The administrator unbinds the inspector; the station is refused on its next sync.
    click_when(&s, "#switch-role")?;
    sign_in(&s, "demo.admin")?;
    open_my_venue(&s)?;
    click_when(&s, "#device-0-unbind")?;
    s.wait_text("#device-0-state", "已解绑", WAIT)?;
    // A new address is saved without review; the history names who did what.
    click_when(&s, "#venue-edit")?;
    wait_for("the form filled", WAIT, || {
        (s.prop("#f-name", "value").ok()? == VENUE).then_some(())
    })?;
    s.clear("#f-address")?;
    s.send_keys("#f-address", "幸福路 62 号")?;
    s.click("#apply-submit")?;
    s.wait_contains("#venue-note", "已保存修改", WAIT)?;
    s.wait_contains("#history", "审核通过", WAIT)?;
    s.wait_contains("#history", "演示社区审核员", WAIT)?;
    s.wait_contains("#history", "修改资料", WAIT)?;
    env.check_fit(&s, "people-zh-venue-history")?;
    sign_out(&s)?;
    s.click("#role-station")?;
    click_when(&s, "#sync-now")?;
    s.wait_contains("#sync-problem", "本设备已被停用", WAIT)?;
    env.check_fit(&s, "people-zh-station-unbound")?;

    // English: the same screens in the other language.
    click_when(&s, "#switch-role")?;
    s.click("#start-lang-en")?;
    s.wait_text(
        "#page-start #page-title",
        "How will you use this app?",
        WAIT,
    )?;
    env.check_fit(&s, "people-en-role-choice")?;
    sign_in(&s, "demo.reviewer")?;
    s.wait_text("#page-review #page-title", "Review", WAIT)?;
    let q = index_of(&s, "queue", "阿拉尔市塔里木大道便民超市有限公司")?;
    s.click(&format!("#reject-{q}"))?;
    s.send_keys(
        &format!("#reject-reason-{q}"),
        "Name does not match the licence",
    )?;
    env.check_fit(&s, "people-en-review-reject")?;
    s.click(&format!("#reject-confirm-{q}"))?;
    s.wait_contains("#page-review", "Nothing waits for review.", WAIT)?;
    sign_out(&s)?;
    sign_in(&s, "demo.admin")?;
    s.wait_text("#page-venues #page-title", "Venues", WAIT)?;
    env.check_fit(&s, "people-en-venues")?;
    click_when(&s, "#apply-new")?;
    fill_application(&s, "", "91330100716105852A", "Happy Road 61")?;
    s.click("#apply-submit")?;
    s.wait_text("#f-name-problem", "Required", WAIT)?;
    s.wait_contains("#f-credit-problem", "Check character is wrong", WAIT)?;
    env.check_fit(&s, "people-en-apply-invalid")?;
    s.click("#apply-cancel")?;
    // The same credit code and address again: refused, said in words, nothing stored.
    click_when(&s, "#apply-new")?;
    fill_application(&s, VENUE, "91330100716105852F", "幸福路 62 号")?;
    s.click("#apply-submit")?;
    s.wait_contains(".error", "already in review or approved", WAIT)?;
    s.click("#apply-cancel")?;
    open_my_venue(&s)?;
    env.check_fit(&s, "people-en-venue")?;
    // Handing over to someone who is not a venue administrator: refused in words.
    click_when(&s, "#venue-handover")?;
    s.send_keys("#venue-confirm-text", "demo.reviewer")?;
    s.click("#venue-confirm-ok")?;
    s.wait_contains(".error", "not an active venue administrator", WAIT)?;
    sign_out(&s)?;
    // The reviewer closes the venue, with a reason; it reads as closed.
    sign_in(&s, "demo.reviewer")?;
    click_when(&s, "#nav-venues")?;
    open_my_venue(&s)?;
    click_when(&s, "#venue-close")?;
    s.send_keys("#venue-confirm-text", "Business closed")?;
    env.check_fit(&s, "people-en-venue-close")?;
    s.click("#venue-confirm-ok")?;
    s.wait_text("#venue-status", "Closed", WAIT)?;
    s.wait_contains("#history", "closed", WAIT)?;
    s.quit()?;
    Ok(())
}

#[test]
fn a_draft_written_offline_survives_a_restart_and_is_sent_when_the_server_returns() -> Result<()> {
    let _serial = serial();
    let mut env = Env::start()?;
    provision(&env)?;
    let s = env.open_app_as_is()?;
    s.click("#start-lang-zh")?;
    sign_in(&s, "demo.admin")?;
    s.wait_text("#page-venues #page-title", "场所", WAIT)?;
    env.server.stop()?;
    // The list read before stays readable, with its age; the application becomes a draft.
    click_when(&s, "#apply-new")?;
    fill_application(
        &s,
        "阿拉尔市幸福路离线便利店有限公司",
        "91330100716105852F",
        "幸福路 70 号",
    )?;
    s.click("#apply-submit")?;
    s.wait_contains("#venues-note", "草稿", WAIT)?;
    s.wait_contains("#drafts", "离线便利店", WAIT)?;
    s.wait_contains("#offline-age", "离线", WAIT)?;
    env.check_fit(&s, "people-zh-draft-offline")?;
    s.quit()?;
    // Restarted with the server still away: the draft is still there.
    let s = env.open_app_as_is()?;
    s.wait_contains("#drafts", "离线便利店", WAIT)?;
    s.quit()?;
    env.server.start_again()?;
    let database = env.server.database.clone();
    // The server is back and the app runs: the draft goes by itself.
    let s = env.open_app_as_is()?;
    wait_for(
        "the draft to reach the server",
        Duration::from_secs(60),
        || {
            let n = sqlite_count(
            &database,
            "SELECT count(*) FROM venues WHERE name = '阿拉尔市幸福路离线便利店有限公司' AND status = 'pending'",
        )
        .ok()?;
            (n == 1).then_some(())
        },
    )?;
    s.click("#nav-venues")?;
    s.wait_contains("#venue-list", "离线便利店", WAIT)?;
    wait_for("the drafts list to empty", WAIT, || {
        s.find("#drafts").err().map(|_| ())
    })?;
    s.quit()?;
    Ok(())
}
