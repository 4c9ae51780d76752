//! Our QR scanner for the residents' check-in page: the page draws a photo or screenshot into a
//! canvas and hands its RGBA pixels here; the text of the first code found comes back. Loaded
//! only when a resident adds a code from a picture (the page's first load stays small).
//!
//! Invariants: no I/O; pixels are turned to luma with the same BT.601 weights as PNG frames
//! (alpha composited on white, as a screenshot's transparent corners read as paper); a buffer
//! whose length does not match its size decodes to nothing rather than failing.

use venuecode_scan::{GrayImage, Scanner};
use wasm_bindgen::prelude::*;

/// Luma of RGBA pixels, alpha composited on white.
pub fn luma(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .map(|p| {
            let (r, g, b, a) = (p[0] as u32, p[1] as u32, p[2] as u32, p[3] as u32);
            let y = (299 * r + 587 * g + 114 * b) / 1000;
            ((y * a + 255 * (255 - a)) / 255) as u8
        })
        .collect()
}

/// The first code's text in a `width` × `height` RGBA picture, if any.
#[wasm_bindgen]
pub fn decode_rgba(rgba: &[u8], width: u32, height: u32) -> Option<String> {
    let (w, h) = (width as usize, height as usize);
    if w.checked_mul(h)?.checked_mul(4)? != rgba.len() {
        return None;
    }
    let frame = GrayImage::new(w, h, luma(rgba)).ok()?;
    Scanner::default()
        .scan(&frame)
        .into_iter()
        .next()
        .map(|f| f.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_in_rgba_pixels_is_read_and_a_wrong_size_is_nothing() {
        let c = venuecode_scan::synth::Conditions::default();
        let (m, _) = venuecode_scan::synth::render("VC1:hello", 200, 200, &c, 1).unwrap();
        let rgba: Vec<u8> = m.data.iter().flat_map(|&v| [v, v, v, 255]).collect();
        assert_eq!(
            decode_rgba(&rgba, m.width as u32, m.height as u32).as_deref(),
            Some("VC1:hello")
        );
        assert_eq!(
            decode_rgba(&rgba, m.width as u32 + 1, m.height as u32),
            None
        );
        assert_eq!(decode_rgba(&[], 0, 0), None);
        // Transparent pixels read as white paper.
        assert_eq!(luma(&[0, 0, 0, 0, 0, 0, 0, 255]), vec![255, 0]);
    }
}
