//! Small helpers the integration tests share: running a command and failing with its output,
//! writing a grayscale frame as PNG.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use venuecode_scan::GrayImage;

/// Runs `cmd`; its standard output, or an error carrying everything it printed.
pub fn run(cmd: &mut Command) -> Result<String> {
    let o = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !o.status.success() {
        bail!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Writes a grayscale frame as an 8-bit PNG.
pub fn save_png(img: &GrayImage, path: &Path) -> Result<()> {
    let file = std::fs::File::create(path)?;
    let mut enc = png::Encoder::new(file, img.width as u32, img.height as u32);
    enc.set_color(png::ColorType::Grayscale);
    enc.write_header()?.write_image_data(&img.data)?;
    Ok(())
}
