//! Fuzz the trust-list reader (root signature check and payload decoding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use venuecode_core::keys::SecretKey;
use venuecode_core::trust::TrustList;

fuzz_target!(|data: &[u8]| {
    let root = SecretKey::from_seed(&[9; 32]).public();
    let _ = TrustList::verify(data, &root);
});
