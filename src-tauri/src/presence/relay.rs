//! The station's side of the server's relay: a long poll for the venue's passages from its other
//! gates (`GET /api/v1/sync/passages`), answered as soon as one of them uploads, so the gates
//! agree within about a second online.
//!
//! Invariants: the arrival cursor only moves forward and is kept per venue; a first ask after a
//! start, a failure or a full page is never held (it catches up at once); answers are verified
//! like every server answer before anything in them is taken in; malformed passages are dropped.

use std::time::Duration as StdDuration;

use super::Ctx;
use crate::store::{PassageSource, Store};
use crate::sync::{Client, SyncError};

/// Seconds the server is asked to hold a request while nothing is new.
const WAIT_SECS: u64 = 20;
/// Least pause between two asks (a busy venue's commits are taken in groups).
const GAP: StdDuration = StdDuration::from_millis(150);

pub(super) fn run(ctx: &Ctx) {
    let mut store = loop {
        match Store::open(&ctx.data_dir) {
            Ok(s) => break s,
            Err(e) => {
                eprintln!("venuecode: relay: storage: {e}");
                if ctx.sleep(StdDuration::from_secs(5)) {
                    return;
                }
            }
        }
    };
    let mut client: Option<(String, Client)> = None;
    let mut seen: Option<String> = None;
    let mut failures: u32 = 0;
    while !ctx.stopped() {
        let pause = match ask(ctx, &mut store, &mut client, &mut seen) {
            Ok(more) => {
                failures = 0;
                ctx.update(|s| {
                    s.relay_online = true;
                    s.relay_last = Some(ctx.time.now());
                });
                if more {
                    StdDuration::ZERO
                } else {
                    GAP
                }
            }
            Err(e) => {
                seen = None;
                ctx.update(|s| s.relay_online = false);
                match e {
                    // Not enrolled (yet), no server: look again now and then.
                    SyncError::NotEnrolled | SyncError::NoServer => StdDuration::from_secs(2),
                    // An older server without the relay.
                    SyncError::Server { status: 404, .. } => StdDuration::from_secs(300),
                    _ => {
                        failures = failures.saturating_add(1);
                        client = None;
                        StdDuration::from_millis(500 * u64::from(failures.min(20)))
                    }
                }
            }
        };
        if ctx.sleep(pause) {
            return;
        }
    }
}

/// One ask; true when more is waiting at the server.
fn ask(
    ctx: &Ctx,
    store: &mut Store,
    client: &mut Option<(String, Client)>,
    seen: &mut Option<String>,
) -> Result<bool, SyncError> {
    let device = {
        let Some(_g) = ctx.db() else {
            return Ok(false);
        };
        store.device()?
    };
    let Some(device) = device.filter(|d| d.venue_id.is_some()) else {
        return Err(SyncError::NotEnrolled);
    };
    let url = match (&ctx.server_url, device.server_url.is_empty()) {
        (Some(u), _) => u.clone(),
        (None, false) => device.server_url.clone(),
        (None, true) => return Err(SyncError::NoServer),
    };
    let venue = device.venue_id.clone().unwrap_or_default();
    let id = format!("{url} {}", device.device_id);
    if client.as_ref().is_none_or(|(k, _)| *k != id) {
        let Some(_g) = ctx.db() else {
            return Ok(false);
        };
        *client = Some((
            id,
            Client::for_device(
                store,
                &ctx.data_dir,
                &url,
                &device.secret_key,
                ctx.time.clone(),
                StdDuration::from_secs(WAIT_SECS + 15),
                ctx.allow_http,
            )?,
        ));
    }
    let Some((_, c)) = client.as_ref() else {
        return Err(SyncError::NoServer);
    };
    let cursor = format!("relay_after:{venue}");
    let after: i64 = {
        let Some(_g) = ctx.db() else {
            return Ok(false);
        };
        store
            .sync_value(&cursor)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let wait = if seen.is_some() { WAIT_SECS } else { 0 };
    let res = c.passages(after, seen.as_deref(), wait)?;
    let now = ctx.time.now();
    let passages: Vec<_> = res
        .passages
        .into_iter()
        .filter(|p| p.is_well_formed(now))
        .collect();
    let Some(_g) = ctx.db() else {
        return Ok(false);
    };
    store.merge_passages(&venue, &passages, PassageSource::Relay)?;
    if res.received_upto > after {
        store.put_sync_values(&[(cursor.as_str(), res.received_upto.to_string())])?;
    }
    *seen = (!res.more).then_some(res.token);
    Ok(res.more)
}
