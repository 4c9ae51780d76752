//! Trust list (which issuer keys may sign which codes, and when) and revocation list.
//!
//! A trust list is a COSE_Sign1 signed by the root key that stations are built with. Its payload is
//! the CBOR map `{1: version, 2: issued_at, 3: [entry…], 4: expires_at}` (a list past its expiry
//! verifies nothing: the root re-signs it before then), each entry
//! `{1: issuer, 2: kid, 3: public key, 4: role, 5: not_before, 6: not_after}` (times in Unix
//! seconds). The revocation list holds revoked code ids and subject pseudonyms and advances by
//! deltas from a `since` cursor.
//!
//! Invariants: a [`TrustList`] only exists after its root signature checked out; a revocation delta
//! applies only on top of the exact cursor it was cut from, so none is skipped or applied twice.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use ciborium::value::Value;
use serde::{Deserialize, Serialize};

use crate::cbor::{self, MapReader};
use crate::cose::{self, CoseError};
use crate::keys::{KeyId, PublicKey, SecretKey};

/// What a key may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyRole {
    /// A health authority's system issuing residents' health codes.
    HealthIssuer,
    /// The venue authority signing venue codes when a venue is approved.
    VenueAuthority,
}

impl KeyRole {
    fn to_wire(self) -> u64 {
        match self {
            KeyRole::HealthIssuer => 1,
            KeyRole::VenueAuthority => 2,
        }
    }

    fn from_wire(v: u64) -> Option<KeyRole> {
        match v {
            1 => Some(KeyRole::HealthIssuer),
            2 => Some(KeyRole::VenueAuthority),
            _ => None,
        }
    }
}

/// One trusted key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// The issuer's name as it appears in the codes it signs (`iss`).
    pub issuer: String,
    pub key: PublicKey,
    pub role: KeyRole,
    /// Codes issued before this instant are not accepted under this key.
    pub not_before: DateTime<Utc>,
    /// Codes issued after this instant are not accepted under this key.
    pub not_after: DateTime<Utc>,
}

impl TrustedKey {
    pub fn kid(&self) -> KeyId {
        self.key.key_id()
    }
}

/// Why a trust list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    #[error("trust list envelope: {0}")]
    Envelope(#[from] CoseError),
    #[error("trust list is signed by key {found}, not by the root key {expected}")]
    WrongRoot { expected: KeyId, found: KeyId },
    #[error("trust list signature does not match: it was altered or forged")]
    BadSignature,
    #[error("trust list content: {0}")]
    Malformed(&'static str),
    #[error("trust list version {found} is older than the one held ({held})")]
    Downgrade { held: u64, found: u64 },
}

/// A verified list of trusted keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustList {
    pub version: u64,
    pub issued_at: DateTime<Utc>,
    pub keys: Vec<TrustedKey>,
    /// After this instant the list is expired: stations refuse to verify with it.
    pub expires_at: DateTime<Utc>,
}

impl TrustList {
    /// Signs the list with the root key (issuing side).
    pub fn sign(&self, root: &SecretKey) -> Vec<u8> {
        let entries = self
            .keys
            .iter()
            .map(|k| {
                Value::Map(vec![
                    cbor::entry(1, Value::Text(k.issuer.clone())),
                    cbor::entry(2, Value::Bytes(k.kid().0.to_vec())),
                    cbor::entry(3, Value::Bytes(k.key.to_bytes().to_vec())),
                    cbor::entry(4, Value::Integer(k.role.to_wire().into())),
                    cbor::entry(5, cbor::time(k.not_before)),
                    cbor::entry(6, cbor::time(k.not_after)),
                ])
            })
            .collect();
        let payload = cose::to_cbor(&Value::Map(vec![
            cbor::entry(1, Value::Integer(self.version.into())),
            cbor::entry(2, cbor::time(self.issued_at)),
            cbor::entry(3, Value::Array(entries)),
            cbor::entry(4, cbor::time(self.expires_at)),
        ]));
        cose::sign(root, &payload)
    }

