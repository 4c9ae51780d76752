//! Generated photo sets beside the conditions: **small codes** (versions 1–10 at 2.0–3.0 px per
//! module, turned 0–45°, small in a 500×500 or 1280×720 frame with a dark or light, noisy, busy
//! background: a resident's phone held far from the tablet, a poster across the door) and
//! **dense codes** (versions 20–30 at 2–3 px per module: a long health certificate, a screenshot
//! scaled down by a messaging app). `qrbench --make-small DIR` / `--make-dense DIR` write them as
//! `N.png` + `N.txt` for the peers; the tests below hold the scanner to its floors on them.
//!
//! Invariants: pure and deterministic — a set is the same frames every time (seeded); every case
//! is a valid symbol of the version it names, and its text is what a decoder must return.

use qrcode::{EcLevel, QrCode, Version};

use super::{render_code, Conditions, Rng};
use crate::GrayImage;

/// One generated photo and what it must decode to.
#[derive(Debug, Clone)]
pub struct Case {
    /// What the frame shows, for reports: `v7 2.4px 31° dark 1280x720`.
    pub name: String,
    pub text: String,
    pub image: GrayImage,
}

/// A health-code-like payload (base45 alphabet, as the certificates carry) of `len` characters.
pub fn payload(rng: &mut Rng, len: usize) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut s = String::from("JKM1:");
    while s.len() < len {
        s.push(A[(rng.next_u64() % A.len() as u64) as usize] as char);
    }
    s.truncate(len.max(1));
    s
}

/// A symbol of exactly `version` (level M) holding as long a payload as fits, less up to a
/// quarter (so a set does not only hold full symbols).
fn symbol(version: i16, rng: &mut Rng) -> Option<(String, QrCode)> {
    let fits = |len: usize, rng: &mut Rng| {
        let text = payload(&mut rng.clone(), len);
        QrCode::with_version(text.as_bytes(), Version::Normal(version), EcLevel::M).is_ok()
    };
    // The longest payload that fits: binary search (capacity grows with the version).
    let (mut lo, mut hi) = (1usize, 4_000usize);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(mid, rng) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    // Not shorter than what the version below could hold, so the version is the smallest.
    let below = if version > 1 {
        let (mut a, mut b) = (1usize, lo);
        while a < b {
            let mid = (a + b).div_ceil(2);
            let text = payload(&mut rng.clone(), mid);
            if QrCode::with_version(text.as_bytes(), Version::Normal(version - 1), EcLevel::M)
                .is_ok()
            {
                a = mid;
            } else {
                b = mid - 1;
            }
        }
        a + 1
    } else {
        1
    };
    let len = below + (rng.next_u64() as usize % (lo - below + 1)) * 3 / 4;
    let text = payload(rng, len.clamp(below, lo));
    let code = QrCode::with_version(text.as_bytes(), Version::Normal(version), EcLevel::M).ok()?;
    Some((text, code))
}

/// The small-code set: 40 frames, half 500×500 and half 1280×720; versions 1–10 in turn;
/// 2.0–3.0 px per module; turned 0–45°; the code anywhere inside the middle of the frame;
/// backgrounds alternately dark (a bag, a coat) and light (a wall), busy and noisy.
pub fn small_codes() -> Vec<Case> {
    let mut rng = Rng::new(0x5EA11);
    let mut out = Vec::new();
    for i in 0..40u64 {
        let version = (i % 10) as i16 + 1;
        let Some((text, code)) = symbol(version, &mut rng) else {
            continue;
        };
        let (w, h) = if i < 20 { (500, 500) } else { (1280, 720) };
        let module_px = 2.0 + rng.unit();
        let rotation_deg = rng.unit() * 45.0;
        let dark = i % 2 == 0;
        let side = (code.width() as f32 + 8.0) * module_px * 1.42;
        let room = ((w as f32 - side) / 2.0 * 0.8).max(0.0);
        let roomy = ((h as f32 - side) / 2.0 * 0.8).max(0.0);
        let c = Conditions {
            module_px,
            rotation_deg,
            noise: 4.0 + rng.unit() * 6.0,
            background: if dark { 45.0 } else { 200.0 },
            clutter: 25.0 + rng.unit() * 20.0,
            shift: (
                (rng.unit() * 2.0 - 1.0) * room,
                (rng.unit() * 2.0 - 1.0) * roomy,
            ),
            contrast: 0.8 + rng.unit() * 0.2,
            ..Conditions::default()
        };
        let (image, _) = render_code(&code, w, h, &c, i);
        out.push(Case {
            name: format!(
                "v{version} {module_px:.1}px {rotation_deg:.0}° {} {w}x{h}",
                if dark { "dark" } else { "light" }
            ),
            text,
            image,
        });
    }
    out
}

