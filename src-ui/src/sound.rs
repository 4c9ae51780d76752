//! The optional pass/refuse tones (off by default): a short high tone for 通行, a long low one for
//! 禁止, through the Web Audio API.
//!
//! Invariant: failing to play never affects the flow (no audio device, autoplay policy).

use std::cell::RefCell;

use web_sys::AudioContext;

thread_local! {
    static CONTEXT: RefCell<Option<AudioContext>> = const { RefCell::new(None) };
}

/// Plays the tone for a verdict.
pub fn verdict_tone(pass: bool) {
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
        osc.frequency().set_value(if pass { 880.0 } else { 220.0 });
        if osc.connect_with_audio_node(&ctx.destination()).is_err() {
            return;
        }
        let now = ctx.current_time();
        let _ = osc.start();
        let _ = osc.stop_with_when(now + if pass { 0.15 } else { 0.6 });
    });
}
