//! A deployment's key directories, with one owner: made by `venuecode keygen` ([`keygen`]) and
//! renewed by `venuecode delegate` ([`delegate`]), read by the `venuecode` command and by the
//! server ([`ServerKeys`], [`IssuerKeys`], [`VenueAuthorityKeys`], [`public_key`], [`load_trust`]).
//! Only std and venuecode-core: a key tool needs no web server.
//!
//! Layout of a deployment directory `OUT` (each part goes to its own machine):
//! - `OUT/root.key`, `OUT/root.pub`, `OUT/trust.cose` — the offline root and the trust list it
//!   signed; the root key stays with the `venuecode` command, never on the server;
//! - `OUT/server/` — `server.key` (the server's own signing key), `delegation.cose` (the root's
//!   short-lived delegation of it), `trust.cose` and `root.pub`: all the sync server reads;
//! - `OUT/issuer/` — the health authority's issuing key `issuer.key`, `issuer.name` and the
//!   pseudonym secret `subject.secret` (it lives with the issuer, not with the sync server);
//! - `OUT/venue-authority/` — `venue.key`, `venue-authority.name`;
//! - `OUT/demo-issuer/` (only with `demo`) — a separate issuer, listed on the trust list as
//!   [`DEMO_ISSUER`]; a production list (made without `demo`) never contains it;
//! - `OUT/tls-ca.key` (offline), `OUT/ca.pem` (stations pin it), `OUT/server/tls.crt` and
//!   `tls.key` — the deployment's own TLS (`tls.rs`).
//!
//! Invariants: secret files are written with mode 0600; every secret comes from the operating
//! system's random generator; [`ServerKeys`] refuses a directory holding `root.key`, and only
//! exists when its delegation and trust list verify against `root.pub`.

mod root;
mod tls;

use std::path::{Path, PathBuf};

pub use root::{read_chain, rotate_root, CHAIN_FILE};
pub use tls::{make_tls, renew_server_certificate, CA_DAYS, SERVER_CERT_DAYS};

use chrono::{DateTime, Duration, Utc};
use venuecode_core::keys::{parse_hex, PublicKey, SecretKey};
use venuecode_core::sync::{AnswerError, Delegation, Succession};
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
    #[error("server key delegation {path}: {source}")]
    Delegation {
        path: PathBuf,
        #[source]
        source: AnswerError,
    },
    #[error("TLS certificate in {path}: {what}")]
    Tls { path: PathBuf, what: String },
    #[error("reading the system random generator: {0}")]
    Random(String),
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, DeploymentError> {
    std::fs::read(path).map_err(|source| DeploymentError::Read {
        path: path.to_path_buf(),
        source,
    })
}

