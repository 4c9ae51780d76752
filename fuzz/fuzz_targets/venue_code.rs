//! Fuzz the venue-code verifier: raw text, and raw envelopes wrapped in a venue-code URL.
#![no_main]
#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use venuecode_core::venue_code;

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    s
}

fuzz_target!(|data: &[u8]| {
    let trust = common::trust();
    if let Some((&first, rest)) = data.split_first() {
        let text = if first & 1 == 0 {
            String::from_utf8_lossy(rest).into_owned()
        } else {
            format!("https://csm.example.cn{}{}", venue_code::PATH, b64url(rest))
        };
        let _ = venue_code::verify(&text, &trust);
    }
});
