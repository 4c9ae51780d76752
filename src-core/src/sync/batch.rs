//! The rules an upload batch must meet before anything of it is stored.
//!
//! Invariant: a batch that passes [`validate_batch`] names only the device's venue, holds at most
//! [`MAX_BATCH_RECORDS`](super::MAX_BATCH_RECORDS) records in the known format with well-formed,
//! distinct ids, bounded fields, readings of 30–45 °C, and times no later than
//! `now + FUTURE_SKEW` and no earlier than the device's enrolment or the retention window.

use chrono::{DateTime, Utc};

use super::{
    CheckInWire, Record, UploadBatch, FUTURE_SKEW, MAX_BATCH_RECORDS, MAX_FIELD_CHARS,
    MIN_RECORD_FORMAT, RECORD_FORMAT,
};
use crate::trust::{RevocationList, TrustList};

/// Longest code text a record may carry.
pub const MAX_CODE_CHARS: usize = 1024;

/// Why a batch was refused as a whole (nothing of it is stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    #[error("the batch is empty")]
    Empty,
    #[error("the batch holds {count} records; at most {max} per upload")]
    TooMany { count: usize, max: usize },
    #[error("record {id:?}: the id is not a lowercase UUID")]
    BadId { id: String },
    #[error("record {id:?} appears twice in the batch")]
    DuplicateId { id: String },
    #[error("record {id:?} is for venue {venue:?}, but this device is bound to another venue")]
    WrongVenue { id: String, venue: String },
    #[error("record {id:?} is dated {at}, more than {skew_min} minutes after the server's clock: correct the station's clock")]
    FromTheFuture {
        id: String,
        at: DateTime<Utc>,
        skew_min: i64,
    },
    #[error("record {id:?}: field {field} is longer than {max} characters")]
    FieldTooLong {
        id: String,
        field: &'static str,
        max: usize,
    },
    #[error("record {id:?}: field {field} has a value the server does not know")]
    BadValue { id: String, field: &'static str },
    #[error(
        "record {id:?} is in format {format}; this server reads formats {oldest} to {known} \
         (a station on an older build must be updated; the record is set aside)"
    )]
    UnknownFormat {
        id: String,
        format: u32,
        oldest: u32,
        known: u32,
    },
    #[error("record {id:?}: the scanned code does not bear out the record ({what})")]
    CodeMismatch { id: String, what: &'static str },
    #[error("record {id:?} is dated {at}, before {not_before} (this device's enrolment, or the retention window)")]
    TooOld {
        id: String,
        at: DateTime<Utc>,
        not_before: DateTime<Utc>,
    },
}

impl BatchError {
    /// A stable code for the wire.
    pub fn code(&self) -> &'static str {
        match self {
            BatchError::Empty | BatchError::TooMany { .. } => "bad_batch",
            BatchError::FromTheFuture { .. } => "future_timestamp",
            BatchError::WrongVenue { .. } => "wrong_venue",
            BatchError::UnknownFormat { .. } => "unknown_format",
            BatchError::TooOld { .. } => "too_old",
            BatchError::CodeMismatch { .. } => "code_mismatch",
            _ => "bad_record",
        }
    }

    /// The record the error is about, if it is about one.
    pub fn record_id(&self) -> Option<&str> {
        match self {
            BatchError::Empty | BatchError::TooMany { .. } => None,
            BatchError::BadId { id }
            | BatchError::DuplicateId { id }
            | BatchError::WrongVenue { id, .. }
            | BatchError::FromTheFuture { id, .. }
            | BatchError::FieldTooLong { id, .. }
            | BatchError::BadValue { id, .. }
            | BatchError::UnknownFormat { id, .. }
            | BatchError::TooOld { id, .. }
            | BatchError::CodeMismatch { id, .. } => Some(id),
        }
    }
}

/// Whether `s` is a canonical lowercase hyphenated UUID.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
}

