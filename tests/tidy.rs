//! Tidy checks over the source tree: every Rust file opens with a `//!` doc line saying what it is
//! for, and src-core stays free of I/O, clocks and frameworks.

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
            if name != "target" && name != "dist" && name != "fuzz" {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_source_file_opens_with_a_doc_comment() {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in [
        "src-core",
        "src-ipc",
        "src-tauri",
        "src-ui",
        "src-server",
        "tests",
    ] {
        rust_files(&root.join(dir), &mut files);
    }
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
