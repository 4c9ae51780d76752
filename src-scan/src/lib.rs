//! The QR decode pipeline: a grayscale frame in, every decoded code with its text and corner
//! positions out. rqrr (a guarded fork, see vendor/rqrr/README.md) finds and decodes; around it,
//! a sequence of preprocessing stages (scales, binarisations, contrast stretch, inversion) gives
//! it more chances on real photos. Each stage is named so its contribution can be measured.
//!
//! Invariants: no I/O, no clock; [`Scanner::scan`] never panics or loops unboundedly on any frame
//! (rqrr is additionally contained with `catch_unwind` at this boundary); stages stop at the first
//! one that decodes something. A stage that cannot succeed is skipped, so a frame with no code
//! stays cheap (≤ 30 ms at 500×500): upscaling only where the finder locator sees small modules,
//! every grid size only where the same threshold found a finder group, and on a *quiet* frame
//! (rqrr's and the local-mean threshold found not one capstone) only the smoothed and inverted
//! passes after those two.

pub mod charset;
pub mod finder;
pub mod image;
pub mod live;
pub mod pixels;
pub mod prep;
pub mod sampler;
pub mod source;
pub mod synth;

use std::panic::{catch_unwind, AssertUnwindSafe};

pub use image::GrayImage;

/// One decoded code.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub text: String,
    /// Corners in frame pixels: top-left, top-right, bottom-right, bottom-left of the symbol.
    pub corners: [(f32, f32); 4],
    /// The pipeline stage that decoded it.
    pub stage: Stage,
}

/// A preprocessing stage in front of rqrr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// The fast path: finder patterns located by a row scan, the grid sampled through their
    /// perspective, rqrr's decoder on the bits (see `sampler`).
    Finder,
    /// rqrr's own adaptive threshold on the frame as it is.
    Native,
    /// Frame downscaled by 2 (box filter), rqrr's threshold.
    Half,
    /// Frame upscaled by 2 (by 3 when small) with bilinear interpolation: codes with 1–3 px
    /// modules.
    Double,
    /// Local-mean threshold over an integral image (window ≈ 1/8 of the short side).
    LocalMean,
    /// Local-mean threshold with a window ≈ 1/16 of the short side: small modules in a big frame.
    LocalFine,
    /// Otsu's global threshold.
    Otsu,
    /// Percentile contrast stretch, then rqrr's threshold.
    Stretch,
    /// Inverted frame (light modules on dark), rqrr's threshold.
    Inverted,
    /// Upscaled as in `Double`, then the local-mean threshold.
    DoubleLocalMean,
    /// rqrr's threshold, every plausible grid size per finder-pattern group (not only the
    /// timing-pattern count): codes with logos or damage across the timing pattern.
    GridSizes,
    /// Local-mean threshold with every plausible grid size.
    LocalMeanSizes,
    /// A 3×3 mean first, then rqrr's threshold: faint codes under sensor noise, whose modules
    /// the noise breaks into specks.
    Smooth,
    /// Crops around three finder patterns with small modules (under 4 px), each scaled up so a
    /// module spans about 7 px, rqrr's and the local-mean threshold on it: a small code far off
    /// in a big or busy frame, which no whole-frame pass resolves.
    Zoom,
}

impl Stage {
    /// Every stage, in the order tried.
    pub const ALL: [Stage; 14] = [
        Stage::Finder,
        Stage::Zoom,
        Stage::Native,
        Stage::Half,
        Stage::LocalMean,
        Stage::Otsu,
        Stage::Stretch,
        Stage::Smooth,
        Stage::Double,
        Stage::DoubleLocalMean,
        Stage::LocalFine,
        Stage::GridSizes,
        Stage::LocalMeanSizes,
        Stage::Inverted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Finder => "finder",
            Stage::Native => "native",
            Stage::Half => "half",
            Stage::Double => "double",
            Stage::LocalMean => "local-mean",
            Stage::LocalFine => "local-fine",
            Stage::Otsu => "otsu",
            Stage::Stretch => "stretch",
            Stage::Inverted => "inverted",
            Stage::DoubleLocalMean => "double-local-mean",
            Stage::GridSizes => "grid-sizes",
            Stage::LocalMeanSizes => "local-mean-sizes",
            Stage::Zoom => "zoom",
            Stage::Smooth => "smooth",
        }
    }
}

/// Which stages run, in order.
#[derive(Debug, Clone)]
pub struct Config {
    pub stages: Vec<Stage>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            stages: Stage::ALL.to_vec(),
        }
    }
}

