//! A deployment's key directory, with one owner: made by `venuecode keygen` ([`keygen`]), read by
//! the `venuecode` command and by the server ([`Deployment`], [`IssuerKeys`], [`public_key`],
//! [`load_trust`]). Only std and venuecode-core: a key tool needs no web server.
//!
//! The directory holds `root.key`/`root.pub`, `issuer.key`/`issuer.pub`, `venue.key`/`venue.pub`
//! (64 hex characters each), `subject.secret` (the issuer's pseudonym secret), `issuer.name`,
//! `venue-authority.name`, and `trust.cose`, the trust list signed by the root key.
//!
//! Invariants: secret files are written with mode 0600; every secret comes from the operating
//! system's random generator; a [`Deployment`] only exists when its trust list verifies against
//! its root key; the issuing keys are loaded only when asked for (the demo issuer, the CLI), so a
//! production server needs no more than the root key and the signed list.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use venuecode_core::keys::{parse_hex, PublicKey, SecretKey};
use venuecode_core::trust::{KeyRole, TrustError, TrustList, TrustedKey};

/// Why a key directory could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeploymentError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {what}")]
    Bad { path: PathBuf, what: &'static str },
    #[error("trust list {path}: {source}")]
    Trust {
        path: PathBuf,
        #[source]
        source: TrustError,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("reading the system random generator: {0}")]
    Random(String),
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, DeploymentError> {
    std::fs::read(path).map_err(|source| DeploymentError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_text(path: &Path) -> Result<String, DeploymentError> {
    let bytes = read_bytes(path)?;
    String::from_utf8(bytes)
        .map(|s| s.trim().to_string())
        .map_err(|_| DeploymentError::Bad {
            path: path.to_path_buf(),
            what: "not UTF-8 text",
        })
}

fn secret_key(path: &Path) -> Result<SecretKey, DeploymentError> {
    SecretKey::from_hex(&read_text(path)?).map_err(|_| DeploymentError::Bad {
        path: path.to_path_buf(),
        what: "not a 64-hex-character secret key",
    })
}

/// What the server serves and signs with.
pub struct Deployment {
    pub root: SecretKey,
    /// The signed trust list, as served to stations.
    pub trust_bytes: Vec<u8>,
    pub trust: TrustList,
}

impl Deployment {
    /// Loads `root.key` and `trust.cose` from `dir` and checks the list's signature.
    pub fn load(dir: &Path) -> Result<Deployment, DeploymentError> {
        let root = secret_key(&dir.join("root.key"))?;
        let path = dir.join("trust.cose");
        let trust_bytes = read_bytes(&path)?;
        let trust = TrustList::verify(&trust_bytes, &root.public())
            .map_err(|source| DeploymentError::Trust { path, source })?;
        Ok(Deployment {
            root,
            trust_bytes,
            trust,
        })
    }
}

/// The issuing keys of a deployment directory (demo issuer, CLI).
pub struct IssuerKeys {
    pub issuer: String,
    pub issuer_key: SecretKey,
    pub subject_secret: [u8; 32],
    pub venue_authority: String,
    pub venue_key: SecretKey,
}

impl IssuerKeys {
    /// Loads the issuing keys from `dir`.
    pub fn load(dir: &Path) -> Result<IssuerKeys, DeploymentError> {
        let path = dir.join("subject.secret");
        let subject_secret = parse_hex(&read_text(&path)?)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or(DeploymentError::Bad {
                path,
                what: "not 64 hex characters",
            })?;
        Ok(IssuerKeys {
            issuer: read_text(&dir.join("issuer.name"))?,
            issuer_key: secret_key(&dir.join("issuer.key"))?,
            subject_secret,
            venue_authority: read_text(&dir.join("venue-authority.name"))?,
            venue_key: secret_key(&dir.join("venue.key"))?,
        })
    }
}

/// Reads a public key file (`root.pub`).
pub fn public_key(path: &Path) -> Result<PublicKey, DeploymentError> {
    PublicKey::from_hex(&read_text(path)?).map_err(|_| DeploymentError::Bad {
        path: path.to_path_buf(),
        what: "not a 64-hex-character public key",
    })
}

/// `N` bytes from the operating system's random generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], DeploymentError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| DeploymentError::Random(e.to_string()))?;
    Ok(b)
}

fn write(path: &Path, text: &str, secret: bool) -> Result<(), DeploymentError> {
    let err = |source| DeploymentError::Write {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(path, format!("{text}\n")).map_err(err)?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    }
    #[cfg(not(unix))]
    let _ = secret;
    Ok(())
}

/// Creates a deployment's keys and its trust list (valid from a day before `now` for
/// `valid_days`) in `out`.
pub fn keygen(
    out: &Path,
    issuer: &str,
    venue_authority: &str,
    now: DateTime<Utc>,
    valid_days: i64,
) -> Result<(), DeploymentError> {
    std::fs::create_dir_all(out).map_err(|source| DeploymentError::Write {
        path: out.to_path_buf(),
        source,
    })?;
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
    std::fs::write(&path, list.sign(&root))
        .map_err(|source| DeploymentError::Write { path, source })
}

/// Reads and verifies a trust list against the root key (`root`, or `root.pub` beside it).
pub fn load_trust(trust: &Path, root: Option<&Path>) -> Result<TrustList, DeploymentError> {
    let root_path: PathBuf = match root {
        Some(p) => p.to_path_buf(),
        None => trust.parent().unwrap_or(Path::new(".")).join("root.pub"),
    };
    let root = public_key(&root_path)?;
    let bytes = read_bytes(trust)?;
    TrustList::verify(&bytes, &root).map_err(|source| DeploymentError::Trust {
        path: trust.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_directory_reads_back_and_keeps_its_secrets_private() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        keygen(dir.path(), "示例卫健委", "示例场所码平台", now, 30).unwrap();
        let d = Deployment::load(dir.path()).unwrap();
        assert_eq!(d.trust.keys.len(), 2);
        let k = IssuerKeys::load(dir.path()).unwrap();
        assert_eq!(k.issuer, "示例卫健委");
        assert_eq!(k.venue_authority, "示例场所码平台");
        assert!(public_key(&dir.path().join("root.pub")).unwrap() == d.root.public());
        let list = load_trust(&dir.path().join("trust.cose"), None).unwrap();
        assert_eq!(list.version, 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in ["root.key", "issuer.key", "venue.key", "subject.secret"] {
                let mode = std::fs::metadata(dir.path().join(f))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o077, 0, "{f} is readable by others");
            }
        }
        // Two directories never share a key.
        let other = tempfile::tempdir().unwrap();
        keygen(other.path(), "a", "b", now, 1).unwrap();
        assert!(Deployment::load(other.path()).unwrap().root.public() != d.root.public());
    }

    #[test]
    fn damaged_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        keygen(dir.path(), "a", "b", Utc::now(), 1).unwrap();
        std::fs::write(dir.path().join("root.key"), "zz\n").unwrap();
        let e = Deployment::load(dir.path()).err().unwrap();
        assert!(e.to_string().contains("root.key"), "{e}");
        std::fs::remove_file(dir.path().join("issuer.name")).unwrap();
        let e = IssuerKeys::load(dir.path()).err().unwrap();
        assert!(e.to_string().contains("issuer.name"), "{e}");
        let other = tempfile::tempdir().unwrap();
        keygen(other.path(), "a", "b", Utc::now(), 1).unwrap();
        let wrong_root = other.path().join("root.pub");
        let e = load_trust(&dir.path().join("trust.cose"), Some(&wrong_root)).unwrap_err();
        assert!(matches!(e, DeploymentError::Trust { .. }), "{e}");
    }
}
