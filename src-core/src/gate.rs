//! The gate rule (逢扫必验): from a verified (or failed) code, the temperature, the venue's policy,
//! whether the person is already inside and the trusted time, decide PASS or REFUSE, why, and
//! whether an alert must reach the authority first.
//!
//! Invariants: [`decide`] is a pure function (it reads no clock: `now` is an argument); every
//! refusal carries at least one reason; an exit scan never blocks anyone from leaving (verdict
//! PASS) but still raises the alerts an entry would; an entry by someone already inside passes
//! without opening a second presence.

use chrono::{DateTime, Duration, Utc};

use crate::codes::CodeError;
use crate::health_code::{Color, Medium, NatOutcome, VerifiedHealthCode};

/// An entry scan of a code whose holder entered less than this long ago is recorded and raises
/// an alert: the same code twice within minutes is how a shared screenshot looks.
pub const REENTRY_ALERT: Duration = Duration::minutes(30);

/// Codes issued longer ago than this are refused unless the venue's policy says otherwise.
pub const DEFAULT_MAX_CODE_AGE: Duration = Duration::hours(24);

/// Paper codes (printed for people without phones, carried for days) issued longer ago than
/// this are refused unless the venue's policy says otherwise.
pub const DEFAULT_MAX_PAPER_CODE_AGE: Duration = Duration::days(7);

/// Temperatures outside this range (°C) are measuring errors, not readings.
pub const PLAUSIBLE_CELSIUS: (f32, f32) = (34.0, 43.0);

/// A venue's rules. `Default` gives the sane defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// At or above this many °C is fever (发热). Default 37.3.
    pub fever_threshold_c: f32,
    /// Whether a yellow code may enter. Default no.
    pub accept_yellow: bool,
    /// If set, a negative nucleic-acid test no older than this is required. Default off.
    pub require_nat_within: Option<Duration>,
    /// If set, a code issued longer ago than this is refused (screenshots). Default
    /// [`DEFAULT_MAX_CODE_AGE`].
    pub max_code_age: Option<Duration>,
    /// A paper code issued longer ago than this is refused; paper codes never fall under
    /// `max_code_age`. Default [`DEFAULT_MAX_PAPER_CODE_AGE`].
    pub max_paper_code_age: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            fever_threshold_c: 37.3,
            accept_yellow: false,
            require_nat_within: None,
            max_code_age: Some(DEFAULT_MAX_CODE_AGE),
            max_paper_code_age: DEFAULT_MAX_PAPER_CODE_AGE,
        }
    }
}

/// Entry (进) or exit (出).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Entry,
    Exit,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Entry => "entry",
            Direction::Exit => "exit",
        }
    }

    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "entry" => Some(Direction::Entry),
            "exit" => Some(Direction::Exit),
            _ => None,
        }
    }
}

/// What the inspector recorded about temperature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Temperature {
    /// Not measured (kiosk or exit).
    NotTaken,
    /// One tap: normal (正常).
    Normal,
    /// One tap: fever (发热), no reading.
    Fever,
    /// A reading in °C.
    Celsius(f32),
}

/// Whether the person has an open presence at this venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Outside,
    Inside { since: DateTime<Utc> },
}

/// What the station should do with the presence record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceEffect {
    /// Open a presence (an entry that passed).
    Open,
    /// Close the open presence (an exit).
    Close,
    /// Leave presence as it is (refused, already inside, or an exit without an open presence).
    Keep,
}

/// PASS (通行) or REFUSE (禁止).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Refuse,
}

/// Why a verdict is what it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The code failed verification.
    InvalidCode(CodeError),
    RedCode,
    YellowCode,
    Fever {
        celsius: Option<f32>,
    },
    /// A reading no thermometer on a person gives: measure again.
    ImplausibleTemperature {
        celsius: f32,
    },
    NatPositive,
    NatPending,
    NatMissing,
    NatTooOld {
        tested_at: DateTime<Utc>,
    },
    CodeTooOld {
        issued_at: DateTime<Utc>,
    },
    /// A paper code printed longer ago than the policy's paper limit: reprint it, or register
    /// the person by hand.
    PaperCodeTooOld {
        issued_at: DateTime<Utc>,
    },
    /// Informational: an entry scan of someone already inside.
    AlreadyInside {
        since: DateTime<Utc>,
    },
    /// Informational: an exit scan of someone with no open presence.
    NotInside,
}

