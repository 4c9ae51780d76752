//! Where frames come from: the [`FrameSource`] trait the station's scan loop reads, and the
//! synthetic source. Sources that touch devices or files (camera, image, folder) live in the app
//! (src-tauri), behind the same trait.
//!
//! Invariant: a source hands out frames as fast as it is asked or as its device delivers them;
//! pacing to a frame rate is the scan loop's job, so pure sources stay pure.

use crate::synth::{render, Conditions, Rng};
use crate::GrayImage;

/// Why a source could not deliver.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// No camera is attached or it cannot be opened; the station offers the other sources.
    #[error("no camera available: {0}")]
    NoCamera(String),
    /// The system refuses the camera to this app (a permission not granted).
    #[error("the camera may not be used by this app: {0}")]
    CameraDenied(String),
    /// Another program holds the camera.
    #[error("the camera is in use by another program: {0}")]
    CameraBusy(String),
    /// The camera went away while scanning (unplugged, or its driver reset).
    #[error("the camera was disconnected: {0}")]
    CameraGone(String),
    #[error("cannot read {path}: {detail}")]
    Read { path: String, detail: String },
    #[error("{0}")]
    Other(String),
}

/// A stream of grayscale frames.
pub trait FrameSource: Send {
    /// The next frame; `Ok(None)` when the source has ended.
    fn next_frame(&mut self) -> Result<Option<GrayImage>, SourceError>;
    /// What this source is, for the station's status line.
    fn describe(&self) -> String;
}

/// Frames of one code drawn under slowly changing conditions (hand shake, light), with the code
/// out of view for part of every cycle — a gate without a camera.
pub struct SyntheticSource {
    text: String,
    width: usize,
    height: usize,
    frame: u64,
    rng: Rng,
    /// Frames per cycle; the code is in view for the first two thirds.
    cycle: u64,
}

impl SyntheticSource {
    pub fn new(text: &str, width: usize, height: usize) -> SyntheticSource {
        SyntheticSource {
            text: text.to_string(),
            width,
            height,
            frame: 0,
            rng: Rng::new(1),
            cycle: 90,
        }
    }
}

impl FrameSource for SyntheticSource {
    fn next_frame(&mut self) -> Result<Option<GrayImage>, SourceError> {
        let i = self.frame;
        self.frame += 1;
        let in_view = i % self.cycle < self.cycle * 2 / 3;
        let t = i as f32 / 15.0;
        let c = Conditions {
            rotation_deg: 12.0 * (t * 0.7).sin(),
            tilt: 0.1 + 0.05 * (t * 0.3).sin(),
            module_px: if in_view { 5.0 } else { 0.0 },
            noise: 4.0,
            paper: 8.0,
            ..Conditions::default()
        };
        let seed = self.rng.next_u64();
        render(&self.text, self.width, self.height, &c, seed)
            .map(|(img, _)| Some(img))
            .map_err(|e| SourceError::Other(e.to_string()))
    }

    fn describe(&self) -> String {
        format!("synthetic {}x{}", self.width, self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{LiveConfig, LiveDecoder};

    #[test]
    fn synthetic_source_shows_the_code_then_hides_it() {
        let mut src = SyntheticSource::new("JKM1:SYNTH-SOURCE", 320, 240);
        let mut live = LiveDecoder::new(LiveConfig::default());
        let mut seen_frames = 0;
        for i in 0..90 {
            let frame = src.next_frame().unwrap().unwrap();
            if !live.on_frame(&frame, i * 66).seen.is_empty() {
                seen_frames += 1;
            }
        }
        assert!(
            (40..=60).contains(&seen_frames),
            "seen in {seen_frames} of 90 frames (in view: 60)"
        );
        assert!(src.describe().contains("320x240"));
    }
}
