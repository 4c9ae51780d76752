//! Tauri commands: one thin function per IPC command in `venuecode-ipc`.
//!
//! Each takes its request as the single argument `req`, calls the store, and maps errors to
//! [`IpcError`]. `tests::every_command_is_registered` calls every name in
//! `venuecode_ipc::ALL_COMMANDS` through the real IPC path, so the handler and the wire list
//! cannot drift apart.

use std::sync::Arc;

use tauri::{AppHandle, Emitter, Runtime, State};
use venuecode_ipc::{
    AppInfo, AppInfoRequest, CheckCode, CheckInRow, CheckKioskPin, CodeCheck, EnrolStation,
    GetBinding, GetCounters, GetSettings, GetSyncStatus, IpcError, ManualOutcome, RegisterManual,
    ScanCode, ScanEnded, ScanPreview, ScanSeen, ScanStarted, ScanStopped, ScanVerdict, SetBinding,
    SetKioskPin, SetLanguage, SetStationOptions, Settings, StartScan, StationBinding,
    StationCounters, StopScan, SubmitScan, SyncNow, SyncStatus, TodayCheckIns, EVENT_CODE,
    EVENT_PREVIEW, EVENT_SEEN, EVENT_SOURCE_ENDED,
};

use crate::scan::{ScanSession, ScanSink};
use crate::{error::AppError, AppState};

/// The invoke handler with every command registered.
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static
{
    tauri::generate_handler![
        app_info,
        get_settings,
        set_language,
        start_scan,
        stop_scan,
        check_code,
        get_binding,
        set_binding,
        submit_scan,
        get_counters,
        register_manual,
        today_check_ins,
        set_kiosk_pin,
        check_kiosk_pin,
        get_kiosk,
        set_station_options,
        list_cameras,
        set_camera,
        enrol_station,
        get_sync_status,
        sync_now,
        crate::people_commands::sign_in,
        crate::people_commands::sign_out,
        crate::people_commands::who_am_i,
        crate::people_commands::list_venues,
        crate::people_commands::check_application,
        crate::people_commands::submit_application,
        crate::people_commands::list_drafts,
        crate::people_commands::list_regions,
        crate::people_commands::review_queue,
        crate::people_commands::decide_application,
        crate::people_commands::get_venue,
        crate::people_commands::save_checkpoint,
        crate::people_commands::change_device,
        crate::people_commands::renew_declaration_code,
        crate::people_commands::amend_venue,
        crate::people_commands::withdraw_application,
        crate::people_commands::close_venue,
        crate::people_commands::hand_over_venue,
        station_checkpoints,
        station_venues,
        switch_venue,
        forget_venue,
        crate::people_commands::list_place_types,
        crate::poster_commands::preview_poster,
        crate::poster_commands::save_poster,
        crate::poster_commands::save_all_posters,
        crate::poster_commands::poster_folder,
        crate::poster_commands::open_poster,
        crate::report_commands::venue_statistics,
        crate::report_commands::set_capacity,
        crate::report_commands::station_statistics,
        crate::report_commands::list_alerts,
        crate::report_commands::count_alerts,
        crate::report_commands::handle_alert,
        crate::report_commands::trace_person,
        crate::report_commands::trace_audit_log
    ]
}

#[tauri::command]
async fn app_info(state: State<'_, AppState>, req: AppInfoRequest) -> Result<AppInfo, IpcError> {
    let _ = req;
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        commit: env!("VENUECODE_COMMIT").to_string(),
        data_dir: state.config.data_dir.display().to_string(),
        server_url: state.config.server_url.clone(),
    })
}

#[tauri::command]
async fn get_settings(state: State<'_, AppState>, req: GetSettings) -> Result<Settings, IpcError> {
    let _ = req;
    let store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    Ok(store.settings()?)
}

#[tauri::command]
async fn set_language(state: State<'_, AppState>, req: SetLanguage) -> Result<Settings, IpcError> {
    let mut store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    Ok(store.set_language(req.language)?)
}

