//! `qrbench`: decodes folders of photos laid out as `N.png` + `N.txt` (expected text) and prints
//! each miss, then exactly `decoded <ok>/<total> median <x.x> ms p95 <x.x> ms panics <n>`.
//!
//! After the figures it prints the time spent on each miss and on twelve 500×500 photos with no
//! code (noise, paper, stripes, blocks like text; target ≤ 30 ms each). `--unreadable` times only
//! those, ten rounds (for profiling misses); `--per-stage` also prints each stage's cost on them.
//!
//! Options: `--stages a,b,…` picks the pipeline stages; `--per-stage` also prints what each stage
//! decodes alone and which stage decoded each hit in the full pipeline; `--peers SCRIPT` runs
//! shared/tools/qr-peers.py on the same folders so ours and the peers' figures print in one run.
//!
//! Other modes: `--gate-frames` times live decoding of synthetic 1280×720 camera frames (a code at
//! gate distance, and frames with no code); `--make-small DIR` and `--make-dense DIR` write the
//! generated sets of `synth::sets` (small codes: versions 1–10 at 2–3 px per module in busy
//! frames; dense codes: versions 20–30 at 2–3 px per module) as `N.png` + `N.txt`, to run this
//! benchmark and the peers on; `--pixels` times the conversion of a 1280×720 camera
//! frame to grey in each format a camera delivers (YUYV, NV12 with a padded stride, limited-range
//! YUYV, MJPEG), target ≤ 1 ms, and libjpeg-turbo (through Pillow, when python3 has it) on the same
//! MJPEG bytes beside ours. Build with `--release` for figures that mean anything.

mod pixels;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use venuecode_scan::live::{LiveConfig, LiveDecoder};
use venuecode_scan::synth::sets::{self, payload};
use venuecode_scan::synth::{render, Conditions, Rng};
use venuecode_scan::{Config, GrayImage, Scanner, Stage};

struct Case {
    path: PathBuf,
    expected: String,
    image: GrayImage,
}

fn norm(s: &str) -> String {
    s.trim().replace("\r\n", "\n")
}

fn collect(dir: &Path, out: &mut Vec<Case>) -> Result<(), String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
            let txt = p.with_extension("txt");
            let Ok(expected) = std::fs::read(&txt) else {
                continue;
            };
            let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            let image = GrayImage::from_png(&bytes).map_err(|e| format!("{}: {e}", p.display()))?;
            out.push(Case {
                path: p,
                expected: norm(&String::from_utf8_lossy(&expected)),
                image,
            });
        }
    }
    Ok(())
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

