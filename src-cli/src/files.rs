//! Key files of a demo deployment and reading randomness: the CLI's I/O edge.
//!
//! Keys are written here; reading the issuing keys back is `venuecode_server::deployment`.
//! A key directory holds `root.key`/`root.pub`, `issuer.key`/`issuer.pub`, `venue.key`/`venue.pub`
//! (64 hex characters each), `subject.secret` (the issuer's pseudonym secret), `issuer.name`,
//! `venue-authority.name`, and `trust.cose`, the trust list signed by the root key. Secret files
//! are written with mode 0600.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use venuecode_core::keys::{PublicKey, SecretKey};
use venuecode_core::trust::{KeyRole, TrustList, TrustedKey};

/// `N` bytes from the operating system's random generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).context("reading the system random generator")?;
    Ok(b)
}

fn write(path: &Path, text: &str, secret: bool) -> Result<()> {
    std::fs::write(path, format!("{text}\n"))
        .with_context(|| format!("writing {}", path.display()))?;
    if secret {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn read(path: &Path) -> Result<String> {
    Ok(std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))?
        .trim()
        .to_string())
}

/// Creates a demo deployment's keys and signed trust list in `out`.
pub fn keygen(
    out: &Path,
    issuer: &str,
    venue_authority: &str,
    now: DateTime<Utc>,
    valid_days: i64,
) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let root = SecretKey::from_seed(&random_bytes()?);
    let hc = SecretKey::from_seed(&random_bytes()?);
    let va = SecretKey::from_seed(&random_bytes()?);
    let subject_secret: [u8; 32] = random_bytes()?;
    for (name, key) in [("root", &root), ("issuer", &hc), ("venue", &va)] {
        write(&out.join(format!("{name}.key")), &key.to_hex(), true)?;
        write(
            &out.join(format!("{name}.pub")),
            &key.public().to_hex(),
            false,
        )?;
    }
    write(
        &out.join("subject.secret"),
        &venuecode_core::keys::hex(&subject_secret),
        true,
    )?;
    write(&out.join("issuer.name"), issuer, false)?;
    write(&out.join("venue-authority.name"), venue_authority, false)?;
    let not_before = now - Duration::days(1);
    let not_after = now + Duration::days(valid_days);
    let list = TrustList {
        version: 1,
        issued_at: now,
        keys: vec![
            TrustedKey {
                issuer: issuer.to_string(),
                key: hc.public(),
                role: KeyRole::HealthIssuer,
                not_before,
                not_after,
            },
            TrustedKey {
                issuer: venue_authority.to_string(),
                key: va.public(),
                role: KeyRole::VenueAuthority,
                not_before,
                not_after,
            },
        ],
    };
    let path = out.join("trust.cose");
    std::fs::write(&path, list.sign(&root)).with_context(|| format!("writing {}", path.display()))
}

/// Reads and verifies a trust list against the root key (`root`, or `root.pub` beside it).
pub fn load_trust(trust: &Path, root: Option<&Path>) -> Result<TrustList> {
    let root_path: PathBuf = match root {
        Some(p) => p.to_path_buf(),
        None => trust.parent().unwrap_or(Path::new(".")).join("root.pub"),
    };
    let root = PublicKey::from_hex(&read(&root_path)?)
        .with_context(|| format!("{} is not a public key", root_path.display()))?;
    let bytes = std::fs::read(trust).with_context(|| format!("reading {}", trust.display()))?;
    TrustList::verify(&bytes, &root).with_context(|| format!("trust list {}", trust.display()))
}
