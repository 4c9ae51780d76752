//! The store suite: every scenario runs on SQLite and on PostgreSQL.

use super::testutil::{alert, at, check_in, on_postgres, on_sqlite, Scenario, NOW};
use super::{NewDevice, Store, StoreError};
use venuecode_core::sync::Record;
use venuecode_core::trust::Revocation;

mod applications;
use applications::applications_are_filed_scoped_and_decided_once;
mod days;
use days::a_venues_windows_cross_midnight_and_reach_old_days;
mod reports;
use reports::{
    a_persons_days_are_each_read, inside_at_keeps_last_entries,
    statistics_and_alerts_are_read_by_scope, windows_read_at_once_match_one_by_one,
};

fn enrol(store: &dyn Store, device: &str, code: &str) -> Result<super::Device, StoreError> {
    store.enrol(
        &NewDevice {
            declaration_code: code,
            checkpoint_id: None,
            inspector: "王五",
            device_id: device,
            public_key: "00",
        },
        at(NOW),
    )
}

fn demo_seed_is_idempotent(store: &dyn Store) {
    assert_eq!(store.venue_count().unwrap(), 0);
    store.seed_demo(at(NOW)).unwrap();
    store.seed_demo(at(NOW)).unwrap();
    assert_eq!(store.venue_count().unwrap(), 3);
    let (info, policy) = store.venue_info("demo-venue-0001").unwrap().unwrap();
    assert_eq!(info.name, "阿拉尔市人民医院");
    assert_eq!(info.phone, "0997-4612345");
    assert_eq!(info.checkpoints.len(), 2);
    assert_eq!(policy.to_policy(), venuecode_core::gate::Policy::default());
    assert!(store.venue_info("nope").unwrap().is_none());
}

fn enrolment_binds_and_refuses_what_it_must(store: &dyn Store) {
    store.seed_demo(at(NOW)).unwrap();
    let d = enrol(store, "dev1", "100001").unwrap();
    assert_eq!(d.venue_id, "demo-venue-0001");
    assert_eq!(d.checkpoint_id, "main");
    assert!(!d.revoked);
    assert!(matches!(
        enrol(store, "dev2", "999999"),
        Err(StoreError::UnknownDeclaration(_))
    ));
    let bad_cp = store.enrol(
        &NewDevice {
            declaration_code: "100001",
            checkpoint_id: Some("roof"),
            inspector: "x",
            device_id: "dev3",
            public_key: "00",
        },
        at(NOW),
    );
    assert!(matches!(bad_cp, Err(StoreError::UnknownCheckpoint { .. })));
    assert!(matches!(
        enrol(store, "dev1", "100002"),
        Err(StoreError::EnrolledElsewhere(_))
    ));
    assert!(store
        .set_revoked("dev1", true, "管理员甲", at(NOW + 1))
        .unwrap());
    assert!(store.device("dev1").unwrap().unwrap().revoked);
    // A revoked key never re-enrols itself, even at its own venue with the right code.
    assert!(matches!(
        enrol(store, "dev1", "100001"),
        Err(StoreError::DeviceRevoked(_))
    ));
    assert!(store.device("dev1").unwrap().unwrap().revoked);
    // Only an administrator re-activates it, and the log says who and when.
    assert!(store
        .set_revoked("dev1", false, "管理员乙", at(NOW + 2))
        .unwrap());
    assert!(!enrol(store, "dev1", "100001").unwrap().revoked);
    let log: Vec<(String, String)> = store
        .device_events("dev1")
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.actor))
        .collect();
    let actions: Vec<&str> = log.iter().map(|(a, _)| a.as_str()).collect();
    // In time order (the helper enrols at NOW; the revocation and re-activation came after).
    assert_eq!(actions, ["enrolled", "enrolled", "revoked", "reactivated"]);
    assert_eq!(log[2].1, "管理员甲");
    assert_eq!(log[3].1, "管理员乙");
    assert!(!store.set_revoked("ghost", true, "x", at(NOW)).unwrap());
    assert!(store.device("ghost").unwrap().is_none());
    let listed = store.devices(None).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].device.device_id, "dev1");
    assert_eq!(store.devices(Some("demo-venue-0001")).unwrap().len(), 1);
    assert!(store.devices(Some("demo-venue-0002")).unwrap().is_empty());
    // A new declaration code: the old one enrols nothing more; a taken one is refused.
    assert!(store
        .set_declaration_code("demo-venue-0001", "300001", at(NOW + 5))
        .unwrap());
    assert!(matches!(
        enrol(store, "dev7", "100001"),
        Err(StoreError::UnknownDeclaration(_))
    ));
    enrol(store, "dev7", "300001").unwrap();
    assert!(matches!(
        store.set_declaration_code("demo-venue-0002", "300001", at(NOW + 6)),
        Err(StoreError::DeclarationCodeTaken(_))
    ));
    assert!(!store
        .set_declaration_code("nope", "300002", at(NOW))
        .unwrap());
}

