//! Decoding a live video stream: a per-frame budget, a retry around the last hit, and a dedupe
//! window so the same code is not reported again while it stays in front of the camera.
//!
//! A photo gets every stage ([`crate::Scanner::scan`]). A video frame first tries a crop around
//! the last hit (the code rarely moves far between frames), then crops around the finder patterns
//! the fast locator ([`crate::finder`]) sees; only every `full_every` frames does whole-frame work
//! run — on a small frame one rqrr pass plus one rotating extra stage, on a large one a single
//! unit (one stage over one of three overlapping bands) — so a frame without a code costs about one
//! locator pass, no frame pays for a whole pipeline pass, and the whole pipeline is still tried
//! across consecutive frames.
//!
//! Invariants: time comes in as an argument (milliseconds on any monotonic clock); the same text
//! is reported at most once per `dedupe_ms` while it keeps being seen; a panic anywhere in a
//! frame's decoding — the fast path included — is contained: the frame yields nothing, the count
//! of contained panics goes up, and the next frame starts clean.

use crate::{finder, prep, sampler, Found, GrayImage, Scanner, Stage};

/// Settings of a live decoder.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// The same text is not reported again within this many milliseconds of last seeing it.
    pub dedupe_ms: u64,
    /// The stage tried on every frame.
    pub every_frame: Stage,
    /// Stages tried one per frame, in rotation, after `every_frame` found nothing.
    pub rotating: Vec<Stage>,
    /// When the finder-pattern locator proposes nothing, the whole-frame stages run only on every
    /// this many frames: a frame without a code then costs one locator pass.
    pub full_every: u64,
    /// Frames of at most this many pixels get the every-frame stage and a rotating stage whole
    /// on a full frame; larger ones get one unit (a stage over a band) per full frame, so the
    /// cost of whole-frame passes is spread over frames instead of spiking.
    pub small_frame_px: usize,
}

impl Default for LiveConfig {
    fn default() -> LiveConfig {
        LiveConfig {
            dedupe_ms: 3000,
            every_frame: Stage::Native,
            rotating: vec![
                Stage::LocalMean,
                Stage::Half,
                Stage::DoubleLocalMean,
                Stage::Otsu,
                Stage::LocalFine,
                Stage::Stretch,
                Stage::Inverted,
            ],
            full_every: 3,
            small_frame_px: 640 * 480,
        }
    }
}

/// The part of a large frame a unit of whole-frame work covers: the top, middle or bottom half
/// (each overlapping the next by a quarter — 180 rows of a 720p frame — so a code up to that
/// height is whole in one), or all of it. Halves keep a unit plus the frame's locator pass
/// within the frame budget (rqrr over two thirds of a 720p frame alone took 6–9 ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Band {
    Top,
    Middle,
    Bottom,
    Whole,
}

/// What one frame produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrameResult {
    /// Every code seen in this frame (for drawing outlines).
    pub seen: Vec<Found>,
    /// Codes to act on: seen now and not reported within the dedupe window.
    pub new: Vec<Found>,
}

/// A live decoder; feed it frames in order.
#[derive(Debug, Clone)]
pub struct LiveDecoder {
    pub config: LiveConfig,
    scanner: Scanner,
    cursor: usize,
    /// Frames seen.
    frames: u64,
    /// A unit of whole-frame work is due (every `full_every` frames; a large frame that decoded
    /// crops leaves it to the next).
    full_due: bool,
    /// The due unit waited for this frame's crops; the next frame runs it instead of crops.
    deferred: bool,
    /// Bounding box of the last hit, in frame pixels: (x0, y0, x1, y1).
    last_box: Option<(usize, usize, usize, usize)>,
    /// (text, last seen at ms, reported) for recently seen codes.
    recent: Vec<(String, u64)>,
}

impl LiveDecoder {
    pub fn new(config: LiveConfig) -> LiveDecoder {
        LiveDecoder {
            config,
            scanner: Scanner::default(),
            cursor: 0,
            frames: 0,
            full_due: false,
            deferred: false,
            last_box: None,
            recent: Vec::new(),
        }
    }

    /// Panics rqrr had inside this decoder (contained; should stay 0).
    pub fn contained_panics(&self) -> u64 {
        self.scanner.contained_panics
    }

