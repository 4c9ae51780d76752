//! What a thief gets from a station's disk (issue 16): a copy of the data directory, taken after
//! an end-to-end run, read the way an attacker would — `sqlite3`, `strings`, a byte search for
//! every fragment of a person's details longer than their mask shows, and a look for the keys —
//! and the same search over the webview's own storage and over the run's logs.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};
use venuecode_tests::keyring::Keyring;

/// A person's details as typed or carried in a code, and how much of each a mask may show.
pub struct Secret<'a> {
    pub text: &'a str,
    /// Fragments of this many characters (or more) must not be found.
    pub fragment: usize,
}

/// Copies `from` (files and folders) to `to`.
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            files(&entry.path(), out)?;
        } else {
            out.push(entry.path());
        }
    }
    Ok(())
}

/// Every run of `n` characters of `text`.
fn fragments(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(n.min(chars.len()))
        .map(|w| w.iter().collect())
        .collect()
}

fn found_in(haystack: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    haystack.windows(n.len()).any(|w| w == n)
}

/// Fragment length searched in text files (a decrypted database, logs) for numbers: hex ids,
/// keys and signatures there make any given 5-digit run likely by chance (a CI run found one of
/// an ID number's in a sealed value's hex), while 8 digits (a date of birth) are not.
const PLAIN_DIGITS: usize = 8;

/// The fragments of `secrets` found in `bytes`; `plain` for text files (see [`PLAIN_DIGITS`]),
/// otherwise (encrypted files, where any run is chance at 256⁻ⁿ) at each secret's own length.
fn leaks(bytes: &[u8], secrets: &[Secret], plain: bool) -> Vec<String> {
    secrets
        .iter()
        .flat_map(|s| {
            let numeric = s.text.chars().all(|c| c.is_ascii_alphanumeric());
            let n = if plain && numeric {
                s.fragment.max(PLAIN_DIGITS)
            } else {
                s.fragment
            };
            fragments(s.text, n)
        })
        .filter(|f| found_in(bytes, f))
        .collect()
}

/// Checks a copied station directory: no key in it, `sqlite3` cannot read the database, and
/// neither `strings` nor a byte search finds a fragment of any secret in any file. `masked` are
/// texts the decrypted database must hold (so the search is shown to find what is there).
pub fn nothing_readable(
    keyring: &Keyring,
    copy: &Path,
    secrets: &[Secret],
    masked: &[&str],
) -> Result<()> {
    // The keys are in the keyring, not on the disk.
    ensure!(
        !copy.join("keys").exists(),
        "key files beside the data although a keyring is present"
    );
    let marker: serde_json::Value =
        serde_json::from_slice(&std::fs::read(copy.join("keystore.json"))?)?;
    let station = marker["station"].as_str().context("station id")?;
    let db_key = keyring.lookup("venuecode-station", &format!("{station}/database"))?;
    let pseudonym_key = keyring.lookup("venuecode-station", &format!("{station}/pseudonym"))?;
    let raw = |hex: &str| -> Result<Vec<u8>> {
        (0..hex.len())
            .step_by(2)
            .map(|i| Ok(u8::from_str_radix(&hex[i..i + 2], 16)?))
            .collect()
    };
    let keys = [
        db_key.clone().into_bytes(),
        raw(&db_key)?,
        pseudonym_key.clone().into_bytes(),
        raw(&pseudonym_key)?,
    ];

    // sqlite3 sees no database.
    let db = copy.join("station.db");
    let out = Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT count(*) FROM check_ins;")
        .output()
        .context("sqlite3")?;
    let said = String::from_utf8_lossy(&out.stderr);
    ensure!(
        !out.status.success() && said.contains("not a database"),
        "sqlite3 read the stolen database: {} {said}",
        String::from_utf8_lossy(&out.stdout)
    );

    let mut all = Vec::new();
    files(copy, &mut all)?;
    ensure!(all.len() >= 2, "the copy holds {} files", all.len());
    // The rest of what the app leaves on the disk: the webview's own storage (cache, local
    // storage), under the app's identifier — plain files, searched as text.
    let mut webview = Vec::new();
    if let Some(home) = std::env::var_os("HOME") {
        let home = PathBuf::from(home);
        for dir in [
            home.join(".local/share/cn.venuecode.station"),
            home.join(".cache/cn.venuecode.station"),
            home.join(".config/cn.venuecode.station"),
        ] {
            if dir.is_dir() {
                files(&dir, &mut webview)?;
            }
        }
    }
    for file in &all {
        let bytes = std::fs::read(file)?;
        for key in &keys {
            ensure!(
                !bytes.windows(key.len()).any(|w| w == key.as_slice()),
                "{} holds a key",
                file.display()
            );
        }
        let found = leaks(&bytes, secrets, false);
        ensure!(found.is_empty(), "{} holds {found:?}", file.display());
        // As the acceptance says it: `strings`, over 8-bit text (UTF-8 names included).
        let strings = Command::new("strings")
            .args(["-a", "-e", "S", "-n", "2"])
            .arg(file)
            .output()
            .context("strings")?;
        let found = leaks(&strings.stdout, secrets, false);
        ensure!(
            found.is_empty(),
            "strings finds {found:?} in {}",
            file.display()
        );
    }

    for file in &webview {
        let found = leaks(&std::fs::read(file)?, secrets, true);
        ensure!(found.is_empty(), "{} holds {found:?}", file.display());
    }

    // The same search over the decrypted database finds the masked details: the search reads
    // what is there, and the database holds only masks.
    let plain = copy.join("decrypted.db");
    let conn = keyring.open_station_db(copy)?;
    conn.execute_batch(&format!(
        "ATTACH DATABASE '{}' AS plain KEY '';",
        plain.display()
    ))?;
    conn.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(()))?;
    conn.execute_batch("DETACH DATABASE plain;")?;
    drop(conn);
    let bytes = std::fs::read(&plain)?;
    for m in masked {
        ensure!(found_in(&bytes, m), "the decrypted copy lacks {m}");
    }
    let found = leaks(&bytes, secrets, true);
    ensure!(
        found.is_empty(),
        "the decrypted database holds {found:?} in clear"
    );
    Ok(())
}

/// Checks the logs of an end-to-end run: no fragment of any secret in any of them. `expected`
/// is a line fragment the logs must hold (so they are shown to have been written and read).
pub fn logs_hold_nothing(logs: &[PathBuf], secrets: &[Secret], expected: &str) -> Result<()> {
    let mut seen = false;
    for log in logs {
        let bytes = std::fs::read(log).with_context(|| format!("reading {}", log.display()))?;
        seen |= found_in(&bytes, expected);
        let found = leaks(&bytes, secrets, true);
        ensure!(found.is_empty(), "{} holds {found:?}", log.display());
    }
    ensure!(seen, "no log holds {expected:?}: were they written?");
    Ok(())
}
