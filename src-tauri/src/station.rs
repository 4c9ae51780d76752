//! The station's use case: a code read at the gate is verified, decided by the gate rule against
//! the person's presence, recorded (check-in, outbox, alert, presence in one transaction) and
//! answered with the verdict and the live counters.
//!
//! Invariants: every rule is a src-core call (verification, gate, record draft); this module only
//! sequences them around the store. A text that is no code, and an entry of someone already
//! inside, write nothing.

use std::path::Path;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use venuecode_core::checkin::{self, Binding, ManualPerson, Proxy};
use venuecode_core::codes::CodeError;
use venuecode_core::gate::{self, Direction, GateInput, Policy, Presence, Reason, Temperature};
use venuecode_core::health_code;
use venuecode_core::health_code::{Pseudonym, Relation};
use venuecode_core::idnumber::IdNumber;
use venuecode_core::sync::{PolicyWire, VenueInfo};
use venuecode_ipc::{
    CheckInRow, ManualField, ManualOutcome, RegisterManual, ScanVerdict, StationBinding,
    StationCounters, TemperatureInput,
};

use crate::error::AppError;
use crate::store::Store;

/// Presences close by themselves after this long, unless the station options say otherwise.
pub const AUTO_CLOSE: Duration = Duration::hours(12);

/// The auto-close window from the station options.
fn auto_close(store: &Store) -> Result<Duration, AppError> {
    Ok(Duration::hours(i64::from(
        store.settings()?.auto_close_hours,
    )))
}

/// Checks and stores the station options.
pub fn set_options(
    store: &mut Store,
    clear_after_secs: u32,
    sound: bool,
    auto_close_hours: u32,
) -> Result<venuecode_ipc::Settings, AppError> {
    if !(2..=60).contains(&clear_after_secs) {
        return Err(AppError::Invalid(format!(
            "verdict display of {clear_after_secs} s (2 to 60)"
        )));
    }
    if !(1..=48).contains(&auto_close_hours) {
        return Err(AppError::Invalid(format!(
            "auto-close after {auto_close_hours} h (1 to 48)"
        )));
    }
    store.set_station_options(clear_after_secs, sound, auto_close_hours)
}

/// The venue's time zone (the day's counters roll over at its midnight).
pub fn zone() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

pub fn to_wire(b: &Binding) -> StationBinding {
    StationBinding {
        venue_id: b.venue_id.clone(),
        venue_name: b.venue_name.clone(),
        checkpoint_id: b.checkpoint_id.clone(),
        inspector: b.inspector.clone(),
        direction: crate::ipc_map::direction(b.direction),
    }
}

/// Checks a binding from the set-up screen.
pub fn from_wire(b: &StationBinding) -> Result<Binding, AppError> {
    let field = |v: &str, what: &'static str| {
        let v = v.trim();
        if v.is_empty() {
            Err(AppError::Invalid(format!("{what} is empty")))
        } else {
            Ok(v.to_string())
        }
    };
    Ok(Binding {
        venue_id: field(&b.venue_id, "venue id")?,
        venue_name: field(&b.venue_name, "venue name")?,
        checkpoint_id: field(&b.checkpoint_id, "checkpoint")?,
        inspector: field(&b.inspector, "inspector")?,
        direction: crate::ipc_map::direction_from(b.direction),
    })
}

fn temperature(t: TemperatureInput) -> Temperature {
    match t {
        TemperatureInput::NotTaken => Temperature::NotTaken,
        TemperatureInput::Normal => Temperature::Normal,
        TemperatureInput::Fever => Temperature::Fever,
        TemperatureInput::Celsius(c) => Temperature::Celsius(c),
    }
}

/// Whether the decision is an entry of someone already inside (nothing is written then).
fn already_inside(decision: &gate::Decision) -> bool {
    decision
        .reasons
        .iter()
        .any(|r| matches!(r, Reason::AlreadyInside { .. }))
}

/// The verdict fields every answer shares; the caller adds identity and counters.
fn verdict_of(decision: &gate::Decision, recorded: bool) -> ScanVerdict {
    ScanVerdict {
        pass: decision.verdict == gate::Verdict::Pass,
        reasons: decision
            .reasons
            .iter()
            .map(crate::ipc_map::reason)
            .collect(),
        alert: decision.alert && recorded,
        recorded,
        ..ScanVerdict::default()
    }
}

