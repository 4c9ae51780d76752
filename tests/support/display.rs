//! The virtual display end-to-end tests run on, and screenshots of it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::harness::repo_root;
use crate::procs::{wait_for, ProcGuard};

/// The folder screenshots are written to (created).
pub fn screenshot_dir() -> Result<PathBuf> {
    let base = std::env::var_os("VENUECODE_TEST_OUTPUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("test-output"));
    let dir = base.join("screenshots");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// A virtual X display.
pub struct Xvfb {
    pub display: String,
    _proc: ProcGuard,
}

impl Xvfb {
    /// Starts Xvfb on the first free display number from 90.
    pub fn start() -> Result<Xvfb> {
        for n in 90..190 {
            if Path::new(&format!("/tmp/.X{n}-lock")).exists()
                || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            {
                continue;
            }
            let display = format!(":{n}");
            let mut cmd = Command::new("Xvfb");
            // Square, so the window fits in landscape (1280×800) and portrait (800×1280).
            cmd.args([&display, "-screen", "0", "1280x1280x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut proc = ProcGuard::spawn("Xvfb", cmd)?;
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
            let ready = wait_for("Xvfb socket", Duration::from_secs(10), || {
                if socket.exists() {
                    Some(true)
                } else if proc.check_alive().is_err() {
                    Some(false)
                } else {
                    None
                }
            })?;
            if ready {
                return Ok(Xvfb {
                    display,
                    _proc: proc,
                });
            }
        }
        bail!("no free X display between :90 and :189")
    }
}

/// Saves a PNG of the whole virtual screen on `display` as `<screenshot_dir>/<name>.png`
/// (xwd piped into ImageMagick; WebKitWebDriver's own screenshot hangs under Xvfb).
/// `crop` is `(x, y, width, height)` on the screen; `None` keeps the whole screen.
pub fn save_screenshot_of(
    display: &str,
    name: &str,
    crop: Option<(i64, i64, i64, i64)>,
) -> Result<PathBuf> {
    let path = screenshot_dir()?.join(format!("{name}.png"));
    let crop = crop
        .map(|(x, y, w, h)| format!("-crop {w}x{h}+{x}+{y} +repage"))
        .unwrap_or_default();
    let script = format!(
        "xwd -root -silent -display '{display}' | /usr/bin/convert xwd:- {crop} png:'{}'",
        path.display()
    );
    let status = Command::new("bash")
        .args(["-o", "pipefail", "-c", &script])
        .status()
        .context("running xwd | convert")?;
    if !status.success() {
        bail!("screenshot {name} failed: {status}");
    }
    let png = std::fs::read(&path)?;
    if png.len() < 8 || &png[1..4] != b"PNG" {
        bail!("the screenshot {} is not a PNG", path.display());
    }
    Ok(path)
}
