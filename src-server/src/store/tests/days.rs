//! The store suite's day-boundary scenario (both engines): a venue's windows that cross midnight
//! (UTC, where SQLite's day-first indexes cut, migration 19) and a history older than the days a
//! query may name at once.

use super::{at, check_in, enrol, Store, NOW};
use crate::retention::sweep;
use venuecode_core::sync::Record;

/// Every read of a venue's window finds the check-ins on both sides of midnight, in time order;
/// the relay's open-ended window reaches the newest day; retention deletes check-ins far older
/// than any window a query names (450 days) as well as recent ones, and nothing younger.
pub(super) fn a_venues_windows_cross_midnight_and_reach_old_days(store: &dyn Store) {
    store.seed_demo(at(NOW)).unwrap();
    let (v1, v2) = ("demo-venue-0001", "demo-venue-0002");
    let station = enrol(store, "dev1", "100001").unwrap();
    let other = enrol(store, "dev2", "100002").unwrap();
    let midnight = NOW - NOW.rem_euclid(86_400);
    let made = |n: u64, venue: &str, s: i64| {
        let mut c = check_in(n, venue);
        c.at = at(s);
        c.subject = Some(format!("subject-{n}"));
        Record::CheckIn(c)
    };
    let old = midnight - 450 * 86_400;
    store
        .ingest(
            &station,
            vec![
                made(1, v1, midnight - 1),
                made(2, v1, midnight),
                made(3, v1, midnight + 3_600),
                made(4, v1, old),
                made(5, v1, midnight - 3 * 86_400),
            ],
            at(NOW),
        )
        .unwrap();
    store
        .ingest(
            &other,
            vec![made(6, v2, midnight - 1), made(7, v2, old)],
            at(NOW),
        )
        .unwrap();

    let rows = store
        .venue_check_ins(v1, at(midnight - 60), at(midnight + 60), 10)
        .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.at).collect::<Vec<_>>(),
        [at(midnight - 1), at(midnight)]
    );
    let (groups, people) = store
        .venue_counts(v1, at(midnight - 3_600), at(midnight + 7_200))
        .unwrap();
    assert_eq!(
        (groups.iter().map(|g| g.count).sum::<u64>(), people),
        (3, 3)
    );
    let marks = store
        .marks_at(v1, at(midnight - 60), at(midnight + 60))
        .unwrap();
    assert_eq!(
        marks.iter().map(|m| m.at).collect::<Vec<_>>(),
        [at(midnight - 1), at(midnight)]
    );
    let inside = store
        .inside_at(v1, at(midnight - 3_600), at(midnight + 7_200))
        .unwrap();
    assert_eq!(inside.len(), 3, "three entries, no exit");
    // The relay asks from a time on, with no end: another station of the venue gets all three.
    let relayed = store
        .venue_passages(v1, "dev-elsewhere", at(midnight - 60), 0, 10)
        .unwrap();
    let mut ids: Vec<&str> = relayed.iter().map(|(p, _)| &p.id[33..]).collect();
    ids.sort();
    assert_eq!(ids, ["001", "002", "003"]);

    // Retention with a 2-day window: the 450-day-old check-ins of both venues and the 3-day-old
    // one go (SQLite names at most 400 days a statement, oldest first: two sweeps may be needed,
    // as the hourly sweep comes back), the rest stay.
    let window = chrono::Duration::days(2);
    let first = sweep(store, at(NOW), window, 10, std::time::Duration::ZERO).unwrap();
    let second = sweep(store, at(NOW), window, 10, std::time::Duration::ZERO).unwrap();
    assert_eq!(first.check_ins + second.check_ins, 3);
    let mut left: Vec<String> = store
        .check_in_ids()
        .unwrap()
        .into_iter()
        .map(|id| id[33..].to_string())
        .collect();
    left.sort();
    assert_eq!(left, ["001", "002", "003", "006"]);
}
