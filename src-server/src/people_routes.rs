//! HTTP routes for people (not stations). Each states its role; each calls
//! [`people::authenticate`] and asks core's `Principal::may` before doing anything.
//!
//! | route | role |
//! |---|---|
//! | `POST /api/v1/auth/login` | anyone (user name and password) |
//! | `POST /api/v1/auth/logout` | any signed-in person |
//! | `GET /api/v1/auth/me` | any signed-in person (their own account) |
//! | `GET /api/v1/accounts` | system administrator |
//! | `POST /api/v1/accounts/invitations` | system administrator (invites to a role) |
//! | `POST /api/v1/accounts/accept` | anyone holding an invitation's one-time code |

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use venuecode_core::accounts::{Action, Role};

use crate::error::ApiError;
use crate::people::{self, AccountView, LoginRequest, LoginResponse};
use crate::{blocking, body_bytes, json, AppState};

/// The people routes, merged into the app.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/accounts", get(list_accounts))
        .route("/api/v1/accounts/invitations", post(invite))
        .route("/api/v1/accounts/accept", post(accept))
}

async fn login(
    State(state): State<AppState>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<LoginResponse>, ApiError> {
    let req: LoginRequest = json(&body_bytes(body)?)?;
    let store = state.store();
    blocking(move || Ok(Json(people::login(store.as_ref(), &req, Utc::now())?))).await
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let store = state.store();
    blocking(move || {
        people::logout(store.as_ref(), &headers, Utc::now())?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<AccountView>, ApiError> {
    let store = state.store();
    blocking(move || {
        let (account, _) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        Ok(Json(AccountView::from(&account)))
    })
    .await
}

async fn list_accounts(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<AccountView>>, ApiError> {
    let store = state.store();
    blocking(move || {
        let (_, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        if !who.may(Action::ManageAccounts) {
            return Err(ApiError::Forbidden(
                "only a system administrator manages accounts".into(),
            ));
        }
        Ok(Json(
            store.accounts()?.iter().map(AccountView::from).collect(),
        ))
    })
    .await
}

async fn invite(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<people::InviteResponse>), ApiError> {
    let body = body_bytes(body)?;
    let store = state.store();
    let regions = state.regions.clone();
    let rules = state.rules;
    blocking(move || {
        let (_, who) = people::authenticate(store.as_ref(), &headers, Utc::now())?;
        if !who.may(Action::ManageAccounts) {
            return Err(ApiError::Forbidden(
                "only a system administrator invites people".into(),
            ));
        }
        let req: people::InviteRequest = json(&body)?;
        if req.role == "venue_admin" {
            // Each venue named gets one more administrator: the deployment may limit them.
            let accounts = store.accounts()?;
            for venue in &req.scopes {
                let admins = accounts
                    .iter()
                    .filter(|a| a.role == Role::VenueAdmin && a.scopes.contains(venue))
                    .count();
                rules
                    .check_add_admin(admins)
                    .map_err(|e| ApiError::Unprocessable(e.code(), format!("{venue}: {e}")))?;
            }
        }
        let res = people::invite(store.as_ref(), &who, &req, &regions, Utc::now())?;
        Ok((StatusCode::CREATED, Json(res)))
    })
    .await
}

async fn accept(
    State(state): State<AppState>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let req: people::AcceptRequest = json(&body_bytes(body)?)?;
    let store = state.store();
    blocking(move || {
        Ok((
            StatusCode::CREATED,
            Json(people::accept(store.as_ref(), &req, Utc::now())?),
        ))
    })
    .await
}
