//! Fuzz Base45: decoding never panics, and whatever decodes re-encodes to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use venuecode_core::base45;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(bytes) = base45::decode(text) {
            assert_eq!(base45::encode(&bytes), text);
        }
    }
    assert_eq!(base45::decode(&base45::encode(data)).unwrap(), data);
});
