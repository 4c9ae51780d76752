//! Where the station keeps its data and which server it talks to, from the environment.
//!
//! `VENUECODE_DATA_DIR` overrides the platform's app data directory (tests use a throwaway one);
//! `VENUECODE_SERVER_URL` names the central server (the run script starts one on loopback);
//! `VENUECODE_SYNC_BATCH` sets how many records one upload carries (1–2000, default 500);
//! `VENUECODE_REGIONS` names a region table file (the demo table otherwise);
//! `VENUECODE_ALLOW_HTTP=1` lets the station talk plain HTTP (development only: by default it
//! refuses anything but https to a server certified by the deployment's CA).

use std::path::PathBuf;

use crate::error::AppError;

/// The region table: `VENUECODE_REGIONS` names a file (`code<TAB>name<TAB>parent`), else the
/// demo table built in.
pub fn regions() -> Result<venuecode_core::region::Regions, AppError> {
    match std::env::var_os("VENUECODE_REGIONS") {
        None => Ok(venuecode_core::region::Regions::demo()),
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                AppError::Invalid(format!("VENUECODE_REGIONS={}: {e}", path.to_string_lossy()))
            })?;
            venuecode_core::region::Regions::parse(&text).map_err(|e| {
                AppError::Invalid(format!("VENUECODE_REGIONS={}: {e}", path.to_string_lossy()))
            })
        }
    }
}

/// The station's resolved configuration.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Absolute directory holding the local database; created if missing.
    pub data_dir: PathBuf,
    /// Base URL of the central server, without a trailing slash.
    pub server_url: Option<String>,
    /// Records per upload batch.
    pub sync_batch: usize,
    /// Plain HTTP allowed (development flag).
    pub allow_http: bool,
}

/// Records per upload unless `VENUECODE_SYNC_BATCH` says otherwise.
pub const DEFAULT_SYNC_BATCH: usize = 500;

/// Parses a batch size, keeping it within what the server accepts.
fn batch_size(text: Option<&str>) -> Result<usize, AppError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(DEFAULT_SYNC_BATCH),
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=venuecode_core::sync::MAX_BATCH_RECORDS).contains(n))
            .ok_or_else(|| {
                AppError::Invalid(format!(
                    "VENUECODE_SYNC_BATCH={t:?}: give a number from 1 to {}",
                    venuecode_core::sync::MAX_BATCH_RECORDS
                ))
            }),
    }
}

impl AppConfig {
    /// Reads the environment, falling back to `default_data_dir`.
    pub fn from_env(default_data_dir: PathBuf) -> Result<AppConfig, AppError> {
        let mut config = Self::from_values(
            std::env::var_os("VENUECODE_DATA_DIR").map(PathBuf::from),
            std::env::var("VENUECODE_SERVER_URL").ok(),
            default_data_dir,
        )?;
        config.sync_batch = batch_size(std::env::var("VENUECODE_SYNC_BATCH").ok().as_deref())?;
        config.allow_http = std::env::var("VENUECODE_ALLOW_HTTP").is_ok_and(|v| v == "1");
        Ok(config)
    }

    fn from_values(
        data_dir: Option<PathBuf>,
        server_url: Option<String>,
        default_data_dir: PathBuf,
    ) -> Result<AppConfig, AppError> {
        let data_dir = data_dir
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(default_data_dir);
        std::fs::create_dir_all(&data_dir).map_err(|source| AppError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let data_dir = data_dir
            .canonicalize()
            .map_err(|source| AppError::DataDir {
                path: data_dir.clone(),
                source,
            })?;
        let server_url = server_url
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty());
        Ok(AppConfig {
            data_dir,
            server_url,
            sync_batch: DEFAULT_SYNC_BATCH,
            allow_http: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_dir_wins_and_is_created() {
        let tmp = tempfile::tempdir().unwrap();
        let wanted = tmp.path().join("a/b");
        let cfg = AppConfig::from_values(
            Some(wanted.clone()),
            Some(" http://127.0.0.1:8080/ ".into()),
            tmp.path().join("default"),
        )
        .unwrap();
        assert!(wanted.is_dir());
        assert_eq!(cfg.data_dir, wanted.canonicalize().unwrap());
        assert_eq!(cfg.server_url.as_deref(), Some("http://127.0.0.1:8080"));
    }

    #[test]
    fn batch_size_is_range_checked() {
        assert_eq!(batch_size(None).unwrap(), DEFAULT_SYNC_BATCH);
        assert_eq!(batch_size(Some(" 200 ")).unwrap(), 200);
        assert!(batch_size(Some("0")).is_err());
        assert!(batch_size(Some("2001")).is_err());
        assert!(batch_size(Some("many")).is_err());
    }

    #[test]
    fn empty_values_fall_back() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = AppConfig::from_values(
            Some(PathBuf::new()),
            Some("  ".into()),
            tmp.path().join("d"),
        )
        .unwrap();
        assert!(cfg.data_dir.ends_with("d"));
        assert_eq!(cfg.server_url, None);
    }
}
