//! `qrbench`: decodes folders of photos laid out as `N.png` + `N.txt` (expected text) and prints
//! each miss, then exactly `decoded <ok>/<total> median <x.x> ms p95 <x.x> ms panics <n>`.
//!
//! Options: `--stages a,b,…` picks the pipeline stages; `--per-stage` also prints what each stage
//! decodes alone and which stage decoded each hit in the full pipeline; `--peers SCRIPT` runs
//! shared/tools/qr-peers.py on the same folders so ours and the peers' figures print in one run.
//! Build with `--release` for figures that mean anything.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

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
    for c in &cases {
        let t = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| scanner.scan(&c.image)));
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        match result {
            Ok(found) => {
                if let Some(f) = found.iter().find(|f| norm(&f.text) == c.expected) {
                    ok += 1;
                    *by_stage.entry(f.stage.name()).or_default() += 1;
                } else {
                    let got: Vec<String> = found
                        .iter()
                        .map(|f| f.text.chars().take(40).collect())
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
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "decoded {ok}/{} median {:.1} ms p95 {:.1} ms panics {panics}",
        cases.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.95)
    );
    ExitCode::SUCCESS
}
