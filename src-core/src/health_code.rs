//! Residents' health codes (健康码): issuing and offline verification.
//!
//! Text form: `JKM1:` + Base45 of a COSE_Sign1 (EdDSA) whose payload is a CWT claims map:
//! `{1: iss, 4: exp, 6: iat, 7: cti (8 bytes), -65537: [subject pseudonym (12 bytes),
//! masked name, masked phone, masked ID, colour (0 green, 1 yellow, 2 red), colour since,
//! ?(null | [NAT result (0 negative, 1 positive, 2 pending), tested at]),
//! ?[guardian pseudonym, relation]]}`. Times are Unix seconds. The private claims are a positional
//! array, not a map, to save a byte per field: the whole text is in the QR alphanumeric alphabet
//! and a family code with a test result fits QR version 10 at level M (≤ 311 characters).
//! docs/formats.md has examples.
//!
//! Invariants: verification reads no clock (trusted `now` is an argument); a code is accepted only
//! if its issuer and key id are on the trust list for health issuers, the signature checks, the key
//! was valid at issue, `iat ≤ now + skew < exp + skew`, and neither the code id nor the subject is
//! revoked. Claims carry no full name, phone or ID number, only masked forms and a pseudonym.

use chrono::{DateTime, Duration, Utc};
use ciborium::value::Value;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::cbor::{self, MapReader};
use crate::codes::{CodeError, RevokedBy};
use crate::cose;
use crate::idnumber::IdNumber;
use crate::keys::{hex, KeyId, SecretKey};
use crate::trust::{KeyRole, Revocations, TrustList};

/// Prefix of a health code's text.
pub const PREFIX: &str = "JKM1:";
/// Clock difference tolerated between issuer and station.
pub const DEFAULT_SKEW: Duration = Duration::minutes(5);
const PRIVATE_CLAIMS: i64 = -65537;
/// The code's medium (absent: a phone screen; 1: printed on paper). Absent on every code issued
/// before paper codes existed, so they read as before.
const MEDIUM_CLAIM: i64 = -65539;

/// What the code is shown on. A paper code (纸质码, printed for someone without a phone — at a
/// self-service machine, by family) is carried for days, so the venue's policy gives it its own
/// age limit; a screen code is refreshed on the phone and kept short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Medium {
    #[default]
    Screen,
    Paper,
}

/// Health code colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Color {
    Green,
    Yellow,
    Red,
}

impl Color {
    pub fn as_str(self) -> &'static str {
        match self {
            Color::Green => "green",
            Color::Yellow => "yellow",
            Color::Red => "red",
        }
    }

    pub fn parse(s: &str) -> Option<Color> {
        match s {
            "green" => Some(Color::Green),
            "yellow" => Some(Color::Yellow),
            "red" => Some(Color::Red),
            _ => None,
        }
    }

    fn to_wire(self) -> u64 {
        match self {
            Color::Green => 0,
            Color::Yellow => 1,
            Color::Red => 2,
        }
    }

    fn from_wire(v: u64) -> Option<Color> {
        [Color::Green, Color::Yellow, Color::Red]
            .into_iter()
            .find(|c| c.to_wire() == v)
    }
}

/// Result of a nucleic-acid test (核酸检测).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NatOutcome {
    Negative,
    Positive,
    Pending,
}

impl NatOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            NatOutcome::Negative => "negative",
            NatOutcome::Positive => "positive",
            NatOutcome::Pending => "pending",
        }
    }

    pub fn parse(s: &str) -> Option<NatOutcome> {
        match s {
            "negative" => Some(NatOutcome::Negative),
            "positive" => Some(NatOutcome::Positive),
            "pending" => Some(NatOutcome::Pending),
            _ => None,
        }
    }

    fn to_wire(self) -> u64 {
        match self {
            NatOutcome::Negative => 0,
            NatOutcome::Positive => 1,
            NatOutcome::Pending => 2,
        }
    }

    fn from_wire(v: u64) -> Option<NatOutcome> {
        [
            NatOutcome::Negative,
            NatOutcome::Positive,
            NatOutcome::Pending,
        ]
        .into_iter()
        .find(|c| c.to_wire() == v)
    }
}

/// The latest nucleic-acid test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NatResult {
    pub outcome: NatOutcome,
    pub tested_at: DateTime<Utc>,
}

