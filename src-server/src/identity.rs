//! Who a person is to tracing, on the health authority's server: the pseudonyms an ID number or
//! a scanned code stands for, and the cross-station pseudonym of a person registered by hand
//! (their ID number arrives sealed to the authority; core `seal` opens it and derives the
//! pseudonym their own health code carries).
//!
//! Invariants: an opened ID number lives only inside [`link_batch`] (never stored, logged or
//! answered); a record whose sealed number does not open or does not match its mask keeps the
//! station's local pseudonym and is stored all the same (nothing is lost for a bad seal); the
//! authority never sees an ID number it did not type.

use chrono::{DateTime, Utc};
use venuecode_core::idnumber::IdNumber;
use venuecode_core::seal;
use venuecode_core::sync::{Record, UploadBatch};
use venuecode_keys::TracingKeys;

/// The check-in of a record (an alert carries one too).
fn check_ins(
    batch: &mut UploadBatch,
) -> impl Iterator<Item = &mut venuecode_core::sync::CheckInWire> {
    batch.records.iter_mut().map(|r| match r {
        Record::CheckIn(c) => c,
        Record::Alert(a) => &mut a.check_in,
    })
}

/// Replaces the local pseudonym of each registration by hand whose sealed ID number opens with
/// the cross-station one; how many were linked. The sealed value is dropped either way.
pub fn link_batch(keys: &TracingKeys, batch: &mut UploadBatch, now: DateTime<Utc>) -> usize {
    let mut linked = 0;
    let primary = &keys.subject_secrets[0];
    for c in check_ins(batch) {
        let Some(sealed) = c.sealed_id.take() else {
            continue;
        };
        if !c.manual {
            continue;
        }
        match seal::linked_subject(
            &keys.seal_secret,
            primary,
            &c.venue_id,
            &sealed,
            c.id_masked.as_deref(),
            now.date_naive(),
        ) {
            Ok(subject) => {
                c.subject = Some(subject);
                linked += 1;
            }
            Err(e) => {
                tracing::warn!(record = %c.id, venue = %c.venue_id, "sealed ID number not linked: {e}")
            }
        }
    }
    linked
}

/// The pseudonyms an ID number has under each issuer the authority holds (the primary's first).
pub fn subjects_of_id(keys: &TracingKeys, id: &IdNumber) -> Vec<String> {
    keys.subject_secrets
        .iter()
        .map(|s| venuecode_core::health_code::Pseudonym::derive(s, id).to_hex())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use venuecode_core::sync::CheckInWire;

    #[test]
    fn a_sealed_registration_is_linked_and_a_bad_seal_keeps_its_local_pseudonym() {
        let keys = TracingKeys {
            seal_secret: [5; 32],
            subject_secrets: vec![[6; 32], [7; 32]],
        };
        let now = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let id = IdNumber::parse("11010519491231002X", now.date_naive()).unwrap();
        let public = seal::public_key(&keys.seal_secret);
        let mut good = crate::store::testutil::check_in(1, "v1");
        good.manual = true;
        good.subject = Some("local:aa".into());
        good.id_masked = Some(id.masked());
        good.sealed_id = Some(seal::seal(&public, [1; 32], "v1", id.as_str().as_bytes()).unwrap());
        let mut moved: CheckInWire = good.clone();
        moved.id = "other".into();
        moved.venue_id = "v2".into();
        let mut batch = UploadBatch {
            records: vec![Record::CheckIn(good), Record::CheckIn(moved)],
        };
        assert_eq!(link_batch(&keys, &mut batch, now), 1);
        let subjects: Vec<Option<String>> =
            check_ins(&mut batch).map(|c| c.subject.clone()).collect();
        let expected = subjects_of_id(&keys, &id);
        assert_eq!(subjects[0].as_deref(), Some(expected[0].as_str()));
        assert_eq!(subjects[1].as_deref(), Some("local:aa"));
        assert!(check_ins(&mut batch).all(|c| c.sealed_id.is_none()));
        assert_eq!(expected.len(), 2);
    }
}
