//! Check-ins: recording one (with its outbox row, alert and presence change in one transaction),
//! presence at the venue, the live counters and the day's list.
//!
//! Presence is venue-wide: who is inside is computed by core's `presence` rules from the venue's
//! passages of the automatic-exit window (`passages.rs`: this station's own, residents' phone
//! check-ins, and what the server relays and the venue's other stations tell it on the LAN) —
//! not from this station's entries alone. (The `presence` table still records this station's
//! own stays; retention reads it.)

use chrono::{DateTime, Duration, Utc};
use rusqlite::params;
use venuecode_core::checkin::CheckInDraft;
use venuecode_core::copresence;
use venuecode_core::gate::{Direction, Presence, PresenceEffect, Verdict};
use venuecode_core::presence::open_stays;
use venuecode_core::sync::{AlertWire, CheckInWire, Record};

use super::Store;
use crate::error::AppError;

/// The station's live counters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Counters {
    /// People inside the venue now (entered at any door, not left by any).
    pub inside: i64,
    /// The same people by the gate they last entered by.
    pub by_gate: std::collections::BTreeMap<String, usize>,
    /// Entries that passed today.
    pub entries: i64,
    /// Refusals today.
    pub refusals: i64,
    /// Fevers today.
    pub fevers: i64,
}

/// One line of the day's check-in list.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInLine {
    pub at: String,
    pub direction: String,
    pub verdict: String,
    pub reasons: String,
    pub name_masked: Option<String>,
    pub id_masked: Option<String>,
    pub manual: bool,
    pub proxy_name: Option<String>,
    pub proxy_relation: Option<String>,
    /// A resident's own check-in (扫场所码), pulled from the server.
    pub by_phone: bool,
}

