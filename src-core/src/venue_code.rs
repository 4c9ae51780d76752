//! Venue codes (场所码) printed on posters at each gate: issuing and offline verification.
//!
//! Text form: a URL, `https://<host>/csm/1/<payload>`, where `<payload>` is base64url (no padding)
//! of a COSE_Sign1 (EdDSA) signed by the venue authority with payload
//! `{1: iss, 6: iat, -65538: [venue id, checkpoint id, direction (0 entry, 1 exit), venue name,
//! region code, category code]}`. It is a URL so that any phone's ordinary scanner (WeChat, the
//! system camera, zbar, ZXing) opens the venue's page instead of showing opaque text; the station
//! ignores the host and trusts only the signature.
//!
//! Invariant: a [`VerifiedVenueCode`] exists only if the signature checks against a trusted
//! venue-authority key valid at issue time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ciborium::value::Value;

use crate::cbor::{self, MapReader};
use crate::codes::CodeError;
use crate::cose;
use crate::gate::Direction;
use crate::keys::{KeyId, SecretKey};
use crate::trust::{KeyRole, TrustList};
use crate::venue::VenueCategory;

/// The path segment that marks a venue code URL.
pub const PATH: &str = "/csm/1/";
const PRIVATE_CLAIMS: i64 = -65538;

/// What a venue code says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueClaims {
    /// The venue authority (`iss`), as named on the trust list.
    pub issuer: String,
    pub issued_at: DateTime<Utc>,
    pub venue_id: String,
    pub checkpoint_id: String,
    pub direction: Direction,
    pub venue_name: String,
    /// 6-digit administrative region code.
    pub region: String,
    pub category: VenueCategory,
}

/// Signs a venue code and returns its URL under `base_url` (e.g. `https://csm.example.cn`).
pub fn issue(key: &SecretKey, claims: &VenueClaims, base_url: &str) -> String {
    let private = Value::Array(vec![
        Value::Text(claims.venue_id.clone()),
        Value::Text(claims.checkpoint_id.clone()),
        Value::Integer(
            match claims.direction {
                Direction::Entry => 0,
                Direction::Exit => 1,
            }
            .into(),
        ),
        Value::Text(claims.venue_name.clone()),
        Value::Text(claims.region.clone()),
        Value::Text(claims.category.code().into()),
    ]);
    let payload = cose::to_cbor(&Value::Map(vec![
        cbor::entry(1, Value::Text(claims.issuer.clone())),
        cbor::entry(6, cbor::time(claims.issued_at)),
        cbor::entry(PRIVATE_CLAIMS, private),
    ]));
    let env = cose::sign(key, &payload);
    format!(
        "{}{PATH}{}",
        base_url.trim_end_matches('/'),
        URL_SAFE_NO_PAD.encode(env)
    )
}

/// A venue code that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedVenueCode {
    pub claims: VenueClaims,
    pub kid: KeyId,
}

/// Verifies a venue code URL.
pub fn verify(text: &str, trust: &TrustList) -> Result<VerifiedVenueCode, CodeError> {
    let text = text.trim();
    let not_ours = CodeError::NotACode {
        expected: "https://…/csm/1/",
    };
    if !(text.starts_with("https://") || text.starts_with("http://")) {
        return Err(not_ours);
    }
    let start = text.find(PATH).ok_or(not_ours)? + PATH.len();
    let payload = text[start..].split(['?', '#']).next().unwrap_or_default();
    if payload.is_empty() {
        return Err(CodeError::Truncated);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| CodeError::Malformed("venue code payload is not base64url"))?;
    let env = cose::decode(&bytes)?;
    let claims = decode_claims(&env.payload)?;
    crate::codes::check_signed(
        &env,
        &claims.issuer,
        claims.issued_at,
        trust,
        KeyRole::VenueAuthority,
    )?;
    Ok(VerifiedVenueCode {
        claims,
        kid: env.kid,
    })
}

