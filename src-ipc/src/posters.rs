//! Posters on the app (venue administrator): a live preview of one checkpoint's poster for a
//! direction, size and template; saving it as PDF (and PNG); saving every poster of the venue
//! with the "how to post" sheet, progress reported as events; opening a saved file in the
//! system's viewer (which prints).

use serde::{Deserialize, Serialize};

use crate::{Command, Direction};

/// Progress of "save all posters": `{ done, total }` as [`PosterProgress`].
pub const EVENT_POSTER_PROGRESS: &str = "poster-progress";

/// Which poster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosterChoice {
    pub venue_id: String,
    pub checkpoint_id: String,
    pub direction: Direction,
    /// `a4`, `60x90` or `80x180`.
    pub size: String,
    /// A template SVG file; the built-in template for the size when absent.
    #[serde(default)]
    pub template: Option<String>,
}

/// A preview of one poster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PosterPreview {
    /// The page as PNG, base64 (about 900 pixels tall).
    pub png_base64: String,
    pub width_mm: f64,
    pub height_mm: f64,
    /// The code a person types when the QR cannot be read.
    pub short_code: String,
    /// M or Q, and the module size the rule chose.
    pub ecc: String,
    pub module_mm: f64,
}

/// Renders the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewPoster {
    pub poster: PosterChoice,
}

impl Command for PreviewPoster {
    const NAME: &'static str = "preview_poster";
    type Response = PosterPreview;
}

/// Saves one poster as PDF under `folder` (and as PNG at `png_dpi`, when given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavePoster {
    pub poster: PosterChoice,
    pub folder: String,
    #[serde(default)]
    pub png_dpi: Option<u32>,
}

/// Where a poster was saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPoster {
    pub pdf: String,
    pub png: Option<String>,
}

impl Command for SavePoster {
    const NAME: &'static str = "save_poster";
    type Response = SavedPoster;
}

/// Saves every poster of the venue (each open checkpoint, entry and exit) and the "how to post"
/// sheet under `folder`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveAllPosters {
    pub venue_id: String,
    pub size: String,
    #[serde(default)]
    pub template: Option<String>,
    pub folder: String,
}

/// What "save all" wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedAll {
    pub files: Vec<String>,
    pub sheet: String,
}

impl Command for SaveAllPosters {
    const NAME: &'static str = "save_all_posters";
    type Response = SavedAll;
}

/// Progress of "save all".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosterProgress {
    pub done: u32,
    pub total: u32,
}

/// The folder posters are saved in unless another is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PosterFolder {}

impl Command for PosterFolder {
    const NAME: &'static str = "poster_folder";
    type Response = String;
}

/// Opens a saved poster in the system's viewer (to look at it or print it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenPoster {
    pub path: String,
}

impl Command for OpenPoster {
    const NAME: &'static str = "open_poster";
    type Response = ();
}
