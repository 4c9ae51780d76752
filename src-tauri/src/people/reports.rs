//! What managers and health authorities read through the app: a venue's statistics (from the
//! server; a station's own from its store), the alerts view, tracing and its audit — each a use
//! case over the signed-in person's client, answers turned into the IPC's display rows (times in
//! the venue's local time). Statistics, alerts and the audit stay readable offline (kept reads).
//!
//! Invariants: every figure is core's (`statistics::fold`, the server's copresence); nothing here
//! decides who may read what (the server does); typed text reaches a URL only escaped.

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use venuecode_core::statistics::{self, Counts, Statistics};
use venuecode_ipc::{
    AlertItem, AuditItem, ListAlerts, Loaded, StatCounts, StatRow, StatisticsView, TraceContactRow,
    TracePerson, TraceResult, TraceVisitRow,
};

use super::{load, seg, PeopleClient, PeopleError};
use crate::station::zone;
use crate::store::Store;

/// The longest tracing window the app asks for (the server's limit).
pub const MAX_TRACE_DAYS: u32 = 30;

fn local(t: DateTime<Utc>, fmt: &str) -> String {
    t.with_timezone(&zone()).format(fmt).to_string()
}

fn counts(c: &Counts) -> StatCounts {
    StatCounts {
        entries: c.entries,
        exits: c.exits,
        refused: c.refused,
        fevers: c.fevers,
    }
}

/// The range of the last `days` days (1 = today), local midnight to now.
pub fn range_of(days: u32, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let days = days.clamp(1, statistics::MAX_DAYS as u32);
    let today = now.with_timezone(&zone()).date_naive();
    let first = today - Duration::days(i64::from(days) - 1);
    let from = first
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(zone()).single())
        .map_or(now - Duration::days(i64::from(days)), |t| {
            t.with_timezone(&Utc)
        });
    (from, now)
}

/// What a statistics view is about, beside core's figures.
pub struct About<'a> {
    pub venue_id: &'a str,
    pub venue_name: &'a str,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Different people over the range, and inside now.
    pub people: i64,
    pub present_now: i64,
}

/// Statistics as the screen shows them; `doors` names the checkpoints.
pub fn view_of(a: &About<'_>, s: &Statistics, doors: &[(String, String)]) -> StatisticsView {
    let About {
        venue_id,
        venue_name,
        from,
        to,
        people,
        present_now,
    } = *a;
    let door = |id: &str| {
        doors
            .iter()
            .find(|(d, _)| d == id)
            .map_or_else(|| id.to_string(), |(_, n)| n.clone())
    };
    StatisticsView {
        venue_id: venue_id.into(),
        venue_name: venue_name.into(),
        range: format!("{} — {}", local(from, "%Y-%m-%d"), local(to, "%Y-%m-%d")),
        totals: counts(&s.totals),
        people,
        present_now,
        by_hour: s.by_hour.iter().map(counts).collect(),
        by_day: s
            .by_day
            .iter()
            .map(|d| StatRow {
                label: d.date.format("%m-%d").to_string(),
                counts: counts(&d.counts),
            })
            .collect(),
        by_checkpoint: s
            .by_checkpoint
            .iter()
            .map(|r| StatRow {
                label: door(&r.key),
                counts: counts(&r.counts),
            })
            .collect(),
        by_inspector: s
            .by_inspector
            .iter()
            .map(|r| StatRow {
                label: r.key.clone(),
                counts: counts(&r.counts),
            })
            .collect(),
        inside_by_gate: Vec::new(),
        capacity: None,
    }
}

#[derive(Deserialize)]
struct DoorName {
    checkpoint_id: String,
    name: String,
}

#[derive(Deserialize)]
struct StatisticsAnswer {
    venue_id: String,
    venue_name: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    people: i64,
    present_now: i64,
    doors: Vec<DoorName>,
    statistics: Statistics,
    /// Absent from an older server.
    #[serde(default)]
    occupancy: Option<OccupancyAnswer>,
}

#[derive(Deserialize)]
struct OccupancyAnswer {
    by_gate: Vec<GateInside>,
    capacity: Option<u32>,
}

#[derive(Deserialize)]
struct GateInside {
    checkpoint_id: String,
    name: String,
    inside: i64,
}

/// Sets (`Some`) or removes (`None`) a venue's capacity at the server.
pub fn set_capacity(
    client: &PeopleClient,
    venue_id: &str,
    capacity: Option<u32>,
) -> Result<(), PeopleError> {
    client.call::<serde_json::Value>(
        Method::PUT,
        &format!("/api/v1/venues/{}/capacity", seg(venue_id)),
        Some(&serde_json::json!({ "capacity": capacity })),
    )?;
    Ok(())
}

