//! Reading a QR grid straight from three located finder patterns (ZXing's detector): estimate
//! the grid size from their spacing, find the alignment pattern near where it should be, map
//! module centres through the perspective those points define, sample each module against the
//! block threshold, and hand the bits to rqrr's decoder (format, unmasking, Reed–Solomon).
//!
//! It needs no flood fill and no perspective search, so it is fast; where the finders are not
//! found cleanly, the rqrr stages behind it still run.
//!
//! Invariants: pure; never panics (every mapped point is bounds-checked; singular geometry gives
//! no result); a result is only returned when rqrr's error correction accepted the bits.

use crate::finder::{Binarizer, Finder};
use crate::{charset, Found, GrayImage, Stage};

/// A plane-to-plane perspective map (homography), `h[8] = 1`.
#[derive(Debug, Clone, Copy)]
struct Homography([f64; 8]);

impl Homography {
    /// The map taking each `src[i]` to `dst[i]`, if the four points are in general position.
    fn from_points(src: [(f64, f64); 4], dst: [(f64, f64); 4]) -> Option<Homography> {
        let mut a = [[0f64; 9]; 8];
        for i in 0..4 {
            let ((x, y), (u, v)) = (src[i], dst[i]);
            a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -x * u, -y * u, u];
            a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -x * v, -y * v, v];
        }
        // Gaussian elimination with partial pivoting.
        for col in 0..8 {
            let pivot = (col..8).max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))?;
            if a[pivot][col].abs() < 1e-12 {
                return None;
            }
            a.swap(col, pivot);
            let pivot_row = a[col];
            for (row, r) in a.iter_mut().enumerate() {
                if row != col {
                    let f = r[col] / pivot_row[col];
                    for (v, p) in r.iter_mut().zip(pivot_row).skip(col) {
                        *v -= f * p;
                    }
                }
            }
        }
        let mut h = [0f64; 8];
        for (i, hi) in h.iter_mut().enumerate() {
            *hi = a[i][8] / a[i][i];
        }
        h.iter().all(|v| v.is_finite()).then_some(Homography(h))
    }

    fn map(&self, x: f64, y: f64) -> (f64, f64) {
        let h = &self.0;
        let d = h[6] * x + h[7] * y + 1.0;
        (
            (h[0] * x + h[1] * y + h[2]) / d,
            (h[3] * x + h[4] * y + h[5]) / d,
        )
    }
}

/// Samples whether the image is dark at `(x, y)`; outside the image counts as light.
fn dark_at(img: &GrayImage, bin: &Binarizer, (x, y): (f64, f64)) -> Option<bool> {
    if !(x.is_finite() && y.is_finite()) || x < 0.0 || y < 0.0 {
        return None;
    }
    let (xi, yi) = (x as usize, y as usize);
    (xi < img.width && yi < img.height).then(|| bin.dark(img, xi, yi))
}

/// Grid sizes worth trying for a triple: the spacing estimate, corrected to 4k+1, and its
/// neighbours.
fn sizes(t: &[Finder; 3]) -> Vec<usize> {
    let [a, b, c] = t;
    // The locator measures module size along rows and columns; on a code turned by φ those runs
    // are longer by 1/cos φ (φ folded into ±45°).
    let angle = f64::from(b.y - a.y).atan2(f64::from(b.x - a.x));
    let quarter = std::f64::consts::FRAC_PI_2;
    let phi = angle - quarter * (angle / quarter).round();
    let m = f64::from((a.module + b.module + c.module) / 3.0) * phi.cos();
    let d = |p: &Finder, q: &Finder| f64::from((p.x - q.x).hypot(p.y - q.y));
    let est = ((d(a, b) + d(a, c)) / 2.0 / m).round() as i64 + 7;
    let base = match est.rem_euclid(4) {
        0 => est + 1,
        2 => est - 1,
        3 => est - 2,
        _ => est,
    };
    let mut out = Vec::new();
    for s in [base, base + 4, base - 4, base + 8, base - 8] {
        if (21..=177).contains(&s) && !out.contains(&(s as usize)) {
            out.push(s as usize);
        }
    }
    out
}

