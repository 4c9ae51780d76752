//! The gate's wire types: what the station is bound to, a scan and its verdict, the live
//! counters (inside by gate, the capacity), a registration by hand and today's list.

use super::*;

/// What the station is bound to (场所, 出入口, 检测员, 进/出).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationBinding {
    pub venue_id: String,
    pub venue_name: String,
    pub checkpoint_id: String,
    pub inspector: String,
    pub direction: Direction,
}

/// Asks for the station's binding (`None` until set up).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GetBinding {}

impl Command for GetBinding {
    const NAME: &'static str = "get_binding";
    type Response = Option<StationBinding>;
}

/// Binds the station (local set-up until enrolment with the server exists).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetBinding {
    pub binding: StationBinding,
}

impl Command for SetBinding {
    const NAME: &'static str = "set_binding";
    type Response = StationBinding;
}

/// The temperature the inspector recorded with a scan.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "celsius", rename_all = "snake_case")]
pub enum TemperatureInput {
    NotTaken,
    Normal,
    Fever,
    Celsius(f32),
}

/// A code read at the gate, to verify, decide and record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmitScan {
    pub text: String,
    pub temperature: TemperatureInput,
}

/// The station's live counters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StationCounters {
    /// People inside the venue now, entered at any of its gates.
    pub inside: i64,
    pub entries: i64,
    pub refusals: i64,
    pub fevers: i64,
    /// The venue's capacity (限流), when its administrator set one.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// Those inside by the gate they last entered by.
    #[serde(default)]
    pub by_gate: Vec<GateCount>,
}

/// People inside who came in by one gate.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GateCount {
    pub checkpoint_id: String,
    /// The gate's name from the venue's registry (its id when unknown).
    pub name: String,
    pub inside: i64,
}

/// The verdict on one scan, as the result screen shows it. Identity is masked.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScanVerdict {
    /// 通行 (true) or 禁止 (false).
    pub pass: bool,
    /// Why, blocking reasons first.
    pub reasons: Vec<Reason>,
    /// An alert was queued on the priority lane.
    pub alert: bool,
    /// A check-in was written (false for "already inside" and for texts that are no code).
    pub recorded: bool,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub color: Option<CodeColor>,
    /// RFC 3339.
    pub color_since: Option<String>,
    pub nat_result: Option<NatOutcome>,
    /// Hours since the nucleic-acid test.
    pub nat_hours: Option<f32>,
    pub counters: StationCounters,
    /// The number the inspector calls when someone is refused (from the venue's registry entry).
    #[serde(default)]
    pub venue_phone: Option<String>,
    /// When a paper code (纸质码) was printed, RFC 3339 in the station's time zone; `None` for
    /// a code on a screen. Its colour is as of that moment.
    #[serde(default)]
    pub paper_printed_at: Option<String>,
}

impl Command for SubmitScan {
    const NAME: &'static str = "submit_scan";
    type Response = ScanVerdict;
}

/// Someone who registers another person and vouches for them (亲情代登记).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyInput {
    /// Typed by the inspector; ignored when `code` is given.
    pub name: String,
    pub phone: String,
    /// What the proxy is to the person registered; `None` until chosen (then refused).
    pub relation: Option<Relation>,
    /// The proxy's own health code, scanned: it must verify, and names the proxy (masked).
    #[serde(default)]
    pub code: Option<String>,
}

/// Registers a person without a phone by ID number (手工登记), optionally on a proxy's word.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisterManual {
    pub id_number: String,
    pub name: String,
    pub phone: Option<String>,
    pub temperature: TemperatureInput,
    pub proxy: Option<ProxyInput>,
}

/// A manual registration's outcome: recorded with a verdict, or a field to correct.
// One value per registration crosses the IPC as JSON: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ManualOutcome {
    Registered {
        verdict: ScanVerdict,
    },
    /// The ID number is wrong, and why.
    IdInvalid {
        reason: IdProblem,
    },
    /// Another field is missing or wrong.
    FieldInvalid {
        field: ManualField,
    },
}

impl Command for RegisterManual {
    const NAME: &'static str = "register_manual";
    type Response = ManualOutcome;
}

/// Asks for today's check-ins at this station's venue, newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TodayCheckIns {}

/// The inspector name residents' own check-ins (扫场所码) are recorded under (core's
/// `self_check_in::INSPECTOR`): screens show it as 扫场所码, not as a person.
pub const SELF_INSPECTOR: &str = "self";

/// One line of today's list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckInRow {
    /// Local time, HH:MM:SS.
    pub time: String,
    pub direction: Direction,
    pub pass: bool,
    pub reasons: Vec<Reason>,
    pub name: Option<String>,
    pub id_masked: Option<String>,
    pub manual: bool,
    pub proxy_name: Option<String>,
    pub proxy_relation: Option<Relation>,
    /// A resident checked in with their own phone at the poster (扫场所码), pulled from the
    /// server with sync.
    #[serde(default)]
    pub by_phone: bool,
}

impl Command for TodayCheckIns {
    const NAME: &'static str = "today_check_ins";
    type Response = Vec<CheckInRow>;
}
