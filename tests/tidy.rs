//! Tidy checks over the source tree: every Rust file of every crate (the workspace members, read
//! from Cargo.toml, and the fuzz targets) opens with a `//!` doc line saying what it is for; no
//! file is over 600 lines before its tests; and src-core stays free of I/O, clocks and frameworks.

use std::path::{Path, PathBuf};

use venuecode_tests::harness::repo_root;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        if p.is_dir() {
            if name != "target" && name != "dist" && name != "corpus" && name != "artifacts" {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The workspace members named in the root Cargo.toml, plus the fuzz crate.
fn crates() -> Vec<String> {
    let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let members = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("members"))
        .expect("a members line in Cargo.toml");
    let mut dirs: Vec<String> = members
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    dirs.push("fuzz".into());
    dirs
}

/// Every Rust file of every crate.
fn all_files() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in crates() {
        let before = files.len();
        rust_files(&root.join(&dir), &mut files);
        assert!(files.len() > before, "crate {dir} has no Rust files");
    }
    files
}

#[test]
fn the_checks_cover_every_crate() {
    let crates = crates();
    for c in [
        "src-core",
        "src-keys",
        "src-ipc",
        "src-tauri",
        "src-ui",
        "src-server",
        "src-cli",
        "src-scan",
        "tests",
        "fuzz",
    ] {
        assert!(crates.iter().any(|d| d == c), "{c} is not checked");
    }
}

/// Longest a file may be before its `#[cfg(test)]` part.
const MAX_LINES: usize = 600;

#[test]
fn no_file_is_over_600_lines_before_its_tests() {
    let root = repo_root();
    let long: Vec<String> = all_files()
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let code = text
                .lines()
                .take_while(|l| l.trim() != "#[cfg(test)]")
                .count();
            (code > MAX_LINES).then(|| {
                format!(
                    "{} ({code} lines)",
                    p.strip_prefix(&root).unwrap_or(p).display()
                )
            })
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these files along their seams (at most {MAX_LINES} lines before the tests): {long:?}"
    );
}

#[test]
fn every_source_file_opens_with_a_doc_comment() {
    let root = repo_root();
    let files = all_files();
    assert!(files.len() > 10, "found only {} files", files.len());
    let missing: Vec<_> = files
        .iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|p| p.strip_prefix(&root).unwrap_or(p).display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "these files do not open with a //! line: {missing:?}"
    );
}

#[test]
fn core_does_no_io_and_reads_no_clock() {
    let root = repo_root();
    let mut files = Vec::new();
    rust_files(&root.join("src-core/src"), &mut files);
    let banned = [
        "std::fs",
        "std::net",
        "std::process",
        "std::env",
        "SystemTime::now",
        "Instant::now",
        "Utc::now",
        "Local::now",
        "tauri",
        "rusqlite",
        "reqwest",
    ];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for b in banned {
            assert!(
                !text.contains(b),
                "{} mentions {b}: src-core must stay pure",
                f.display()
            );
        }
    }
}
