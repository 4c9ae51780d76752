//! The station screen fed by the folder frame source: a health code in the frames is decoded,
//! outlined on the live preview (≥ 15 fps) and verified against the station's trust list; a USB
//! scanner's keystroke burst is taken as a code, a person typing is not.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use venuecode_tests::harness::{binary, serial, Env};
use venuecode_tests::procs::wait_for;

const WAIT: Duration = Duration::from_secs(30);

fn venuecode(args: &[&str]) -> Result<String> {
    let out = Command::new(binary("venuecode")?).args(args).output()?;
    ensure!(
        out.status.success(),
        "venuecode {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

fn issue(keys: &Path, name: &str, color: &str, png: Option<&Path>) -> Result<String> {
    let keys = keys.to_str().context("keys path")?;
    let mut args = vec![
        "code",
        "issue",
        "--keys",
        keys,
        "--name",
        name,
        "--phone",
        "13800138000",
        "--id",
        "11010519491231002X",
        "--color",
        color,
        "--valid-for",
        "30m",
    ];
    let png_arg;
    if let Some(p) = png {
        png_arg = p.to_str().context("png path")?.to_string();
        args.extend(["--png", &png_arg]);
    }
    venuecode(&args)
}

#[test]
fn folder_source_decodes_outlines_and_verifies_and_the_usb_scanner_works() -> Result<()> {
    let _one_at_a_time = serial();
    let env = Env::start()?;
    // Provision the station's trust list and put a green code in the frames folder.
    let trust = env.data_dir.join("trust");
    venuecode(&["keygen", "--out", trust.to_str().context("path")?])?;
    let frames = env.scratch().join("frames");
    std::fs::create_dir_all(&frames)?;
    let green = issue(&trust, "张三", "green", Some(&frames.join("0001.png")))?;

    let s = env.open_app()?;
    s.wait_text("#nav-station", "检测", WAIT)?;
    s.click("#source-folder")?;
    s.send_keys("#folder-path", frames.to_str().context("path")?)?;
    s.click("#scan-start")?;

    s.wait_text("#scan-verdict", "验证通过", WAIT)?;
    s.wait_text("#scan-kind", "健康码", WAIT)?;
    s.wait_text("#scan-color", "绿码", WAIT)?;
    s.wait_text("#scan-name", "张*", WAIT)?;
    s.wait_text("#scan-via", "来自摄像头画面", WAIT)?;
    let shown = s.text("#scan-text")?;
    ensure!(
        green.starts_with(&shown),
        "shown text {shown:?} is not the code"
    );
    // The preview runs at the source's 20 fps (at least 15) with the code outlined.
    s.find("#scan-result.pass")?;
    let fps = wait_for("preview at ≥ 15 fps", WAIT, || {
        let fps: f32 = s.attr("#scan-preview", "data-fps").ok()??.parse().ok()?;
        (fps >= 15.0).then_some(fps)
    })?;
    s.find("polygon.outline")?;
    env.screenshot("station-zh-folder-scan")?;
    println!("preview at {fps} fps");
    s.click("#scan-stop")?;

    // A USB scanner in keyboard mode: a red code arrives as a fast burst ending in Enter.
    let red = issue(&trust, "李四", "red", None)?;
    let before: u64 = s
        .attr("#scan-result", "data-count")?
        .unwrap_or_default()
        .parse()?;
    s.key_burst(&red, 3)?;
    s.wait_text("#scan-color", "红码", WAIT)?;
    s.wait_text("#scan-via", "来自扫码枪", WAIT)?;
    s.find("#scan-result.refuse")?;
    env.screenshot("station-zh-usb-scanner-red")?;
    // A person typing the same characters slowly is not a scan; the next fast burst is.
    s.key_burst("11010519491231002X", 120)?;
    s.key_burst(&green, 3)?;
    s.wait_text("#scan-color", "绿码", WAIT)?;
    let after: u64 = s
        .attr("#scan-result", "data-count")?
        .unwrap_or_default()
        .parse()?;
    ensure!(
        after == before + 2,
        "handled {} scans, expected 2 (typing was taken as a scan?)",
        after - before
    );
    s.quit()?;
    Ok(())
}

#[test]
fn no_camera_says_so_and_offers_the_other_sources() -> Result<()> {
    let _one_at_a_time = serial();
    if Path::new("/dev/video0").exists() {
        return Ok(()); // a machine with a camera opens it instead
    }
    let env = Env::start()?;
    let s = env.open_app()?;
    s.click("#source-camera")?;
    s.click("#scan-start")?;
    s.wait_text(
        ".error",
        "未检测到摄像头。请改用图片文件夹或演示画面，或连接 USB 扫码枪。",
        WAIT,
    )?;
    env.screenshot("station-zh-no-camera")?;
    // The demo source works without any device.
    s.click("#source-demo")?;
    s.click("#scan-start")?;
    wait_for("demo preview", WAIT, || s.find("#scan-preview").ok())?;
    s.quit()?;
    Ok(())
}
