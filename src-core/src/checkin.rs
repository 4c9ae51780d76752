//! A check-in as the station records it: built from the station's binding, the scanned code's
//! verification, the temperature and the gate decision. Pure: ids and time come from the caller.
//!
//! Invariants: only masked identity and the subject pseudonym are kept, never a full name, phone
//! or ID number; a record's reasons are the decision's, in order, as stable codes.

use chrono::{DateTime, FixedOffset, Utc};

use crate::codes::CodeError;
use crate::gate::{Decision, Direction, Temperature, Verdict};
use crate::health_code::{Relation, VerifiedHealthCode};
use crate::idnumber::IdNumber;
use crate::mask;

/// How long a station keeps a check-in the server has acknowledged (the policy window); records
/// not yet acknowledged are kept whatever their age.
pub const RETENTION: chrono::Duration = chrono::Duration::days(28);

/// What a station is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub venue_id: String,
    pub venue_name: String,
    pub checkpoint_id: String,
    pub inspector: String,
    pub direction: Direction,
}

/// A check-in ready to store (the store adds the id).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInDraft {
    pub venue_id: String,
    pub checkpoint_id: String,
    pub inspector: String,
    pub direction: Direction,
    pub at: DateTime<Utc>,
    /// The calendar day of `at` at the venue (YYYY-MM-DD), for the day's counters.
    pub day: String,
    pub temperature: &'static str,
    pub celsius: Option<f32>,
    pub verdict: Verdict,
    pub reasons: Vec<&'static str>,
    pub fever: bool,
    pub code_id: Option<String>,
    pub subject: Option<String>,
    pub name_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub id_masked: Option<String>,
    pub color: Option<&'static str>,
    pub alert: bool,
    /// Registered by hand (no code read).
    pub manual: bool,
    /// Who vouched, for a registration on someone's behalf (masked).
    pub proxy_name: Option<String>,
    pub proxy_phone: Option<String>,
    /// What the person who vouched is to the person registered; from a family code's guardian
    /// link, or typed in.
    pub proxy_relation: Option<&'static str>,
    /// The scanned code's text, uploaded so the server can verify it again (scans only).
    pub code: Option<String>,
    /// A registration by hand: the ID number sealed to the health authority (core `seal`).
    pub sealed_id: Option<String>,
}

/// The person who registers someone else (an elder, a child) and vouches for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    pub name: String,
    pub phone: String,
    pub relation: Relation,
}

/// A person registered by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualPerson<'a> {
    pub id: &'a IdNumber,
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub proxy: Option<&'a Proxy>,
}

/// The fields every record shares: where, who inspected, when, temperature and the decision.
fn base(
    binding: &Binding,
    temperature: Temperature,
    decision: &Decision,
    now: DateTime<Utc>,
    zone: FixedOffset,
) -> CheckInDraft {
    let (kind, celsius) = temperature_kind(temperature);
    let reasons: Vec<&'static str> = decision.reasons.iter().map(|r| r.code()).collect();
    CheckInDraft {
        venue_id: binding.venue_id.clone(),
        checkpoint_id: binding.checkpoint_id.clone(),
        inspector: binding.inspector.clone(),
        direction: binding.direction,
        at: now,
        day: now.with_timezone(&zone).format("%Y-%m-%d").to_string(),
        temperature: kind,
        celsius,
        verdict: decision.verdict,
        fever: reasons.contains(&"fever"),
        reasons,
        code_id: None,
        subject: None,
        name_masked: None,
        phone_masked: None,
        id_masked: None,
        color: None,
        alert: decision.alert,
        manual: false,
        proxy_name: None,
        proxy_phone: None,
        proxy_relation: None,
        code: None,
        sealed_id: None,
    }
}

/// Builds the record of a manual registration. `subject` is the station's own pseudonym of the
/// ID number (the full number is never kept).
pub fn manual_draft(
    binding: &Binding,
    person: &ManualPerson<'_>,
    subject: String,
    temperature: Temperature,
    decision: &Decision,
    now: DateTime<Utc>,
    zone: FixedOffset,
) -> CheckInDraft {
    CheckInDraft {
        subject: Some(subject),
        name_masked: Some(mask::mask_name(person.name)),
        phone_masked: person.phone.map(mask::mask_phone),
        id_masked: Some(person.id.masked()),
        manual: true,
        proxy_name: person.proxy.map(|p| mask::mask_name(&p.name)),
        proxy_phone: person.proxy.map(|p| mask::mask_phone(&p.phone)),
        proxy_relation: person.proxy.map(|p| p.relation.as_str()),
        ..base(binding, temperature, decision, now, zone)
    }
}

