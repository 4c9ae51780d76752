//! Tauri commands for posters (the venue administrator's): parse, read the venue's registry entry
//! (from the server, or what was kept), run the `posters` use case on a blocking thread, map
//! errors. "Save all" reports its progress as `poster-progress` events.

use std::path::PathBuf;

use chrono::Utc;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use venuecode_ipc::{
    IpcError, OpenPoster, PersonRole, PosterFolder, PosterPreview, PosterProgress, PreviewPoster,
    SaveAllPosters, SavePoster, SavedAll, SavedPoster, VenueView, EVENT_POSTER_PROGRESS,
};

use crate::people::{self, PeopleError};
use crate::people_commands::signed_in;
use crate::posters;
use crate::AppState;

/// The venue's entry with its doors' codes, for its administrator.
async fn venue_view(state: &State<'_, AppState>, venue_id: String) -> Result<VenueView, IpcError> {
    signed_in(state, move |store, client, regions, me| {
        if me.role != PersonRole::VenueAdmin {
            return Err(PeopleError::Forbidden(
                "posters are made by the venue's administrator".into(),
            ));
        }
        people::venue(store, client, regions, true, &venue_id, Utc::now()).map(|l| l.data)
    })
    .await
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, posters::PosterError> + Send + 'static,
) -> Result<T, IpcError> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| IpcError {
            code: venuecode_ipc::ErrorCode::Internal,
            detail: format!("the poster task failed: {e}"),
        })?
        .map_err(IpcError::from)
}

#[tauri::command]
pub async fn preview_poster(
    state: State<'_, AppState>,
    req: PreviewPoster,
) -> Result<PosterPreview, IpcError> {
    let view = venue_view(&state, req.poster.venue_id.clone()).await?;
    blocking(move || posters::preview(&view, &req.poster)).await
}

#[tauri::command]
pub async fn save_poster(
    state: State<'_, AppState>,
    req: SavePoster,
) -> Result<SavedPoster, IpcError> {
    let view = venue_view(&state, req.poster.venue_id.clone()).await?;
    blocking(move || {
        posters::save(
            &view,
            &req.poster,
            &PathBuf::from(req.folder.trim()),
            req.png_dpi,
        )
    })
    .await
}

#[tauri::command]
pub async fn save_all_posters<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    req: SaveAllPosters,
) -> Result<SavedAll, IpcError> {
    let view = venue_view(&state, req.venue_id.clone()).await?;
    blocking(move || {
        posters::save_all(
            &view,
            &req.size,
            req.template.as_deref(),
            &PathBuf::from(req.folder.trim()),
            |done, total| {
                let _ = app.emit(EVENT_POSTER_PROGRESS, PosterProgress { done, total });
            },
        )
    })
    .await
}

#[tauri::command]
pub async fn poster_folder<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    req: PosterFolder,
) -> Result<String, IpcError> {
    let _ = req;
    Ok(
        posters::default_folder(app.path().document_dir().ok(), &state.config.data_dir)
            .display()
            .to_string(),
    )
}

#[tauri::command]
pub async fn open_poster(req: OpenPoster) -> Result<(), IpcError> {
    blocking(move || posters::open(&req.path)).await
}
