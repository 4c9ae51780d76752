//! Fuzz the COSE_Sign1 / CBOR decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use venuecode_core::cose;

fuzz_target!(|data: &[u8]| {
    let _ = cose::decode(data);
});
