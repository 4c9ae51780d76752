//! The background sync worker: rounds of upload (alerts first, batches settled one by one, a
//! poison record isolated by halving) and pull, with backoff and jitter, on its own connection.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration as StdDuration;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use venuecode_core::sync::backoff_delay;
use venuecode_core::trust::TrustList;

use super::client::unit_random;
use super::enrolment::station_root;
use super::time::{system_clock, OsClock, TimeKeeper};
use super::{Client, SyncConfig, SyncError, SyncStatus};
use crate::store::{PendingRecord, Store};

struct Shared {
    status: Mutex<SyncStatus>,
    time: Arc<TimeKeeper>,
    wake: Mutex<bool>,
    cv: Condvar,
    stop: AtomicBool,
    /// The next round pulls even if the last pull is recent (the inspector pressed "sync now").
    force_pull: AtomicBool,
    /// Set by the worker as it returns.
    finished: AtomicBool,
}

/// The background sync worker's handle.
#[derive(Clone)]
pub struct SyncHandle {
    shared: Arc<Shared>,
    /// The threads sharing presence with the venue's other gates (relay, LAN).
    presence: Arc<crate::presence::Presence>,
}

impl SyncHandle {
    /// Starts the worker over the store in `data_dir`.
    pub fn start(data_dir: &Path, server_url: Option<String>, config: SyncConfig) -> SyncHandle {
        SyncHandle::start_with_clock(data_dir, server_url, config, system_clock())
    }

    /// Starts the worker reading the operating system's clock through `os` (tests fake it).
    pub fn start_with_clock(
        data_dir: &Path,
        server_url: Option<String>,
        config: SyncConfig,
        os: OsClock,
    ) -> SyncHandle {
        let time = Arc::new(TimeKeeper::start(Store::open(data_dir).ok().as_ref(), os));
        let shared = Arc::new(Shared {
            status: Mutex::new(SyncStatus {
                server_url: server_url.clone(),
                ..SyncStatus::default()
            }),
            time,
            wake: Mutex::new(false),
            cv: Condvar::new(),
            stop: AtomicBool::new(false),
            force_pull: AtomicBool::new(false),
            finished: AtomicBool::new(false),
        });
        let presence = Arc::new(crate::presence::Presence::start(
            data_dir.to_path_buf(),
            server_url.clone(),
            config.allow_http,
            shared.time.clone(),
            config.presence.clone(),
        ));
        let handle = SyncHandle {
            shared: shared.clone(),
            presence,
        };
        let data_dir = data_dir.to_path_buf();
        std::thread::Builder::new()
            .name("venuecode-sync".into())
            .spawn(move || {
                worker(shared.clone(), data_dir, server_url, config);
                shared.finished.store(true, Ordering::SeqCst);
            })
            .map(|_| ())
            .unwrap_or_else(|e| eprintln!("venuecode: sync worker did not start: {e}"));
        handle
    }

    /// Asks the worker to run a round now (new records, network back, button pressed).
    pub fn wake(&self) {
        if let Ok(mut w) = self.shared.wake.lock() {
            *w = true;
            self.shared.cv.notify_all();
        }
    }

    /// Runs a full round now, pulling too (the "sync now" button).
    pub fn sync_now(&self) {
        self.shared.force_pull.store(true, Ordering::SeqCst);
        self.wake();
    }

    /// The current status.
    pub fn status(&self) -> SyncStatus {
        self.shared
            .status
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Trusted time: the last signed server time advanced by a monotonic clock, never below the
    /// persisted floor (see `time.rs`).
    pub fn trusted_now(&self) -> DateTime<Utc> {
        self.shared.time.now()
    }

    /// The time keeper (enrolment signs and verifies with it).
    pub fn time(&self) -> Arc<TimeKeeper> {
        self.shared.time.clone()
    }

    /// Stops the worker (and the presence threads) after their current step.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.presence.stop();
        self.wake();
    }

    /// What the presence threads report (relay, LAN peers).
    pub fn presence(&self) -> crate::presence::PresenceStatus {
        self.presence.status()
    }

