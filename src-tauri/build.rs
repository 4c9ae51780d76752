//! Build script: Tauri's code generation from the root tauri.conf.json (with a permission per
//! app command, from venuecode-ipc's list), and the build commit.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=VENUECODE_COMMIT={commit}");
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs/heads");
    // The UI is embedded from dist/: rebuild when any file in it changes, not only the folder.
    println!("cargo:rerun-if-changed=../dist");
    if let Ok(entries) = std::fs::read_dir("../dist") {
        for entry in entries.flatten() {
            println!("cargo:rerun-if-changed={}", entry.path().display());
        }
    }
    // Every app command gets an `allow-…` permission, and only what the capability in
    // capabilities/ grants may be called: the window cannot reach a command nobody listed.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .config_path("../tauri.conf.json")
            .app_manifest(tauri_build::AppManifest::new().commands(venuecode_ipc::ALL_COMMANDS)),
    )
    .expect("tauri build step failed");
}
