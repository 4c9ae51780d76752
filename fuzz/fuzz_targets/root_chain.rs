//! Fuzz the root succession chain a station follows before it checks an answer: the header value
//! (base64 links, commas) and each link as a COSE hand-over, from a station holding a known root.
//! The first byte chooses whether a genuine hand-over from that root leads the chain. Nothing may
//! panic, and the root reached may only be the station's own or the genuine successor: the
//! fuzzer holds no root key.
#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use venuecode_core::keys::SecretKey;
use venuecode_core::sync::{self, Succession};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let root = SecretKey::from_seed(&[1; 32]);
    let successor = SecretKey::from_seed(&[2; 32]);
    let genuine = Succession {
        new_root: successor.public(),
        issued_at: DateTime::from_timestamp(1_795_000_000, 0).unwrap(),
    }
    .sign(&root);
    let header = String::from_utf8_lossy(rest);
    // The raw bytes as one link, too.
    let _ = Succession::verify(rest, &root.public());
    let _ = Succession::read_unverified(rest);
    if let Ok(mut links) = sync::decode_chain(&header) {
        if mode & 1 == 0 {
            links.insert(0, genuine);
        }
        if let Ok(reached) = sync::follow(&root.public(), &links) {
            assert!(
                reached == root.public() || reached == successor.public(),
                "a chain moved the station to a root nobody with a root key chose"
            );
        }
    }
});