fn check_check_in(c: &CheckInWire, id: &str) -> Result<(), BatchError> {
    let long = |field: &'static str, v: &str| {
        if v.chars().count() > MAX_FIELD_CHARS {
            Err(BatchError::FieldTooLong {
                id: id.to_string(),
                field,
                max: MAX_FIELD_CHARS,
            })
        } else {
            Ok(())
        }
    };
    let bad = |field: &'static str| BatchError::BadValue {
        id: id.to_string(),
        field,
    };
    long("checkpoint_id", &c.checkpoint_id)?;
    if c.code.as_ref().is_some_and(|t| t.len() > MAX_CODE_CHARS) {
        return Err(BatchError::FieldTooLong {
            id: id.to_string(),
            field: "code",
            max: MAX_CODE_CHARS,
        });
    }
    long("inspector", &c.inspector)?;
    for (field, v) in [
        ("code_id", &c.code_id),
        ("subject", &c.subject),
        ("name_masked", &c.name_masked),
        ("phone_masked", &c.phone_masked),
        ("id_masked", &c.id_masked),
        ("color", &c.color),
        ("proxy_name", &c.proxy_name),
        ("proxy_phone", &c.proxy_phone),
        ("proxy_relation", &c.proxy_relation),
    ] {
        long(field, v.as_deref().unwrap_or(""))?;
    }
    if !matches!(c.direction.as_str(), "entry" | "exit") {
        return Err(bad("direction"));
    }
    if !matches!(c.verdict.as_str(), "pass" | "refuse") {
        return Err(bad("verdict"));
    }
    if !matches!(
        c.temperature.as_str(),
        "not_taken" | "normal" | "fever" | "celsius"
    ) {
        return Err(bad("temperature"));
    }
    if c.celsius
        .is_some_and(|t| !crate::checkin::RECORDED_CELSIUS.contains(&t))
    {
        return Err(bad("celsius"));
    }
    if c.reasons.len() > 16 || c.reasons.iter().any(|r| r.len() > 40) {
        return Err(bad("reasons"));
    }
    Ok(())
}

/// The device a batch came from, as the server knows it.
#[derive(Debug, Clone, Copy)]
pub struct BatchSource<'a> {
    /// The venue the device is bound to.
    pub venue_id: &'a str,
    /// When the device enrolled (server clock): nothing it sends can be older (less the skew).
    pub enrolled_at: DateTime<Utc>,
}

/// Checks a batch from `source` against the server's clock `now`: records dated before the
/// device's enrolment (less [`FUTURE_SKEW`]) or before the retention window are refused, as are
/// readings outside 30–45 °C.
pub fn validate_batch(
    batch: &UploadBatch,
    source: BatchSource<'_>,
    now: DateTime<Utc>,
) -> Result<(), BatchError> {
    let venue_id = source.venue_id;
    let not_before = (source.enrolled_at - FUTURE_SKEW).max(now - crate::checkin::RETENTION);
    if batch.records.is_empty() {
        return Err(BatchError::Empty);
    }
    if batch.records.len() > MAX_BATCH_RECORDS {
        return Err(BatchError::TooMany {
            count: batch.records.len(),
            max: MAX_BATCH_RECORDS,
        });
    }
    let mut seen = std::collections::HashSet::with_capacity(batch.records.len());
    let limit = now + FUTURE_SKEW;
    for r in &batch.records {
        let id = r.id();
        if !is_uuid(id) {
            return Err(BatchError::BadId {
                id: id.chars().take(40).collect(),
            });
        }
        if !seen.insert(id) {
            return Err(BatchError::DuplicateId { id: id.to_string() });
        }
        if r.venue_id() != venue_id {
            return Err(BatchError::WrongVenue {
                id: id.to_string(),
                venue: r.venue_id().chars().take(40).collect(),
            });
        }
        if r.at() < not_before {
            return Err(BatchError::TooOld {
                id: id.to_string(),
                at: r.at(),
                not_before,
            });
        }
        if r.at() > limit {
            return Err(BatchError::FromTheFuture {
                id: id.to_string(),
                at: r.at(),
                skew_min: FUTURE_SKEW.num_minutes(),
            });
        }
        let outside = |f: &u32| !(MIN_RECORD_FORMAT..=RECORD_FORMAT).contains(f);
        let format = match r {
            Record::CheckIn(c) => Some(c.format),
            Record::Alert(a) => [a.format, a.check_in.format].into_iter().find(outside),
        };
        if let Some(format) = format.filter(outside) {
            return Err(BatchError::UnknownFormat {
                id: id.to_string(),
                format,
                oldest: MIN_RECORD_FORMAT,
                known: RECORD_FORMAT,
            });
        }
        match r {
            Record::CheckIn(c) => check_check_in(c, id)?,
            Record::Alert(a) => {
                if a.check_in.venue_id != venue_id {
                    return Err(BatchError::WrongVenue {
                        id: id.to_string(),
                        venue: a.check_in.venue_id.chars().take(40).collect(),
                    });
                }
                if !is_uuid(&a.check_in.id) {
                    return Err(BatchError::BadValue {
                        id: id.to_string(),
                        field: "check_in.id",
                    });
                }
                if a.reasons.len() > 16 || a.reasons.iter().any(|r| r.len() > 40) {
                    return Err(BatchError::BadValue {
                        id: id.to_string(),
                        field: "reasons",
                    });
                }
                check_check_in(&a.check_in, id)?;
            }
        }
    }
    Ok(())
}

