//! One inspector, several venues: the use cases behind the station's venue list — which venues
//! the station is enrolled at (the active one first), switching the active venue, forgetting one.
//!
//! Invariants: the list reads only what enrolment and sync kept (no typed venue); switching and
//! forgetting are single store transactions (see `store/venues.rs`); the active venue cannot be
//! forgotten, only switched away from.

use std::collections::HashMap;

use venuecode_core::sync::VenueInfo;
use venuecode_ipc::StationVenue;

use crate::error::AppError;
use crate::store::Store;

/// The door's name in a venue's registry entry (its id when the entry does not name it).
fn door_name(venue_json: Option<&str>, checkpoint_id: &str) -> String {
    venue_json
        .and_then(|v| serde_json::from_str::<VenueInfo>(v).ok())
        .and_then(|v| {
            v.checkpoints
                .into_iter()
                .find(|c| c.checkpoint_id == checkpoint_id)
                .map(|c| c.name)
        })
        .unwrap_or_else(|| checkpoint_id.to_string())
}

/// The venues this station is enrolled at, the active one first (empty before enrolment).
pub fn list(store: &Store) -> Result<Vec<StationVenue>, AppError> {
    let waiting: HashMap<String, i64> = store.waiting_by_venue()?.into_iter().collect();
    let mut out = Vec::new();
    let enrolled = store.device()?.is_some_and(|d| d.venue_id.is_some());
    if let (true, Some(b)) = (enrolled, store.binding()?) {
        out.push(StationVenue {
            checkpoint_name: door_name(store.sync_value("venue")?.as_deref(), &b.checkpoint_id),
            waiting: waiting.get(&b.venue_id).copied().unwrap_or(0),
            venue_id: b.venue_id,
            venue_name: b.venue_name,
            inspector: b.inspector,
            active: true,
            problem: None,
        });
    }
    for p in store.parked_venues()? {
        out.push(StationVenue {
            checkpoint_name: door_name(p.venue_json.as_deref(), &p.binding.checkpoint_id),
            waiting: waiting.get(&p.binding.venue_id).copied().unwrap_or(0),
            venue_id: p.binding.venue_id,
            venue_name: p.binding.venue_name,
            inspector: p.binding.inspector,
            active: false,
            problem: p.problem,
        });
    }
    Ok(out)
}

/// Makes another venue the station is enrolled at the active one.
pub fn switch(
    store: &mut Store,
    venue_id: &str,
) -> Result<venuecode_ipc::StationBinding, AppError> {
    Ok(crate::station::to_wire(&store.switch_venue(venue_id)?))
}

/// Forgets a venue that is not active; returns how many unsent records were dropped.
pub fn forget(store: &mut Store, venue_id: &str) -> Result<u64, AppError> {
    if store.binding()?.is_some_and(|b| b.venue_id == venue_id) {
        return Err(AppError::Invalid(
            "the active venue cannot be forgotten: switch to another venue first".into(),
        ));
    }
    Ok(store.forget_venue(venue_id)? as u64)
}
