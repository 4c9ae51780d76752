//! Root rotation: the outgoing root key hands over to its successor in a signed statement, and a
//! station walks the chain of such statements from the root it holds to the newest one.
//!
//! A [`Succession`] is a COSE_Sign1 by the outgoing root over `{1: "vc-root-succession", 2: new
//! root public key, 3: issued_at}`. The server sends the whole chain (oldest first) with every
//! answer ([`HEADER_ROOT_CHAIN`]); a station follows the links signed by its current root, one
//! after the other, before it checks the answer's delegation — which the new root signed.
//!
//! Invariants: pure; a link is followed only when the root the station holds signed it (links of
//! roots it never held, or already passed, are skipped), so no one without a root key can move a
//! station to a root of their choosing; a link claiming the station's root whose signature fails
//! is an error, not skipped; a chain is at most [`MAX_CHAIN`] links.

use chrono::{DateTime, Utc};
use ciborium::value::Value;

use crate::cbor::{self, MapReader};
use crate::cose::{self, CoseError};
use crate::keys::{PublicKey, SecretKey};

/// Answer header: the root succession chain, base64 links separated by commas, oldest first.
pub const HEADER_ROOT_CHAIN: &str = "x-vc-root-chain";
/// Most links a chain may hold (a root lasts years; this is decades of rotations).
pub const MAX_CHAIN: usize = 16;

const PURPOSE: &str = "vc-root-succession";

/// The outgoing root's statement that `new_root` is the deployment's root from `issued_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Succession {
    pub new_root: PublicKey,
    pub issued_at: DateTime<Utc>,
}

/// Why a succession chain was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SuccessionError {
    #[error("root succession: {0}")]
    Envelope(#[from] CoseError),
    #[error(
        "a root succession names the station's root but its signature does not verify: forged"
    )]
    Forged,
    #[error("root succession content: {0}")]
    Malformed(&'static str),
    #[error("the root succession chain is malformed or longer than {MAX_CHAIN} links")]
    Chain,
}

impl Succession {
    /// Signs the hand-over with the outgoing root (the `venuecode` command, offline).
    pub fn sign(&self, old_root: &SecretKey) -> Vec<u8> {
        cose::sign(
            old_root,
            &cose::to_cbor(&Value::Map(vec![
                cbor::entry(1, Value::Text(PURPOSE.into())),
                cbor::entry(2, Value::Bytes(self.new_root.to_bytes().to_vec())),
                cbor::entry(3, cbor::time(self.issued_at)),
            ])),
        )
    }

    /// Checks the outgoing root's signature and decodes; `Ok(None)` when another key signed it.
    pub fn verify(
        bytes: &[u8],
        old_root: &PublicKey,
    ) -> Result<Option<Succession>, SuccessionError> {
        let env = cose::decode(bytes)?;
        if env.kid != old_root.key_id() {
            return Ok(None);
        }
        if !env.verify(old_root) {
            return Err(SuccessionError::Forged);
        }
        let s = Succession::content(&env.payload)?;
        if s.new_root == *old_root {
            return Err(SuccessionError::Malformed("hands over to itself"));
        }
        Ok(Some(s))
    }

    /// The hand-over's content, its signature unchecked: only for an operator's sanity check
    /// of a chain (the server checks its chain ends at its root), never to trust a root.
    pub fn read_unverified(bytes: &[u8]) -> Result<Succession, SuccessionError> {
        Succession::content(&cose::decode(bytes)?.payload)
    }

    fn content(payload: &[u8]) -> Result<Succession, SuccessionError> {
        let bad = SuccessionError::Malformed;
        let mut map = MapReader::new(cose::from_cbor(payload)?).ok_or(bad("not a map"))?;
        if map.text(1).as_deref() != Some(PURPOSE) {
            return Err(bad("purpose"));
        }
        let raw: [u8; 32] = map
            .bytes(2)
            .and_then(|b| b.try_into().ok())
            .ok_or(bad("key"))?;
        let new_root = PublicKey::from_bytes(&raw).map_err(|_| bad("key"))?;
        let issued_at = map.time(3).ok_or(bad("issued_at"))?;
        Ok(Succession {
            new_root,
            issued_at,
        })
    }
}

