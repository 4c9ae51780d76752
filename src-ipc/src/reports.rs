//! Wire types for what managers and health authorities read: a venue's statistics (检测统计),
//! the alerts view, tracing a person (流调溯源) and the audit of tracing queries. Times are shown
//! as the app formats them in the venue's local time; what was loaded stays readable offline.

use serde::{Deserialize, Serialize};

use crate::{Command, Loaded};

/// The four figures of a slot, a day, a door or an inspector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatCounts {
    pub entries: u64,
    pub exits: u64,
    pub refused: u64,
    pub fevers: u64,
}

/// A labelled row of figures (a day `MM-DD`, a door's name, an inspector).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatRow {
    pub label: String,
    pub counts: StatCounts,
}

/// A venue's statistics over a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatisticsView {
    pub venue_id: String,
    pub venue_name: String,
    /// The range as shown (`2026-11-26 — 2026-12-02`).
    pub range: String,
    pub totals: StatCounts,
    /// Different people over the range.
    pub people: i64,
    /// People inside now.
    pub present_now: i64,
    /// The same people by the gate they last entered by (every gate listed when known).
    #[serde(default)]
    pub inside_by_gate: Vec<crate::GateCount>,
    /// The venue's capacity (限流), when set.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// 24 slots, hour of the day.
    pub by_hour: Vec<StatCounts>,
    pub by_day: Vec<StatRow>,
    pub by_checkpoint: Vec<StatRow>,
    pub by_inspector: Vec<StatRow>,
}

/// A venue's statistics from the server (its administrator, an authority over its region):
/// the last `days` days up to now (1 = today).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueStatistics {
    pub venue_id: String,
    pub days: u32,
}

impl Command for VenueStatistics {
    const NAME: &'static str = "venue_statistics";
    type Response = Loaded<StatisticsView>;
}

/// Sets (`Some`, 1–1,000,000) or removes (`None`) a venue's capacity (限流); its administrator
/// only. The venue's stations hold entries at the cap from their next pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetCapacity {
    pub venue_id: String,
    pub capacity: Option<u32>,
}

impl Command for SetCapacity {
    const NAME: &'static str = "set_capacity";
    type Response = ();
}

/// This station's own statistics from its local store (offline): the last `days` days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationStatistics {
    pub days: u32,
}

impl Command for StationStatistics {
    const NAME: &'static str = "station_statistics";
    type Response = StatisticsView;
}

/// One alert as the view lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertItem {
    pub venue_id: String,
    pub venue_name: String,
    pub alert_id: String,
    /// `refusal`, `two_places` or `reentry`.
    pub kind: String,
    /// Local time, `MM-DD HH:MM:SS`.
    pub at: String,
    pub checkpoint: Option<String>,
    pub reasons: Vec<String>,
    pub subject: Option<String>,
    pub name_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub color: Option<String>,
    /// `MM-DD HH:MM`, by whom, and the note, once handled.
    pub handled: Option<String>,
    pub note: Option<String>,
}

/// The alerts view's filters; empty strings mean "any".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListAlerts {
    pub region: String,
    pub venue_id: String,
    pub reason: String,
    /// Only the last `hours` hours (0: any time).
    pub hours: u32,
    pub unhandled: bool,
}

impl Command for ListAlerts {
    const NAME: &'static str = "list_alerts";
    type Response = Loaded<Vec<AlertItem>>;
}

/// The navigation badge: unhandled alerts of the last 7 days (the UI asks every few seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CountAlerts {}

impl Command for CountAlerts {
    const NAME: &'static str = "count_alerts";
    type Response = i64;
}

/// Marks an alert handled with a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandleAlert {
    pub venue_id: String,
    pub alert_id: String,
    pub note: String,
}

impl Command for HandleAlert {
    const NAME: &'static str = "handle_alert";
    type Response = ();
}

/// Who to trace: exactly one of these is used (`code` when given, then `id_number`, then
/// `subject`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TracePerson {
    pub code: String,
    pub id_number: String,
    pub subject: String,
    /// The window: the last `days` days.
    pub days: u32,
    pub margin_minutes: u32,
    pub case_number: String,
    pub reason: String,
}

/// A place the person was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceVisitRow {
    pub venue_id: String,
    pub venue_name: String,
    pub checkpoints: Vec<String>,
    /// `MM-DD HH:MM`.
    pub start: String,
    pub end: String,
    /// `exit`, `auto_closed` or `exit_only`.
    pub ended: String,
    pub manual: bool,
}

/// Someone co-present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceContactRow {
    pub subject: String,
    pub name_masked: Option<String>,
    pub venue_id: String,
    pub venue_name: String,
    pub start: String,
    pub end: String,
    pub overlap_minutes: i64,
}

/// A tracing answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceResult {
    pub audit_id: i64,
    pub subjects: Vec<String>,
    pub visits: Vec<TraceVisitRow>,
    /// The people met, longest together first (the server lists at most 2,000).
    pub contacts: Vec<TraceContactRow>,
    /// How many were met in all.
    #[serde(default)]
    pub contacts_total: u64,
    /// Places with how many people were met there, most first.
    pub by_place: Vec<StatRow>,
}

impl Command for TracePerson {
    const NAME: &'static str = "trace_person";
    type Response = TraceResult;
}

/// One audited tracing query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditItem {
    pub id: i64,
    /// `MM-DD HH:MM:SS`.
    pub at: String,
    pub actor: String,
    pub subject: String,
    pub case_number: String,
    pub reason: String,
    /// The window, `MM-DD — MM-DD`.
    pub window: String,
    pub visits: i64,
    pub contacts: i64,
}

/// The audit of tracing queries, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TraceAuditLog {}

impl Command for TraceAuditLog {
    const NAME: &'static str = "trace_audit_log";
    type Response = Loaded<Vec<AuditItem>>;
}