impl Reason {
    /// A stable machine code (for the UI's i18n and the records).
    pub fn code(&self) -> &'static str {
        match self {
            Reason::InvalidCode(e) => e.code(),
            Reason::RedCode => "red_code",
            Reason::YellowCode => "yellow_code",
            Reason::Fever { .. } => "fever",
            Reason::ImplausibleTemperature { .. } => "implausible_temperature",
            Reason::NatPositive => "nat_positive",
            Reason::NatPending => "nat_pending",
            Reason::NatMissing => "nat_missing",
            Reason::NatTooOld { .. } => "nat_too_old",
            Reason::CodeTooOld { .. } => "code_too_old",
            Reason::PaperCodeTooOld { .. } => "paper_code_too_old",
            Reason::AlreadyInside { .. } => "already_inside",
            Reason::NotInside => "not_inside",
        }
    }

    /// Whether this reason alone blocks an entry.
    fn blocks(&self) -> bool {
        !matches!(self, Reason::AlreadyInside { .. } | Reason::NotInside)
    }

    /// Whether this reason must be reported to the authority (第一时间报告).
    fn alerts(&self) -> bool {
        match self {
            Reason::RedCode | Reason::YellowCode | Reason::Fever { .. } | Reason::NatPositive => {
                true
            }
            Reason::InvalidCode(e) => {
                matches!(e, CodeError::Forged | CodeError::Revoked(_))
            }
            _ => false,
        }
    }
}

/// Everything the rule looks at.
#[derive(Debug, Clone, Copy)]
pub struct GateInput<'a> {
    pub code: &'a Result<VerifiedHealthCode, CodeError>,
    pub temperature: Temperature,
    pub direction: Direction,
    pub presence: Presence,
    pub policy: &'a Policy,
    /// Trusted time (server-corrected), never read here from a clock.
    pub now: DateTime<Utc>,
}

/// The rule's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub verdict: Verdict,
    /// Every reason, blocking ones first in the order checked.
    pub reasons: Vec<Reason>,
    /// Whether an alert goes on the priority lane.
    pub alert: bool,
    pub presence: PresenceEffect,
}

/// Decides a manual registration (a person without a phone, registered by ID number): there is
/// no code to verify, so only the temperature and presence rules apply; the inspector has checked
/// the person's status by other means before registering.
pub fn decide_manual(
    temperature: Temperature,
    direction: Direction,
    presence: Presence,
    policy: &Policy,
) -> Decision {
    let mut reasons = Vec::new();
    temperature_reasons(temperature, policy, &mut reasons);
    finish(reasons, direction, presence, None)
}

fn temperature_reasons(temperature: Temperature, p: &Policy, reasons: &mut Vec<Reason>) {
    match temperature {
        Temperature::NotTaken | Temperature::Normal => {}
        Temperature::Fever => reasons.push(Reason::Fever { celsius: None }),
        Temperature::Celsius(t) => {
            let (lo, hi) = PLAUSIBLE_CELSIUS;
            if !(lo..=hi).contains(&t) {
                reasons.push(Reason::ImplausibleTemperature { celsius: t });
            } else if t >= p.fever_threshold_c - 1e-4 {
                reasons.push(Reason::Fever { celsius: Some(t) });
            }
        }
    }
}

