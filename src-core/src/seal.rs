//! Sealing a person's ID number to the health authority: the station encrypts it to the
//! authority's X25519 public key so that only the authority's server can open it — to derive
//! the pseudonym that links a registration by hand to the same person's scanned codes at any
//! station, and, audited, to read the number in an outbreak.
//!
//! Construction (an HPKE-style sealed box, RFC 9180's base mode in spirit, from RustCrypto's
//! maintained primitives): an ephemeral X25519 key per message; the shared secret through
//! HKDF-SHA256 (salt = ephemeral public ‖ recipient public, info = label ‖ context) to a
//! ChaCha20-Poly1305 key used once (so a zero nonce is safe); the context (the venue) is also
//! the associated data, so a sealed number copied into another venue's record does not open.
//! Layout: `v1` tag byte, ephemeral public key (32), ciphertext with tag; base64 on the wire.
//!
//! Invariants: pure — the ephemeral secret comes from the caller (the station's OS random
//! generator); an all-zero shared secret (a low-order public key) is refused; opening fails
//! closed on any change to a byte, the context or the key.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use hkdf::Hkdf;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

const VERSION: u8 = 1;
const LABEL: &[u8] = b"venuecode/sealed-id/v1\0";

/// Why something did not seal or open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the authority's sealing key is not 64 hex characters")]
    BadKey,
    #[error("the sealing key is not usable (a low-order point)")]
    WeakKey,
    #[error("the sealed value is not base64 of a version-1 sealed box")]
    Malformed,
    #[error("the sealed value does not open with this key and context")]
    DoesNotOpen,
}

/// The authority's public sealing key from its hex form.
pub fn public_key_from_hex(s: &str) -> Result<[u8; 32], SealError> {
    let bytes = crate::keys::parse_hex(s.trim()).map_err(|_| SealError::BadKey)?;
    bytes.try_into().map_err(|_| SealError::BadKey)
}

/// The public key of a sealing secret.
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    PublicKey::from(&StaticSecret::from(*secret)).to_bytes()
}

fn cipher(
    label: &[u8],
    shared: &[u8; 32],
    eph: &[u8; 32],
    recipient: &[u8; 32],
    context: &str,
) -> ChaCha20Poly1305 {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(eph);
    salt[32..].copy_from_slice(recipient);
    let hk = Hkdf::<Sha256>::new(Some(&salt), shared);
    let mut key = [0u8; 32];
    let info = [label, context.as_bytes()].concat();
    // 32 bytes is far below HKDF-SHA256's limit of 255 × 32.
    let _ = hk.expand(&info, &mut key);
    ChaCha20Poly1305::new(&key.into())
}

/// Seals `plaintext` to `recipient` under `context`, with the caller's fresh random
/// `ephemeral_secret`; base64.
pub fn seal(
    recipient: &[u8; 32],
    ephemeral_secret: [u8; 32],
    context: &str,
    plaintext: &[u8],
) -> Result<String, SealError> {
    seal_labeled(LABEL, recipient, ephemeral_secret, context, plaintext)
}

/// Opens a sealed value with the authority's `secret` under `context`.
pub fn open(secret: &[u8; 32], context: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
    open_labeled(LABEL, 1024, secret, context, sealed)
}

/// The sealed box under another purpose's `label` (a value sealed for one purpose never opens
/// as another's).
pub(crate) fn seal_labeled(
    label: &[u8],
    recipient: &[u8; 32],
    ephemeral_secret: [u8; 32],
    context: &str,
    plaintext: &[u8],
) -> Result<String, SealError> {
    let eph = StaticSecret::from(ephemeral_secret);
    let eph_pub = PublicKey::from(&eph).to_bytes();
    let shared = eph.diffie_hellman(&PublicKey::from(*recipient));
    if !shared.was_contributory() {
        return Err(SealError::WeakKey);
    }
    let ct = cipher(label, shared.as_bytes(), &eph_pub, recipient, context)
        .encrypt(
            &[0u8; 12].into(),
            Payload {
                msg: plaintext,
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| SealError::WeakKey)?;
    let mut out = Vec::with_capacity(1 + 32 + ct.len());
    out.push(VERSION);
    out.extend_from_slice(&eph_pub);
    out.extend_from_slice(&ct);
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

/// Opens a value sealed under `label`, refusing one longer than `max_len` bytes.
pub(crate) fn open_labeled(
    label: &[u8],
    max_len: usize,
    secret: &[u8; 32],
    context: &str,
    sealed: &str,
) -> Result<Vec<u8>, SealError> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sealed.trim())
        .map_err(|_| SealError::Malformed)?;
    if raw.len() < 1 + 32 + 16 || raw[0] != VERSION || raw.len() > max_len {
        return Err(SealError::Malformed);
    }
    let mut eph_pub = [0u8; 32];
    eph_pub.copy_from_slice(&raw[1..33]);
    let me = StaticSecret::from(*secret);
    let recipient = PublicKey::from(&me).to_bytes();
    let shared = me.diffie_hellman(&PublicKey::from(eph_pub));
    if !shared.was_contributory() {
        return Err(SealError::DoesNotOpen);
    }
    cipher(label, shared.as_bytes(), &eph_pub, &recipient, context)
        .decrypt(
            &[0u8; 12].into(),
            Payload {
                msg: &raw[33..],
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| SealError::DoesNotOpen)
}

/// Why a sealed ID number did not link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("the sealed value is not a valid ID number")]
    NotAnIdNumber,
    #[error("the sealed ID number does not match the record's masked one")]
    MaskMismatch,
}

