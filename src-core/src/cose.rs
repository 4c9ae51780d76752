//! COSE_Sign1 (RFC 9052) with EdDSA, the signed envelope of every code and list we issue.
//!
//! Layout: CBOR tag 18 around `[protected: bstr({1: -8, 4: kid}), unprotected: {}, payload: bstr,
//! signature: bstr(64)]`. The signature covers the CBOR of
//! `["Signature1", protected, h'', payload]`.
//!
//! Invariants: decoding never panics and never allocates more than a small multiple of its input
//! (CBOR lengths are checked against the remaining input by the decoder); trailing bytes after the
//! structure are refused, so one envelope has exactly one encoding we accept.

use ciborium::value::Value;

use crate::keys::{KeyId, PublicKey, SecretKey};

/// COSE algorithm id of EdDSA.
pub const ALG_EDDSA: i64 = -8;
const TAG_SIGN1: u64 = 18;
/// No envelope we accept is larger than this many bytes.
pub const MAX_ENVELOPE: usize = 64 * 1024;

/// Why an envelope could not be read or checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoseError {
    #[error("the data ends too early")]
    Truncated,
    #[error("not a signed envelope: {0}")]
    Malformed(&'static str),
    #[error("signature algorithm {0} is not supported (only EdDSA, -8)")]
    UnsupportedAlgorithm(i64),
    #[error("the envelope is larger than {MAX_ENVELOPE} bytes")]
    TooLarge,
}

/// A decoded, not yet verified COSE_Sign1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sign1 {
    pub kid: KeyId,
    protected: Vec<u8>,
    pub payload: Vec<u8>,
    signature: Vec<u8>,
}

impl Sign1 {
    /// Checks the signature with `key`.
    pub fn verify(&self, key: &PublicKey) -> bool {
        key.verify(
            &sig_structure(&self.protected, &self.payload),
            &self.signature,
        )
    }
}

/// CBOR-encodes a value (infallible for values we build in memory).
pub fn to_cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail; a failure here would be a bug in ciborium.
    ciborium::ser::into_writer(value, &mut out).expect("CBOR encoding into a Vec");
    out
}

/// Decodes exactly one CBOR item from `bytes`.
pub fn from_cbor(bytes: &[u8]) -> Result<Value, CoseError> {
    if bytes.len() > MAX_ENVELOPE {
        return Err(CoseError::TooLarge);
    }
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader(&mut rest).map_err(|e| match e {
        ciborium::de::Error::Io(_) => CoseError::Truncated,
        ciborium::de::Error::RecursionLimitExceeded => CoseError::Malformed("nested too deeply"),
        _ => CoseError::Malformed("invalid CBOR"),
    })?;
    if !rest.is_empty() {
        return Err(CoseError::Malformed("trailing bytes after the envelope"));
    }
    Ok(value)
}

fn protected_header(kid: &KeyId) -> Vec<u8> {
    to_cbor(&Value::Map(vec![
        (Value::Integer(1.into()), Value::Integer(ALG_EDDSA.into())),
        (Value::Integer(4.into()), Value::Bytes(kid.0.to_vec())),
    ]))
}

fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    to_cbor(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]))
}

/// Signs `payload` with `key` into a tagged COSE_Sign1.
pub fn sign(key: &SecretKey, payload: &[u8]) -> Vec<u8> {
    let protected = protected_header(&key.public().key_id());
    let signature = key.sign(&sig_structure(&protected, payload));
    to_cbor(&Value::Tag(
        TAG_SIGN1,
        Box::new(Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(Vec::new()),
            Value::Bytes(payload.to_vec()),
            Value::Bytes(signature.to_vec()),
        ])),
    ))
}

/// Decodes a COSE_Sign1 (tagged or not) without verifying it.
pub fn decode(bytes: &[u8]) -> Result<Sign1, CoseError> {
    let value = match from_cbor(bytes)? {
        Value::Tag(TAG_SIGN1, inner) => *inner,
        Value::Tag(_, _) => return Err(CoseError::Malformed("wrong CBOR tag")),
        other => other,
    };
    let Value::Array(items) = value else {
        return Err(CoseError::Malformed("not an array"));
    };
    let [Value::Bytes(protected), Value::Map(_), Value::Bytes(payload), Value::Bytes(signature)] =
        <[Value; 4]>::try_from(items).map_err(|_| CoseError::Malformed("not four items"))?
    else {
        return Err(CoseError::Malformed("items of the wrong type"));
    };
    let Value::Map(header) = from_cbor(&protected)? else {
        return Err(CoseError::Malformed("protected header is not a map"));
    };
    let mut alg = None;
    let mut kid = None;
    for (k, v) in header {
        match (k.as_integer().map(i128::from), v) {
            (Some(1), Value::Integer(a)) => alg = i64::try_from(a).ok(),
            (Some(4), Value::Bytes(b)) => kid = <[u8; 8]>::try_from(b.as_slice()).ok(),
            _ => {}
        }
    }
    let alg = alg.ok_or(CoseError::Malformed("no algorithm in the header"))?;
    if alg != ALG_EDDSA {
        return Err(CoseError::UnsupportedAlgorithm(alg));
    }
    let kid = KeyId(kid.ok_or(CoseError::Malformed("no 8-byte key id in the header"))?);
    if signature.len() != 64 {
        return Err(CoseError::Malformed("signature is not 64 bytes"));
    }
    Ok(Sign1 {
        kid,
        protected,
        payload,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_decode_verify() {
        let key = SecretKey::from_seed(&[3; 32]);
        let env = sign(&key, b"payload");
        let s = decode(&env).unwrap();
        assert_eq!(s.kid, key.public().key_id());
        assert_eq!(s.payload, b"payload");
        assert!(s.verify(&key.public()));
        assert!(!s.verify(&SecretKey::from_seed(&[4; 32]).public()));
    }

    #[test]
    fn every_truncation_and_trailing_byte_is_refused() {
        let env = sign(&SecretKey::from_seed(&[3; 32]), b"payload");
        for n in 0..env.len() {
            assert!(decode(&env[..n]).is_err(), "accepted {n} bytes");
        }
        let mut longer = env.clone();
        longer.push(0);
        assert_eq!(
            decode(&longer),
            Err(CoseError::Malformed("trailing bytes after the envelope"))
        );
    }

    #[test]
    fn other_algorithms_are_refused() {
        let protected = to_cbor(&Value::Map(vec![
            (Value::Integer(1.into()), Value::Integer((-7).into())),
            (Value::Integer(4.into()), Value::Bytes(vec![0; 8])),
        ]));
        let env = to_cbor(&Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(vec![]),
            Value::Bytes(vec![]),
            Value::Bytes(vec![0; 64]),
        ]));
        assert_eq!(decode(&env), Err(CoseError::UnsupportedAlgorithm(-7)));
    }
}
