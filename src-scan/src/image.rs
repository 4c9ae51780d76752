//! Grayscale frames, and reading them from PNG bytes (any PNG colour type, converted to luma).
//!
//! Invariant: `data.len() == width * height`, row-major, 0 = black, 255 = white.

/// An owned 8-bit grayscale frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrayImage {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    #[error("not a readable PNG: {0}")]
    Png(#[from] png::DecodingError),
    #[error("unsupported PNG layout ({0})")]
    Unsupported(&'static str),
    #[error("pixel buffer of {len} bytes does not match {width}×{height}")]
    Size {
        width: usize,
        height: usize,
        len: usize,
    },
}

impl GrayImage {
    /// A frame from raw luma pixels.
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Result<GrayImage, ImageError> {
        if width.checked_mul(height) != Some(data.len()) {
            return Err(ImageError::Size {
                width,
                height,
                len: data.len(),
            });
        }
        Ok(GrayImage {
            width,
            height,
            data,
        })
    }

    /// Decodes PNG bytes to luma (ITU-R BT.601 weights; alpha composited on white).
    pub fn from_png(bytes: &[u8]) -> Result<GrayImage, ImageError> {
        let mut decoder = png::Decoder::new(bytes);
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info()?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf)?;
        let (w, h) = (info.width as usize, info.height as usize);
        let px = &buf[..info.buffer_size()];
        let channels = match info.color_type {
            png::ColorType::Grayscale => 1,
            png::ColorType::GrayscaleAlpha => 2,
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            png::ColorType::Indexed => return Err(ImageError::Unsupported("palette not expanded")),
        };
        if info.bit_depth != png::BitDepth::Eight {
            return Err(ImageError::Unsupported(
                "bit depth other than 8 after expansion",
            ));
        }
        let luma = |c: &[u8]| -> u8 {
            let (v, a) = match channels {
                1 => (u32::from(c[0]), 255),
                2 => (u32::from(c[0]), u32::from(c[1])),
                3 | 4 => (
                    (299 * u32::from(c[0]) + 587 * u32::from(c[1]) + 114 * u32::from(c[2])) / 1000,
                    if channels == 4 { u32::from(c[3]) } else { 255 },
                ),
                _ => (255, 255),
            };
            ((v * a + 255 * (255 - a)) / 255) as u8
        };
        let data: Vec<u8> = px.chunks_exact(channels).map(luma).collect();
        GrayImage::new(w, h, data)
    }
}
