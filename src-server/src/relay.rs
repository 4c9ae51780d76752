//! The server's relay of a venue's passages to its stations (issue 18): every gate learns within
//! about a second who entered or left by the others, when the internet is up.
//!
//! | route | role |
//! |---|---|
//! | `GET /api/v1/sync/passages?after=MS&seen=TOKEN&wait=S` | an enrolled, active station: its venue's passages from other devices (stations and residents' phones), long-polled |
//!
//! How: a long poll. A station asks with the arrival time of the newest passage it holds
//! (`after`) and the token of the last answer (`seen`); when nothing reached the venue since that
//! answer, the server holds the request up to `wait` seconds (at most [`MAX_WAIT`]) and answers
//! as soon as an upload or a resident's check-in at that venue commits — each commit bumps the
//! venue's counter and wakes its waiters. The answer is the venue's passing check-ins of the
//! automatic-exit window received after `after` minus a small overlap (a commit that took its
//! arrival time before a later one's is not skipped; ids make the repeats harmless), signed like
//! every answer. Waiting requests hold no load-shedding slot; at most [`MAX_WAITERS`] wait at
//! once, the rest are answered at once.
//!
//! Invariants: a station only ever receives its own venue's passages, pseudonyms only (no names,
//! masks or codes); the token changes on every commit at the venue and with every server start,
//! so a stale token never holds a request while something is waiting.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use axum::extract::{OriginalUri, Query, State};
use axum::http::{HeaderMap, Method};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Duration, Utc};
use serde::Deserialize;
use tokio::sync::Notify;
use venuecode_core::sync::{RelayedPassages, RELAY_PAGE};

use crate::error::ApiError;
use crate::{blocking, AppState};

/// The path (load shedding leaves waiting requests out).
pub const PATH: &str = "/api/v1/sync/passages";
/// Longest a request is held.
pub const MAX_WAIT: StdDuration = StdDuration::from_secs(20);
/// Requests held at once; more are answered without waiting.
pub const MAX_WAITERS: usize = 50_000;
/// How far back of `after` each answer reaches (commits finishing out of arrival order).
const OVERLAP_MS: i64 = 5_000;
/// How old a passage may be and still keep someone inside (the longest automatic exit).
const WINDOW: Duration = Duration::hours(48);

/// Per-venue commit counters and their waiters.
pub struct Relay {
    /// Differs between server starts, so a token from before a restart never matches.
    instance: u64,
    venues: Mutex<HashMap<String, Arc<Signal>>>,
    waiters: Arc<tokio::sync::Semaphore>,
}

struct Signal {
    commits: AtomicU64,
    notify: Notify,
}

impl Default for Relay {
    fn default() -> Self {
        Relay::new()
    }
}

impl Relay {
    pub fn new() -> Relay {
        Relay {
            instance: uuid::Uuid::new_v4().as_u64_pair().0,
            venues: Mutex::new(HashMap::new()),
            waiters: Arc::new(tokio::sync::Semaphore::new(MAX_WAITERS)),
        }
    }

    fn signal(&self, venue: &str) -> Arc<Signal> {
        let mut map = self.venues.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(venue.to_string())
            .or_insert_with(|| {
                Arc::new(Signal {
                    commits: AtomicU64::new(0),
                    notify: Notify::new(),
                })
            })
            .clone()
    }

    /// Something was committed at `venue`: its waiting stations are answered.
    pub fn committed(&self, venue: &str) {
        let s = self.signal(venue);
        s.commits.fetch_add(1, Ordering::SeqCst);
        s.notify.notify_waiters();
    }

    fn token(&self, s: &Signal) -> String {
        format!("{:x}-{}", self.instance, s.commits.load(Ordering::SeqCst))
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route(PATH, get(passages))
}

#[derive(Debug, Deserialize)]
struct RelayQuery {
    /// Arrival time (Unix ms) of the newest passage the station holds from the relay.
    #[serde(default)]
    after: i64,
    /// The token of the last answer; absent on a station's first ask.
    #[serde(default)]
    seen: Option<String>,
    /// Seconds to hold the request while nothing is new (0: answer at once).
    #[serde(default)]
    wait: u64,
}

async fn passages(
    State(state): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    query: Result<Query<RelayQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<RelayedPassages>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest("bad_query", e.body_text()))?;
    let device = crate::auth::authenticate(&state, &method, &uri, &headers, &[]).await?;
    let signal = state.relay.signal(&device.venue_id);
    let wait = StdDuration::from_secs(q.wait).min(MAX_WAIT);
    if !wait.is_zero() && q.seen.as_deref() == Some(state.relay.token(&signal).as_str()) {
        if let Ok(_slot) = state.relay.waiters.clone().try_acquire_owned() {
            let woken = signal.notify.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            // A commit between reading the token and enabling the waiter is seen here.
            if q.seen.as_deref() == Some(state.relay.token(&signal).as_str()) {
                let _ = tokio::time::timeout(wait, woken).await;
            }
        }
    }
    let token = state.relay.token(&signal);
    let store = state.store.clone();
    blocking(move || {
        let from_at = Utc::now() - WINDOW;
        let mut rows = store.venue_passages(
            &device.venue_id,
            &device.device_id,
            from_at,
            q.after.saturating_sub(OVERLAP_MS),
            RELAY_PAGE + 1,
        )?;
        let more = rows.len() > RELAY_PAGE;
        rows.truncate(RELAY_PAGE);
        let newest = rows.iter().map(|(_, r)| *r).max().unwrap_or(q.after);
        Ok(Json(RelayedPassages {
            passages: rows.into_iter().map(|(p, _)| p).collect(),
            received_upto: newest.max(q.after),
            token,
            more,
        }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_commit_wakes_the_venues_waiters_and_changes_the_token() {
        let relay = Arc::new(Relay::new());
        let s = relay.signal("V1");
        let before = relay.token(&s);
        let woken = s.notify.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let r = relay.clone();
        tokio::spawn(async move {
            tokio::time::sleep(StdDuration::from_millis(20)).await;
            r.committed("V2");
            r.committed("V1");
        });
        tokio::time::timeout(StdDuration::from_secs(5), woken)
            .await
            .expect("woken by the commit");
        assert_ne!(relay.token(&s), before);
        // Another server start never shares a token.
        let other = Relay::new();
        assert_ne!(other.token(&other.signal("V1")), before);
    }
}