/// Encodes a chain for [`HEADER_ROOT_CHAIN`].
pub fn encode_chain(links: &[Vec<u8>]) -> String {
    use base64::Engine;
    links
        .iter()
        .map(|l| base64::engine::general_purpose::STANDARD.encode(l))
        .collect::<Vec<_>>()
        .join(",")
}

/// Decodes a [`HEADER_ROOT_CHAIN`] value.
pub fn decode_chain(header: &str) -> Result<Vec<Vec<u8>>, SuccessionError> {
    use base64::Engine;
    if header.len() > MAX_CHAIN * 512 {
        return Err(SuccessionError::Chain);
    }
    let links: Vec<&str> = header.split(',').filter(|l| !l.is_empty()).collect();
    if links.len() > MAX_CHAIN {
        return Err(SuccessionError::Chain);
    }
    links
        .into_iter()
        .map(|l| {
            base64::engine::general_purpose::STANDARD
                .decode(l.trim())
                .map_err(|_| SuccessionError::Chain)
        })
        .collect()
}

/// Follows `chain` (oldest first) from `current`: the root the station should hold now, and
/// whether it changed.
pub fn follow(current: &PublicKey, chain: &[Vec<u8>]) -> Result<PublicKey, SuccessionError> {
    if chain.len() > MAX_CHAIN {
        return Err(SuccessionError::Chain);
    }
    let mut root = *current;
    for link in chain {
        if let Some(s) = Succession::verify(link, &root)? {
            root = s.new_root;
        }
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    fn hand_over(old: &SecretKey, new: &SecretKey) -> Vec<u8> {
        Succession {
            new_root: new.public(),
            issued_at: at(1_790_000_000),
        }
        .sign(old)
    }

    #[test]
    fn a_station_walks_the_chain_from_the_root_it_holds() {
        let r1 = SecretKey::from_seed(&[1; 32]);
        let r2 = SecretKey::from_seed(&[2; 32]);
        let r3 = SecretKey::from_seed(&[3; 32]);
        let chain = vec![hand_over(&r1, &r2), hand_over(&r2, &r3)];
        // Two rotations missed: both followed, in order.
        assert_eq!(follow(&r1.public(), &chain).unwrap(), r3.public());
        // Holding r2 already: the first link is skipped.
        assert_eq!(follow(&r2.public(), &chain).unwrap(), r3.public());
        assert_eq!(follow(&r3.public(), &chain).unwrap(), r3.public());
        assert_eq!(follow(&r1.public(), &[]).unwrap(), r1.public());
        // Through the header and back.
        let header = encode_chain(&chain);
        assert_eq!(decode_chain(&header).unwrap(), chain);
        assert_eq!(decode_chain("").unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(decode_chain("!!"), Err(SuccessionError::Chain));
    }

    #[test]
    fn nobody_without_the_root_key_moves_a_station() {
        let r1 = SecretKey::from_seed(&[1; 32]);
        let attacker = SecretKey::from_seed(&[9; 32]);
        // The attacker's own hand-over is signed by a key the station never held: ignored.
        let own = hand_over(&attacker, &SecretKey::from_seed(&[8; 32]));
        assert_eq!(follow(&r1.public(), &[own]).unwrap(), r1.public());
        // A link naming the station's root whose signature does not verify (here: a genuine
        // hand-over with one signature byte changed): refused, not skipped.
        let mut forged = hand_over(&r1, &attacker);
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert_eq!(
            follow(&r1.public(), &[forged]),
            Err(SuccessionError::Forged)
        );
        // A delegation (another purpose) signed by the root is no hand-over.
        let delegation = super::super::Delegation {
            key: attacker.public(),
            not_before: at(0),
            not_after: at(1),
        }
        .sign(&r1);
        assert_eq!(
            follow(&r1.public(), &[delegation]),
            Err(SuccessionError::Malformed("purpose"))
        );
        let too_long = vec![vec![0u8; 4]; MAX_CHAIN + 1];
        assert_eq!(follow(&r1.public(), &too_long), Err(SuccessionError::Chain));
    }
}
