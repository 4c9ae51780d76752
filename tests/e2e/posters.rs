//! Posters in the real window: the venue's administrator opens 南门's posters, the preview shows
//! the entry poster, switches to 出 and to each size (screenshots of the screen in both
//! languages), saves the PDF — poppler reads an A4 page — and saves all posters of the venue
//! with the "how to post" sheet; each saved poster is rasterised into the screenshots to be
//! looked at. The venue is set up through the API (application, approval, 南门 and 北门).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use venuecode_tests::harness::{screenshot_dir, serial, Env};
use venuecode_tests::procs::wait_for;
use venuecode_tests::webdriver::Session;

const WAIT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "venuecode-demo-2026";
const VENUE: &str = "阿拉尔市幸福路农贸市场管理有限公司";

/// Signs `who` in through the API; their token.
fn token(env: &Env, who: &str) -> Result<String> {
    let v: Value = env
        .server
        .http()?
        .post(format!("{}/api/v1/auth/login", env.server.url))
        .json(&json!({"username": who, "password": PASSWORD}))
        .send()?
        .error_for_status()?
        .json()?;
    Ok(v["token"].as_str().context("token")?.to_string())
}

fn call(env: &Env, token: &str, method: &str, path: &str, body: Value) -> Result<Value> {
    let http = env.server.http()?;
    let url = format!("{}{path}", env.server.url);
    let req = match method {
        "POST" => http.post(url),
        _ => http.get(url),
    };
    let res = req.bearer_auth(token).json(&body).send()?;
    let status = res.status();
    let text = res.text()?;
    ensure!(status.is_success(), "{method} {path}: {status} {text}");
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// An approved venue of demo.admin with 南门 and 北门; its id.
fn approved_venue(env: &Env) -> Result<String> {
    let admin = token(env, "demo.admin")?;
    let v = call(
        env,
        &admin,
        "POST",
        "/api/v1/venues",
        json!({
            "name": VENUE, "credit_code": "91330100716105852F", "category": "02",
            "place_type": "0203", "region": "659002001001", "address": "幸福路 18 号",
            "responsible_name": "李四", "responsible_phone": "13900139000"
        }),
    )?;
    let id = v["venue_id"].as_str().context("venue_id")?.to_string();
    let reviewer = token(env, "demo.reviewer")?;
    call(
        env,
        &reviewer,
        "POST",
        &format!("/api/v1/venues/{id}/decision"),
        json!({"approve": true}),
    )?;
    for door in ["南门", "北门"] {
        call(
            env,
            &admin,
            "POST",
            &format!("/api/v1/venues/{id}/checkpoints"),
            json!({"name": door, "responsible_name": "王五", "responsible_phone": "13800138000"}),
        )?;
    }
    Ok(id)
}

fn click_when(s: &Session, css: &str) -> Result<()> {
    wait_for(css, WAIT, || s.find(css).ok().map(|_| ()))?;
    s.click(css)
}

/// The index of the list entry (`prefix-N`) whose name element reads `name`.
fn index_of(s: &Session, css_of: impl Fn(usize) -> String, name: &str) -> Result<usize> {
    wait_for(&format!("{name} in the list"), WAIT, || {
        (0..10).find(|i| s.text(&css_of(*i)).ok().as_deref() == Some(name))
    })
}

/// Waits until the preview shows `size` and `direction`.
fn shows(s: &Session, size: &str, direction: &str) -> Result<()> {
    let css = format!("#poster-image[data-size='{size}'][data-direction='{direction}']");
    wait_for(&format!("the {size} {direction} preview"), WAIT, || {
        s.find(&css).ok().map(|_| ())
    })
}

/// Rasterises a saved PDF into the screenshots folder (to be looked at).
fn rasterise(pdf: &Path, name: &str) -> Result<()> {
    let out = screenshot_dir()?.join(name);
    let o = Command::new("pdftoppm")
        .args(["-r", "40", "-png", "-singlefile"])
        .arg(pdf)
        .arg(&out)
        .output()?;
    ensure!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Ok(())
}

#[test]
fn an_administrator_previews_and_saves_a_doors_posters() -> Result<()> {
    let _serial = serial();
    let env = Env::start()?;
    let venue_id = approved_venue(&env)?;
    // Provisioning: the deployment's root key and TLS CA.
    std::fs::create_dir_all(env.data_dir.join("trust"))?;
    for f in ["root.pub", "ca.pem"] {
        std::fs::copy(env.server.keys.join(f), env.data_dir.join("trust").join(f))?;
    }
    let s = env.open_app_as_is()?;
    click_when(&s, "#role-person")?;
    s.send_keys("#login-username", "demo.admin")?;
    s.send_keys("#login-password", PASSWORD)?;
    s.click("#login-submit")?;
    let i = index_of(&s, |i| format!("#venue-{i} .venue-name"), VENUE)?;
    click_when(&s, &format!("#venue-{i}-open"))?;
    let door = index_of(&s, |i| format!("#checkpoint-{i}-name"), "南门")?;
    click_when(&s, &format!("#checkpoint-{door}-posters"))?;

    // 南门 → 进: the preview of the A4 entry poster.
    s.wait_contains("#poster-door", "南门", WAIT)?;
    shows(&s, "a4", "entry")?;
    s.wait_contains("#poster-facts", "短码", WAIT)?;
    env.check_fit(&s, "posters-zh-a4-entry")?;
    s.click("#poster-exit")?;
    shows(&s, "a4", "exit")?;
    for size in ["60x90", "80x180"] {
        s.click(&format!("#poster-size-{size}"))?;
        s.wait_contains(
            "#poster-place",
            if size == "60x90" {
                "1.5 米"
            } else {
                "入口右侧"
            },
            WAIT,
        )?;
        shows(&s, size, "exit")?;
        env.check_fit(&s, &format!("posters-zh-{size}-exit"))?;
    }
    // Back to A4 进 (two quick taps: the preview shows the last); save the PDF.
    s.click("#poster-size-a4")?;
    s.click("#poster-entry")?;
    shows(&s, "a4", "entry")?;
    std::thread::sleep(Duration::from_millis(800));
    shows(&s, "a4", "entry")?;
    s.click("#poster-save")?;
    s.wait_contains("#poster-saved", "-entry-a4.pdf", WAIT)?;
    let saved = s.text("#poster-saved")?;
    let path = saved
        .split_once('：')
        .map(|(_, p)| p.trim().to_string())
        .context("saved path")?;
    ensure!(Path::new(&path).is_file(), "{path} not written");
    let info = Command::new("pdfinfo").arg(&path).output()?;
    ensure!(
        String::from_utf8_lossy(&info.stdout).contains("595.276 x 841.89 pts (A4)"),
        "{}",
        String::from_utf8_lossy(&info.stdout)
    );
    rasterise(Path::new(&path), "posters-saved-a4-entry")?;
    // And as PNG at 72 dpi for a messaging app: 210 mm is 596 pixels.
    s.select("#poster-dpi", "72")?;
    s.click("#poster-save-png")?;
    s.wait_contains("#poster-saved", "-entry-a4.png", WAIT)?;
    let png = std::fs::read(path.replace(".pdf", ".png"))?;
    ensure!(
        png[16..20] == 596u32.to_be_bytes(),
        "PNG width {:?}",
        &png[16..20]
    );
    env.check_fit(&s, "posters-zh-saved")?;

    // Every poster of the venue, with the sheet.
    s.click("#poster-save-all")?;
    s.wait_contains("#poster-sheet", "how-to-post.pdf", WAIT)?;
    let sheet = s
        .text("#poster-sheet")?
        .split_once('：')
        .map(|(_, p)| p.trim().to_string())
        .context("sheet path")?;
    let dir = Path::new(&sheet).parent().context("folder")?;
    let mut made: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".pdf"))
        .collect();
    made.sort();
    // Three doors (the venue's first door from its approval, 南门, 北门), entry and exit, and
    // the sheet.
    ensure!(made.len() == 7, "6 posters and the sheet: {made:?}");
    for f in &made {
        rasterise(
            &dir.join(f),
            &format!("posters-saved-{}", f.trim_end_matches(".pdf")),
        )?;
    }
    ensure!(dir.ends_with(&venue_id), "{}", dir.display());

    // The same screen in English.
    s.click("#nav-settings")?;
    s.click("#lang-en")?;
    s.click("#nav-venues")?;
    let i = index_of(&s, |i| format!("#venue-{i} .venue-name"), VENUE)?;
    click_when(&s, &format!("#venue-{i}-open"))?;
    let door = index_of(&s, |i| format!("#checkpoint-{i}-name"), "南门")?;
    click_when(&s, &format!("#checkpoint-{door}-posters"))?;
    shows(&s, "a4", "entry")?;
    s.wait_contains("#poster-facts", "Short code", WAIT)?;
    env.check_fit(&s, "posters-en-a4-entry")?;
    s.quit()
}