/// A venue's statistics from the server over the last `days` days.
pub fn venue_statistics(
    store: &mut Store,
    client: &PeopleClient,
    venue_id: &str,
    days: u32,
    now: DateTime<Utc>,
) -> Result<Loaded<StatisticsView>, PeopleError> {
    let (from, to) = range_of(days, now);
    let key = format!("statistics:{}:{days}", seg(venue_id));
    load(store, client, &key, now, |c| {
        let offset = zone().local_minus_utc() / 60;
        let a: StatisticsAnswer = c.call(
            Method::GET,
            &format!(
                "/api/v1/venues/{}/statistics?from={}&to={}&tz_offset_minutes={offset}",
                seg(venue_id),
                stamp(from),
                stamp(to)
            ),
            None,
        )?;
        let doors: Vec<(String, String)> = a
            .doors
            .into_iter()
            .map(|d| (d.checkpoint_id, d.name))
            .collect();
        let mut view = view_of(
            &About {
                venue_id: &a.venue_id,
                venue_name: &a.venue_name,
                from: a.from,
                to: a.to,
                people: a.people,
                present_now: a.present_now,
            },
            &a.statistics,
            &doors,
        );
        if let Some(o) = a.occupancy {
            view.capacity = o.capacity;
            view.inside_by_gate = o
                .by_gate
                .into_iter()
                .map(|g| venuecode_ipc::GateCount {
                    checkpoint_id: g.checkpoint_id,
                    name: g.name,
                    inside: g.inside,
                })
                .collect();
        }
        Ok(view)
    })
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// What the query string carries, made safe.
fn query_value(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[derive(Deserialize)]
struct AlertAnswer {
    venue_id: String,
    venue_name: String,
    alert_id: String,
    kind: String,
    at: DateTime<Utc>,
    checkpoint_id: Option<String>,
    #[serde(default)]
    checkpoint_name: Option<String>,
    reasons: Vec<String>,
    subject: Option<String>,
    name_masked: Option<String>,
    phone_masked: Option<String>,
    color: Option<String>,
    handled_at: Option<DateTime<Utc>>,
    handled_by: Option<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
struct AlertPage {
    alerts: Vec<AlertAnswer>,
}

/// The alerts view's first page (newest first) under `f`.
pub fn alerts(
    store: &mut Store,
    client: &PeopleClient,
    f: &ListAlerts,
    now: DateTime<Utc>,
) -> Result<Loaded<Vec<AlertItem>>, PeopleError> {
    let mut q = vec!["limit=100".to_string()];
    for (name, v) in [
        ("region", &f.region),
        ("venue_id", &f.venue_id),
        ("reason", &f.reason),
    ] {
        let v = query_value(v.trim());
        if !v.is_empty() {
            q.push(format!("{name}={v}"));
        }
    }
    if f.hours > 0 {
        q.push(format!(
            "from={}",
            stamp(now - Duration::hours(i64::from(f.hours)))
        ));
    }
    if f.unhandled {
        q.push("unhandled=true".into());
    }
    let query = q.join("&");
    load(store, client, &format!("alerts:{query}"), now, |c| {
        let page: AlertPage = c.call(Method::GET, &format!("/api/v1/alerts?{query}"), None)?;
        Ok(page
            .alerts
            .into_iter()
            .map(|a| AlertItem {
                venue_id: a.venue_id,
                venue_name: a.venue_name,
                alert_id: a.alert_id,
                kind: a.kind,
                at: local(a.at, "%m-%d %H:%M:%S"),
                checkpoint: a.checkpoint_name.or(a.checkpoint_id),
                reasons: a.reasons,
                subject: a.subject,
                name_masked: a.name_masked,
                phone_masked: a.phone_masked,
                color: a.color,
                handled: a.handled_at.map(|t| {
                    format!(
                        "{} · {}",
                        local(t, "%m-%d %H:%M"),
                        a.handled_by.unwrap_or_default()
                    )
                }),
                note: a.note,
            })
            .collect())
    })
}

#[derive(Deserialize)]
struct AlertCount {
    unhandled: i64,
}

/// Unhandled alerts of the last 7 days (the badge; 0 offline).
pub fn alert_count(client: &PeopleClient) -> Result<i64, PeopleError> {
    let c: AlertCount = client.call(Method::GET, "/api/v1/alerts/count", None)?;
    Ok(c.unhandled)
}

/// Marks an alert handled.
pub fn handle_alert(
    client: &PeopleClient,
    venue_id: &str,
    alert_id: &str,
    note: &str,
) -> Result<(), PeopleError> {
    let _: serde_json::Value = client.call(
        Method::POST,
        &format!(
            "/api/v1/alerts/{}/{}/handled",
            seg(venue_id),
            // Alert ids are UUIDs, or two joined by '+' (a sighting pair).
            alert_id
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '+')
                .collect::<String>()
        ),
        Some(&json!({ "note": note })),
    )?;
    Ok(())
}

#[derive(Deserialize)]
struct VisitAnswer {
    venue_id: String,
    venue_name: String,
    checkpoints: Vec<String>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    ended: String,
    manual: bool,
}

#[derive(Deserialize)]
struct ContactAnswer {
    subject: String,
    name_masked: Option<String>,
    venue_id: String,
    venue_name: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    overlap_minutes: i64,
}

#[derive(Deserialize)]
struct PlaceAnswer {
    venue_name: String,
    contacts: u64,
}

#[derive(Deserialize)]
struct TraceAnswer {
    audit_id: i64,
    subjects: Vec<String>,
    visits: Vec<VisitAnswer>,
    contacts: Vec<ContactAnswer>,
    contacts_total: u64,
    by_place: Vec<PlaceAnswer>,
}

/// Traces a person (never kept: each answer is a fresh, audited query).
pub fn trace(
    client: &PeopleClient,
    t: &TracePerson,
    now: DateTime<Utc>,
) -> Result<TraceResult, PeopleError> {
    let days = t.days.clamp(1, MAX_TRACE_DAYS);
    let mut body = json!({
        "from": now - Duration::days(i64::from(days)),
        "to": now,
        "margin_minutes": t.margin_minutes,
        "case_number": t.case_number.trim(),
        "reason": t.reason.trim(),
    });
    let who = if !t.code.trim().is_empty() {
        ("code", t.code.trim())
    } else if !t.id_number.trim().is_empty() {
        ("id_number", t.id_number.trim())
    } else {
        ("subject", t.subject.trim())
    };
    body[who.0] = json!(who.1);
    let a: TraceAnswer = client.call(Method::POST, "/api/v1/trace", Some(&body))?;
    let hm = |t: DateTime<Utc>| local(t, "%m-%d %H:%M");
    Ok(TraceResult {
        audit_id: a.audit_id,
        subjects: a.subjects,
        visits: a
            .visits
            .into_iter()
            .map(|v| TraceVisitRow {
                venue_id: v.venue_id,
                venue_name: v.venue_name,
                checkpoints: v.checkpoints,
                start: hm(v.start),
                end: hm(v.end),
                ended: v.ended,
                manual: v.manual,
            })
            .collect(),
        contacts: a
            .contacts
            .into_iter()
            .map(|c| TraceContactRow {
                subject: c.subject,
                name_masked: c.name_masked,
                venue_id: c.venue_id,
                venue_name: c.venue_name,
                start: hm(c.start),
                end: hm(c.end),
                overlap_minutes: c.overlap_minutes,
            })
            .collect(),
        contacts_total: a.contacts_total,
        by_place: a
            .by_place
            .into_iter()
            .map(|p| StatRow {
                label: p.venue_name,
                counts: StatCounts {
                    entries: p.contacts,
                    ..StatCounts::default()
                },
            })
            .collect(),
    })
}

#[derive(Deserialize)]
struct AuditAnswer {
    id: i64,
    at: DateTime<Utc>,
    actor: String,
    subject: String,
    case_number: String,
    reason: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    visits: i64,
    contacts: i64,
}

/// The audit of tracing queries, newest first.
pub fn audit(
    store: &mut Store,
    client: &PeopleClient,
    now: DateTime<Utc>,
) -> Result<Loaded<Vec<AuditItem>>, PeopleError> {
    load(store, client, "trace_audit", now, |c| {
        let rows: Vec<AuditAnswer> = c.call(Method::GET, "/api/v1/trace/audit?limit=200", None)?;
        Ok(rows
            .into_iter()
            .map(|r| AuditItem {
                id: r.id,
                at: local(r.at, "%m-%d %H:%M:%S"),
                actor: r.actor,
                subject: r.subject,
                case_number: r.case_number,
                reason: r.reason,
                window: format!("{} — {}", local(r.from, "%m-%d"), local(r.to, "%m-%d")),
                visits: r.visits,
                contacts: r.contacts,
            })
            .collect())
    })
}
