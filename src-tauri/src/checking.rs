//! Checking a scanned code's text: which kind of code it is and whether it verifies against the
//! station's trust list, converted to the wire type the station screen shows; and where the
//! station's root of trust comes from.
//!
//! The root public key is built into the app (`VENUECODE_ROOT_PUB` at compile time) or pinned in
//! the local store at first provisioning from `<data dir>/trust/root.pub`; once pinned, the file
//! is never read again, so replacing it changes nothing. When the deployment rotates its root,
//! the sync client follows the server's hand-over chain from the root held and the store keeps
//! the root reached, which then outranks both. The trust list lives in
//! `<data dir>/trust/trust.cose`; a list older than the highest version the station has accepted
//! (kept in the store, apart from the file) is refused, so deleting or replacing the file never
//! lets an older list in. Invariant: only masked identity leaves this module.

use std::path::Path;

use chrono::{DateTime, Utc};
use venuecode_core::keys::PublicKey;
use venuecode_core::trust::{Revocations, TrustList};
use venuecode_core::{health_code, venue_code};
use venuecode_ipc::{CodeCheck, CodeKind, Reason};

use crate::error::AppError;
use crate::store::Store;

/// A root key built into this build, if any (hex, 64 characters).
const BUILT_IN_ROOT: Option<&str> = option_env!("VENUECODE_ROOT_PUB");

/// The station's root key: built in, or pinned in the store (pinning the provisioning file's key
/// the first time it is asked for); `Reason::NoTrustList` before provisioning.
pub fn root_key(store: &mut Store, data_dir: &Path) -> Result<PublicKey, Reason> {
    // A root rotation the station followed (a hand-over chain signed by the root it held).
    match store.succeeded_root() {
        Ok(Some(hex)) => {
            return PublicKey::from_hex(&hex).map_err(|_| Reason::TrustListInvalid);
        }
        Ok(None) => {}
        Err(_) => return Err(Reason::TrustListInvalid),
    }
    if let Some(hex) = BUILT_IN_ROOT {
        return PublicKey::from_hex(hex.trim()).map_err(|_| Reason::TrustListInvalid);
    }
    let pinned = match store.pinned_root() {
        Ok(Some(hex)) => hex,
        Ok(None) => {
            let file = std::fs::read_to_string(data_dir.join("trust/root.pub"))
                .map_err(|_| Reason::NoTrustList)?;
            let key = PublicKey::from_hex(file.trim()).map_err(|_| Reason::TrustListInvalid)?;
            store
                .pin_root(&key.to_hex())
                .map_err(|_| Reason::TrustListInvalid)?
        }
        Err(_) => return Err(Reason::TrustListInvalid),
    };
    PublicKey::from_hex(&pinned).map_err(|_| Reason::TrustListInvalid)
}

/// The deployment's TLS CA (PEM) the station trusts: pinned in the store at first use from
/// `<data dir>/trust/ca.pem`; `None` before provisioning. Like the root key, a replaced file
/// changes nothing once pinned.
pub fn pinned_ca(store: &mut Store, data_dir: &Path) -> Result<Option<Vec<u8>>, AppError> {
    if let Some(pem) = store.sync_value("ca_pem")? {
        return Ok(Some(pem.into_bytes()));
    }
    let Ok(pem) = std::fs::read_to_string(data_dir.join("trust/ca.pem")) else {
        return Ok(None);
    };
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(AppError::Invalid(
            "trust/ca.pem is not a PEM certificate".into(),
        ));
    }
    store.pin_value("ca_pem", pem.trim())?;
    Ok(store.sync_value("ca_pem")?.map(String::into_bytes))
}

/// Loads the trust list of a data directory against `root`, refusing one older than
/// `min_version`, or says why not.
pub fn load_trust(
    data_dir: &Path,
    root: &PublicKey,
    min_version: u64,
) -> Result<TrustList, Reason> {
    let bytes =
        std::fs::read(data_dir.join("trust/trust.cose")).map_err(|_| Reason::NoTrustList)?;
    let list = TrustList::verify(&bytes, root).map_err(|_| Reason::TrustListInvalid)?;
    if list.version < min_version {
        return Err(Reason::TrustListInvalid);
    }
    Ok(list)
}

