//! Wire types for the IPC between the Leptos UI (wasm32) and the Tauri commands (native).
//!
//! Every command is a request type implementing [`Command`], which names the command and its
//! response type. The UI has one generic `invoke`; the Tauri side registers one function per
//! command under [`Command::NAME`]. Errors cross as [`IpcError`] (`{ code, detail }`), and the UI
//! maps `code` to a message in the user's language.
//!
//! Invariants: this crate builds for wasm32 and native, holds no logic, and is the only place where
//! IPC types derive `Serialize`/`Deserialize`. Domain types are converted into these by hand.

mod camera;
mod gate;
mod people;
mod posters;
mod reports;
mod station_venues;
mod vocab;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

pub use camera::*;
pub use gate::*;
pub use people::*;
pub use posters::*;
pub use reports::*;
pub use station_venues::*;
pub use vocab::*;

/// A command the UI can call. The Tauri handler receives the request as its single argument
/// named [`ARG`].
pub trait Command: Serialize + DeserializeOwned {
    /// The name the command is registered under on the Tauri side.
    const NAME: &'static str;
    /// What the command returns on success.
    type Response: Serialize + DeserializeOwned;
}

/// The name of the single argument every command takes.
pub const ARG: &str = "req";

/// Every command name, in one list; a test on the Tauri side asserts each is registered.
pub const ALL_COMMANDS: &[&str] = &[
    AppInfoRequest::NAME,
    GetSettings::NAME,
    SetLanguage::NAME,
    StartScan::NAME,
    StopScan::NAME,
    CheckCode::NAME,
    GetBinding::NAME,
    SetBinding::NAME,
    SubmitScan::NAME,
    GetCounters::NAME,
    RegisterManual::NAME,
    TodayCheckIns::NAME,
    SetKioskPin::NAME,
    CheckKioskPin::NAME,
    GetKiosk::NAME,
    SetStationOptions::NAME,
    ListCameras::NAME,
    SetCamera::NAME,
    EnrolStation::NAME,
    GetSyncStatus::NAME,
    SyncNow::NAME,
    SignIn::NAME,
    SignOut::NAME,
    WhoAmI::NAME,
    ListVenues::NAME,
    CheckApplication::NAME,
    SubmitApplication::NAME,
    ListDrafts::NAME,
    ListRegions::NAME,
    ReviewQueue::NAME,
    DecideApplication::NAME,
    GetVenue::NAME,
    SaveCheckpoint::NAME,
    ChangeDevice::NAME,
    RenewDeclarationCode::NAME,
    StationCheckpoints::NAME,
    AmendVenue::NAME,
    WithdrawApplication::NAME,
    CloseVenue::NAME,
    HandOverVenue::NAME,
    StationVenues::NAME,
    SwitchVenue::NAME,
    ForgetVenue::NAME,
    ListPlaceTypes::NAME,
    PreviewPoster::NAME,
    SavePoster::NAME,
    SaveAllPosters::NAME,
    PosterFolder::NAME,
    OpenPoster::NAME,
    VenueStatistics::NAME,
    SetCapacity::NAME,
    StationStatistics::NAME,
    ListAlerts::NAME,
    CountAlerts::NAME,
    HandleAlert::NAME,
    TracePerson::NAME,
    TraceAuditLog::NAME,
];

/// An error as it crosses IPC. `code` is stable and maps to an i18n key in the UI; `detail` is
/// English text for logs and for the person reading them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpcError {
    pub code: ErrorCode,
    pub detail: String,
}

/// Stable error codes. New codes are added, never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The local database could not be read or written.
    Storage,
    /// The request was not understood (a bug in the UI, or a version mismatch).
    BadRequest,
    /// The IPC bridge itself failed (no Tauri runtime, serialisation error).
    Bridge,
    /// Anything else; `detail` says what.
    Internal,
    /// No camera is attached or it cannot be opened.
    NoCamera,
    /// The system does not let this app use the camera.
    CameraDenied,
    /// Another program holds the camera.
    CameraBusy,
    /// The camera was disconnected while scanning.
    CameraUnplugged,
    /// The chosen frame source (folder, image) cannot be read.
    SourceUnavailable,
    /// The station is not bound to a venue, checkpoint and inspector yet.
    NotBound,
    /// The request had a value out of range (e.g. a temperature that is not a number).
    Invalid,
    /// The server could not be reached.
    Offline,
    /// No venue has this declaration code.
    UnknownDeclaration,
    /// The server refused the request; `detail` has its code and message.
    ServerRefused,
    /// No person is signed in here, or the session expired: sign in again.
    NotSignedIn,
    /// The person's role or scope does not reach this.
    Forbidden,
    /// Wrong user name or password, or the account is locked for a while.
    SignInRefused,
    /// The scan loop stopped by itself (the camera failed or was unplugged, the decoder died);
    /// `detail` says which. The UI offers to start it again.
    ScanStopped,
    /// No font for Chinese text is installed (posters).
    NoFont,
    /// A file or folder could not be written or opened; `detail` names it.
    CannotWrite,
    /// A poster template is not usable; `detail` says why.
    BadTemplate,
    /// The checkpoint has no code from the server yet (posters).
    NoDoorCode,
    /// Kiosk mode is on: the inspector's PIN leaves it before this.
    KioskOn,
    /// Too many wrong PINs: the way out of kiosk mode is locked for a while (`detail` says
    /// until when).
    KioskLocked,
}

