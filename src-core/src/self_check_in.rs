//! 扫场所码: a resident's own phone checks in — itself and the family members whose codes it
//! carries (亲情码) — by opening the URL on the poster at a door. The server verifies the poster
//! and every code; this module is the rule it applies to what verified.
//!
//! Invariants: every person goes through the same gate rule as at a station ([`gate::decide`]),
//! with temperature not measured (a phone has no thermometer); a request that names one person
//! twice (the same code, or two codes of one subject — 严禁一人扫码、多人进出 is about people,
//! not pieces of text), carries more than [`MAX_PEOPLE`], or holds a code that does not verify
//! for a reason other than revocation, records nothing; a revoked code is a refusal with an alert,
//! as at the station. The inspector recorded is [`INSPECTOR`].

use chrono::{DateTime, FixedOffset, Utc};

use crate::checkin::{self, Binding, CheckInDraft};
use crate::codes::CodeError;
use crate::gate::{self, Decision, Direction, GateInput, Policy, Presence, Temperature};
use crate::health_code::VerifiedHealthCode;
use crate::venue_code::VenueClaims;

/// The inspector (and device) recorded for a resident's own check-in: the door had no
/// inspector's tablet in the loop.
pub const INSPECTOR: &str = "self";
/// Most people one phone checks in at once (the resident and the family they travel with).
pub const MAX_PEOPLE: usize = 6;

/// Why a request records nothing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RefusedRequest {
    #[error("no one to check in: add your health code first")]
    Nobody,
    #[error("at most {max} people check in from one phone: the others scan the poster themselves")]
    TooMany { max: usize },
    /// 1-based positions in the request.
    #[error("person {second} is person {first} again: each person is checked in once, with their own code")]
    SamePerson { first: usize, second: usize },
    /// Codes that cannot be used (1-based position, why); nobody is checked in.
    #[error("{} code(s) cannot be used: {}", .0.len(), describe(.0))]
    BadCodes(Vec<(usize, CodeError)>),
}

