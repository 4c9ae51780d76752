//! Fuzz the key-file parsers (hex public keys and seeds).
#![no_main]

use libfuzzer_sys::fuzz_target;
use venuecode_core::keys::{PublicKey, SecretKey};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = PublicKey::from_hex(&text);
    if let Ok(k) = SecretKey::from_hex(&text) {
        assert_eq!(SecretKey::from_hex(&k.to_hex()).unwrap().public(), k.public());
    }
});
