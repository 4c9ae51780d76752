//! The optional pass/refuse tones (off by default): a short high tone for 通行, a long low one for
//! 禁止, through the Web Audio API.
//!
//! Invariant: failing to play never affects the flow (no audio device, autoplay policy).

use std::cell::RefCell;

use web_sys::AudioContext;

thread_local! {
    static CONTEXT: RefCell<Option<AudioContext>> = const { RefCell::new(None) };
}

/// A tone: pitch and length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tone {
    pub hz: f32,
    pub secs: f64,
}

/// The tone for a verdict: short and high for 通行, long and low for 禁止, so they differ by ear
/// even in a noisy hall.
pub fn tone_for(pass: bool) -> Tone {
    if pass {
        Tone {
            hz: 880.0,
            secs: 0.15,
        }
    } else {
        Tone {
            hz: 220.0,
            secs: 0.6,
        }
    }
}

/// Plays the tone for a verdict. The page's root element records which one was asked for
/// (`data-last-tone`), so tests can see it without an audio device.
pub fn verdict_tone(pass: bool) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-last-tone", if pass { "pass" } else { "refuse" });
    }
    let tone = tone_for(pass);
    CONTEXT.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = AudioContext::new().ok();
        }
        let Some(ctx) = slot.as_ref() else {
            return;
        };
        let Ok(osc) = ctx.create_oscillator() else {
            return;
        };
        osc.frequency().set_value(tone.hz);
        if osc.connect_with_audio_node(&ctx.destination()).is_err() {
            return;
        }
        let now = ctx.current_time();
        let _ = osc.start();
        let _ = osc.stop_with_when(now + tone.secs);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_and_refuse_tones_differ_in_pitch_and_length() {
        let (p, r) = (tone_for(true), tone_for(false));
        assert!(p.hz >= 2.0 * r.hz, "an octave or more apart");
        assert!(r.secs >= 3.0 * p.secs, "the refusal is the long one");
    }
}