pub(crate) fn read_text(path: &Path) -> Result<String, DeploymentError> {
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

/// The name the demo issuer signs as; a production trust list never lists it.
pub const DEMO_ISSUER: &str = "DEMO-ISSUER（演示）";

/// How long a trust list lasts unless told otherwise (the root re-signs it before then:
/// [`renew_trust`]).
pub const TRUST_LIST_DAYS: i64 = 30;

/// How long a server key delegation lasts unless told otherwise.
pub const DELEGATION_DAYS: i64 = 14;

/// What the sync server serves and signs with: its own key, the root's delegation of it, the
/// trust list — and nothing that can sign a trust list or a code.
pub struct ServerKeys {
    pub key: SecretKey,
    /// The root-signed delegation of `key`, as sent with every answer.
    pub delegation_bytes: Vec<u8>,
    pub delegation: Delegation,
    /// The signed trust list, as served to stations.
    pub trust_bytes: Vec<u8>,
    pub trust: TrustList,
    /// The root succession chain (`root-chain`, oldest first; empty before any rotation), sent
    /// with every answer so stations holding an older root follow it.
    pub root_chain: Vec<Vec<u8>>,
}

impl ServerKeys {
    /// Loads `server.key`, `delegation.cose`, `trust.cose` and `root.pub` from `dir`, checks the
    /// delegation names this key and the trust list's signature, and refuses a directory that
    /// holds the root key.
    pub fn load(dir: &Path) -> Result<ServerKeys, DeploymentError> {
        if dir.join("root.key").exists() {
            return Err(DeploymentError::Bad {
                path: dir.join("root.key"),
                what: "the root key must stay offline with the venuecode command: give the server the server/ directory made by venuecode keygen",
            });
        }
        let root = public_key(&dir.join("root.pub"))?;
        let key = secret_key(&dir.join("server.key"))?;
        let path = dir.join("delegation.cose");
        let delegation_bytes = read_bytes(&path)?;
        let delegation = Delegation::verify(&delegation_bytes, &root).map_err(|source| {
            DeploymentError::Delegation {
                path: path.clone(),
                source,
            }
        })?;
        if delegation.key != key.public() {
            return Err(DeploymentError::Bad {
                path,
                what: "delegates another key than server.key: run venuecode delegate",
            });
        }
        let path = dir.join("trust.cose");
        let trust_bytes = read_bytes(&path)?;
        let trust = TrustList::verify(&trust_bytes, &root)
            .map_err(|source| DeploymentError::Trust { path, source })?;
        let path = dir.join(CHAIN_FILE);
        let root_chain = read_chain(&path)?;
        // Each hand-over signed by the root the one before named, the last naming root.pub: a
        // chain that does not lead here would strand every station that follows it.
        let bad_chain = |what| DeploymentError::Bad {
            path: path.clone(),
            what,
        };
        let mut named = None;
        for link in &root_chain {
            let s = match named {
                None => Succession::read_unverified(link)
                    .map_err(|_| bad_chain("a hand-over does not decode"))?,
                Some(prev) => Succession::verify(link, &prev)
                    .ok()
                    .flatten()
                    .ok_or(bad_chain(
                        "a hand-over is not signed by the root the one before named",
                    ))?,
            };
            named = Some(s.new_root);
        }
        if named.is_some_and(|n| n != root) {
            return Err(bad_chain(
                "the last hand-over names another root than root.pub",
            ));
        }
        Ok(ServerKeys {
            key,
            delegation_bytes,
            delegation,
            trust_bytes,
            trust,
            root_chain,
        })
    }
}

/// The keys of a health-code issuer (the health authority; the demo issuer).
pub struct IssuerKeys {
    pub issuer: String,
    pub issuer_key: SecretKey,
    pub subject_secret: [u8; 32],
}

impl IssuerKeys {
    /// Loads `issuer.key`, `issuer.name` and `subject.secret` from an issuer directory.
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
        })
    }
}

/// The venue authority's key (signs venue codes).
pub struct VenueAuthorityKeys {
    pub name: String,
    pub key: SecretKey,
}

