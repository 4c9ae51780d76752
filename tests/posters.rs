//! Posters through the real command line and real readers: every built-in template (one per
//! size) is made as PDF by `venuecode poster make`; poppler says its page is exactly A4,
//! 60×90 cm or 80×180 cm and that it holds no raster image (the QR is vector paths); the page
//! rasterised at 150 dpi by `pdftoppm`, and as a phone sees it from the size's reading distance
//! (scaled down, turned, in perspective, blurred, under glare, noisy, in a 1280×720 frame), is
//! read by our scanner, zbar and ZXing-C++ to the same venue code, which verifies against the
//! deployment's trust list and names the checkpoint and direction the poster was made for.
//! And the batch: a CSV with a bad row makes the rest and names the row; an unwritable output
//! path is a clear error.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};
use venuecode_core::gate::Direction;
use venuecode_core::poster::PosterSize;
use venuecode_scan::synth::{photograph, Conditions};
use venuecode_scan::{Config, GrayImage, Scanner};
use venuecode_tests::harness::{binary, keygen, repo_root, tempdir::TempDir};
use venuecode_tests::tools::{run, save_png};

const DPI: f64 = 150.0;

fn make(keys: &Path, size: PosterSize, out: &Path) -> Result<()> {
    run(Command::new(binary("venuecode")?)
        .args(["poster", "make", "--keys"])
        .arg(keys)
        .args([
            "--venue-id",
            "demo-venue-0001",
            "--name",
            "阿拉尔市人民医院",
            "--region",
            "659002001001",
            "--category",
            "01",
            "--checkpoint",
            "south",
            "--checkpoint-name",
            "南门",
            "--direction",
            "exit",
            "--size",
            size.code(),
            "--out",
        ])
        .arg(out))?;
    Ok(())
}

/// The page size pdfinfo reports, in points.
fn page_points(pdf: &Path) -> Result<(f64, f64)> {
    let info = run(Command::new("pdfinfo").arg(pdf))
        .context("pdfinfo (poppler-utils: ./x setup installs it)")?;
    let line = info
        .lines()
        .find(|l| l.starts_with("Page size:"))
        .context("no page size")?;
    let nums: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    ensure!(nums.len() >= 2, "{line}");
    Ok((nums[0], nums[1]))
}

/// Texts our scanner reads in `img`.
fn ours(img: &GrayImage) -> Vec<String> {
    let mut s = Scanner::new(Config::default());
    let mut texts: Vec<String> = s.scan(img).into_iter().map(|f| f.text).collect();
    texts.dedup();
    texts
}

/// The claims of a venue code that verified against the deployment in `keys`.
fn verified(keys: &Path, text: &str) -> Result<(String, String, Direction)> {
    let trust = venuecode_keys::load_trust(&keys.join("trust.cose"), None)?;
    let v = venuecode_core::venue_code::verify(text, &trust)
        .map_err(|e| anyhow::anyhow!("the code did not verify: {e:?}"))?;
    Ok((
        v.claims.venue_id,
        v.claims.checkpoint_id,
        v.claims.direction,
    ))
}

