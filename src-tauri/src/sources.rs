//! Frame sources that touch devices and files: the camera (nokhwa), one image, a folder of images
//! played as a video. All implement `venuecode_scan::source::FrameSource`; the synthetic source
//! comes from venuecode-scan itself.
//!
//! Invariant: a source that cannot start says why with a typed error at open time (no camera,
//! permission refused, camera busy, unreadable folder), and a camera that goes away mid-scan says
//! so, so the station can offer another source instead of showing a dead preview.

use std::path::{Path, PathBuf};

use venuecode_ipc::FrameSourceSpec;
use venuecode_scan::pixels::{to_gray, Layout, Range};
use venuecode_scan::source::{FrameSource, SourceError, SyntheticSource};
use venuecode_scan::GrayImage;

/// Opens the source a spec names. Returns it with its frame interval (None: the device paces).
pub fn open(spec: &FrameSourceSpec) -> Result<(Box<dyn FrameSource>, Option<f64>), SourceError> {
    let interval = |fps: u32| Some(1.0 / f64::from(fps.clamp(1, 60)));
    Ok(match spec {
        FrameSourceSpec::Camera(choice) => (crate::camera::platform().open(choice)?, None),
        FrameSourceSpec::Folder { path, fps } => (
            Box::new(FolderSource::open(Path::new(path))?),
            interval(*fps),
        ),
        FrameSourceSpec::Image { path, fps } => (
            Box::new(ImageSource::open(Path::new(path))?),
            interval(*fps),
        ),
        FrameSourceSpec::Synthetic { fps } => (
            Box::new(SyntheticSource::new(
                "JKM1:VENUECODE DEMO FRAME - NOT A HEALTH CODE",
                640,
                480,
            )),
            interval(*fps),
        ),
    })
}

fn read_png(path: &Path) -> Result<GrayImage, SourceError> {
    let bytes = std::fs::read(path).map_err(|e| SourceError::Read {
        path: path.display().to_string(),
        detail: e.to_string(),
    })?;
    GrayImage::from_png(&bytes).map_err(|e| SourceError::Read {
        path: path.display().to_string(),
        detail: e.to_string(),
    })
}

/// One image, handed out again and again.
pub struct ImageSource {
    path: PathBuf,
    image: GrayImage,
}

impl ImageSource {
    pub fn open(path: &Path) -> Result<ImageSource, SourceError> {
        Ok(ImageSource {
            path: path.to_path_buf(),
            image: read_png(path)?,
        })
    }
}

impl FrameSource for ImageSource {
    fn next_frame(&mut self) -> Result<Option<GrayImage>, SourceError> {
        Ok(Some(self.image.clone()))
    }

    fn describe(&self) -> String {
        format!("image {}", self.path.display())
    }
}

/// The PNG files of a folder in name order, looping, read as they are played.
pub struct FolderSource {
    dir: PathBuf,
    files: Vec<PathBuf>,
    next: usize,
}

impl FolderSource {
    pub fn open(dir: &Path) -> Result<FolderSource, SourceError> {
        let unreadable = |detail: String| SourceError::Read {
            path: dir.display().to_string(),
            detail,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| unreadable(e.to_string()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("png")))
            .collect();
        if files.is_empty() {
            return Err(unreadable("no PNG files in the folder".into()));
        }
        files.sort();
        Ok(FolderSource {
            dir: dir.to_path_buf(),
            files,
            next: 0,
        })
    }
}

impl FrameSource for FolderSource {
    fn next_frame(&mut self) -> Result<Option<GrayImage>, SourceError> {
        let path = &self.files[self.next % self.files.len()];
        self.next += 1;
        read_png(path).map(Some)
    }

    fn describe(&self) -> String {
        format!(
            "folder {} ({} images)",
            self.dir.display(),
            self.files.len()
        )
    }
}

/// A camera through nokhwa. Frames are read in the format the camera delivers (YUYV, NV12,
/// grey, RGB or MJPEG) and turned to grey by `venuecode_scan::pixels` (luma only: well under a
/// millisecond per 720p frame for the raw formats); nokhwa's own conversion went through RGB.
pub struct CameraSource {
    camera: nokhwa::Camera,
    index: u32,
}

// nokhwa's Camera holds platform handles that are used from one thread at a time here: the
// capture thread owns the source exclusively.
unsafe impl Send for CameraSource {}