/// The venue's gate policy as last synced, or the defaults.
pub fn policy(store: &Store) -> Result<Policy, AppError> {
    Ok(store
        .sync_value("policy")?
        .and_then(|v| serde_json::from_str::<PolicyWire>(&v).ok())
        .map(|p| p.to_policy())
        .unwrap_or_default())
}

/// The station's freshness at trusted time: the time reading, when the last complete pull
/// happened, the policy's freshness rules, whether the station is enrolled.
pub fn freshness(
    store: &Store,
    time: &crate::sync::TimeKeeper,
) -> Result<venuecode_core::sync::Freshness, AppError> {
    let policy = store
        .sync_value("policy")?
        .and_then(|v| serde_json::from_str::<PolicyWire>(&v).ok())
        .map(|p| p.freshness())
        .unwrap_or_default();
    let pulled_at = store
        .sync_value("trust_fetched_at")?
        .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
        .map(|t| t.with_timezone(&Utc));
    let enrolled = store.device()?.is_some_and(|d| d.venue_id.is_some());
    Ok(venuecode_core::sync::freshness(
        &time.reading(policy.max_unsigned),
        pulled_at,
        &policy,
        enrolled,
    ))
}

/// Binds the station. An enrolled station's venue, checkpoint and inspector come from its
/// enrolment (the venue's registry, never typed): only the direction changes here. An
/// unenrolled station may be bound by hand for the demo; nothing it records syncs.
pub fn rebind(store: &mut Store, wanted: &StationBinding) -> Result<Binding, AppError> {
    let wanted = from_wire(wanted)?;
    let enrolled = store.device()?.is_some_and(|d| d.venue_id.is_some());
    let binding = match store.binding()? {
        Some(current) if enrolled => Binding {
            direction: wanted.direction,
            ..current
        },
        _ => wanted,
    };
    store.set_binding(&binding)?;
    Ok(binding)
}

/// The venue's checkpoints from its synced registry entry (empty before enrolment).
pub fn checkpoints(store: &Store) -> Result<Vec<venuecode_core::sync::CheckpointInfo>, AppError> {
    Ok(store
        .sync_value("venue")?
        .and_then(|v| serde_json::from_str::<VenueInfo>(&v).ok())
        .map(|v| v.checkpoints)
        .unwrap_or_default())
}

/// Whether the venue's administrator disabled this checkpoint (as of the last sync).
pub fn checkpoint_disabled(store: &Store, checkpoint_id: &str) -> Result<bool, AppError> {
    Ok(checkpoints(store)?
        .iter()
        .any(|c| c.checkpoint_id == checkpoint_id && c.disabled))
}

/// The number to call when someone is refused, from the venue's synced registry entry.
pub fn venue_phone(store: &Store) -> Result<Option<String>, AppError> {
    Ok(store
        .sync_value("venue")?
        .and_then(|v| serde_json::from_str::<VenueInfo>(&v).ok())
        .map(|v| v.phone)
        .filter(|p| !p.is_empty()))
}

/// The venue's capacity (限流) as last synced, if its administrator set one.
pub fn capacity(store: &Store) -> Result<Option<u32>, AppError> {
    Ok(store
        .sync_value("policy")?
        .and_then(|v| serde_json::from_str::<PolicyWire>(&v).ok())
        .and_then(|p| p.capacity))
}