/// Detects and decodes every grid of a prepared rqrr image (a macro because rqrr does not export
/// its image-buffer trait).
macro_rules! collect {
    ($p:expr, $scale:expr, $stage:expr, $sizes:expr, $grids:expr, $caps:expr) => {{
        let mut out: Vec<Found> = Vec::new();
        // Grids come unrefined: most decode as first located; only a grid that fails gets the
        // (costly) perspective refinement and a second try — the same result, less work.
        $p.set_lazy_refine(true);
        let (grids, caps) = $p.detect_grids_counted($sizes);
        *$grids = grids.len();
        *$caps = caps;
        for mut g in grids {
            let mut bytes = Vec::new();
            let mut decoded = g.decode_to(&mut bytes).is_ok();
            if !decoded {
                bytes.clear();
                g.refine();
                decoded = g.decode_to(&mut bytes).is_ok();
            }
            if decoded {
                let text = crate::charset::decode(&bytes);
                if out.iter().any(|f| f.text == text) {
                    continue;
                }
                let c = |i: usize| (g.bounds[i].x as f32 * $scale, g.bounds[i].y as f32 * $scale);
                out.push(Found {
                    text,
                    corners: [c(0), c(1), c(2), c(3)],
                    stage: $stage,
                });
            }
        }
        out
    }};
}

/// Whether the finder locator sees a finder-like pattern with modules under 5 px in `frame`:
/// the only frames where upscaling can help.
pub fn small_modules(frame: &GrayImage) -> bool {
    finder::find_finders(frame).iter().any(|f| f.module < 5.0)
}

/// A frame's block thresholds and finder-pattern candidates, found once per scan.
struct Located {
    bin: finder::Binarizer,
    finders: Vec<finder::Finder>,
}

impl Located {
    fn new(frame: &GrayImage) -> Located {
        let bin = finder::Binarizer::new(frame);
        let finders = finder::find_finders_with(frame, &bin);
        Located { bin, finders }
    }
}

/// Decodes frames. Holds no state between frames yet beyond its configuration.
#[derive(Debug, Clone, Default)]
pub struct Scanner {
    pub config: Config,
    /// How many rqrr invocations panicked and were contained (should stay 0 with the fork).
    pub contained_panics: u64,
    /// How many grids (finder groups rqrr accepted) the last rqrr pass located.
    last_grids: usize,
    /// How many capstones (finder patterns, grouped or not) the current stage's rqrr passes
    /// found, all of them (Smooth and Zoom run more than one).
    stage_capstones: usize,
    /// How many rqrr passes over a whole (possibly rescaled) frame ran, crops not counted.
    whole_frame_passes: u64,
}

impl Scanner {
    pub fn new(config: Config) -> Scanner {
        Scanner {
            config,
            contained_panics: 0,
            last_grids: 0,
            stage_capstones: 0,
            whole_frame_passes: 0,
        }
    }

    /// Every code found in `frame`, from the first stage that finds any.
    pub fn scan(&mut self, frame: &GrayImage) -> Vec<Found> {
        if frame.width < 21 || frame.height < 21 {
            return Vec::new();
        }
        // Upscaling is for small modules, and the costliest work on a frame with no code (a
        // 500×500 frame becomes a million pixels, twice): it runs only where the finder locator
        // sees a finder-like pattern with modules under 5 px. Asked once, when first needed.
        let mut small: Option<bool> = None;
        // rqrr's threshold found no finder group on the frame as it is: then trying every grid
        // size per group (same threshold, same groups) cannot find one either.
        let mut native_grids: Option<usize> = None;
        // Likewise for the local-mean threshold (a slightly stronger bias there: in practice the
        // same finder groups).
        let mut local_grids: Option<usize> = None;
        // The finder locator's view of the frame, shared by the stages and the gate that use it.
        let mut located: Option<Located> = None;
        // A quiet frame: rqrr's own threshold and the local-mean threshold both ran and neither
        // found a single capstone (not even one, let alone a group of three) — nor did any other
        // rqrr pass so far. The remaining binarisations of the same dark-on-light frame are
        // variations of those two and find nothing either on any photo we measured; only the
        // smoothed (faint codes under noise, where the specks break every capstone) and the
        // inverted frame still run. This is what keeps a frame with no code cheap.
        let (mut native_ran, mut local_ran, mut capstones_seen) = (false, false, false);
        for &stage in &self.config.stages.clone() {
            let quiet = native_ran && local_ran && !capstones_seen;
            if quiet
                && matches!(
                    stage,
                    Stage::Otsu
                        | Stage::Stretch
                        | Stage::Double
                        | Stage::DoubleLocalMean
                        | Stage::LocalFine
                        | Stage::GridSizes
                        | Stage::LocalMeanSizes
                )
            {
                continue;
            }
            if stage == Stage::GridSizes && native_grids == Some(0) {
                continue;
            }
            if stage == Stage::LocalMeanSizes && local_grids == Some(0) {
                continue;
            }
            if matches!(stage, Stage::Double | Stage::DoubleLocalMean)
                && !*small.get_or_insert_with(|| {
                    located
                        .get_or_insert_with(|| Located::new(frame))
                        .finders
                        .iter()
                        .any(|f| f.module < 5.0)
                })
            {
                continue;
            }
            let found = self.run_stage_located(stage, frame, &mut located);
            if !found.is_empty() {
                return found;
            }
            capstones_seen |= self.stage_capstones > 0 && stage != Stage::Inverted;
            match stage {
                Stage::Native => {
                    native_grids = Some(self.last_grids);
                    native_ran = true;
                }
                Stage::LocalMean => {
                    local_grids = Some(self.last_grids);
                    local_ran = true;
                }
                _ => {}
            }
        }
        Vec::new()
    }