/// How well an alignment pattern (dark centre, light ring, dark ring) sits at `p`, stepping
/// `ux`/`uy` per module; out of 25.
fn alignment_score(
    img: &GrayImage,
    bin: &Binarizer,
    p: (f64, f64),
    ux: (f64, f64),
    uy: (f64, f64),
) -> u32 {
    let mut score = 0;
    for j in -2i32..=2 {
        for i in -2i32..=2 {
            let ring = i.abs().max(j.abs());
            let want_dark = ring != 1;
            let q = (
                p.0 + f64::from(i) * ux.0 + f64::from(j) * uy.0,
                p.1 + f64::from(i) * ux.1 + f64::from(j) * uy.1,
            );
            if dark_at(img, bin, q) == Some(want_dark) {
                score += 1;
            }
        }
    }
    score
}

/// The perspective of a `size`-module grid whose finders are `t` (top-left, top-right,
/// bottom-left): through the alignment pattern when the version has one and it is found,
/// otherwise through the parallelogram's fourth corner.
fn grid_map(img: &GrayImage, bin: &Binarizer, t: &[Finder; 3], size: usize) -> Option<Homography> {
    let [a, b, c] = t.map(|f| (f64::from(f.x), f64::from(f.y)));
    let n = size as f64;
    let span = n - 7.0;
    let ux = ((b.0 - a.0) / span, (b.1 - a.1) / span);
    let uy = ((c.0 - a.0) / span, (c.1 - a.1) / span);
    let src3 = [(3.5, 3.5), (n - 3.5, 3.5), (3.5, n - 3.5)];
    let fourth = (b.0 + c.0 - a.0, b.1 + c.1 - a.1);
    if size >= 25 {
        // Where the bottom-right alignment pattern sits in an undistorted grid, then the best
        // match within a few modules of it.
        let est = (
            a.0 + (n - 10.0) * ux.0 + (n - 10.0) * uy.0,
            a.1 + (n - 10.0) * ux.1 + (n - 10.0) * uy.1,
        );
        // Half-module steps within 5 modules of the estimate; further out only if that finds
        // nothing convincing.
        let mut best = (0u32, est);
        for reach in [5i32, 8] {
            for j in -2 * reach..=2 * reach {
                for i in -2 * reach..=2 * reach {
                    if reach > 5 && i.abs().max(j.abs()) <= 10 {
                        continue; // already searched
                    }
                    let (fi, fj) = (f64::from(i) / 2.0, f64::from(j) / 2.0);
                    let p = (est.0 + fi * ux.0 + fj * uy.0, est.1 + fi * ux.1 + fj * uy.1);
                    let s = alignment_score(img, bin, p, ux, uy);
                    if s > best.0 {
                        best = (s, p);
                    }
                }
            }
            if best.0 >= 22 {
                break;
            }
        }
        if best.0 >= 22 {
            return Homography::from_points(
                [src3[0], src3[1], src3[2], (n - 6.5, n - 6.5)],
                [a, b, c, best.1],
            );
        }
    }
    Homography::from_points(
        [src3[0], src3[1], src3[2], (n - 3.5, n - 3.5)],
        [a, b, c, fourth],
    )
}

/// Whether the two timing patterns (row and column 6 between the finders) alternate as they
/// must under this map: a cheap test that rejects a wrong triple or size before the full read.
fn timing_ok(img: &GrayImage, bin: &Binarizer, h: &Homography, size: usize) -> bool {
    timing_share(img, bin, h, size) >= 0.7
}

/// The share of timing-pattern modules that come out as they must under `h`.
fn timing_share(img: &GrayImage, bin: &Binarizer, h: &Homography, size: usize) -> f64 {
    let (mut good, mut total) = (0usize, 0usize);
    for i in 8..size - 8 {
        let want_dark = i % 2 == 0;
        for (x, y) in [(i, 6), (6, i)] {
            let p = h.map(x as f64 + 0.5, y as f64 + 0.5);
            total += 1;
            if dark_at(img, bin, p) == Some(want_dark) {
                good += 1;
            }
        }
    }
    if total == 0 {
        0.0
    } else {
        good as f64 / total as f64
    }
}

/// The affine map through the three finder centres alone: exact along the two timing patterns'
/// edges, so a cheap first test of a grid size before the alignment-pattern search.
fn affine_map(t: &[Finder; 3], size: usize) -> Option<Homography> {
    let [a, b, c] = t.map(|f| (f64::from(f.x), f64::from(f.y)));
    let n = size as f64;
    Homography::from_points(
        [
            (3.5, 3.5),
            (n - 3.5, 3.5),
            (3.5, n - 3.5),
            (n - 3.5, n - 3.5),
        ],
        [a, b, c, (b.0 + c.0 - a.0, b.1 + c.1 - a.1)],
    )
}

