//! Exports (CSV and Excel) of what people may already read: a venue's check-ins over a range and
//! the alerts view. Each route states its role and asks core's `Principal::may`; the same tables
//! are written by `venuecode-server export` from the command line.
//!
//! | route | role |
//! |---|---|
//! | `GET /api/v1/venues/{id}/check-ins/export` | the venue's administrator, or an authority over its region |
//! | `GET /api/v1/alerts/export` | health authority (venues in its regions only) |
//!
//! Invariants: identity leaves masked, as it is stored (no role sees more: the server holds
//! nothing more); at most [`MAX_ROWS`] rows per file — a wider range is refused with a message,
//! never cut silently; times are local (the offset asked, China by default) and real dates in
//! `.xlsx`.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;
use venuecode_core::accounts::Role;
use venuecode_export::{Cell, FileFormat, Table};

use crate::error::ApiError;
use crate::people;
use crate::report_routes::AlertsQuery;
use crate::store::{AlertRow, CheckInRow, Store};
use crate::{blocking, AppState};

/// The routes, merged into the app.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/venues/{id}/check-ins/export", get(check_ins))
        .route("/api/v1/alerts/export", get(alerts))
}

/// The most rows one export holds.
pub const MAX_ROWS: usize = 1_000_000;

fn bad(code: &'static str, message: &str) -> ApiError {
    ApiError::BadRequest(code, message.into())
}

fn local(t: DateTime<Utc>, offset: FixedOffset) -> Cell {
    Cell::Time(t.with_timezone(&offset).naive_local())
}

fn offset_of(minutes: Option<i32>) -> Result<FixedOffset, ApiError> {
    let m = minutes.unwrap_or(480);
    if m.abs() > 14 * 60 {
        return Err(bad("bad_offset", "the offset is -840 to 840 minutes"));
    }
    FixedOffset::east_opt(m * 60)
        .ok_or_else(|| bad("bad_offset", "the offset is -840 to 840 minutes"))
}

fn format_of(s: Option<&str>) -> Result<FileFormat, ApiError> {
    FileFormat::parse(s.unwrap_or("xlsx")).ok_or_else(|| bad("bad_format", "format is csv or xlsx"))
}

fn headers(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// A venue's check-ins as a table (doors by name).
pub fn check_ins_table(
    venue_name: &str,
    rows: &[CheckInRow],
    doors: &[(String, String)],
    offset: FixedOffset,
) -> Table {
    let door = |id: &str| {
        doors
            .iter()
            .find(|(d, _)| d == id)
            .map_or_else(|| id.to_string(), |(_, n)| n.clone())
    };
    Table {
        name: venue_name.to_string(),
        header: headers(&[
            "时间 Time",
            "出入口 Entrance",
            "方向 Direction",
            "结果 Verdict",
            "原因 Reasons",
            "体温 Temperature",
            "°C",
            "姓名 Name",
            "电话 Phone",
            "证件号 ID number",
            "健康码 Code colour",
            "登记方式 How",
            "代登记人 Proxy",
            "关系 Relation",
            "检测员 Inspector",
        ]),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    local(r.at, offset),
                    Cell::Text(door(&r.checkpoint_id)),
                    Cell::Text(r.direction.clone()),
                    Cell::Text(r.verdict.clone()),
                    Cell::Text(r.reasons.join(" ")),
                    Cell::Text(r.temperature.clone()),
                    r.celsius
                        .map_or(Cell::Empty, |c| Cell::Number((c * 10.0).round() / 10.0)),
                    Cell::opt(r.name_masked.as_deref()),
                    Cell::opt(r.phone_masked.as_deref()),
                    Cell::opt(r.id_masked.as_deref()),
                    Cell::opt(r.color.as_deref()),
                    Cell::Text(if r.manual { "manual" } else { "scan" }.into()),
                    Cell::opt(r.proxy_name.as_deref()),
                    Cell::opt(r.proxy_relation.as_deref()),
                    Cell::Text(r.inspector.clone()),
                ]
            })
            .collect(),
    }
}

/// Alerts as a table.
pub fn alerts_table(rows: &[AlertRow], offset: FixedOffset) -> Table {
    Table {
        name: "alerts".into(),
        header: headers(&[
            "时间 Time",
            "场所 Venue",
            "场所编号 Venue id",
            "区划 Region",
            "出入口 Entrance",
            "类型 Kind",
            "原因 Reasons",
            "姓名 Name",
            "电话 Phone",
            "健康码 Code colour",
            "编号 Pseudonym",
            "处理时间 Handled",
            "处理人 By",
            "处理说明 Note",
        ]),
        rows: rows
            .iter()
            .map(|a| {
                vec![
                    local(a.at, offset),
                    Cell::Text(a.venue_name.clone()),
                    Cell::Text(a.venue_id.clone()),
                    Cell::Text(a.region.clone()),
                    Cell::opt(a.checkpoint_name.as_deref().or(a.checkpoint_id.as_deref())),
                    Cell::Text(a.kind.clone()),
                    Cell::Text(a.reasons.join(" ")),
                    Cell::opt(a.name_masked.as_deref()),
                    Cell::opt(a.phone_masked.as_deref()),
                    Cell::opt(a.color.as_deref()),
                    Cell::opt(a.subject.as_deref()),
                    a.handled_at.map_or(Cell::Empty, |t| local(t, offset)),
                    Cell::opt(a.handled_by.as_deref()),
                    Cell::opt(a.note.as_deref()),
                ]
            })
            .collect(),
    }
}

