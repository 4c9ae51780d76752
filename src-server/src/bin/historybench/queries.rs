//! What people do with the history, timed through the real router: tracing 1,000 random people
//! over 14 days with everyone co-present, 200 venue-days' statistics (the busiest venues
//! first), the alerts view's first page — and, to say what bounds each, the store calls behind a
//! trace and behind the busiest venue's statistics, timed one by one.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use anyhow::{Context, Result};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use http_body_util::BodyExt;
use tower::ServiceExt;
use venuecode_core::accounts::Role;
use venuecode_server::history::{self, Rng, Spec, VenueSeed};
use venuecode_server::people::{create_account, AccountSpec};
use venuecode_server::store::{Store, TraceAudit};

const PASSWORD: &str = "history-bench-2026";

/// p50 and p95 in milliseconds.
pub type Pair = (f64, f64);

/// The query figures: trace p50/p95, visits found per trace, venue-day p50/p95/busiest, alerts
/// p50/p95.
pub struct QueryFigures {
    pub trace: Pair,
    pub trace_found: f64,
    pub stats: (f64, f64, f64),
    pub alerts: Pair,
}

impl QueryFigures {
    pub fn none() -> QueryFigures {
        QueryFigures {
            trace: (f64::NAN, f64::NAN),
            trace_found: f64::NAN,
            stats: (f64::NAN, f64::NAN, f64::NAN),
            alerts: (f64::NAN, f64::NAN),
        }
    }
}

async fn call(
    router: &axum::Router,
    req: Request<Body>,
) -> Result<(StatusCode, Vec<u8>, StdDuration)> {
    let t = Instant::now();
    let res = router.clone().oneshot(req).await?;
    let status = res.status();
    let body = res.into_body().collect().await?.to_bytes().to_vec();
    Ok((status, body, t.elapsed()))
}

fn percentile(v: &mut [StdDuration], p: f64) -> f64 {
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Signs in as a health authority of 茂名 (created on the first run over a database).
async fn sign_in(router: &axum::Router, store: &Arc<dyn Store>) -> Result<String> {
    let s2 = store.clone();
    // Already there when a kept database is measured again: then signing in suffices.
    let _ = tokio::task::spawn_blocking(move || {
        create_account(
            s2.as_ref(),
            &AccountSpec {
                username: "bench.cdc",
                display_name: "bench",
                role: Role::Authority,
                scopes: vec!["4409".into()],
                password: PASSWORD,
                created_by: "historybench",
            },
            Utc::now(),
        )
    })
    .await?;
    let (_, body, _) = call(
        router,
        Request::post("/api/v1/auth/login")
            .header("content-type", "application/json")
            .body(Body::from(
                serde_json::json!({"username": "bench.cdc", "password": PASSWORD}).to_string(),
            ))?,
    )
    .await?;
    Ok(serde_json::from_slice::<serde_json::Value>(&body)?["token"]
        .as_str()
        .context("token")?
        .to_string())
}

/// Tracing, a venue-day's statistics and the alerts page, through the router.
pub async fn measure_queries(
    engine: &'static str,
    router: &axum::Router,
    store: &Arc<dyn Store>,
    spec: &Spec,
    venues: &[VenueSeed],
) -> Result<QueryFigures> {
    let token = sign_in(router, store).await?;
    let end = spec.start + Duration::days(i64::from(spec.days));
    let mut r = Rng::new(99);
    let people = spec.people();

    // Tracing: 1,000 random people over the last 14 days.
    let mut times = Vec::new();
    let mut found = 0usize;
    let mut contacts = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let subject = history::subject_of(spec.seed, r.below(people));
        let body = serde_json::json!({
            "subject": subject, "from": end - Duration::days(14), "to": end,
            "case_number": "BENCH-1", "reason": "scale benchmark"
        });
        let (status, out, t) = call(
            router,
            Request::post("/api/v1/trace")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::from(body.to_string()))?,
        )
        .await?;
        anyhow::ensure!(status == StatusCode::OK, "trace: {status}");
        let v: serde_json::Value = serde_json::from_slice(&out)?;
        found += v["visits"].as_array().map_or(0, Vec::len);
        contacts.push((
            v["contacts_total"].as_u64().unwrap_or(0) as usize,
            out.len(),
        ));
        times.push(t);
    }
    contacts.sort_unstable();
    let mut bytes: Vec<usize> = contacts.iter().map(|c| c.1).collect();
    bytes.sort_unstable();
    eprintln!(
        "  trace answers: people met p50 {} p95 {} max {}; answer bytes p95 {}",
        contacts[500].0, contacts[950].0, contacts[999].0, bytes[950]
    );
    let trace = (percentile(&mut times, 0.5), percentile(&mut times, 0.95));
    let trace_found = found as f64 / 1000.0;
    eprintln!(
        "{}",
        trace_breakdown(engine, store.clone(), spec.seed, people, end, venues).await?
    );

    // A venue-day's statistics: the busiest venues and random ones.
    let day = end - Duration::days(3);
    // One venue's statistics for that day, as the administrator's screen asks for them.
    let statistics = |v: usize| -> Result<Request<Body>> {
        let url = format!(
            "/api/v1/venues/{}/statistics?from={}&to={}",
            venues[v].venue_id,
            day.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            (day + Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        Ok(Request::get(url)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())?)
    };
    let mut times = Vec::new();
    let mut busiest = 0.0;
    for i in 0..200 {
        let v = if i < 10 {
            i
        } else {
            r.below(venues.len() as u64) as usize
        };
        let (status, _, t) = call(router, statistics(v)?).await?;
        anyhow::ensure!(status == StatusCode::OK, "statistics: {status}");
        if i == 0 {
            busiest = t.as_secs_f64() * 1000.0;
        }
        times.push(t);
    }
    let stats = (
        percentile(&mut times, 0.5),
        percentile(&mut times, 0.95),
        busiest,
    );
    // The busiest venue's statistics asked again (a refresh): its pages are now in memory.
    let mut again = f64::MAX;
    for _ in 0..3 {
        let (_, _, t) = call(router, statistics(0)?).await?;
        again = again.min(t.as_secs_f64() * 1000.0);
    }
    eprintln!("  {engine}: busiest venue-day first {busiest:.1} ms, asked again {again:.1} ms");
    eprintln!(
        "{}",
        statistics_breakdown(engine, store.clone(), &venues[0].venue_id, day).await?
    );

    // The alerts view's first page.
    let mut times = Vec::new();
    for _ in 0..100 {
        let (status, _, t) = call(
            router,
            Request::get("/api/v1/alerts")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())?,
        )
        .await?;
        anyhow::ensure!(status == StatusCode::OK, "alerts: {status}");
        times.push(t);
    }
    let alerts = (percentile(&mut times, 0.5), percentile(&mut times, 0.95));
    Ok(QueryFigures {
        trace,
        trace_found,
        stats,
        alerts,
    })
}

