//! Wire types for people's work areas (登录, 场所, 审核): signing in, the venue application form,
//! drafts, the reviewer's queue, a venue's checkpoints and members. What the server answers is
//! converted into these by the app; what was loaded before stays readable offline, with its age.

use serde::{Deserialize, Serialize};

use crate::Command;

/// A person's role, as the server names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonRole {
    VenueAdmin,
    Reviewer,
    Authority,
    Sysadmin,
}

/// The signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub role: PersonRole,
    pub scopes: Vec<String>,
}

/// Signs a person in (needs the network); the session is kept until it expires or they sign out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

impl Command for SignIn {
    const NAME: &'static str = "sign_in";
    type Response = Me;
}

/// Ends the session here and on the server (if reachable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SignOut {}

impl Command for SignOut {
    const NAME: &'static str = "sign_out";
    type Response = ();
}

/// The person signed in on this app, if any (answered offline from the kept session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WhoAmI {}

impl Command for WhoAmI {
    const NAME: &'static str = "who_am_i";
    type Response = Option<Me>;
}

/// Something read from the server: fresh, or kept from an earlier read when the server cannot
/// be reached (`offline`), with its age.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loaded<T> {
    pub data: T,
    pub age_secs: i64,
    pub offline: bool,
}

/// A venue (or application) as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueRow {
    pub venue_id: String,
    pub name: String,
    pub category: String,
    /// The place type's code, if the venue has one (venues made before place types have none).
    #[serde(default)]
    pub place_type: Option<String>,
    pub region: String,
    /// The region's full name, province first (the code when the table does not know it);
    /// filled in by the app.
    #[serde(default)]
    pub region_name: String,
    pub address: String,
    /// pending, approved, rejected or closed.
    pub status: String,
    pub credit_code: Option<String>,
    pub responsible_name: Option<String>,
    pub responsible_phone: Option<String>,
    pub declaration_code: Option<String>,
    pub reject_reason: Option<String>,
    pub created_at: String,
    /// Map point in millionths of a degree, if given.
    #[serde(default)]
    pub lat_e6: Option<i32>,
    #[serde(default)]
    pub lon_e6: Option<i32>,
}

/// The venues the person may read (an administrator's own; a reviewer's regions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListVenues {}

impl Command for ListVenues {
    const NAME: &'static str = "list_venues";
    type Response = Loaded<Vec<VenueRow>>;
}

/// The application form as typed (the map point as text: both or neither).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApplicationForm {
    pub name: String,
    pub credit_code: String,
    pub category: String,
    /// The place type's code (the deployment's list, under `category`).
    #[serde(default)]
    pub place_type: String,
    pub region: String,
    pub address: String,
    pub latitude: String,
    pub longitude: String,
    pub responsible_name: String,
    pub responsible_phone: String,
}

/// A place type of the deployment's list (场所类型), under one of the seven categories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceTypeChoice {
    pub code: String,
    /// The category code it sits under (01–06, 99).
    pub category: String,
    pub name_zh: String,
    pub name_en: String,
}

/// The deployment's place types (from the server, kept for offline use; the default list when
/// neither is at hand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListPlaceTypes {}

impl Command for ListPlaceTypes {
    const NAME: &'static str = "list_place_types";
    type Response = Loaded<Vec<PlaceTypeChoice>>;
}

/// One problem with one field (`field` and `code` are the server's stable names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormProblem {
    pub field: String,
    pub code: String,
}

/// Checks the form with the same rule the server applies (inline validation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckApplication {
    pub form: ApplicationForm,
}

impl Command for CheckApplication {
    const NAME: &'static str = "check_application";
    type Response = Vec<FormProblem>;
}

/// What submitting came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ApplyOutcome {
    /// The server has it (pending review).
    Submitted { venue: Box<VenueRow> },
    /// The server could not be reached: kept as a draft, sent when it returns.
    Kept { draft_id: String },
    /// Wrong fields; nothing stored.
    Invalid { problems: Vec<FormProblem> },
}

/// Submits the form (a draft's id when it came from one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitApplication {
    pub form: ApplicationForm,
    pub draft_id: Option<String>,
}

impl Command for SubmitApplication {
    const NAME: &'static str = "submit_application";
    type Response = ApplyOutcome;
}

/// A kept draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftRow {
    pub draft_id: String,
    pub form: ApplicationForm,
    pub saved_at: String,
    /// Why the last attempt to send it failed, if it did.
    pub last_error: Option<String>,
}

/// The drafts waiting to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListDrafts {}

impl Command for ListDrafts {
    const NAME: &'static str = "list_drafts";
    type Response = Vec<DraftRow>;
}

/// One choice in the region picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionOption {
    pub code: String,
    pub name: String,
    /// A community (applications go under one).
    pub leaf: bool,
}

/// The regions under `parent` (provinces when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRegions {
    pub parent: Option<String>,
}