/// What a camera failure means for the person at the gate: `opening` is true before the first
/// frame (a missing device is "no camera"), false mid-scan (a missing device was unplugged).
/// Platform layers report these as OS errors inside their messages (V4L2: `os error 13`
/// permission, `16` busy, `19`/`5` no device / I/O error; AVFoundation and Media Foundation
/// in words), so the message is what is read.
pub fn camera_error(message: &str, opening: bool) -> SourceError {
    let m = message.to_ascii_lowercase();
    let has = |parts: &[&str]| parts.iter().any(|p| m.contains(p));
    let detail = message.to_string();
    if has(&[
        "os error 13",
        "permission denied",
        "not authorized",
        "access denied",
        "e_accessdenied",
    ]) {
        SourceError::CameraDenied(detail)
    } else if has(&[
        "os error 16",
        "resource busy",
        "device busy",
        "in use",
        "already in use",
    ]) {
        SourceError::CameraBusy(detail)
    } else if !opening
        && has(&[
            "os error 19",
            "os error 5)",
            "no such device",
            "disconnected",
            "input/output error",
        ])
    {
        SourceError::CameraGone(detail)
    } else if opening {
        SourceError::NoCamera(detail)
    } else {
        SourceError::Other(detail)
    }
}

/// How a frame of `format` is laid out in `len` bytes of a `width`×`height` frame: rows may be
/// padded (the stride is what the buffer's length says), and video formats use limited-range
/// luma where JPEG and grey use full range.
pub fn layout_of(
    format: nokhwa::utils::FrameFormat,
    len: usize,
    width: usize,
    height: usize,
) -> (Layout, Range) {
    use nokhwa::utils::FrameFormat;
    let stride = |bpp_num: usize, bpp_den: usize, min: usize| {
        // NV12 carries half a plane of chroma after the luma: 1.5 bytes per pixel overall.
        (len * bpp_den / bpp_num.max(1) / height.max(1)).max(min)
    };
    match format {
        FrameFormat::YUYV => (
            Layout::Yuyv {
                stride: stride(1, 1, 2 * width),
            },
            Range::Limited,
        ),
        FrameFormat::NV12 => (
            Layout::Nv12 {
                stride: stride(3, 2, width),
            },
            Range::Limited,
        ),
        FrameFormat::GRAY => (
            Layout::Gray {
                stride: stride(1, 1, width),
            },
            Range::Full,
        ),
        FrameFormat::RAWRGB => (
            Layout::Rgb {
                stride: stride(1, 1, 3 * width),
            },
            Range::Full,
        ),
        FrameFormat::RAWBGR => (
            Layout::Bgr {
                stride: stride(1, 1, 3 * width),
            },
            Range::Full,
        ),
        FrameFormat::MJPEG => (Layout::Mjpeg, Range::Full),
    }
}

impl CameraSource {
    /// Opens the chosen camera at the offered format closest to the chosen size and rate
    /// (`camera::pick_format`), or at its highest frame rate when both are automatic.
    pub fn open(choice: &venuecode_ipc::CameraChoice) -> Result<CameraSource, SourceError> {
        use crate::camera::{pick_format, Offered};
        use nokhwa::pixel_format::LumaFormat;
        use nokhwa::utils::{CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType};
        let index = choice.index;
        let fail = |e: nokhwa::NokhwaError| camera_error(&e.to_string(), true);
        let format =
            RequestedFormat::new::<LumaFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
        let mut camera = nokhwa::Camera::new(CameraIndex::Index(index), format).map_err(fail)?;
        if choice.width != 0 || choice.fps != 0 {
            let formats = camera.compatible_camera_formats().map_err(fail)?;
            let offered: Vec<Offered> = formats
                .iter()
                .map(|f| Offered {
                    width: f.width(),
                    height: f.height(),
                    fps: f.frame_rate(),
                    raw: f.format() != FrameFormat::MJPEG,
                })
                .collect();
            if let Some(i) = pick_format(&offered, choice) {
                camera
                    .set_camera_requset(RequestedFormat::new::<LumaFormat>(
                        RequestedFormatType::Exact(formats[i]),
                    ))
                    .map_err(fail)?;
            }
        }
        camera.open_stream().map_err(fail)?;
        Ok(CameraSource { camera, index })
    }
}