    /// Stops the worker and waits (up to `limit`) until it has returned. A process calls this
    /// before it exits: exiting while the worker is inside the database or a TLS request runs
    /// the crypto library's exit-time clean-up under it (a simulated station crashed with
    /// SIGSEGV that way). Returns whether the worker finished in time.
    pub fn stop_and_wait(&self, limit: StdDuration) -> bool {
        self.stop();
        let deadline = std::time::Instant::now() + limit;
        if !self.presence.stop_and_wait(limit) {
            return false;
        }
        while !self.shared.finished.load(Ordering::SeqCst) {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(StdDuration::from_millis(10));
        }
        true
    }
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut SyncStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }

    /// Sleeps up to `d`, or until woken or stopped.
    fn sleep(&self, d: StdDuration) {
        let Ok(mut woken) = self.wake.lock() else {
            return;
        };
        let deadline = std::time::Instant::now() + d;
        while !*woken && !self.stop.load(Ordering::SeqCst) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            match self.cv.wait_timeout(woken, left) {
                Ok((w, _)) => woken = w,
                Err(_) => return,
            }
        }
        *woken = false;
    }
}

fn worker(shared: Arc<Shared>, data_dir: PathBuf, server_url: Option<String>, config: SyncConfig) {
    let mut store = match Store::open(&data_dir) {
        Ok(s) => s,
        Err(e) => {
            shared.update(|s| {
                s.last_error = Some(format!("storage: {e}"));
                s.last_problem = Some(venuecode_ipc::SyncProblem::Storage);
            });
            return;
        }
    };
    let mut attempt: u32 = 0;
    let mut client: Option<(String, Client)> = None;
    let mut last_pull: Option<DateTime<Utc>> = None;
    let mut last_purge: Option<DateTime<Utc>> = None;
    let mut last_passage_purge: Option<DateTime<Utc>> = None;
    let mut last_floor: Option<std::time::Instant> = None;
    // Restore what the last run learned, so the status is right before the first round.
    if let Ok(v) = store.sync_value("trust_fetched_at") {
        let at = v.and_then(|v| DateTime::parse_from_rfc3339(&v).ok());
        shared.update(|s| s.trust_fetched_at = at.map(|t| t.with_timezone(&Utc)));
    }
    while !shared.stop.load(Ordering::SeqCst) {
        let result = round(
            &shared,
            &mut store,
            &data_dir,
            server_url.as_deref(),
            &config,
            &mut client,
            &mut last_pull,
        );
        if let Ok((waiting, rejected)) = store.outbox_counts() {
            shared.update(|s| {
                s.waiting = waiting;
                s.rejected = rejected;
            });
        }
        let window = shared.time.now() - venuecode_core::checkin::RETENTION;
        if let Ok(overdue) = store.overdue_unsent(window) {
            shared.update(|s| s.overdue = overdue);
        }
        if let Ok(f) = crate::station::freshness(&store, &shared.time) {
            shared.update(|s| s.freshness = f);
        }
        // The floor survives restarts: trusted time now, the last signed time — after a round
        // that reached the server (a signed time may have moved it), otherwise at most every
        // FLOOR_EVERY (an offline station probes every few seconds; the floor losing under a
        // minute is well inside the 2-minute set-back margin).
        if result.is_ok() || last_floor.is_none_or(|t| t.elapsed() >= FLOOR_EVERY) {
            last_floor = Some(std::time::Instant::now());
            if let Err(e) = shared.time.persist(&mut store) {
                shared.update(|s| {
                    s.last_error = Some(format!("storage: {e}"));
                    s.last_problem = Some(venuecode_ipc::SyncProblem::Storage);
                });
            }
        }
        // Passages older than any automatic exit (48 h at most) keep nobody inside: they go,
        // online or not, at most hourly.
        let now = shared.time.now();
        if last_passage_purge.is_none_or(|t| now - t > Duration::hours(1)) {
            last_passage_purge = Some(now);
            let _ = store.purge_passages(now - PASSAGES_KEPT);
        }
        let pause = match result {
            Ok(()) => {
                attempt = 0;
                // Retention: acknowledged records older than the policy window leave the
                // station, checked at most hourly.
                let now = shared.time.now();
                if last_purge.is_none_or(|t| now - t > Duration::hours(1)) {
                    last_purge = Some(now);
                    if let Err(e) = store.purge_synced(now - venuecode_core::checkin::RETENTION) {
                        shared.update(|s| {
                            s.last_error = Some(format!("storage: {e}"));
                            s.last_problem = Some(venuecode_ipc::SyncProblem::Storage);
                        });
                    }
                }
                shared.update(|s| {
                    s.online = true;
                    s.last_success = Some(now);
                    s.last_error = None;
                    s.last_detail = None;
                    s.last_problem = None;
                });
                config.idle
            }
            Err(e) => {
                let person = e.needs_person();
                shared.update(|s| {
                    // Not enrolled or no server: nothing was asked of the network, so say offline.
                    s.online = !matches!(
                        e,
                        SyncError::Network(_) | SyncError::NoServer | SyncError::NotEnrolled
                    );
                    s.last_error = Some(e.code());
                    s.last_detail = Some(e.to_string());
                    if matches!(e, SyncError::Untrusted(_)) {
                        s.refused_answers += 1;
                        s.last_refused = Some((shared.time.now(), e.to_string()));
                    }
                    s.last_problem = Some(e.problem());
                });
                if person {
                    config.idle
                } else {
                    attempt = attempt.saturating_add(1);
                    backoff_delay(
                        config.backoff_base,
                        if matches!(e, SyncError::Network(_)) {
                            config.offline_probe.min(config.backoff_cap)
                        } else {
                            config.backoff_cap
                        },
                        attempt - 1,
                        unit_random(),
                    )
                }
            }
        };
        shared.sleep(pause);
    }
}

