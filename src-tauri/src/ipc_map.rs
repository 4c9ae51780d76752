//! From core's types to the IPC's enums, and back where the UI sends one: every mapping is an
//! exhaustive `match`, so a new reason, colour, relation or ID rule in core does not compile here
//! until the IPC names it (and then not in the UI until it is translated).
//!
//! Stored records keep core's stable string codes; [`reason_from_code`] reads them back and names
//! what it cannot read rather than guessing.

use venuecode_core::codes::{CodeError, RevokedBy};
use venuecode_core::gate;
use venuecode_core::health_code::{Color, NatOutcome, Relation};
use venuecode_core::idnumber::IdNumberError;
use venuecode_ipc as ipc;

/// A gate reason.
pub fn reason(r: &gate::Reason) -> ipc::Reason {
    use gate::Reason as R;
    match r {
        R::InvalidCode(e) => code_error(e),
        R::RedCode => ipc::Reason::RedCode,
        R::YellowCode => ipc::Reason::YellowCode,
        R::Fever { .. } => ipc::Reason::Fever,
        R::ImplausibleTemperature { .. } => ipc::Reason::ImplausibleTemperature,
        R::NatPositive => ipc::Reason::NatPositive,
        R::NatPending => ipc::Reason::NatPending,
        R::NatMissing => ipc::Reason::NatMissing,
        R::NatTooOld { .. } => ipc::Reason::NatTooOld,
        R::CodeTooOld { .. } => ipc::Reason::CodeTooOld,
        R::PaperCodeTooOld { .. } => ipc::Reason::PaperCodeTooOld,
        R::AlreadyInside { .. } => ipc::Reason::AlreadyInside,
        R::NotInside => ipc::Reason::NotInside,
    }
}

/// Why a code did not verify.
pub fn code_error(e: &CodeError) -> ipc::Reason {
    match e {
        CodeError::NotACode { .. } => ipc::Reason::NotACode,
        CodeError::Encoding(_) => ipc::Reason::Encoding,
        CodeError::Truncated => ipc::Reason::Truncated,
        CodeError::Malformed(_) => ipc::Reason::Malformed,
        CodeError::UnsupportedAlgorithm(_) => ipc::Reason::UnsupportedAlgorithm,
        CodeError::UnknownIssuer(_) => ipc::Reason::UnknownIssuer,
        CodeError::UnknownKeyId { .. } => ipc::Reason::UnknownKeyId,
        CodeError::Forged => ipc::Reason::Forged,
        CodeError::NotYetValid { .. } => ipc::Reason::NotYetValid,
        CodeError::Expired { .. } => ipc::Reason::Expired,
        CodeError::KeyNotValid { .. } => ipc::Reason::KeyNotValid,
        CodeError::Revoked(RevokedBy::Code) => ipc::Reason::Revoked,
        CodeError::Revoked(RevokedBy::Subject) => ipc::Reason::RevokedSubject,
    }
}

/// A reason as stored in a record (core's stable code); `None` for a code this build does not
/// know (a record written by a newer build).
pub fn reason_from_code(code: &str) -> Option<ipc::Reason> {
    serde_json::from_value(serde_json::Value::String(code.to_string())).ok()
}

pub fn color(c: Color) -> ipc::CodeColor {
    match c {
        Color::Green => ipc::CodeColor::Green,
        Color::Yellow => ipc::CodeColor::Yellow,
        Color::Red => ipc::CodeColor::Red,
    }
}

pub fn nat(n: NatOutcome) -> ipc::NatOutcome {
    match n {
        NatOutcome::Negative => ipc::NatOutcome::Negative,
        NatOutcome::Positive => ipc::NatOutcome::Positive,
        NatOutcome::Pending => ipc::NatOutcome::Pending,
    }
}

pub fn direction(d: gate::Direction) -> ipc::Direction {
    match d {
        gate::Direction::Entry => ipc::Direction::Entry,
        gate::Direction::Exit => ipc::Direction::Exit,
    }
}

