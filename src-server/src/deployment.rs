//! A deployment's key directory (made by `venuecode keygen`), read by the server and the CLI.
//!
//! The directory holds `root.key`/`root.pub`, `issuer.key`/`issuer.pub`, `venue.key`/`venue.pub`
//! (64 hex characters each), `subject.secret`, `issuer.name`, `venue-authority.name`, and
//! `trust.cose`, the trust list signed by the root key.
//!
//! Invariants: a [`Deployment`] only exists when its trust list verifies against its root key;
//! the issuing keys are loaded only when asked for (the demo issuer), so a production server needs
//! no more than the root key and the signed list.

use std::path::{Path, PathBuf};

use venuecode_core::keys::{parse_hex, PublicKey, SecretKey};
use venuecode_core::trust::{TrustError, TrustList};

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
