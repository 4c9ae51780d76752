//! The camera behind a platform trait: which cameras there are (and which way each faces, so a
//! tablet can offer its front and back cameras), and opening one at the size and frame rate
//! Settings chose. Desktops and gate terminals use nokhwa (V4L2, AVFoundation, Media Foundation);
//! a mobile build supplies its own [`CameraPlatform`] where the system reports the facing.
//!
//! Invariant: the choice of format is pure ([`pick_format`], tested without a camera); a camera
//! that lacks the asked size or rate gets the closest it has, never an error for that alone.

use venuecode_ipc::{CameraChoice, CameraFacing, CameraInfo};
use venuecode_scan::source::{FrameSource, SourceError};

use crate::sources::{camera_error, CameraSource};

/// What a platform offers for cameras.
pub trait CameraPlatform: Send + Sync {
    /// The cameras present now (empty: none).
    fn cameras(&self) -> Result<Vec<CameraInfo>, SourceError>;
    /// Opens one as chosen.
    fn open(&self, choice: &CameraChoice) -> Result<Box<dyn FrameSource>, SourceError>;
}

/// nokhwa's platforms. They do not report a facing; a camera's name sometimes does ("Front
/// Camera", "rear"), else it is external (a USB or built-in camera on a desktop or terminal).
pub struct Nokhwa;

impl CameraPlatform for Nokhwa {
    fn cameras(&self) -> Result<Vec<CameraInfo>, SourceError> {
        let found = match nokhwa::query(nokhwa::utils::ApiBackend::Auto) {
            Ok(found) => found,
            // No video subsystem at all (no /dev/video*, a container): no cameras.
            Err(e) if e.to_string().to_ascii_lowercase().contains("no such file") => Vec::new(),
            Err(e) => return Err(camera_error(&e.to_string(), true)),
        };
        Ok(found
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let index = match c.index() {
                    nokhwa::utils::CameraIndex::Index(n) => *n,
                    nokhwa::utils::CameraIndex::String(_) => i as u32,
                };
                CameraInfo {
                    index,
                    name: c.human_name(),
                    facing: facing_of(&format!("{} {}", c.human_name(), c.description())),
                }
            })
            .collect())
    }

    fn open(&self, choice: &CameraChoice) -> Result<Box<dyn FrameSource>, SourceError> {
        Ok(Box::new(CameraSource::open(choice)?))
    }
}

/// The platform this build runs on.
pub fn platform() -> &'static dyn CameraPlatform {
    &Nokhwa
}

/// Which way a camera faces, by what its name says.
pub fn facing_of(name: &str) -> CameraFacing {
    let n = name.to_ascii_lowercase();
    if ["front", "user", "facetime", "前置"]
        .iter()
        .any(|w| n.contains(w))
    {
        CameraFacing::Front
    } else if ["back", "rear", "environment", "world", "后置"]
        .iter()
        .any(|w| n.contains(w))
    {
        CameraFacing::Back
    } else {
        CameraFacing::External
    }
}

/// One format a camera offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offered {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Uncompressed (YUYV, NV12, grey): to grey in well under a millisecond, where MJPEG takes
    /// about 3 ms at 720p.
    pub raw: bool,
}

/// The offered format closest to the choice: the asked size (or, automatic, the one with the
/// highest rate), then the asked rate (or the highest), then uncompressed over MJPEG. `None`
/// when nothing is offered or the choice is wholly automatic (the platform picks).
pub fn pick_format(offered: &[Offered], choice: &CameraChoice) -> Option<usize> {
    if choice.width == 0 && choice.fps == 0 {
        return None;
    }
    let size_gap = |o: &Offered| {
        if choice.width == 0 {
            0
        } else {
            o.width.abs_diff(choice.width) + o.height.abs_diff(choice.height)
        }
    };
    let rate_gap = |o: &Offered| {
        if choice.fps == 0 {
            u32::MAX - o.fps
        } else {
            o.fps.abs_diff(choice.fps)
        }
    };
    (0..offered.len()).min_by_key(|&i| {
        let o = &offered[i];
        (size_gap(o), rate_gap(o), !o.raw)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(width: u32, height: u32, fps: u32, raw: bool) -> Offered {
        Offered {
            width,
            height,
            fps,
            raw,
        }
    }

    #[test]
    fn the_closest_format_is_picked() {
        // A typical USB camera: MJPEG at every size, YUYV only slowly at the large ones.
        let offered = [
            o(640, 480, 30, true),
            o(640, 480, 30, false),
            o(1280, 720, 10, true),
            o(1280, 720, 30, false),
            o(1920, 1080, 5, true),
            o(1920, 1080, 30, false),
        ];
        let choose = |width, height, fps| {
            pick_format(
                &offered,
                &CameraChoice {
                    index: 0,
                    width,
                    height,
                    fps,
                },
            )
        };
        assert_eq!(choose(0, 0, 0), None, "automatic: the platform picks");
        // 720p at 30: only MJPEG has it.
        assert_eq!(choose(1280, 720, 30), Some(3));
        // 720p at 15: YUYV's 10 is closer than MJPEG's 30.
        assert_eq!(choose(1280, 720, 15), Some(2));
        // 480p, rate automatic: the highest, uncompressed first.
        assert_eq!(choose(640, 480, 0), Some(0));
        // A rate alone: the fastest of any size, uncompressed first.
        assert_eq!(choose(0, 0, 30), Some(0));
        // 1080p asked of a camera with nothing near: the nearest size, uncompressed.
        assert_eq!(
            pick_format(
                &offered[..2],
                &CameraChoice {
                    index: 0,
                    width: 1920,
                    height: 1080,
                    fps: 30
                }
            ),
            Some(0)
        );
        assert_eq!(
            pick_format(
                &[],
                &CameraChoice {
                    index: 0,
                    width: 640,
                    height: 480,
                    fps: 0
                }
            ),
            None
        );
    }

    #[test]
    fn facing_comes_from_the_name_when_it_says() {
        assert_eq!(
            facing_of("Integrated Camera: Front Camera"),
            CameraFacing::Front
        );
        assert_eq!(facing_of("ov5640 rear"), CameraFacing::Back);
        assert_eq!(facing_of("USB2.0 HD UVC WebCam"), CameraFacing::External);
    }
}
