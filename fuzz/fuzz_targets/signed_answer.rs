//! Fuzz the signed-answer check a station runs on every server answer: header parsing (the
//! delegation in base64, the time, the signature), the root-signed delegation, its window and the
//! signature over path, nonce, status and body — all taken from the input (split at 0xff). The
//! first byte chooses between a genuine delegation and the input's own. Nothing may panic, and
//! nothing the fuzzer makes may pass: it holds no key the root delegated.
#![no_main]

use base64::Engine;
use chrono::{DateTime, Duration};
use libfuzzer_sys::fuzz_target;
use venuecode_core::keys::SecretKey;
use venuecode_core::sync::{
    self, Delegation, HEADER_ANSWER_SIGNATURE, HEADER_ANSWER_TIME, HEADER_DELEGATION,
};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.split(|b| *b == 0xff);
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or(b"")).to_string();
    let (delegation, time, signature, path, nonce, status) =
        (next(), next(), next(), next(), next(), next());
    let body = parts.next().unwrap_or(b"");
    let root = SecretKey::from_seed(&[1; 32]);
    let now = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
    let genuine = base64::engine::general_purpose::STANDARD.encode(
        Delegation {
            key: SecretKey::from_seed(&[2; 32]).public(),
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(14),
        }
        .sign(&root),
    );
    let delegation = if mode & 1 == 0 { genuine } else { delegation };
    // The raw bytes as a delegation, too.
    let _ = Delegation::verify(rest, &root.public());
    let get = |name: &'static str| -> Option<&str> {
        match name {
            HEADER_DELEGATION => Some(&delegation),
            HEADER_ANSWER_TIME => Some(&time),
            HEADER_ANSWER_SIGNATURE => Some(&signature),
            _ => None,
        }
    };
    let status: u16 = status.parse().unwrap_or(200);
    if let Ok(h) = sync::parse_answer_headers(get) {
        if sync::verify_answer(&root.public(), &path, &nonce, status, &h, body).is_ok() {
            panic!("an answer not signed by a delegated key was accepted");
        }
    }
});