    /// Decodes one frame received at `now_ms`; never panics.
    pub fn on_frame(&mut self, frame: &GrayImage, now_ms: u64) -> FrameResult {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.decode_frame(frame, now_ms)
        }));
        match outcome {
            Ok(r) => r,
            Err(_) => {
                self.scanner.contained_panics += 1;
                self.last_box = None;
                FrameResult::default()
            }
        }
    }

    fn decode_frame(&mut self, frame: &GrayImage, now_ms: u64) -> FrameResult {
        self.frames = self.frames.wrapping_add(1);
        let mut seen = match self.last_box {
            Some(b) => self.decode_region(frame, b),
            None => Vec::new(),
        };
        // Where the finder patterns are: read the grid straight through them, else decode only
        // around them.
        // Crops decoded this frame: on a large frame they take the place of the unit of
        // whole-frame work, which waits for the next frame (the cost is spread, not stacked).
        let mut cropped = false;
        if seen.is_empty() {
            let bin = finder::Binarizer::new(frame);
            let triples = finder::triples(finder::find_finders_with(frame, &bin));
            seen = self
                .scanner
                .contain(|| sampler::decode(frame, &bin, &triples, 2));
            // A unit of whole-frame work already waited a frame for crops: its turn now.
            let crops_wait = self.full_due && self.deferred;
            if seen.is_empty() && !crops_wait {
                for region in finder::regions_of(frame, &triples, 2) {
                    cropped = true;
                    seen = self.decode_region(frame, region);
                    if !seen.is_empty() {
                        break;
                    }
                }
            }
        }
        if self.frames % self.config.full_every.max(1) == 1 % self.config.full_every.max(1) {
            self.full_due = true;
        }
        let small = frame.width * frame.height <= self.config.small_frame_px;
        let full = self.full_due && (small || !cropped);
        self.deferred = self.full_due && !full;
        if full || !seen.is_empty() {
            self.full_due = false;
            self.deferred = false;
        }
        if seen.is_empty() && full {
            if small {
                // A small frame: the every-frame stage and one rotating stage, whole.
                seen = self.scanner.run_stage(self.config.every_frame, frame);
                if seen.is_empty() && !self.config.rotating.is_empty() {
                    let stage = self.config.rotating[self.cursor % self.config.rotating.len()];
                    self.cursor = self.cursor.wrapping_add(1);
                    seen = self.scanner.run_stage(stage, frame);
                }
            } else {
                // A large frame: one unit of whole-frame work — a stage over one of three
                // overlapping bands — so no frame pays for a whole pass (no spike).
                let units = self.units();
                if !units.is_empty() {
                    let (stage, band) = units[self.cursor % units.len()];
                    self.cursor = self.cursor.wrapping_add(1);
                    seen = self.run_band(stage, band, frame);
                }
            }
        }
        self.last_box = seen.first().map(|f| bounding_box(f, frame));
        let dedupe = self.config.dedupe_ms;
        self.recent
            .retain(|(_, t)| now_ms.saturating_sub(*t) < dedupe);
        let mut new = Vec::new();
        for f in &seen {
            match self.recent.iter_mut().find(|(text, _)| *text == f.text) {
                Some(entry) => entry.1 = now_ms,
                None => {
                    self.recent.push((f.text.clone(), now_ms));
                    new.push(f.clone());
                }
            }
        }
        FrameResult { seen, new }
    }

    /// The rotation of whole-frame work on large frames: the every-frame stage over each band,
    /// then one rotating stage over each band (the half-resolution stage whole: it is cheap).
    fn units(&self) -> Vec<(Stage, Band)> {
        let mut units = Vec::new();
        let halves = [Band::Top, Band::Middle, Band::Bottom];
        for &stage in &self.config.rotating {
            units.extend(halves.map(|b| (self.config.every_frame, b)));
            if stage == Stage::Half {
                units.push((stage, Band::Whole));
            } else {
                units.extend(halves.map(|b| (stage, b)));
            }
        }
        units
    }

    /// Runs `stage` over `band` of the frame, with corners in frame pixels.
    fn run_band(&mut self, stage: Stage, band: Band, frame: &GrayImage) -> Vec<Found> {
        let h = frame.height;
        let (y0, y1) = match band {
            Band::Whole => return self.scanner.run_stage(stage, frame),
            Band::Top => (0, h / 2),
            Band::Middle => (h / 4, h * 3 / 4),
            Band::Bottom => (h / 2, h),
        };
        let crop = prep::crop(frame, 0, y0, frame.width, y1);
        let mut found = self.scanner.run_stage(stage, &crop);
        for f in &mut found {
            for c in &mut f.corners {
                c.1 += y0 as f32;
            }
        }
        found
    }

    /// Decodes the part of the frame inside `(x0, y0, x1, y1)`, with corners in frame pixels.
    fn decode_region(&mut self, frame: &GrayImage, region: finder::Region) -> Vec<Found> {
        let (mut x0, mut y0, x1, y1) = region;
        if x1.saturating_sub(x0) < 21 || y1.saturating_sub(y0) < 21 {
            return Vec::new();
        }
        // A region over half the frame (a code close to the camera, a small frame) is not worth
        // cropping: decode the frame.
        let whole = (x1 - x0) * (y1 - y0) * 2 > frame.width * frame.height;
        let crop;
        let image = if whole {
            (x0, y0) = (0, 0);
            frame
        } else {
            crop = prep::crop(frame, x0, y0, x1, y1);
            &crop
        };
        // The crop is small, so a few stages cost less than one pass over the frame.
        let mut found = Vec::new();
        for stage in [Stage::Native, Stage::LocalMean, Stage::DoubleLocalMean] {
            // Upscaling only where modules are small (as in a photo's scan).
            if stage == Stage::DoubleLocalMean && !crate::small_modules(image) {
                break;
            }
            found = self.scanner.run_stage(stage, image);
            if !found.is_empty() {
                break;
            }
        }
        for f in &mut found {
            for c in &mut f.corners {
                c.0 += x0 as f32;
                c.1 += y0 as f32;
            }
        }
        found
    }
}