#[test]
fn every_built_in_poster_has_its_size_a_vector_qr_and_reads_everywhere() -> Result<()> {
    let tmp = TempDir::new("venuecode-posters-")?;
    let keys = keygen(tmp.path())?;
    let out = venuecode_tests::harness::screenshot_dir()?
        .parent()
        .map(|p| p.join("posters"))
        .unwrap_or_else(|| tmp.path().join("posters"));
    std::fs::create_dir_all(&out)?;
    let mut peers: Vec<(PathBuf, String)> = Vec::new();
    for size in PosterSize::ALL {
        let pdf = out.join(format!("poster-{}.pdf", size.code()));
        make(&keys, size, &pdf)?;
        // Exactly the paper size (1 mm = 72/25.4 pt).
        let (w, h) = page_points(&pdf)?;
        let (mw, mh) = size.mm();
        let pt = |mm: f64| mm * 72.0 / 25.4;
        ensure!(
            (w - pt(mw)).abs() < 0.05 && (h - pt(mh)).abs() < 0.05,
            "{size:?}: {w}×{h} pt, expected {}×{}",
            pt(mw),
            pt(mh)
        );
        // No image XObject: the QR code is vector paths.
        let images = run(Command::new("pdfimages").arg("-list").arg(&pdf))?;
        ensure!(
            images.lines().count() <= 2,
            "{size:?} holds raster images:\n{images}"
        );
        // Rasterised at 150 dpi.
        let stem = out.join(format!("poster-{}-150dpi", size.code()));
        run(Command::new("pdftoppm")
            .args(["-r", "150", "-gray", "-png", "-singlefile"])
            .arg(&pdf)
            .arg(&stem))?;
        let page_png = stem.with_extension("png");
        let page = GrayImage::from_png(&std::fs::read(&page_png)?)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let read = ours(&page);
        ensure!(
            read.len() == 1,
            "{size:?}: our scanner read {read:?} on the page"
        );
        let text = read[0].clone();
        ensure!(
            verified(&keys, &text)? == ("demo-venue-0001".into(), "south".into(), Direction::Exit),
            "{size:?}: the code names another door"
        );
        peers.push((page_png, text.clone()));
        // As a phone sees it from the reading distance: a 65° camera 1280 pixels wide sees
        // 1.27 m across per metre of distance.
        let frame_px_per_mm = 1280.0 / (1270.0 * size.reading_distance_m());
        let scale = (frame_px_per_mm / (DPI / 25.4)) as f32;
        let (x, y, qw, qh) = venuecode_poster::Template::built_in(size)
            .qr_area()
            .context("qr area")?;
        let center = (
            ((x + qw / 2.0) * DPI / 25.4) as f32,
            ((y + qh / 2.0) * DPI / 25.4) as f32,
        );
        let conditions = Conditions {
            rotation_deg: 6.0,
            tilt: 0.12,
            blur: 1,
            noise: 4.0,
            glare: 0.35,
            ..Conditions::default()
        };
        let frame = photograph(&page, center, scale, 1280, 720, &conditions, 7);
        let frame_png = out.join(format!("poster-{}-phone.png", size.code()));
        save_png(&frame, &frame_png)?;
        let read = ours(&frame);
        ensure!(
            read == [text.clone()],
            "{size:?}: our scanner read {read:?} in the phone's frame ({})",
            frame_png.display()
        );
        peers.push((frame_png, text));
    }
    // zbar and ZXing-C++ read the same.
    let mut cmd = Command::new("python3");
    cmd.arg(repo_root().join("scripts/qr_readback.py"));
    for (png, _) in &peers {
        cmd.arg(png);
    }
    let read: serde_json::Value = serde_json::from_str(&run(&mut cmd)?)?;
    for (png, text) in &peers {
        for decoder in ["zxing-cpp", "zbar"] {
            ensure!(
                read[png.to_str().context("path")?][decoder] == serde_json::json!([text]),
                "{decoder} read {} as {}",
                png.display(),
                read[png.to_str().context("path")?][decoder]
            );
        }
    }
    Ok(())
}

#[test]
fn a_batch_makes_every_good_row_names_the_bad_one_and_refuses_an_unwritable_path() -> Result<()> {
    let tmp = TempDir::new("venuecode-poster-batch-")?;
    let keys = keygen(tmp.path())?;
    let csv = tmp.path().join("venues.csv");
    std::fs::write(
        &csv,
        "venue_id,venue_name,region,category,checkpoint_id,checkpoint_name,direction\n\
         v-1,阿拉尔市人民医院,659002001001,01,south,南门,\n\
         v-1,阿拉尔市人民医院,659002001001,01,north,北门,entry\n\
         v-2,幸福路农贸市场,659002001001,77,main,正门,entry\n\
         v-3,幸福路农贸市场,659002001001,02,main,正门,sideways\n",
    )?;
    let out = tmp.path().join("out");
    let o = Command::new(binary("venuecode")?)
        .args(["poster", "batch", "--keys"])
        .arg(&keys)
        .arg("--csv")
        .arg(&csv)
        .arg("--out-dir")
        .arg(&out)
        .output()?;
    let stderr = String::from_utf8_lossy(&o.stderr);
    ensure!(o.status.code() == Some(1), "some rows failed: {o:?}");
    ensure!(
        stderr.contains("line 4") && stderr.contains("category"),
        "{stderr}"
    );
    ensure!(
        stderr.contains("line 5") && stderr.contains("sideways"),
        "{stderr}"
    );
    for f in [
        "v-1/south-entry-a4.pdf",
        "v-1/south-exit-a4.pdf",
        "v-1/north-entry-a4.pdf",
        "v-1/how-to-post.pdf",
    ] {
        ensure!(out.join(f).is_file(), "{f} not made");
    }
    ensure!(!out.join("v-2").exists() && !out.join("v-3").exists());
    let sheet = run(Command::new("pdftotext")
        .arg(out.join("v-1/how-to-post.pdf"))
        .arg("-"))?;
    ensure!(
        sheet.contains("南门") && sheet.contains("北门") && sheet.contains("south-exit-a4.pdf"),
        "{sheet}"
    );

    // An output path that cannot be written says which.
    let blocker = tmp.path().join("a-file");
    std::fs::write(&blocker, "x")?;
    let o = Command::new(binary("venuecode")?)
        .args(["poster", "make", "--keys"])
        .arg(&keys)
        .args([
            "--venue-id",
            "v-1",
            "--name",
            "阿拉尔市人民医院",
            "--region",
            "659002001001",
            "--out",
        ])
        .arg(blocker.join("poster.pdf"))
        .output()?;
    let stderr = String::from_utf8_lossy(&o.stderr);
    ensure!(o.status.code() == Some(2), "{o:?}");
    ensure!(stderr.contains("a-file"), "{stderr}");
    Ok(())
}