/// Sets every record's checkpoint and inspector to the device's binding on the server: a station
/// cannot claim another door or another person's name.
pub fn stamp_binding(batch: &mut UploadBatch, checkpoint_id: &str, inspector: &str) {
    for r in &mut batch.records {
        let c = match r {
            Record::CheckIn(c) => c,
            Record::Alert(a) => &mut a.check_in,
        };
        c.checkpoint_id = checkpoint_id.to_string();
        c.inspector = inspector.to_string();
    }
}

/// Checks every record's scanned code against the issuer (`trust`), as the server does after
/// [`validate_batch`]: a format-2 record of a scan carries its code; a record naming the code's
/// identity (code id, subject, colour) must be borne out by the code verified at the record's
/// time — or, when it does not verify there, be a refusal; a record without that identity (the
/// station could not verify the code: revoked, expired, forged) must be a refusal. A manual registration carries no
/// code and a station-local subject (`local:…`), never an issuer's pseudonym. Revocations are not
/// checked: a code revoked later was the code scanned then.
pub fn check_codes(batch: &UploadBatch, trust: &TrustList) -> Result<(), BatchError> {
    let none = RevocationList::default();
    for r in &batch.records {
        let c = match r {
            Record::CheckIn(c) => c,
            Record::Alert(a) => &a.check_in,
        };
        let id = r.id();
        let mismatch = |what| BatchError::CodeMismatch {
            id: id.to_string(),
            what,
        };
        if c.manual {
            if c.code.is_some()
                || c.subject
                    .as_deref()
                    .is_some_and(|s| !s.starts_with("local:"))
            {
                return Err(mismatch(
                    "a manual registration names a code or an issuer's subject",
                ));
            }
            continue;
        }
        // Every accepted format carries the code ([`MIN_RECORD_FORMAT`] is 2).
        let Some(text) = c.code.as_deref() else {
            return Err(mismatch("a scan without its code"));
        };
        // A record without the code's identity is one the station could not verify (revoked,
        // expired, forged…): whatever the server finds, only a refusal bears it out.
        let unverified_at_gate = c.code_id.is_none() && c.subject.is_none() && c.color.is_none();
        if unverified_at_gate {
            if c.verdict != "refuse" {
                return Err(mismatch("a pass on a code the station could not verify"));
            }
            continue;
        }
        match crate::health_code::verify(text, trust, &none, c.at) {
            Ok(v) => {
                if c.code_id.as_deref() != Some(v.claims.code_id_hex().as_str()) {
                    return Err(mismatch("code id"));
                }
                if c.subject.as_deref() != Some(v.claims.subject.to_hex().as_str()) {
                    return Err(mismatch("subject"));
                }
                if c.color.as_deref() != Some(v.claims.color.as_str()) {
                    return Err(mismatch("colour"));
                }
            }
            Err(_) if c.verdict == "refuse" => {}
            Err(_) => return Err(mismatch("a pass on a code that does not verify")),
        }
    }
    Ok(())
}