/// The verdict from the reasons, direction and presence. With `scanned_at` (a code scan, not a
/// manual registration), an entry by someone who entered less than [`REENTRY_ALERT`] ago alerts.
fn finish(
    mut reasons: Vec<Reason>,
    direction: Direction,
    presence: Presence,
    scanned_at: Option<DateTime<Utc>>,
) -> Decision {
    let mut alert = reasons.iter().any(Reason::alerts);
    let blocked = reasons.iter().any(Reason::blocks);
    let (verdict, presence) = match (direction, presence) {
        (Direction::Exit, Presence::Inside { .. }) => (Verdict::Pass, PresenceEffect::Close),
        (Direction::Exit, Presence::Outside) => {
            reasons.push(Reason::NotInside);
            (Verdict::Pass, PresenceEffect::Keep)
        }
        (Direction::Entry, _) if blocked => (Verdict::Refuse, PresenceEffect::Keep),
        (Direction::Entry, Presence::Inside { since }) => {
            reasons.push(Reason::AlreadyInside { since });
            alert |= scanned_at.is_some_and(|now| now - since < REENTRY_ALERT);
            (Verdict::Pass, PresenceEffect::Keep)
        }
        (Direction::Entry, Presence::Outside) => (Verdict::Pass, PresenceEffect::Open),
    };
    Decision {
        verdict,
        reasons,
        alert,
        presence,
    }
}