/// The station's trust list at trusted time `now`: root from [`root_key`], version at least the
/// highest seen, not expired.
pub fn station_trust(
    store: &mut Store,
    data_dir: &Path,
    now: DateTime<Utc>,
) -> Result<TrustList, Reason> {
    let root = root_key(store, data_dir)?;
    let seen = store
        .trust_version_seen()
        .map_err(|_| Reason::TrustListInvalid)?;
    let list = load_trust(data_dir, &root, seen)?;
    if list.expired(now) {
        return Err(Reason::TrustListExpired);
    }
    Ok(list)
}

/// Replaces the trust list file atomically (write beside it, fsync, rename), so a crash leaves
/// the old list or the new one, never half of one. The caller has verified the bytes.
pub fn save_trust(data_dir: &Path, bytes: &[u8]) -> Result<(), AppError> {
    use std::io::Write;
    let dir = data_dir.join("trust");
    let io = |source| AppError::DataDir {
        path: dir.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let tmp = dir.join("trust.cose.new");
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io)?;
    std::fs::rename(&tmp, dir.join("trust.cose")).map_err(io)
}

/// Writes a one-issuer trust list signed by `root` into `<data_dir>/trust/`, trusting `issuer` as
/// health issuer `name` from a day before `now` to a day after — for tests and benchmarks (real
/// stations get theirs from `venuecode keygen` or, later, from sync).
#[cfg(any(test, feature = "test-support"))]
pub fn write_test_trust(
    data_dir: &Path,
    root: &venuecode_core::keys::SecretKey,
    name: &str,
    issuer: &venuecode_core::keys::SecretKey,
    now: DateTime<Utc>,
) -> std::io::Result<()> {
    use venuecode_core::trust::{KeyRole, TrustedKey};
    let list = TrustList {
        version: 1,
        issued_at: now,
        expires_at: now + chrono::Duration::days(30),
        keys: vec![TrustedKey {
            issuer: name.into(),
            key: issuer.public(),
            role: KeyRole::HealthIssuer,
            // Paper codes are printed days before they are scanned.
            not_before: now - chrono::Duration::days(30),
            not_after: now + chrono::Duration::days(1),
        }],
    };
    let dir = data_dir.join("trust");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("trust.cose"), list.sign(root))?;
    std::fs::write(dir.join("root.pub"), root.public().to_hex())
}