/// The counters for the bound venue now: inside at every gate (in all and by gate), today's
/// entries, refusals and fevers, and the capacity.
pub fn counters(store: &Store, now: DateTime<Utc>) -> Result<StationCounters, AppError> {
    let b = store.binding()?.ok_or(AppError::NotBound)?;
    let day = now.with_timezone(&zone()).format("%Y-%m-%d").to_string();
    let c = store.counters(&b.venue_id, &day, now, auto_close(store)?)?;
    let names = checkpoints(store)?;
    let name = |id: &str| {
        names
            .iter()
            .find(|c| c.checkpoint_id == id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    };
    Ok(StationCounters {
        inside: c.inside,
        entries: c.entries,
        refusals: c.refusals,
        fevers: c.fevers,
        capacity: capacity(store)?,
        by_gate: c
            .by_gate
            .into_iter()
            .map(|(id, n)| venuecode_ipc::GateCount {
                name: name(&id),
                checkpoint_id: id,
                inside: n as i64,
            })
            .collect(),
    })
}

/// The capacity rule at this gate: an entry that would pass while the venue is at its cap is
/// held (nothing recorded) until someone leaves by any gate; `Some` is the answer to give.
fn held(
    store: &Store,
    direction: Direction,
    decision: &gate::Decision,
    now: DateTime<Utc>,
) -> Result<Option<ScanVerdict>, AppError> {
    if decision.verdict != gate::Verdict::Pass || already_inside(decision) {
        return Ok(None);
    }
    let Some(cap) = capacity(store)? else {
        return Ok(None);
    };
    let c = counters(store, now)?;
    let inside = usize::try_from(c.inside).unwrap_or(0);
    Ok(
        match venuecode_core::presence::admit(direction, inside, Some(cap)) {
            venuecode_core::presence::Admission::Admit => None,
            venuecode_core::presence::Admission::Hold { .. } => Some(ScanVerdict {
                reasons: vec![venuecode_ipc::Reason::CapacityFull],
                counters: c,
                ..ScanVerdict::default()
            }),
        },
    )
}

/// Verifies, decides and records one scan at trusted time `now`; a station the freshness rule
/// blocks refuses without deciding (nothing is recorded: the person is asked to wait while the
/// station syncs).
pub fn submit(
    store: &mut Store,
    data_dir: &Path,
    text: &str,
    t: TemperatureInput,
    now: DateTime<Utc>,
    fresh: venuecode_core::sync::Freshness,
) -> Result<ScanVerdict, AppError> {
    let binding = store.binding()?.ok_or(AppError::NotBound)?;
    if checkpoint_disabled(store, &binding.checkpoint_id)? {
        return Ok(ScanVerdict {
            reasons: vec![venuecode_ipc::Reason::CheckpointDisabled],
            counters: counters(store, now)?,
            ..ScanVerdict::default()
        });
    }
    if fresh.blocked {
        return Ok(ScanVerdict {
            reasons: vec![venuecode_ipc::Reason::StationStale],
            counters: counters(store, now)?,
            ..ScanVerdict::default()
        });
    }
    let trust = match crate::checking::station_trust(store, data_dir, now) {
        Ok(t) => t,
        Err(code) => {
            return Ok(ScanVerdict {
                reasons: vec![code],
                counters: counters(store, now)?,
                ..ScanVerdict::default()
            })
        }
    };
    let code = health_code::verify(text, &trust, &store.revocation_check(), now);
    let presence = match &code {
        Ok(v) => store.presence_of(
            &v.claims.subject.to_hex(),
            &binding.venue_id,
            now,
            auto_close(store)?,
        )?,
        Err(_) => Presence::Outside,
    };
    let temp = temperature(t);
    let policy = policy(store)?;
    let decision = gate::decide(GateInput {
        code: &code,
        temperature: temp,
        direction: binding.direction,
        presence,
        policy: &policy,
        now,
    });
    // At the venue's capacity a passing entry waits (nothing recorded) until someone leaves.
    if let Some(mut v) = held(store, binding.direction, &decision, now)? {
        let claims = code.as_ref().ok().map(|v| &v.claims);
        v.name = claims.map(|c| c.name_masked.clone());
        v.color = claims.map(|c| crate::ipc_map::color(c.color));
        return Ok(v);
    }
    // Every scan of a code is recorded, "already inside" too: a shared screenshot must leave a
    // trace (and alerts when the holder entered minutes ago: the gate rule says so).
    let no_code = matches!(code, Err(CodeError::NotACode { .. }));
    let recorded = !no_code;
    if recorded {
        let mut draft = checkin::draft(&binding, &code, temp, &decision, now, zone());
        // The code itself goes with the record: the server verifies it again.
        draft.code = Some(text.trim().to_string());
        store.record(&draft, decision.presence)?;
    }
    let claims = code.as_ref().ok().map(|v| &v.claims);
    Ok(ScanVerdict {
        name: claims.map(|c| c.name_masked.clone()),
        phone: claims.map(|c| c.phone_masked.clone()),
        color: claims.map(|c| crate::ipc_map::color(c.color)),
        color_since: claims.map(|c| c.color_since.to_rfc3339()),
        nat_result: claims
            .and_then(|c| c.nat)
            .map(|n| crate::ipc_map::nat(n.outcome)),
        nat_hours: claims
            .and_then(|c| c.nat)
            .map(|n| (now - n.tested_at).num_minutes() as f32 / 60.0),
        counters: counters(store, now)?,
        venue_phone: venue_phone(store)?,
        paper_printed_at: claims
            .filter(|c| c.medium == health_code::Medium::Paper)
            .map(|c| c.issued_at.with_timezone(&zone()).to_rfc3339()),
        ..verdict_of(&decision, recorded)
    })
}

/// The ID number sealed to the health authority's key from the last signed pull (core `seal`,
/// the venue as context), so the authority can link this registration to the person's own code;
/// `None` before the first pull, when the deployment gives no key, or if the OS cannot give
/// randomness (the registration is kept either way — only the cross-station link is missing).
fn seal_id(store: &Store, venue_id: &str, id: &IdNumber) -> Option<String> {
    let hex = store.sync_value("seal_key").ok().flatten()?;
    let key = venuecode_core::seal::public_key_from_hex(&hex).ok()?;
    let mut ephemeral = [0u8; 32];
    getrandom::getrandom(&mut ephemeral).ok()?;
    venuecode_core::seal::seal(&key, ephemeral, venue_id, id.as_str().as_bytes()).ok()
}

/// Registers a person by ID number (and, for a proxy registration, who vouched) at `now`.
pub fn register_manual(
    store: &mut Store,
    data_dir: &Path,
    req: &RegisterManual,
    now: DateTime<Utc>,
) -> Result<ManualOutcome, AppError> {
    let binding = store.binding()?.ok_or(AppError::NotBound)?;
    if checkpoint_disabled(store, &binding.checkpoint_id)? {
        return Ok(ManualOutcome::Registered {
            verdict: ScanVerdict {
                reasons: vec![venuecode_ipc::Reason::CheckpointDisabled],
                counters: counters(store, now)?,
                ..ScanVerdict::default()
            },
        });
    }
    let today = now.with_timezone(&zone()).date_naive();
    let id = match IdNumber::parse(&req.id_number, today) {
        Ok(id) => id,
        Err(e) => {
            return Ok(ManualOutcome::IdInvalid {
                reason: crate::ipc_map::id_problem(&e),
            })
        }
    };
    let invalid = |field: ManualField| Ok(ManualOutcome::FieldInvalid { field });
    if req.name.trim().is_empty() {
        return invalid(ManualField::Name);
    }
    let proxy = match &req.proxy {
        None => None,
        Some(p) => {
            // The proxy named by their own scanned code (masked already), or typed in.
            let (name, phone) = match p.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                Some(text) => {
                    let verified = crate::checking::station_trust(store, data_dir, now)
                        .ok()
                        .and_then(|trust| {
                            health_code::verify(text, &trust, &store.revocation_check(), now).ok()
                        });
                    let Some(v) = verified else {
                        return invalid(ManualField::ProxyCode);
                    };
                    (v.claims.name_masked, v.claims.phone_masked)
                }
                None => (p.name.trim().to_string(), p.phone.trim().to_string()),
            };
            if name.is_empty() {
                return invalid(ManualField::ProxyName);
            }
            let Some(relation) = p.relation.map(crate::ipc_map::relation_from) else {
                return invalid(ManualField::Relation);
            };
            Some(Proxy {
                name,
                phone,
                relation,
            })
        }
    };
    let phone = req
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let subject = format!(
        "local:{}",
        Pseudonym::derive(&store.local_secret()?, &id).to_hex()
    );
    let presence = store.presence_of(&subject, &binding.venue_id, now, auto_close(store)?)?;
    let temp = temperature(req.temperature);
    let decision = gate::decide_manual(temp, binding.direction, presence, &policy(store)?);
    if let Some(verdict) = held(store, binding.direction, &decision, now)? {
        return Ok(ManualOutcome::Registered { verdict });
    }
    let recorded = !already_inside(&decision);
    let person = ManualPerson {
        id: &id,
        name: req.name.trim(),
        phone,
        proxy: proxy.as_ref(),
    };
    let mut draft = checkin::manual_draft(&binding, &person, subject, temp, &decision, now, zone());
    draft.sealed_id = seal_id(store, &binding.venue_id, &id);
    if recorded {
        store.record(&draft, decision.presence)?;
    }
    Ok(ManualOutcome::Registered {
        verdict: ScanVerdict {
            name: draft.name_masked.clone(),
            phone: draft.phone_masked.clone(),
            counters: counters(store, now)?,
            venue_phone: venue_phone(store)?,
            ..verdict_of(&decision, recorded)
        },
    })
}