/// Decides one scan.
pub fn decide(input: GateInput<'_>) -> Decision {
    let p = input.policy;
    let mut reasons = Vec::new();
    match input.code {
        Err(e) => reasons.push(Reason::InvalidCode(e.clone())),
        Ok(code) => {
            let c = &code.claims;
            match c.color {
                Color::Red => reasons.push(Reason::RedCode),
                Color::Yellow if !p.accept_yellow => reasons.push(Reason::YellowCode),
                Color::Yellow | Color::Green => {}
            }
            let age = input.now - c.issued_at;
            match c.medium {
                Medium::Screen => {
                    if p.max_code_age.is_some_and(|max| age > max) {
                        reasons.push(Reason::CodeTooOld {
                            issued_at: c.issued_at,
                        });
                    }
                }
                Medium::Paper => {
                    if age > p.max_paper_code_age {
                        reasons.push(Reason::PaperCodeTooOld {
                            issued_at: c.issued_at,
                        });
                    }
                }
            }
            match c.nat {
                Some(n) if n.outcome == NatOutcome::Positive => reasons.push(Reason::NatPositive),
                _ => {}
            }
            if let Some(within) = p.require_nat_within {
                match c.nat {
                    None => reasons.push(Reason::NatMissing),
                    Some(n) => match n.outcome {
                        NatOutcome::Positive => {}
                        NatOutcome::Pending => reasons.push(Reason::NatPending),
                        NatOutcome::Negative if input.now - n.tested_at > within => {
                            reasons.push(Reason::NatTooOld {
                                tested_at: n.tested_at,
                            })
                        }
                        NatOutcome::Negative => {}
                    },
                }
            }
        }
    }
    temperature_reasons(input.temperature, p, &mut reasons);
    finish(reasons, input.direction, input.presence, Some(input.now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health_code::testutil::{claims, now};
    use crate::health_code::{HealthClaims, NatResult};

    fn ok(c: HealthClaims) -> Result<VerifiedHealthCode, CodeError> {
        Ok(VerifiedHealthCode {
            claims: c,
            kid: crate::keys::KeyId([0; 8]),
        })
    }

    fn run(
        code: &Result<VerifiedHealthCode, CodeError>,
        t: Temperature,
        policy: &Policy,
    ) -> Decision {
        decide(GateInput {
            code,
            temperature: t,
            direction: Direction::Entry,
            presence: Presence::Outside,
            policy,
            now: now(),
        })
    }

    fn codes(d: &Decision) -> Vec<&'static str> {
        d.reasons.iter().map(Reason::code).collect()
    }

    #[test]
    fn green_and_normal_passes_and_opens_presence() {
        let d = run(&ok(claims()), Temperature::Normal, &Policy::default());
        assert_eq!(d.verdict, Verdict::Pass);
        assert!(d.reasons.is_empty() && !d.alert);
        assert_eq!(d.presence, PresenceEffect::Open);
    }

    #[test]
    fn red_yellow_and_fever_refuse_with_alert() {
        let red = ok(HealthClaims {
            color: Color::Red,
            ..claims()
        });
        let d = run(&red, Temperature::Normal, &Policy::default());
        assert_eq!(
            (d.verdict, d.alert, codes(&d)),
            (Verdict::Refuse, true, vec!["red_code"])
        );

        let yellow = ok(HealthClaims {
            color: Color::Yellow,
            ..claims()
        });
        assert_eq!(
            run(&yellow, Temperature::Normal, &Policy::default()).verdict,
            Verdict::Refuse
        );
        let lenient = Policy {
            accept_yellow: true,
            ..Policy::default()
        };
        assert_eq!(
            run(&yellow, Temperature::Normal, &lenient).verdict,
            Verdict::Pass
        );

        for t in [
            Temperature::Fever,
            Temperature::Celsius(37.3),
            Temperature::Celsius(39.0),
        ] {
            let d = run(&ok(claims()), t, &Policy::default());
            assert_eq!((d.verdict, d.alert), (Verdict::Refuse, true), "{t:?}");
            assert_eq!(codes(&d), vec!["fever"]);
        }
        let d = run(
            &ok(claims()),
            Temperature::Celsius(37.2),
            &Policy::default(),
        );
        assert_eq!(d.verdict, Verdict::Pass);
    }

    #[test]
    fn implausible_readings_refuse_without_alert() {
        for t in [20.0, 33.9, 43.1, f32::NAN, f32::INFINITY] {
            let d = run(&ok(claims()), Temperature::Celsius(t), &Policy::default());
            assert_eq!(d.verdict, Verdict::Refuse, "{t}");
            assert!(!d.alert);
            assert_eq!(codes(&d), vec!["implausible_temperature"]);
        }
    }

    #[test]
    fn invalid_codes_refuse_and_only_forgery_or_revocation_alert() {
        let expired = Err(CodeError::Expired {
            expired_at: now(),
            now: now(),
        });
        let d = run(&expired, Temperature::Normal, &Policy::default());
        assert_eq!(
            (d.verdict, d.alert, codes(&d)),
            (Verdict::Refuse, false, vec!["expired"])
        );
        let forged = Err(CodeError::Forged);
        let d = run(&forged, Temperature::Normal, &Policy::default());
        assert_eq!((d.verdict, d.alert), (Verdict::Refuse, true));
    }

    #[test]
    fn nucleic_acid_policy() {
        let policy = Policy {
            require_nat_within: Some(Duration::hours(48)),
            ..Policy::default()
        };
        assert_eq!(
            run(&ok(claims()), Temperature::Normal, &policy).verdict,
            Verdict::Pass
        );
        let stale = ok(HealthClaims {
            nat: Some(NatResult {
                outcome: NatOutcome::Negative,
                tested_at: now() - Duration::hours(49),
            }),
            ..claims()
        });
        assert_eq!(
            codes(&run(&stale, Temperature::Normal, &policy)),
            vec!["nat_too_old"]
        );
        let none = ok(HealthClaims {
            nat: None,
            ..claims()
        });
        assert_eq!(
            codes(&run(&none, Temperature::Normal, &policy)),
            vec!["nat_missing"]
        );
        assert_eq!(
            run(&none, Temperature::Normal, &Policy::default()).verdict,
            Verdict::Pass
        );
        let positive = ok(HealthClaims {
            nat: Some(NatResult {
                outcome: NatOutcome::Positive,
                tested_at: now(),
            }),
            ..claims()
        });
        let d = run(&positive, Temperature::Normal, &Policy::default());
        assert_eq!(
            (d.verdict, d.alert, codes(&d)),
            (Verdict::Refuse, true, vec!["nat_positive"])
        );
    }

    #[test]
    fn code_age_policy() {
        let policy = Policy {
            max_code_age: Some(Duration::seconds(30)),
            ..Policy::default()
        };
        // The sample code was issued a minute before now.
        assert_eq!(
            codes(&run(&ok(claims()), Temperature::Normal, &policy)),
            vec!["code_too_old"]
        );
    }

    #[test]
    fn paper_codes_have_their_own_age_limit() {
        let paper = |days: i64| {
            ok(HealthClaims {
                medium: Medium::Paper,
                issued_at: now() - Duration::days(days),
                expires_at: now() + Duration::days(1),
                ..claims()
            })
        };
        let p = Policy::default();
        // Printed three days ago: past the screen limit (24 h), within the paper one (7 days).
        assert_eq!(
            run(&paper(3), Temperature::Normal, &p).verdict,
            Verdict::Pass
        );
        let d = run(&paper(8), Temperature::Normal, &p);
        assert_eq!(
            (d.verdict, codes(&d)),
            (Verdict::Refuse, vec!["paper_code_too_old"])
        );
        // A venue may shorten it; a screen code three days old is refused as before.
        let strict = Policy {
            max_paper_code_age: Duration::days(2),
            ..Policy::default()
        };
        assert_eq!(
            codes(&run(&paper(3), Temperature::Normal, &strict)),
            vec!["paper_code_too_old"]
        );
        let screen = ok(HealthClaims {
            issued_at: now() - Duration::days(3),
            expires_at: now() + Duration::days(1),
            ..claims()
        });
        assert_eq!(
            codes(&run(&screen, Temperature::Normal, &p)),
            vec!["code_too_old"]
        );
    }

    #[test]
    fn manual_registration_follows_temperature_and_presence_only() {
        let p = Policy::default();
        let d = decide_manual(Temperature::Normal, Direction::Entry, Presence::Outside, &p);
        assert_eq!(
            (d.verdict, d.presence),
            (Verdict::Pass, PresenceEffect::Open)
        );
        let d = decide_manual(
            Temperature::Celsius(38.5),
            Direction::Entry,
            Presence::Outside,
            &p,
        );
        assert_eq!(
            (d.verdict, d.alert, codes(&d)),
            (Verdict::Refuse, true, vec!["fever"])
        );
    }

    #[test]
    fn presence_rules() {
        let code = ok(claims());
        let policy = Policy::default();
        let since = now() - Duration::hours(1);
        let d = decide(GateInput {
            code: &code,
            temperature: Temperature::Normal,
            direction: Direction::Entry,
            presence: Presence::Inside { since },
            policy: &policy,
            now: now(),
        });
        assert_eq!(
            (d.verdict, d.presence),
            (Verdict::Pass, PresenceEffect::Keep)
        );
        assert_eq!(codes(&d), vec!["already_inside"]);
        assert!(
            !d.alert,
            "an hour after entering: a second scan, not a shared code"
        );
        // The same code again minutes after its holder entered: passes, and alerts.
        let d = decide(GateInput {
            code: &code,
            temperature: Temperature::Normal,
            direction: Direction::Entry,
            presence: Presence::Inside {
                since: now() - Duration::minutes(3),
            },
            policy: &policy,
            now: now(),
        });
        assert_eq!(d.verdict, Verdict::Pass);
        assert!(d.alert && codes(&d) == vec!["already_inside"]);
        // A manual registration of someone inside never alerts on that alone.
        let m = decide_manual(
            Temperature::Normal,
            Direction::Entry,
            Presence::Inside {
                since: now() - Duration::minutes(3),
            },
            &policy,
        );
        assert!(!m.alert);

        let red = ok(HealthClaims {
            color: Color::Red,
            ..claims()
        });
        let d = decide(GateInput {
            code: &red,
            temperature: Temperature::NotTaken,
            direction: Direction::Exit,
            presence: Presence::Inside { since },
            policy: &policy,
            now: now(),
        });
        assert_eq!(
            (d.verdict, d.presence, d.alert),
            (Verdict::Pass, PresenceEffect::Close, true)
        );

        let d = decide(GateInput {
            code: &code,
            temperature: Temperature::NotTaken,
            direction: Direction::Exit,
            presence: Presence::Outside,
            policy: &policy,
            now: now(),
        });
        assert_eq!(
            (d.verdict, d.presence),
            (Verdict::Pass, PresenceEffect::Keep)
        );
        assert_eq!(codes(&d), vec!["not_inside"]);
    }
}
