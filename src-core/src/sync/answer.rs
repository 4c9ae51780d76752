//! Signed answers: every answer a station acts on is signed by the server's own key, which the
//! offline root key delegates to it for a short time.
//!
//! A [`Delegation`] is a COSE_Sign1 by the root key over `{1: "vc-server", 2: server public key,
//! 3: not_before, 4: not_after}` (Unix seconds). An answer is signed over [`answer_signing_bytes`]:
//! the request's path and query, the station's request nonce, the HTTP status, the server's time
//! and a hash of the body. The station sends a fresh nonce with every request (signed requests
//! and `/time` alike), so an answer made for one request never verifies for another, and an
//! answer that was altered, replayed, or made by anyone without a delegated key is refused.
//!
//! Invariants: pure (time and keys are arguments); a [`Delegation`] exists only after the root
//! signature checked out; [`verify_answer`] returns the server's signed time only when the
//! delegation, its validity window at that time and the answer signature all checked out;
//! header shapes are checked before any value is used.

use chrono::{DateTime, Utc};
use ciborium::value::Value;
use sha2::{Digest, Sha256};

use super::check_nonce;
use crate::cbor::{self, MapReader};
use crate::cose::{self, CoseError};
use crate::keys::{hex, parse_hex, KeyId, PublicKey, SecretKey};

/// Answer header: the server's time when it signed, Unix milliseconds.
pub const HEADER_ANSWER_TIME: &str = "x-vc-answer-time";
/// Answer header: the signature over [`answer_signing_bytes`], hex.
pub const HEADER_ANSWER_SIGNATURE: &str = "x-vc-answer-signature";
/// Answer header: the root-signed [`Delegation`] of the signing key, base64.
pub const HEADER_DELEGATION: &str = "x-vc-delegation";

const DELEGATION_PURPOSE: &str = "vc-server";

/// The root key's statement that `key` may sign the server's answers from `not_before` to
/// `not_after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    pub key: PublicKey,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// Why an answer (or its delegation) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("the answer is not signed: header {0} is missing or not text")]
    Missing(&'static str),
    #[error("answer header {0} is malformed")]
    Malformed(&'static str),
    #[error("the server's key delegation: {0}")]
    Envelope(#[from] CoseError),
    #[error(
        "the server's key delegation is signed by key {found}, not by the root key {expected}"
    )]
    WrongRoot { expected: KeyId, found: KeyId },
    #[error("the server's key delegation does not verify against the root key: altered or forged")]
    BadDelegation,
    #[error("the server's key delegation content: {0}")]
    MalformedDelegation(&'static str),
    #[error("the server's key was delegated for {not_before} to {not_after}, not for {at}: renew the delegation (venuecode delegate)")]
    OutsideDelegation {
        at: DateTime<Utc>,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    },
    #[error("the answer's signature does not match: it was altered, replayed or forged")]
    BadSignature,
}

impl Delegation {
    /// Signs the delegation with the root key (the `venuecode` command, offline).
    pub fn sign(&self, root: &SecretKey) -> Vec<u8> {
        let payload = cose::to_cbor(&Value::Map(vec![
            cbor::entry(1, Value::Text(DELEGATION_PURPOSE.into())),
            cbor::entry(2, Value::Bytes(self.key.to_bytes().to_vec())),
            cbor::entry(3, cbor::time(self.not_before)),
            cbor::entry(4, cbor::time(self.not_after)),
        ]));
        cose::sign(root, &payload)
    }

    /// Checks the root signature and decodes the delegation.
    pub fn verify(bytes: &[u8], root: &PublicKey) -> Result<Delegation, AnswerError> {
        let env = cose::decode(bytes)?;
        if env.kid != root.key_id() {
            return Err(AnswerError::WrongRoot {
                expected: root.key_id(),
                found: env.kid,
            });
        }
        if !env.verify(root) {
            return Err(AnswerError::BadDelegation);
        }
        let bad = AnswerError::MalformedDelegation;
        let mut map = MapReader::new(cose::from_cbor(&env.payload)?).ok_or(bad("not a map"))?;
        if map.text(1).as_deref() != Some(DELEGATION_PURPOSE) {
            return Err(bad("purpose"));
        }
        let raw: [u8; 32] = map
            .bytes(2)
            .and_then(|b| b.try_into().ok())
            .ok_or(bad("key"))?;
        let key = PublicKey::from_bytes(&raw).map_err(|_| bad("key"))?;
        let not_before = map.time(3).ok_or(bad("not_before"))?;
        let not_after = map.time(4).ok_or(bad("not_after"))?;
        if not_after < not_before {
            return Err(bad("window ends before it starts"));
        }
        Ok(Delegation {
            key,
            not_before,
            not_after,
        })
    }
}

/// The bytes the server signs for one answer.
pub fn answer_signing_bytes(
    path_and_query: &str,
    nonce: &str,
    status: u16,
    unix_ms: i64,
    body: &[u8],
) -> Vec<u8> {
    format!(
        "VC-ANS-1\n{path_and_query}\n{nonce}\n{status}\n{unix_ms}\n{}",
        hex(&Sha256::digest(body))
    )
    .into_bytes()
}

/// Signs an answer (server side); returns the signature, hex.
pub fn sign_answer(
    key: &SecretKey,
    path_and_query: &str,
    nonce: &str,
    status: u16,
    unix_ms: i64,
    body: &[u8],
) -> String {
    hex(&key.sign(&answer_signing_bytes(
        path_and_query,
        nonce,
        status,
        unix_ms,
        body,
    )))
}

/// The signature headers of an answer, shape-checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerHeaders {
    pub delegation: Vec<u8>,
    pub unix_ms: i64,
    pub signature: Vec<u8>,
}