impl VenueAuthorityKeys {
    /// Loads `venue.key` and `venue-authority.name` from a venue-authority directory.
    pub fn load(dir: &Path) -> Result<VenueAuthorityKeys, DeploymentError> {
        Ok(VenueAuthorityKeys {
            name: read_text(&dir.join("venue-authority.name"))?,
            key: secret_key(&dir.join("venue.key"))?,
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

pub(crate) fn write(path: &Path, text: &str, secret: bool) -> Result<(), DeploymentError> {
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

pub(crate) fn mkdir(dir: &Path) -> Result<(), DeploymentError> {
    std::fs::create_dir_all(dir).map_err(|source| DeploymentError::Write {
        path: dir.to_path_buf(),
        source,
    })
}

fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), DeploymentError> {
    std::fs::write(path, bytes).map_err(|source| DeploymentError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a new issuer directory (key, name, pseudonym secret) and returns its public key and
/// pseudonym secret.
fn new_issuer(dir: &Path, name: &str) -> Result<(PublicKey, [u8; 32]), DeploymentError> {
    mkdir(dir)?;
    let key = SecretKey::from_seed(&random_bytes()?);
    let subject_secret: [u8; 32] = random_bytes()?;
    write(&dir.join("issuer.key"), &key.to_hex(), true)?;
    write(&dir.join("issuer.pub"), &key.public().to_hex(), false)?;
    write(
        &dir.join("subject.secret"),
        &venuecode_core::keys::hex(&subject_secret),
        true,
    )?;
    write(&dir.join("issuer.name"), name, false)?;
    Ok((key.public(), subject_secret))
}

/// The health authority's tracing keys (`tracing/`): the X25519 secret stations seal the ID
/// numbers of people registered by hand to (`seal.key`; `seal.pub` is what stations get), and the
/// issuers' pseudonym secrets (`subject.secret` the primary issuer's — registrations by hand are
/// linked under it — then `subject-*.secret`), so an ID number maps to the person's pseudonyms.
pub struct TracingKeys {
    pub seal_secret: [u8; 32],
    /// The primary issuer's first.
    pub subject_secrets: Vec<[u8; 32]>,
}

impl TracingKeys {
    /// Loads a tracing directory.
    pub fn load(dir: &Path) -> Result<TracingKeys, DeploymentError> {
        let secret = |path: &Path| -> Result<[u8; 32], DeploymentError> {
            parse_hex(&read_text(path)?)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| DeploymentError::Bad {
                    path: path.to_path_buf(),
                    what: "not a 64-hex-character secret",
                })
        };
        let mut subject_secrets = vec![secret(&dir.join("subject.secret"))?];
        let mut more: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| DeploymentError::Read {
                path: dir.to_path_buf(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("subject-") && n.ends_with(".secret"))
            })
            .collect();
        more.sort();
        for p in more {
            subject_secrets.push(secret(&p)?);
        }
        Ok(TracingKeys {
            seal_secret: secret(&dir.join("seal.key"))?,
            subject_secrets,
        })
    }

    /// The public sealing key stations are given (64 hex).
    pub fn seal_public_hex(&self) -> String {
        venuecode_core::keys::hex(&venuecode_core::seal::public_key(&self.seal_secret))
    }
}

/// Writes the tracing directory: a new sealing key and the issuers' pseudonym secrets, the
/// primary first.
fn new_tracing(dir: &Path, subject_secrets: &[[u8; 32]]) -> Result<(), DeploymentError> {
    mkdir(dir)?;
    let seal: [u8; 32] = random_bytes()?;
    write(
        &dir.join("seal.key"),
        &venuecode_core::keys::hex(&seal),
        true,
    )?;
    write(
        &dir.join("seal.pub"),
        &venuecode_core::keys::hex(&venuecode_core::seal::public_key(&seal)),
        false,
    )?;
    for (i, s) in subject_secrets.iter().enumerate() {
        let name = if i == 0 {
            "subject.secret".to_string()
        } else {
            format!("subject-{i}.secret")
        };
        write(&dir.join(name), &venuecode_core::keys::hex(s), true)?;
    }
    Ok(())
}

/// What [`keygen`] makes.
#[derive(Debug, Clone)]
pub struct KeygenOptions<'a> {
    pub issuer: &'a str,
    pub venue_authority: &'a str,
    pub now: DateTime<Utc>,
    /// How long the issuing keys stay valid.
    pub valid_days: i64,
    /// Also make the demo issuer and list it (never for production).
    pub demo: bool,
    /// Host names and addresses the server's TLS certificate names (stations connect to one).
    pub server_names: &'a [&'a str],
}

/// Creates a deployment's keys, its trust list (keys valid from a day before `now` for
/// `valid_days`) and the server's delegation in `out` (layout in the crate documentation).
pub fn keygen(out: &Path, o: &KeygenOptions<'_>) -> Result<(), DeploymentError> {
    mkdir(out)?;
    let root = SecretKey::from_seed(&random_bytes()?);
    write(&out.join("root.key"), &root.to_hex(), true)?;
    write(&out.join("root.pub"), &root.public().to_hex(), false)?;
    let not_before = o.now - Duration::days(1);
    let not_after = o.now + Duration::days(o.valid_days);
    let trusted = |issuer: &str, key: PublicKey, role| TrustedKey {
        issuer: issuer.to_string(),
        key,
        role,
        not_before,
        not_after,
    };
    let (hc, hc_subjects) = new_issuer(&out.join("issuer"), o.issuer)?;
    let va_dir = out.join("venue-authority");
    mkdir(&va_dir)?;
    let va = SecretKey::from_seed(&random_bytes()?);
    write(&va_dir.join("venue.key"), &va.to_hex(), true)?;
    write(&va_dir.join("venue.pub"), &va.public().to_hex(), false)?;
    write(
        &va_dir.join("venue-authority.name"),
        o.venue_authority,
        false,
    )?;
    let mut keys = vec![
        trusted(o.issuer, hc, KeyRole::HealthIssuer),
        trusted(o.venue_authority, va.public(), KeyRole::VenueAuthority),
    ];
    // A demo deployment's residents carry demo codes: the demo issuer is the primary one.
    let mut subject_secrets = vec![hc_subjects];
    if o.demo {
        let (demo, demo_subjects) = new_issuer(&out.join("demo-issuer"), DEMO_ISSUER)?;
        keys.push(trusted(DEMO_ISSUER, demo, KeyRole::HealthIssuer));
        subject_secrets.insert(0, demo_subjects);
    }
    new_tracing(&out.join("tracing"), &subject_secrets)?;
    let list = TrustList {
        version: 1,
        issued_at: o.now,
        keys,
        expires_at: o.now + Duration::days(TRUST_LIST_DAYS),
    };
    let server = out.join("server");
    mkdir(&server)?;
    write(&server.join("root.pub"), &root.public().to_hex(), false)?;
    publish_trust(out, &root, &list)?;
    make_tls(out, o.server_names, o.now)?;
    delegate(out, o.now, DELEGATION_DAYS)
}

/// Gives the server a new signing key and the root's delegation of it, valid from an hour before
/// `now` for `days` (rotation of the server key; run before the last delegation ends). Reads the
/// root key from `out`, writes `out/server/server.key` and `out/server/delegation.cose`.
pub fn delegate(out: &Path, now: DateTime<Utc>, days: i64) -> Result<(), DeploymentError> {
    let root = secret_key(&out.join("root.key"))?;
    let server = out.join("server");
    mkdir(&server)?;
    let key = SecretKey::from_seed(&random_bytes()?);
    let delegation = Delegation {
        key: key.public(),
        not_before: now - Duration::hours(1),
        not_after: now + Duration::days(days),
    };
    // The delegation first: a crash between the two leaves a delegation the old key does not
    // match, which the server refuses at start with a message naming `venuecode delegate`.
    write_bytes(&server.join("delegation.cose"), &delegation.sign(&root))?;
    write(&server.join("server.key"), &key.to_hex(), true)
}

/// Re-signs the deployment's trust list with the root key in `out`: the same keys, version + 1,
/// issued `now`, expiring `days` later; written to `out/trust.cose` and `out/server/trust.cose`.
/// Returns the new version.
pub fn renew_trust(out: &Path, now: DateTime<Utc>, days: i64) -> Result<u64, DeploymentError> {
    let (root, held) = held_trust(out)?;
    let list = TrustList {
        version: held.version + 1,
        issued_at: now,
        expires_at: now + Duration::days(days),
        ..held
    };
    publish_trust(out, &root, &list)?;
    Ok(list.version)
}

/// The deployment's root key and the trust list it last signed (`out/trust.cose`).
pub(crate) fn held_trust(out: &Path) -> Result<(SecretKey, TrustList), DeploymentError> {
    let root = secret_key(&out.join("root.key"))?;
    let path = out.join("trust.cose");
    let held = TrustList::verify(&read_bytes(&path)?, &root.public())
        .map_err(|source| DeploymentError::Trust { path, source })?;
    Ok((root, held))
}

/// Signs `list` with the root key and writes it where the command (`out/trust.cose`) and the
/// server (`out/server/trust.cose`) read it.
pub(crate) fn publish_trust(
    out: &Path,
    root: &SecretKey,
    list: &TrustList,
) -> Result<(), DeploymentError> {
    let bytes = list.sign(root);
    write_bytes(&out.join("trust.cose"), &bytes)?;
    mkdir(&out.join("server"))?;
    write_bytes(&out.join("server/trust.cose"), &bytes)
}

/// Which issuing key [`rotate`] replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issuing {
    /// The health authority's key (`issuer/`).
    Health,
    /// The venue authority's key (`venue-authority/`).
    Venue,
}

/// Replaces an issuing key: a new key from the OS generator in its directory, and a trust list
/// (version + 1) that lists it from an hour before `now` for `valid_days`, while the old key
/// stays listed only for codes issued up to `now` (codes already out keep verifying until they
/// expire; nothing new can be signed with the old key). Returns the new list's version.
pub fn rotate(
    out: &Path,
    which: Issuing,
    now: DateTime<Utc>,
    valid_days: i64,
) -> Result<u64, DeploymentError> {
    let (root, held) = held_trust(out)?;
    let (dir, key_file, name_file, role) = match which {
        Issuing::Health => ("issuer", "issuer", "issuer.name", KeyRole::HealthIssuer),
        Issuing::Venue => (
            "venue-authority",
            "venue",
            "venue-authority.name",
            KeyRole::VenueAuthority,
        ),
    };
    let dir = out.join(dir);
    let name = read_text(&dir.join(name_file))?;
    let key = SecretKey::from_seed(&random_bytes()?);
    let mut keys: Vec<TrustedKey> = held
        .keys
        .into_iter()
        .map(|mut k| {
            if k.issuer == name && k.role == role {
                k.not_after = k.not_after.min(now);
            }
            k
        })
        .collect();
    keys.push(TrustedKey {
        issuer: name,
        key: key.public(),
        role,
        not_before: now - Duration::hours(1),
        not_after: now + Duration::days(valid_days),
    });
    let list = TrustList {
        version: held.version + 1,
        issued_at: now,
        keys,
        expires_at: now + Duration::days(TRUST_LIST_DAYS),
    };
    // The list first: a crash after it leaves the old key able to sign codes that no longer
    // verify (visible at once), never a new key no list knows.
    publish_trust(out, &root, &list)?;
    write(&dir.join(format!("{key_file}.key")), &key.to_hex(), true)?;
    write(
        &dir.join(format!("{key_file}.pub")),
        &key.public().to_hex(),
        false,
    )?;
    Ok(list.version)
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

    fn options(demo: bool) -> KeygenOptions<'static> {
        KeygenOptions {
            issuer: "示例卫健委",
            venue_authority: "示例场所码平台",
            now: Utc::now(),
            valid_days: 30,
            demo,
            server_names: NAMES,
        }
    }