fn decode_claims(bytes: &[u8]) -> Result<VenueClaims, CodeError> {
    let bad = CodeError::Malformed;
    let mut m = MapReader::new(cose::from_cbor(bytes)?).ok_or(bad("claims are not a map"))?;
    let issuer = m.text(1).ok_or(bad("issuer"))?;
    let issued_at = m.time(6).ok_or(bad("issue time"))?;
    let arr = m.array(PRIVATE_CLAIMS).ok_or(bad("venue claims"))?;
    let [venue_id, checkpoint_id, direction, venue_name, region, category] =
        <[Value; 6]>::try_from(arr).map_err(|_| bad("venue claims"))?;
    let direction = match cbor::as_u64(direction) {
        Some(0) => Direction::Entry,
        Some(1) => Direction::Exit,
        _ => return Err(bad("direction")),
    };
    Ok(VenueClaims {
        issuer,
        issued_at,
        venue_id: cbor::as_text(venue_id).ok_or(bad("venue id"))?,
        checkpoint_id: cbor::as_text(checkpoint_id).ok_or(bad("checkpoint id"))?,
        direction,
        venue_name: cbor::as_text(venue_name).ok_or(bad("venue name"))?,
        region: cbor::as_text(region).ok_or(bad("region"))?,
        category: cbor::as_text(category)
            .and_then(|c| VenueCategory::from_code(&c))
            .ok_or(bad("category"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health_code::testutil::{at, now};
    use crate::trust::TrustedKey;

    fn key() -> SecretKey {
        SecretKey::from_seed(&[44; 32])
    }

    fn trust() -> TrustList {
        TrustList {
            version: 1,
            issued_at: at(1_780_000_000),
            expires_at: at(1_900_000_000),
            keys: vec![TrustedKey {
                issuer: "XJBT-VA".into(),
                key: key().public(),
                role: KeyRole::VenueAuthority,
                not_before: at(1_780_000_000),
                not_after: at(1_900_000_000),
            }],
        }
    }

    fn claims() -> VenueClaims {
        VenueClaims {
            issuer: "XJBT-VA".into(),
            issued_at: now(),
            venue_id: "V-659002-000123".into(),
            checkpoint_id: "G1".into(),
            direction: Direction::Entry,
            venue_name: "阿拉尔市人民医院".into(),
            region: "659002".into(),
            category: VenueCategory::GovernmentPublicService,
        }
    }

    #[test]
    fn round_trip_as_url() {
        let url = issue(&key(), &claims(), "https://csm.example.cn/");
        assert!(url.starts_with("https://csm.example.cn/csm/1/"));
        assert_eq!(verify(&url, &trust()).unwrap().claims, claims());
        // A phone scanner may add a query or fragment; the host is not trusted, the signature is.
        let moved = url.replace("csm.example.cn", "other.example") + "?from=wechat";
        assert_eq!(verify(&moved, &trust()).unwrap().claims, claims());
    }

    #[test]
    fn poster_code_fits_qr_version_12_at_level_m() {
        let url = issue(&key(), &claims(), "https://csm.example.cn");
        let m = crate::qr::QrMatrix::encode(&url, crate::qr::Ecc::M).unwrap();
        assert!(
            m.version <= 12,
            "version {} for {} bytes",
            m.version,
            url.len()
        );
    }

    #[test]
    fn a_health_issuer_key_cannot_sign_venue_codes() {
        let mut t = trust();
        t.keys[0].role = KeyRole::HealthIssuer;
        let url = issue(&key(), &claims(), "https://csm.example.cn");
        assert_eq!(verify(&url, &t).unwrap_err().code(), "unknown_issuer");
    }

    #[test]
    fn tampering_and_junk_are_refused() {
        let url = issue(&key(), &claims(), "https://csm.example.cn");
        let start = url.find(PATH).unwrap() + PATH.len();
        for i in start..url.len() {
            let mut b = url.clone().into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let t = String::from_utf8(b).unwrap();
            assert!(verify(&t, &trust()).is_err(), "change at {i} accepted");
        }
        assert_eq!(verify("hello", &trust()).unwrap_err().code(), "not_a_code");
        assert_eq!(
            verify("https://x/csm/1/", &trust()).unwrap_err().code(),
            "truncated"
        );
        assert_eq!(
            verify("https://x/csm/1/!!!", &trust()).unwrap_err().code(),
            "malformed"
        );
        let other = issue(&SecretKey::from_seed(&[45; 32]), &claims(), "https://x");
        assert_eq!(
            verify(&other, &trust()).unwrap_err().code(),
            "unknown_key_id"
        );
    }
}