/// Sends the scan loop's results to the window as events.
struct WindowSink<R: Runtime>(AppHandle<R>);

impl<R: Runtime> ScanSink for WindowSink<R> {
    fn preview(&self, p: ScanPreview) {
        let _ = self.0.emit(EVENT_PREVIEW, p);
    }
    fn seen(&self, s: ScanSeen) {
        let _ = self.0.emit(EVENT_SEEN, s);
    }
    fn code(&self, c: ScanCode) {
        let _ = self.0.emit(EVENT_CODE, c);
    }
    fn ended(&self, e: ScanEnded) {
        let _ = self.0.emit(EVENT_SOURCE_ENDED, e);
    }
}

#[tauri::command]
async fn start_scan<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    req: StartScan,
) -> Result<ScanStarted, IpcError> {
    let mut slot = state.scan.lock().map_err(|_| AppError::Poisoned)?;
    if let Some(old) = slot.take() {
        old.stop();
    }
    let session = ScanSession::start(&req.source, Arc::new(WindowSink(app)))?;
    let description = session.description.clone();
    *slot = Some(session);
    Ok(ScanStarted { description })
}

#[tauri::command]
async fn stop_scan(state: State<'_, AppState>, req: StopScan) -> Result<ScanStopped, IpcError> {
    let _ = req;
    let session = state.scan.lock().map_err(|_| AppError::Poisoned)?.take();
    let (frames, dropped) = session.map(ScanSession::stop).unwrap_or((0, 0));
    Ok(ScanStopped { frames, dropped })
}

#[tauri::command]
async fn check_code(state: State<'_, AppState>, req: CheckCode) -> Result<CodeCheck, IpcError> {
    let mut store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    let now = state.sync.trusted_now();
    let trust = crate::checking::station_trust(&mut store, &state.config.data_dir, now);
    Ok(crate::checking::check(
        &req.text,
        trust,
        &store.revocation_check(),
        now,
    ))
}

#[tauri::command]
async fn get_binding(
    state: State<'_, AppState>,
    req: GetBinding,
) -> Result<Option<StationBinding>, IpcError> {
    let _ = req;
    let store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    Ok(store.binding()?.as_ref().map(crate::station::to_wire))
}

#[tauri::command]
async fn set_binding(
    state: State<'_, AppState>,
    req: SetBinding,
) -> Result<StationBinding, IpcError> {
    let mut store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    crate::kiosk::guard(&store)?;
    let binding = crate::station::rebind(&mut store, &req.binding)?;
    Ok(crate::station::to_wire(&binding))
}

#[tauri::command]
async fn submit_scan(state: State<'_, AppState>, req: SubmitScan) -> Result<ScanVerdict, IpcError> {
    let mut store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    let fresh = crate::station::freshness(&store, &state.sync.time())?;
    let temperature = crate::kiosk::temperature(&store, req.temperature)?;
    let verdict = crate::station::submit(
        &mut store,
        &state.config.data_dir,
        &req.text,
        temperature,
        state.sync.trusted_now(),
        fresh,
    )?;
    if verdict.recorded {
        state.sync.wake();
    }
    Ok(verdict)
}

#[tauri::command]
async fn get_counters(
    state: State<'_, AppState>,
    req: GetCounters,
) -> Result<StationCounters, IpcError> {
    let _ = req;
    let store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    Ok(crate::station::counters(&store, state.sync.trusted_now())?)
}

#[tauri::command]
async fn register_manual(
    state: State<'_, AppState>,
    req: RegisterManual,
) -> Result<ManualOutcome, IpcError> {
    let mut store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    let outcome = crate::station::register_manual(
        &mut store,
        &state.config.data_dir,
        &req,
        state.sync.trusted_now(),
    )?;
    state.sync.wake();
    Ok(outcome)
}

#[tauri::command]
async fn today_check_ins(
    state: State<'_, AppState>,
    req: TodayCheckIns,
) -> Result<Vec<CheckInRow>, IpcError> {
    let _ = req;
    let store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    Ok(crate::station::today(&store, state.sync.trusted_now(), 50)?)
}