/// The code's bounding box grown by half its size on each side, clamped to the frame.
fn bounding_box(f: &Found, frame: &GrayImage) -> (usize, usize, usize, usize) {
    let xs = f.corners.map(|c| c.0);
    let ys = f.corners.map(|c| c.1);
    let (min_x, max_x) = (
        xs.iter().cloned().fold(f32::MAX, f32::min),
        xs.iter().cloned().fold(f32::MIN, f32::max),
    );
    let (min_y, max_y) = (
        ys.iter().cloned().fold(f32::MAX, f32::min),
        ys.iter().cloned().fold(f32::MIN, f32::max),
    );
    let (mw, mh) = ((max_x - min_x) / 2.0, (max_y - min_y) / 2.0);
    let clamp = |v: f32, hi: usize| v.max(0.0).min(hi as f32) as usize;
    (
        clamp(min_x - mw, frame.width),
        clamp(min_y - mh, frame.height),
        clamp(max_x + mw, frame.width),
        clamp(max_y + mh, frame.height),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{render, Conditions};

    fn blank(w: usize, h: usize) -> GrayImage {
        GrayImage::new(w, h, vec![200; w * h]).unwrap()
    }

    #[test]
    fn a_code_held_in_view_is_reported_once_per_dedupe_window() {
        let text = "JKM1:LIVE-TEST-0001";
        let (frame, _) = render(text, 320, 240, &Conditions::default(), 1).unwrap();
        let mut live = LiveDecoder::new(LiveConfig {
            dedupe_ms: 3000,
            ..LiveConfig::default()
        });
        let mut reported = Vec::new();
        // 30 fps: the code is in view for 2 s, gone for 1 s, back for 1 s (within 3 s of last
        // seen), gone for 4 s, back again.
        let schedule = [
            (0, 60, true),
            (60, 90, false),
            (90, 120, true),
            (120, 240, false),
            (240, 250, true),
        ];
        for (from, to, visible) in schedule {
            for i in from..to {
                let t = i * 1000 / 30;
                let f = if visible {
                    frame.clone()
                } else {
                    blank(320, 240)
                };
                let r = live.on_frame(&f, t);
                if visible {
                    assert_eq!(r.seen.len(), 1, "frame {i} lost the code");
                }
                reported.extend(r.new.into_iter().map(|f| (i, f.text)));
            }
        }
        let frames: Vec<u64> = reported.iter().map(|(i, _)| *i).collect();
        assert_eq!(frames, vec![0, 240], "reports at frames {frames:?}");
        assert_eq!(live.contained_panics(), 0);
    }

    #[test]
    fn hard_frames_decode_within_a_few_frames_by_rotating_stages() {
        let text = "JKM1:ROTATING-STAGES";
        let cond = Conditions {
            contrast: 0.15,
            noise: 5.0,
            ..Conditions::default()
        };
        let (frame, _) = render(text, 320, 240, &cond, 3).unwrap();
        let mut live = LiveDecoder::new(LiveConfig::default());
        let d = LiveConfig::default();
        let first = (0..(d.rotating.len() as u64 + 1) * d.full_every)
            .find(|&i| !live.on_frame(&frame, i * 33).new.is_empty());
        assert!(
            first.is_some(),
            "never decoded across one rotation of stages"
        );
    }

    #[test]
    fn a_large_frame_spreads_whole_frame_work_over_bands_and_still_decodes() {
        // Blurred and faint: the finder-located crops miss it, the banded passes read it.
        // (With blur 2 only a local-fine threshold whose window happened to suit two-thirds
        // bands read it; halves and the whole frame do not.)
        let text = "JKM1:BANDED-STAGES";
        let cond = Conditions {
            contrast: 0.25,
            noise: 5.0,
            module_px: 4.0,
            blur: 1,
            ..Conditions::default()
        };
        let (frame, _) = render(text, 1280, 720, &cond, 3).unwrap();
        // Crops on every frame, whole-frame work only on the first (one band of the every-frame
        // stage): not enough to read it.
        let mut crops_only = LiveDecoder::new(LiveConfig {
            full_every: u64::MAX,
            ..LiveConfig::default()
        });
        assert!(
            (0..6).all(|i| crops_only.on_frame(&frame, i * 33).new.is_empty()),
            "the crops read it: this frame does not test the banded passes"
        );
        let mut live = LiveDecoder::new(LiveConfig::default());
        let units = live.units();
        // Three bands per stage but the cheap half-resolution one, and the every-frame stage
        // before each: never a whole pass of an expensive stage on one frame.
        assert!(units
            .iter()
            .all(|(s, b)| *b != Band::Whole || *s == Stage::Half));
        let d = LiveConfig::default();
        let limit = (units.len() as u64 + 1) * d.full_every * 2;
        let first = (0..limit).find(|&i| !live.on_frame(&frame, i * 33).new.is_empty());
        assert!(first.is_some(), "not decoded within {limit} frames");
        // The corners are in frame pixels (a band's offset added back).
        let (_, corners) = render(text, 1280, 720, &cond, 3).unwrap();
        let seen = live.on_frame(&frame, 10_000).seen;
        if let Some(f) = seen.first() {
            for (got, want) in f.corners.iter().zip(corners) {
                let d = ((got.0 - want.0).powi(2) + (got.1 - want.1).powi(2)).sqrt();
                assert!(d < 12.0, "corner off by {d} px");
            }
        }
    }

    #[test]
    fn outlines_follow_the_code_through_the_crop_retry() {
        let text = "JKM1:CROP";
        let mut live = LiveDecoder::new(LiveConfig::default());
        for (i, angle) in [0.0f32, 5.0, 10.0].into_iter().enumerate() {
            let c = Conditions {
                rotation_deg: angle,
                ..Conditions::default()
            };
            let (frame, corners) = render(text, 640, 480, &c, 1).unwrap();
            let r = live.on_frame(&frame, i as u64 * 33);
            let f = r
                .seen
                .first()
                .unwrap_or_else(|| panic!("frame {i} ({angle}°) not decoded"));
            for (got, want) in f.corners.iter().zip(corners) {
                let d = ((got.0 - want.0).powi(2) + (got.1 - want.1).powi(2)).sqrt();
                assert!(d < 12.0, "corner off by {d} px: {got:?} vs {want:?}");
            }
        }
    }
}