/// How a guardian relates to the holder of a family code (亲情码).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    Parent,
    Child,
    Spouse,
    Grandparent,
    Grandchild,
    Sibling,
    Other,
}

impl Relation {
    pub const ALL: [Relation; 7] = [
        Relation::Parent,
        Relation::Child,
        Relation::Spouse,
        Relation::Grandparent,
        Relation::Grandchild,
        Relation::Sibling,
        Relation::Other,
    ];

    /// Stable wire number.
    pub fn to_wire(self) -> u64 {
        Relation::ALL.iter().position(|r| *r == self).unwrap_or(6) as u64
    }

    pub fn from_wire(v: u64) -> Option<Relation> {
        Relation::ALL.get(usize::try_from(v).ok()?).copied()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Parent => "parent",
            Relation::Child => "child",
            Relation::Spouse => "spouse",
            Relation::Grandparent => "grandparent",
            Relation::Grandchild => "grandchild",
            Relation::Sibling => "sibling",
            Relation::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Relation> {
        Relation::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A stable pseudonym of a person at one issuer; reveals nothing of the ID number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pseudonym(pub [u8; 12]);

impl Pseudonym {
    /// HMAC-SHA256 of the normalised ID number under the issuer's secret, cut to 12 bytes (96 bits:
    /// no collision expected below 10^13 people).
    pub fn derive(issuer_secret: &[u8; 32], id: &IdNumber) -> Pseudonym {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(issuer_secret).expect("HMAC takes a key of any length");
        mac.update(b"venuecode/subject/v1\0");
        mac.update(id.as_str().as_bytes());
        let out = mac.finalize().into_bytes();
        let mut p = [0u8; 12];
        p.copy_from_slice(&out[..12]);
        Pseudonym(p)
    }

    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

/// A family code's link to the guardian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Guardian {
    pub pseudonym: Pseudonym,
    /// What the guardian is to the holder.
    pub relation: Relation,
}

/// Everything a health code says.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HealthClaims {
    /// The issuing authority (`iss`), as named on the trust list.
    pub issuer: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Unique id of this code (for revocation).
    pub code_id: [u8; 8],
    pub subject: Pseudonym,
    pub name_masked: String,
    pub phone_masked: String,
    pub id_masked: String,
    pub color: Color,
    pub color_since: DateTime<Utc>,
    pub nat: Option<NatResult>,
    pub guardian: Option<Guardian>,
    /// Screen (default) or printed paper; signed like every claim.
    pub medium: Medium,
}

impl HealthClaims {
    pub fn code_id_hex(&self) -> String {
        hex(&self.code_id)
    }

    fn to_cbor(&self) -> Vec<u8> {
        let mut private = vec![
            Value::Bytes(self.subject.0.to_vec()),
            Value::Text(self.name_masked.clone()),
            Value::Text(self.phone_masked.clone()),
            Value::Text(self.id_masked.clone()),
            Value::Integer(self.color.to_wire().into()),
            cbor::time(self.color_since),
        ];
        let nat = self.nat.map(|nat| {
            Value::Array(vec![
                Value::Integer(nat.outcome.to_wire().into()),
                cbor::time(nat.tested_at),
            ])
        });
        let guardian = self.guardian.map(|g| {
            Value::Array(vec![
                Value::Bytes(g.pseudonym.0.to_vec()),
                Value::Integer(g.relation.to_wire().into()),
            ])
        });
        match (nat, guardian) {
            (None, None) => {}
            (Some(n), None) => private.push(n),
            (n, Some(g)) => {
                private.push(n.unwrap_or(Value::Null));
                private.push(g);
            }
        }
        let mut map = vec![
            cbor::entry(1, Value::Text(self.issuer.clone())),
            cbor::entry(4, cbor::time(self.expires_at)),
            cbor::entry(6, cbor::time(self.issued_at)),
            cbor::entry(7, Value::Bytes(self.code_id.to_vec())),
            cbor::entry(PRIVATE_CLAIMS, Value::Array(private)),
        ];
        if self.medium == Medium::Paper {
            map.push(cbor::entry(MEDIUM_CLAIM, Value::Integer(1.into())));
        }
        cose::to_cbor(&Value::Map(map))
    }

    fn from_cbor(bytes: &[u8]) -> Result<HealthClaims, CodeError> {
        let bad = CodeError::Malformed;
        let mut m = MapReader::new(cose::from_cbor(bytes)?).ok_or(bad("claims are not a map"))?;
        let issuer = m.text(1).ok_or(bad("issuer"))?;
        let expires_at = m.time(4).ok_or(bad("expiry"))?;
        let issued_at = m.time(6).ok_or(bad("issue time"))?;
        let code_id = m
            .bytes(7)
            .and_then(|b| b.try_into().ok())
            .ok_or(bad("code id"))?;
        let medium = match m.take(MEDIUM_CLAIM) {
            None => Medium::Screen,
            Some(v) => match cbor::as_u64(v) {
                Some(1) => Medium::Paper,
                _ => return Err(bad("medium")),
            },
        };
        let private = m.array(PRIVATE_CLAIMS).ok_or(bad("health claims"))?;
        if !(6..=8).contains(&private.len()) {
            return Err(bad("health claims"));
        }
        let mut it = private.into_iter();
        let mut next = || it.next().unwrap_or(Value::Null);
        let subject = Pseudonym(
            cbor::as_bytes(next())
                .and_then(|b| b.try_into().ok())
                .ok_or(bad("subject"))?,
        );
        let name_masked = cbor::as_text(next()).ok_or(bad("name"))?;
        let phone_masked = cbor::as_text(next()).ok_or(bad("phone"))?;
        let id_masked = cbor::as_text(next()).ok_or(bad("ID number"))?;
        let color = cbor::as_u64(next())
            .and_then(Color::from_wire)
            .ok_or(bad("colour"))?;
        let color_since = cbor::as_time(next()).ok_or(bad("colour since"))?;
        let nat = match next() {
            Value::Null => None,
            Value::Array(arr) => {
                let [o, t] = <[Value; 2]>::try_from(arr).map_err(|_| bad("nucleic-acid test"))?;
                let outcome = cbor::as_u64(o)
                    .and_then(NatOutcome::from_wire)
                    .ok_or(bad("nucleic-acid result"))?;
                let tested_at = cbor::as_time(t).ok_or(bad("nucleic-acid time"))?;
                Some(NatResult { outcome, tested_at })
            }
            _ => return Err(bad("nucleic-acid test")),
        };
        let guardian = match next() {
            Value::Null => None,
            Value::Array(arr) => {
                let [g, r] = <[Value; 2]>::try_from(arr).map_err(|_| bad("guardian"))?;
                let pseudonym = Pseudonym(
                    cbor::as_bytes(g)
                        .and_then(|b| b.try_into().ok())
                        .ok_or(bad("guardian"))?,
                );
                let relation = cbor::as_u64(r)
                    .and_then(Relation::from_wire)
                    .ok_or(bad("guardian relation"))?;
                Some(Guardian {
                    pseudonym,
                    relation,
                })
            }
            _ => return Err(bad("guardian")),
        };
        Ok(HealthClaims {
            issuer,
            issued_at,
            expires_at,
            code_id,
            subject,
            name_masked,
            phone_masked,
            id_masked,
            color,
            color_since,
            nat,
            guardian,
            medium,
        })
    }
}

/// Signs `claims` with the issuer's key into the code's text.
pub fn issue(key: &SecretKey, claims: &HealthClaims) -> String {
    let env = cose::sign(key, &claims.to_cbor());
    format!("{PREFIX}{}", crate::base45::encode(&env))
}

/// What an issuer knows when it makes a code for a resident. [`NewCode::claims`] is the one
/// place claims are built (the CLI and the server's demo issuer both call it): the identity is
/// masked and the subject pseudonymised with the issuer's secret, so plain identity never
/// reaches a code.
#[derive(Debug, Clone)]
pub struct NewCode<'a> {
    pub issuer: &'a str,
    pub subject_secret: &'a [u8; 32],
    pub name: &'a str,
    pub phone: &'a str,
    pub id: &'a IdNumber,
    pub color: Color,
    /// When the colour took effect; a week before issue when unknown.
    pub color_since: Option<DateTime<Utc>>,
    pub nat: Option<NatResult>,
    pub guardian: Option<Guardian>,
    pub issued_at: DateTime<Utc>,
    pub valid_for: Duration,
    /// Random, from the caller (core draws no randomness).
    pub code_id: [u8; 8],
    /// Screen, or paper for someone without a phone.
    pub medium: Medium,
}

impl NewCode<'_> {
    /// The claims of the new code.
    pub fn claims(&self) -> HealthClaims {
        HealthClaims {
            issuer: self.issuer.to_string(),
            issued_at: self.issued_at,
            expires_at: self.issued_at + self.valid_for,
            code_id: self.code_id,
            subject: Pseudonym::derive(self.subject_secret, self.id),
            name_masked: crate::mask::mask_name(self.name.trim()),
            phone_masked: crate::mask::mask_phone(self.phone.trim()),
            id_masked: self.id.masked(),
            color: self.color,
            color_since: self
                .color_since
                .unwrap_or(self.issued_at - Duration::days(7)),
            nat: self.nat,
            guardian: self.guardian,
            medium: self.medium,
        }
    }
}

