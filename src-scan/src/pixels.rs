//! A camera's frame to the grey image the decoder reads (issue 17): the formats cameras deliver —
//! YUYV (4:2:2 packed), NV12 (4:2:0, a luma plane then interleaved chroma), 8-bit grey, packed
//! RGB, and MJPEG — with their row strides (rows padded to an alignment) and the two luma
//! ranges (full 0–255, or the limited 16–235 of video, stretched to full so contrast thresholds
//! mean the same thing for every camera).
//!
//! Only luma is read: a QR code is black and white, and skipping chroma is what keeps the raw
//! formats under a millisecond per 720p frame (`qrbench --pixels` measures it). MJPEG is decoded
//! by zune-jpeg (maintained, pure Rust) straight to luma; it cannot meet that millisecond — a
//! noisy 720p frame of 260 KB takes 3.5 ms, as long as libjpeg-turbo takes on the same bytes
//! (entropy decoding) — which is why the station converts on its capture thread, beside the
//! decoder rather than in its frame budget, and its camera choice prefers raw formats.
//!
//! Invariants: pure (bytes in, image out); a buffer too short for its size and stride, a stride
//! shorter than a row, or a size of zero is an error naming the numbers, never a panic or a
//! read past the end.

use crate::GrayImage;

/// How a frame's bytes are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Y0 U Y1 V per two pixels; `stride` bytes per row (at least `2 × width`).
    Yuyv { stride: usize },
    /// A `height × stride` luma plane (then chroma, ignored).
    Nv12 { stride: usize },
    /// One byte per pixel.
    Gray { stride: usize },
    /// R G B per pixel (BT.601 luma).
    Rgb { stride: usize },
    /// B G R per pixel.
    Bgr { stride: usize },
    /// A JPEG image per frame.
    Mjpeg,
}

/// The range the camera's luma uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// 0–255.
    Full,
    /// 16–235 (video levels): stretched to 0–255.
    Limited,
}

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PixelError {
    #[error("a frame of {width}×{height} has no pixels")]
    Empty { width: usize, height: usize },
    #[error("a row of {width} pixels needs {need} bytes, the stride is {stride}")]
    Stride {
        width: usize,
        need: usize,
        stride: usize,
    },
    #[error("a {width}×{height} frame needs {need} bytes, the buffer holds {got}")]
    Short {
        width: usize,
        height: usize,
        need: usize,
        got: usize,
    },
    #[error("the MJPEG frame does not decode: {0}")]
    Jpeg(String),
}

/// The limited-to-full range table: 16 → 0, 235 → 255, clamped beyond.
fn limited_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    for (i, v) in t.iter_mut().enumerate() {
        let y = (i as i32 - 16).clamp(0, 219);
        *v = ((y * 255 + 109) / 219) as u8;
    }
    t
}

/// Checks the size and stride of a frame with `bpp` bytes per pixel and returns the bytes the
/// luma rows need.
fn check(
    bytes: &[u8],
    width: usize,
    height: usize,
    stride: usize,
    bpp: usize,
) -> Result<(), PixelError> {
    if width == 0 || height == 0 {
        return Err(PixelError::Empty { width, height });
    }
    let row = width
        .checked_mul(bpp)
        .ok_or(PixelError::Empty { width, height })?;
    if stride < row {
        return Err(PixelError::Stride {
            width,
            need: row,
            stride,
        });
    }
    // The last row need not be padded.
    let need = stride
        .checked_mul(height - 1)
        .and_then(|n| n.checked_add(row))
        .ok_or(PixelError::Empty { width, height })?;
    if bytes.len() < need {
        return Err(PixelError::Short {
            width,
            height,
            need,
            got: bytes.len(),
        });
    }
    Ok(())
}