/// Today's check-ins at the bound venue, newest first (at most `limit`).
pub fn today(store: &Store, now: DateTime<Utc>, limit: u32) -> Result<Vec<CheckInRow>, AppError> {
    let b = store.binding()?.ok_or(AppError::NotBound)?;
    let day = now.with_timezone(&zone()).format("%Y-%m-%d").to_string();
    Ok(store
        .day_list(&b.venue_id, &day, limit)?
        .into_iter()
        .map(|l| CheckInRow {
            time: DateTime::parse_from_rfc3339(&l.at)
                .map(|t| t.with_timezone(&zone()).format("%H:%M:%S").to_string())
                .unwrap_or(l.at),
            direction: Direction::parse(&l.direction)
                .map(crate::ipc_map::direction)
                .unwrap_or_default(),
            pass: l.verdict == "pass",
            // A reason this build cannot name (written by a newer one) is left out of the list,
            // never guessed; the record itself is untouched.
            reasons: l
                .reasons
                .split_whitespace()
                .filter_map(crate::ipc_map::reason_from_code)
                .collect(),
            name: l.name_masked,
            id_masked: l.id_masked,
            manual: l.manual,
            proxy_name: l.proxy_name,
            by_phone: l.by_phone,
            proxy_relation: l
                .proxy_relation
                .as_deref()
                .and_then(Relation::parse)
                .map(crate::ipc_map::relation),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh station: nothing blocks the gate rule.
    const OPEN: venuecode_core::sync::Freshness = venuecode_core::sync::Freshness {
        set_back: false,
        unverified: false,
        stale: false,
        blocked: false,
    };
    use venuecode_core::health_code::{Color, HealthClaims, Pseudonym};
    use venuecode_core::keys::SecretKey;

    #[test]
    fn the_screens_know_residents_own_check_ins_by_cores_name_for_them() {
        assert_eq!(
            venuecode_ipc::SELF_INSPECTOR,
            venuecode_core::self_check_in::INSPECTOR
        );
    }

    struct Fixture {
        dir: tempfile::TempDir,
        store: Store,
        issuer: SecretKey,
        now: DateTime<Utc>,
    }

    fn fixture(direction: venuecode_ipc::Direction) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let issuer = SecretKey::from_seed(&[2; 32]);
        crate::checking::write_test_trust(
            dir.path(),
            &SecretKey::from_seed(&[1; 32]),
            "T-HC",
            &issuer,
            now,
        )
        .unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .set_binding(
                &from_wire(&StationBinding {
                    venue_id: "V1".into(),
                    venue_name: "幸福路农贸市场".into(),
                    checkpoint_id: "east".into(),
                    inspector: "王五".into(),
                    direction,
                })
                .unwrap(),
            )
            .unwrap();
        Fixture {
            dir,
            store,
            issuer,
            now,
        }
    }

    fn code(f: &Fixture, color: Color, subject: u8) -> String {
        health_code::issue(
            &f.issuer,
            &HealthClaims {
                issuer: "T-HC".into(),
                issued_at: f.now,
                expires_at: f.now + Duration::minutes(10),
                code_id: [subject; 8],
                subject: Pseudonym([subject; 12]),
                name_masked: "张*".into(),
                phone_masked: "138****8000".into(),
                id_masked: "1101**********002X".into(),
                color,
                color_since: f.now - Duration::days(2),
                nat: None,
                guardian: None,
                medium: venuecode_core::health_code::Medium::Screen,
            },
        )
    }

    #[test]
    fn green_passes_once_then_already_inside_and_red_alerts() {
        let mut f = fixture(venuecode_ipc::Direction::Entry);
        let green = code(&f, Color::Green, 1);
        let dir = f.dir.path().to_path_buf();
        let v = submit(
            &mut f.store,
            &dir,
            &green,
            TemperatureInput::Normal,
            f.now,
            OPEN,
        )
        .unwrap();
        assert!(v.pass && v.recorded && !v.alert, "{v:?}");
        assert_eq!(v.counters.entries, 1);
        assert_eq!(v.counters.inside, 1);
        assert_eq!(f.store.count("check_ins").unwrap(), 1);
        assert_eq!(f.store.count("outbox").unwrap(), 1);

        let again = submit(
            &mut f.store,
            &dir,
            &green,
            TemperatureInput::Normal,
            f.now,
            OPEN,
        )
        .unwrap();
        // The same code again at once: passes (already inside), but is recorded and alerts —
        // a shared screenshot leaves a trace; the day's entries do not count it twice.
        assert!(again.pass && again.recorded && again.alert);
        assert_eq!(again.reasons, vec![venuecode_ipc::Reason::AlreadyInside]);
        assert_eq!(f.store.count("check_ins").unwrap(), 2);
        assert_eq!(again.counters.entries, 1);
        assert_eq!(again.counters.inside, 1);

        // The venue's synced registry entry names the number to call.
        f.store
            .put_sync_values(&[(
                "venue",
                serde_json::json!({
                    "venue_id": "V1", "name": "n", "address": "a", "category": "01",
                    "phone": "0997-4612345", "checkpoints": [],
                    "updated_at": "2026-11-01T00:00:00Z"
                })
                .to_string(),
            )])
            .unwrap();
        let red = code(&f, Color::Red, 2);
        let v = submit(
            &mut f.store,
            &dir,
            &red,
            TemperatureInput::Normal,
            f.now,
            OPEN,
        )
        .unwrap();
        assert!(!v.pass && v.alert && v.recorded);
        assert_eq!(v.venue_phone.as_deref(), Some("0997-4612345"));
        assert_eq!(v.reasons, vec![venuecode_ipc::Reason::RedCode]);
        assert_eq!(
            f.store.count("alerts").unwrap(),
            2,
            "the re-entry and the red code"
        );
        assert_eq!(
            f.store.count("outbox").unwrap(),
            5,
            "check-in, check-in + its alert, check-in + its alert"
        );
        assert_eq!(v.counters.refusals, 1);

        let fever = code(&f, Color::Green, 3);
        let v = submit(
            &mut f.store,
            &dir,
            &fever,
            TemperatureInput::Celsius(38.0),
            f.now,
            OPEN,
        )
        .unwrap();
        assert!(!v.pass && v.alert);
        assert_eq!(v.counters.fevers, 1);

        let junk = submit(
            &mut f.store,
            &dir,
            "hello",
            TemperatureInput::Normal,
            f.now,
            OPEN,
        )
        .unwrap();
        assert!(!junk.pass && !junk.recorded);
        assert_eq!(f.store.count("check_ins").unwrap(), 4);

        // A station the freshness rule blocks refuses a good code and records nothing.
        let blocked = venuecode_core::sync::Freshness {
            stale: true,
            blocked: true,
            ..OPEN
        };
        let green = code(&f, Color::Green, 9);
        let v = submit(
            &mut f.store,
            &dir,
            &green,
            TemperatureInput::Normal,
            f.now,
            blocked,
        )
        .unwrap();
        assert!(!v.pass && !v.recorded);
        assert_eq!(v.reasons, vec![venuecode_ipc::Reason::StationStale]);
        assert_eq!(f.store.count("check_ins").unwrap(), 4);
    }

    #[test]
    fn a_paper_code_is_held_to_the_paper_limit_and_says_when_it_was_printed() {
        let mut f = fixture(venuecode_ipc::Direction::Entry);
        let dir = f.dir.path().to_path_buf();
        let paper = |f: &Fixture, days: i64, subject: u8| {
            health_code::issue(
                &f.issuer,
                &HealthClaims {
                    issuer: "T-HC".into(),
                    issued_at: f.now - Duration::days(days),
                    expires_at: f.now + Duration::days(3),
                    code_id: [subject; 8],
                    subject: Pseudonym([subject; 12]),
                    name_masked: "李*".into(),
                    phone_masked: "139****0000".into(),
                    id_masked: "1101**********0011".into(),
                    color: Color::Green,
                    color_since: f.now - Duration::days(days + 1),
                    nat: None,
                    guardian: None,
                    medium: venuecode_core::health_code::Medium::Paper,
                },
            )
        };
        // Printed three days ago: past the screen limit, within the paper one.
        let text = paper(&f, 3, 7);
        let v = submit(
            &mut f.store,
            &dir,
            &text,
            TemperatureInput::Normal,
            f.now,
            OPEN,
        )
        .unwrap();
        assert!(v.pass && v.recorded, "{v:?}");
        let printed = v
            .paper_printed_at
            .expect("a paper code says when it was printed");
        let printed = DateTime::parse_from_rfc3339(&printed).unwrap();
        // Codes carry whole seconds.
        assert_eq!(printed.timestamp(), (f.now - Duration::days(3)).timestamp());
        assert_eq!(
            printed.offset().local_minus_utc(),
            8 * 3600,
            "station time zone"
        );
        // Printed eight days ago: refused, with the paper reason; a screen code says nothing.
        let text = paper(&f, 8, 8);
        let v = submit(
            &mut f.store,
            &dir,
            &text,
            TemperatureInput::Normal,
            f.now,
            OPEN,
        )
        .unwrap();
        assert!(!v.pass, "{v:?}");
        assert_eq!(v.reasons, vec![venuecode_ipc::Reason::PaperCodeTooOld]);
        let screen = code(&f, Color::Green, 9);
        let v = submit(
            &mut f.store,
            &dir,
            &screen,
            TemperatureInput::Normal,
            f.now,
            OPEN,
        )
        .unwrap();
        assert_eq!(v.paper_printed_at, None);
    }

    #[test]
    fn exit_then_entry_makes_two_presences() {
        let mut f = fixture(venuecode_ipc::Direction::Entry);
        let dir = f.dir.path().to_path_buf();
        let green = code(&f, Color::Green, 7);
        submit(
            &mut f.store,
            &dir,
            &green,
            TemperatureInput::Normal,
            f.now,
            OPEN,
        )
        .unwrap();
        let mut b = f.store.binding().unwrap().unwrap();
        b.direction = Direction::Exit;
        f.store.set_binding(&b).unwrap();
        // A second later, and another after that: presence follows the passages' order in time.
        let out = submit(
            &mut f.store,
            &dir,
            &green,
            TemperatureInput::NotTaken,
            f.now + chrono::Duration::seconds(1),
            OPEN,
        )
        .unwrap();
        assert!(out.pass && out.recorded);
        assert_eq!(out.counters.inside, 0);
        b.direction = Direction::Entry;
        f.store.set_binding(&b).unwrap();
        let back = submit(
            &mut f.store,
            &dir,
            &green,
            TemperatureInput::Normal,
            f.now + chrono::Duration::seconds(2),
            OPEN,
        )
        .unwrap();
        assert!(back.pass && back.recorded, "{back:?}");
        assert_eq!(f.store.count("presence").unwrap(), 2);
        assert_eq!(back.counters.inside, 1);
    }

    #[test]
    fn manual_and_proxy_registrations_are_stored_masked_and_listed() {
        let mut f = fixture(venuecode_ipc::Direction::Entry);
        let dir = f.dir.path().to_path_buf();
        let mut req = RegisterManual {
            id_number: "110105194912310021".into(),
            name: "王秀英".into(),
            phone: None,
            temperature: TemperatureInput::Normal,
            proxy: Some(venuecode_ipc::ProxyInput {
                name: "王小明".into(),
                phone: "13912345678".into(),
                relation: Some(venuecode_ipc::Relation::Child),
                code: None,
            }),
        };
        let out = register_manual(&mut f.store, &dir, &req, f.now).unwrap();
        assert_eq!(
            out,
            ManualOutcome::IdInvalid {
                reason: venuecode_ipc::IdProblem::CheckDigit
            }
        );
        assert_eq!(f.store.count("check_ins").unwrap(), 0);
        req.id_number = "11010519491231002x".into();
        let ManualOutcome::Registered { verdict } =
            register_manual(&mut f.store, &dir, &req, f.now).unwrap()
        else {
            panic!("not registered");
        };
        assert!(verdict.pass && verdict.recorded);
        assert_eq!(verdict.name.as_deref(), Some("王*英"));
        let rows = today(&f.store, f.now, 10).unwrap();
        assert_eq!(rows.len(), 1);
        assert!(rows[0].manual);
        assert_eq!(rows[0].proxy_name.as_deref(), Some("王*明"));
        assert_eq!(rows[0].proxy_relation, Some(venuecode_ipc::Relation::Child));
        assert_eq!(rows[0].id_masked.as_deref(), Some("1101**********002X"));
        // The same person again: already inside, nothing new written.
        let ManualOutcome::Registered { verdict } =
            register_manual(&mut f.store, &dir, &req, f.now).unwrap()
        else {
            panic!("not registered");
        };
        assert_eq!(verdict.reasons, vec![venuecode_ipc::Reason::AlreadyInside]);
        assert_eq!(f.store.count("check_ins").unwrap(), 1);
        req.proxy.as_mut().unwrap().relation = None;
        assert_eq!(
            register_manual(&mut f.store, &dir, &req, f.now).unwrap(),
            ManualOutcome::FieldInvalid {
                field: ManualField::Relation
            }
        );
        // The proxy identified by scanning their own code: a bad code is refused, a good one
        // names them (masked, from the code) whatever was typed.
        let mut by_code = RegisterManual {
            id_number: "650102201501010013".into(),
            name: "李小宝".into(),
            phone: None,
            temperature: TemperatureInput::Normal,
            proxy: Some(venuecode_ipc::ProxyInput {
                name: String::new(),
                phone: String::new(),
                relation: Some(venuecode_ipc::Relation::Grandparent),
                code: Some("JKM1:NOT-A-REAL-CODE".into()),
            }),
        };
        assert_eq!(
            register_manual(&mut f.store, &dir, &by_code, f.now).unwrap(),
            ManualOutcome::FieldInvalid {
                field: ManualField::ProxyCode
            }
        );
        by_code.proxy.as_mut().unwrap().code = Some(code(&f, Color::Green, 5));
        let ManualOutcome::Registered { verdict } =
            register_manual(&mut f.store, &dir, &by_code, f.now).unwrap()
        else {
            panic!("not registered");
        };
        assert!(verdict.recorded);
        let rows = today(&f.store, f.now, 10).unwrap();
        let row = rows
            .iter()
            .find(|r| r.proxy_relation == Some(venuecode_ipc::Relation::Grandparent));
        assert_eq!(row.and_then(|r| r.proxy_name.as_deref()), Some("张*"));
    }

    #[test]
    fn auto_close_hours_come_from_the_options() {
        let mut f = fixture(venuecode_ipc::Direction::Entry);
        let dir = f.dir.path().to_path_buf();
        let green = code(&f, Color::Green, 9);
        submit(
            &mut f.store,
            &dir,
            &green,
            TemperatureInput::Normal,
            f.now,
            OPEN,
        )
        .unwrap();
        let later = f.now + Duration::hours(3);
        assert!(matches!(
            set_options(&mut f.store, 5, false, 0),
            Err(AppError::Invalid(_))
        ));
        assert!(matches!(
            set_options(&mut f.store, 1, false, 12),
            Err(AppError::Invalid(_))
        ));
        // Within 12 h the person is still inside; with a 2 h window the presence has closed.
        assert_eq!(counters(&f.store, later).unwrap().inside, 1);
        let s = set_options(&mut f.store, 8, true, 2).unwrap();
        assert_eq!(
            (s.clear_after_secs, s.sound, s.auto_close_hours),
            (8, true, 2)
        );
        assert_eq!(counters(&f.store, later).unwrap().inside, 0);
    }

    #[test]
    fn unbound_station_and_bad_binding_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        assert!(matches!(
            submit(
                &mut store,
                dir.path(),
                "x",
                TemperatureInput::Normal,
                Utc::now(),
                OPEN
            ),
            Err(AppError::NotBound)
        ));
        let bad = StationBinding {
            venue_id: " ".into(),
            venue_name: "x".into(),
            checkpoint_id: "x".into(),
            inspector: "x".into(),
            direction: venuecode_ipc::Direction::Entry,
        };
        assert!(matches!(from_wire(&bad), Err(AppError::Invalid(_))));
    }
}
