//! Fuzz the server's decoding of an upload: the JSON batch, the batch rules (venue, ids, formats,
//! field lengths, temperature range, times against enrolment, retention and the clock), the
//! scanned codes verified again against a trust list, and the binding stamped on every record. Nothing may panic, and a batch that passes names only the
//! device's venue and carries only times inside the accepted window.
#![no_main]

use chrono::{DateTime, Duration};
use libfuzzer_sys::fuzz_target;
use venuecode_core::sync::{self, BatchSource, Record, UploadBatch};

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(mut batch) = serde_json::from_slice::<UploadBatch>(data) else {
        return;
    };
    let now = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
    let source = BatchSource {
        venue_id: "v1",
        enrolled_at: now - Duration::days(3),
    };
    if sync::validate_batch(&batch, source, now).is_ok() {
        for r in &batch.records {
            assert_eq!(r.venue_id(), "v1");
            assert!(r.at() <= now + sync::FUTURE_SKEW);
            assert!(r.at() >= now - Duration::days(3) - sync::FUTURE_SKEW);
            if let Record::Alert(a) = r {
                assert_eq!(a.check_in.venue_id, "v1");
            }
        }
        let _ = sync::check_codes(&batch, &common::trust());
        sync::stamp_binding(&mut batch, "main", "王五");
    }
});