impl FrameSource for CameraSource {
    fn next_frame(&mut self) -> Result<Option<GrayImage>, SourceError> {
        let buffer = self
            .camera
            .frame()
            .map_err(|e| camera_error(&e.to_string(), false))?;
        let res = buffer.resolution();
        let (w, h) = (res.width_x as usize, res.height_y as usize);
        let bytes = buffer.buffer();
        let (layout, range) = layout_of(buffer.source_frame_format(), bytes.len(), w, h);
        to_gray(bytes, w, h, layout, range)
            .map(Some)
            .map_err(|e| SourceError::Other(format!("camera frame: {e}")))
    }

    fn describe(&self) -> String {
        format!("camera {}", self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(path: &Path, w: u32, h: u32) {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            enc.write_header()
                .unwrap()
                .write_image_data(&vec![128; (w * h) as usize])
                .unwrap();
        }
        std::fs::write(path, out).unwrap();
    }

    #[test]
    fn folder_plays_in_name_order_and_loops() {
        let dir = tempfile::tempdir().unwrap();
        write_png(&dir.path().join("b.png"), 4, 2);
        write_png(&dir.path().join("a.png"), 2, 2);
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let mut src = FolderSource::open(dir.path()).unwrap();
        let widths: Vec<usize> = (0..3)
            .map(|_| src.next_frame().unwrap().unwrap().width)
            .collect();
        assert_eq!(widths, vec![2, 4, 2]);
        assert!(src.describe().contains("2 images"));
    }

    #[test]
    fn missing_and_empty_sources_say_why() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            FolderSource::open(dir.path()),
            Err(SourceError::Read { .. })
        ));
        assert!(matches!(
            FolderSource::open(&dir.path().join("nope")),
            Err(SourceError::Read { .. })
        ));
        assert!(matches!(
            ImageSource::open(&dir.path().join("x.png")),
            Err(SourceError::Read { .. })
        ));
    }

    #[test]
    fn no_camera_is_reported_plainly() {
        // These machines have no camera: opening one must fail with NoCamera, not hang or panic.
        if std::path::Path::new("/dev/video0").exists() {
            return;
        }
        assert!(matches!(
            CameraSource::open(&venuecode_ipc::CameraChoice::default()),
            Err(SourceError::NoCamera(_))
        ));
        assert!(crate::camera::platform().cameras().unwrap().is_empty());
    }

    #[test]
    fn camera_failures_say_what_to_do() {
        let cases = [
            (
                "Could not open device /dev/video0: Permission denied (os error 13)",
                true,
                "denied",
            ),
            (
                "Failed to open device: Device or resource busy (os error 16)",
                true,
                "busy",
            ),
            (
                "Could not open device /dev/video0: No such file or directory (os error 2)",
                true,
                "none",
            ),
            (
                "Could not capture frame: No such device (os error 19)",
                false,
                "gone",
            ),
            (
                "Could not read frame: Input/output error (os error 5)",
                false,
                "gone",
            ),
            ("The camera is in use by another application", true, "busy"),
            ("something else", false, "other"),
        ];
        for (msg, opening, want) in cases {
            let got = match camera_error(msg, opening) {
                SourceError::CameraDenied(_) => "denied",
                SourceError::CameraBusy(_) => "busy",
                SourceError::NoCamera(_) => "none",
                SourceError::CameraGone(_) => "gone",
                _ => "other",
            };
            assert_eq!(got, want, "{msg}");
        }
    }

    #[test]
    fn a_cameras_buffer_is_read_at_its_stride() {
        use nokhwa::utils::FrameFormat;
        // Packed, padded to 64 bytes a row, NV12 with its chroma, MJPEG.
        assert_eq!(
            layout_of(FrameFormat::YUYV, 1280 * 2 * 720, 1280, 720),
            (Layout::Yuyv { stride: 2560 }, Range::Limited)
        );
        assert_eq!(
            layout_of(FrameFormat::YUYV, 704 * 480, 350, 480).0,
            Layout::Yuyv { stride: 704 }
        );
        assert_eq!(
            layout_of(FrameFormat::NV12, 1344 * 720 * 3 / 2, 1280, 720).0,
            Layout::Nv12 { stride: 1344 }
        );
        assert_eq!(
            layout_of(FrameFormat::GRAY, 10, 640, 480).0,
            Layout::Gray { stride: 640 },
            "a short buffer keeps the row's width: the conversion then says it is short"
        );
        assert_eq!(
            layout_of(FrameFormat::MJPEG, 5000, 1280, 720).0,
            Layout::Mjpeg
        );
    }
}
