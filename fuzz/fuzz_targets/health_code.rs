//! Fuzz the health-code verifier: raw text, and raw envelopes wrapped as `JKM1:` + Base45 so the
//! fuzzer reaches the COSE and claims parsers.
#![no_main]
#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use venuecode_core::trust::RevocationList;
use venuecode_core::{base45, health_code};

fuzz_target!(|data: &[u8]| {
    let trust = common::trust();
    let revs = RevocationList::default();
    if let Some((&first, rest)) = data.split_first() {
        let text = if first & 1 == 0 {
            String::from_utf8_lossy(rest).into_owned()
        } else {
            format!("{}{}", health_code::PREFIX, base45::encode(rest))
        };
        let _ = health_code::verify(&text, &trust, &revs, common::now());
    }
});
