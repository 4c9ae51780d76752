//! Fuzz the request authentication: header parsing and the signature/time check, with the four
//! header values, the method, the path and the body all taken from the input (split at 0xff).
//! Nothing may panic — in particular no arithmetic on the time may overflow — and nothing but a
//! request signed by the key passes.
#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use venuecode_core::keys::SecretKey;
use venuecode_core::sync::{self, HEADER_DEVICE, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIME};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0xff);
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or(b"")).to_string();
    let (device, time, nonce, signature, method, path) =
        (next(), next(), next(), next(), next(), next());
    let body = parts.next().unwrap_or(b"");
    let get = |name: &'static str| -> Option<&str> {
        match name {
            HEADER_DEVICE => Some(&device),
            HEADER_TIME => Some(&time),
            HEADER_NONCE => Some(&nonce),
            HEADER_SIGNATURE => Some(&signature),
            _ => None,
        }
    };
    let key = SecretKey::from_seed(&[3; 32]).public();
    let now = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
    if let Ok(h) = sync::parse_signed_headers(get) {
        if sync::verify_request(&key, &method, &path, &h, body, now).is_ok() {
            panic!("a request not signed by the key was accepted");
        }
    }
});
