//! The app's error type and its mapping to the wire error the UI understands.

use std::path::PathBuf;

use venuecode_ipc::{ErrorCode, IpcError};

/// Everything that can go wrong inside the app's commands and set-up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    #[error("cannot use data directory {path}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("local database {path}: {source}")]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("local database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("station keys: {0}")]
    Keys(#[from] crate::vault::VaultError),
    #[error("the local database {path} cannot be read with this station's key: it is damaged, or a copy from another station (move it away to start afresh)")]
    WrongKey { path: PathBuf },
    #[error("local database schema version {found} is newer than this app knows ({known}); update the app")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("the local store lock was poisoned by an earlier failure; restart the app")]
    Poisoned,
    #[error("cannot encode a record: {0}")]
    Encode(String),
    #[error("this station is not set up yet: bind it to a venue, checkpoint and inspector")]
    NotBound,
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("kiosk mode is on: the inspector's PIN leaves it first")]
    KioskOn,
    #[error("too many wrong PINs: the way out of kiosk mode is locked until {until}")]
    KioskLocked {
        until: chrono::DateTime<chrono::Utc>,
    },
}

impl From<AppError> for IpcError {
    fn from(err: AppError) -> IpcError {
        let code = match err {
            AppError::DataDir { .. }
            | AppError::Database { .. }
            | AppError::Sql(_)
            | AppError::Keys(_)
            | AppError::WrongKey { .. }
            | AppError::SchemaTooNew { .. } => ErrorCode::Storage,
            AppError::Poisoned | AppError::Encode(_) => ErrorCode::Internal,
            AppError::NotBound => ErrorCode::NotBound,
            AppError::Invalid(_) => ErrorCode::Invalid,
            AppError::KioskOn => ErrorCode::KioskOn,
            AppError::KioskLocked { .. } => ErrorCode::KioskLocked,
        };
        IpcError {
            code,
            detail: err.to_string(),
        }
    }
}
