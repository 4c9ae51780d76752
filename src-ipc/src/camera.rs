//! The station's camera choice (Settings → 摄像头): which camera, at what size and frame rate,
//! and the cameras the platform offers, with which way each faces (a tablet's front and back).
//!
//! Invariant: a choice the app accepts is one of the offered sizes and rates (or automatic);
//! [`CameraChoice::check`] says which field is wrong otherwise.

use serde::{Deserialize, Serialize};

use crate::Command;

/// Frame sizes offered (width, height); `(0, 0)` is automatic (the camera's highest frame rate).
pub const CAMERA_SIZES: [(u32, u32); 4] = [(0, 0), (640, 480), (1280, 720), (1920, 1080)];
/// Frame rates offered; 0 is automatic.
pub const CAMERA_RATES: [u32; 4] = [0, 15, 30, 60];

/// How the station opens its camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CameraChoice {
    /// The camera by the platform's index (0 = the first).
    pub index: u32,
    /// Requested frame size; 0 × 0 lets the camera choose.
    pub width: u32,
    pub height: u32,
    /// Requested frames per second; 0 lets the camera choose.
    pub fps: u32,
}

impl CameraChoice {
    /// `Err(field)` when a value is not one offered.
    pub fn check(&self) -> Result<(), &'static str> {
        if !CAMERA_SIZES.contains(&(self.width, self.height)) {
            return Err("size");
        }
        if !CAMERA_RATES.contains(&self.fps) {
            return Err("fps");
        }
        if self.index > 63 {
            return Err("index");
        }
        Ok(())
    }
}

/// Which way a camera faces, as the platform reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CameraFacing {
    /// Towards the person holding the tablet (a selfie camera).
    Front,
    /// Away from the screen: the usual choice for scanning codes held up to a tablet's back.
    Back,
    /// A USB or built-in camera that is neither (desktops, gate terminals).
    External,
    /// The platform does not say.
    Unknown,
}

/// One camera the platform offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CameraInfo {
    pub index: u32,
    pub name: String,
    pub facing: CameraFacing,
}

/// Lists the cameras (empty when there are none: the folder and USB-scanner paths remain).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListCameras {}

impl Command for ListCameras {
    const NAME: &'static str = "list_cameras";
    type Response = Vec<CameraInfo>;
}

/// Saves the camera choice; one not offered is refused with `invalid` naming the field.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetCamera {
    pub camera: CameraChoice,
}

impl Command for SetCamera {
    const NAME: &'static str = "set_camera";
    type Response = crate::Settings;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_offered_sizes_and_rates_pass() {
        assert!(CameraChoice::default().check().is_ok());
        let hd = CameraChoice {
            index: 1,
            width: 1280,
            height: 720,
            fps: 30,
        };
        assert!(hd.check().is_ok());
        assert_eq!(
            CameraChoice {
                width: 1280,
                height: 721,
                ..hd
            }
            .check(),
            Err("size")
        );
        assert_eq!(CameraChoice { fps: 29, ..hd }.check(), Err("fps"));
        assert_eq!(CameraChoice { index: 99, ..hd }.check(), Err("index"));
    }
}
