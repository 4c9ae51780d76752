//! A fast finder-pattern locator for live frames (after ZXing's `FinderPatternFinder`): a block
//! threshold, a row scan for the 1:1:3:1:1 dark/light runs of a finder pattern, a vertical
//! cross-check, and clustering. It says *where* a code probably is, so the slow, sure rqrr
//! pipeline runs on a crop instead of the whole frame — and not at all on a frame with no code.
//!
//! Invariants: pure and allocation-light (two buffers the size of the block grid and the
//! candidates); never panics on any frame size; it only proposes regions — decoding, and so
//! correctness, stays with rqrr.

use crate::GrayImage;

/// Side of the threshold blocks, in pixels.
const BLOCK: usize = 16;
/// Least difference between a finder's dark and light runs (grey levels): printed and
/// on-screen finders have far more; sensor noise and paper texture that happen to form 1:1:3:1:1
/// runs have less.
const MIN_CONTRAST: u32 = 40;
/// Rows skipped between scanned rows (finder centres are 3 modules tall; at 3 px per module a
/// step of 2 still hits each several times).
const ROW_STEP: usize = 2;

/// A finder pattern candidate: centre and module size in frame pixels, and how many scan rows
/// confirmed it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finder {
    pub x: f32,
    pub y: f32,
    pub module: f32,
    pub hits: u32,
}

/// A proposed region to decode: `(x0, y0, x1, y1)` in frame pixels.
pub type Region = (usize, usize, usize, usize);

/// A frame's block thresholds: whether a pixel is dark.
pub struct Binarizer {
    bw: usize,
    thr: Vec<u8>,
}

impl Binarizer {
    /// Thresholds for `img`.
    pub fn new(img: &GrayImage) -> Binarizer {
        let (bw, _bh, thr) = block_thresholds(img);
        Binarizer { bw, thr }
    }

    /// Whether the pixel at `(x, y)` (inside `img`) is dark.
    #[inline]
    pub fn dark(&self, img: &GrayImage, x: usize, y: usize) -> bool {
        img.data[y * img.width + x] < self.thr[(y / BLOCK) * self.bw + x / BLOCK]
    }
}

/// Per-block thresholds: the mean of the 3×3 blocks around each block, a little below it so
/// flat light areas stay light.
fn block_thresholds(img: &GrayImage) -> (usize, usize, Vec<u8>) {
    let (w, h) = (img.width, img.height);
    let (bw, bh) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
    let mut sums = vec![0u32; bw * bh];
    let mut counts = vec![0u32; bw * bh];
    for y in 0..h {
        let row = &img.data[y * w..(y + 1) * w];
        let by = y / BLOCK;
        for (bx, chunk) in row.chunks(BLOCK).enumerate() {
            sums[by * bw + bx] += chunk.iter().map(|&p| u32::from(p)).sum::<u32>();
            counts[by * bw + bx] += chunk.len() as u32;
        }
    }
    let means: Vec<u32> = sums
        .iter()
        .zip(&counts)
        .map(|(s, c)| s / (*c).max(1))
        .collect();
    let mut thr = vec![0u8; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let (mut s, mut n) = (0u32, 0u32);
            for yy in by.saturating_sub(1)..(by + 2).min(bh) {
                for xx in bx.saturating_sub(1)..(bx + 2).min(bw) {
                    s += means[yy * bw + xx];
                    n += 1;
                }
            }
            thr[by * bw + bx] = (s / n.max(1)).saturating_sub(2) as u8;
        }
    }
    (bw, bh, thr)
}

/// Whether five run lengths look like a finder pattern (1:1:3:1:1, half a module of slack).
fn is_finder(c: &[u32; 5]) -> Option<f32> {
    let total: u32 = c.iter().sum();
    if total < 7 {
        return None;
    }
    let m = total as f32 / 7.0;
    let slack = m / 2.0 + 0.5;
    let ok = (c[0] as f32 - m).abs() < slack
        && (c[1] as f32 - m).abs() < slack
        && (c[2] as f32 - 3.0 * m).abs() < 3.0 * slack
        && (c[3] as f32 - m).abs() < slack
        && (c[4] as f32 - m).abs() < slack;
    ok.then_some(m)
}