/// The languages the UI is offered in. zh-CN is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Language {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Language {
    /// The BCP 47 tag stored on disk and set on `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Language::ZhCn => "zh-CN",
            Language::En => "en",
        }
    }

    /// Parses a stored tag; unknown tags give `None`.
    pub fn from_tag(tag: &str) -> Option<Language> {
        match tag {
            "zh-CN" => Some(Language::ZhCn),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

/// Asks for the About screen's facts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AppInfoRequest {}

/// The About screen's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInfo {
    pub version: String,
    /// Short git commit the binary was built from, or "unknown".
    pub commit: String,
    /// Absolute path of the directory holding the local database.
    pub data_dir: String,
    /// Base URL of the central server this station talks to, if any.
    pub server_url: Option<String>,
}

impl Command for AppInfoRequest {
    const NAME: &'static str = "app_info";
    type Response = AppInfo;
}

/// Asks for the persisted user settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GetSettings {}

/// The persisted user settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub language: Language,
    /// Seconds a verdict stays on the station screen (2–60, default 5).
    pub clear_after_secs: u32,
    /// Whether pass and refuse sound different tones (default off).
    pub sound: bool,
    /// Hours after which an open presence closes by itself (1–48, default 12).
    pub auto_close_hours: u32,
    /// How the camera is opened.
    #[serde(default)]
    pub camera: CameraChoice,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            language: Language::default(),
            clear_after_secs: 5,
            sound: false,
            auto_close_hours: 12,
            camera: CameraChoice::default(),
        }
    }
}

/// Changes the station options; out-of-range values are refused with `invalid`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetStationOptions {
    pub clear_after_secs: u32,
    pub sound: bool,
    pub auto_close_hours: u32,
}

impl Command for SetStationOptions {
    const NAME: &'static str = "set_station_options";
    type Response = Settings;
}

impl Command for GetSettings {
    const NAME: &'static str = "get_settings";
    type Response = Settings;
}

/// Changes the UI language; the choice survives restarts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetLanguage {
    pub language: Language,
}

impl Command for SetLanguage {
    const NAME: &'static str = "set_language";
    type Response = Settings;
}

/// Where the station's frames come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FrameSourceSpec {
    /// A camera as Settings chose it (which one, size and frame rate).
    Camera(CameraChoice),
    /// PNG files in a folder, played in name order as a video at `fps`, looping.
    Folder { path: String, fps: u32 },
    /// One PNG shown repeatedly at `fps`.
    Image { path: String, fps: u32 },
    /// A drawn demo code under moving conditions at `fps`.
    Synthetic { fps: u32 },
}

/// Starts scanning from a source (stopping any scan already running).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartScan {
    pub source: FrameSourceSpec,
}

/// A scan that started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanStarted {
    /// What the source is, for the status line.
    pub description: String,
}

impl Command for StartScan {
    const NAME: &'static str = "start_scan";
    type Response = ScanStarted;
}

/// Stops the running scan, if any.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StopScan {}

/// Counters of the scan that stopped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanStopped {
    pub frames: u64,
    /// Frames skipped because the decoder was still busy (frames are dropped, never queued).
    pub dropped: u64,
}

impl Command for StopScan {
    const NAME: &'static str = "stop_scan";
    type Response = ScanStopped;
}

/// Event with a preview frame (≤ 640 px wide), at most at the source's frame rate.
pub const EVENT_PREVIEW: &str = "scan-preview";
/// Event with the outlines of the codes seen in a decoded frame.
pub const EVENT_SEEN: &str = "scan-seen";
/// Event with a newly read code (not seen within the dedupe window).
pub const EVENT_CODE: &str = "scan-code";
/// Event sent when the source fails or ends.
pub const EVENT_SOURCE_ENDED: &str = "scan-ended";

/// A preview frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanPreview {
    pub seq: u64,
    pub width: u32,
    pub height: u32,
    /// `data:image/png;base64,…`
    pub data_url: String,
    /// Frames per second delivered over the last second.
    pub fps: f32,
}