fn enrolment_attempts_are_counted_by_source_and_code(store: &dyn Store) {
    use super::{AttemptKey, AttemptOutcome, EnrolAttempt};
    let attempt = |source, code, outcome, t| {
        store
            .record_enrolment_attempt(
                &EnrolAttempt {
                    source,
                    declaration_code: code,
                    device_id: "d",
                    outcome,
                },
                at(t),
            )
            .unwrap()
    };
    attempt("10.0.0.1", "111111", AttemptOutcome::Refused, NOW);
    attempt("10.0.0.1", "222222", AttemptOutcome::Refused, NOW + 1);
    attempt("10.0.0.2", "333333", AttemptOutcome::Refused, NOW + 2);
    attempt("10.0.0.1", "100001", AttemptOutcome::Enrolled, NOW + 3);
    let count = |key, outcome, since| store.enrolment_attempts(key, outcome, at(since)).unwrap();
    assert_eq!(
        count(AttemptKey::Source("10.0.0.1"), AttemptOutcome::Refused, NOW),
        2
    );
    assert_eq!(
        count(
            AttemptKey::Source("10.0.0.1"),
            AttemptOutcome::Refused,
            NOW + 1
        ),
        1
    );
    assert_eq!(
        count(AttemptKey::Source("10.0.0.3"), AttemptOutcome::Refused, NOW),
        0
    );
    assert_eq!(
        count(
            AttemptKey::DeclarationCode("100001"),
            AttemptOutcome::Enrolled,
            NOW
        ),
        1
    );
}

fn nonces_are_single_use_within_the_window(store: &dyn Store) {
    assert!(store.use_nonce("d", "n1", at(NOW), at(NOW - 600)).unwrap());
    assert!(!store
        .use_nonce("d", "n1", at(NOW + 1), at(NOW - 599))
        .unwrap());
    assert!(store
        .use_nonce("other", "n1", at(NOW + 1), at(NOW - 599))
        .unwrap());
    // Forgotten once outside the window (the request time check refuses it by then).
    assert!(store
        .use_nonce("d", "n1", at(NOW + 700), at(NOW + 100))
        .unwrap());
}

fn ingest_is_idempotent_and_counts_new_rows(store: &dyn Store) {
    store.seed_demo(at(NOW)).unwrap();
    let d = enrol(store, "dev1", "100001").unwrap();
    let v = &d.venue_id;
    let c1 = check_in(1, v);
    let batch: Vec<Record> = vec![
        alert(1, &c1),
        Record::CheckIn(c1.clone()),
        Record::CheckIn(check_in(2, v)),
    ];
    assert_eq!(store.ingest(&d, batch.clone(), at(NOW)).unwrap(), 3);
    assert_eq!(store.ingest(&d, batch.clone(), at(NOW)).unwrap(), 0);
    let mut more = batch.clone();
    more.push(Record::CheckIn(check_in(3, v)));
    assert_eq!(store.ingest(&d, more, at(NOW)).unwrap(), 1);
    let counts = store.counts().unwrap();
    assert_eq!((counts.check_ins, counts.alerts), (3, 1));
    assert_eq!(
        store.check_in_ids().unwrap(),
        vec![check_in(1, v).id, check_in(2, v).id, check_in(3, v).id]
    );
    assert_eq!(store.alert_ids().unwrap().len(), 1);
    // A big batch in one go.
    let big: Vec<Record> = (100..2100)
        .map(|n| Record::CheckIn(check_in(n, v)))
        .collect();
    assert_eq!(store.ingest(&d, big, at(NOW)).unwrap(), 2000);
    assert_eq!(store.counts().unwrap().check_ins, 2003);
}