fn describe(bad: &[(usize, CodeError)]) -> String {
    bad.iter()
        .map(|(i, e)| format!("person {i}: {e}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One person's code as the server verified it: its text and the verification's result.
pub type Checked<'a> = (&'a str, Result<VerifiedHealthCode, CodeError>);

/// What the door (from the poster) records a resident's check-in under.
pub fn binding(venue: &VenueClaims) -> Binding {
    Binding {
        venue_id: venue.venue_id.clone(),
        venue_name: venue.venue_name.clone(),
        checkpoint_id: venue.checkpoint_id.clone(),
        inspector: INSPECTOR.into(),
        direction: venue.direction,
    }
}

/// Decides every person of a request at the door the poster names, or refuses the whole
/// request. The server keeps no presence for residents: an entry is judged as from outside, an
/// exit as from inside (an exit is always let through; "not inside" would only puzzle a phone).
pub fn decide(
    venue: &VenueClaims,
    people: &[Checked<'_>],
    policy: &Policy,
    now: DateTime<Utc>,
    zone: FixedOffset,
) -> Result<Vec<(CheckInDraft, Decision)>, RefusedRequest> {
    if people.is_empty() {
        return Err(RefusedRequest::Nobody);
    }
    if people.len() > MAX_PEOPLE {
        return Err(RefusedRequest::TooMany { max: MAX_PEOPLE });
    }
    for (j, (text, code)) in people.iter().enumerate() {
        for (i, (earlier, prior)) in people[..j].iter().enumerate() {
            let same_subject = match (prior, code) {
                (Ok(a), Ok(b)) => a.claims.subject == b.claims.subject,
                _ => false,
            };
            if earlier.trim() == text.trim() || same_subject {
                return Err(RefusedRequest::SamePerson {
                    first: i + 1,
                    second: j + 1,
                });
            }
        }
    }
    let bad: Vec<(usize, CodeError)> = people
        .iter()
        .enumerate()
        .filter_map(|(i, (_, c))| match c {
            Err(e) if !matches!(e, CodeError::Revoked(_)) => Some((i + 1, e.clone())),
            _ => None,
        })
        .collect();
    if !bad.is_empty() {
        return Err(RefusedRequest::BadCodes(bad));
    }
    let binding = binding(venue);
    let presence = match venue.direction {
        Direction::Entry => Presence::Outside,
        Direction::Exit => Presence::Inside { since: now },
    };
    Ok(people
        .iter()
        .map(|(text, code)| {
            let decision = gate::decide(GateInput {
                code,
                temperature: Temperature::NotTaken,
                direction: venue.direction,
                presence,
                policy,
                now,
            });
            let mut d = checkin::draft(&binding, code, Temperature::NotTaken, &decision, now, zone);
            d.code = Some(text.trim().to_string());
            (d, decision)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::RevokedBy;
    use crate::gate::Verdict;
    use crate::health_code::testutil::{claims, now};
    use crate::health_code::{Color, HealthClaims};
    use crate::keys::KeyId;
    use crate::venue::VenueCategory;

    fn venue(direction: Direction) -> VenueClaims {
        VenueClaims {
            issuer: "VA".into(),
            issued_at: now(),
            venue_id: "V1".into(),
            checkpoint_id: "south".into(),
            direction,
            venue_name: "人民医院".into(),
            region: "440902".into(),
            category: VenueCategory::from_code("01").unwrap(),
        }
    }

    fn ok(c: HealthClaims) -> Result<VerifiedHealthCode, CodeError> {
        Ok(VerifiedHealthCode {
            claims: c,
            kid: KeyId([0; 8]),
        })
    }

    fn zone() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    fn other_person() -> HealthClaims {
        let mut c = claims();
        c.subject = crate::health_code::Pseudonym([7; 12]);
        c.code_id = [9; 8];
        c.name_masked = "李*".into();
        c
    }

    #[test]
    fn a_family_checks_in_person_by_person_under_the_poster_door() {
        let people = [("A", ok(claims())), ("B", ok(other_person()))];
        let out = decide(
            &venue(Direction::Entry),
            &people,
            &Policy::default(),
            now(),
            zone(),
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        for (d, decision) in &out {
            assert_eq!(decision.verdict, Verdict::Pass);
            assert_eq!(d.inspector, INSPECTOR);
            assert_eq!(
                (d.venue_id.as_str(), d.checkpoint_id.as_str()),
                ("V1", "south")
            );
            assert_eq!(d.temperature, "not_taken");
        }
        assert_eq!(out[1].0.name_masked.as_deref(), Some("李*"));
        assert_eq!(out[0].0.code.as_deref(), Some("A"));
    }

    #[test]
    fn a_red_code_is_a_recorded_refusal_with_an_alert() {
        let mut red = claims();
        red.color = Color::Red;
        let out = decide(
            &venue(Direction::Entry),
            &[("A", ok(red))],
            &Policy::default(),
            now(),
            zone(),
        )
        .unwrap();
        assert_eq!(out[0].1.verdict, Verdict::Refuse);
        assert!(out[0].0.alert);
        assert_eq!(out[0].0.reasons, vec!["red_code"]);
    }

    #[test]
    fn a_revoked_code_is_refused_and_alerted_but_an_expired_one_records_nothing() {
        let revoked = decide(
            &venue(Direction::Entry),
            &[("A", Err(CodeError::Revoked(RevokedBy::Code)))],
            &Policy::default(),
            now(),
            zone(),
        )
        .unwrap();
        assert_eq!(revoked[0].1.verdict, Verdict::Refuse);
        assert!(revoked[0].0.alert);
        let expired = CodeError::Expired {
            expired_at: now(),
            now: now(),
        };
        let e = decide(
            &venue(Direction::Entry),
            &[("A", ok(claims())), ("B", Err(expired.clone()))],
            &Policy::default(),
            now(),
            zone(),
        )
        .unwrap_err();
        assert_eq!(e, RefusedRequest::BadCodes(vec![(2, expired)]));
        assert!(e.to_string().contains("person 2"), "{e}");
    }

    #[test]
    fn one_person_twice_is_refused_whether_by_text_or_by_subject() {
        let v = venue(Direction::Entry);
        let p = Policy::default();
        let twice_text = decide(
            &v,
            &[("A", ok(claims())), (" A ", ok(claims()))],
            &p,
            now(),
            zone(),
        );
        assert_eq!(
            twice_text.unwrap_err(),
            RefusedRequest::SamePerson {
                first: 1,
                second: 2
            }
        );
        // Two different codes (a fresh one and an older screenshot) of one person.
        let mut older = claims();
        older.code_id = [3; 8];
        let twice_subject = decide(
            &v,
            &[("A", ok(claims())), ("B", ok(older))],
            &p,
            now(),
            zone(),
        );
        assert_eq!(
            twice_subject.unwrap_err(),
            RefusedRequest::SamePerson {
                first: 1,
                second: 2
            }
        );
    }

    #[test]
    fn empty_and_crowded_requests_are_refused() {
        let v = venue(Direction::Entry);
        let p = Policy::default();
        assert_eq!(
            decide(&v, &[], &p, now(), zone()).unwrap_err(),
            RefusedRequest::Nobody
        );
        let texts: Vec<String> = (0..=MAX_PEOPLE).map(|i| format!("C{i}")).collect();
        let many: Vec<Checked<'_>> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut c = claims();
                c.subject = crate::health_code::Pseudonym([i as u8; 12]);
                (t.as_str(), ok(c))
            })
            .collect();
        assert_eq!(
            decide(&v, &many, &p, now(), zone()).unwrap_err(),
            RefusedRequest::TooMany { max: MAX_PEOPLE }
        );
    }

    #[test]
    fn an_exit_passes_without_a_not_inside_remark() {
        let out = decide(
            &venue(Direction::Exit),
            &[("A", ok(claims()))],
            &Policy::default(),
            now(),
            zone(),
        )
        .unwrap();
        assert_eq!(out[0].1.verdict, Verdict::Pass);
        assert!(out[0].0.reasons.is_empty(), "{:?}", out[0].0.reasons);
        assert_eq!(out[0].0.direction, Direction::Exit);
    }
}
