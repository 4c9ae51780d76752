//! USB 2D scanners that type like a keyboard ("keyboard wedge"): a burst of characters with the
//! short, even gaps of a machine, ended by Enter, is a scanned code; a person typing is not.
//!
//! Invariant: pure (key names and timestamps in, text out), so it is tested on the host.

/// The largest gap between two characters of one scanner burst, in milliseconds. Scanners send a
/// character every 2–30 ms; people rarely type two characters 50 ms apart, never ten in a row.
pub const MAX_GAP_MS: f64 = 50.0;
/// The shortest burst taken as a code (health codes are hundreds of characters).
pub const MIN_LEN: usize = 8;

/// Collects key presses and recognises scanner bursts.
#[derive(Debug, Clone, Default)]
pub struct WedgeDetector {
    buf: String,
    last_ms: Option<f64>,
}

impl WedgeDetector {
    /// Whether a key at `t_ms` would continue a burst in progress. The station uses it to keep a
    /// scanner's Space or Enter from pressing whatever button has the focus: base45 codes contain
    /// spaces, and a person's key is never this close behind a machine's.
    pub fn in_burst(&self, t_ms: f64) -> bool {
        !self.buf.is_empty() && self.last_ms.is_some_and(|last| t_ms - last <= MAX_GAP_MS)
    }

    /// Feeds one `KeyboardEvent.key` at time `t_ms`; returns the code when a burst ends.
    pub fn key(&mut self, key: &str, t_ms: f64) -> Option<String> {
        let gap_ok = self.last_ms.is_some_and(|last| t_ms - last <= MAX_GAP_MS);
        if key == "Enter" {
            let burst = std::mem::take(&mut self.buf);
            let done = gap_ok && burst.chars().count() >= MIN_LEN;
            self.last_ms = None;
            return done.then_some(burst);
        }
        let mut chars = key.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            // Shift, Control and the like: part of typing, not characters.
            return None;
        };
        if !gap_ok {
            self.buf.clear();
        }
        self.buf.push(c);
        self.last_ms = Some(t_ms);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(d: &mut WedgeDetector, text: &str, start: f64, gap: f64) -> Option<String> {
        let mut t = start;
        for c in text.chars() {
            assert_eq!(d.key(&c.to_string(), t), None);
            t += gap;
        }
        d.key("Enter", t)
    }

    #[test]
    fn scanner_timing_is_a_code() {
        let mut d = WedgeDetector::default();
        let code = "JKM1:6BFOXN*TS0BI$ZD.P9UOL97O4-2HH77HRM3HSZS3AA6A3D";
        assert_eq!(feed(&mut d, code, 1000.0, 8.0), Some(code.to_string()));
        // Shift presses between characters (upper case) do not break a burst.
        let mut t = 5000.0;
        for c in "ABCDEFGHIJ".chars() {
            d.key("Shift", t);
            d.key(&c.to_string(), t + 1.0);
            t += 12.0;
        }
        assert_eq!(d.key("Enter", t), Some("ABCDEFGHIJ".into()));
    }

    #[test]
    fn a_burst_in_progress_is_known_before_it_ends() {
        let mut d = WedgeDetector::default();
        assert!(!d.in_burst(0.0));
        d.key("J", 0.0);
        assert!(
            d.in_burst(8.0),
            "a space 8 ms after a character belongs to the burst"
        );
        assert!(
            !d.in_burst(500.0),
            "a key half a second later is a person's"
        );
        d.key("Enter", 8.0);
        assert!(!d.in_burst(10.0));
    }

    #[test]
    fn human_typing_is_not() {
        let mut d = WedgeDetector::default();
        assert_eq!(feed(&mut d, "11010519491231002X", 0.0, 140.0), None);
        // A quick typist's pair of fast keys is still not a burst of eight.
        let mut t = 10_000.0;
        for (i, c) in "zhangsan".chars().enumerate() {
            d.key(&c.to_string(), t);
            t += if i % 2 == 0 { 30.0 } else { 180.0 };
        }
        assert_eq!(d.key("Enter", t), None);
    }

    #[test]
    fn short_bursts_and_a_slow_enter_are_not() {
        let mut d = WedgeDetector::default();
        assert_eq!(feed(&mut d, "ABC", 0.0, 5.0), None);
        for (i, c) in "ABCDEFGHIJ".chars().enumerate() {
            d.key(&c.to_string(), i as f64 * 5.0);
        }
        assert_eq!(d.key("Enter", 2000.0), None);
    }
}