fn main() -> ExitCode {
    let mut dirs = Vec::new();
    let mut stages = Stage::ALL.to_vec();
    let mut per_stage = false;
    let mut peers = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--stages" => {
                let list = args.next().unwrap_or_default();
                stages = list
                    .split(',')
                    .filter_map(|s| Stage::ALL.into_iter().find(|st| st.name() == s))
                    .collect();
                if stages.is_empty() {
                    eprintln!("--stages: none of {list:?} is a stage");
                    return ExitCode::from(2);
                }
            }
            "--per-stage" => per_stage = true,
            "--gate-frames" => return gate_frames(),
            "--pixels" => return pixels::pixels(),
            "--unreadable" => {
                // Only the photos with no code, ten rounds: for profiling the misses.
                let frames = unreadable_frames();
                let mut t = Vec::new();
                for _ in 0..10 {
                    for f in &frames {
                        let s = Instant::now();
                        let _ = Scanner::new(Config {
                            stages: stages.clone(),
                        })
                        .scan(f);
                        t.push(s.elapsed().as_secs_f64() * 1000.0);
                    }
                }
                let (p50, p95) = stats(t.clone());
                let max = t.iter().copied().fold(0.0, f64::max);
                println!("unreadable 500x500 photos x10: median {p50:.1} ms p95 {p95:.1} ms max {max:.1} ms");
                return ExitCode::SUCCESS;
            }
            "--make-dense" | "--make-small" => {
                let Some(dir) = args.next() else {
                    eprintln!("{a} needs a folder");
                    return ExitCode::from(2);
                };
                return make_set(Path::new(&dir), &a[7..]);
            }
            "--peers" => peers = args.next(),
            "-h" | "--help" => {
                println!(
                    "usage: qrbench [--stages a,b] [--per-stage] [--peers qr-peers.py] DIR..."
                );
                return ExitCode::SUCCESS;
            }
            d => dirs.push(PathBuf::from(d)),
        }
    }
    if dirs.is_empty() {
        eprintln!("usage: qrbench [--stages a,b] [--per-stage] [--peers qr-peers.py] DIR...");
        return ExitCode::from(2);
    }
    let mut cases = Vec::new();
    for d in &dirs {
        if let Err(e) = collect(d, &mut cases) {
            eprintln!("qrbench: {e}");
            return ExitCode::from(2);
        }
    }

    let mut scanner = Scanner::new(Config {
        stages: stages.clone(),
    });
    let (mut ok, mut panics) = (0usize, 0usize);
    let mut times = Vec::with_capacity(cases.len());
    let mut by_stage: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut misses: Vec<String> = Vec::new();
    for c in &cases {
        let t = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| scanner.scan(&c.image)));
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        times.push(ms);
        if !result
            .as_ref()
            .is_ok_and(|found| found.iter().any(|f| norm(&f.text) == c.expected))
        {
            misses.push(format!(
                "{:.1} ms ({}x{})",
                ms, c.image.width, c.image.height
            ));
        }
        match result {
            Ok(found) => {
                if let Some(f) = found.iter().find(|f| norm(&f.text) == c.expected) {
                    ok += 1;
                    *by_stage.entry(f.stage.name()).or_default() += 1;
                } else {
                    let got: Vec<String> = found
                        .iter()
                        .map(|f| {
                            format!(
                                "{} [{}]",
                                f.text.chars().take(80).collect::<String>(),
                                f.stage.name()
                            )
                        })
                        .collect();
                    println!(
                        "miss {} ({}x{}): got {:?}",
                        c.path.display(),
                        c.image.width,
                        c.image.height,
                        got
                    );
                }
            }
            Err(_) => {
                panics += 1;
                println!("PANIC {}", c.path.display());
            }
        }
    }
    let panics = panics + scanner.contained_panics as usize;

    if per_stage {
        println!("hits by the stage that decoded them: {by_stage:?}");
        for st in &stages {
            let mut s = Scanner::default();
            let mut n = 0;
            let t = Instant::now();
            for c in &cases {
                if s.run_stage(*st, &c.image)
                    .iter()
                    .any(|f| norm(&f.text) == c.expected)
                {
                    n += 1;
                }
            }
            println!(
                "stage {:<11} alone: {n}/{} ({:.1} ms per photo)",
                st.name(),
                cases.len(),
                t.elapsed().as_secs_f64() * 1000.0 / cases.len().max(1) as f64
            );
        }
        // What each stage costs where there is nothing to find (the full pipeline skips some).
        let frames = unreadable_frames();
        let costs: Vec<String> = stages
            .iter()
            .map(|st| {
                let mut s = Scanner::default();
                let t = Instant::now();
                for f in &frames {
                    let _ = s.run_stage(*st, f);
                }
                let ms = t.elapsed().as_secs_f64() * 1000.0 / frames.len().max(1) as f64;
                format!("{} {ms:.1}", st.name())
            })
            .collect();
        println!(
            "stage cost alone on unreadable 500x500 photos (ms): {}",
            costs.join(", ")
        );
    }
    if let Some(script) = peers {
        println!("peers, same folders, same run:");
        let status = std::process::Command::new("python3")
            .arg(script)
            .args(&dirs)
            .status();
        if let Err(e) = status {
            println!("could not run the peers: {e}");
        }
    }
    println!("time spent on each miss: {}", misses.join(", "));
    let (u50, umax) = unreadable();
    println!(
        "unreadable 500x500 photos (no code: noise, paper, stripes, text-like blocks): median {u50:.1} ms max {umax:.1} ms (target ≤ 30 ms each)"
    );
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "decoded {ok}/{} median {:.1} ms p95 {:.1} ms panics {panics}",
        cases.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.95)
    );
    ExitCode::SUCCESS
}

fn stats(mut t: Vec<f64>) -> (f64, f64) {
    t.sort_by(|a, b| a.total_cmp(b));
    (percentile(&t, 0.5), percentile(&t, 0.95))
}