/// What bounds a trace: its store calls, timed one by one for 100 people.
async fn trace_breakdown(
    engine: &'static str,
    store: Arc<dyn Store>,
    seed: u64,
    people: u64,
    end: DateTime<Utc>,
    venues: &[VenueSeed],
) -> Result<String> {
    let from = end - Duration::days(14);
    let venue0 = venues[0].venue_id.clone();
    tokio::task::spawn_blocking(move || -> Result<String> {
        let mut r = Rng::new(7);
        let (mut own, mut at, mut summary, mut audit) = (0.0, 0.0, 0.0, 0.0);
        for _ in 0..100 {
            let subject = history::subject_of(seed, r.below(people));
            let t = Instant::now();
            let rows = store.passages_of(&subject, from, end)?;
            own += ms(t);
            let venue = rows.first().map_or(venue0.clone(), |p| p.venue_id.clone());
            let t = Instant::now();
            store.marks_at(&venue, from, from + Duration::hours(6))?;
            at += ms(t);
            let t = Instant::now();
            store.venue_summary(&venue)?;
            summary += ms(t);
            let t = Instant::now();
            store.record_trace(
                &TraceAudit {
                    actor: "bench",
                    subject: &subject,
                    case_number: "B",
                    reason: "breakdown",
                    from,
                    to: end,
                    visits: 0,
                    contacts: 0,
                },
                Utc::now(),
            )?;
            audit += ms(t);
        }
        // The heaviest read a trace makes: a day of the busiest venue's marks.
        let (mut busiest, mut rows) = (f64::MAX, 0);
        for _ in 0..5 {
            let t = Instant::now();
            rows = store
                .marks_at(&venue0, end - Duration::days(2), end - Duration::days(1))?
                .len();
            busiest = busiest.min(ms(t));
        }
        Ok(format!(
            "  {engine}: per trace, mean ms — person's check-ins {:.1}, one venue's 6 h marks \
             {:.1}, venue entry {:.1}, audit write {:.1}; a day of the busiest venue's marks \
             {busiest:.1} ms for {rows} rows (best of 5)",
            own / 100.0,
            at / 100.0,
            summary / 100.0,
            audit / 100.0
        ))
    })
    .await?
}

/// What bounds the busiest venue's statistics: its store calls, each the best of 5.
async fn statistics_breakdown(
    engine: &'static str,
    store: Arc<dyn Store>,
    venue: &str,
    day: DateTime<Utc>,
) -> Result<String> {
    let venue = venue.to_string();
    tokio::task::spawn_blocking(move || -> Result<String> {
        let best = |f: &dyn Fn() -> Result<usize>| -> Result<(f64, usize)> {
            let mut out = (f64::MAX, 0);
            for _ in 0..5 {
                let t = Instant::now();
                let n = f()?;
                out = (out.0.min(ms(t)), n);
            }
            Ok(out)
        };
        let counts = best(&|| {
            let (groups, _) = store.venue_counts(&venue, day, day + Duration::days(1))?;
            Ok(groups.len())
        })?;
        let now = Utc::now();
        let window = best(&|| {
            Ok(store
                .passages_at(&venue, now - Duration::hours(4), now)?
                .len())
        })?;
        let inside = best(&|| {
            Ok(store
                .inside_at(&venue, now - Duration::hours(4), now)?
                .len())
        })?;
        Ok(format!(
            "  {engine}: busiest venue-day, best of 5, ms — counts {:.1} ({} groups), last 4 h \
             passages {:.1} ({} rows), inside_at {:.1} ({} people)",
            counts.0, counts.1, window.0, window.1, inside.0, inside.1
        ))
    })
    .await?
}