    /// Checks the root signature and decodes the list.
    pub fn verify(bytes: &[u8], root: &PublicKey) -> Result<TrustList, TrustError> {
        let payload = root_signed_payload(bytes, root)?;
        let value = cose::from_cbor(&payload)?;
        let mut map = MapReader::new(value).ok_or(TrustError::Malformed("payload is not a map"))?;
        let version = map.u64(1).ok_or(TrustError::Malformed("version"))?;
        let issued_at = map.time(2).ok_or(TrustError::Malformed("issued_at"))?;
        let entries = map.array(3).ok_or(TrustError::Malformed("keys"))?;
        let mut keys = Vec::with_capacity(entries.len());
        for e in entries {
            let mut m = MapReader::new(e).ok_or(TrustError::Malformed("key entry"))?;
            let issuer = m.text(1).ok_or(TrustError::Malformed("issuer"))?;
            let kid = m.bytes(2).ok_or(TrustError::Malformed("kid"))?;
            let raw: [u8; 32] = m
                .bytes(3)
                .and_then(|b| b.try_into().ok())
                .ok_or(TrustError::Malformed("public key"))?;
            let key =
                PublicKey::from_bytes(&raw).map_err(|_| TrustError::Malformed("public key"))?;
            if kid != key.key_id().0 {
                return Err(TrustError::Malformed("kid does not match the key"));
            }
            let role = m
                .u64(4)
                .and_then(KeyRole::from_wire)
                .ok_or(TrustError::Malformed("role"))?;
            let not_before = m.time(5).ok_or(TrustError::Malformed("not_before"))?;
            let not_after = m.time(6).ok_or(TrustError::Malformed("not_after"))?;
            keys.push(TrustedKey {
                issuer,
                key,
                role,
                not_before,
                not_after,
            });
        }
        let expires_at = map.time(4).ok_or(TrustError::Malformed("expires_at"))?;
        Ok(TrustList {
            version,
            issued_at,
            keys,
            expires_at,
        })
    }

    /// Checks and decodes `bytes` as a replacement for `self`, refusing an older version.
    pub fn update(&self, bytes: &[u8], root: &PublicKey) -> Result<TrustList, TrustError> {
        let new = TrustList::verify(bytes, root)?;
        if new.version < self.version {
            return Err(TrustError::Downgrade {
                held: self.version,
                found: new.version,
            });
        }
        Ok(new)
    }

    /// Whether the list has expired at `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        now > self.expires_at
    }

    /// Whether any key is listed for `issuer` in `role`.
    pub fn knows_issuer(&self, issuer: &str, role: KeyRole) -> bool {
        self.keys
            .iter()
            .any(|k| k.issuer == issuer && k.role == role)
    }

    /// The key of `issuer` with id `kid` in `role`.
    pub fn find(&self, issuer: &str, kid: KeyId, role: KeyRole) -> Option<&TrustedKey> {
        self.keys
            .iter()
            .find(|k| k.issuer == issuer && k.role == role && k.kid() == kid)
    }
}

/// The payload of a COSE_Sign1 made by `root`, once its key id and signature checked out.
fn root_signed_payload(bytes: &[u8], root: &PublicKey) -> Result<Vec<u8>, TrustError> {
    let env = cose::decode(bytes)?;
    if env.kid != root.key_id() {
        return Err(TrustError::WrongRoot {
            expected: root.key_id(),
            found: env.kid,
        });
    }
    if !env.verify(root) {
        return Err(TrustError::BadSignature);
    }
    Ok(env.payload)
}

/// One revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Revocation {
    /// One code, by its code id (hex).
    Code(String),
    /// Every code of one person, by subject pseudonym (hex).
    Subject(String),
}

/// The revocations made after cursor `since`, up to and including `until`: one page of them
/// (it travels inside a signed answer). `more` says the server holds revocations after `until`,
/// so the station asks again from `until` before it counts itself up to date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationDelta {
    pub since: u64,
    pub until: u64,
    pub entries: Vec<Revocation>,
    #[serde(default)]
    pub more: bool,
}

/// Why a delta could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RevocationError {
    #[error("revocation delta starts at {since} but the list is at {held}: fetch from {held}")]
    Gap { held: u64, since: u64 },
    #[error("revocation delta ends at {until}, before it starts at {since}")]
    Backwards { since: u64, until: u64 },
}

/// What verification asks of a revocation list: a station answers from its database, tests
/// and tools from a [`RevocationList`] in memory.
pub trait Revocations {
    /// Whether the code id (lowercase hex) is revoked.
    fn code_revoked(&self, code_id_hex: &str) -> bool;
    /// Whether the subject pseudonym (lowercase hex) is revoked.
    fn subject_revoked(&self, subject_hex: &str) -> bool;
}

impl Revocations for RevocationList {
    fn code_revoked(&self, code_id_hex: &str) -> bool {
        self.codes.contains(code_id_hex)
    }

    fn subject_revoked(&self, subject_hex: &str) -> bool {
        self.subjects.contains(subject_hex)
    }
}

/// The revocations a station holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationList {
    cursor: u64,
    codes: BTreeSet<String>,
    subjects: BTreeSet<String>,
}