/// A health code that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedHealthCode {
    pub claims: HealthClaims,
    pub kid: KeyId,
}

/// Verifies a health code's text at trusted time `now`.
pub fn verify(
    text: &str,
    trust: &TrustList,
    revocations: &impl Revocations,
    now: DateTime<Utc>,
) -> Result<VerifiedHealthCode, CodeError> {
    let (claims, kid) = signed_claims(text, trust)?;
    if claims.issued_at > now + DEFAULT_SKEW {
        return Err(CodeError::NotYetValid {
            issued_at: claims.issued_at,
            now,
        });
    }
    if now >= claims.expires_at + DEFAULT_SKEW {
        return Err(CodeError::Expired {
            expired_at: claims.expires_at,
            now,
        });
    }
    if revocations.code_revoked(&claims.code_id_hex()) {
        return Err(CodeError::Revoked(RevokedBy::Code));
    }
    if revocations.subject_revoked(&claims.subject.to_hex()) {
        return Err(CodeError::Revoked(RevokedBy::Subject));
    }
    Ok(VerifiedHealthCode { claims, kid })
}

/// The claims of a code signed by a listed issuer within its key's validity, and the key id.
fn signed_claims(text: &str, trust: &TrustList) -> Result<(HealthClaims, KeyId), CodeError> {
    let body = text
        .trim()
        .strip_prefix(PREFIX)
        .ok_or(CodeError::NotACode { expected: PREFIX })?;
    let env = cose::decode(&crate::base45::decode(body)?)?;
    // Read the claims before the signature only to learn the issuer; nothing else is trusted yet.
    let claims = HealthClaims::from_cbor(&env.payload)?;
    crate::codes::check_signed(
        &env,
        &claims.issuer,
        claims.issued_at,
        trust,
        KeyRole::HealthIssuer,
    )?;
    Ok((claims, env.kid))
}