#[tauri::command]
async fn set_kiosk_pin(state: State<'_, AppState>, req: SetKioskPin) -> Result<bool, IpcError> {
    let mut store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    Ok(crate::kiosk::enter(&mut store, &req.pin)?)
}

#[tauri::command]
async fn check_kiosk_pin(state: State<'_, AppState>, req: CheckKioskPin) -> Result<bool, IpcError> {
    let mut store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    Ok(crate::kiosk::leave(
        &mut store,
        &req.pin,
        state.sync.trusted_now(),
    )?)
}

#[tauri::command]
async fn get_kiosk(
    state: State<'_, AppState>,
    req: venuecode_ipc::GetKiosk,
) -> Result<venuecode_ipc::KioskState, IpcError> {
    let _ = req;
    let store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    Ok(crate::kiosk::state(&store, state.sync.trusted_now())?)
}

#[tauri::command]
async fn set_station_options(
    state: State<'_, AppState>,
    req: SetStationOptions,
) -> Result<Settings, IpcError> {
    let mut store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    crate::kiosk::guard(&store)?;
    Ok(crate::station::set_options(
        &mut store,
        req.clear_after_secs,
        req.sound,
        req.auto_close_hours,
    )?)
}

#[tauri::command]
async fn list_cameras(
    req: venuecode_ipc::ListCameras,
) -> Result<Vec<venuecode_ipc::CameraInfo>, IpcError> {
    let _ = req;
    // Asking the platform can block on a device: not on the UI's thread.
    tauri::async_runtime::spawn_blocking(|| crate::camera::platform().cameras())
        .await
        .map_err(|e| IpcError {
            code: venuecode_ipc::ErrorCode::Internal,
            detail: e.to_string(),
        })?
        .map_err(crate::scan::source_error)
}

#[tauri::command]
async fn set_camera(
    state: State<'_, AppState>,
    req: venuecode_ipc::SetCamera,
) -> Result<Settings, IpcError> {
    let mut store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    crate::kiosk::guard(&store)?;
    req.camera
        .check()
        .map_err(|field| AppError::Invalid(format!("camera {field} is not one offered")))?;
    Ok(store.set_camera(req.camera)?)
}

#[tauri::command]
async fn enrol_station(
    state: State<'_, AppState>,
    req: EnrolStation,
) -> Result<StationBinding, IpcError> {
    let server = req
        .server_url
        .as_deref()
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty())
        .or_else(|| state.config.server_url.clone())
        .ok_or_else(|| AppError::Invalid("no server address".into()))?;
    let data_dir = state.config.data_dir.clone();
    let allow_http = state.config.allow_http;
    let time = state.sync.time();
    // The HTTP client blocks: run the enrolment on a blocking thread with its own connection.
    let binding = tauri::async_runtime::spawn_blocking(move || {
        let mut store = crate::store::Store::open(&data_dir)?;
        crate::kiosk::guard(&store)?;
        let direction = store
            .binding()?
            .map(|b| b.direction)
            .unwrap_or(venuecode_core::gate::Direction::Entry);
        crate::sync::enrol(
            &mut store,
            &data_dir,
            &time,
            &crate::sync::Enrolment {
                server_url: &server,
                declaration_code: req.declaration_code.trim(),
                inspector: req.inspector.trim(),
                checkpoint_id: req.checkpoint_id.as_deref().filter(|c| !c.is_empty()),
                direction,
                allow_http,
            },
        )?;
        Ok::<_, IpcError>(store.binding()?)
    })
    .await
    .map_err(|e| AppError::Invalid(format!("enrolment task failed: {e}")))??
    .ok_or(AppError::NotBound)?;
    state.sync.sync_now();
    Ok(crate::station::to_wire(&binding))
}

