//! HTTP routes for tracing (流调溯源). Each states its role; each authenticates and asks core's
//! `Principal::may(Action::Trace)` for every venue before it shows anything from it.
//!
//! | route | role |
//! |---|---|
//! | `POST /api/v1/trace` | health authority (venues in its regions only; a case number and a reason, audited before the answer) |
//! | `GET /api/v1/trace/audit` | health authority and system administrator (the audit of tracing queries) |
//!
//! Invariants: the audit row is written before the answer leaves (no audit, no answer); stays and
//! contacts are core's (`copresence`); a visit to a venue outside the authority's regions is not
//! shown, and nobody met there is; contacts carry masked names only.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use venuecode_core::accounts::{Action, Role};
use venuecode_core::copresence::{self, Mark, Passage, Stay, StayEnd};
use venuecode_core::gate::Direction;

use crate::error::ApiError;
use crate::people;
use crate::store::{PassageRow, TraceAudit, TraceAuditRow};
use crate::trace_read::read_around;
use crate::{blocking, body_bytes, json, AppState};

/// The trace routes, merged into the app.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/trace", post(trace))
        .route("/api/v1/trace/audit", get(audit))
}

/// The automatic-exit rule applied to stays with no exit (the stations' default).
pub const AUTO_CLOSE: Duration = Duration::hours(4);
/// The longest window one query covers.
pub const MAX_WINDOW: Duration = Duration::days(30);

/// A tracing query: the person by exactly one of their pseudonym, a scanned health code, or an
/// ID number.
#[derive(Debug, Deserialize)]
pub struct TraceRequest {
    /// The person's subject pseudonym (from an earlier answer: a contact, an alert).
    #[serde(default)]
    pub subject: Option<String>,
    /// The text of the person's health code (scanned or pasted; expired or revoked is fine).
    #[serde(default)]
    pub code: Option<String>,
    /// The person's ID number (mapped to their pseudonyms under each issuer; never stored).
    #[serde(default)]
    pub id_number: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Stays this close in time count as co-present (default 30, at most 720).
    #[serde(default)]
    pub margin_minutes: Option<i64>,
    /// How many contacts to list, longest together first (default 2,000, at most 100,000;
    /// all are counted in `by_place` and `contacts_total`).
    #[serde(default)]
    pub limit: Option<usize>,
    /// The case (流调) number the query is made for.
    pub case_number: String,
    pub reason: String,
}

/// A place the person was.
#[derive(Debug, Clone, Serialize)]
pub struct Visit {
    pub venue_id: String,
    pub venue_name: String,
    /// The doors passed, by name.
    pub checkpoints: Vec<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// `exit`, `auto_closed` (no exit: the automatic-exit rule) or `exit_only`.
    pub ended: &'static str,
    /// Whether the person was registered by hand there (ID number or proxy).
    pub manual: bool,
}

/// Someone co-present with the person.
#[derive(Debug, Clone, Serialize)]
pub struct ContactRow {
    pub subject: String,
    pub name_masked: Option<String>,
    pub venue_id: String,
    pub venue_name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub overlap_minutes: i64,
}

/// A place and how many people were met there.
#[derive(Debug, Clone, Serialize)]
pub struct PlaceCount {
    pub venue_id: String,
    pub venue_name: String,
    pub contacts: usize,
}

/// What a tracing query answers.
#[derive(Debug, Clone, Serialize)]
pub struct TraceAnswer {
    pub audit_id: i64,
    /// The pseudonyms the person was traced under (one per issuer for an ID number).
    pub subjects: Vec<String>,
    pub visits: Vec<Visit>,
    /// The people met, longest together first, at most the request's `limit`.
    pub contacts: Vec<ContactRow>,
    /// How many were met in all (`by_place` counts them all).
    pub contacts_total: usize,
    pub by_place: Vec<PlaceCount>,
}

/// Someone met: their stay (`others[venue][stay]`) and how long it overlapped.
struct Met {
    venue: usize,
    stay: usize,
    overlap: Duration,
}

/// Contacts an answer lists unless asked for another number (all are counted).
pub const DEFAULT_CONTACTS: usize = 2_000;
/// The most an answer lists.
pub const MAX_CONTACTS: usize = 100_000;

