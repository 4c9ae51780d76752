//! Presence shared between the gates of a venue (issue 18), kept by background threads beside
//! the sync worker: `relay.rs` long-polls the server's relay for the venue's passages from its
//! other gates (online, within about a second of their upload); `lan.rs` answers and asks the
//! venue's other stations on the local network directly (found by DNS-SD, authenticated by their
//! server-issued device certificates), so the gates agree while the internet is down.
//!
//! Everything heard lands in the store's passages (a grow-only set keyed by check-in id, see
//! `store/passages.rs`), which "already inside", exit matching and 场内 read: a passage heard on
//! the LAN and again through the server is one element.
//!
//! Invariants: the threads own their own database connections and never block the UI; after
//! [`Presence::stop`] no thread touches the database again (a process exiting while one is inside
//! SQLCipher crashes in the crypto library's clean-up); nothing personal is logged.

mod lan;
mod relay;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};

use crate::sync::TimeKeeper;

pub use lan::LanConfig;

/// What the presence threads do.
#[derive(Debug, Clone)]
pub struct PresenceConfig {
    /// Long-poll the server's relay (when a server is known).
    pub relay: bool,
    /// Exchange with the venue's other stations on the LAN.
    pub lan: Option<LanConfig>,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        PresenceConfig {
            relay: true,
            lan: None,
        }
    }
}

/// What the status shows about the shared presence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceStatus {
    /// The last relay answer arrived, and when.
    pub relay_online: bool,
    pub relay_last: Option<DateTime<Utc>>,
    /// The port the LAN endpoint listens on.
    pub lan_port: Option<u16>,
    /// Peers of this venue answering on the LAN now, by device id.
    pub lan_peers: Vec<String>,
    /// Messages refused from the LAN (another venue, a bad signature, ...), and the last reason.
    pub lan_refused: u64,
    pub lan_last_refused: Option<String>,
}

/// State shared by the presence threads.
pub(crate) struct Ctx {
    pub data_dir: PathBuf,
    pub server_url: Option<String>,
    pub allow_http: bool,
    pub time: Arc<TimeKeeper>,
    stop: AtomicBool,
    wake: Mutex<bool>,
    cv: Condvar,
    /// Held while a thread uses the database; [`Presence::stop_and_wait`] takes it for good.
    db: Mutex<()>,
    status: Mutex<PresenceStatus>,
}

impl Ctx {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps up to `d` or until stopped; true when stopped.
    fn sleep(&self, d: StdDuration) -> bool {
        let Ok(mut woken) = self.wake.lock() else {
            return true;
        };
        let deadline = std::time::Instant::now() + d;
        while !*woken && !self.stopped() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            match self.cv.wait_timeout(woken, left) {
                Ok((w, _)) => woken = w,
                Err(_) => return true,
            }
        }
        *woken = false;
        self.stopped()
    }

    /// The database guard, or `None` once stopping (the caller skips its write). Never waits
    /// on a stopped context: [`Presence::stop_and_wait`] keeps the guard for good, and a thread
    /// asking after that returns instead of hanging.
    fn db(&self) -> Option<MutexGuard<'_, ()>> {
        loop {
            if self.stopped() {
                return None;
            }
            match self.db.try_lock() {
                Ok(g) => return (!self.stopped()).then_some(g),
                Err(std::sync::TryLockError::WouldBlock) => {
                    std::thread::sleep(StdDuration::from_millis(1))
                }
                Err(std::sync::TryLockError::Poisoned(_)) => return None,
            }
        }
    }

    fn update(&self, f: impl FnOnce(&mut PresenceStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }
}

/// The presence threads' handle.
pub struct Presence {
    ctx: Arc<Ctx>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl Presence {
    /// Starts the threads `config` asks for over the store in `data_dir`.
    pub fn start(
        data_dir: PathBuf,
        server_url: Option<String>,
        allow_http: bool,
        time: Arc<TimeKeeper>,
        config: PresenceConfig,
    ) -> Presence {
        let ctx = Arc::new(Ctx {
            data_dir,
            server_url,
            allow_http,
            time,
            stop: AtomicBool::new(false),
            wake: Mutex::new(false),
            cv: Condvar::new(),
            db: Mutex::new(()),
            status: Mutex::new(PresenceStatus::default()),
        });
        let mut threads = Vec::new();
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|e| eprintln!("venuecode: {name} did not start: {e}"))
                .ok()
        };
        if config.relay {
            let c = ctx.clone();
            threads.extend(spawn("venuecode-relay", Box::new(move || relay::run(&c))));
        }
        if let Some(lan) = config.lan {
            match lan::Lan::start(ctx.clone(), lan) {
                Ok(parts) => {
                    for (name, f) in parts {
                        threads.extend(spawn(name, f));
                    }
                }
                Err(e) => eprintln!("venuecode: the LAN exchange did not start: {e}"),
            }
        }
        Presence {
            ctx,
            threads: Mutex::new(threads),
        }
    }

    pub fn status(&self) -> PresenceStatus {
        self.ctx
            .status
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Asks the threads to stop after their current step.
    pub fn stop(&self) {
        self.ctx.stop.store(true, Ordering::SeqCst);
        if let Ok(mut w) = self.ctx.wake.lock() {
            *w = true;
        }
        self.ctx.cv.notify_all();
    }

    /// Stops the threads; returns once none can touch the database again (a thread waiting on
    /// the network is left to end with the process). The guard is kept for good.
    pub fn stop_and_wait(&self, limit: StdDuration) -> bool {
        self.stop();
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Ok(g) = self.ctx.db.try_lock() {
                std::mem::forget(g);
                break;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(StdDuration::from_millis(5));
        }
        // Threads that are already done are joined (the LAN endpoint unblocks at once).
        if let Ok(mut t) = self.threads.lock() {
            for h in std::mem::take(&mut *t) {
                if h.is_finished() {
                    let _ = h.join();
                }
            }
        }
        true
    }
}