/// Whether the runs ending just before `end` on row `y` differ enough between dark and light.
fn contrast_ok(img: &GrayImage, y: usize, end: usize, c: &[u32; 5]) -> bool {
    let row = &img.data[y * img.width..(y + 1) * img.width];
    let total: usize = c.iter().map(|&n| n as usize).sum();
    let Some(start) = end.checked_sub(total) else {
        return false;
    };
    let (mut dark, mut nd, mut light, mut nl) = (0u32, 0u32, 0u32, 0u32);
    let mut x = start;
    for (k, &n) in c.iter().enumerate() {
        for &p in &row[x..x + n as usize] {
            if k % 2 == 0 {
                dark += u32::from(p);
                nd += 1;
            } else {
                light += u32::from(p);
                nl += 1;
            }
        }
        x += n as usize;
    }
    nd > 0 && nl > 0 && light / nl >= dark / nd + MIN_CONTRAST
}

struct Dark<'a> {
    img: &'a GrayImage,
    bin: &'a Binarizer,
}

impl Dark<'_> {
    #[inline]
    fn at(&self, x: usize, y: usize) -> bool {
        self.bin.dark(self.img, x, y)
    }

    /// Checks the column through `(x, y)` for the same pattern; returns the centre row and the
    /// vertical module size.
    fn cross_check_vertical(&self, x: usize, y: usize, max_run: u32) -> Option<(f32, f32)> {
        let h = self.img.height;
        if !self.at(x, y) {
            return None;
        }
        let mut c = [0u32; 5];
        // Up: centre run, light, outer dark.
        let mut i = y as isize;
        for (k, dark) in [(2, true), (1, false), (0, true)] {
            while i >= 0 && self.at(x, i as usize) == dark && c[k] <= max_run {
                c[k] += 1;
                i -= 1;
            }
            if c[k] == 0 || c[k] > max_run {
                return None;
            }
        }
        // Down.
        let mut i = y + 1;
        while i < h && self.at(x, i) && c[2] <= 3 * max_run {
            c[2] += 1;
            i += 1;
        }
        let centre_end = i;
        for (k, dark) in [(3, false), (4, true)] {
            while i < h && self.at(x, i) == dark && c[k] <= max_run {
                c[k] += 1;
                i += 1;
            }
            if c[k] == 0 || c[k] > max_run {
                return None;
            }
        }
        let m = is_finder(&c)?;
        let centre = centre_end as f32 - c[2] as f32 / 2.0;
        Some((centre, m))
    }
}

/// Every finder pattern candidate confirmed by at least two scan rows.
pub fn find_finders(img: &GrayImage) -> Vec<Finder> {
    let (w, h) = (img.width, img.height);
    if w < 21 || h < 21 || img.data.len() < w * h {
        return Vec::new();
    }
    find_finders_with(img, &Binarizer::new(img))
}

/// [`find_finders`] with thresholds already computed.
pub fn find_finders_with(img: &GrayImage, bin: &Binarizer) -> Vec<Finder> {
    let (w, h) = (img.width, img.height);
    if w < 21 || h < 21 || img.data.len() < w * h {
        return Vec::new();
    }
    let dark = Dark { img, bin };
    let mut found: Vec<Finder> = Vec::new();
    let mut record = |x: f32, y: f32, m: f32| {
        for f in found.iter_mut() {
            if (f.x - x).abs() < 2.0 * f.module
                && (f.y - y).abs() < 2.0 * f.module
                && (f.module - m).abs() < f.module.max(m) / 2.0
            {
                let n = f.hits as f32;
                f.x = (f.x * n + x) / (n + 1.0);
                f.y = (f.y * n + y) / (n + 1.0);
                f.module = (f.module * n + m) / (n + 1.0);
                f.hits += 1;
                return;
            }
        }
        found.push(Finder {
            x,
            y,
            module: m,
            hits: 1,
        });
    };
    for y in (0..h).step_by(ROW_STEP) {
        let mut c = [0u32; 5];
        let mut state = 0usize;
        let mut x = 0;
        while x <= w {
            let d = x < w && dark.at(x, y);
            if d {
                if state & 1 == 1 {
                    state += 1;
                }
                c[state] += 1;
            } else if state & 1 == 0 {
                if state == 4 {
                    if let Some(m) = is_finder(&c).filter(|_| contrast_ok(img, y, x, &c)) {
                        let cx = x as f32 - c[4] as f32 - c[3] as f32 - c[2] as f32 / 2.0;
                        let max_run = (m * 2.0).ceil() as u32 + 1;
                        if let Some((cy, mv)) = dark.cross_check_vertical(cx as usize, y, max_run) {
                            if (mv - m).abs() < m.max(mv) / 2.0 {
                                record(cx, cy, (m + mv) / 2.0);
                            }
                        }
                    }
                    c = [c[2], c[3], c[4], 1, 0];
                    state = 3;
                } else if c[state] > 0 || state > 0 {
                    state += 1;
                    c[state] += 1;
                }
            } else {
                c[state] += 1;
            }
            x += 1;
        }
    }
    found.retain(|f| f.hits >= 2);
    found
}