/// The grey image of one frame.
pub fn to_gray(
    bytes: &[u8],
    width: usize,
    height: usize,
    layout: Layout,
    range: Range,
) -> Result<GrayImage, PixelError> {
    let mut data = match layout {
        Layout::Yuyv { stride } => {
            check(bytes, width, height, stride, 2)?;
            let mut out = Vec::with_capacity(width * height);
            for r in 0..height {
                let row = &bytes[r * stride..r * stride + 2 * width];
                out.extend(row.iter().step_by(2));
            }
            out
        }
        Layout::Nv12 { stride } | Layout::Gray { stride } => {
            check(bytes, width, height, stride, 1)?;
            if stride == width {
                bytes[..width * height].to_vec()
            } else {
                let mut out = Vec::with_capacity(width * height);
                for r in 0..height {
                    out.extend_from_slice(&bytes[r * stride..r * stride + width]);
                }
                out
            }
        }
        Layout::Rgb { stride } | Layout::Bgr { stride } => {
            check(bytes, width, height, stride, 3)?;
            // BT.601: 0.299 R + 0.587 G + 0.114 B, in 16-bit fixed point.
            let (wr, wb) = match layout {
                Layout::Bgr { .. } => (7_471u32, 19_595u32),
                _ => (19_595, 7_471),
            };
            let luma = |p: &[u8]| {
                ((wr * u32::from(p[0]) + 38_470 * u32::from(p[1]) + wb * u32::from(p[2]) + 32_768)
                    >> 16) as u8
            };
            let mut out = vec![0u8; width * height];
            for (r, dst) in out.chunks_exact_mut(width).enumerate() {
                let row = &bytes[r * stride..r * stride + 3 * width];
                // Sixteen pixels at a time (a fixed-size loop the compiler unrolls and
                // vectorises), then the rest one by one.
                let mut src16 = row.chunks_exact(48);
                let mut dst16 = dst.chunks_exact_mut(16);
                for (s, d) in (&mut src16).zip(&mut dst16) {
                    for i in 0..16 {
                        d[i] = luma(&s[3 * i..3 * i + 3]);
                    }
                }
                for (s, d) in src16
                    .remainder()
                    .chunks_exact(3)
                    .zip(dst16.into_remainder())
                {
                    *d = luma(s);
                }
            }
            out
        }
        Layout::Mjpeg => return mjpeg(bytes, width, height, range),
    };
    if range == Range::Limited {
        let t = limited_table();
        data.iter_mut().for_each(|v| *v = t[*v as usize]);
    }
    GrayImage::new(width, height, data).map_err(|_| PixelError::Empty { width, height })
}