    /// How many rqrr passes over a whole frame this scanner has run (crops not counted): what a
    /// frame with no code costs, in units that do not depend on the machine.
    pub fn whole_frame_passes(&self) -> u64 {
        self.whole_frame_passes
    }

    /// Runs one stage alone (for measuring stages).
    pub fn run_stage(&mut self, stage: Stage, frame: &GrayImage) -> Vec<Found> {
        self.run_stage_located(stage, frame, &mut None)
    }

    /// Runs one stage, locating finder patterns into `located` if it needs them and they are
    /// not there yet (a scan locates once for every stage that uses them).
    fn run_stage_located(
        &mut self,
        stage: Stage,
        frame: &GrayImage,
        located: &mut Option<Located>,
    ) -> Vec<Found> {
        let (w, h) = (frame.width, frame.height);
        self.stage_capstones = 0;
        match stage {
            Stage::Finder => {
                let l = located.get_or_insert_with(|| Located::new(frame));
                let triples = finder::triples(l.finders.clone());
                let bin = &l.bin;
                self.contain(|| sampler::decode(frame, bin, &triples, 4))
            }
            Stage::Zoom => {
                let l = located.get_or_insert_with(|| Located::new(frame));
                let triples = finder::triples(l.finders.clone());
                self.zoom(frame, &triples)
            }
            Stage::Smooth => {
                let soft = prep::smooth3(frame);
                let found = self.decode_gray(&soft, 1.0, stage, false);
                if !found.is_empty() {
                    return found;
                }
                let bits = prep::local_mean_threshold(&soft, (w.min(h) / 8).max(8), 3);
                self.decode_bits(w, h, &bits, 1.0, stage, false)
            }
            Stage::Native => self.decode_gray(frame, 1.0, stage, false),
            Stage::GridSizes => self.decode_gray(frame, 1.0, stage, true),
            Stage::LocalMeanSizes => {
                let bits = prep::local_mean_threshold(frame, (w.min(h) / 8).max(8), 7);
                self.decode_bits(w, h, &bits, 1.0, stage, true)
            }
            Stage::Half => {
                if w.min(h) < 200 {
                    return Vec::new();
                }
                self.decode_gray(&prep::downscale2(frame), 2.0, stage, false)
            }
            Stage::Double => {
                if w.max(h) > 700 {
                    return Vec::new();
                }
                // Small frames (a code alone, few pixels per module) get three times the pixels.
                let k = if w.max(h) < 160 { 3 } else { 2 };
                self.decode_gray(&prep::upscale(frame, k), 1.0 / k as f32, stage, false)
            }
            Stage::DoubleLocalMean => {
                if w.max(h) > 700 {
                    return Vec::new();
                }
                let k = if w.max(h) < 160 { 3 } else { 2 };
                let big = prep::upscale(frame, k);
                let bits =
                    prep::local_mean_threshold(&big, (big.width.min(big.height) / 8).max(8), 5);
                self.decode_bits(big.width, big.height, &bits, 1.0 / k as f32, stage, false)
            }
            Stage::LocalMean => {
                let bits = prep::local_mean_threshold(frame, (w.min(h) / 8).max(8), 5);
                self.decode_bits(w, h, &bits, 1.0, stage, false)
            }
            Stage::LocalFine => {
                let bits = prep::local_mean_threshold(frame, (w.min(h) / 16).max(4), 5);
                self.decode_bits(w, h, &bits, 1.0, stage, false)
            }
            Stage::Otsu => {
                let t = prep::otsu(frame);
                let bits: Vec<bool> = frame.data.iter().map(|&p| p <= t).collect();
                self.decode_bits(w, h, &bits, 1.0, stage, false)
            }
            Stage::Stretch => self.decode_gray(&prep::stretch(frame, 0.02), 1.0, stage, false),
            Stage::Inverted => self.decode_gray(&prep::invert(frame), 1.0, stage, false),
        }
    }

