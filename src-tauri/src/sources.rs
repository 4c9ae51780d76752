//! Frame sources that touch devices and files: the camera (nokhwa), one image, a folder of images
//! played as a video. All implement `venuecode_scan::source::FrameSource`; the synthetic source
//! comes from venuecode-scan itself.
//!
//! Invariant: a source that cannot start says why with a typed error at open time (no camera,
//! unreadable folder), so the station can offer another source instead of showing a dead preview.

use std::path::{Path, PathBuf};

use venuecode_ipc::FrameSourceSpec;
use venuecode_scan::source::{FrameSource, SourceError, SyntheticSource};
use venuecode_scan::GrayImage;

/// Opens the source a spec names. Returns it with its frame interval (None: the device paces).
pub fn open(spec: &FrameSourceSpec) -> Result<(Box<dyn FrameSource>, Option<f64>), SourceError> {
    let interval = |fps: u32| Some(1.0 / f64::from(fps.clamp(1, 60)));
    Ok(match spec {
        FrameSourceSpec::Camera { index } => (Box::new(CameraSource::open(*index)?), None),
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

/// A camera through nokhwa, read as luma.
pub struct CameraSource {
    camera: nokhwa::Camera,
    index: u32,
}

// nokhwa's Camera holds platform handles that are used from one thread at a time here: the
// capture thread owns the source exclusively.
unsafe impl Send for CameraSource {}

impl CameraSource {
    pub fn open(index: u32) -> Result<CameraSource, SourceError> {
        use nokhwa::pixel_format::LumaFormat;
        use nokhwa::utils::{CameraIndex, RequestedFormat, RequestedFormatType};
        let format =
            RequestedFormat::new::<LumaFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
        let mut camera = nokhwa::Camera::new(CameraIndex::Index(index), format)
            .map_err(|e| SourceError::NoCamera(e.to_string()))?;
        camera
            .open_stream()
            .map_err(|e| SourceError::NoCamera(e.to_string()))?;
        Ok(CameraSource { camera, index })
    }
}

impl FrameSource for CameraSource {
    fn next_frame(&mut self) -> Result<Option<GrayImage>, SourceError> {
        use nokhwa::pixel_format::LumaFormat;
        let buffer = self
            .camera
            .frame()
            .map_err(|e| SourceError::Other(e.to_string()))?;
        let img = buffer
            .decode_image::<LumaFormat>()
            .map_err(|e| SourceError::Other(e.to_string()))?;
        let (w, h) = (img.width() as usize, img.height() as usize);
        GrayImage::new(w, h, img.into_raw())
            .map(Some)
            .map_err(|e| SourceError::Other(e.to_string()))
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
            CameraSource::open(0),
            Err(SourceError::NoCamera(_))
        ));
    }
}