/// Reads an answer's signature headers; `get` looks one up by (lowercase) name.
pub fn parse_answer_headers<'a>(
    get: impl Fn(&'static str) -> Option<&'a str>,
) -> Result<AnswerHeaders, AnswerError> {
    use base64::Engine;
    let header = |name| get(name).ok_or(AnswerError::Missing(name));
    let delegation = header(HEADER_DELEGATION)?;
    if delegation.len() > 4096 {
        return Err(AnswerError::Malformed(HEADER_DELEGATION));
    }
    let delegation = base64::engine::general_purpose::STANDARD
        .decode(delegation)
        .map_err(|_| AnswerError::Malformed(HEADER_DELEGATION))?;
    let time = header(HEADER_ANSWER_TIME)?;
    if time.is_empty() || time.len() > 18 || !time.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AnswerError::Malformed(HEADER_ANSWER_TIME));
    }
    let unix_ms = time
        .parse()
        .map_err(|_| AnswerError::Malformed(HEADER_ANSWER_TIME))?;
    let signature = header(HEADER_ANSWER_SIGNATURE)?;
    if signature.len() != 128 {
        return Err(AnswerError::Malformed(HEADER_ANSWER_SIGNATURE));
    }
    let signature =
        parse_hex(signature).map_err(|_| AnswerError::Malformed(HEADER_ANSWER_SIGNATURE))?;
    Ok(AnswerHeaders {
        delegation,
        unix_ms,
        signature,
    })
}