impl Command for ListRegions {
    const NAME: &'static str = "list_regions";
    type Response = Vec<RegionOption>;
}

/// A pending application in the reviewer's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRow {
    pub venue: VenueRow,
    /// Other live venues with the same credit code or address.
    pub duplicates: Vec<String>,
}

/// The reviewer's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReviewQueue {}

impl Command for ReviewQueue {
    const NAME: &'static str = "review_queue";
    type Response = Loaded<Vec<QueueRow>>;
}

/// Approves or rejects (with the reason the applicant reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecideApplication {
    pub venue_id: String,
    pub approve: bool,
    pub reason: Option<String>,
}

impl Command for DecideApplication {
    const NAME: &'static str = "decide_application";
    type Response = VenueRow;
}

/// A checkpoint (检测点).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRow {
    pub checkpoint_id: String,
    pub name: String,
    pub responsible_name: String,
    pub responsible_phone: String,
    pub disabled: bool,
    /// The door's entry and exit codes (一门一码: URLs signed by the venue authority), once the
    /// venue is approved and where the server issues them.
    #[serde(default)]
    pub entry_code: Option<String>,
    #[serde(default)]
    pub exit_code: Option<String>,
}

/// An inspector's device at the venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberDevice {
    pub device_id: String,
    pub checkpoint_id: String,
    pub inspector: String,
    pub enrolled_at: String,
    pub last_seen: Option<String>,
    pub active: bool,
    pub pending: bool,
}

/// One step in a venue's history: who did what, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub at: String,
    /// applied, approved, rejected, checkpoint_added, … (the server's stable names).
    pub action: String,
    pub actor: String,
    pub detail: String,
}

/// A venue with its checkpoints, history and (for its administrator) its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueView {
    pub venue: VenueRow,
    pub checkpoints: Vec<CheckpointRow>,
    pub devices: Vec<MemberDevice>,
    pub history: Vec<HistoryRow>,
}

/// Opens one venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetVenue {
    pub venue_id: String,
}

impl Command for GetVenue {
    const NAME: &'static str = "get_venue";
    type Response = Loaded<VenueView>;
}

/// Adds (no id) or changes a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveCheckpoint {
    pub venue_id: String,
    pub checkpoint_id: Option<String>,
    pub name: String,
    pub responsible_name: String,
    pub responsible_phone: String,
    pub disabled: bool,
}

/// What saving a checkpoint came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CheckpointOutcome {
    Saved { checkpoint: CheckpointRow },
    Invalid { problems: Vec<FormProblem> },
}

impl Command for SaveCheckpoint {
    const NAME: &'static str = "save_checkpoint";
    type Response = CheckpointOutcome;
}

/// What the administrator does to a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceAction {
    Approve,
    /// Unbind the inspector: the device is refused from its next sync.
    Revoke,
}

/// Approves or revokes a device of the venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeDevice {
    pub venue_id: String,
    pub device_id: String,
    pub action: DeviceAction,
}

impl Command for ChangeDevice {
    const NAME: &'static str = "change_device";
    type Response = ();
}

/// A fresh declaration code (the old one binds nothing more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewDeclarationCode {
    pub venue_id: String,
}

impl Command for RenewDeclarationCode {
    const NAME: &'static str = "renew_declaration_code";
    type Response = String;
}

/// A checkpoint of the station's venue, as the station last synced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointChoice {
    pub checkpoint_id: String,
    pub name: String,
    pub disabled: bool,
}

/// The station's venue's checkpoints (empty before enrolment): the station is bound to one of
/// them, chosen from this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StationCheckpoints {}

impl Command for StationCheckpoints {
    const NAME: &'static str = "station_checkpoints";
    type Response = Vec<CheckpointChoice>;
}

/// Changes a venue's details; a new name or credit code sends it back to review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmendVenue {
    pub venue_id: String,
    pub form: ApplicationForm,
}

/// What changing a venue came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AmendOutcome {
    Saved { back_to_review: bool },
    Invalid { problems: Vec<FormProblem> },
}

impl Command for AmendVenue {
    const NAME: &'static str = "amend_venue";
    type Response = AmendOutcome;
}

/// Deletes a pending application (its applicant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawApplication {
    pub venue_id: String,
}

impl Command for WithdrawApplication {
    const NAME: &'static str = "withdraw_application";
    type Response = ();
}

/// Closes an approved venue (its reviewer), with the reason its administrator reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseVenue {
    pub venue_id: String,
    pub reason: String,
}

impl Command for CloseVenue {
    const NAME: &'static str = "close_venue";
    type Response = ();
}

/// Hands the venue to another venue administrator (by user name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandOverVenue {
    pub venue_id: String,
    pub username: String,
}

impl Command for HandOverVenue {
    const NAME: &'static str = "hand_over_venue";
    type Response = ();
}