/// Decodes a JPEG frame to luma; `width` and `height` are what the camera announced (a frame of
/// another size is taken as it is: some cameras change size on the fly).
fn mjpeg(bytes: &[u8], width: usize, height: usize, range: Range) -> Result<GrayImage, PixelError> {
    use zune_jpeg::zune_core::bytestream::ZCursor;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    if bytes.is_empty() {
        return Err(PixelError::Empty { width, height });
    }
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::Luma);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let mut data = decoder
        .decode()
        .map_err(|e| PixelError::Jpeg(e.to_string()))?;
    let (w, h) = decoder
        .dimensions()
        .ok_or_else(|| PixelError::Jpeg("no size in the header".into()))?;
    if data.len() != w * h {
        return Err(PixelError::Jpeg(format!(
            "{} bytes of luma for {w}×{h}",
            data.len()
        )));
    }
    if range == Range::Limited {
        let t = limited_table();
        data.iter_mut().for_each(|v| *v = t[*v as usize]);
    }
    GrayImage::new(w, h, data).map_err(|_| PixelError::Empty {
        width: w,
        height: h,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference luma pattern with every value and odd structure.
    fn luma(w: usize, h: usize) -> Vec<u8> {
        (0..w * h)
            .map(|i| ((i * 37 + i / w * 11) % 256) as u8)
            .collect()
    }

    fn yuyv(y: &[u8], w: usize, h: usize, stride: usize) -> Vec<u8> {
        let mut out = vec![0xEEu8; stride * h];
        for r in 0..h {
            for c in 0..w {
                out[r * stride + 2 * c] = y[r * w + c];
                // Chroma: values that would spoil the luma if read.
                out[r * stride + 2 * c + 1] = if c % 2 == 0 { 0x11 } else { 0xF0 };
            }
        }
        out
    }

    #[test]
    fn yuyv_with_odd_widths_and_padded_strides() {
        for (w, h, pad) in [(6, 4, 0), (7, 5, 0), (7, 5, 10), (1, 1, 0), (33, 3, 64)] {
            let y = luma(w, h);
            let stride = 2 * w + pad;
            let mut bytes = yuyv(&y, w, h, stride);
            // The last row unpadded, as some drivers deliver it.
            bytes.truncate(stride * (h - 1) + 2 * w);
            let g = to_gray(&bytes, w, h, Layout::Yuyv { stride }, Range::Full).unwrap();
            assert_eq!((g.width, g.height), (w, h));
            assert_eq!(g.data, y, "{w}×{h} stride {stride}");
        }
    }

    #[test]
    fn nv12_gray_and_rgb_read_their_luma() {
        let (w, h) = (9, 4);
        let y = luma(w, h);
        let stride = 16;
        let mut nv12 = vec![0u8; stride * h + stride * h / 2];
        for r in 0..h {
            nv12[r * stride..r * stride + w].copy_from_slice(&y[r * w..r * w + w]);
        }
        // Chroma after the plane: never read.
        for b in nv12[stride * h..].iter_mut() {
            *b = 0x80;
        }
        let g = to_gray(&nv12, w, h, Layout::Nv12 { stride }, Range::Full).unwrap();
        assert_eq!(g.data, y);
        let g = to_gray(&y, w, h, Layout::Gray { stride: w }, Range::Full).unwrap();
        assert_eq!(g.data, y);
        // Grey pixels in RGB are their own luma; pure colours by BT.601.
        let rgb: Vec<u8> = [
            [0, 0, 0],
            [255, 255, 255],
            [128, 128, 128],
            [255, 0, 0],
            [0, 255, 0],
            [0, 0, 255],
        ]
        .concat();
        let g = to_gray(&rgb, 6, 1, Layout::Rgb { stride: 18 }, Range::Full).unwrap();
        assert_eq!(g.data, vec![0, 255, 128, 76, 150, 29]);
        let g = to_gray(&rgb, 6, 1, Layout::Bgr { stride: 18 }, Range::Full).unwrap();
        assert_eq!(g.data, vec![0, 255, 128, 29, 150, 76]);
        // Rows longer than the sixteen-pixel blocks, with a remainder, a padded stride and an
        // unpadded last row: every pixel by the BT.601 formula.
        for (w, h, pad) in [(37, 3, 5), (16, 2, 0), (48, 2, 3), (15, 1, 0)] {
            let stride = 3 * w + pad;
            let mut bytes: Vec<u8> = (0..stride * h).map(|i| (i * 73 % 251) as u8).collect();
            bytes.truncate(stride * (h - 1) + 3 * w);
            let g = to_gray(&bytes, w, h, Layout::Rgb { stride }, Range::Full).unwrap();
            for r in 0..h {
                for c in 0..w {
                    let p = &bytes[r * stride + 3 * c..];
                    let y = (0.299 * f64::from(p[0])
                        + 0.587 * f64::from(p[1])
                        + 0.114 * f64::from(p[2]))
                    .round();
                    let got = f64::from(g.data[r * w + c]);
                    assert!((got - y).abs() <= 1.0, "{w}x{h} ({c}, {r}): {got} vs {y}");
                }
            }
        }
    }

    #[test]
    fn limited_range_luma_is_stretched_to_full() {
        let y = vec![0u8, 16, 17, 126, 235, 240, 255];
        let g = to_gray(&y, 7, 1, Layout::Gray { stride: 7 }, Range::Limited).unwrap();
        assert_eq!(g.data, vec![0, 0, 1, 128, 255, 255, 255]);
    }

    #[test]
    fn wrong_sizes_are_errors_not_panics() {
        let bytes = vec![0u8; 100];
        assert!(matches!(
            to_gray(&bytes, 0, 10, Layout::Gray { stride: 0 }, Range::Full),
            Err(PixelError::Empty { .. })
        ));
        assert!(matches!(
            to_gray(&bytes, 10, 10, Layout::Yuyv { stride: 10 }, Range::Full),
            Err(PixelError::Stride { need: 20, .. })
        ));
        assert!(matches!(
            to_gray(&bytes, 10, 11, Layout::Nv12 { stride: 10 }, Range::Full),
            Err(PixelError::Short {
                need: 110,
                got: 100,
                ..
            })
        ));
        assert!(to_gray(
            &bytes,
            usize::MAX,
            2,
            Layout::Rgb { stride: usize::MAX },
            Range::Full
        )
        .is_err());
        assert!(matches!(
            to_gray(&bytes, 10, 10, Layout::Mjpeg, Range::Full),
            Err(PixelError::Jpeg(_))
        ));
        assert!(to_gray(&[], 10, 10, Layout::Mjpeg, Range::Full).is_err());
    }

    fn jpeg(y: &[u8], w: usize, h: usize, colour: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let enc = jpeg_encoder::Encoder::new(&mut out, 95);
        if colour {
            let rgb: Vec<u8> = y.iter().flat_map(|v| [*v, *v, *v]).collect();
            enc.encode(&rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
                .unwrap();
        } else {
            enc.encode(y, w as u16, h as u16, jpeg_encoder::ColorType::Luma)
                .unwrap();
        }
        out
    }

    #[test]
    fn mjpeg_frames_decode_to_their_luma() {
        // Blocks like a QR code's, at an odd size (JPEG pads to 8×8 and 16×16 internally).
        let (w, h) = (101, 67);
        let y: Vec<u8> = (0..w * h)
            .map(|i| {
                if ((i % w) / 5 + (i / w) / 5) % 2 == 0 {
                    20
                } else {
                    230
                }
            })
            .collect();
        for colour in [false, true] {
            let g = to_gray(&jpeg(&y, w, h, colour), w, h, Layout::Mjpeg, Range::Full).unwrap();
            assert_eq!((g.width, g.height), (w, h));
            let err: f64 = g
                .data
                .iter()
                .zip(&y)
                .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
                .sum::<f64>()
                / (w * h) as f64;
            assert!(err < 4.0, "mean error {err} (colour {colour})");
        }
        // A cut-off frame (a camera unplugged mid-transfer) is an error.
        let whole = jpeg(&y, w, h, true);
        assert!(
            to_gray(&whole[..whole.len() / 3], w, h, Layout::Mjpeg, Range::Full).is_err()
                || to_gray(&whole[..whole.len() / 3], w, h, Layout::Mjpeg, Range::Full)
                    .is_ok_and(|g| g.data.len() == w * h)
        );
    }

    #[test]
    fn a_code_seen_through_each_camera_format_decodes() {
        let (frame, _) = crate::synth::render(
            "https://csm.example.cn/1/PIXELS",
            320,
            240,
            &crate::synth::Conditions {
                module_px: 4.0,
                ..crate::synth::Conditions::default()
            },
            7,
        )
        .unwrap();
        let (w, h) = (frame.width, frame.height);
        let limited: Vec<u8> = frame
            .data
            .iter()
            .map(|v| 16 + (u32::from(*v) * 219 / 255) as u8)
            .collect();
        let cases: Vec<(Vec<u8>, Layout, Range)> = vec![
            (
                yuyv(&frame.data, w, h, 2 * w + 32),
                Layout::Yuyv { stride: 2 * w + 32 },
                Range::Full,
            ),
            (
                yuyv(&limited, w, h, 2 * w),
                Layout::Yuyv { stride: 2 * w },
                Range::Limited,
            ),
            (frame.data.clone(), Layout::Nv12 { stride: w }, Range::Full),
            (jpeg(&frame.data, w, h, true), Layout::Mjpeg, Range::Full),
        ];
        for (bytes, layout, range) in cases {
            let g = to_gray(&bytes, w, h, layout, range).unwrap();
            let found = crate::Scanner::new(crate::Config::default()).scan(&g);
            assert!(
                found
                    .iter()
                    .any(|f| f.text == "https://csm.example.cn/1/PIXELS"),
                "{layout:?} {range:?}"
            );
        }
    }
}
