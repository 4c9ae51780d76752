//! Decoding a live video stream: a per-frame budget, a retry around the last hit, and a dedupe
//! window so the same code is not reported again while it stays in front of the camera.
//!
//! A photo gets every stage ([`crate::Scanner::scan`]); a video frame gets one fast stage plus one
//! rotating extra stage, so a frame without a code costs about one rqrr pass and the whole pipeline
//! is still tried across a few consecutive frames. After a hit, the next frames first try a crop
//! around it (the code rarely moves far between frames).
//!
//! Invariants: time comes in as an argument (milliseconds on any monotonic clock); the same text
//! is reported at most once per `dedupe_ms` while it keeps being seen.

use crate::{prep, Found, GrayImage, Scanner, Stage};

/// Settings of a live decoder.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// The same text is not reported again within this many milliseconds of last seeing it.
    pub dedupe_ms: u64,
    /// The stage tried on every frame.
    pub every_frame: Stage,
    /// Stages tried one per frame, in rotation, after `every_frame` found nothing.
    pub rotating: Vec<Stage>,
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
        }
    }
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
            last_box: None,
            recent: Vec::new(),
        }
    }

    /// Panics rqrr had inside this decoder (contained; should stay 0).
    pub fn contained_panics(&self) -> u64 {
        self.scanner.contained_panics
    }

    /// Decodes one frame received at `now_ms`.
    pub fn on_frame(&mut self, frame: &GrayImage, now_ms: u64) -> FrameResult {
        let mut seen = self.try_crop(frame);
        if seen.is_empty() {
            seen = self.scanner.run_stage(self.config.every_frame, frame);
        }
        if seen.is_empty() && !self.config.rotating.is_empty() {
            let stage = self.config.rotating[self.cursor % self.config.rotating.len()];
            self.cursor = self.cursor.wrapping_add(1);
            seen = self.scanner.run_stage(stage, frame);
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

    fn try_crop(&mut self, frame: &GrayImage) -> Vec<Found> {
        let Some((x0, y0, x1, y1)) = self.last_box else {
            return Vec::new();
        };
        let crop = prep::crop(frame, x0, y0, x1, y1);
        if crop.width < 21
            || crop.height < 21
            || crop.width * crop.height * 2 > frame.width * frame.height
        {
            return Vec::new();
        }
        // The crop is small, so a few stages cost less than one pass over the frame.
        let mut found = Vec::new();
        for stage in [Stage::Native, Stage::LocalMean, Stage::DoubleLocalMean] {
            found = self.scanner.run_stage(stage, &crop);
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
        let first = (0..LiveConfig::default().rotating.len() as u64 + 1)
            .find(|&i| !live.on_frame(&frame, i * 33).new.is_empty());
        assert!(
            first.is_some(),
            "never decoded across one rotation of stages"
        );
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
