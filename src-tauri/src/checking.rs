//! Checking a scanned code's text: which kind of code it is and whether it verifies against the
//! station's trust list, converted to the wire type the station screen shows.
//!
//! The trust list lives in `<data dir>/trust/trust.cose`, checked against the root key in
//! `<data dir>/trust/root.pub` (until sync delivers them, `venuecode keygen --out <data dir>/trust`
//! provisions a demo station). Invariant: only masked identity leaves this module.

use std::path::Path;

use chrono::{DateTime, Utc};
use venuecode_core::keys::PublicKey;
use venuecode_core::trust::{RevocationList, TrustList};
use venuecode_core::{health_code, venue_code};
use venuecode_ipc::{CodeCheck, CodeKind, Reason};

use crate::error::AppError;

/// The root key the station was provisioned with (`<data dir>/trust/root.pub`), or why not.
pub fn root_key(data_dir: &Path) -> Result<PublicKey, Reason> {
    let root = std::fs::read_to_string(data_dir.join("trust/root.pub"))
        .map_err(|_| Reason::NoTrustList)?;
    PublicKey::from_hex(root.trim()).map_err(|_| Reason::TrustListInvalid)
}

/// Loads the trust list of a data directory, or says why not.
pub fn load_trust(data_dir: &Path) -> Result<TrustList, Reason> {
    let root = root_key(data_dir)?;
    let bytes =
        std::fs::read(data_dir.join("trust/trust.cose")).map_err(|_| Reason::NoTrustList)?;
    TrustList::verify(&bytes, &root).map_err(|_| Reason::TrustListInvalid)
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
        keys: vec![TrustedKey {
            issuer: name.into(),
            key: issuer.public(),
            role: KeyRole::HealthIssuer,
            not_before: now - chrono::Duration::days(1),
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
    data_dir: &Path,
    revocations: &RevocationList,
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
    let trust = match load_trust(data_dir) {
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

    fn provision(dir: &Path, now: DateTime<Utc>) -> SecretKey {
        let issuer = SecretKey::from_seed(&[2; 32]);
        write_test_trust(dir, &SecretKey::from_seed(&[1; 32]), "T-HC", &issuer, now).unwrap();
        issuer
    }

    #[test]
    fn health_codes_verify_against_the_provisioned_trust_list() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        assert_eq!(
            check("JKM1:ABC", dir.path(), &RevocationList::default(), now).error,
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
        };
        let text = health_code::issue(&issuer, &claims);
        let c = check(&text, dir.path(), &RevocationList::default(), now);
        assert!(c.valid, "{c:?}");
        assert_eq!(c.color, Some(venuecode_ipc::CodeColor::Green));
        assert_eq!(c.name.as_deref(), Some("张*"));
        let late = check(
            &text,
            dir.path(),
            &RevocationList::default(),
            now + Duration::hours(1),
        );
        assert_eq!((late.valid, late.error), (false, Some(Reason::Expired)));
        assert_eq!(
            check("hello", dir.path(), &RevocationList::default(), now).kind,
            CodeKind::Unknown
        );
    }
}
