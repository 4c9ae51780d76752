//! The station's secrets, kept apart from its data: the database key and the pseudonym key.
//!
//! A secret lives in the platform's key store ([`PlatformKeys`]: Secret Service on Linux,
//! Keychain on macOS, Credential Manager on Windows, through the `keyring` crate) when one is
//! reachable, else in a key file ([`FileKeys`]: directory 0700, files 0600). Which of the two holds
//! a station's secrets is written in its data directory (`keystore.json`: the kind and a random
//! station id, nothing secret), so a station whose keyring is locked or gone says so instead of
//! making new keys and orphaning its data. Keys are read once per process and data directory.
//!
//! Choice at first start (`VENUECODE_KEYSTORE`): `platform`, `file`, or unset — the platform
//! store when it answers (on Linux only with a D-Bus session to reach it), else the file.
//! `VENUECODE_KEY_DIR` puts key files somewhere other than `<data dir>/keys`.
//!
//! Invariants: a key is written to its store before the marker names that store, and the marker
//! before any data is encrypted with the key; an existing marker is never replaced by a new
//! choice; secrets are 32 random bytes from the operating system.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use venuecode_core::keys::{hex, parse_hex};

/// The marker file in the data directory naming the key store.
pub const MARKER_FILE: &str = "keystore.json";
/// Service name under which platform key stores list the station's secrets.
const SERVICE: &str = "venuecode-station";
/// How long a first-start probe of the platform store may take before the file is used.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What can go wrong reaching the station's keys; each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    #[error("the system keyring holds this station's keys but cannot be reached ({detail}): unlock the keyring or sign in to the desktop session, then start the app again")]
    Unreachable { detail: String },
    #[error("the station's {name} key is missing from {store}: the data in {data_dir} cannot be read without it (restore the key, or move the data directory away to start afresh)")]
    Missing {
        name: &'static str,
        store: String,
        data_dir: PathBuf,
    },
    #[error("the station's {name} key in {store} is damaged")]
    Damaged { name: &'static str, store: String },
    #[error("cannot use {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a key store marker this app understands: {detail}")]
    Marker { path: PathBuf, detail: String },
    #[error("VENUECODE_KEYSTORE must be `platform` or `file`, not `{0}`")]
    Choice(String),
    #[error("no randomness from the operating system: {0}")]
    Random(String),
}

/// Where secrets are kept: named values of 32 bytes.
pub trait KeyStore: Send + Sync {
    /// The secret called `name`, if the store has it.
    fn get(&self, name: &'static str) -> Result<Option<[u8; 32]>, VaultError>;
    /// Stores (or replaces) the secret called `name`.
    fn put(&self, name: &'static str, secret: &[u8; 32]) -> Result<(), VaultError>;
    /// Where the secrets are, for messages.
    fn describe(&self) -> String;
}

/// Which store holds a station's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Platform,
    File,
}

#[derive(Serialize, Deserialize)]
struct Marker {
    kind: Kind,
    /// Random id naming this station's entries in the platform store.
    station: String,
}

/// The station's two secrets.
#[derive(Clone)]
pub struct StationKeys {
    /// SQLCipher's raw key for `station.db`.
    pub database: [u8; 32],
    /// The key of pseudonyms of people registered by hand (and of the kiosk PIN digest).
    pub pseudonym: [u8; 32],
    pub kind: Kind,
}

const DATABASE: &str = "database";
const PSEUDONYM: &str = "pseudonym";

/// Key files in a directory (0700), one per secret (0600), hex.
pub struct FileKeys {
    dir: PathBuf,
}

impl FileKeys {
    pub fn new(dir: PathBuf) -> FileKeys {
        FileKeys { dir }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.key"))
    }
}

impl KeyStore for FileKeys {
    fn get(&self, name: &'static str) -> Result<Option<[u8; 32]>, VaultError> {
        let path = self.file(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => decode(name, text.trim(), &self.describe()).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(VaultError::Io { path, source }),
        }
    }

    fn put(&self, name: &'static str, secret: &[u8; 32]) -> Result<(), VaultError> {
        private_dir(&self.dir)?;
        write_private(&self.file(name), hex(secret).as_bytes())
    }