/// A venue's check-ins over `[from, to]` as a file; refused when wider than [`MAX_ROWS`].
pub fn venue_export(
    store: &dyn Store,
    venue_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    offset: FixedOffset,
    format: FileFormat,
) -> Result<(String, Vec<u8>), ApiError> {
    let venue = store
        .venue_summary(venue_id)?
        .ok_or_else(|| ApiError::NotFound(format!("no venue {venue_id}")))?;
    let mut rows = store.venue_check_ins(venue_id, from, to, MAX_ROWS + 1)?;
    crate::store::name_inspectors(store, venue_id, rows.iter_mut().map(|r| &mut r.inspector))?;
    if rows.len() > MAX_ROWS {
        return Err(ApiError::Unprocessable(
            "too_many_rows",
            format!("more than {MAX_ROWS} check-ins: export a shorter range"),
        ));
    }
    let doors: Vec<(String, String)> = store
        .checkpoints(venue_id)?
        .into_iter()
        .map(|c| (c.checkpoint_id, c.name))
        .collect();
    let table = check_ins_table(&venue.name, &rows, &doors, offset);
    let bytes =
        venuecode_export::write(&table, format).map_err(|e| ApiError::Internal(e.to_string()))?;
    let name = format!(
        "check-ins-{}-{}-{}.{}",
        venue_id,
        from.with_timezone(&offset).format("%Y%m%d"),
        to.with_timezone(&offset).format("%Y%m%d"),
        format.extension()
    );
    Ok((name, bytes))
}

fn file(name: &str, format: FileFormat, bytes: Vec<u8>) -> Response {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    // Names are made of ids and digits only.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// What a check-in export asks.
#[derive(Debug, Deserialize)]
pub struct CheckInExport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub tz_offset_minutes: Option<i32>,
}

type QueryOf<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

async fn check_ins(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    q: QueryOf<CheckInExport>,
) -> Result<Response, ApiError> {
    let store = state.store();
    blocking(move || {
        let (_, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        let Query(q) = q.map_err(|e| ApiError::BadRequest("bad_query", e.body_text()))?;
        let venue = crate::report_routes::check_ins_of(store.as_ref(), &who, &id)?;
        let venue_id = venue.venue_id.as_str();
        let format = format_of(q.format.as_deref())?;
        let offset = offset_of(q.tz_offset_minutes)?;
        venuecode_core::statistics::check_range(q.from, q.to, 0)
            .map_err(|e| bad("bad_range", &e.to_string()))?;
        let (name, bytes) = venue_export(store.as_ref(), venue_id, q.from, q.to, offset, format)?;
        Ok(file(&name, format, bytes))
    })
    .await
}

/// The alerts export's extra parameters beside the view's filters.
#[derive(Debug, Deserialize)]
pub struct AlertExport {
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub tz_offset_minutes: Option<i32>,
}

async fn alerts(
    State(state): State<AppState>,
    headers: HeaderMap,
    filters: QueryOf<AlertsQuery>,
    extra: QueryOf<AlertExport>,
) -> Result<Response, ApiError> {
    let store = state.store();
    blocking(move || {
        let (_, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        if who.role != Role::Authority {
            return Err(ApiError::Forbidden(
                "alerts are the health authority's work".into(),
            ));
        }
        let Query(mut f) = filters.map_err(|e| ApiError::BadRequest("bad_query", e.body_text()))?;
        let Query(x) = extra.map_err(|e| ApiError::BadRequest("bad_query", e.body_text()))?;
        let format = format_of(x.format.as_deref())?;
        let offset = offset_of(x.tz_offset_minutes)?;
        // The whole selection, not a page.
        f.limit = None;
        (f.before_at, f.before_venue, f.before_id) = (None, None, None);
        let mut q = crate::report_routes::alert_query(f, who.scopes.clone())?;
        q.limit = MAX_ROWS + 1;
        let rows = store.alerts(&q)?;
        if rows.len() > MAX_ROWS {
            return Err(ApiError::Unprocessable(
                "too_many_rows",
                format!("more than {MAX_ROWS} alerts: narrow the filters"),
            ));
        }
        let bytes = venuecode_export::write(&alerts_table(&rows, offset), format)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let name = format!(
            "alerts-{}.{}",
            Utc::now().format("%Y%m%d%H%M"),
            format.extension()
        );
        Ok(file(&name, format, bytes))
    })
    .await
}