/// Regions likely to hold a code: for each group of three finders of similar module size that
/// sit like a code's corners, the box around them and the fourth corner, grown by the quiet
/// zone. At most `max` regions, best-confirmed first.
pub fn regions(img: &GrayImage, max: usize) -> Vec<Region> {
    regions_of(img, &triples(find_finders(img)), max)
}

/// Three finders that sit like a code's corners: top-left (the corner), top-right, bottom-left
/// (in reading order for an unmirrored code), best-confirmed first.
pub fn triples(mut f: Vec<Finder>) -> Vec<[Finder; 3]> {
    f.sort_by_key(|p| std::cmp::Reverse(p.hits));
    f.truncate(12);
    let mut out: Vec<(f32, [Finder; 3])> = Vec::new();
    let n = f.len();
    for i in 0..n {
        for j in i + 1..n {
            for k in j + 1..n {
                let t = [f[i], f[j], f[k]];
                let (lo, hi) = t.iter().fold((f32::MAX, 0f32), |(lo, hi), p| {
                    (lo.min(p.module), hi.max(p.module))
                });
                if hi > lo * 1.6 {
                    continue;
                }
                if let Some(o) = orient(&t) {
                    out.push((quality(&o), o));
                }
            }
        }
    }
    out.sort_by(|a, b| b.0.total_cmp(&a.0));
    out.into_iter().map(|(_, t)| t).collect()
}

/// How much a (top-left, top-right, bottom-left) triple looks like a code: a right angle,
/// equal legs, equal module sizes, well confirmed. Finders that data modules happen to imitate
/// rarely line up so well.
fn quality(t: &[Finder; 3]) -> f32 {
    let [a, b, c] = t;
    let (ab, ac) = ((b.x - a.x).hypot(b.y - a.y), (c.x - a.x).hypot(c.y - a.y));
    let cos = ((b.x - a.x) * (c.x - a.x) + (b.y - a.y) * (c.y - a.y)) / (ab * ac);
    let legs = ab.min(ac) / ab.max(ac);
    let (lo, hi) = t.iter().fold((f32::MAX, 0f32), |(lo, hi), p| {
        (lo.min(p.module), hi.max(p.module))
    });
    let hits = t.iter().map(|p| p.hits).sum::<u32>() as f32;
    (1.0 - cos.abs()) * legs * (lo / hi) * hits.sqrt()
}

/// Orders three finders as top-left, top-right, bottom-left, if they can be a code's corners.
fn orient(t: &[Finder; 3]) -> Option<[Finder; 3]> {
    let d2 = |a: &Finder, b: &Finder| (a.x - b.x).powi(2) + (a.y - b.y).powi(2);
    // The corner (top-left) finder is opposite the longest side.
    let sides = [d2(&t[1], &t[2]), d2(&t[0], &t[2]), d2(&t[0], &t[1])];
    let corner = (0..3).max_by(|&a, &b| sides[a].total_cmp(&sides[b]))?;
    let (a, mut b, mut c) = (t[corner], t[(corner + 1) % 3], t[(corner + 2) % 3]);
    let (ab, ac) = (d2(&a, &b).sqrt(), d2(&a, &c).sqrt());
    let module = (a.module + b.module + c.module) / 3.0;
    // Both legs between 14 and ~180 modules (versions 1–40), about equal, near a right angle.
    if ab < 14.0 * module || ac < 14.0 * module || ab > 180.0 * module || ac > 180.0 * module {
        return None;
    }
    if ab.max(ac) > 1.5 * ab.min(ac) {
        return None;
    }
    let cos = ((b.x - a.x) * (c.x - a.x) + (b.y - a.y) * (c.y - a.y)) / (ab * ac);
    if cos.abs() > 0.5 {
        return None;
    }
    // Reading order: top-right is clockwise from bottom-left (y grows downwards).
    if (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x) < 0.0 {
        std::mem::swap(&mut b, &mut c);
    }
    Some([a, b, c])
}

