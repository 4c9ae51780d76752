//! Fixed keys and lists shared by the fuzz targets.

use chrono::{DateTime, Utc};
use venuecode_core::keys::SecretKey;
use venuecode_core::trust::{KeyRole, TrustList, TrustedKey};

pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000, 0).unwrap()
}

pub fn trust() -> TrustList {
    let t = |s| DateTime::from_timestamp(s, 0).unwrap();
    TrustList {
        version: 1,
        issued_at: t(1_780_000_000),
        expires_at: t(1_900_000_000),
        keys: vec![
            TrustedKey {
                issuer: "FUZZ-HC".into(),
                key: SecretKey::from_seed(&[1; 32]).public(),
                role: KeyRole::HealthIssuer,
                not_before: t(1_780_000_000),
                not_after: t(1_800_000_000),
            },
            TrustedKey {
                issuer: "FUZZ-VA".into(),
                key: SecretKey::from_seed(&[2; 32]).public(),
                role: KeyRole::VenueAuthority,
                not_before: t(1_780_000_000),
                not_after: t(1_800_000_000),
            },
        ],
    }
}
