//! Fuzz what a station reads from a (verified) pull answer: the JSON body, the revocation page
//! applied on top of a held cursor, the policy with its clamping and freshness rules. Nothing may
//! panic, a page that does not start at the cursor is refused, and a clamped policy stays in its
//! ranges.
#![no_main]

use libfuzzer_sys::fuzz_target;
use venuecode_core::sync::PullResponse;
use venuecode_core::trust::RevocationList;

fuzz_target!(|data: &[u8]| {
    let Ok(pull) = serde_json::from_slice::<PullResponse>(data) else {
        return;
    };
    let mut held = RevocationList::restore(3, []);
    let applied = held.apply(&pull.revocations);
    if pull.revocations.since != 3 {
        assert!(applied.is_err(), "a page from another cursor was applied");
    }
    let policy = pull.policy.to_policy();
    assert!((36.0..=39.0).contains(&policy.fever_threshold_c));
    let f = pull.policy.freshness();
    assert!(f.max_unsigned.num_hours() >= 1 && f.stale_after.num_hours() >= 1);
});