/// Whether `p` lies inside the quadrilateral `q` (corners in order, either winding).
fn inside(q: &[(f32, f32); 4], p: (f32, f32)) -> bool {
    let side = |a: (f32, f32), b: (f32, f32)| (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0);
    let s: Vec<f32> = (0..4).map(|i| side(q[i], q[(i + 1) % 4])).collect();
    s.iter().all(|&v| v >= 0.0) || s.iter().all(|&v| v <= 0.0)
}

/// The 34 version-information codewords (versions 7–40): 6 data bits and 12 BCH bits.
fn version_codeword(v: u32) -> u32 {
    let mut rem = v << 12;
    for i in (0..6).rev() {
        if rem & (1 << (i + 12)) != 0 {
            rem ^= 0x1F25 << i;
        }
    }
    (v << 12) | rem
}

/// The grid size that the version information beside the top-right and bottom-left finders
/// names, if either block reads within three bit errors of a valid codeword. `size` is the
/// estimate that places the blocks (they sit within a few modules of their finder, so an
/// estimate a few versions off still finds them).
fn version_size(img: &GrayImage, bin: &Binarizer, t: &[Finder; 3], size: usize) -> Option<usize> {
    if size < 41 {
        return None;
    }
    let map = affine_map(t, size)?;
    let n = size as f64;
    // Bit i of the top-right block is at (n - 11 + i % 3, i / 3); the bottom-left block is its
    // transpose. The maps are exact near the finders they are measured from.
    let mut best: Option<(u32, usize)> = None;
    for transpose in [false, true] {
        let mut word = 0u32;
        for i in 0..18 {
            let (a, b) = ((n - 11.0 + (i % 3) as f64), (i / 3) as f64);
            let (x, y) = if transpose { (b, a) } else { (a, b) };
            if dark_at(img, bin, map.map(x + 0.5, y + 0.5))? {
                word |= 1 << i;
            }
        }
        for v in 7..=40u32 {
            let d = (version_codeword(v) ^ word).count_ones();
            if d <= 3 && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, 17 + 4 * v as usize));
            }
        }
    }
    best.map(|(_, s)| s)
}

/// Samples and decodes one grid against the image's own grey levels: each module's centre
/// (bilinear) compared with the mean of the modules around it (a 9×9-module window). Slower
/// than the block threshold, and steadier where blur or uneven light leave a module's pixels
/// near a block's threshold.
fn read_local(img: &GrayImage, h: &Homography, size: usize) -> Option<Found> {
    let grey = |(x, y): (f64, f64)| -> Option<f64> {
        if !(x.is_finite() && y.is_finite()) || x < 0.0 || y < 0.0 {
            return None;
        }
        let (x, y) = (x - 0.5, y - 0.5);
        let (x0, y0) = (x.max(0.0).floor(), y.max(0.0).floor());
        let (fx, fy) = ((x - x0).clamp(0.0, 1.0), (y - y0).clamp(0.0, 1.0));
        let (xi, yi) = (x0 as usize, y0 as usize);
        if xi + 1 >= img.width || yi + 1 >= img.height {
            return None;
        }
        let p = |dx: usize, dy: usize| f64::from(img.data[(yi + dy) * img.width + xi + dx]);
        Some(
            (p(0, 0) * (1.0 - fx) + p(1, 0) * fx) * (1.0 - fy)
                + (p(0, 1) * (1.0 - fx) + p(1, 1) * fx) * fy,
        )
    };
    let mut v = vec![0f64; size * size];
    for y in 0..size {
        for x in 0..size {
            v[y * size + x] = grey(h.map(x as f64 + 0.5, y as f64 + 0.5))?;
        }
    }
    // Integral image in module space.
    let w = size + 1;
    let mut sum = vec![0f64; w * w];
    for y in 0..size {
        let mut row = 0.0;
        for x in 0..size {
            row += v[y * size + x];
            sum[(y + 1) * w + x + 1] = sum[y * w + x + 1] + row;
        }
    }
    let r = 4usize;
    let plain = local_bits(&v, &sum, size, r);
    if let Some(f) = decode_bits(&plain, h, size) {
        return Some(f);
    }
    // Blur spreads each module into its neighbours: take a share of theirs back out.
    let sharp: Vec<f64> = (0..size * size)
        .map(|i| {
            let (x, y) = (i % size, i / size);
            let at = |dx: isize, dy: isize| {
                let (xx, yy) = (x as isize + dx, y as isize + dy);
                if xx < 0 || yy < 0 || xx >= size as isize || yy >= size as isize {
                    v[i]
                } else {
                    v[yy as usize * size + xx as usize]
                }
            };
            let around = (at(-1, 0) + at(1, 0) + at(0, -1) + at(0, 1)) / 4.0;
            v[i] + 0.8 * (v[i] - around)
        })
        .collect();
    decode_bits(&local_bits(&sharp, &sum, size, r), h, size)
}

