//! Regression test on the shared corpus of real photos (../shared/corpus/qr-photos, 97 photos from
//! ZXing's black-box tests): the pipeline must keep its decode count and never panic.
//!
//! The floor is what the pipeline reaches today (96/97; the one left, set2/13, is an artistic
//! code whose modules are filled with a photograph of a map, so no threshold separates light from
//! dark — ZXing-C++, zbar and OpenCV's WeChat engine do not read it either).

use std::path::{Path, PathBuf};

use venuecode_scan::{GrayImage, Scanner};

/// Decodes measured when this floor was set; raise it when the pipeline improves.
const FLOOR: usize = 96;

fn corpus_dir() -> PathBuf {
    // The run-time value: a test binary reused from a shared build cache may have been compiled
    // in another checkout, so the compile-time path can point elsewhere.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.join("../../shared/corpus/qr-photos")
}

fn cases(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the shared corpus sits beside the clone)",
                dir.display()
            )
        })
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            cases(&p, out);
        } else if p.extension().is_some_and(|e| e == "png") {
            if let Ok(t) = std::fs::read(p.with_extension("txt")) {
                out.push((p, String::from_utf8_lossy(&t).trim().replace("\r\n", "\n")));
            }
        }
    }
}

#[test]
fn shared_corpus_decodes_at_least_the_floor_without_panics() {
    let mut all = Vec::new();
    cases(&corpus_dir(), &mut all);
    assert_eq!(all.len(), 97, "the shared corpus changed");
    let mut scanner = Scanner::default();
    let mut misses = Vec::new();
    for (path, expected) in &all {
        let img = GrayImage::from_png(&std::fs::read(path).unwrap()).unwrap();
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scanner.scan(&img)))
            .unwrap_or_else(|_| panic!("scanner panicked on {}", path.display()));
        if !found
            .iter()
            .any(|f| f.text.trim().replace("\r\n", "\n") == *expected)
        {
            misses.push(path.display().to_string());
        }
    }
    let ok = all.len() - misses.len();
    assert_eq!(scanner.contained_panics, 0, "rqrr panicked (contained)");
    assert!(
        ok >= FLOOR,
        "decoded {ok}/97, floor {FLOOR}; misses: {misses:#?}"
    );
}

/// set2/33 is China Mobile's code in the Hanzi mode of GB/T 18284 (mode 1101, GB2312), which
/// upstream rqrr refused as an unknown data type; its text starts with two control characters.
#[test]
fn a_hanzi_mode_code_reads() {
    let path = corpus_dir().join("set2/33.png");
    let img = GrayImage::from_png(&std::fs::read(&path).unwrap()).unwrap();
    let found = Scanner::default().scan(&img);
    assert_eq!(
        found.iter().map(|f| f.text.as_str()).collect::<Vec<_>>(),
        ["\u{1}\u{10}AD:SUB:阿;;"]
    );
}

#[test]
fn garbage_frames_never_panic() {
    let mut scanner = Scanner::default();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for (w, h) in [
        (0, 0),
        (1, 1),
        (20, 20),
        (21, 21),
        (64, 48),
        (320, 240),
        (1, 500),
    ] {
        for pattern in 0..4 {
            let data: Vec<u8> = (0..w * h)
                .map(|i| match pattern {
                    0 => 0,
                    1 => 255,
                    2 => {
                        if (i / 3) % 2 == 0 {
                            0
                        } else {
                            255
                        }
                    }
                    _ => {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        (seed >> 24) as u8
                    }
                })
                .collect();
            let img = GrayImage::new(w, h, data).unwrap();
            assert!(
                scanner.scan(&img).is_empty(),
                "{w}x{h} pattern {pattern} decoded something"
            );
        }
    }
    assert_eq!(scanner.contained_panics, 0);
}