/// A check-in as core's copresence reads it. A refused person never went in: they were at the
/// door at that moment, read as a stay of that moment (an exit alone), not a stay until the
/// automatic exit.
fn passage(r: &PassageRow) -> Passage {
    let direction = direction_of(r);
    Passage {
        subject: r.subject.clone(),
        venue_id: r.venue_id.clone(),
        checkpoint_id: r.checkpoint_id.clone(),
        direction,
        at: r.at,
    }
}

/// How tracing reads a passage's direction: a refused person was at the door, a moment.
fn direction_of(r: &PassageRow) -> Direction {
    match (r.passed, Direction::parse(&r.direction)) {
        (true, Some(d)) => d,
        (true, None) => Direction::Entry,
        (false, _) => Direction::Exit,
    }
}

fn ended(e: StayEnd) -> &'static str {
    match e {
        StayEnd::Exit => "exit",
        StayEnd::AutoClosed => "auto_closed",
        StayEnd::ExitOnly => "exit_only",
    }
}

fn bad(code: &'static str, message: &str) -> ApiError {
    ApiError::BadRequest(code, message.into())
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The pseudonyms a query names the person by: its subject as given, the subject of a code
/// signed by a listed issuer, or an ID number's pseudonym under each issuer the authority holds.
fn subjects_of(
    req: &TraceRequest,
    trust: Option<&venuecode_core::trust::TrustList>,
    keys: Option<&venuecode_keys::TracingKeys>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, ApiError> {
    match (given(&req.subject), given(&req.code), given(&req.id_number)) {
        (Some(subject), None, None) => {
            if subject.len() > 128 || !subject.chars().all(|c| c.is_ascii_graphic()) {
                return Err(bad("bad_subject", "give the person's subject pseudonym"));
            }
            Ok(vec![subject.to_string()])
        }
        (None, Some(code), None) => {
            let trust = trust.ok_or_else(|| {
                bad(
                    "no_trust_list",
                    "this server holds no trust list to read codes with",
                )
            })?;
            let claims = venuecode_core::health_code::identify(code, trust).map_err(|e| {
                bad(
                    "bad_code",
                    &format!("not a health code of a listed issuer ({})", e.code()),
                )
            })?;
            Ok(vec![claims.subject.to_hex()])
        }
        (None, None, Some(id)) => {
            let keys = keys.ok_or_else(|| {
                bad(
                    "no_tracing_keys",
                    "this server holds no tracing keys: trace by code or pseudonym",
                )
            })?;
            let id = venuecode_core::idnumber::IdNumber::parse(id, now.date_naive())
                .map_err(|e| bad("bad_id_number", &e.to_string()))?;
            Ok(crate::identity::subjects_of_id(keys, &id))
        }
        _ => Err(bad(
            "bad_subject",
            "name the person by exactly one of subject, code or id_number",
        )),
    }
}

/// The request's case number, reason, margin and contact limit, each checked (the window too).
fn checked(req: &TraceRequest) -> Result<(&str, &str, Duration, usize), ApiError> {
    let case = req.case_number.trim();
    if case.is_empty() || case.chars().count() > 40 || case.chars().any(char::is_control) {
        return Err(bad(
            "bad_case_number",
            "give the case number (1 to 40 characters)",
        ));
    }
    let reason = req.reason.trim();
    if reason.chars().count() < 4
        || reason.chars().count() > 200
        || reason.chars().any(char::is_control)
    {
        return Err(bad("bad_reason", "say why (4 to 200 characters)"));
    }
    if req.to <= req.from || req.to - req.from > MAX_WINDOW {
        return Err(bad(
            "bad_window",
            "the window must end after it starts and span at most 30 days",
        ));
    }
    let margin = match req.margin_minutes {
        None => 30,
        Some(m) if (0..=720).contains(&m) => m,
        Some(_) => return Err(bad("bad_margin", "the margin is 0 to 720 minutes")),
    };
    let margin = Duration::minutes(margin);
    let limit = match req.limit {
        None => DEFAULT_CONTACTS,
        Some(n) if (1..=MAX_CONTACTS).contains(&n) => n,
        Some(_) => return Err(bad("bad_limit", "list 1 to 100000 contacts")),
    };
    Ok((case, reason, margin, limit))
}

async fn trace(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<TraceAnswer>, ApiError> {
    let body = body_bytes(body)?;
    let store = state.store();
    let server_keys = state.keys.clone();
    let tracing_keys = state.tracing_keys();
    blocking(move || {
        let now = Utc::now();
        let (account, who) = people::authenticate(store.as_ref(), &headers, now)?;
        if who.role != Role::Authority {
            return Err(ApiError::Forbidden(
                "tracing is the health authority's work".into(),
            ));
        }
        let req: TraceRequest = json(&body)?;
        let subjects = subjects_of(
            &req,
            server_keys.as_ref().map(|k| &k.server.trust),
            tracing_keys.as_deref(),
            now,
        )?;
        let subject = subjects[0].as_str();
        let (case, reason, margin, limit) = checked(&req)?;
        // The person's stays that touch the window (an entry up to the automatic exit before it).
        let mut own = Vec::new();
        for s in &subjects {
            own.extend(store.passages_of(s, req.from - AUTO_CLOSE, req.to)?);
        }
        // One person, whatever issuer's pseudonym a check-in carries.
        for p in &mut own {
            p.subject = subject.to_string();
        }
        own.sort_by_key(|p| p.at);
        let manual_at: BTreeMap<String, bool> =
            own.iter().map(|p| (p.venue_id.clone(), p.manual)).collect();
        let mut names: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut visible = |venue_id: &str| -> Result<Option<String>, ApiError> {
            if let Some(n) = names.get(venue_id) {
                return Ok(n.clone());
            }
            let v = store.venue_summary(venue_id)?;
            let shown = v
                .filter(|v| who.may(Action::Trace { region: &v.region }))
                .map(|v| v.name);
            names.insert(venue_id.to_string(), shown.clone());
            Ok(shown)
        };
        let passages: Vec<Passage> = own.iter().map(passage).collect();
        let mut case_stays: Vec<Stay> = Vec::new();
        for s in copresence::stays(&passages, AUTO_CLOSE) {
            if s.end >= req.from && s.start <= req.to && visible(&s.venue_id)?.is_some() {
                case_stays.push(s);
            }
        }
        // Everyone at those venues around those stays, venue by venue: each venue's rows are
        // read first, then turned into stays and compared, borrowing the rows' pseudonyms; a
        // contact is a pair of indices until the answer copies the ones it shows.
        let reads = read_around(store.as_ref(), &case_stays, margin)?;
        let mut others: Vec<Vec<copresence::Span<'_>>> = Vec::with_capacity(reads.len());
        let mut met: Vec<Met> = Vec::new();
        for (v, read) in reads.iter().enumerate() {
            let marks: Vec<Mark<'_>> = read
                .inside
                .iter()
                .map(|r| Mark {
                    subject: &r.subject,
                    direction: direction_of(r),
                    at: r.at,
                })
                .chain(read.marks.iter().map(|r| Mark {
                    subject: &r.subject,
                    // A refused person was at the door, a moment.
                    direction: if r.exit || !r.passed {
                        Direction::Exit
                    } else {
                        Direction::Entry
                    },
                    at: r.at,
                }))
                .collect();
            let theirs: Vec<copresence::Span<'_>> = copresence::spans(&marks, AUTO_CLOSE)
                .into_iter()
                .filter(|s| !subjects.iter().any(|c| c == s.subject))
                .collect();
            let here: Vec<Stay> = case_stays
                .iter()
                .filter(|s| s.venue_id == read.venue_id)
                .cloned()
                .collect();
            met.extend(
                copresence::span_overlaps(&here, &theirs, margin)
                    .into_iter()
                    .map(|(_, stay, overlap)| Met {
                        venue: v,
                        stay,
                        overlap,
                    }),
            );
            others.push(theirs);
        }
        let contacts_total = met.len();
        let mut counts = vec![0usize; reads.len()];
        for m in &met {
            counts[m.venue] += 1;
        }
        let mut by_place_rows = Vec::new();
        for (v, contacts) in reads.iter().zip(&counts) {
            if *contacts > 0 {
                by_place_rows.push(PlaceCount {
                    venue_id: v.venue_id.clone(),
                    venue_name: visible(&v.venue_id)?.unwrap_or_default(),
                    contacts: *contacts,
                });
            }
        }
        by_place_rows.sort_by_key(|p| std::cmp::Reverse(p.contacts));
        // The longest together first: the closest contacts, when not all are shown.
        let key = |m: &Met| {
            let o = &others[m.venue][m.stay];
            (reads[m.venue].venue_id.as_str(), o.start, o.subject)
        };
        met.sort_by(|a, b| b.overlap.cmp(&a.overlap).then_with(|| key(a).cmp(&key(b))));
        met.truncate(limit);
        // A person's masked name: the first their rows carry, looked up only at venues shown.
        let mut names_at: HashMap<usize, HashMap<&str, Option<&str>>> = HashMap::new();
        let mut contacts = Vec::with_capacity(met.len());
        for m in &met {
            let v = &reads[m.venue];
            let names = names_at.entry(m.venue).or_insert_with(|| {
                let mut first: HashMap<&str, Option<&str>> = HashMap::new();
                let rows = v.inside.iter().map(|r| (&r.subject, &r.name_masked));
                for (subject, name) in
                    rows.chain(v.marks.iter().map(|r| (&r.subject, &r.name_masked)))
                {
                    first.entry(subject.as_str()).or_insert(name.as_deref());
                }
                first
            });
            let o = &others[m.venue][m.stay];
            contacts.push(ContactRow {
                venue_name: visible(&v.venue_id)?.unwrap_or_default(),
                name_masked: names.get(o.subject).copied().flatten().map(str::to_string),
                subject: o.subject.to_string(),
                venue_id: v.venue_id.clone(),
                start: o.start,
                end: o.end,
                overlap_minutes: m.overlap.num_minutes(),
            });
        }
        let mut visits = Vec::new();
        let mut doors: BTreeMap<String, Vec<crate::store::Checkpoint>> = BTreeMap::new();
        for s in &case_stays {
            if !doors.contains_key(&s.venue_id) {
                doors.insert(s.venue_id.clone(), store.checkpoints(&s.venue_id)?);
            }
            let named = &doors[&s.venue_id];
            // Doors by name (an id no longer listed stays as it is).
            let checkpoints = s
                .checkpoints
                .iter()
                .map(|id| {
                    named
                        .iter()
                        .find(|c| &c.checkpoint_id == id)
                        .map_or_else(|| id.clone(), |c| c.name.clone())
                })
                .collect();
            visits.push(Visit {
                venue_name: visible(&s.venue_id)?.unwrap_or_default(),
                venue_id: s.venue_id.clone(),
                checkpoints,
                start: s.start,
                end: s.end,
                ended: ended(s.ended),
                manual: manual_at.get(&s.venue_id).copied().unwrap_or(false),
            });
        }
        // No audit, no answer.
        let audit_id = store.record_trace(
            &TraceAudit {
                actor: &people::actor(&account),
                subject: &subjects.join(" "),
                case_number: case,
                reason,
                from: req.from,
                to: req.to,
                visits: visits.len() as i64,
                contacts: contacts_total as i64,
            },
            now,
        )?;
        tracing::info!(audit_id, case, "tracing query answered");
        Ok(Json(TraceAnswer {
            audit_id,
            subjects,
            visits,
            contacts,
            contacts_total,
            by_place: by_place_rows,
        }))
    })
    .await
}

/// How many audit rows one read returns.
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub limit: Option<usize>,
}

async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<TraceAuditRow>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest("bad_query", e.body_text()))?;
    let store = state.store();
    blocking(move || {
        let (_, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        if !matches!(who.role, Role::Authority | Role::SysAdmin) {
            return Err(ApiError::Forbidden(
                "the tracing audit is read by the health authority and system administrators"
                    .into(),
            ));
        }
        Ok(Json(
            store.trace_audit(q.limit.unwrap_or(100).clamp(1, 1000))?,
        ))
    })
    .await
}
