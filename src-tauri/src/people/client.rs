//! The HTTP side of people's work: bearer-token requests to the server's people routes, over
//! https to a server certified by the deployment's CA (the one pinned at provisioning), never
//! following redirects.
//!
//! Invariants: the token is sent only to the configured server; an error answer is read for its
//! stable code, message and field problems, never shown raw; a server that cannot be reached is
//! `Offline` (the caller falls back to what it kept), nothing else is.

use std::time::Duration;

use serde::Deserialize;
use venuecode_ipc::{ErrorCode, FormProblem, IpcError};

use crate::error::AppError;
use crate::sync::Transport;

/// What a people request came to, when not success.
#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error("the server cannot be reached: {0}")]
    Offline(String),
    #[error("not signed in: {0}")]
    NotSignedIn(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("sign-in refused: {0}")]
    SignInRefused(String),
    #[error("the server refused ({code}): {message}")]
    Refused { code: String, message: String },
    #[error("some fields are wrong")]
    Invalid(Vec<FormProblem>),
    #[error("the server's answer was not understood: {0}")]
    Decode(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<PeopleError> for IpcError {
    fn from(e: PeopleError) -> IpcError {
        if let PeopleError::App(AppError::KioskOn) = &e {
            return IpcError::from(AppError::KioskOn);
        }
        let code = match &e {
            PeopleError::Offline(_) => ErrorCode::Offline,
            PeopleError::NotSignedIn(_) => ErrorCode::NotSignedIn,
            PeopleError::Forbidden(_) => ErrorCode::Forbidden,
            PeopleError::SignInRefused(_) => ErrorCode::SignInRefused,
            PeopleError::Refused { .. } => ErrorCode::ServerRefused,
            PeopleError::Invalid(_) => ErrorCode::Invalid,
            PeopleError::Decode(_) => ErrorCode::Internal,
            PeopleError::App(a) => return IpcError::from(AppError::Invalid(a.to_string())),
        };
        let detail = match &e {
            // The UI shows the server's code beside the message ("server refused: not_pending").
            PeopleError::Refused { code, message } => format!("{code}: {message}"),
            other => other.to_string(),
        };
        IpcError { code, detail }
    }
}

#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    problems: Vec<FormProblem>,
}

/// A client for one server, carrying one person's token.
pub struct PeopleClient {
    http: reqwest::blocking::Client,
    base: String,
    token: Option<String>,
}

impl PeopleClient {
    /// A client for `base` (no trailing slash) through `transport`.
    pub fn new(
        base: &str,
        transport: &Transport,
        token: Option<String>,
    ) -> Result<Self, PeopleError> {
        let http = transport
            .http_client(base, Duration::from_secs(15))
            .map_err(|e| PeopleError::Offline(e.to_string()))?;
        Ok(PeopleClient {
            http,
            base: base.to_string(),
            token,
        })
    }

    /// Sends a request; the body of a 2xx answer, or why not.
    pub fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, PeopleError> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            let bytes = serde_json::to_vec(b).map_err(|e| PeopleError::Decode(e.to_string()))?;
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes);
        }
        let res = req
            .send()
            .map_err(|e| PeopleError::Offline(e.to_string()))?;
        let status = res.status();
        let bytes = res
            .bytes()
            .map_err(|e| PeopleError::Offline(e.to_string()))?
            .to_vec();
        if status.is_success() {
            return Ok(bytes);
        }
        let err: ErrorAnswer = serde_json::from_slice(&bytes).unwrap_or(ErrorAnswer {
            error: status.as_u16().to_string(),
            message: String::new(),
            problems: Vec::new(),
        });
        Err(match status.as_u16() {
            401 => PeopleError::NotSignedIn(err.message),
            403 => PeopleError::Forbidden(err.message),
            422 if !err.problems.is_empty() => PeopleError::Invalid(err.problems),
            502..=504 => PeopleError::Offline(format!("{}: {}", err.error, err.message)),
            _ => PeopleError::Refused {
                code: err.error,
                message: err.message,
            },
        })
    }

    /// Sends and decodes the answer.
    pub fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, PeopleError> {
        let bytes = self.send(method, path, body)?;
        serde_json::from_slice(&bytes).map_err(|e| PeopleError::Decode(e.to_string()))
    }
}
