//! Ed25519 keys for signing codes and lists: signing keys from 32-byte seeds, public keys, key ids,
//! and their hex text form for key files.
//!
//! Invariant: this module never creates randomness; seeds come from the caller (the CLI or server
//! reads the OS generator at the edge). A [`KeyId`] is the first 8 bytes of SHA-256 of the public
//! key, as in the EU digital COVID certificate.

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// What is wrong with a key's text or bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("a key is 64 hex characters, found {found}")]
    Length { found: usize },
    #[error("key text is not hexadecimal")]
    NotHex,
    #[error("the bytes are not a valid Ed25519 public key")]
    InvalidPublicKey,
}

/// Identifies a public key inside a trust list.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", hex(&self.0))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex(self.0.as_bytes()))
    }
}

impl PublicKey {
    /// From the 32 raw bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        VerifyingKey::from_bytes(bytes)
            .map(PublicKey)
            .map_err(|_| KeyError::InvalidPublicKey)
    }

    /// From 64 hex characters (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<PublicKey, KeyError> {
        PublicKey::from_bytes(&parse_hex32(text)?)
    }

    /// The 32 raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// 64 lower-case hex characters.
    pub fn to_hex(&self) -> String {
        hex(self.0.as_bytes())
    }

    /// The key id: first 8 bytes of SHA-256 of the key.
    pub fn key_id(&self) -> KeyId {
        let digest = Sha256::digest(self.0.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        KeyId(id)
    }

    /// Verifies `signature` over `message` (strict: rejects malleable signatures and weak keys).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        self.0.verify_strict(message, &sig).is_ok()
    }
}

/// A signing key; its seed is secret.
#[derive(Clone)]
pub struct SecretKey {
    key: SigningKey,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(kid {})", self.public().key_id())
    }
}

impl SecretKey {
    /// From a 32-byte seed (which must come from a cryptographic random generator).
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        SecretKey {
            key: SigningKey::from_bytes(seed),
        }
    }

    /// From the seed's 64 hex characters.
    pub fn from_hex(text: &str) -> Result<SecretKey, KeyError> {
        Ok(SecretKey::from_seed(&parse_hex32(text)?))
    }

    /// The seed as 64 hex characters, for key files.
    pub fn to_hex(&self) -> String {
        hex(&self.key.to_bytes())
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.key.verifying_key())
    }

    /// Signs `message`; the signature is 64 bytes.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Parses hex text (either case) into bytes.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, KeyError> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return Err(KeyError::NotHex);
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|_| KeyError::NotHex))
        .collect()
}

fn parse_hex32(text: &str) -> Result<[u8; 32], KeyError> {
    let trimmed = text.trim();
    if trimmed.chars().count() != 64 {
        return Err(KeyError::Length {
            found: trimmed.chars().count(),
        });
    }
    let bytes = parse_hex(trimmed)?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_hex_and_sign() {
        let sk = SecretKey::from_seed(&[7u8; 32]);
        let sk2 = SecretKey::from_hex(&sk.to_hex()).unwrap();
        let pk = PublicKey::from_hex(&sk2.public().to_hex()).unwrap();
        assert_eq!(pk, sk.public());
        let sig = sk.sign(b"hello");
        assert!(pk.verify(b"hello", &sig));
        assert!(!pk.verify(b"hellO", &sig));
        assert!(!pk.verify(b"hello", &sig[..63]));
        assert_eq!(pk.key_id(), sk2.public().key_id());
        assert_ne!(
            pk.key_id(),
            SecretKey::from_seed(&[8u8; 32]).public().key_id()
        );
    }

    #[test]
    fn bad_key_text() {
        assert_eq!(
            PublicKey::from_hex("abc"),
            Err(KeyError::Length { found: 3 })
        );
        assert_eq!(PublicKey::from_hex(&"zz".repeat(32)), Err(KeyError::NotHex));
        assert!(SecretKey::from_hex(&"é".repeat(64)).is_err());
        assert!(format!("{:?}", SecretKey::from_seed(&[1; 32])).starts_with("SecretKey(kid "));
    }
}