    const NAMES: &[&str] = &["localhost", "127.0.0.1"];

    #[test]
    fn a_made_directory_reads_back_keeps_secrets_private_and_the_server_part_holds_no_root() {
        let dir = tempfile::tempdir().unwrap();
        keygen(dir.path(), &options(true)).unwrap();
        let server = ServerKeys::load(&dir.path().join("server")).unwrap();
        assert_eq!(server.trust.keys.len(), 3);
        assert!(server
            .trust
            .knows_issuer(DEMO_ISSUER, KeyRole::HealthIssuer));
        assert_eq!(server.delegation.key, server.key.public());
        let k = IssuerKeys::load(&dir.path().join("issuer")).unwrap();
        assert_eq!(k.issuer, "示例卫健委");
        let demo = IssuerKeys::load(&dir.path().join("demo-issuer")).unwrap();
        assert_eq!(demo.issuer, DEMO_ISSUER);
        assert!(demo.subject_secret != k.subject_secret);
        let va = VenueAuthorityKeys::load(&dir.path().join("venue-authority")).unwrap();
        assert_eq!(va.name, "示例场所码平台");
        let list = load_trust(&dir.path().join("trust.cose"), None).unwrap();
        assert_eq!(list.version, 1);
        // Nothing in server/ can sign a trust list or a code.
        let names: Vec<String> = std::fs::read_dir(dir.path().join("server"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        for forbidden in ["root.key", "issuer.key", "venue.key", "subject.secret"] {
            assert!(
                !names.iter().any(|n| n == forbidden),
                "{forbidden} in server/"
            );
        }
        // The whole deployment directory is refused as a server directory.
        let e = ServerKeys::load(dir.path()).err().unwrap();
        assert!(e.to_string().contains("offline"), "{e}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in [
                "root.key",
                "issuer/issuer.key",
                "issuer/subject.secret",
                "venue-authority/venue.key",
                "server/server.key",
                "demo-issuer/issuer.key",
                "tls-ca.key",
                "server/tls.key",
            ] {
                let mode = std::fs::metadata(dir.path().join(f))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o077, 0, "{f} is readable by others");
            }
        }
        // The deployment's TLS: the CA stations pin, a server certificate and key (secret).
        for f in ["ca.pem", "server/ca.pem", "server/tls.crt"] {
            let pem = std::fs::read_to_string(dir.path().join(f)).unwrap();
            assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{f}");
        }
        assert!(
            !names.iter().any(|n| n == "tls-ca.key"),
            "the CA key in server/"
        );
        // Two directories never share a key.
        let other = tempfile::tempdir().unwrap();
        keygen(other.path(), &options(false)).unwrap();
        let other_server = ServerKeys::load(&other.path().join("server")).unwrap();
        assert!(other_server.key.public() != server.key.public());
        // A production list has no demo issuer.
        assert!(!other_server
            .trust
            .knows_issuer(DEMO_ISSUER, KeyRole::HealthIssuer));
        assert!(!other.path().join("demo-issuer").exists());
    }