/// Each module darker than the mean of the `(2r+1)²` modules around it (`sum`: the integral
/// image of the unsharpened values, `size + 1` wide).
fn local_bits(v: &[f64], sum: &[f64], size: usize, r: usize) -> Vec<bool> {
    let w = size + 1;
    (0..size * size)
        .map(|i| {
            let (x, y) = (i % size, i / size);
            let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
            let (x1, y1) = ((x + r + 1).min(size), (y + r + 1).min(size));
            let s = sum[y1 * w + x1] - sum[y0 * w + x1] - sum[y1 * w + x0] + sum[y0 * w + x0];
            v[i] < s / ((x1 - x0) * (y1 - y0)) as f64
        })
        .collect()
}

/// Samples and decodes one grid; `None` unless rqrr's error correction accepts it.
fn read(img: &GrayImage, bin: &Binarizer, h: &Homography, size: usize) -> Option<Found> {
    let mut bits = vec![false; size * size];
    for y in 0..size {
        for x in 0..size {
            let p = h.map(x as f64 + 0.5, y as f64 + 0.5);
            bits[y * size + x] = dark_at(img, bin, p).unwrap_or(false);
        }
    }
    decode_bits(&bits, h, size)
}

/// Decodes a sampled grid; `None` unless rqrr's error correction accepts it.
fn decode_bits(bits: &[bool], h: &Homography, size: usize) -> Option<Found> {
    let grid = rqrr::Grid::new(rqrr::SimpleGrid::from_func(size, |x, y| bits[y * size + x]));
    let mut bytes = Vec::new();
    grid.decode_to(&mut bytes).ok()?;
    let n = size as f64;
    let corner = |x: f64, y: f64| {
        let (u, v) = h.map(x, y);
        (u as f32, v as f32)
    };
    Some(Found {
        text: charset::decode(&bytes),
        corners: [
            corner(0.0, 0.0),
            corner(n, 0.0),
            corner(n, n),
            corner(0.0, n),
        ],
        stage: Stage::Finder,
    })
}