/// The stored name of a temperature entry.
pub fn temperature_kind(t: Temperature) -> (&'static str, Option<f32>) {
    match t {
        Temperature::NotTaken => ("not_taken", None),
        Temperature::Normal => ("normal", None),
        Temperature::Fever => ("fever", None),
        // A reading no person gives (the gate asked to measure again) is kept as "not taken":
        // the record stands (a red code must still reach the authority) without the bad number.
        Temperature::Celsius(c) if !RECORDED_CELSIUS.contains(&c) => ("not_taken", None),
        Temperature::Celsius(c) => ("celsius", Some(c)),
    }
}

/// Readings (°C) a record may carry; the server refuses records outside it.
pub const RECORDED_CELSIUS: std::ops::RangeInclusive<f32> = 30.0..=45.0;

/// Builds the record of one scan. `zone` is the venue's UTC offset (China: +08:00).
pub fn draft(
    binding: &Binding,
    code: &Result<VerifiedHealthCode, CodeError>,
    temperature: Temperature,
    decision: &Decision,
    now: DateTime<Utc>,
    zone: FixedOffset,
) -> CheckInDraft {
    let claims = code.as_ref().ok().map(|v| &v.claims);
    CheckInDraft {
        code_id: claims.map(|c| c.code_id_hex()),
        subject: claims.map(|c| c.subject.to_hex()),
        name_masked: claims.map(|c| c.name_masked.clone()),
        phone_masked: claims.map(|c| c.phone_masked.clone()),
        id_masked: claims.map(|c| c.id_masked.clone()),
        color: claims.map(|c| c.color.as_str()),
        proxy_relation: claims.and_then(|c| c.guardian).map(|g| g.relation.as_str()),
        ..base(binding, temperature, decision, now, zone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::{decide, GateInput, Policy, Presence};
    use crate::health_code::testutil::{claims, now};

    #[test]
    fn a_reading_no_person_gives_is_recorded_as_not_taken() {
        assert_eq!(
            temperature_kind(Temperature::Celsius(36.6)),
            ("celsius", Some(36.6))
        );
        assert_eq!(
            temperature_kind(Temperature::Celsius(25.0)),
            ("not_taken", None)
        );
        assert_eq!(
            temperature_kind(Temperature::Celsius(f32::NAN)),
            ("not_taken", None)
        );
        assert_eq!(
            temperature_kind(Temperature::Celsius(45.0)),
            ("celsius", Some(45.0))
        );
    }

    #[test]
    fn a_fever_at_the_gate_is_recorded_masked_with_its_reasons() {
        let binding = Binding {
            venue_id: "V1".into(),
            venue_name: "医院".into(),
            checkpoint_id: "east".into(),
            inspector: "王五".into(),
            direction: Direction::Entry,
        };
        let code = Ok(VerifiedHealthCode {
            claims: claims(),
            kid: crate::keys::KeyId([0; 8]),
        });
        let policy = Policy::default();
        let d = decide(GateInput {
            code: &code,
            temperature: Temperature::Celsius(38.2),
            direction: Direction::Entry,
            presence: Presence::Outside,
            policy: &policy,
            now: now(),
        });
        let zone = FixedOffset::east_opt(8 * 3600).unwrap();
        let r = draft(&binding, &code, Temperature::Celsius(38.2), &d, now(), zone);
        assert_eq!(r.verdict, Verdict::Refuse);
        assert_eq!(r.reasons, vec!["fever"]);
        assert!(r.fever && r.alert);
        assert_eq!((r.temperature, r.celsius), ("celsius", Some(38.2)));
        assert_eq!(r.name_masked.as_deref(), Some("张*丰"));
        assert_eq!(
            r.day,
            now().with_timezone(&zone).format("%Y-%m-%d").to_string()
        );
        let failed: Result<VerifiedHealthCode, CodeError> = Err(CodeError::Forged);
        let r = draft(&binding, &failed, Temperature::Normal, &d, now(), zone);
        assert_eq!((r.subject, r.name_masked), (None, None));
    }
}