fn gate_frames() -> ExitCode {
    let mut rng = Rng::new(42);
    let (mut with_code, mut photo, mut without) = (Vec::new(), Vec::new(), Vec::new());
    let (mut decoded, mut within) = (0, 0);
    const N: u64 = 60;
    for seed in 0..N {
        // A phone held up at the gate: a 300-character code, 3.5 px per module, tilted, a little
        // blur and sensor noise.
        let text = payload(&mut rng, 300);
        let c = Conditions {
            rotation_deg: (rng.unit() - 0.5) * 40.0,
            tilt: rng.unit() * 0.2,
            module_px: 3.5,
            blur: 1,
            noise: 6.0,
            paper: 10.0,
            ..Conditions::default()
        };
        let Ok((frame, _)) = render(&text, 1280, 720, &c, seed) else {
            continue;
        };
        // The code held in view: frames until it is read (at most 6, 0.2 s at 30 fps), each
        // frame timed.
        let mut live = LiveDecoder::new(LiveConfig::default());
        for i in 0..6u64 {
            let t = Instant::now();
            let r = live.on_frame(&frame, i * 33);
            with_code.push(t.elapsed().as_secs_f64() * 1000.0);
            if r.new.iter().any(|f| f.text == text) {
                decoded += usize::from(i == 0);
                within += 1;
                break;
            }
        }
        let t = Instant::now();
        let _ = Scanner::default().scan(&frame);
        photo.push(t.elapsed().as_secs_f64() * 1000.0);
        // The same scene without a code: noise and texture only.
        let empty = Conditions {
            module_px: 0.0,
            noise: 6.0,
            paper: 25.0,
            ..Conditions::default()
        };
        let (blank, _) = render("X", 1280, 720, &empty, seed).expect("a one-letter code fits");
        let mut live = LiveDecoder::new(LiveConfig::default());
        for i in 0..3 {
            let t = Instant::now();
            let _ = live.on_frame(&blank, i * 33);
            without.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    // What each whole-frame stage costs on a 720p frame without a code (what a full pass spends).
    let empty = Conditions {
        module_px: 0.0,
        noise: 6.0,
        paper: 25.0,
        ..Conditions::default()
    };
    let (blank, _) = render("X", 1280, 720, &empty, 1).expect("a one-letter code fits");
    let mut costs = Vec::new();
    for stage in Stage::ALL {
        let mut scanner = Scanner::default();
        let mut t = Vec::new();
        for _ in 0..5 {
            let s = Instant::now();
            let _ = scanner.run_stage(stage, &blank);
            t.push(s.elapsed().as_secs_f64() * 1000.0);
        }
        costs.push(format!("{} {:.1}", stage.name(), stats(t).0));
    }
    let bin = Instant::now();
    let b = venuecode_scan::finder::Binarizer::new(&blank);
    let _ = venuecode_scan::finder::triples(venuecode_scan::finder::find_finders_with(&blank, &b));
    costs.push(format!(
        "locator {:.1}",
        bin.elapsed().as_secs_f64() * 1000.0
    ));
    let (a50, a95) = stats(with_code);
    let (p50, p95) = stats(photo);
    let (b50, b95) = stats(without);
    println!(
        "1280x720 frames, live decoder (finder-located crops; a unit of whole-frame work every 3rd frame):"
    );
    println!("  code at gate distance: decoded {decoded}/{N} on the first frame, {within}/{N} within 6 frames; per frame median {a50:.1} ms p95 {a95:.1} ms (target p95 ≤ 10 ms)");
    println!("  no code in view:       median {b50:.1} ms p95 {b95:.1} ms (target ≤ 5 ms)");
    println!(
        "  whole-frame stage costs on an empty frame (ms): {}",
        costs.join(", ")
    );
    println!(
        "  same frames, photo mode (every stage until a hit): median {p50:.1} ms p95 {p95:.1} ms"
    );
    ExitCode::SUCCESS
}

/// Writes a generated set (`synth::sets`) as `N.png` + `N.txt`, and `N.name` for what it shows.
fn make_set(dir: &Path, what: &str) -> ExitCode {
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("{}: {e}", dir.display());
        return ExitCode::from(2);
    }
    let set = if what == "small" {
        sets::small_codes()
    } else {
        sets::dense_codes()
    };
    for (i, case) in set.iter().enumerate() {
        let img = &case.image;
        let mut png_bytes = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut png_bytes, img.width as u32, img.height as u32);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            let written = enc
                .write_header()
                .and_then(|mut w| w.write_image_data(&img.data));
            if let Err(e) = written {
                eprintln!("png: {e}");
                return ExitCode::from(2);
            }
        }
        let base = dir.join(i.to_string());
        if let Err(e) = std::fs::write(base.with_extension("png"), png_bytes)
            .and_then(|_| std::fs::write(base.with_extension("txt"), &case.text))
            .and_then(|_| std::fs::write(base.with_extension("name"), &case.name))
        {
            eprintln!("{}: {e}", base.display());
            return ExitCode::from(2);
        }
    }
    println!(
        "wrote {} {what}-code photos to {}",
        set.len(),
        dir.display()
    );
    ExitCode::SUCCESS
}

/// Twelve 500×500 photos with no code: noise, paper, stripes, blocks like printed text.
fn unreadable_frames() -> Vec<GrayImage> {
    let mut frames = Vec::new();
    for seed in 0..12u64 {
        let c = Conditions {
            module_px: 0.0,
            noise: 4.0 + (seed % 4) as f32 * 3.0,
            paper: 10.0 + (seed % 3) as f32 * 15.0,
            moire: if seed % 2 == 0 { 0.3 } else { 0.0 },
            glare: (seed % 5) as f32 * 0.1,
            ..Conditions::default()
        };
        let Ok((mut frame, _)) = render("X", 500, 500, &c, seed) else {
            continue;
        };
        // Blocks like printed text on a third of them: what fools finder-pattern detectors.
        if seed % 3 == 0 {
            let mut rng = Rng::new(seed);
            for y in (40..460).step_by(24) {
                let mut x = 40;
                while x < 460 {
                    let w = 6 + (rng.next_u64() % 14) as usize;
                    for yy in y..y + 12 {
                        for xx in x..(x + w).min(460) {
                            frame.data[yy * 500 + xx] = 30;
                        }
                    }
                    x += w + 4;
                }
            }
        }
        frames.push(frame);
    }
    frames
}

/// Median and maximum time of a full scan of each unreadable photo.
fn unreadable() -> (f64, f64) {
    let mut t = Vec::new();
    for frame in unreadable_frames() {
        let s = Instant::now();
        let _ = Scanner::default().scan(&frame);
        t.push(s.elapsed().as_secs_f64() * 1000.0);
    }
    t.sort_by(f64::total_cmp);
    (percentile(&t, 0.5), t.last().copied().unwrap_or(0.0))
}