/// Decodes the codes whose finder triples are given (best first), trying at most `max_triples`.
pub fn decode(
    img: &GrayImage,
    bin: &Binarizer,
    triples: &[[Finder; 3]],
    max_triples: usize,
) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    for t in triples.iter().take(max_triples) {
        // Finders inside a code already read are its data modules imitating finders.
        if t.iter()
            .any(|f| out.iter().any(|o| inside(&o.corners, (f.x, f.y))))
        {
            continue;
        }
        let mut sizes = sizes(t);
        // From version 7 on, the version is written beside two finders: read it, and the size
        // is known instead of guessed from the finders' spacing.
        if let Some(v) = sizes.first().and_then(|&s| version_size(img, bin, t, s)) {
            sizes.retain(|&s| s != v);
            sizes.insert(0, v);
        }
        for size in sizes {
            // A wrong size (or a triple that is no code) fails the timing test already under the
            // affine map: skip the alignment search for it. The bar is lower than the final one,
            // since perspective bends the far ends of the timing patterns.
            if affine_map(t, size).is_none_or(|a| timing_share(img, bin, &a, size) < 0.45) {
                continue;
            }
            let Some(h) = grid_map(img, bin, t, size) else {
                continue;
            };
            if !timing_ok(img, bin, &h, size) {
                continue;
            }
            if let Some(f) = read(img, bin, &h, size).or_else(|| read_local(img, &h, size)) {
                if !out.iter().any(|o| o.text == f.text) {
                    out.push(f);
                }
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finder;
    use crate::synth::{render, Conditions};

    fn run(img: &GrayImage) -> Vec<Found> {
        let bin = Binarizer::new(img);
        let t = finder::triples(finder::find_finders_with(img, &bin));
        decode(img, &bin, &t, 4)
    }

    #[test]
    fn homography_maps_its_four_points() {
        let src = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)];
        let dst = [(5.0, 7.0), (95.0, 12.0), (90.0, 100.0), (2.0, 90.0)];
        let h = Homography::from_points(src, dst).unwrap();
        for (s, d) in src.iter().zip(dst) {
            let (u, v) = h.map(s.0, s.1);
            assert!((u - d.0).abs() < 1e-6 && (v - d.1).abs() < 1e-6);
        }
        let line = [(0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (3.0, 3.0)];
        assert!(
            Homography::from_points(line, dst).is_none(),
            "collinear points"
        );
    }

    #[test]
    fn reads_dense_rotated_tilted_codes_and_their_corners() {
        let text: String = "JKM1:"
            .chars()
            .chain((0..420).map(|i| (b'A' + (i * 7 % 26) as u8) as char))
            .collect();
        for (seed, rot) in [(1u64, -14.0f32), (2, 0.0), (3, 11.0), (4, 25.0)] {
            let c = Conditions {
                rotation_deg: rot,
                tilt: 0.1,
                module_px: 4.0,
                noise: 5.0,
                ..Conditions::default()
            };
            let (img, corners) = render(&text, 640, 640, &c, seed).unwrap();
            let found = run(&img);
            let full = crate::Scanner::default().scan(&img);
            assert_eq!(
                found.len(),
                1,
                "seed {seed}: {found:?}; the whole pipeline: {:?}",
                full.iter().map(|f| f.stage).collect::<Vec<_>>()
            );
            assert_eq!(found[0].text, text);
            for (got, want) in found[0].corners.iter().zip(corners) {
                let d = (got.0 - want.0).hypot(got.1 - want.1);
                assert!(d < 10.0, "seed {seed}: corner off by {d} px");
            }
        }
    }

    #[test]
    fn nothing_from_noise_and_no_panic_on_odd_frames() {
        let c = Conditions {
            module_px: 0.0,
            noise: 8.0,
            paper: 25.0,
            ..Conditions::default()
        };
        let (blank, _) = render("X", 640, 480, &c, 5).unwrap();
        assert!(run(&blank).is_empty());
        let tiny = GrayImage::new(21, 21, vec![0; 441]).unwrap();
        assert!(run(&tiny).is_empty());
    }
}

#[cfg(test)]
mod stress {
    use crate::synth::{render, Conditions};
    use crate::{live::LiveConfig, live::LiveDecoder, Scanner};

    /// Hard and odd frames (codes cut by the frame edge, strong perspective, glare, tiny and huge
    /// modules, small frames) through the whole pipeline and the live decoder: nothing may panic,
    /// not even inside the containment.
    #[test]
    fn odd_frames_never_panic_anywhere_in_the_pipeline() {
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng >> 11) as f32 / (1u64 << 53) as f32
        };
        let mut scanner = Scanner::default();
        let mut live = LiveDecoder::new(LiveConfig::default());
        let n = if cfg!(debug_assertions) { 40 } else { 400 };
        for i in 0..n {
            let c = Conditions {
                rotation_deg: (next() - 0.5) * 180.0,
                tilt: next() * 0.6,
                module_px: 1.0 + next() * 9.0,
                blur: (next() * 3.0) as usize,
                noise: next() * 40.0,
                glare: next(),
                contrast: 0.1 + next() * 0.9,
                paper: next() * 30.0,
                ..Conditions::default()
            };
            let (w, h) = (
                21 + (next() * 700.0) as usize,
                21 + (next() * 500.0) as usize,
            );
            let text = format!(
                "JKM1:STRESS-{i:04}-{}",
                "X".repeat((next() * 300.0) as usize)
            );
            let Ok((frame, _)) = render(&text, w, h, &c, i) else {
                continue;
            };
            let _ = scanner.scan(&frame);
            let _ = live.on_frame(&frame, i * 33);
        }
        assert_eq!(scanner.contained_panics, 0);
        assert_eq!(live.contained_panics(), 0);
    }
}
