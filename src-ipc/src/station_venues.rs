//! One inspector, several venues: the venues a station is enrolled at, which one is active, and
//! switching between them (each venue keeps its own device key, door and direction).

use serde::{Deserialize, Serialize};

use crate::{Command, StationBinding};

/// A venue this station is enrolled at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationVenue {
    pub venue_id: String,
    pub venue_name: String,
    /// The door's name from the venue's registry (its id when the registry has not named it).
    pub checkpoint_name: String,
    pub inspector: String,
    /// The station records check-ins here now.
    pub active: bool,
    /// Records of this venue waiting for the server.
    pub waiting: i64,
    /// The server's last refusal of this venue's key (`device_revoked`, `device_pending` …);
    /// for the active venue the sync status says it.
    pub problem: Option<String>,
}

/// Lists the venues this station is enrolled at, the active one first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StationVenues {}

impl Command for StationVenues {
    const NAME: &'static str = "station_venues";
    type Response = Vec<StationVenue>;
}

/// Makes another venue this station is enrolled at the active one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchVenue {
    pub venue_id: String,
}

impl Command for SwitchVenue {
    const NAME: &'static str = "switch_venue";
    type Response = StationBinding;
}

/// Forgets a venue that is not active: its key and its unsent records go (its check-ins stay in
/// the local history). Returns how many unsent records were dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgetVenue {
    pub venue_id: String,
}

impl Command for ForgetVenue {
    const NAME: &'static str = "forget_venue";
    type Response = u64;
}
