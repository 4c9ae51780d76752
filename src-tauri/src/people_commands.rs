//! Tauri commands for people's work areas: one thin function per IPC command in
//! `venuecode_ipc::people` — parse, run the `people` use case on a blocking thread with its own
//! store connection (HTTP blocks), map errors.

use chrono::Utc;
use tauri::State;
use venuecode_core::region::Regions;
use venuecode_ipc::{
    AmendOutcome, AmendVenue, ApplyOutcome, ChangeDevice, CheckApplication, CheckpointOutcome,
    CloseVenue, DecideApplication, DraftRow, FormProblem, GetVenue, HandOverVenue, IpcError,
    ListDrafts, ListRegions, ListVenues, Loaded, Me, PersonRole, QueueRow, RegionOption,
    RenewDeclarationCode, ReviewQueue, SaveCheckpoint, SignIn, SignOut, SubmitApplication,
    VenueRow, VenueView, WhoAmI, WithdrawApplication,
};

use crate::people::{self, PeopleClient, PeopleError};
use crate::store::Store;
use crate::AppState;

/// Runs `f` on a blocking thread with a store, the signed-in person (required) and a client.
pub(crate) async fn signed_in<T: Send + 'static>(
    state: &State<'_, AppState>,
    f: impl FnOnce(&mut Store, &PeopleClient, &Regions, &Me) -> Result<T, PeopleError> + Send + 'static,
) -> Result<T, IpcError> {
    let ctx = state.people.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let mut store = Store::open(&ctx.data_dir)?;
        let (me, token) = people::who_am_i(&store, Utc::now())?
            .ok_or_else(|| PeopleError::NotSignedIn("sign in first".into()))?;
        let client = ctx.client(&mut store, Some(token))?;
        f(&mut store, &client, &ctx.regions, &me)
    })
    .await
    .map_err(|e| IpcError::from(PeopleError::Offline(format!("the task failed: {e}"))))?
    .map_err(IpcError::from)
}

#[tauri::command]
pub async fn sign_in(state: State<'_, AppState>, req: SignIn) -> Result<Me, IpcError> {
    let ctx = state.people.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let mut store = Store::open(&ctx.data_dir)?;
        // Kiosk mode: nobody signs in at a residents' tablet (the station's guard, as a
        // people error the sign-in screen shows).
        if store.kiosk_on().map_err(PeopleError::from)? {
            return Err(PeopleError::from(crate::error::AppError::KioskOn));
        }
        let client = ctx.client(&mut store, None)?;
        people::sign_in(&mut store, &client, &req.username, &req.password)
    })
    .await
    .map_err(|e| IpcError::from(PeopleError::Offline(format!("the task failed: {e}"))))?
    .map_err(IpcError::from)
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>, req: SignOut) -> Result<(), IpcError> {
    let _ = req;
    let ctx = state.people.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let mut store = Store::open(&ctx.data_dir)?;
        let token = people::who_am_i(&store, Utc::now())?.map(|(_, t)| t);
        let client = token.and_then(|t| ctx.client(&mut store, Some(t)).ok());
        people::sign_out(&mut store, client.as_ref())
    })
    .await
    .map_err(|e| IpcError::from(PeopleError::Offline(format!("the task failed: {e}"))))?
    .map_err(IpcError::from)
}

#[tauri::command]
pub async fn who_am_i(state: State<'_, AppState>, req: WhoAmI) -> Result<Option<Me>, IpcError> {
    let _ = req;
    let store = state
        .store
        .lock()
        .map_err(|_| crate::error::AppError::Poisoned)?;
    Ok(people::who_am_i(&store, Utc::now())?.map(|(me, _)| me))
}

#[tauri::command]
pub async fn list_venues(
    state: State<'_, AppState>,
    req: ListVenues,
) -> Result<Loaded<Vec<VenueRow>>, IpcError> {
    let _ = req;
    signed_in(&state, |store, client, regions, _| {
        people::venues(store, client, regions, Utc::now())
    })
    .await
}

#[tauri::command]
pub async fn check_application(
    state: State<'_, AppState>,
    req: CheckApplication,
) -> Result<Vec<FormProblem>, IpcError> {
    let types = {
        let store = state
            .store
            .lock()
            .map_err(|_| crate::error::AppError::Poisoned)?;
        people::held_place_types(&store)
    };
    Ok(people::check_form(&req.form, &state.people.regions, &types))
}