    fn describe(&self) -> String {
        format!("the key files in {}", self.dir.display())
    }
}

/// The platform's key store, entries named `<station id>/<secret>` under `venuecode-station`.
pub struct PlatformKeys {
    station: String,
}

impl PlatformKeys {
    fn entry(&self, name: &str) -> Result<keyring::Entry, VaultError> {
        keyring::Entry::new(SERVICE, &format!("{}/{name}", self.station)).map_err(unreachable)
    }
}

fn unreachable(e: keyring::Error) -> VaultError {
    VaultError::Unreachable {
        detail: e.to_string(),
    }
}

impl KeyStore for PlatformKeys {
    fn get(&self, name: &'static str) -> Result<Option<[u8; 32]>, VaultError> {
        match self.entry(name)?.get_password() {
            Ok(text) => decode(name, text.trim(), &self.describe()).map(Some),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unreachable(e)),
        }
    }

    fn put(&self, name: &'static str, secret: &[u8; 32]) -> Result<(), VaultError> {
        self.entry(name)?
            .set_password(&hex(secret))
            .map_err(unreachable)
    }

    fn describe(&self) -> String {
        format!("the system keyring ({SERVICE} {}/…)", self.station)
    }
}

fn decode(name: &'static str, text: &str, store: &str) -> Result<[u8; 32], VaultError> {
    parse_hex(text)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| VaultError::Damaged {
            name,
            store: store.to_string(),
        })
}

/// 32 bytes from the operating system.
pub fn random32() -> Result<[u8; 32], VaultError> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(|e| VaultError::Random(e.to_string()))?;
    Ok(b)
}

/// Makes `dir` (and its parents) exist, and `dir` itself readable by its owner only.
pub fn private_dir(dir: &Path) -> Result<(), VaultError> {
    let io = |source| VaultError::Io {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically (a temporary file renamed over it), mode 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), VaultError> {
    let tmp = path.with_extension("tmp");
    let io = |source| VaultError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(parent) = path.parent() {
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn key_dir(data_dir: &Path) -> PathBuf {
    std::env::var_os("VENUECODE_KEY_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir.join("keys"))
}

fn store_for(kind: Kind, station: &str, data_dir: &Path) -> Box<dyn KeyStore> {
    match kind {
        Kind::Platform => Box::new(PlatformKeys {
            station: station.to_string(),
        }),
        Kind::File => Box::new(FileKeys::new(key_dir(data_dir))),
    }
}

/// Whether the platform store answers a write and a read within [`PROBE_TIMEOUT`].
fn platform_answers(station: &str) -> bool {
    if !cfg!(any(
        target_os = "linux",
        target_os = "macos",
        target_os = "windows"
    )) {
        return false;
    }
    // Without a session bus, libdbus would try to launch one of its own; don't.
    if cfg!(target_os = "linux") && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        return false;
    }
    let station = station.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let store = PlatformKeys { station };
        let ok = random32()
            .and_then(|probe| {
                store.put("probe", &probe)?;
                Ok(store.get("probe")? == Some(probe))
            })
            .unwrap_or(false);
        if let Ok(entry) = store.entry("probe") {
            let _ = entry.delete_credential();
        }
        let _ = tx.send(ok);
    });
    rx.recv_timeout(PROBE_TIMEOUT).unwrap_or(false)
}

fn choose(station: &str) -> Result<Kind, VaultError> {
    match std::env::var("VENUECODE_KEYSTORE").ok().as_deref() {
        Some("platform") => Ok(Kind::Platform),
        Some("file") => Ok(Kind::File),
        None | Some("") => Ok(if platform_answers(station) {
            Kind::Platform
        } else {
            Kind::File
        }),
        Some(other) => Err(VaultError::Choice(other.to_string())),
    }
}

fn cache() -> &'static Mutex<HashMap<PathBuf, StationKeys>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, StationKeys>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The station's keys for `data_dir`: read from the store its marker names, or made and stored
/// when the directory has no marker yet. `fresh` says the directory holds no encrypted data yet
/// (a missing key may then be made instead of reported).
pub fn station_keys(data_dir: &Path, fresh: bool) -> Result<StationKeys, VaultError> {
    let mut cache = cache().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(keys) = cache.get(data_dir) {
        return Ok(keys.clone());
    }
    let marker_path = data_dir.join(MARKER_FILE);
    let marker = match std::fs::read(&marker_path) {
        Ok(bytes) => {
            Some(
                serde_json::from_slice::<Marker>(&bytes).map_err(|e| VaultError::Marker {
                    path: marker_path.clone(),
                    detail: e.to_string(),
                })?,
            )
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(VaultError::Io {
                path: marker_path,
                source,
            })
        }
    };
    let keys = match marker {
        Some(m) => {
            let store = store_for(m.kind, &m.station, data_dir);
            let get = |name: &'static str| -> Result<[u8; 32], VaultError> {
                match store.get(name)? {
                    Some(k) => Ok(k),
                    None if fresh => {
                        let k = random32()?;
                        store.put(name, &k)?;
                        Ok(k)
                    }
                    None => Err(VaultError::Missing {
                        name,
                        store: store.describe(),
                        data_dir: data_dir.to_path_buf(),
                    }),
                }
            };
            StationKeys {
                database: get(DATABASE)?,
                pseudonym: get(PSEUDONYM)?,
                kind: m.kind,
            }
        }
        None => {
            let station = uuid::Uuid::new_v4().simple().to_string();
            let kind = choose(&station)?;
            let store = store_for(kind, &station, data_dir);
            let keys = StationKeys {
                database: random32()?,
                pseudonym: random32()?,
                kind,
            };
            store.put(DATABASE, &keys.database)?;
            store.put(PSEUDONYM, &keys.pseudonym)?;
            let marker =
                serde_json::to_vec(&Marker { kind, station }).map_err(|e| VaultError::Marker {
                    path: marker_path.clone(),
                    detail: e.to_string(),
                })?;
            write_private(&marker_path, &marker)?;
            keys
        }
    };
    cache.insert(data_dir.to_path_buf(), keys.clone());
    Ok(keys)
}

