//! The VenueCode station app: the Tauri shell that hosts the Leptos UI, its commands, and the
//! local store.
//!
//! Invariants: commands are thin (parse, call the store or the core, map errors); no SQL outside
//! [`store`]; no rule that belongs in `venuecode-core` is written here. The same [`run`] serves
//! desktop and mobile (`mobile_entry_point`).

pub mod camera;
pub mod checking;
pub mod commands;
pub mod config;
pub mod error;
pub mod ipc_map;
pub mod kiosk;
pub mod people;
pub mod people_commands;
pub mod poster_commands;
pub mod posters;
pub mod presence;
pub mod report_commands;
pub mod scan;
pub mod sources;
pub mod station;
pub mod station_venues;
pub mod store;
pub mod sync;
pub mod vault;

use std::sync::Mutex;

use tauri::Manager;

/// What every command can reach.
pub struct AppState {
    pub config: config::AppConfig,
    pub store: Mutex<store::Store>,
    /// The running scan, if any.
    pub scan: Mutex<Option<scan::ScanSession>>,
    /// The background sync worker.
    pub sync: sync::SyncHandle,
    /// What people's commands need (server, CA, region table).
    pub people: people::PeopleContext,
}

/// Builds and runs the app until its last window closes.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let result = tauri::Builder::default()
        .setup(|app| {
            let default_dir = app.path().app_data_dir()?;
            let config = config::AppConfig::from_env(default_dir)?;
            let store = store::Store::open(&config.data_dir)?;
            let sync = sync::SyncHandle::start(
                &config.data_dir,
                config.server_url.clone(),
                sync::SyncConfig {
                    batch_size: config.sync_batch,
                    allow_http: config.allow_http,
                    // Presence shared with the venue's other gates: the server's relay, and the
                    // LAN unless VENUECODE_LAN=off (presence/lan.rs).
                    presence: presence::PresenceConfig {
                        relay: true,
                        lan: presence::LanConfig::from_env(),
                    },
                    ..sync::SyncConfig::default()
                },
            );
            let people = people::PeopleContext {
                data_dir: config.data_dir.clone(),
                server_url: config.server_url.clone(),
                allow_http: config.allow_http,
                regions: std::sync::Arc::new(config::regions()?),
            };
            people::start_draft_sender(people.clone());
            app.manage(AppState {
                people,
                config,
                store: Mutex::new(store),
                scan: Mutex::new(None),
                sync,
            });
            Ok(())
        })
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!("../tauri.conf.json"));
    match result {
        Ok(app) => app.run(|handle, event| {
            // The sync worker returns before the process exits (see `stop_and_wait`).
            if let tauri::RunEvent::Exit = event {
                if let Some(state) = handle.try_state::<AppState>() {
                    state.sync.stop_and_wait(std::time::Duration::from_secs(3));
                }
            }
        }),
        Err(err) => {
            eprintln!("venuecode: the app could not start: {err}");
            std::process::exit(1);
        }
    }
}