/// A code's outline in preview coordinates: top-left, top-right, bottom-right, bottom-left.
pub type Outline = [[f32; 2]; 4];

/// Codes seen in one decoded frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanSeen {
    pub seq: u64,
    pub outlines: Vec<Outline>,
}

/// A newly read code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanCode {
    pub text: String,
    pub outline: Outline,
}

/// The source stopped by itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanEnded {
    pub error: Option<IpcError>,
}

/// Verifies a code's text (from the camera, a USB scanner or pasted) against the station's trust
/// list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckCode {
    pub text: String,
}

/// What a code is and whether it verified. Identity fields are masked.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CodeCheck {
    pub kind: CodeKind,
    pub valid: bool,
    /// Why it is not valid.
    pub error: Option<Reason>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub color: Option<CodeColor>,
    pub venue_name: Option<String>,
}

impl Command for CheckCode {
    const NAME: &'static str = "check_code";
    type Response = CodeCheck;
}

/// Whether kiosk mode is on (it survives restarts) and a PIN lock in force.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GetKiosk {}

/// Kiosk mode as the back end holds it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct KioskState {
    pub on: bool,
    /// RFC 3339, while too many wrong PINs lock the way out.
    pub locked_until: Option<String>,
}

impl Command for GetKiosk {
    const NAME: &'static str = "get_kiosk";
    type Response = KioskState;
}

/// Sets the inspector PIN that leaves kiosk mode (4–8 digits).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetKioskPin {
    pub pin: String,
}

impl Command for SetKioskPin {
    const NAME: &'static str = "set_kiosk_pin";
    /// Whether a PIN is now set.
    type Response = bool;
}

/// Checks the PIN typed to leave kiosk mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckKioskPin {
    pub pin: String,
}

impl Command for CheckKioskPin {
    const NAME: &'static str = "check_kiosk_pin";
    /// Whether the PIN is right.
    type Response = bool;
}

/// Asks for the live counters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GetCounters {}

impl Command for GetCounters {
    const NAME: &'static str = "get_counters";
    type Response = StationCounters;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_round_trip() {
        for lang in [Language::ZhCn, Language::En] {
            assert_eq!(Language::from_tag(lang.tag()), Some(lang));
        }
        assert_eq!(Language::from_tag("fr"), None);
        assert_eq!(Language::default(), Language::ZhCn);
    }

    #[test]
    fn command_names_are_unique() {
        let mut names = ALL_COMMANDS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL_COMMANDS.len());
    }
}

/// Enrols the station with the server (Settings): the venue's 6-digit declaration code and the
/// inspector's name; the station makes its own key pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolStation {
    /// The server; the configured one when absent.
    pub server_url: Option<String>,
    pub declaration_code: String,
    pub inspector: String,
    /// A checkpoint id of the venue; its main one when absent.
    pub checkpoint_id: Option<String>,
}

impl Command for EnrolStation {
    const NAME: &'static str = "enrol_station";
    type Response = StationBinding;
}

/// The sync status the station shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetSyncStatus {}

impl Command for GetSyncStatus {
    const NAME: &'static str = "get_sync_status";
    type Response = SyncStatus;
}

/// Asks the sync worker to run now; answers the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncNow {}

impl Command for SyncNow {
    const NAME: &'static str = "sync_now";
    type Response = SyncStatus;
}

/// What the station shows about sync.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SyncStatus {
    pub server_url: Option<String>,
    pub enrolled: bool,
    pub device_id: Option<String>,
    pub online: bool,
    /// Records waiting to be sent.
    pub waiting: i64,
    /// Records the server refused for their content, kept aside.
    pub rejected: i64,
    /// Records older than the retention window the server never acknowledged: kept, and shown
    /// to the administrator instead of being deleted or kept silently.
    pub overdue: i64,
    /// Seconds since the last successful sync.
    pub last_sync_secs: Option<i64>,
    /// Seconds since the trust list was last confirmed by the server.
    pub trust_age_secs: Option<i64>,
    /// The trust list is older than 48 hours (or missing).
    pub trust_stale: bool,
    /// Server clock minus station clock, in seconds.
    pub clock_offset_secs: i64,
    /// The offset is over 5 minutes: verification uses the corrected time.
    pub clock_warn: bool,
    /// The device clock was set back behind trusted time (verification is unaffected).
    pub clock_set_back: bool,
    /// No signed server time for longer than the policy allows.
    pub time_unverified: bool,
    /// Every scan is refused until the station syncs (stale or unverified, policy says refuse).
    pub blocked: bool,
    /// Why the last round failed.
    pub last_error: Option<SyncProblem>,
    /// The failure's stable code as the app or server gave it (for support; `ServerRefused`'s
    /// detail).
    pub last_error_code: Option<String>,
}