    /// The [`Stage::Zoom`] pass: up to three crops around finder triples with small modules.
    fn zoom(&mut self, frame: &GrayImage, triples: &[[finder::Finder; 3]]) -> Vec<Found> {
        let mut done: Vec<finder::Region> = Vec::new();
        for t in triples.iter().take(8) {
            let module = t.iter().map(|f| f.module).sum::<f32>() / 3.0;
            if module >= 4.0 {
                continue;
            }
            let (x0, y0, x1, y1) = finder::region_of(t, frame);
            if x1.saturating_sub(x0) < 21
                || y1.saturating_sub(y0) < 21
                || done
                    .iter()
                    .any(|d| finder::overlap(d, &(x0, y0, x1, y1)) > 0.5)
            {
                continue;
            }
            done.push((x0, y0, x1, y1));
            if done.len() > 3 {
                break;
            }
            // About 7 px per module, and at most ~1.5 million pixels to threshold.
            let area = ((x1 - x0) * (y1 - y0)) as f32;
            let k = ((7.0 / module.max(1.0)).round() as usize)
                .clamp(2, 4)
                .min(((1.5e6 / area).sqrt() as usize).max(2));
            let big = prep::upscale(&prep::crop(frame, x0, y0, x1, y1), k);
            let scale = 1.0 / k as f32;
            let mut found = self.decode_gray(&big, scale, Stage::Zoom, false);
            if found.is_empty() {
                let r = (big.width.min(big.height) / 8).max(8);
                let bits = prep::local_mean_threshold(&big, r, 5);
                found = self.decode_bits(big.width, big.height, &bits, scale, Stage::Zoom, false);
            }
            if !found.is_empty() {
                for f in &mut found {
                    for c in &mut f.corners {
                        c.0 += x0 as f32;
                        c.1 += y0 as f32;
                    }
                }
                return found;
            }
        }
        Vec::new()
    }