/// Checks an answer to the request with `nonce` at `path_and_query`: the delegation against the
/// root key, the signed time inside the delegation's window, and the signature over status, time
/// and body. Returns the server's signed time.
pub fn verify_answer(
    root: &PublicKey,
    path_and_query: &str,
    nonce: &str,
    status: u16,
    headers: &AnswerHeaders,
    body: &[u8],
) -> Result<DateTime<Utc>, AnswerError> {
    check_nonce(nonce).map_err(|_| AnswerError::Malformed("request nonce"))?;
    let delegation = Delegation::verify(&headers.delegation, root)?;
    let at = DateTime::from_timestamp_millis(headers.unix_ms)
        .ok_or(AnswerError::Malformed(HEADER_ANSWER_TIME))?;
    if at < delegation.not_before || at > delegation.not_after {
        return Err(AnswerError::OutsideDelegation {
            at,
            not_before: delegation.not_before,
            not_after: delegation.not_after,
        });
    }
    let bytes = answer_signing_bytes(path_and_query, nonce, status, headers.unix_ms, body);
    if delegation.key.verify(&bytes, &headers.signature) {
        Ok(at)
    } else {
        Err(AnswerError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use chrono::Duration;

    const NOW_MS: i64 = 1_790_000_000_000;
    const NONCE: &str = "00112233445566778899aabbccddeeff";

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    fn setup() -> (SecretKey, SecretKey, Vec<u8>) {
        let root = SecretKey::from_seed(&[1; 32]);
        let server = SecretKey::from_seed(&[2; 32]);
        let d = Delegation {
            key: server.public(),
            not_before: at(NOW_MS) - Duration::days(1),
            not_after: at(NOW_MS) + Duration::days(30),
        };
        let bytes = d.sign(&root);
        (root, server, bytes)
    }

    fn headers(delegation: &[u8], unix_ms: i64, sig: &str) -> AnswerHeaders {
        let b64 = base64::engine::general_purpose::STANDARD.encode(delegation);
        let time = unix_ms.to_string();
        parse_answer_headers(|name| match name {
            HEADER_DELEGATION => Some(b64.as_str()),
            HEADER_ANSWER_TIME => Some(time.as_str()),
            HEADER_ANSWER_SIGNATURE => Some(sig),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn a_signed_answer_verifies_and_gives_the_server_time() {
        let (root, server, d) = setup();
        let body = br#"{"unix_ms":1}"#;
        let sig = sign_answer(&server, "/api/v1/time", NONCE, 200, NOW_MS, body);
        let h = headers(&d, NOW_MS, &sig);
        let t = verify_answer(&root.public(), "/api/v1/time", NONCE, 200, &h, body).unwrap();
        assert_eq!(t, at(NOW_MS));
    }

    #[test]
    fn every_part_of_an_answer_is_bound() {
        let (root, server, d) = setup();
        let pk = root.public();
        let body = br#"{"acked":["a"]}"#;
        let path = "/api/v1/sync/upload";
        let sig = sign_answer(&server, path, NONCE, 200, NOW_MS, body);
        let h = headers(&d, NOW_MS, &sig);
        let bad = |p: &str, n: &str, s: u16, h: &AnswerHeaders, b: &[u8]| {
            verify_answer(&pk, p, n, s, h, b).unwrap_err()
        };
        assert_eq!(
            bad(path, NONCE, 200, &h, br#"{"acked":["b"]}"#),
            AnswerError::BadSignature
        );
        assert_eq!(
            bad("/api/v1/sync/pull", NONCE, 200, &h, body),
            AnswerError::BadSignature
        );
        assert_eq!(
            bad(path, "ffeeddccbbaa99887766554433221100", 200, &h, body),
            AnswerError::BadSignature
        );
        assert_eq!(bad(path, NONCE, 422, &h, body), AnswerError::BadSignature);
        // A time moved (two hours back) breaks the signature.
        let moved = headers(&d, NOW_MS - 2 * 3_600_000, &sig);
        assert_eq!(
            bad(path, NONCE, 200, &moved, body),
            AnswerError::BadSignature
        );
        // A key the root never delegated signs nothing a station accepts, even with a
        // delegation copied from a real answer.
        let rogue = SecretKey::from_seed(&[9; 32]);
        let forged = sign_answer(&rogue, path, NONCE, 200, NOW_MS, body);
        assert_eq!(
            bad(path, NONCE, 200, &headers(&d, NOW_MS, &forged), body),
            AnswerError::BadSignature
        );
        // A delegation signed by another root.
        let other_root = SecretKey::from_seed(&[5; 32]);
        let self_made = Delegation {
            key: rogue.public(),
            not_before: at(0),
            not_after: at(NOW_MS * 2),
        }
        .sign(&other_root);
        assert!(matches!(
            bad(
                path,
                NONCE,
                200,
                &headers(&self_made, NOW_MS, &forged),
                body
            ),
            AnswerError::WrongRoot { .. }
        ));
    }

    #[test]
    fn a_delegated_key_signs_only_inside_its_window() {
        let (root, server, d) = setup();
        let late = NOW_MS + 31 * 86_400_000;
        let sig = sign_answer(&server, "/p", NONCE, 200, late, b"");
        let err = verify_answer(
            &root.public(),
            "/p",
            NONCE,
            200,
            &headers(&d, late, &sig),
            b"",
        )
        .unwrap_err();
        assert!(
            matches!(err, AnswerError::OutsideDelegation { .. }),
            "{err}"
        );
    }

    #[test]
    fn header_shapes_are_checked_first() {
        let (_, server, d) = setup();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&d);
        let sig = sign_answer(&server, "/p", NONCE, 200, NOW_MS, b"");
        let time = NOW_MS.to_string();
        let with = |bad: &'static str, value: &str| {
            parse_answer_headers(|name| {
                if name == bad {
                    return if value.is_empty() { None } else { Some(value) };
                }
                match name {
                    HEADER_DELEGATION => Some(b64.as_str()),
                    HEADER_ANSWER_TIME => Some(time.as_str()),
                    HEADER_ANSWER_SIGNATURE => Some(sig.as_str()),
                    _ => None,
                }
            })
            .map(|_| ())
        };
        assert_eq!(with("none", ""), Ok(()));
        assert_eq!(
            with(HEADER_DELEGATION, ""),
            Err(AnswerError::Missing(HEADER_DELEGATION))
        );
        assert_eq!(
            with(HEADER_DELEGATION, "!!"),
            Err(AnswerError::Malformed(HEADER_DELEGATION))
        );
        for t in ["-1", "1e5", "9999999999999999999"] {
            assert_eq!(
                with(HEADER_ANSWER_TIME, t),
                Err(AnswerError::Malformed(HEADER_ANSWER_TIME)),
                "{t}"
            );
        }
        assert_eq!(
            with(HEADER_ANSWER_SIGNATURE, "zz"),
            Err(AnswerError::Malformed(HEADER_ANSWER_SIGNATURE))
        );
        let garbage = base64::engine::general_purpose::STANDARD.encode([0xff; 40]);
        let h = parse_answer_headers(|name| match name {
            HEADER_DELEGATION => Some(garbage.as_str()),
            HEADER_ANSWER_TIME => Some(time.as_str()),
            HEADER_ANSWER_SIGNATURE => Some(sig.as_str()),
            _ => None,
        })
        .unwrap();
        let root = SecretKey::from_seed(&[1; 32]).public();
        assert!(matches!(
            verify_answer(&root, "/p", NONCE, 200, &h, b""),
            Err(AnswerError::Envelope(_))
        ));
    }
}