/// The cross-station pseudonym of a person registered by hand: opens `sealed` (context: the
/// record's venue), checks it is a valid ID number whose mask is the record's `id_masked` (a
/// station cannot seal one person and show another), and derives the issuer's pseudonym under
/// `subject_secret` — the one the person's own health code carries.
pub fn linked_subject(
    seal_secret: &[u8; 32],
    subject_secret: &[u8; 32],
    venue_id: &str,
    sealed: &str,
    id_masked: Option<&str>,
    today: chrono::NaiveDate,
) -> Result<String, LinkError> {
    let bytes = open(seal_secret, venue_id, sealed)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| LinkError::NotAnIdNumber)?;
    let id = crate::idnumber::IdNumber::parse(text, today).map_err(|_| LinkError::NotAnIdNumber)?;
    if id_masked != Some(id.masked().as_str()) {
        return Err(LinkError::MaskMismatch);
    }
    Ok(crate::health_code::Pseudonym::derive(subject_secret, &id).to_hex())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_authority_opens_and_only_in_its_context() {
        let secret = [7u8; 32];
        let public = public_key(&secret);
        let sealed = seal(&public, [9u8; 32], "demo-venue-0001", b"11010519491231002X").unwrap();
        assert_eq!(
            open(&secret, "demo-venue-0001", &sealed).unwrap(),
            b"11010519491231002X"
        );
        // Another context, another key, a changed byte: nothing opens.
        assert_eq!(
            open(&secret, "demo-venue-0002", &sealed),
            Err(SealError::DoesNotOpen)
        );
        assert_eq!(
            open(&[8u8; 32], "demo-venue-0001", &sealed),
            Err(SealError::DoesNotOpen)
        );
        let mut raw = base64::engine::general_purpose::STANDARD
            .decode(&sealed)
            .unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let tampered = base64::engine::general_purpose::STANDARD.encode(raw);
        assert_eq!(
            open(&secret, "demo-venue-0001", &tampered),
            Err(SealError::DoesNotOpen)
        );
        assert_eq!(open(&secret, "x", "not base64!"), Err(SealError::Malformed));
        assert_eq!(open(&secret, "x", "AQID"), Err(SealError::Malformed));
        // A fresh ephemeral key per message: the same number seals differently.
        let again = seal(
            &public,
            [10u8; 32],
            "demo-venue-0001",
            b"11010519491231002X",
        )
        .unwrap();
        assert_ne!(sealed, again);
        // The ciphertext does not carry the number in clear.
        assert!(!sealed.contains("1101051949"));
    }

    #[test]
    fn a_sealed_number_links_to_the_pseudonym_its_health_code_carries() {
        use crate::health_code::Pseudonym;
        use crate::idnumber::IdNumber;
        let (seal_secret, subjects) = ([7u8; 32], [3u8; 32]);
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let id = IdNumber::parse("11010519491231002X", today).unwrap();
        let sealed = seal(
            &public_key(&seal_secret),
            [9u8; 32],
            "v1",
            id.as_str().as_bytes(),
        )
        .unwrap();
        let linked = linked_subject(
            &seal_secret,
            &subjects,
            "v1",
            &sealed,
            Some(&id.masked()),
            today,
        )
        .unwrap();
        assert_eq!(linked, Pseudonym::derive(&subjects, &id).to_hex());
        assert_eq!(
            linked_subject(
                &seal_secret,
                &subjects,
                "v1",
                &sealed,
                Some("110105********0000"),
                today
            ),
            Err(LinkError::MaskMismatch)
        );
        let junk = seal(&public_key(&seal_secret), [9u8; 32], "v1", b"not a number").unwrap();
        assert_eq!(
            linked_subject(&seal_secret, &subjects, "v1", &junk, None, today),
            Err(LinkError::NotAnIdNumber)
        );
        assert!(matches!(
            linked_subject(
                &seal_secret,
                &subjects,
                "v2",
                &sealed,
                Some(&id.masked()),
                today
            ),
            Err(LinkError::Seal(SealError::DoesNotOpen))
        ));
    }

    #[test]
    fn low_order_keys_and_bad_hex_are_refused() {
        assert_eq!(
            seal(&[0u8; 32], [9u8; 32], "v", b"x"),
            Err(SealError::WeakKey)
        );
        assert_eq!(public_key_from_hex("abc"), Err(SealError::BadKey));
        let hex = crate::keys::hex(&public_key(&[7u8; 32]));
        assert_eq!(public_key_from_hex(&hex).unwrap(), public_key(&[7u8; 32]));
    }
}
