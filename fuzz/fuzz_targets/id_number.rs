//! Fuzz the ID-number parser: never panics; whatever parses is 18 ASCII characters.
#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use venuecode_core::idnumber::IdNumber;

fuzz_target!(|data: &[u8]| {
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = IdNumber::parse(&text, today) {
        assert_eq!(id.as_str().len(), 18);
        assert!(id.as_str().is_ascii());
        assert!(id.birth_date() <= today);
    }
});
