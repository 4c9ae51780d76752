//! The store's side of what a venue administrator edits after approval: checkpoints (一门一码,
//! 一门一人), device approval, amending or withdrawing an application, closing a venue, and
//! handing the administrator role to another person.
//!
//! Invariants: every change is one transaction with its `venue_events` line (who, when, what);
//! a checkpoint name is unique within its venue; a checkpoint change bumps the venue's
//! `updated_ms`, so stations see it on their next pull; renaming a venue or changing its credit
//! code sends it back to review (status `pending`); a closed venue keeps its check-ins (tracing)
//! but enrols and syncs nothing (devices revoked, declaration code cleared).

use chrono::{DateTime, Utc};
use venuecode_core::application::Application;
use venuecode_core::checkpoint::CheckpointSpec;

use super::{StoreError, VenueSummary};

/// A checkpoint as its administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Checkpoint {
    pub checkpoint_id: String,
    pub name: String,
    pub responsible_name: String,
    pub responsible_phone: String,
    pub disabled: bool,
}

/// The columns read for a [`Checkpoint`], in this order, by both engines.
pub(crate) const CHECKPOINT_COLUMNS: &str =
    "checkpoint_id, name, responsible_name, responsible_phone, disabled";

/// What an amendment came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amended {
    pub venue: VenueSummary,
    /// The name or credit code changed: the venue is back in review.
    pub back_to_review: bool,
}

/// The administrator's side of the store.
pub trait Places {
    /// A venue's checkpoints, by id.
    fn checkpoints(&self, venue_id: &str) -> Result<Vec<Checkpoint>, StoreError>;
    /// Adds a checkpoint; [`StoreError::CheckpointNameTaken`] when the venue has one so named.
    fn add_checkpoint(
        &self,
        venue_id: &str,
        checkpoint_id: &str,
        spec: &CheckpointSpec,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Checkpoint, StoreError>;
    /// Changes a checkpoint (name, responsible person, disabled); `None` when there is none.
    fn update_checkpoint(
        &self,
        venue_id: &str,
        checkpoint_id: &str,
        spec: &CheckpointSpec,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Checkpoint>, StoreError>;
    /// Approves a pending device of the venue; false when there is no such device there.
    fn approve_device(
        &self,
        venue_id: &str,
        device_id: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Changes an application or venue; a new name or credit code sends it back to review.
    fn amend(
        &self,
        venue_id: &str,
        a: &Application,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Amended, StoreError>;
    /// Deletes a pending application that was never approved (its applicant's scopes lose it);
    /// [`StoreError::NotPending`] otherwise.
    fn withdraw(&self, venue_id: &str, actor: &str, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Closes a venue: devices revoked, declaration code cleared, check-ins kept.
    fn close_venue(
        &self,
        venue_id: &str,
        actor: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Moves the venue from one administrator's scopes to another venue administrator's
    /// ([`StoreError::NotAVenueAdmin`] when the target is not an active one).
    fn hand_over(
        &self,
        venue_id: &str,
        from_account: &str,
        to_username: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}