#[tauri::command]
async fn station_checkpoints(
    state: State<'_, AppState>,
    req: venuecode_ipc::StationCheckpoints,
) -> Result<Vec<venuecode_ipc::CheckpointChoice>, IpcError> {
    let _ = req;
    let store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    Ok(crate::station::checkpoints(&store)?
        .into_iter()
        .map(|c| venuecode_ipc::CheckpointChoice {
            checkpoint_id: c.checkpoint_id,
            name: c.name,
            disabled: c.disabled,
        })
        .collect())
}

#[tauri::command]
async fn station_venues(
    state: State<'_, AppState>,
    req: venuecode_ipc::StationVenues,
) -> Result<Vec<venuecode_ipc::StationVenue>, IpcError> {
    let _ = req;
    let store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    Ok(crate::station_venues::list(&store)?)
}

#[tauri::command]
async fn switch_venue(
    state: State<'_, AppState>,
    req: venuecode_ipc::SwitchVenue,
) -> Result<StationBinding, IpcError> {
    let binding = {
        let mut store = state.store.lock().map_err(|_| AppError::Poisoned)?;
        crate::kiosk::guard(&store)?;
        crate::station_venues::switch(&mut store, &req.venue_id)?
    };
    // The venue's registry entry and policy are pulled under its key now.
    state.sync.sync_now();
    Ok(binding)
}

#[tauri::command]
async fn forget_venue(
    state: State<'_, AppState>,
    req: venuecode_ipc::ForgetVenue,
) -> Result<u64, IpcError> {
    let mut store = state.store.lock().map_err(|_| AppError::Poisoned)?;
    crate::kiosk::guard(&store)?;
    Ok(crate::station_venues::forget(&mut store, &req.venue_id)?)
}

#[tauri::command]
async fn get_sync_status(
    state: State<'_, AppState>,
    req: GetSyncStatus,
) -> Result<SyncStatus, IpcError> {
    let _ = req;
    Ok(state.sync.status().to_wire(state.sync.trusted_now()))
}

