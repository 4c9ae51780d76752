//! Tauri commands for statistics, alerts, tracing and its audit: one thin function per IPC
//! command in `venuecode_ipc::reports` — the use cases are `people::reports` (server) and the
//! station's store (its own statistics, offline).

use chrono::Utc;
use tauri::State;
use venuecode_core::statistics;
use venuecode_ipc::{
    AlertItem, AuditItem, CountAlerts, HandleAlert, IpcError, ListAlerts, Loaded, SetCapacity,
    StationStatistics, StatisticsView, TraceAuditLog, TracePerson, TraceResult, VenueStatistics,
};

use crate::error::AppError;
use crate::people::reports;
use crate::people_commands::signed_in;
use crate::station::zone;
use crate::AppState;

/// Sets or removes a venue's capacity (its administrator, through the server).
#[tauri::command]
pub async fn set_capacity(state: State<'_, AppState>, req: SetCapacity) -> Result<(), IpcError> {
    signed_in(&state, move |_, client, _, _| {
        reports::set_capacity(client, &req.venue_id, req.capacity)
    })
    .await
}

#[tauri::command]
pub async fn venue_statistics(
    state: State<'_, AppState>,
    req: VenueStatistics,
) -> Result<Loaded<StatisticsView>, IpcError> {
    signed_in(&state, move |store, client, _, _| {
        reports::venue_statistics(store, client, &req.venue_id, req.days, Utc::now())
    })
    .await
}

/// The station's statistics: its active venue's check-ins in its own store, folded by core.
#[tauri::command]
pub async fn station_statistics(
    state: State<'_, AppState>,
    req: StationStatistics,
) -> Result<StatisticsView, IpcError> {
    let now = state.sync.trusted_now();
    let store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    let b = store.binding()?.ok_or(AppError::NotBound)?;
    let (from, to) = reports::range_of(req.days, now);
    let day = |t: chrono::DateTime<Utc>| t.with_timezone(&zone()).format("%Y-%m-%d").to_string();
    let (groups, people) = store.stat_groups(&b.venue_id, &day(from), &day(to))?;
    // Inside now as the 检测 screen counts it (the station's own automatic-exit setting).
    let counters = crate::station::counters(&store, now)?;
    let inside = counters.inside;
    let s = statistics::fold(&groups, from, to, zone());
    let doors: Vec<(String, String)> = crate::station::checkpoints(&store)?
        .into_iter()
        .map(|c| (c.checkpoint_id, c.name))
        .collect();
    let mut view = reports::view_of(
        &reports::About {
            venue_id: &b.venue_id,
            venue_name: &b.venue_name,
            from,
            to,
            people,
            present_now: inside,
        },
        &s,
        &doors,
    );
    view.inside_by_gate = counters.by_gate;
    view.capacity = counters.capacity;
    Ok(view)
}

#[tauri::command]
pub async fn list_alerts(
    state: State<'_, AppState>,
    req: ListAlerts,
) -> Result<Loaded<Vec<AlertItem>>, IpcError> {
    signed_in(&state, move |store, client, _, _| {
        reports::alerts(store, client, &req, Utc::now())
    })
    .await
}

#[tauri::command]
pub async fn count_alerts(state: State<'_, AppState>, req: CountAlerts) -> Result<i64, IpcError> {
    let _ = req;
    signed_in(&state, |_, client, _, _| reports::alert_count(client)).await
}

#[tauri::command]
pub async fn handle_alert(state: State<'_, AppState>, req: HandleAlert) -> Result<(), IpcError> {
    signed_in(&state, move |_, client, _, _| {
        reports::handle_alert(client, &req.venue_id, &req.alert_id, &req.note)
    })
    .await
}

#[tauri::command]
pub async fn trace_person(
    state: State<'_, AppState>,
    req: TracePerson,
) -> Result<TraceResult, IpcError> {
    signed_in(&state, move |_, client, _, _| {
        reports::trace(client, &req, Utc::now())
    })
    .await
}

#[tauri::command]
pub async fn trace_audit_log(
    state: State<'_, AppState>,
    req: TraceAuditLog,
) -> Result<Loaded<Vec<AuditItem>>, IpcError> {
    let _ = req;
    signed_in(&state, |store, client, _, _| {
        reports::audit(store, client, Utc::now())
    })
    .await
}