/// How long the venue's passages are kept: the longest automatic exit is 48 hours.
const PASSAGES_KEPT: Duration = Duration::hours(48);

/// How often an offline station saves its time floor.
const FLOOR_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

fn round(
    shared: &Shared,
    store: &mut Store,
    data_dir: &Path,
    configured_url: Option<&str>,
    config: &SyncConfig,
    client: &mut Option<(String, Client)>,
    last_pull: &mut Option<DateTime<Utc>>,
) -> Result<(), SyncError> {
    let device = store.device()?;
    let enrolled = device.as_ref().is_some_and(|d| d.venue_id.is_some());
    shared.update(|s| {
        s.enrolled = enrolled;
        s.device_id = device.as_ref().map(|d| d.device_id.clone());
    });
    let Some(device) = device.filter(|_| enrolled) else {
        return Err(if configured_url.is_some() {
            SyncError::NotEnrolled
        } else {
            SyncError::NoServer
        });
    };
    let url = configured_url.unwrap_or(&device.server_url).to_string();
    shared.update(|s| s.server_url = Some(url.clone()));
    // One client per server and key: switching venues switches keys.
    let client_key = format!("{url} {}", device.device_id);
    if client.as_ref().is_none_or(|(k, _)| *k != client_key) {
        *client = Some((
            client_key,
            Client::for_device(
                store,
                data_dir,
                &url,
                &device.secret_key,
                shared.time.clone(),
                config.request_timeout,
                config.allow_http,
            )?,
        ));
    }
    let Some((_, c)) = client.as_ref() else {
        return Err(SyncError::NoServer);
    };
    c.measure_clock()?;
    // The deployment's root was rotated: keep the root the verified chain led to, so the trust
    // list the new root signed loads (and a restart starts from it).
    if let Some(root) = c.take_new_root() {
        store.move_root(&root.to_hex())?;
    }
    shared.update(|s| {
        s.online = true;
        s.clock_offset = c.offset();
    });
    // Records first: they are what must not wait; then what the station downloads.
    let active = device.venue_id.clone().unwrap_or_default();
    deliver(shared, store, c, Share::Active(&active), config.batch_size)?;
    deliver_parked(shared, store, data_dir, &url, config)?;
    super::phone::phone_check_ins(store, c, &active)?;
    let now = shared.time.now();
    let forced = shared.force_pull.swap(false, Ordering::SeqCst);
    if forced || last_pull.is_none_or(|t| now - t >= config.pull_every) {
        pull(shared, store, data_dir, c)?;
        *last_pull = Some(now);
    }
    // A device key past its age, or a rotation left half-done (a crash, a lost answer): replace
    // it now; the next round builds its client with the new key.
    let made = store.device_key_made_at(now)?;
    if store.pending_device_key()?.is_some() || now - made >= config.key_max_age {
        let root = station_root(store, data_dir)?;
        let transport = super::Transport::for_station(store, data_dir, config.allow_http)?;
        let id = super::enrolment::rotate_device_key(store, &url, root, &shared.time, &transport)?;
        shared.update(|s| s.device_id = Some(id));
        *client = None;
    }
    Ok(())
}