/// The regions around the first `max` non-overlapping triples.
pub fn regions_of(img: &GrayImage, triples: &[[Finder; 3]], max: usize) -> Vec<Region> {
    let out: Vec<Region> = triples.iter().map(|t| region_of(t, img)).collect();
    let mut regions: Vec<Region> = Vec::new();
    for r in out {
        if regions.len() >= max {
            break;
        }
        if !regions.iter().any(|q| overlap(q, &r) > 0.5) {
            regions.push(r);
        }
    }
    regions
}

/// The box around a triple and its fourth corner, grown by the quiet zone, inside the frame.
pub fn region_of(t: &[Finder; 3], img: &GrayImage) -> Region {
    let [a, b, c] = *t;
    let module = (a.module + b.module + c.module) / 3.0;
    let d = (b.x + c.x - a.x, b.y + c.y - a.y);
    let xs = [a.x, b.x, c.x, d.0];
    let ys = [a.y, b.y, c.y, d.1];
    let grow = 8.0 * module;
    let x0 = xs.iter().cloned().fold(f32::MAX, f32::min) - grow;
    let x1 = xs.iter().cloned().fold(f32::MIN, f32::max) + grow;
    let y0 = ys.iter().cloned().fold(f32::MAX, f32::min) - grow;
    let y1 = ys.iter().cloned().fold(f32::MIN, f32::max) + grow;
    let clamp = |v: f32, hi: usize| v.max(0.0).min(hi as f32) as usize;
    (
        clamp(x0, img.width),
        clamp(y0, img.height),
        clamp(x1, img.width),
        clamp(y1, img.height),
    )
}

/// How much of the smaller region the two share (0 to 1).
pub fn overlap(a: &Region, b: &Region) -> f32 {
    let ix = a.2.min(b.2).saturating_sub(a.0.max(b.0)) as f32;
    let iy = a.3.min(b.3).saturating_sub(a.1.max(b.1)) as f32;
    let area = |r: &Region| ((r.2 - r.0) * (r.3 - r.1)).max(1) as f32;
    ix * iy / area(a).min(area(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{render, Conditions};

    #[test]
    fn finds_the_three_finders_and_a_region_around_the_code() {
        let c = Conditions {
            rotation_deg: 20.0,
            module_px: 3.5,
            ..Conditions::default()
        };
        let (frame, corners) = render("JKM1:FINDER-TEST-0123456789", 1280, 720, &c, 7).unwrap();
        let f = find_finders(&frame);
        assert!(f.len() >= 3, "found {f:?}");
        let r = regions(&frame, 2);
        assert!(!r.is_empty());
        let (x0, y0, x1, y1) = r[0];
        for (x, y) in corners {
            assert!(
                (x0 as f32..=x1 as f32).contains(&x) && (y0 as f32..=y1 as f32).contains(&y),
                "corner ({x}, {y}) outside {:?}",
                r[0]
            );
        }
        assert!(
            (x1 - x0) * (y1 - y0) < 1280 * 720 / 3,
            "the region is a crop"
        );
    }

    #[test]
    fn a_frame_without_a_code_proposes_nothing_and_odd_sizes_do_not_panic() {
        let c = Conditions {
            module_px: 0.0,
            noise: 6.0,
            paper: 25.0,
            ..Conditions::default()
        };
        let (blank, _) = render("X", 1280, 720, &c, 3).unwrap();
        assert!(regions(&blank, 2).is_empty());
        for (w, h) in [(0, 0), (1, 1), (21, 21), (17, 300), (300, 17)] {
            let img = GrayImage {
                width: w,
                height: h,
                data: vec![0; w * h],
            };
            let _ = regions(&img, 2);
        }
    }
}
