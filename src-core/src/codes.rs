//! What can be wrong with a code presented at the gate, shared by health codes and venue codes.
//!
//! Invariant: each distinct failure has its own variant and a stable [`CodeError::code`] string;
//! the gate rule, the UI and scripts key on the code, people read the message.

use chrono::{DateTime, Utc};

use crate::base45::Base45Error;
use crate::cose::{CoseError, Sign1};
use crate::keys::KeyId;
use crate::trust::{KeyRole, TrustList};

/// Why a code was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// Exhaustive on purpose: the app maps every variant onto the UI's reasons with a `match`, so a
// new one does not compile until it is named and translated.
pub enum CodeError {
    #[error("not a code this station knows (it does not start with {expected})")]
    NotACode { expected: &'static str },
    #[error("the code text is damaged: {0}")]
    Encoding(Base45Error),
    #[error("the code is cut short: scan it again, whole")]
    Truncated,
    #[error("the code is damaged: {0}")]
    Malformed(&'static str),
    #[error("signature algorithm {0} is not accepted")]
    UnsupportedAlgorithm(i64),
    #[error("issuer {0:?} is not on the trust list")]
    UnknownIssuer(String),
    #[error("issuer {issuer:?} has no trusted key {kid}")]
    UnknownKeyId { issuer: String, kid: KeyId },
    #[error("the signature does not match: the code was altered or forged")]
    Forged,
    #[error("the code is issued for {issued_at}, later than now ({now}): check the station clock")]
    NotYetValid {
        issued_at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error("the code expired at {expired_at}: ask for a fresh code")]
    Expired {
        expired_at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error("key {kid} was not valid when the code was issued")]
    KeyNotValid { kid: KeyId },
    #[error("the code has been revoked ({0})")]
    Revoked(RevokedBy),
}

/// What a revocation matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokedBy {
    Code,
    Subject,
}

impl std::fmt::Display for RevokedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RevokedBy::Code => "this code",
            RevokedBy::Subject => "every code of this person",
        })
    }
}

impl CodeError {
    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            CodeError::NotACode { .. } => "not_a_code",
            CodeError::Encoding(_) => "encoding",
            CodeError::Truncated => "truncated",
            CodeError::Malformed(_) => "malformed",
            CodeError::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            CodeError::UnknownIssuer(_) => "unknown_issuer",
            CodeError::UnknownKeyId { .. } => "unknown_key_id",
            CodeError::Forged => "forged",
            CodeError::NotYetValid { .. } => "not_yet_valid",
            CodeError::Expired { .. } => "expired",
            CodeError::KeyNotValid { .. } => "key_not_valid",
            CodeError::Revoked(RevokedBy::Code) => "revoked",
            CodeError::Revoked(RevokedBy::Subject) => "revoked_subject",
        }
    }
}

/// The checks every signed code shares, in order: the issuer is on the trust list for `role`
/// (`unknown_issuer`), the envelope's key id is one of that issuer's keys (`unknown_key_id`), the
/// signature holds (`forged`), and the key was valid when the code was issued (`key_not_valid`).
pub(crate) fn check_signed(
    env: &Sign1,
    issuer: &str,
    issued_at: DateTime<Utc>,
    trust: &TrustList,
    role: KeyRole,
) -> Result<(), CodeError> {
    if !trust.knows_issuer(issuer, role) {
        return Err(CodeError::UnknownIssuer(issuer.to_string()));
    }
    let key = trust
        .find(issuer, env.kid, role)
        .ok_or_else(|| CodeError::UnknownKeyId {
            issuer: issuer.to_string(),
            kid: env.kid,
        })?;
    if !env.verify(&key.key) {
        return Err(CodeError::Forged);
    }
    if issued_at < key.not_before || issued_at > key.not_after {
        return Err(CodeError::KeyNotValid { kid: env.kid });
    }
    Ok(())
}

impl From<CoseError> for CodeError {
    fn from(e: CoseError) -> CodeError {
        match e {
            CoseError::Truncated => CodeError::Truncated,
            CoseError::Malformed(m) => CodeError::Malformed(m),
            CoseError::UnsupportedAlgorithm(a) => CodeError::UnsupportedAlgorithm(a),
            CoseError::TooLarge => CodeError::Malformed("far too large for a code"),
        }
    }
}

impl From<Base45Error> for CodeError {
    fn from(e: Base45Error) -> CodeError {
        match e {
            Base45Error::Truncated { .. } => CodeError::Truncated,
            other => CodeError::Encoding(other),
        }
    }
}