/// Classifies and verifies `text` at trusted time `now`.
pub fn check(
    text: &str,
    trust: Result<TrustList, Reason>,
    revocations: &impl Revocations,
    now: DateTime<Utc>,
) -> CodeCheck {
    let text = text.trim();
    let kind = if text.starts_with(health_code::PREFIX) {
        CodeKind::HealthCode
    } else if text.contains(venue_code::PATH) {
        CodeKind::VenueCode
    } else {
        return CodeCheck {
            kind: CodeKind::Unknown,
            error: Some(Reason::NotACode),
            ..CodeCheck::default()
        };
    };
    let trust = match trust {
        Ok(t) => t,
        Err(code) => {
            return CodeCheck {
                kind,
                error: Some(code),
                ..CodeCheck::default()
            }
        }
    };
    if kind == CodeKind::HealthCode {
        match health_code::verify(text, &trust, revocations, now) {
            Ok(v) => CodeCheck {
                kind,
                valid: true,
                name: Some(v.claims.name_masked),
                phone: Some(v.claims.phone_masked),
                color: Some(crate::ipc_map::color(v.claims.color)),
                ..CodeCheck::default()
            },
            Err(e) => CodeCheck {
                kind,
                error: Some(crate::ipc_map::code_error(&e)),
                ..CodeCheck::default()
            },
        }
    } else {
        match venue_code::verify(text, &trust) {
            Ok(v) => CodeCheck {
                kind,
                valid: true,
                venue_name: Some(v.claims.venue_name),
                ..CodeCheck::default()
            },
            Err(e) => CodeCheck {
                kind,
                error: Some(crate::ipc_map::code_error(&e)),
                ..CodeCheck::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use venuecode_core::health_code::{Color, HealthClaims, Pseudonym};
    use venuecode_core::keys::SecretKey;
    use venuecode_core::trust::RevocationList;

    fn provision(dir: &Path, now: DateTime<Utc>) -> SecretKey {
        let issuer = SecretKey::from_seed(&[2; 32]);
        write_test_trust(dir, &SecretKey::from_seed(&[1; 32]), "T-HC", &issuer, now).unwrap();
        issuer
    }

    #[test]
    fn health_codes_verify_against_the_provisioned_trust_list() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        let none = RevocationList::default();
        assert_eq!(
            check(
                "JKM1:ABC",
                station_trust(&mut store, dir.path(), now),
                &none,
                now
            )
            .error,
            Some(Reason::NoTrustList)
        );
        let issuer = provision(dir.path(), now);
        let claims = HealthClaims {
            issuer: "T-HC".into(),
            issued_at: now,
            expires_at: now + Duration::minutes(10),
            code_id: [1; 8],
            subject: Pseudonym([2; 12]),
            name_masked: "张*".into(),
            phone_masked: "138****8000".into(),
            id_masked: "1101**********002X".into(),
            color: Color::Green,
            color_since: now,
            nat: None,
            guardian: None,
            medium: venuecode_core::health_code::Medium::Screen,
        };
        let text = health_code::issue(&issuer, &claims);
        let trust = || station_trust(&mut Store::open(dir.path()).unwrap(), dir.path(), now);
        let c = check(&text, trust(), &none, now);
        assert!(c.valid, "{c:?}");
        assert_eq!(c.color, Some(venuecode_ipc::CodeColor::Green));
        assert_eq!(c.name.as_deref(), Some("张*"));
        let late = check(&text, trust(), &none, now + Duration::hours(1));
        assert_eq!((late.valid, late.error), (false, Some(Reason::Expired)));
        assert_eq!(check("hello", trust(), &none, now).kind, CodeKind::Unknown);
        // Revoked in the station's database.
        let mut store = Store::open(dir.path()).unwrap();
        store
            .apply_revocation_page(&venuecode_core::trust::RevocationDelta {
                since: 0,
                until: 1,
                entries: vec![venuecode_core::trust::Revocation::Code(
                    claims.code_id_hex().to_uppercase(),
                )],
                more: false,
            })
            .unwrap();
        let c = check(&text, trust(), &store.revocation_check(), now);
        assert_eq!(c.error, Some(Reason::Revoked));
    }

    #[test]
    fn the_root_is_pinned_at_first_use_and_a_replaced_file_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        provision(dir.path(), now);
        let first = root_key(&mut store, dir.path()).unwrap();
        // An attacker with the file system swaps in their own root and a list signed by it.
        let rogue_root = SecretKey::from_seed(&[66; 32]);
        write_test_trust(
            dir.path(),
            &rogue_root,
            "T-HC",
            &SecretKey::from_seed(&[67; 32]),
            now,
        )
        .unwrap();
        assert_eq!(root_key(&mut store, dir.path()).unwrap(), first);
        assert_eq!(
            station_trust(&mut store, dir.path(), now).unwrap_err(),
            Reason::TrustListInvalid
        );
        // An older list than the highest seen is refused even when properly signed.
        provision(dir.path(), now);
        assert!(station_trust(&mut store, dir.path(), now).is_ok());
        store.see_trust_version(2).unwrap();
        assert_eq!(
            station_trust(&mut store, dir.path(), now).unwrap_err(),
            Reason::TrustListInvalid
        );
    }
}
