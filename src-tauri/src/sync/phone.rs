//! Residents' own check-ins (扫场所码) at the station's venue, pulled from the server every sync
//! round into the station's list, counters and presence.
//!
//! Invariant: the cursor only moves forward, and each ask starts a little before it (ids make the
//! overlap harmless), so a check-in committed late at the server is not skipped.

use super::{Client, SyncError};
use crate::store::Store;

/// How far before the newest resident's check-in held the station asks again: one committed
/// late at the server (a slower request) is not skipped; ids make the overlap harmless.
const PHONE_OVERLAP_MS: i64 = 60_000;

/// Pulls the active venue's residents' own check-ins (扫场所码) into the list and counters, every
/// round (so within `idle` of reaching the server), page by page.
pub(super) fn phone_check_ins(store: &mut Store, c: &Client, venue: &str) -> Result<(), SyncError> {
    if venue.is_empty() {
        return Ok(());
    }
    let key = format!("phone_since:{venue}");
    let mut since: i64 = store
        .sync_value(&key)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // The first page from a little before; the next ones from the newest held (a page ends
    // on a full millisecond's worth at worst: the next asks from that millisecond again).
    let mut from = (since - PHONE_OVERLAP_MS).max(0);
    for _ in 0..20 {
        let page = match c.phone_check_ins(from) {
            Ok(p) => p,
            // A server without residents' check-ins (an older build): nothing to show.
            Err(SyncError::Server { status: 404, .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        store.record_phone_check_ins(venue, &page.entries, crate::station::zone())?;
        let newest = page.entries.iter().map(|e| e.at.timestamp_millis()).max();
        if let Some(t) = newest.filter(|t| *t > since) {
            since = t;
            store.put_sync_values(&[(key.as_str(), since.to_string())])?;
        }
        match newest {
            Some(t) if page.more && t > from => from = t,
            _ => break,
        }
    }
    Ok(())
}