pub fn direction_from(d: ipc::Direction) -> gate::Direction {
    match d {
        ipc::Direction::Entry => gate::Direction::Entry,
        ipc::Direction::Exit => gate::Direction::Exit,
    }
}

pub fn relation(r: Relation) -> ipc::Relation {
    match r {
        Relation::Parent => ipc::Relation::Parent,
        Relation::Child => ipc::Relation::Child,
        Relation::Spouse => ipc::Relation::Spouse,
        Relation::Grandparent => ipc::Relation::Grandparent,
        Relation::Grandchild => ipc::Relation::Grandchild,
        Relation::Sibling => ipc::Relation::Sibling,
        Relation::Other => ipc::Relation::Other,
    }
}

pub fn relation_from(r: ipc::Relation) -> Relation {
    match r {
        ipc::Relation::Parent => Relation::Parent,
        ipc::Relation::Child => Relation::Child,
        ipc::Relation::Spouse => Relation::Spouse,
        ipc::Relation::Grandparent => Relation::Grandparent,
        ipc::Relation::Grandchild => Relation::Grandchild,
        ipc::Relation::Sibling => Relation::Sibling,
        ipc::Relation::Other => Relation::Other,
    }
}

pub fn id_problem(e: &IdNumberError) -> ipc::IdProblem {
    match e {
        IdNumberError::Length { .. } => ipc::IdProblem::Length,
        IdNumberError::Character { .. } => ipc::IdProblem::Character,
        IdNumberError::Region { .. } => ipc::IdProblem::Region,
        IdNumberError::BirthDateInvalid { .. } => ipc::IdProblem::BirthDate,
        IdNumberError::BirthDateFuture { .. } => ipc::IdProblem::BirthDateFuture,
        IdNumberError::BirthDateTooOld { .. } => ipc::IdProblem::BirthDateTooOld,
        IdNumberError::CheckDigit { .. } => ipc::IdProblem::CheckDigit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_cores_stable_codes() {
        // The IPC's serde names and core's codes must agree: records store core's codes and the
        // day's list reads them back through the IPC names.
        let reasons = [
            gate::Reason::RedCode,
            gate::Reason::YellowCode,
            gate::Reason::Fever { celsius: None },
            gate::Reason::ImplausibleTemperature { celsius: 50.0 },
            gate::Reason::NatPositive,
            gate::Reason::NatPending,
            gate::Reason::NatMissing,
            gate::Reason::NatTooOld {
                tested_at: chrono::DateTime::UNIX_EPOCH,
            },
            gate::Reason::CodeTooOld {
                issued_at: chrono::DateTime::UNIX_EPOCH,
            },
            gate::Reason::PaperCodeTooOld {
                issued_at: chrono::DateTime::UNIX_EPOCH,
            },
            gate::Reason::AlreadyInside {
                since: chrono::DateTime::UNIX_EPOCH,
            },
            gate::Reason::NotInside,
            gate::Reason::InvalidCode(CodeError::Forged),
            gate::Reason::InvalidCode(CodeError::Truncated),
            gate::Reason::InvalidCode(CodeError::Revoked(RevokedBy::Subject)),
            gate::Reason::InvalidCode(CodeError::Revoked(RevokedBy::Code)),
        ];
        for r in &reasons {
            assert_eq!(reason_from_code(r.code()), Some(reason(r)), "{}", r.code());
        }
        for (code, want) in [
            ("no_trust_list", ipc::Reason::NoTrustList),
            ("trust_list_invalid", ipc::Reason::TrustListInvalid),
        ] {
            assert_eq!(reason_from_code(code), Some(want));
        }
        assert_eq!(reason_from_code("from_a_newer_build"), None);
        for r in Relation::ALL {
            assert_eq!(relation_from(relation(r)), r);
            assert_eq!(
                serde_json::to_value(relation(r)).unwrap(),
                serde_json::Value::String(r.as_str().into())
            );
        }
    }
}