    fn decode_gray(
        &mut self,
        img: &GrayImage,
        scale: f32,
        stage: Stage,
        sizes: bool,
    ) -> Vec<Found> {
        let (w, h, data) = (img.width, img.height, &img.data);
        // Unknown (as if some were found) if rqrr panics.
        let (mut grids, mut caps) = (usize::MAX, usize::MAX);
        let found = self.contain(|| {
            let mut p = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| data[y * w + x]);
            collect!(p, scale, stage, sizes, &mut grids, &mut caps)
        });
        self.passed(stage, grids, caps);
        found
    }

    fn decode_bits(
        &mut self,
        w: usize,
        h: usize,
        bits: &[bool],
        scale: f32,
        stage: Stage,
        sizes: bool,
    ) -> Vec<Found> {
        // Unknown (as if some were found) if rqrr panics.
        let (mut grids, mut caps) = (usize::MAX, usize::MAX);
        let found = self.contain(|| {
            let mut p = rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| bits[y * w + x]);
            collect!(p, scale, stage, sizes, &mut grids, &mut caps)
        });
        self.passed(stage, grids, caps);
        found
    }

    /// Notes what an rqrr pass of `stage` found: its grids, and its capstones added to the
    /// stage's (what the stage gates read), and one more whole-frame pass unless it was a crop.
    fn passed(&mut self, stage: Stage, grids: usize, capstones: usize) {
        if stage != Stage::Zoom {
            self.whole_frame_passes += 1;
        }
        self.last_grids = grids;
        self.stage_capstones = self.stage_capstones.saturating_add(capstones);
    }

    /// Runs `f`, turning a panic inside rqrr into "nothing found" (and counting it).
    pub(crate) fn contain(&mut self, f: impl FnOnce() -> Vec<Found>) -> Vec<Found> {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => v,
            Err(_) => {
                self.contained_panics += 1;
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::synth::{render, Conditions};

    /// A frame with no code and nothing finder-like stops after rqrr's own and the local-mean
    /// threshold (plus half size, smoothed and inverted): six whole-frame passes, where every
    /// stage would run ten. A code in the same clutter is still read.
    #[test]
    fn quiet_frames_skip_the_variations() {
        for seed in 0..6u64 {
            let c = Conditions {
                module_px: 0.0,
                noise: 4.0 + seed as f32 * 3.0,
                paper: 10.0 + (seed % 3) as f32 * 15.0,
                moire: if seed % 2 == 0 { 0.3 } else { 0.0 },
                ..Conditions::default()
            };
            let frame = render("X", 500, 500, &c, seed).unwrap().0;
            let mut gated = crate::Scanner::default();
            assert!(gated.scan(&frame).is_empty());
            // Seed 3's noise happens to form one capstone: that frame runs everything.
            let expected = if seed == 3 { 9 } else { 6 };
            assert_eq!(gated.whole_frame_passes(), expected, "seed {seed}");
            let mut every = crate::Scanner::default();
            for st in crate::Stage::ALL {
                let _ = every.run_stage(st, &frame);
            }
            assert!(every.whole_frame_passes() >= 12, "seed {seed}");
            let with_code = Conditions {
                module_px: 4.0,
                ..c
            };
            let frame = render("JKM1:QUIET", 500, 500, &with_code, seed).unwrap().0;
            let found = crate::Scanner::default().scan(&frame);
            assert!(found.iter().any(|f| f.text == "JKM1:QUIET"), "seed {seed}");
        }
    }

    /// The fork's run-based capstone scan must find exactly upstream's capstones and leave the
    /// image painted exactly as upstream does, on codes, clutter, noise and text-like frames,
    /// through both the greyscale and the bitmap entry.
    #[test]
    fn rqrr_fork_capstone_scan_matches_upstream() {
        let mut frames = Vec::new();
        for seed in 0..12u64 {
            let c = Conditions {
                module_px: if seed % 4 == 0 {
                    0.0
                } else {
                    1.5 + seed as f32 * 0.6
                },
                rotation_deg: seed as f32 * 7.0,
                noise: (seed % 3) as f32 * 6.0,
                clutter: if seed % 2 == 0 { 60.0 } else { 0.0 },
                paper: (seed % 5) as f32 * 8.0,
                blur: (seed % 3) as usize,
                ..Conditions::default()
            };
            let (w, h) = if seed % 3 == 0 {
                (320, 200)
            } else {
                (257, 241)
            };
            frames.push(
                render("JKM1:VENUECODE-CAPSTONES", w, h, &c, seed)
                    .unwrap()
                    .0,
            );
        }
        let mut found = 0;
        for (i, f) in frames.iter().enumerate() {
            let (w, h, px) = (f.width, f.height, &f.data);
            let prepared =
                || rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| px[y * w + x]);
            let bits: Vec<bool> = crate::prep::local_mean_threshold(f, (w.min(h) / 8).max(8), 5);
            let from_bits =
                || rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| bits[y * w + x]);
            for (fast, slow) in [(prepared(), prepared()), (from_bits(), from_bits())] {
                let (mut fast, mut slow) = (fast, slow);
                let a = fast.capstone_corners(false);
                let b = slow.capstone_corners(true);
                assert_eq!(a, b, "frame {i}: capstones");
                found += a.len();
                for y in 0..h {
                    for x in 0..w {
                        assert_eq!(
                            fast.get_pixel_at(x, y),
                            slow.get_pixel_at(x, y),
                            "frame {i} ({x}, {y})"
                        );
                    }
                }
            }
        }
        // The frames hold codes: a comparison of two empty lists would prove nothing.
        eprintln!("capstones compared: {found}");
        assert!(found >= 30, "only {found} capstones found");
    }
    /// The fork's fast threshold must binarise exactly as upstream rqrr does.
    #[test]
    fn rqrr_fork_fast_threshold_matches_upstream() {
        for (w, h) in [(97usize, 61usize), (640, 3), (8, 8), (1, 5)] {
            let mut seed = 12345u32;
            let px: Vec<u8> = (0..w * h)
                .map(|i| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    ((seed >> 16) as u8 / 2).wrapping_add(((i % w) * 2) as u8)
                })
                .collect();
            let fast = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| px[y * w + x]);
            let slow =
                rqrr::PreparedImage::prepare_from_greyscale_reference(w, h, |x, y| px[y * w + x]);
            for y in 0..h {
                for x in 0..w {
                    assert_eq!(
                        fast.get_pixel_at(x, y),
                        slow.get_pixel_at(x, y),
                        "{w}x{h} ({x}, {y})"
                    );
                }
            }
        }
    }
}