impl Store {
    /// The venue's passages that can still keep someone inside at `now` (from
    /// `now - auto_close`), of `subject` or of everyone. Ids are distinct in the store, so the
    /// stay rules read them directly.
    fn passages(
        &self,
        venue: &str,
        subject: Option<&str>,
        now: DateTime<Utc>,
        auto_close: Duration,
    ) -> Result<Vec<copresence::Passage>, AppError> {
        let since = (now - auto_close.max(Duration::zero())).to_rfc3339();
        let mut stmt = self.conn.prepare_cached(match subject {
            None => {
                "SELECT subject, checkpoint_id, direction, at FROM passages
                 WHERE venue_id = ?1 AND at >= ?2"
            }
            Some(_) => {
                "SELECT subject, checkpoint_id, direction, at FROM passages
                 WHERE venue_id = ?1 AND subject = ?3 AND at >= ?2"
            }
        })?;
        let mut rows = match subject {
            None => stmt.query(params![venue, since])?,
            Some(who) => stmt.query(params![venue, since, who])?,
        };
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let (Some(direction), Ok(at)) = (
                Direction::parse(r.get_ref(2)?.as_str().unwrap_or_default()),
                DateTime::parse_from_rfc3339(r.get_ref(3)?.as_str().unwrap_or_default()),
            ) else {
                continue;
            };
            out.push(copresence::Passage {
                subject: r.get(0)?,
                venue_id: String::new(),
                checkpoint_id: r.get(1)?,
                direction,
                at: at.with_timezone(&Utc),
            });
        }
        Ok(out)
    }

    /// Whether `subject` is inside `venue` now: entered at any of its doors (a station's scan or
    /// their own phone) and not left by any, within `auto_close` of their last entry.
    pub fn presence_of(
        &self,
        subject: &str,
        venue: &str,
        now: DateTime<Utc>,
        auto_close: Duration,
    ) -> Result<Presence, AppError> {
        let mine = self.passages(venue, Some(subject), now, auto_close)?;
        Ok(match open_stays(&mine, now, auto_close).first() {
            Some(stay) => Presence::Inside { since: stay.start },
            None => Presence::Outside,
        })
    }

    /// How many are inside `venue` now by the gate they last entered by (every gate's entries,
    /// as the passages know them).
    pub fn inside_by_gate(
        &self,
        venue: &str,
        now: DateTime<Utc>,
        auto_close: Duration,
    ) -> Result<std::collections::BTreeMap<String, usize>, AppError> {
        let passages = self.passages(venue, None, now, auto_close)?;
        Ok(venuecode_core::presence::by_gate(
            &passages, now, auto_close,
        ))
    }

    /// Stores a check-in, its outbox row, its alert (if any) and the presence change in one
    /// transaction; returns the check-in id (UUIDv7).
    pub fn record(&mut self, d: &CheckInDraft, effect: PresenceEffect) -> Result<String, AppError> {
        let id = uuid::Uuid::now_v7().to_string();
        let at = d.at.to_rfc3339();
        let verdict = match d.verdict {
            Verdict::Pass => "pass",
            Verdict::Refuse => "refuse",
        };
        let reasons = d.reasons.join(" ");
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO check_ins (id, venue_id, checkpoint_id, inspector, direction, at, day,
                 temperature, celsius, verdict, reasons, fever, code_id, subject, name_masked,
                 phone_masked, id_masked, color, manual, proxy_name, proxy_phone, proxy_relation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20, ?21, ?22)",
            params![
                id,
                d.venue_id,
                d.checkpoint_id,
                d.inspector,
                d.direction.as_str(),
                at,
                d.day,
                d.temperature,
                d.celsius.map(f64::from),
                verdict,
                reasons,
                i64::from(d.fever),
                d.code_id,
                d.subject,
                d.name_masked,
                d.phone_masked,
                d.id_masked,
                d.color,
                i64::from(d.manual),
                d.proxy_name,
                d.proxy_phone,
                d.proxy_relation,
            ],
        )?;
        let wire = CheckInWire::from_draft(id.clone(), d);
        let encode =
            |r: &Record| serde_json::to_string(r).map_err(|e| AppError::Encode(e.to_string()));
        let outbox = "INSERT INTO outbox (id, lane, kind, record_id, payload, created_at)
                      VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
        if d.alert {
            let alert_id = uuid::Uuid::now_v7().to_string();
            let alert = Record::Alert(AlertWire::about(alert_id.clone(), &wire));
            tx.execute(
                "INSERT INTO alerts (id, check_in_id, at, reasons) VALUES (?1, ?2, ?3, ?4)",
                params![alert_id, id, at, reasons],
            )?;
            tx.execute(
                outbox,
                params![
                    uuid::Uuid::now_v7().to_string(),
                    0,
                    "alert",
                    alert_id,
                    encode(&alert)?,
                    at
                ],
            )?;
        }
        tx.execute(
            outbox,
            params![
                uuid::Uuid::now_v7().to_string(),
                1,
                "check_in",
                id,
                encode(&Record::CheckIn(wire))?,
                at
            ],
        )?;
        if let (Some(subject), Verdict::Pass) = (&d.subject, d.verdict) {
            super::passages::add(
                &tx,
                &d.venue_id,
                &venuecode_core::presence::Passage {
                    id: id.clone(),
                    subject: subject.clone(),
                    checkpoint_id: d.checkpoint_id.clone(),
                    direction: d.direction,
                    at: d.at,
                },
                super::passages::Source::Own,
            )?;
        }
        if let Some(subject) = &d.subject {
            match effect {
                PresenceEffect::Open => {
                    // A stale presence (past the auto-close hours) is closed by the new entry.
                    tx.execute(
                        "UPDATE presence SET exited_at = ?3 WHERE subject = ?1 AND venue_id = ?2
                         AND exited_at IS NULL",
                        params![subject, d.venue_id, at],
                    )?;
                    tx.execute(
                        "INSERT INTO presence (subject, venue_id, entered_at, entry_id)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![subject, d.venue_id, at, id],
                    )?;
                }
                PresenceEffect::Close => {
                    tx.execute(
                        "UPDATE presence SET exited_at = ?3, exit_id = ?4
                         WHERE subject = ?1 AND venue_id = ?2 AND exited_at IS NULL",
                        params![subject, d.venue_id, at, id],
                    )?;
                }
                PresenceEffect::Keep => {}
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// The station's live counters for `day` at `venue`.
    pub fn counters(
        &self,
        venue: &str,
        day: &str,
        now: DateTime<Utc>,
        auto_close: Duration,
    ) -> Result<Counters, AppError> {
        let passages = self.passages(venue, None, now, auto_close)?;
        // Every open stay began with an entry, so the gates' counts add up to the total.
        let by_gate = venuecode_core::presence::by_gate(&passages, now, auto_close);
        let inside = by_gate.values().sum::<usize>() as i64;
        let (entries, refusals, fevers): (i64, i64, i64) = self.conn.query_row(
            "SELECT
                coalesce(sum(direction = 'entry' AND verdict = 'pass'
                    AND instr(reasons, 'already_inside') = 0), 0),
                coalesce(sum(verdict = 'refuse'), 0),
                coalesce(sum(fever), 0)
             FROM check_ins WHERE venue_id = ?1 AND day = ?2",
            params![venue, day],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok(Counters {
            inside,
            by_gate,
            entries,
            refusals,
            fevers,
        })
    }

    /// Keeps residents' own check-ins at `venue` pulled from the server (扫场所码), so the list and
    /// the counters show them: no outbox row (they are the server's already), a second copy of an
    /// id ignored. Returns how many were new.
    pub fn record_phone_check_ins(
        &mut self,
        venue: &str,
        entries: &[venuecode_core::sync::PhoneCheckIn],
        zone: chrono::FixedOffset,
    ) -> Result<usize, AppError> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        for e in entries {
            if !matches!(e.direction.as_str(), "entry" | "exit")
                || !matches!(e.verdict.as_str(), "pass" | "refuse")
            {
                continue;
            }
            // A resident's passing check-in joins the venue's passages (an exit through a
            // poster's door also ends this station's own stay row of them).
            if let (Some(subject), Some(direction), "pass") = (
                &e.subject,
                Direction::parse(&e.direction),
                e.verdict.as_str(),
            ) {
                super::passages::add(
                    &tx,
                    venue,
                    &venuecode_core::presence::Passage {
                        id: e.id.clone(),
                        subject: subject.clone(),
                        checkpoint_id: e.checkpoint_id.clone(),
                        direction,
                        at: e.at,
                    },
                    super::passages::Source::Phone,
                )?;
            }
            n += tx.execute(
                "INSERT INTO check_ins (id, venue_id, checkpoint_id, inspector, direction, at, day,
                     temperature, verdict, reasons, fever, name_masked, id_masked, color, subject)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'not_taken', ?8, ?9, 0, ?10, ?11, ?12, ?13)
                 ON CONFLICT (id) DO NOTHING",
                params![
                    e.id,
                    venue,
                    e.checkpoint_id,
                    venuecode_core::self_check_in::INSPECTOR,
                    e.direction,
                    e.at.to_rfc3339(),
                    e.at.with_timezone(&zone).format("%Y-%m-%d").to_string(),
                    e.verdict,
                    e.reasons.join(" "),
                    e.name_masked,
                    e.id_masked,
                    e.color,
                    e.subject,
                ],
            )?;
        }
        tx.commit()?;
        Ok(n)
    }

    /// The newest check-ins of `day` at `venue`, newest first.
    pub fn day_list(
        &self,
        venue: &str,
        day: &str,
        limit: u32,
    ) -> Result<Vec<CheckInLine>, AppError> {
        let mut stmt = self.conn.prepare(
            "SELECT at, direction, verdict, reasons, name_masked, id_masked, manual, proxy_name,
                    proxy_relation, inspector
             FROM check_ins WHERE venue_id = ?1 AND day = ?2 ORDER BY at DESC, id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![venue, day, limit], |r| {
            Ok(CheckInLine {
                at: r.get(0)?,
                direction: r.get(1)?,
                verdict: r.get(2)?,
                reasons: r.get(3)?,
                name_masked: r.get(4)?,
                id_masked: r.get(5)?,
                manual: r.get::<_, i64>(6)? == 1,
                proxy_name: r.get(7)?,
                proxy_relation: r.get(8)?,
                by_phone: r.get::<_, String>(9)? == venuecode_core::self_check_in::INSPECTOR,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The ids of every check-in the store holds (the fault tests' stations reconcile their
    /// log of created records with it after a crash).
    pub fn check_in_ids(&self) -> Result<Vec<String>, AppError> {
        let mut stmt = self.conn.prepare("SELECT id FROM check_ins")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(ids)
    }
}