#[tauri::command]
pub async fn list_place_types(
    state: State<'_, AppState>,
    req: venuecode_ipc::ListPlaceTypes,
) -> Result<Loaded<Vec<venuecode_ipc::PlaceTypeChoice>>, IpcError> {
    let _ = req;
    signed_in(&state, |store, client, _, _| {
        people::place_types(store, client, Utc::now())
    })
    .await
}

#[tauri::command]
pub async fn submit_application(
    state: State<'_, AppState>,
    req: SubmitApplication,
) -> Result<ApplyOutcome, IpcError> {
    signed_in(&state, move |store, client, regions, me| {
        if me.role != PersonRole::VenueAdmin {
            return Err(PeopleError::Forbidden("venue administrators apply".into()));
        }
        people::submit(
            store,
            client,
            regions,
            &req.form,
            req.draft_id.as_deref(),
            Utc::now(),
        )
    })
    .await
}

#[tauri::command]
pub async fn list_drafts(
    state: State<'_, AppState>,
    req: ListDrafts,
) -> Result<Vec<DraftRow>, IpcError> {
    let _ = req;
    let store = state
        .store
        .lock()
        .map_err(|_| crate::error::AppError::Poisoned)?;
    Ok(people::drafts(&store)?)
}

#[tauri::command]
pub async fn list_regions(
    state: State<'_, AppState>,
    req: ListRegions,
) -> Result<Vec<RegionOption>, IpcError> {
    Ok(people::regions_under(
        &state.people.regions,
        req.parent.as_deref(),
    ))
}

#[tauri::command]
pub async fn review_queue(
    state: State<'_, AppState>,
    req: ReviewQueue,
) -> Result<Loaded<Vec<QueueRow>>, IpcError> {
    let _ = req;
    signed_in(&state, |store, client, regions, _| {
        people::queue(store, client, regions, Utc::now())
    })
    .await
}

#[tauri::command]
pub async fn decide_application(
    state: State<'_, AppState>,
    req: DecideApplication,
) -> Result<VenueRow, IpcError> {
    signed_in(&state, move |_, client, regions, _| {
        people::decide(
            client,
            regions,
            &req.venue_id,
            req.approve,
            req.reason.as_deref(),
        )
    })
    .await
}

#[tauri::command]
pub async fn get_venue(
    state: State<'_, AppState>,
    req: GetVenue,
) -> Result<Loaded<VenueView>, IpcError> {
    signed_in(&state, move |store, client, regions, me| {
        let manages = me.role == PersonRole::VenueAdmin;
        people::venue(store, client, regions, manages, &req.venue_id, Utc::now())
    })
    .await
}

#[tauri::command]
pub async fn save_checkpoint(
    state: State<'_, AppState>,
    req: SaveCheckpoint,
) -> Result<CheckpointOutcome, IpcError> {
    signed_in(&state, move |_, client, _, _| {
        people::save_checkpoint(client, &req)
    })
    .await
}

#[tauri::command]
pub async fn change_device(state: State<'_, AppState>, req: ChangeDevice) -> Result<(), IpcError> {
    signed_in(&state, move |_, client, _, _| {
        people::change_device(client, &req.venue_id, &req.device_id, req.action)
    })
    .await
}

#[tauri::command]
pub async fn renew_declaration_code(
    state: State<'_, AppState>,
    req: RenewDeclarationCode,
) -> Result<String, IpcError> {
    signed_in(&state, move |_, client, _, _| {
        people::renew_code(client, &req.venue_id)
    })
    .await
}

#[tauri::command]
pub async fn amend_venue(
    state: State<'_, AppState>,
    req: AmendVenue,
) -> Result<AmendOutcome, IpcError> {
    signed_in(&state, move |store, client, regions, _| {
        let types = people::held_place_types(store);
        people::amend(client, regions, &types, &req.venue_id, &req.form)
    })
    .await
}

#[tauri::command]
pub async fn withdraw_application(
    state: State<'_, AppState>,
    req: WithdrawApplication,
) -> Result<(), IpcError> {
    signed_in(&state, move |_, client, _, _| {
        people::withdraw(client, &req.venue_id)
    })
    .await
}

#[tauri::command]
pub async fn close_venue(state: State<'_, AppState>, req: CloseVenue) -> Result<(), IpcError> {
    signed_in(&state, move |_, client, _, _| {
        people::close(client, &req.venue_id, &req.reason)
    })
    .await
}

#[tauri::command]
pub async fn hand_over_venue(
    state: State<'_, AppState>,
    req: HandOverVenue,
) -> Result<(), IpcError> {
    signed_in(&state, move |_, client, _, _| {
        people::hand_over(client, &req.venue_id, &req.username)
    })
    .await
}
