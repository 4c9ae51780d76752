//! Tauri commands: one thin function per IPC command in `venuecode-ipc`.
//!
//! Each takes its request as the single argument `req`, calls the store, and maps errors to
//! [`IpcError`]. `tests::every_command_is_registered` calls every name in
//! `venuecode_ipc::ALL_COMMANDS` through the real IPC path, so the handler and the wire list
//! cannot drift apart.

use tauri::State;
use venuecode_ipc::{AppInfo, AppInfoRequest, GetSettings, IpcError, SetLanguage, Settings};

use crate::{error::AppError, AppState};

/// The invoke handler with every command registered.
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static
{
    tauri::generate_handler![app_info, get_settings, set_language]
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

    fn sample_request(name: &str) -> serde_json::Value {
        match name {
            AppInfoRequest::NAME => json!(AppInfoRequest {}),
            GetSettings::NAME => json!(GetSettings {}),
            SetLanguage::NAME => json!(SetLanguage {
                language: venuecode_ipc::Language::En
            }),
            other => panic!("no sample request for command {other}: add one here"),
        }
    }

    #[test]
    fn every_command_is_registered() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState {
            config: AppConfig {
                data_dir: dir.path().to_path_buf(),
                server_url: None,
            },
            store: Mutex::new(Store::open(dir.path()).unwrap()),
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