    #[test]
    fn the_server_key_rotates_and_an_old_delegation_does_not_match_the_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        keygen(dir.path(), &options(false)).unwrap();
        let server = dir.path().join("server");
        let first = ServerKeys::load(&server).unwrap();
        let old_delegation = std::fs::read(server.join("delegation.cose")).unwrap();
        delegate(dir.path(), now + Duration::days(10), 14).unwrap();
        let second = ServerKeys::load(&server).unwrap();
        assert!(second.key.public() != first.key.public());
        assert!(second.delegation.not_after > first.delegation.not_after);
        std::fs::write(server.join("delegation.cose"), old_delegation).unwrap();
        let e = ServerKeys::load(&server).err().unwrap();
        assert!(e.to_string().contains("venuecode delegate"), "{e}");
    }

    #[test]
    fn the_trust_list_is_renewed_with_a_higher_version_and_a_new_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        keygen(dir.path(), &options(true)).unwrap();
        let first = ServerKeys::load(&dir.path().join("server")).unwrap().trust;
        assert_eq!(
            first.expires_at,
            first.issued_at + Duration::days(TRUST_LIST_DAYS)
        );
        let v = renew_trust(dir.path(), now + Duration::days(20), 30).unwrap();
        assert_eq!(v, 2);
        let second = ServerKeys::load(&dir.path().join("server")).unwrap().trust;
        assert_eq!(second.version, 2);
        assert_eq!(second.keys, first.keys);
        assert!(second.expires_at > first.expires_at);
        assert_eq!(
            load_trust(&dir.path().join("trust.cose"), None).unwrap(),
            second
        );
    }

    #[test]
    fn an_issuing_key_rotates_codes_already_out_still_verify_and_the_old_key_signs_nothing_new() {
        use venuecode_core::health_code::{self, Color, NewCode};
        use venuecode_core::idnumber::IdNumber;
        use venuecode_core::trust::RevocationList;
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        keygen(dir.path(), &options(false)).unwrap();
        let id = IdNumber::parse("11010519491231002X", now.date_naive()).unwrap();
        let issue = |keys: &IssuerKeys, at| {
            let claims = NewCode {
                issuer: &keys.issuer,
                subject_secret: &keys.subject_secret,
                name: "张三",
                phone: "13800138000",
                id: &id,
                color: Color::Green,
                color_since: None,
                nat: None,
                guardian: None,
                issued_at: at,
                valid_for: Duration::hours(24),
                code_id: [7; 8],
                medium: venuecode_core::health_code::Medium::Screen,
            }
            .claims();
            health_code::issue(&keys.issuer_key, &claims)
        };
        let old = IssuerKeys::load(&dir.path().join("issuer")).unwrap();
        let before = issue(&old, now - Duration::minutes(5));
        let v = rotate(dir.path(), Issuing::Health, now, 365).unwrap();
        assert_eq!(v, 2);
        let list = ServerKeys::load(&dir.path().join("server")).unwrap().trust;
        let new = IssuerKeys::load(&dir.path().join("issuer")).unwrap();
        assert!(new.issuer_key.public() != old.issuer_key.public());
        let verify = |text: &str| {
            health_code::verify(
                text,
                &list,
                &RevocationList::default(),
                now + Duration::minutes(1),
            )
        };
        verify(&before).expect("a code issued before the rotation still verifies");
        verify(&issue(&new, now + Duration::seconds(30))).expect("the new key signs");
        assert!(
            verify(&issue(&old, now + Duration::seconds(30))).is_err(),
            "the old key signs nothing new"
        );
        // The venue authority's key rotates the same way.
        assert_eq!(rotate(dir.path(), Issuing::Venue, now, 365).unwrap(), 3);
        let list = ServerKeys::load(&dir.path().join("server")).unwrap().trust;
        assert_eq!(list.keys.len(), 4);
    }

    #[test]
    fn damaged_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        keygen(dir.path(), &options(false)).unwrap();
        let server = dir.path().join("server");
        std::fs::write(server.join("server.key"), "zz\n").unwrap();
        let e = ServerKeys::load(&server).err().unwrap();
        assert!(e.to_string().contains("server.key"), "{e}");
        std::fs::remove_file(dir.path().join("issuer/issuer.name")).unwrap();
        let e = IssuerKeys::load(&dir.path().join("issuer")).err().unwrap();
        assert!(e.to_string().contains("issuer.name"), "{e}");
        let other = tempfile::tempdir().unwrap();
        keygen(other.path(), &options(false)).unwrap();
        let wrong_root = other.path().join("root.pub");
        let e = load_trust(&dir.path().join("trust.cose"), Some(&wrong_root)).unwrap_err();
        assert!(matches!(e, DeploymentError::Trust { .. }), "{e}");
        // A delegation signed by another deployment's root.
        std::fs::copy(
            other.path().join("server/delegation.cose"),
            server.join("delegation.cose"),
        )
        .unwrap();
        std::fs::copy(
            other.path().join("server/server.key"),
            server.join("server.key"),
        )
        .unwrap();
        let e = ServerKeys::load(&server).err().unwrap();
        assert!(matches!(e, DeploymentError::Delegation { .. }), "{e}");
    }
}
