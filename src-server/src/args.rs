//! `venuecode-server`'s command line: the serve options and the operator commands, as clap
//! parses them (a module of the binary, not of the library).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Whether applications are reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Review {
    Required,
    Automatic,
}

/// VenueCode's central server: collects check-ins from stations exactly once and serves their
/// trust list, revocations, venue entries and policy.
#[derive(Debug, Parser)]
#[command(name = "venuecode-server", version)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8730", value_name = "ADDR")]
    pub(crate) listen: String,
    /// SQLite file, or a postgres:// URL.
    #[arg(
        long,
        global = true,
        default_value = "venuecode-server.db",
        value_name = "PATH|URL"
    )]
    pub(crate) database: String,
    /// The server's key directory (`OUT/server` from `venuecode keygen`): its signing key, the
    /// root's delegation of it and the trust list it serves. Never the root key.
    #[arg(long, value_name = "DIR")]
    pub(crate) keys: Option<PathBuf>,
    /// Add the demo venues (declaration codes 100001-100003).
    #[arg(long)]
    pub(crate) demo: bool,
    /// With --demo: seed a week of realistic history at the demo venues on first start (with
    /// 张三, the demo code's person, to trace), so statistics, alerts and tracing show something.
    #[arg(long)]
    pub(crate) demo_history: bool,
    /// Issue demo health codes at POST /api/v1/demo/codes with the demo issuer's keys
    /// (`OUT/demo-issuer`); only on a loopback address.
    #[arg(long, value_name = "DIR")]
    pub(crate) demo_issuer: Option<PathBuf>,
    /// Seconds a client has to send its request headers before the connection is closed.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub(crate) header_timeout_secs: u64,
    /// Serve plain HTTP even when the key directory holds a TLS certificate (development and the
    /// network-fault tests, whose proxies read HTTP; never in production).
    #[arg(long)]
    pub(crate) plain_http: bool,
    /// The region table venue applications are checked against (`code<TAB>name<TAB>parent` per
    /// line, province to community); the demo table when absent.
    #[arg(long, value_name = "FILE")]
    pub(crate) regions: Option<PathBuf>,
    /// The place types (场所类型) applications choose from (`code<TAB>zh-CN name<TAB>English
    /// name` per line, a code being its category's two digits and two more); the default list
    /// when absent.
    #[arg(long, value_name = "FILE")]
    pub(crate) place_types: Option<PathBuf>,
    /// The venue authority's key directory (`OUT/venue-authority`): the server then issues each
    /// checkpoint's entry and exit codes (一门一码) for its administrator.
    #[arg(long, value_name = "DIR")]
    pub(crate) venue_authority: Option<PathBuf>,
    /// The health authority's tracing keys (`OUT/tracing`): stations are given its public sealing
    /// key, registrations by hand are linked to the pseudonym the person's own code carries, and
    /// authorities can trace by ID number. Without it those registrations stay station-local.
    #[arg(long, value_name = "DIR")]
    pub(crate) tracing_keys: Option<PathBuf>,
    /// Where the residents' check-in page finds its optional scanner module (`scan.js`,
    /// `scan_bg.wasm`, built by `./x build-ui` into `dist/resident`). Without it the page reads
    /// pasted codes only.
    #[arg(long, value_name = "DIR", default_value = "dist/resident")]
    pub(crate) web_dir: PathBuf,
    /// Days the server keeps check-ins, alerts and sighting alerts; older ones are deleted by
    /// an hourly sweep in small batches (the tracing audit is kept). 0 keeps everything.
    #[arg(long, value_name = "DAYS", default_value_t = venuecode_server::retention::DEFAULT_DAYS)]
    pub(crate) retention_days: i64,
    /// The public base URL of the codes (a phone opens them); `https://<listen address>` when
    /// absent.
    #[arg(long, value_name = "URL")]
    pub(crate) public_url: Option<String>,
    /// Whether venue applications wait for a community reviewer (`required`) or are approved at
    /// once (`automatic`): a deployment rule.
    #[arg(long, value_enum, default_value = "required")]
    pub(crate) review: Review,
    /// At most N administrators per venue (粤康码: 1); any number when absent.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) admins_per_venue: Option<u32>,
    /// An administrator holds at most N venues (粤康码: 1); any number when absent.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) venues_per_admin: Option<u32>,
    /// Requests handled at once; beyond that the server answers 503 at once (load shedding).
    #[arg(long, default_value_t = 512, value_name = "N")]
    pub(crate) max_in_flight: usize,
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Revoke an enrolled device: its requests are refused from now on and it cannot enrol
    /// again; logged with the operator's name.
    RevokeDevice {
        /// The device id (16 hex characters, shown in the station's Settings).
        device_id: String,
        /// Who revokes it (for the device's log).
        #[arg(long, default_value = "command line")]
        by: String,
    },
    /// Re-activate a revoked device (an administrator's decision, logged with their name).
    ReactivateDevice {
        device_id: String,
        /// Who re-activates it (for the device's log).
        #[arg(long)]
        by: String,
    },
    /// List enrolled devices: id, venue, checkpoint, inspector, enrolled, status.
    Devices,
    /// A device's log: enrolled, revoked, reactivated — when and by whom.
    DeviceLog { device_id: String },
    /// Sighting alerts (one person entering two venues closer in time than travel allows, or
    /// one venue again through another station) detected in the last HOURS, newest first:
    /// detected, kind, subject, first venue and time, second venue and time, metres, seconds
    /// needed.
    SightingAlerts {
        #[arg(long, default_value_t = 24, value_name = "HOURS")]
        hours: u32,
    },
    /// Export a venue's check-ins, or alerts, to a CSV or Excel file (identity masked, as
    /// stored; times in China time unless --tz-offset-minutes says otherwise).
    Export {
        #[command(subcommand)]
        what: ExportCommand,
    },
    /// Accounts of people who sign in (the first system administrator is made here).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Show a venue's gate policy, changing what is given first (stations get it with their next
    /// pull). Prints the policy as JSON.
    Policy {
        venue_id: String,
        /// At or above this is fever (36.0–39.0 °C).
        #[arg(long)]
        fever_threshold_c: Option<f32>,
        /// Whether a yellow code may enter.
        #[arg(long)]
        accept_yellow: Option<bool>,
        /// Require a negative nucleic-acid test no older than this (hours); 0 turns it off.
        #[arg(long)]
        require_nat_within_hours: Option<i64>,
        /// Refuse screen codes issued longer ago than this (hours).
        #[arg(long)]
        max_code_age_hours: Option<i64>,
        /// Refuse paper codes (纸质码) printed longer ago than this (hours).
        #[arg(long)]
        max_paper_code_age_hours: Option<i64>,
        /// Hours a station may go without a signed server time before it counts as unverified.
        #[arg(long)]
        max_unsigned_time_hours: Option<i64>,
        /// Hours after its last complete pull that a station is stale.
        #[arg(long)]
        stale_after_hours: Option<i64>,
        /// What a stale or unverified station does: refuse every scan, or warn.
        #[arg(long, value_parser = ["refuse", "warn"])]
        when_stale: Option<String>,
        /// The venue's capacity (限流): most people inside at once across its gates; 0 removes
        /// the limit.
        #[arg(long)]
        capacity: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ExportCommand {
    /// A venue's check-ins over the last DAYS days (up to now).
    CheckIns {
        venue_id: String,
        #[arg(long, default_value_t = 1)]
        days: u32,
        #[arg(long, value_parser = ["csv", "xlsx"], default_value = "xlsx")]
        format: String,
        #[arg(long, default_value_t = 480, allow_negative_numbers = true)]
        tz_offset_minutes: i32,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Alerts of the last DAYS days in a region (a code prefix), newest first.
    Alerts {
        #[arg(long)]
        region: String,
        #[arg(long, default_value_t = 7)]
        days: u32,
        #[arg(long, value_parser = ["csv", "xlsx"], default_value = "xlsx")]
        format: String,
        #[arg(long, default_value_t = 480, allow_negative_numbers = true)]
        tz_offset_minutes: i32,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Make an account. The password is read from the environment variable
    /// VENUECODE_PASSWORD or, without it, from the first line of standard input (never an
    /// argument, which other users of the machine can see).
    Create {
        #[arg(long)]
        username: String,
        /// The name shown in the app (1–32 characters).
        #[arg(long)]
        name: String,
        /// sysadmin, reviewer, authority or venue_admin.
        #[arg(long, default_value = "sysadmin")]
        role: String,
        /// A region code prefix (reviewer, authority) or a venue id (venue_admin); repeatable.
        #[arg(long)]
        scope: Vec<String>,
    },
    /// List accounts: user name, role, scopes, display name, active.
    List,
}