/// Which records a key sends.
#[derive(Clone, Copy)]
enum Share<'a> {
    /// The venue active when the round began, and records of no venue held.
    Active(&'a str),
    /// A parked venue's.
    Parked(&'a str),
}

/// Uploads every waiting record of `share` under `c`'s key, batch by batch.
fn deliver(
    shared: &Shared,
    store: &mut Store,
    c: &Client,
    share: Share<'_>,
    batch_size: usize,
) -> Result<(), SyncError> {
    loop {
        let batch = match share {
            Share::Parked(v) => store.pending_of_venue(v, batch_size)?,
            Share::Active(v) => store.pending(v, batch_size)?,
        };
        if batch.is_empty() {
            return Ok(());
        }
        if settle(shared, store, c, &batch)? == 0 {
            return Err(SyncError::Decode("the server acknowledged nothing".into()));
        }
    }
}

/// Uploads the waiting records of the venues parked while another is active, each under its
/// own key. A refusal of a parked key (unbound, pending approval) is noted on that venue and
/// does not hold up the others; losing the network ends the round like any other failure.
fn deliver_parked(
    shared: &Shared,
    store: &mut Store,
    data_dir: &Path,
    url: &str,
    config: &SyncConfig,
) -> Result<(), SyncError> {
    let waiting: std::collections::HashMap<String, i64> =
        store.waiting_by_venue()?.into_iter().collect();
    for p in store.parked_venues()? {
        if waiting.get(&p.binding.venue_id).copied().unwrap_or(0) == 0 {
            continue;
        }
        let c = Client::for_device(
            store,
            data_dir,
            url,
            &p.secret_key,
            shared.time.clone(),
            config.request_timeout,
            config.allow_http,
        )?;
        match deliver(
            shared,
            store,
            &c,
            Share::Parked(&p.binding.venue_id),
            config.batch_size,
        ) {
            Ok(()) if p.problem.is_some() => store.set_parked_problem(&p.binding.venue_id, None)?,
            Ok(()) => {}
            Err(e @ SyncError::Server { .. }) => {
                store.set_parked_problem(&p.binding.venue_id, Some(&e.code()))?
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Whether a refusal is about the batch's content (so splitting it can isolate the cause), not
/// about the device, the request's signature or the server's state.
fn refuses_content(status: u16) -> bool {
    matches!(status, 400 | 413 | 422)
}

/// Uploads `batch` and records the outcome: acknowledged ids marked sent, named records set
/// aside. When the server refuses the content without naming a record (a record it cannot
/// parse, a batch too large), the batch is halved until the offending record is alone; that
/// one is set aside with the server's reason (kept and counted as rejected) and the rest are
/// delivered. Returns how many records were settled (sent or set aside).
fn settle(
    shared: &Shared,
    store: &mut Store,
    c: &Client,
    batch: &[PendingRecord],
) -> Result<usize, SyncError> {
    match c.upload(batch) {
        Ok(out) => {
            for (id, reason) in &out.rejected {
                store.mark_rejected(id, reason)?;
            }
            let n = store.mark_sent(&out.acked, shared.time.now())?;
            shared.update(|s| s.sent_total += n as u64);
            Ok(out.acked.len() + out.rejected.len())
        }
        Err(SyncError::Server { status, body })
            if refuses_content(status) && body.rejected.is_empty() =>
        {
            if let [one] = batch {
                let reason = format!("{}: {}", body.error, body.message);
                store.mark_rejected(&one.record_id, &reason)?;
                return Ok(1);
            }
            let (a, b) = batch.split_at(batch.len() / 2);
            Ok(settle(shared, store, c, a)? + settle(shared, store, c, b)?)
        }
        Err(e) => Err(e),
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Most revocation pages one pull round fetches before it yields (the next round goes on from
/// the cursor reached): 100 pages of 5,000.
const MAX_PAGES_PER_ROUND: usize = 100;

/// Pulls and keeps what the server has for this station: every page of revocations from the
/// cursor held (each page applied and its cursor kept in one transaction), the trust list when
/// newer (never older than the highest version seen), the venue entry and policy.
fn pull(shared: &Shared, store: &mut Store, data_dir: &Path, c: &Client) -> Result<(), SyncError> {
    let root = station_root(store, data_dir)?;
    let seen = store.trust_version_seen()?;
    let held = crate::checking::load_trust(data_dir, &root, seen).ok();
    // Ask from the highest version seen, so a deleted file brings back only a list at least as
    // new as the one the station had.
    let ask_version = held.as_ref().map_or(0, |h| h.version.max(seen));
    let mut res = c.pull(ask_version, store.revocation_cursor()?)?;
    shared.update(|s| s.pending = res.pending);
    let b64 = base64::engine::general_purpose::STANDARD;
    if let Some(list) = &res.trust_list {
        let bytes = b64
            .decode(list)
            .map_err(|e| SyncError::Decode(format!("trust list: {e}")))?;
        let list = TrustList::verify(&bytes, &root)
            .map_err(|e| SyncError::Trust(format!("trust list from the server: {e}")))?;
        if list.version < seen {
            return Err(SyncError::Trust(format!(
                "the server sent trust list version {}, older than version {seen} this station already accepted",
                list.version
            )));
        }
        crate::checking::save_trust(data_dir, &bytes)?;
        store.see_trust_version(list.version)?;
        shared.update(|s| s.trust_version = list.version);
    } else if let Some(h) = &held {
        shared.update(|s| s.trust_version = h.version);
    } else {
        return Err(SyncError::Trust(
            "the station has no trust list and the server sent none".into(),
        ));
    }
    let mut pages = 0;
    loop {
        store
            .apply_revocation_page(&res.revocations)
            .map_err(|e| SyncError::Decode(format!("{e}")))?;
        pages += 1;
        if !res.revocations.more {
            break;
        }
        if pages >= MAX_PAGES_PER_ROUND {
            // Not up to date yet: the fetch time is not refreshed, so staleness stays honest.
            return Err(SyncError::Decode(format!(
                "revocations still arriving after {pages} pages; continuing next round"
            )));
        }
        res = c.pull(
            ask_version.max(store.trust_version_seen()?),
            res.revocations.until,
        )?;
    }
    let fetched = shared.time.now();
    store.put_sync_values(&[
        ("venue", json(&res.venue)),
        ("policy", json(&res.policy)),
        ("trust_fetched_at", fetched.to_rfc3339()),
        // The authority's sealing key, from this signed answer only ("" when the deployment
        // does not link registrations by hand).
        ("seal_key", res.seal_key.clone().unwrap_or_default()),
        // The device's credential for its venue's other stations on the LAN ("" while the
        // device waits for approval).
        (
            "lan_credential",
            res.lan.as_ref().map(json).unwrap_or_default(),
        ),
    ])?;
    if let Some(mut b) = store.binding()? {
        if b.venue_id == res.venue.venue_id && b.venue_name != res.venue.name {
            b.venue_name = res.venue.name.clone();
            store.set_binding(&b)?;
        }
    }
    shared.update(|s| s.trust_fetched_at = Some(fetched));
    Ok(())
}