/// Replaces the pseudonym key (once, when an older station's key moves out of its database).
pub fn replace_pseudonym(data_dir: &Path, secret: &[u8; 32]) -> Result<(), VaultError> {
    let marker_path = data_dir.join(MARKER_FILE);
    let bytes = std::fs::read(&marker_path).map_err(|source| VaultError::Io {
        path: marker_path.clone(),
        source,
    })?;
    let m: Marker = serde_json::from_slice(&bytes).map_err(|e| VaultError::Marker {
        path: marker_path,
        detail: e.to_string(),
    })?;
    store_for(m.kind, &m.station, data_dir).put(PSEUDONYM, secret)?;
    let mut cache = cache().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(keys) = cache.get_mut(data_dir) {
        keys.pseudonym = *secret;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_keys_are_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileKeys::new(dir.path().join("keys"));
        assert_eq!(store.get("database").unwrap(), None);
        let k = random32().unwrap();
        store.put("database", &k).unwrap();
        assert_eq!(store.get("database").unwrap(), Some(k));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir.path().join("keys")), 0o700);
            assert_eq!(mode(&dir.path().join("keys/database.key")), 0o600);
        }
        std::fs::write(dir.path().join("keys/database.key"), "zz").unwrap();
        assert!(matches!(
            store.get("database"),
            Err(VaultError::Damaged {
                name: "database",
                ..
            })
        ));
    }

    #[test]
    fn a_lost_key_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        private_dir(&data).unwrap();
        std::fs::write(data.join(MARKER_FILE), r#"{"kind":"file","station":"s1"}"#).unwrap();
        match station_keys(&data, false) {
            Err(VaultError::Missing { name, .. }) => assert_eq!(name, "database"),
            other => panic!("expected Missing, got {:?}", other.err()),
        }
        std::fs::write(data.join(MARKER_FILE), "not json").unwrap();
        assert!(matches!(
            station_keys(&data, false),
            Err(VaultError::Marker { .. })
        ));
    }
}