/// Many uploads at once (the group commit on SQLite, the pool on PostgreSQL), overlapping
/// retries among them: every batch gets its own count, and each row is stored once.
fn concurrent_batches_are_each_counted_and_stored_once(store: &dyn Store) {
    store.seed_demo(at(NOW)).unwrap();
    let d = enrol(store, "dev1", "100001").unwrap();
    let v = d.venue_id.clone();
    let new_total = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|scope| {
        for t in 0..6u64 {
            let (d, v, new_total) = (&d, &v, &new_total);
            scope.spawn(move || {
                for b in 0..10u64 {
                    // Threads t and t+1 share half their ids: retries racing each other.
                    let base = (t / 2) * 10_000 + b * 100;
                    let batch: Vec<Record> = (base..base + 100)
                        .map(|n| Record::CheckIn(check_in(n, v)))
                        .collect();
                    let n = store.ingest(d, batch, at(NOW)).unwrap();
                    assert!(n <= 100);
                    new_total.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    });
    assert_eq!(store.counts().unwrap().check_ins, 3 * 1000);
    assert_eq!(
        new_total.into_inner(),
        3 * 1000,
        "each new row counted once"
    );
}

fn revocations_come_in_cursor_order_and_pages(store: &dyn Store) {
    let page = |cursor, limit| store.revocations_since(cursor, limit).unwrap();
    let none = page(0, 10);
    assert_eq!((none.until, none.entries.len(), none.more), (0, 0, false));
    let a = store
        .revoke(&Revocation::Code("AABB".into()), at(NOW))
        .unwrap();
    let b = store
        .revoke(&Revocation::Subject("ccdd".into()), at(NOW))
        .unwrap();
    assert!(b > a);
    // What a resident's own check-in asks: by code id or by subject, never one for the other.
    assert!(store.is_revoked("aabb", "").unwrap());
    assert!(store.is_revoked("AABB", "0000").unwrap());
    assert!(store.is_revoked("", "CCDD").unwrap());
    assert!(!store.is_revoked("ccdd", "aabb").unwrap());
    let all = page(0, 10);
    assert_eq!((all.until, all.more), (b, false));
    assert_eq!(
        all.entries,
        vec![
            Revocation::Code("aabb".into()),
            Revocation::Subject("ccdd".into())
        ]
    );
    // One per page: the first page says more follow, the second ends there.
    let first = page(0, 1);
    assert_eq!(
        (first.until, first.entries.clone(), first.more),
        (a, vec![Revocation::Code("aabb".into())], true)
    );
    let second = page(first.until, 1);
    assert_eq!(
        (second.until, second.entries, second.more),
        (b, vec![Revocation::Subject("ccdd".into())], false)
    );
    let after = page(b, 1);
    assert_eq!(
        (after.until, after.entries.len(), after.more),
        (b, 0, false)
    );
}

/// One person's entries are read back with their venue's map point (passes on scanned codes
/// only); alerts are kept once per pair and listed newest first.
fn sightings_are_read_back_and_alerts_kept_once(store: &dyn Store) {
    use venuecode_core::sightings;
    store.seed_demo(at(NOW)).unwrap();
    let hospital = enrol(store, "dev1", "100001").unwrap();
    let market = enrol(store, "dev2", "100003").unwrap();
    let first = check_in(1, "demo-venue-0001");
    let mut second = check_in(2, "demo-venue-0003");
    second.at = at(NOW - 30);
    let mut refused = check_in(3, "demo-venue-0003");
    refused.verdict = "refuse".into();
    let mut manual = check_in(4, "demo-venue-0003");
    manual.manual = true;
    let mut exit = check_in(5, "demo-venue-0003");
    exit.direction = "exit".into();
    store
        .ingest(&hospital, vec![Record::CheckIn(first)], at(NOW))
        .unwrap();
    let rest = [second, refused, manual, exit]
        .map(Record::CheckIn)
        .to_vec();
    store.ingest(&market, rest, at(NOW)).unwrap();
    let subject = "aabbccddeeff001122334455".to_string();
    let mut seen = store
        .entries_of(&[subject.clone(), "nobody".into()], at(NOW - 100), at(NOW))
        .unwrap();
    seen.sort_by_key(|s| s.at);
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(seen[0].device_id, "dev1");
    assert_eq!(
        seen[1].point,
        sightings::GeoPoint::new(40_556_000, 81_266_000)
    );
    assert!(store
        .entries_of(&[subject], at(NOW - 10), at(NOW))
        .unwrap()
        .is_empty());
    let alerts = sightings::find(&seen[1..], &seen);
    assert_eq!(alerts.len(), 1);
    assert_eq!(store.add_sighting_alerts(&alerts, at(NOW)).unwrap(), 1);
    assert_eq!(store.add_sighting_alerts(&alerts, at(NOW + 5)).unwrap(), 0);
    let listed = store.sighting_alerts(at(NOW - 1), 10).unwrap();
    assert_eq!(listed.len(), 1);
    let a = &listed[0];
    assert_eq!(
        (a.first_venue_id.as_str(), a.second_venue_id.as_str()),
        ("demo-venue-0001", "demo-venue-0003")
    );
    assert_eq!(
        (a.first_at, a.second_at, a.detected_at),
        (at(NOW - 60), at(NOW - 30), at(NOW))
    );
    assert!(a.distance_m.is_some_and(|m| (1_000..2_000).contains(&m)));
    assert!(store.sighting_alerts(at(NOW + 1), 10).unwrap().is_empty());
}

/// A key rotation hands the binding over once, answers a retry the same, and leaves the old
/// key revoked with the hand-over in both logs.
fn a_key_rotation_hands_the_binding_over_once(store: &dyn Store) {
    store.seed_demo(at(NOW)).unwrap();
    let old = enrol(store, "dev1", "100003").unwrap();
    let new = store.rotate_key("dev1", "dev2", "22", at(NOW + 5)).unwrap();
    assert_eq!(
        (
            &new.venue_id,
            &new.checkpoint_id,
            new.enrolled_at,
            new.revoked
        ),
        (&old.venue_id, &old.checkpoint_id, old.enrolled_at, false)
    );
    assert_eq!(new.public_key, "22");
    assert_eq!(
        store.rotate_key("dev1", "dev2", "22", at(NOW + 6)).unwrap(),
        new
    );
    assert!(store.device("dev1").unwrap().unwrap().revoked);
    assert!(matches!(
        store.rotate_key("dev1", "dev3", "33", at(NOW + 7)),
        Err(StoreError::DeviceRevoked(_))
    ));
    assert!(matches!(
        store.rotate_key("nobody", "dev4", "44", at(NOW + 7)),
        Err(StoreError::UnknownDevice(_))
    ));
    enrol(store, "dev5", "100003").unwrap();
    assert!(matches!(
        store.rotate_key("dev2", "dev5", "55", at(NOW + 8)),
        Err(StoreError::KeyInUse(_))
    ));
    let actors = |id| {
        store
            .device_events(id)
            .unwrap()
            .into_iter()
            .map(|e| e.actor)
            .collect::<Vec<_>>()
    };
    assert_eq!(actors("dev1").last().unwrap(), "rotated to dev2");
    assert_eq!(actors("dev2"), ["rotated from dev1"]);
}

/// A venue's whole policy is set and read back, freshness rules and the paper limit included;
/// an unknown venue is not.
fn a_venue_policy_is_set_and_read_back(store: &dyn Store) {
    use venuecode_core::sync::PolicyWire;
    store.seed_demo(at(NOW)).unwrap();
    let set = PolicyWire {
        fever_threshold_c: 37.5,
        accept_yellow: true,
        require_nat_within_hours: Some(48),
        max_code_age_hours: Some(12),
        max_paper_code_age_hours: Some(72),
        max_unsigned_time_hours: 6,
        stale_after_hours: 24,
        when_stale: "warn".into(),
        capacity: Some(300),
    };
    assert!(store
        .set_policy("demo-venue-0002", &set, at(NOW + 1))
        .unwrap());
    let (info, read) = store.venue_info("demo-venue-0002").unwrap().unwrap();
    assert_eq!(read, set);
    assert_eq!(info.updated_at, at(NOW + 1));
    assert!(!store.set_policy("nope", &set, at(NOW)).unwrap());
    // Other venues keep the defaults.
    let (_, other) = store.venue_info("demo-venue-0001").unwrap().unwrap();
    assert_eq!(other.to_policy(), venuecode_core::gate::Policy::default());
    assert_eq!(other.freshness(), Default::default());
}

const SUITE: &[Scenario] = &[
    (
        "applications_are_filed_scoped_and_decided_once",
        &applications_are_filed_scoped_and_decided_once,
    ),
    (
        "a_venue_policy_is_set_and_read_back",
        &a_venue_policy_is_set_and_read_back,
    ),
    (
        "a_key_rotation_hands_the_binding_over_once",
        &a_key_rotation_hands_the_binding_over_once,
    ),
    (
        "sightings_are_read_back_and_alerts_kept_once",
        &sightings_are_read_back_and_alerts_kept_once,
    ),
    ("demo_seed_is_idempotent", &demo_seed_is_idempotent),
    (
        "statistics_and_alerts_are_read_by_scope",
        &statistics_and_alerts_are_read_by_scope,
    ),
    (
        "inside_at_keeps_last_entries",
        &inside_at_keeps_last_entries,
    ),
    (
        "a_persons_days_are_each_read",
        &a_persons_days_are_each_read,
    ),
    (
        "windows_read_at_once_match_one_by_one",
        &windows_read_at_once_match_one_by_one,
    ),
    (
        "enrolment_binds_and_refuses_what_it_must",
        &enrolment_binds_and_refuses_what_it_must,
    ),
    (
        "nonces_are_single_use_within_the_window",
        &nonces_are_single_use_within_the_window,
    ),
    (
        "ingest_is_idempotent_and_counts_new_rows",
        &ingest_is_idempotent_and_counts_new_rows,
    ),
    (
        "concurrent_batches_are_each_counted_and_stored_once",
        &concurrent_batches_are_each_counted_and_stored_once,
    ),
    (
        "enrolment_attempts_are_counted_by_source_and_code",
        &enrolment_attempts_are_counted_by_source_and_code,
    ),
    (
        "revocations_come_in_cursor_order_and_pages",
        &revocations_come_in_cursor_order_and_pages,
    ),
    (
        "the retention window keeps what it covers",
        &crate::retention::tests::the_window_keeps_what_it_covers,
    ),
    (
        "a venue's windows cross midnight and reach old days",
        &a_venues_windows_cross_midnight_and_reach_old_days,
    ),
];

#[test]
fn sqlite_store_passes_the_suite() {
    for (name, scenario) in SUITE {
        eprintln!("sqlite: {name}");
        on_sqlite(scenario);
    }
}

#[test]
fn postgres_store_passes_the_suite() {
    on_postgres(SUITE);
}