/// Reads a health code for contact tracing: signed by a listed issuer, nothing more. Expiry and
/// revocation do not matter here — the code a case showed last week, or one revoked because its
/// holder fell ill, is exactly what an authority traces from.
pub fn identify(text: &str, trust: &TrustList) -> Result<HealthClaims, CodeError> {
    signed_claims(text, trust).map(|(claims, _)| claims)
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;
    use crate::trust::TrustedKey;

    pub const ISSUER: &str = "XJBT-HC";

    pub fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    pub fn now() -> DateTime<Utc> {
        at(1_795_000_000)
    }

    pub fn issuer_key() -> SecretKey {
        SecretKey::from_seed(&[21; 32])
    }

    pub fn trust() -> TrustList {
        TrustList {
            version: 1,
            issued_at: at(1_780_000_000),
            expires_at: at(1_900_000_000),
            keys: vec![TrustedKey {
                issuer: ISSUER.into(),
                key: issuer_key().public(),
                role: KeyRole::HealthIssuer,
                not_before: at(1_780_000_000),
                not_after: at(1_800_000_000),
            }],
        }
    }

    pub fn claims() -> HealthClaims {
        HealthClaims {
            issuer: ISSUER.into(),
            issued_at: now() - Duration::minutes(1),
            expires_at: now() + Duration::minutes(9),
            code_id: [0xA5; 8],
            subject: Pseudonym([0x5A; 12]),
            name_masked: crate::mask::mask_name("张三丰"),
            phone_masked: crate::mask::mask_phone("13800138000"),
            id_masked: crate::mask::mask_id_number("11010519491231002X"),
            color: Color::Green,
            color_since: now() - Duration::days(30),
            nat: Some(NatResult {
                outcome: NatOutcome::Negative,
                tested_at: now() - Duration::hours(20),
            }),
            guardian: Some(Guardian {
                pseudonym: Pseudonym([0x33; 12]),
                relation: Relation::Child,
            }),
            medium: Medium::Screen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;
    use crate::trust::{Revocation, RevocationDelta, RevocationList};

    fn check(text: &str) -> Result<VerifiedHealthCode, CodeError> {
        verify(text, &trust(), &RevocationList::default(), now())
    }

    #[test]
    fn a_new_code_keeps_only_masked_identity_and_a_pseudonym() {
        let id = IdNumber::parse("11010519491231002X", now().date_naive()).unwrap();
        let secret = [9u8; 32];
        let c = NewCode {
            issuer: ISSUER,
            subject_secret: &secret,
            name: " 张三丰 ",
            phone: "13800138000",
            id: &id,
            color: Color::Yellow,
            color_since: None,
            nat: None,
            guardian: None,
            issued_at: now(),
            valid_for: Duration::minutes(10),
            code_id: [1; 8],
            medium: Medium::Screen,
        }
        .claims();
        assert_eq!(c.expires_at, now() + Duration::minutes(10));
        assert_eq!(c.color_since, now() - Duration::days(7));
        assert_eq!(c.subject, Pseudonym::derive(&secret, &id));
        assert_eq!(c.name_masked, crate::mask::mask_name("张三丰"));
        assert!(!c.phone_masked.contains("0013800"));
        assert!(!c.id_masked.contains("19491231"));
        let text = issue(&issuer_key(), &c);
        assert_eq!(check(&text).unwrap().claims, c);
    }

    #[test]
    fn round_trip() {
        let c = claims();
        let text = issue(&issuer_key(), &c);
        assert!(text.starts_with(PREFIX));
        let v = check(&text).unwrap();
        assert_eq!(v.claims, c);
        assert_eq!(v.kid, issuer_key().public().key_id());
        let plain = HealthClaims {
            nat: None,
            guardian: None,
            ..c
        };
        assert_eq!(check(&issue(&issuer_key(), &plain)).unwrap().claims, plain);
        // A paper code says so, under the issuer's signature; a screen code's bytes are as
        // before paper codes existed (no medium claim).
        let paper = HealthClaims {
            medium: Medium::Paper,
            ..plain.clone()
        };
        assert_eq!(check(&issue(&issuer_key(), &paper)).unwrap().claims, paper);
        // -65539 in CBOR: 0x3a 00 01 00 02.
        assert!(!plain.to_cbor().windows(5).any(|w| w == [0x3a, 0, 1, 0, 2]));
        assert!(paper.to_cbor().windows(5).any(|w| w == [0x3a, 0, 1, 0, 2]));
        // Any other medium value is malformed, not read as a screen.
        let mut bad = paper.to_cbor();
        let at = bad.len() - 1;
        assert_eq!(bad[at], 0x01, "the medium value is the last byte");
        bad[at] = 0x02;
        assert_eq!(
            HealthClaims::from_cbor(&bad).unwrap_err(),
            CodeError::Malformed("medium")
        );
    }

    #[test]
    fn typical_code_fits_qr_version_10_at_level_m() {
        let text = issue(&issuer_key(), &claims());
        let qr = qrcode::QrCode::with_error_correction_level(&text, qrcode::EcLevel::M).unwrap();
        match qr.version() {
            qrcode::Version::Normal(v) => assert!(v <= 10, "version {v} for {} chars", text.len()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_single_character_change_fails() {
        let text = issue(&issuer_key(), &claims());
        let alphabet: Vec<char> = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
            .chars()
            .collect();
        for (i, c) in text.char_indices() {
            for sub in [
                alphabet[(alphabet.iter().position(|&a| a == c).unwrap_or(0) + 1) % 45],
                'a',
            ] {
                let mut t: Vec<char> = text.chars().collect();
                t[i] = sub;
                let t: String = t.into_iter().collect();
                assert!(check(&t).is_err(), "change at {i} to {sub:?} accepted");
            }
        }
    }

    #[test]
    fn every_bit_flip_in_the_envelope_fails() {
        let text = issue(&issuer_key(), &claims());
        let env = crate::base45::decode(&text[PREFIX.len()..]).unwrap();
        for i in 0..env.len() * 8 {
            let mut e = env.clone();
            e[i / 8] ^= 1 << (i % 8);
            let t = format!("{PREFIX}{}", crate::base45::encode(&e));
            assert!(check(&t).is_err(), "bit flip {i} accepted");
        }
    }

    #[test]
    fn each_failure_has_its_own_error() {
        let good = issue(&issuer_key(), &claims());
        // forged: signed by a key that claims the issuer's key id is impossible, so sign with
        // the issuer key then swap the payload for another one of the same issuer.
        let other = issue(
            &issuer_key(),
            &HealthClaims {
                color: Color::Red,
                ..claims()
            },
        );
        let env_good = cose::decode(&crate::base45::decode(&good[5..]).unwrap()).unwrap();
        let env_other = cose::decode(&crate::base45::decode(&other[5..]).unwrap()).unwrap();
        let forged_bytes = cose::to_cbor(&Value::Tag(
            18,
            Box::new(Value::Array(vec![
                Value::Bytes(cose::to_cbor(&Value::Map(vec![
                    cbor::entry(1, Value::Integer((-8).into())),
                    cbor::entry(4, Value::Bytes(env_good.kid.0.to_vec())),
                ]))),
                Value::Map(vec![]),
                Value::Bytes(env_other.payload.clone()),
                Value::Bytes(issuer_key().sign(b"something else entirely").to_vec()),
            ])),
        ));
        let forged = format!("{PREFIX}{}", crate::base45::encode(&forged_bytes));
        assert_eq!(check(&forged).unwrap_err().code(), "forged");

        let expired = issue(
            &issuer_key(),
            &HealthClaims {
                issued_at: now() - Duration::hours(2),
                expires_at: now() - Duration::hours(1),
                ..claims()
            },
        );
        assert_eq!(check(&expired).unwrap_err().code(), "expired");

        let future = issue(
            &issuer_key(),
            &HealthClaims {
                issued_at: now() + Duration::hours(1),
                expires_at: now() + Duration::hours(2),
                ..claims()
            },
        );
        assert_eq!(check(&future).unwrap_err().code(), "not_yet_valid");

        let stranger = issue(
            &issuer_key(),
            &HealthClaims {
                issuer: "SOMEONE-ELSE".into(),
                ..claims()
            },
        );
        assert_eq!(check(&stranger).unwrap_err().code(), "unknown_issuer");

        let wrong_kid = issue(&SecretKey::from_seed(&[99; 32]), &claims());
        assert_eq!(check(&wrong_kid).unwrap_err().code(), "unknown_key_id");

        let old = issue(
            &issuer_key(),
            &HealthClaims {
                issued_at: at(1_770_000_000),
                expires_at: now() + Duration::minutes(5),
                ..claims()
            },
        );
        assert_eq!(check(&old).unwrap_err().code(), "key_not_valid");

        let mut revs = RevocationList::default();
        revs.apply(&RevocationDelta {
            more: false,
            since: 0,
            until: 1,
            entries: vec![Revocation::Code(claims().code_id_hex())],
        })
        .unwrap();
        assert_eq!(
            verify(&good, &trust(), &revs, now()).unwrap_err().code(),
            "revoked"
        );
        let mut revs = RevocationList::default();
        revs.apply(&RevocationDelta {
            more: false,
            since: 0,
            until: 1,
            entries: vec![Revocation::Subject(
                claims().subject.to_hex().to_uppercase(),
            )],
        })
        .unwrap();
        assert_eq!(
            verify(&good, &trust(), &revs, now()).unwrap_err().code(),
            "revoked_subject"
        );

        assert_eq!(
            check(&good[..good.len() - 1]).unwrap_err().code(),
            "truncated"
        );
        assert_eq!(
            check(&good[..good.len() / 2]).unwrap_err().code(),
            "truncated"
        );
        assert_eq!(check("hello world").unwrap_err().code(), "not_a_code");
        assert_eq!(check("JKM1:hello").unwrap_err().code(), "encoding");
        assert_eq!(check("JKM1:").unwrap_err().code(), "truncated");
        assert_eq!(check("JKM1:BB8").unwrap_err().code(), "malformed");
    }

    #[test]
    fn tracing_identifies_expired_and_revoked_codes_but_not_forged_ones() {
        let c = claims();
        let text = issue(&issuer_key(), &c);
        let later = c.expires_at + chrono::Duration::days(10);
        assert!(matches!(
            verify(&text, &trust(), &RevocationList::default(), later),
            Err(CodeError::Expired { .. })
        ));
        assert_eq!(identify(&text, &trust()).unwrap().subject, c.subject);
        let forged = issue(&SecretKey::from_seed(&[99; 32]), &c);
        assert!(identify(&forged, &trust()).is_err());
        assert!(identify("HC1:nonsense", &trust()).is_err());
    }

    #[test]
    fn pseudonyms_are_stable_per_issuer_and_hide_the_id() {
        let id = IdNumber::parse("11010519491231002X", now().date_naive()).unwrap();
        let a = Pseudonym::derive(&[1; 32], &id);
        assert_eq!(a, Pseudonym::derive(&[1; 32], &id));
        assert_ne!(a, Pseudonym::derive(&[2; 32], &id));
        assert!(!a.to_hex().contains("110105"));
    }
}

#[cfg(test)]
mod proptests {
    use super::testutil::*;
    use super::*;
    use crate::trust::RevocationList;
    use proptest::prelude::*;

    fn arb_claims() -> impl Strategy<Value = HealthClaims> {
        (
            "[\\p{Han}]{1,4}",
            "1[3-9][0-9]{9}",
            any::<[u8; 8]>(),
            any::<[u8; 12]>(),
            0u64..3,
            proptest::option::of((0u64..3, 0i64..100_000)),
            proptest::option::of((any::<[u8; 12]>(), 0u64..7)),
            1i64..3600,
        )
            .prop_map(
                |(name, phone, code_id, subject, color, nat, guardian, valid)| HealthClaims {
                    issuer: ISSUER.into(),
                    issued_at: now() - Duration::seconds(1),
                    expires_at: now() + Duration::seconds(valid),
                    code_id,
                    subject: Pseudonym(subject),
                    name_masked: crate::mask::mask_name(&name),
                    phone_masked: crate::mask::mask_phone(&phone),
                    id_masked: "1101**********002X".into(),
                    color: Color::from_wire(color).unwrap(),
                    color_since: now() - Duration::days(3),
                    nat: nat.map(|(o, ago)| NatResult {
                        outcome: NatOutcome::from_wire(o).unwrap(),
                        tested_at: now() - Duration::seconds(ago),
                    }),
                    guardian: guardian.map(|(p, r)| Guardian {
                        pseudonym: Pseudonym(p),
                        relation: Relation::from_wire(r).unwrap(),
                    }),
                    medium: Medium::Screen,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn issued_codes_verify_to_the_same_claims(c in arb_claims()) {
            let text = issue(&issuer_key(), &c);
            let v = verify(&text, &trust(), &RevocationList::default(), now()).unwrap();
            prop_assert_eq!(v.claims, c);
        }

        #[test]
        fn any_text_is_refused_without_panic(s in "\\PC{0,400}") {
            let _ = verify(&s, &trust(), &RevocationList::default(), now());
            let with_prefix = format!("{PREFIX}{s}");
            prop_assert!(verify(&with_prefix, &trust(), &RevocationList::default(), now()).is_err());
        }

        #[test]
        fn any_changed_character_is_refused(c in arb_claims(), pos in any::<prop::sample::Index>(), sub in "[0-9A-Z $%*+./:-]") {
            let text = issue(&issuer_key(), &c);
            let i = pos.index(text.len());
            let sub = sub.chars().next().unwrap();
            prop_assume!(text.as_bytes()[i] as char != sub);
            let mut t = text.into_bytes();
            t[i] = sub as u8;
            let t = String::from_utf8(t).unwrap();
            prop_assert!(verify(&t, &trust(), &RevocationList::default(), now()).is_err());
        }
    }
}