#[tauri::command]
async fn sync_now(state: State<'_, AppState>, req: SyncNow) -> Result<SyncStatus, IpcError> {
    let _ = req;
    state.sync.sync_now();
    Ok(state.sync.status().to_wire(state.sync.trusted_now()))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::json;
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::webview::InvokeRequest;
    use tauri::Manager;
    use venuecode_ipc::{Command, ALL_COMMANDS, ARG};

    use super::*;
    use crate::{config::AppConfig, store::Store};

    fn poster_choice() -> venuecode_ipc::PosterChoice {
        venuecode_ipc::PosterChoice {
            venue_id: "v".into(),
            checkpoint_id: "main".into(),
            direction: venuecode_ipc::Direction::Entry,
            size: "a4".into(),
            template: None,
        }
    }

    fn sample_request(name: &str) -> serde_json::Value {
        match name {
            AppInfoRequest::NAME => json!(AppInfoRequest {}),
            GetSettings::NAME => json!(GetSettings {}),
            SetLanguage::NAME => json!(SetLanguage {
                language: venuecode_ipc::Language::En
            }),
            StartScan::NAME => json!(StartScan {
                source: venuecode_ipc::FrameSourceSpec::Synthetic { fps: 5 }
            }),
            StopScan::NAME => json!(StopScan {}),
            CheckCode::NAME => json!(CheckCode {
                text: "hello".into()
            }),
            GetBinding::NAME => json!(GetBinding {}),
            SetBinding::NAME => json!(SetBinding {
                binding: StationBinding {
                    venue_id: "V1".into(),
                    venue_name: "测试场所".into(),
                    checkpoint_id: "east".into(),
                    inspector: "王五".into(),
                    direction: venuecode_ipc::Direction::Entry,
                }
            }),
            SubmitScan::NAME => json!(SubmitScan {
                text: "hello".into(),
                temperature: venuecode_ipc::TemperatureInput::Normal,
            }),
            GetCounters::NAME => json!(GetCounters {}),
            RegisterManual::NAME => json!(RegisterManual {
                id_number: "11010519491231002X".into(),
                name: "王秀英".into(),
                phone: None,
                temperature: venuecode_ipc::TemperatureInput::Normal,
                proxy: None,
            }),
            TodayCheckIns::NAME => json!(TodayCheckIns {}),
            SetKioskPin::NAME => json!(SetKioskPin { pin: "2468".into() }),
            CheckKioskPin::NAME => json!(CheckKioskPin { pin: "2468".into() }),
            SetStationOptions::NAME => json!(SetStationOptions {
                clear_after_secs: 5,
                sound: false,
                auto_close_hours: 12
            }),
            venuecode_ipc::ListCameras::NAME => json!(venuecode_ipc::ListCameras {}),
            venuecode_ipc::SetCamera::NAME => json!(venuecode_ipc::SetCamera {
                camera: venuecode_ipc::CameraChoice::default()
            }),
            EnrolStation::NAME => json!(EnrolStation {
                server_url: None,
                declaration_code: "100001".into(),
                inspector: "王五".into(),
                checkpoint_id: None,
            }),
            GetSyncStatus::NAME => json!(GetSyncStatus {}),
            SyncNow::NAME => json!(SyncNow {}),
            venuecode_ipc::SignIn::NAME => json!(venuecode_ipc::SignIn {
                username: "demo.admin".into(),
                password: "x".into(),
            }),
            venuecode_ipc::SignOut::NAME => json!(venuecode_ipc::SignOut {}),
            venuecode_ipc::WhoAmI::NAME => json!(venuecode_ipc::WhoAmI {}),
            venuecode_ipc::ListVenues::NAME => json!(venuecode_ipc::ListVenues {}),
            venuecode_ipc::CheckApplication::NAME => json!(venuecode_ipc::CheckApplication {
                form: Default::default(),
            }),
            venuecode_ipc::SubmitApplication::NAME => json!(venuecode_ipc::SubmitApplication {
                form: Default::default(),
                draft_id: None,
            }),
            venuecode_ipc::ListDrafts::NAME => json!(venuecode_ipc::ListDrafts {}),
            venuecode_ipc::ListRegions::NAME => json!(venuecode_ipc::ListRegions { parent: None }),
            venuecode_ipc::ReviewQueue::NAME => json!(venuecode_ipc::ReviewQueue {}),
            venuecode_ipc::DecideApplication::NAME => json!(venuecode_ipc::DecideApplication {
                venue_id: "v".into(),
                approve: true,
                reason: None,
            }),
            venuecode_ipc::GetVenue::NAME => json!(venuecode_ipc::GetVenue {
                venue_id: "v".into()
            }),
            venuecode_ipc::SaveCheckpoint::NAME => json!(venuecode_ipc::SaveCheckpoint {
                venue_id: "v".into(),
                checkpoint_id: None,
                name: "北门".into(),
                responsible_name: "王五".into(),
                responsible_phone: "13800138000".into(),
                disabled: false,
            }),
            venuecode_ipc::ChangeDevice::NAME => json!(venuecode_ipc::ChangeDevice {
                venue_id: "v".into(),
                device_id: "d".into(),
                action: venuecode_ipc::DeviceAction::Approve,
            }),
            venuecode_ipc::StationCheckpoints::NAME => json!(venuecode_ipc::StationCheckpoints {}),
            venuecode_ipc::StationVenues::NAME => json!(venuecode_ipc::StationVenues {}),
            venuecode_ipc::SwitchVenue::NAME => json!(venuecode_ipc::SwitchVenue {
                venue_id: "v".into()
            }),
            venuecode_ipc::ForgetVenue::NAME => json!(venuecode_ipc::ForgetVenue {
                venue_id: "v".into()
            }),
            venuecode_ipc::ListPlaceTypes::NAME => json!(venuecode_ipc::ListPlaceTypes {}),
            venuecode_ipc::PreviewPoster::NAME => json!(venuecode_ipc::PreviewPoster {
                poster: poster_choice()
            }),
            venuecode_ipc::SavePoster::NAME => json!(venuecode_ipc::SavePoster {
                poster: poster_choice(),
                folder: "/nonexistent".into(),
                png_dpi: None,
            }),
            venuecode_ipc::SaveAllPosters::NAME => json!(venuecode_ipc::SaveAllPosters {
                venue_id: "v".into(),
                size: "a4".into(),
                template: None,
                folder: "/nonexistent".into(),
            }),
            venuecode_ipc::PosterFolder::NAME => json!(venuecode_ipc::PosterFolder {}),
            venuecode_ipc::OpenPoster::NAME => json!(venuecode_ipc::OpenPoster {
                path: "/nonexistent/poster.pdf".into()
            }),
            venuecode_ipc::AmendVenue::NAME => json!(venuecode_ipc::AmendVenue {
                venue_id: "v".into(),
                form: Default::default(),
            }),
            venuecode_ipc::WithdrawApplication::NAME => {
                json!(venuecode_ipc::WithdrawApplication {
                    venue_id: "v".into()
                })
            }
            venuecode_ipc::CloseVenue::NAME => json!(venuecode_ipc::CloseVenue {
                venue_id: "v".into(),
                reason: "x".into(),
            }),
            venuecode_ipc::HandOverVenue::NAME => json!(venuecode_ipc::HandOverVenue {
                venue_id: "v".into(),
                username: "x".into(),
            }),
            venuecode_ipc::RenewDeclarationCode::NAME => {
                json!(venuecode_ipc::RenewDeclarationCode {
                    venue_id: "v".into()
                })
            }
            venuecode_ipc::GetKiosk::NAME => json!(venuecode_ipc::GetKiosk {}),
            venuecode_ipc::SetCapacity::NAME => json!(venuecode_ipc::SetCapacity {
                venue_id: "v".into(),
                capacity: Some(3),
            }),
            venuecode_ipc::VenueStatistics::NAME => json!(venuecode_ipc::VenueStatistics {
                venue_id: "v".into(),
                days: 1,
            }),
            venuecode_ipc::StationStatistics::NAME => {
                json!(venuecode_ipc::StationStatistics { days: 1 })
            }
            venuecode_ipc::ListAlerts::NAME => json!(venuecode_ipc::ListAlerts::default()),
            venuecode_ipc::CountAlerts::NAME => json!(venuecode_ipc::CountAlerts {}),
            venuecode_ipc::HandleAlert::NAME => json!(venuecode_ipc::HandleAlert {
                venue_id: "v".into(),
                alert_id: "a".into(),
                note: "x".into(),
            }),
            venuecode_ipc::TracePerson::NAME => json!(venuecode_ipc::TracePerson::default()),
            venuecode_ipc::TraceAuditLog::NAME => json!(venuecode_ipc::TraceAuditLog {}),
            other => panic!("no sample request for command {other}: add one here"),
        }
    }

    #[test]
    fn the_window_may_call_exactly_the_listed_commands() {
        // Every handler is in venuecode-ipc's list (build.rs makes a permission per name)...
        let src = include_str!("commands.rs");
        let start = src.find("generate_handler![").expect("the handler list");
        let list = &src
            [start + "generate_handler![".len()..start + src[start..].find(']').expect("its end")];
        let handlers = list.split(',').filter(|e| !e.trim().is_empty()).count();
        assert_eq!(handlers, venuecode_ipc::ALL_COMMANDS.len(), "{list}");
        // ...and the main window's capability grants those and the scan events, nothing else.
        let cap: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/default.json")).unwrap();
        let mut granted: Vec<String> = cap["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        granted.sort();
        let mut wanted: Vec<String> = venuecode_ipc::ALL_COMMANDS
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .chain([
                "core:event:allow-listen".into(),
                "core:event:allow-unlisten".into(),
            ])
            .collect();
        wanted.sort();
        assert_eq!(granted, wanted);
    }

    #[test]
    fn every_command_is_registered() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState {
            config: AppConfig {
                data_dir: dir.path().to_path_buf(),
                server_url: None,
                sync_batch: crate::config::DEFAULT_SYNC_BATCH,
                allow_http: false,
            },
            store: Mutex::new(Store::open(dir.path()).unwrap()),
            scan: Mutex::new(None),
            sync: crate::sync::SyncHandle::start(
                dir.path(),
                None,
                crate::sync::SyncConfig::default(),
            ),
            people: crate::people::PeopleContext {
                data_dir: dir.path().to_path_buf(),
                server_url: None,
                allow_http: false,
                regions: std::sync::Arc::new(venuecode_core::region::Regions::demo()),
            },
        };
        let app = tauri::test::mock_builder()
            .manage(state)
            .invoke_handler(handler())
            .build(tauri::test::mock_context(tauri::test::noop_assets()))
            .unwrap();
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        for name in ALL_COMMANDS {
            let mut body = serde_json::Map::new();
            body.insert(ARG.to_string(), sample_request(name));
            let res = tauri::test::get_ipc_response(
                &webview,
                InvokeRequest {
                    cmd: (*name).to_string(),
                    callback: CallbackFn(0),
                    error: CallbackFn(1),
                    url: "tauri://localhost".parse().unwrap(),
                    body: InvokeBody::Json(serde_json::Value::Object(body)),
                    headers: Default::default(),
                    invoke_key: tauri::test::INVOKE_KEY.to_string(),
                },
            );
            if *name == EnrolStation::NAME {
                // No server is configured here: the command ran and said so.
                let err = format!("{res:?}");
                assert!(err.contains("no server address"), "{name}: {err}");
                continue;
            }
            if [
                venuecode_ipc::SwitchVenue::NAME,
                venuecode_ipc::ForgetVenue::NAME,
            ]
            .contains(name)
            {
                // Not enrolled anywhere: the command ran and said so.
                let err = format!("{res:?}");
                assert!(err.contains("venue v"), "{name}: {err}");
                continue;
            }
            if *name == venuecode_ipc::OpenPoster::NAME {
                // Nothing to open: the command ran and said which file.
                let err = format!("{res:?}");
                assert!(err.contains("/nonexistent/poster.pdf"), "{name}: {err}");
                continue;
            }
            if *name == venuecode_ipc::SignIn::NAME {
                let err = format!("{res:?}");
                assert!(err.contains("no server is configured"), "{name}: {err}");
                continue;
            }
            // A person's work without a person signed in: the command ran and said so.
            if [
                venuecode_ipc::ListVenues::NAME,
                venuecode_ipc::SubmitApplication::NAME,
                venuecode_ipc::ReviewQueue::NAME,
                venuecode_ipc::DecideApplication::NAME,
                venuecode_ipc::GetVenue::NAME,
                venuecode_ipc::SaveCheckpoint::NAME,
                venuecode_ipc::ChangeDevice::NAME,
                venuecode_ipc::RenewDeclarationCode::NAME,
                venuecode_ipc::AmendVenue::NAME,
                venuecode_ipc::WithdrawApplication::NAME,
                venuecode_ipc::CloseVenue::NAME,
                venuecode_ipc::HandOverVenue::NAME,
                venuecode_ipc::ListPlaceTypes::NAME,
                venuecode_ipc::PreviewPoster::NAME,
                venuecode_ipc::SavePoster::NAME,
                venuecode_ipc::SaveAllPosters::NAME,
                venuecode_ipc::VenueStatistics::NAME,
                venuecode_ipc::SetCapacity::NAME,
                venuecode_ipc::ListAlerts::NAME,
                venuecode_ipc::CountAlerts::NAME,
                venuecode_ipc::HandleAlert::NAME,
                venuecode_ipc::TracePerson::NAME,
                venuecode_ipc::TraceAuditLog::NAME,
            ]
            .contains(name)
            {
                let err = format!("{res:?}");
                assert!(err.contains("not_signed_in"), "{name}: {err}");
                continue;
            }
            assert!(res.is_ok(), "command {name} failed over IPC: {res:?}");
        }
        let settings = app
            .state::<AppState>()
            .store
            .lock()
            .unwrap()
            .settings()
            .unwrap();
        assert_eq!(settings.language, venuecode_ipc::Language::En);
    }
}