/// The dense-code set: 33 frames, versions 20–30 three times each at 2.0–3.0 px per module;
/// a third straight and clean (a screenshot scaled down), the rest photographed (turned up to
/// 8°, a little keystone, sensor noise, sometimes a slight blur).
pub fn dense_codes() -> Vec<Case> {
    let mut rng = Rng::new(0xDE45E);
    let mut out = Vec::new();
    for i in 0..33u64 {
        let version = 20 + (i % 11) as i16;
        let Some((text, code)) = symbol(version, &mut rng) else {
            continue;
        };
        let module_px = 2.0 + rng.unit();
        let screenshot = i % 3 == 0;
        let c = if screenshot {
            Conditions {
                module_px,
                background: 245.0,
                ..Conditions::default()
            }
        } else {
            Conditions {
                module_px,
                rotation_deg: (rng.unit() - 0.5) * 16.0,
                tilt: rng.unit() * 0.08,
                noise: 3.0 + rng.unit() * 3.0,
                blur: usize::from(i % 5 == 1),
                paper: 6.0,
                ..Conditions::default()
            }
        };
        let side = ((code.width() as f32 + 8.0) * module_px * 1.15) as usize;
        let size = (side + 40).max(320);
        let (image, _) = render_code(&code, size, size, &c, i);
        out.push(Case {
            name: format!(
                "v{version} {module_px:.1}px {}",
                if screenshot { "screenshot" } else { "photo" }
            ),
            text,
            image,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scanner;

    fn decoded(set: &[Case]) -> (usize, Vec<String>) {
        let mut missed = Vec::new();
        let mut ok = 0;
        for c in set {
            if Scanner::default()
                .scan(&c.image)
                .iter()
                .any(|f| f.text == c.text)
            {
                ok += 1;
            } else {
                missed.push(c.name.clone());
            }
        }
        (ok, missed)
    }

    #[test]
    fn the_sets_are_deterministic_and_of_the_versions_they_name() {
        let a = small_codes();
        let b = small_codes();
        assert_eq!(a.len(), 40);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((&x.text, &x.image), (&y.text, &y.image));
        }
        let mut rng = Rng::new(1);
        for v in [1i16, 10, 20, 30] {
            let (text, code) = symbol(v, &mut rng).unwrap();
            assert_eq!(code.version(), Version::Normal(v));
            // The smallest version that holds it.
            assert!(
                QrCode::with_version(text.as_bytes(), Version::Normal(v - 1), EcLevel::M).is_err()
                    || v == 1
            );
        }
        let d = dense_codes();
        assert_eq!(d.len(), 33);
        assert!(d.iter().all(|c| c.text.len() > 600));
    }

    /// The floor is what the pipeline read when the set was made (ZXing-C++ reads the same
    /// frames in `qrbench --peers`; the closing note has both).
    #[test]
    fn small_codes_meet_their_floor() {
        let set = small_codes();
        let (ok, missed) = decoded(&set);
        println!("small codes: {ok}/{} missed {missed:?}", set.len());
        assert!(
            ok >= SMALL_FLOOR,
            "{ok}/{} < {SMALL_FLOOR}: missed {missed:?}",
            set.len()
        );
    }

    /// Every dense code decodes.
    #[test]
    fn every_dense_code_decodes() {
        let set = dense_codes();
        let (ok, missed) = decoded(&set);
        println!("dense codes: {ok}/{} missed {missed:?}", set.len());
        assert!(missed.is_empty(), "missed {missed:?}");
    }

    const SMALL_FLOOR: usize = 39;
}
