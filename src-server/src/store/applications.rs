//! The store's side of venue applications and review: an application is a venue row in status
//! `pending`; review approves it (with a declaration code) or rejects it (with a reason); every
//! step is in `venue_events`.
//!
//! Invariants: applying adds the venue to the applicant's scopes in the same transaction (one
//! organisation may hold many venues); only a pending venue is decided, once; a second
//! application with the same credit code and address as a live one (pending or approved) is
//! refused, nothing stored; lists are filtered by the caller's scope in SQL, never after.

use chrono::{DateTime, Utc};
use venuecode_core::application::Application;

use super::StoreError;

/// A venue as its administrators and reviewers list it (and the API shows it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VenueSummary {
    pub venue_id: String,
    pub name: String,
    pub category: String,
    /// The place type's code (the deployment's list), if the venue has one.
    pub place_type: Option<String>,
    pub region: String,
    pub address: String,
    pub status: String,
    pub credit_code: Option<String>,
    pub responsible_name: Option<String>,
    pub responsible_phone: Option<String>,
    pub declaration_code: Option<String>,
    pub reject_reason: Option<String>,
    pub created_at: String,
    /// Map point in millionths of a degree, if given.
    pub lat_e6: Option<i32>,
    pub lon_e6: Option<i32>,
}

/// Which venues a list covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VenueFilter {
    /// These venues (a venue administrator's).
    Ids(Vec<String>),
    /// Venues whose region starts with one of these codes (a reviewer's, an authority's).
    Regions(Vec<String>),
}

/// One step in a venue's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VenueEvent {
    pub at: DateTime<Utc>,
    pub action: String,
    pub actor: String,
    pub detail: String,
}

/// A reviewer's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Approved, with the venue's new declaration code (场所申报码).
    Approve { declaration_code: String },
    /// Rejected, with the reason the applicant reads.
    Reject { reason: String },
}

/// The columns read for a [`VenueSummary`], in this order, by both engines.
/// A closed venue reads as status `closed`.
pub(crate) const SUMMARY_COLUMNS: &str = "venue_id, name, category, region, address, \
    CASE WHEN closed_ms IS NULL THEN status ELSE 'closed' END, \
    credit_code, responsible_name, responsible_phone, declaration_code, reject_reason, created_at, \
    lat_e6, lon_e6, place_type";

/// The application side of the store.
pub trait Applications {
    /// Stores a checked application as a pending venue held by `applicant`.
    fn apply(
        &self,
        venue_id: &str,
        a: &Application,
        applicant: &str,
        now: DateTime<Utc>,
    ) -> Result<VenueSummary, StoreError>;
    /// Venues in `filter`, optionally only in one status, newest first.
    fn venue_summaries(
        &self,
        filter: &VenueFilter,
        status: Option<&str>,
    ) -> Result<Vec<VenueSummary>, StoreError>;
    /// One venue.
    fn venue_summary(&self, venue_id: &str) -> Result<Option<VenueSummary>, StoreError>;
    /// Decides a pending application; [`StoreError::NotPending`] otherwise.
    fn decide(
        &self,
        venue_id: &str,
        decision: &Decision,
        reviewer: &str,
        now: DateTime<Utc>,
    ) -> Result<VenueSummary, StoreError>;
    /// A venue's history, oldest first.
    fn venue_history(&self, venue_id: &str) -> Result<Vec<VenueEvent>, StoreError>;
}
