//! A headless station for the sync tests: a data directory provisioned with a deployment's root
//! key, enrolment, a fast-polling sync worker, and check-in drafts to fill its outbox.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, Utc};
use venuecode_app::station::zone;
use venuecode_app::store::Store;
use venuecode_app::sync::{self, OsClock, SyncConfig, SyncHandle};
use venuecode_core::checkin::CheckInDraft;
use venuecode_core::gate::{Direction, Verdict};
use venuecode_core::health_code::{self, Color, NewCode};
use venuecode_core::idnumber::IdNumber;
use venuecode_keys::IssuerKeys;

/// A check-in draft at `venue` and `at`, numbered `n`: a manual registration (its local subject
/// derives from `n`), since the server verifies every scanned code again and these have none.
pub fn draft(venue: &str, at: DateTime<Utc>, n: u32) -> CheckInDraft {
    CheckInDraft {
        venue_id: venue.into(),
        checkpoint_id: "main".into(),
        inspector: "王五".into(),
        direction: Direction::Entry,
        at,
        day: at.with_timezone(&zone()).format("%Y-%m-%d").to_string(),
        temperature: "normal",
        celsius: None,
        verdict: Verdict::Pass,
        reasons: vec![],
        fever: false,
        code_id: None,
        subject: Some(format!("local:{n:024x}")),
        name_masked: Some("张*".into()),
        phone_masked: None,
        id_masked: None,
        color: None,
        alert: false,
        manual: true,
        proxy_name: None,
        proxy_phone: None,
        proxy_relation: None,
        code: None,
        sealed_id: None,
    }
}

/// A demo-issuer health code from the deployment in `keys` (`keys/demo-issuer`) for one
/// person (张三, always the same subject): `color`, issued `issued_hours_ago`, valid
/// `valid_hours`; its text and code id.
pub fn demo_code(
    keys: &Path,
    color: Color,
    issued_hours_ago: i64,
    valid_hours: i64,
) -> Result<(String, String)> {
    demo_code_of(
        keys,
        "11010519491231002X",
        "张三",
        color,
        issued_hours_ago,
        valid_hours,
    )
}

/// A green demo-issuer code valid for a day, for the person with ID number `id` and `name`:
/// its text and the subject pseudonym it carries.
pub fn green_code_of(keys: &Path, id: &str, name: &str) -> Result<(String, String)> {
    let (text, _) = demo_code_of(keys, id, name, Color::Green, 0, 24)?;
    let k = IssuerKeys::load(&keys.join("demo-issuer"))?;
    let subject = venuecode_core::health_code::Pseudonym::derive(
        &k.subject_secret,
        &IdNumber::parse(id, Utc::now().date_naive())?,
    );
    Ok((text, subject.to_hex()))
}

/// [`demo_code`] for the person with ID number `id` and `name`.
pub fn demo_code_of(
    keys: &Path,
    id: &str,
    name: &str,
    color: Color,
    issued_hours_ago: i64,
    valid_hours: i64,
) -> Result<(String, String)> {
    let k = IssuerKeys::load(&keys.join("demo-issuer"))?;
    let now = Utc::now();
    let id = IdNumber::parse(id, now.date_naive())?;
    let claims = NewCode {
        issuer: &k.issuer,
        subject_secret: &k.subject_secret,
        name,
        phone: "13800138000",
        id: &id,
        color,
        color_since: None,
        nat: None,
        guardian: None,
        issued_at: now - chrono::Duration::hours(issued_hours_ago),
        valid_for: chrono::Duration::hours(valid_hours),
        code_id: venuecode_keys::random_bytes()?,
        medium: venuecode_core::health_code::Medium::Screen,
    }
    .claims();
    Ok((
        health_code::issue(&k.issuer_key, &claims),
        claims.code_id_hex(),
    ))
}

/// A station data directory under `tmp` provisioned with the root key and the TLS CA of the
/// deployment in `keys` (`keys/root.pub`, `keys/ca.pem`).
pub fn provisioned_station(tmp: &Path, keys: &Path) -> Result<PathBuf> {
    let data = tmp.join("station");
    std::fs::create_dir_all(data.join("trust"))?;
    std::fs::copy(keys.join("root.pub"), data.join("trust/root.pub"))?;
    std::fs::copy(keys.join("ca.pem"), data.join("trust/ca.pem"))?;
    Ok(data)
}

/// A test talks plain HTTP only on purpose (through a proxy that reads HTTP): the station's
/// development flag follows the URL.
fn plain(url: &str) -> bool {
    url.starts_with("http://")
}

/// Enrols the station in `data` at `url` with a declaration code, inspector 王五.
pub fn enrol(
    store: &mut Store,
    data: &Path,
    url: &str,
    code: &str,
) -> Result<venuecode_core::sync::EnrolResponse, sync::SyncError> {
    let time = Arc::new(sync::TimeKeeper::start(Some(store), sync::system_clock()));
    sync::enrol(
        store,
        data,
        &time,
        &sync::Enrolment {
            server_url: url,
            declaration_code: code,
            inspector: "王五",
            checkpoint_id: None,
            direction: Direction::Entry,
            allow_http: plain(url),
        },
    )
}

/// A sync configuration that retries and polls fast, uploading `batch_size` records at a time.
pub fn fast_config(url: &str, batch_size: usize) -> SyncConfig {
    SyncConfig {
        batch_size,
        backoff_base: Duration::from_millis(50),
        backoff_cap: Duration::from_millis(500),
        offline_probe: Duration::from_millis(200),
        idle: Duration::from_millis(200),
        allow_http: plain(url),
        ..SyncConfig::default()
    }
}

/// A station's sync worker started by a test: everything a [`SyncHandle`] does (through
/// `Deref`), and when the test ends — passed, failed or panicked — the worker and its presence
/// threads are stopped and waited for. A test process that exits while a worker is inside
/// SQLite or a TLS request runs the crypto library's exit-time clean-up under it: a test binary
/// crashed with SIGSEGV after its tests had passed that way.
pub struct TestSync(pub SyncHandle);

impl std::ops::Deref for TestSync {
    type Target = SyncHandle;
    fn deref(&self) -> &SyncHandle {
        &self.0
    }
}

impl Drop for TestSync {
    fn drop(&mut self) {
        if !self.0.stop_and_wait(Duration::from_secs(10)) {
            eprintln!(
                "a station's sync worker was still busy 10 s after the test asked it to stop"
            );
        }
    }
}

/// A sync worker on [`fast_config`], reading the OS clock through `os`.
pub fn fast_sync_with_clock(data: &Path, url: &str, batch_size: usize, os: OsClock) -> TestSync {
    TestSync(SyncHandle::start_with_clock(
        data,
        Some(url.to_string()),
        fast_config(url, batch_size),
        os,
    ))
}

/// [`fast_sync_with_clock`] on the real clock.
pub fn fast_sync(data: &Path, url: &str, batch_size: usize) -> TestSync {
    fast_sync_with_clock(data, url, batch_size, sync::system_clock())
}
