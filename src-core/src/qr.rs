//! Making QR codes: text → module matrix → grayscale PNG bytes (in memory; writing files is the
//! caller's business).
//!
//! Invariant: the image has a quiet zone of four modules and whole-pixel modules, so any reader
//! (phones, zbar, ZXing, our own scanner) sees crisp edges.

use qrcode::{Color, EcLevel, QrCode};

/// Why a QR code could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    #[error("the text is too long for a QR code at this error-correction level")]
    TooLong,
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// Error-correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecc {
    L,
    M,
    Q,
    H,
}

/// A QR symbol as a square of dark (`true`) and light modules, without quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    pub width: usize,
    pub version: i16,
    modules: Vec<bool>,
}

impl QrMatrix {
    /// Encodes `text` (the encoder picks the densest modes, alphanumeric where it can).
    pub fn encode(text: &str, ecc: Ecc) -> Result<QrMatrix, QrError> {
        let level = match ecc {
            Ecc::L => EcLevel::L,
            Ecc::M => EcLevel::M,
            Ecc::Q => EcLevel::Q,
            Ecc::H => EcLevel::H,
        };
        let code =
            QrCode::with_error_correction_level(text, level).map_err(|_| QrError::TooLong)?;
        let version = match code.version() {
            qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => v,
        };
        Ok(QrMatrix {
            width: code.width(),
            version,
            modules: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        })
    }

    /// Whether module (x, y) is dark.
    pub fn dark(&self, x: usize, y: usize) -> bool {
        self.modules[y * self.width + x]
    }

    /// Renders to an 8-bit grayscale image, `scale` pixels per module, 4-module quiet zone.
    pub fn to_pixels(&self, scale: usize) -> (usize, Vec<u8>) {
        let scale = scale.max(1);
        let side = (self.width + 8) * scale;
        let mut px = vec![255u8; side * side];
        for y in 0..self.width {
            for x in 0..self.width {
                if self.dark(x, y) {
                    for dy in 0..scale {
                        let row = ((y + 4) * scale + dy) * side;
                        let col = (x + 4) * scale;
                        px[row + col..row + col + scale].fill(0);
                    }
                }
            }
        }
        (side, px)
    }

    /// Renders to PNG bytes.
    pub fn to_png(&self, scale: usize) -> Result<Vec<u8>, QrError> {
        let (side, px) = self.to_pixels(scale);
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, side as u32, side as u32);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc
                .write_header()
                .map_err(|e| QrError::Png(e.to_string()))?;
            w.write_image_data(&px)
                .map_err(|e| QrError::Png(e.to_string()))?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_png_with_quiet_zone() {
        let m = QrMatrix::encode("JKM1:HELLO", Ecc::M).unwrap();
        assert_eq!(m.version, 1);
        let (side, px) = m.to_pixels(3);
        assert_eq!(side, (21 + 8) * 3);
        assert!(
            px[..side * 12].iter().all(|&p| p == 255),
            "quiet zone not white"
        );
        assert_eq!(px[12 * side + 12], 0, "finder pattern corner not dark");
        let png = m.to_png(3).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }

    #[test]
    fn too_long_is_an_error() {
        let long = "A".repeat(5000);
        assert_eq!(QrMatrix::encode(&long, Ecc::H), Err(QrError::TooLong));
    }
}