impl RevocationList {
    /// The cursor to ask the server for the next delta.
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Applies a delta cut from exactly this list's cursor.
    pub fn apply(&mut self, delta: &RevocationDelta) -> Result<(), RevocationError> {
        if delta.since != self.cursor {
            return Err(RevocationError::Gap {
                held: self.cursor,
                since: delta.since,
            });
        }
        if delta.until < delta.since {
            return Err(RevocationError::Backwards {
                since: delta.since,
                until: delta.until,
            });
        }
        for e in &delta.entries {
            match e {
                Revocation::Code(id) => self.codes.insert(id.to_ascii_lowercase()),
                Revocation::Subject(id) => self.subjects.insert(id.to_ascii_lowercase()),
            };
        }
        self.cursor = delta.until;
        Ok(())
    }

    /// Every entry held, for persisting the list (codes first, then subjects).
    pub fn entries(&self) -> impl Iterator<Item = Revocation> + '_ {
        self.codes
            .iter()
            .cloned()
            .map(Revocation::Code)
            .chain(self.subjects.iter().cloned().map(Revocation::Subject))
    }

    /// Rebuilds a list from persisted entries and its cursor.
    pub fn restore(cursor: u64, entries: impl IntoIterator<Item = Revocation>) -> RevocationList {
        let mut list = RevocationList::default();
        let delta = RevocationDelta {
            more: false,
            since: 0,
            until: cursor,
            entries: entries.into_iter().collect(),
        };
        list.apply(&delta)
            .expect("a delta from cursor 0 applies to an empty list");
        list
    }

    /// Whether the code id (hex) is revoked.
    pub fn code_revoked(&self, code_id_hex: &str) -> bool {
        Revocations::code_revoked(self, code_id_hex)
    }

    /// Whether the subject pseudonym (hex) is revoked.
    pub fn subject_revoked(&self, subject_hex: &str) -> bool {
        Revocations::subject_revoked(self, subject_hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    fn sample(root: &SecretKey) -> (TrustList, Vec<u8>) {
        let list = TrustList {
            version: 3,
            issued_at: at(1_790_000_000),
            expires_at: at(1_792_592_000),
            keys: vec![TrustedKey {
                issuer: "CN-XJ".into(),
                key: SecretKey::from_seed(&[9; 32]).public(),
                role: KeyRole::HealthIssuer,
                not_before: at(1_700_000_000),
                not_after: at(1_900_000_000),
            }],
        };
        let bytes = list.sign(root);
        (list, bytes)
    }

    #[test]
    fn signed_list_round_trips_and_any_flip_breaks_it() {
        let root = SecretKey::from_seed(&[1; 32]);
        let (list, bytes) = sample(&root);
        assert_eq!(TrustList::verify(&bytes, &root.public()).unwrap(), list);
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            assert!(
                TrustList::verify(&b, &root.public()).is_err(),
                "flip at {i}"
            );
        }
    }

    #[test]
    fn wrong_root_and_downgrade_are_refused() {
        let root = SecretKey::from_seed(&[1; 32]);
        let other = SecretKey::from_seed(&[2; 32]);
        let (list, bytes) = sample(&root);
        assert!(matches!(
            TrustList::verify(&bytes, &other.public()),
            Err(TrustError::WrongRoot { .. })
        ));
        let newer = TrustList {
            version: 9,
            ..list.clone()
        };
        assert!(matches!(
            newer.update(&bytes, &root.public()),
            Err(TrustError::Downgrade { held: 9, found: 3 })
        ));
        assert!(list.update(&bytes, &root.public()).is_ok());
    }

    #[test]
    fn a_list_expires() {
        let (list, _) = sample(&SecretKey::from_seed(&[1; 32]));
        assert!(!list.expired(at(1_792_592_000)));
        assert!(list.expired(at(1_792_592_001)));
    }

    #[test]
    fn revocation_deltas_apply_in_order_only() {
        let mut r = RevocationList::default();
        let d1 = RevocationDelta {
            more: false,
            since: 0,
            until: 2,
            entries: vec![
                Revocation::Code("AA".into()),
                Revocation::Subject("bb".into()),
            ],
        };
        r.apply(&d1).unwrap();
        assert!(r.code_revoked("aa") && r.subject_revoked("bb") && !r.code_revoked("bb"));
        assert_eq!(
            r.apply(&d1),
            Err(RevocationError::Gap { held: 2, since: 0 })
        );
        let back = RevocationDelta {
            more: false,
            since: 2,
            until: 1,
            entries: vec![],
        };
        assert!(matches!(
            r.apply(&back),
            Err(RevocationError::Backwards { .. })
        ));
        assert_eq!(r.cursor(), 2);
    }

    #[test]
    fn a_restored_list_equals_the_one_it_was_saved_from() {
        let mut r = RevocationList::default();
        r.apply(&RevocationDelta {
            more: false,
            since: 0,
            until: 3,
            entries: vec![
                Revocation::Code("ab".into()),
                Revocation::Subject("cd".into()),
            ],
        })
        .unwrap();
        let back = RevocationList::restore(r.cursor(), r.entries());
        assert_eq!(back, r);
    }
}
