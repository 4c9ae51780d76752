//! The store suite's reports scenario (both engines): statistics groups and the alerts view.

use super::{alert, at, check_in, enrol, Store, NOW};
use crate::store::{AlertQuery, AlertReason, StoreError};
use venuecode_core::sync::Record;

/// A venue's check-ins come back counted by hour, door, inspector, direction, refusal and fever;
/// alerts of both kinds are listed newest first within scope, filtered, paged without repeats,
/// counted, and marked handled.
pub(super) fn statistics_and_alerts_are_read_by_scope(store: &dyn Store) {
    use venuecode_core::sightings;
    store.seed_demo(at(NOW)).unwrap();
    let market = enrol(store, "dev1", "100003").unwrap();
    let hospital = enrol(store, "dev2", "100001").unwrap();
    let mut records = Vec::new();
    for n in 0..5u64 {
        let mut c = check_in(n, "demo-venue-0003");
        c.at = at(NOW - 7200 + n as i64);
        c.subject = Some(format!("subject-{n}"));
        records.push(Record::CheckIn(c));
    }
    let mut exit = check_in(10, "demo-venue-0003");
    exit.direction = "exit".into();
    exit.checkpoint_id = "south".into();
    records.push(Record::CheckIn(exit));
    let mut red = check_in(11, "demo-venue-0003");
    red.verdict = "refuse".into();
    red.reasons = vec!["red_code".into()];
    red.at = at(NOW - 30);
    records.push(Record::CheckIn(red.clone()));
    records.push(alert(1, &red));
    let mut fever = check_in(12, "demo-venue-0003");
    fever.verdict = "refuse".into();
    fever.fever = true;
    fever.reasons = vec!["fever".into()];
    fever.at = at(NOW - 20);
    records.push(Record::CheckIn(fever.clone()));
    let mut fever_alert = alert(2, &fever);
    if let Record::Alert(a) = &mut fever_alert {
        a.reasons = vec!["fever".into()];
    }
    records.push(fever_alert);
    store.ingest(&market, records, at(NOW)).unwrap();

    let groups = store
        .venue_groups("demo-venue-0003", at(NOW - 86_400), at(NOW))
        .unwrap();
    let total: u64 = groups.iter().map(|g| g.count).sum();
    assert_eq!(total, 8);
    let refused: u64 = groups.iter().filter(|g| g.refused).map(|g| g.count).sum();
    assert_eq!(refused, 2);
    assert!(groups
        .iter()
        .any(|g| g.checkpoint_id == "south" && g.count == 1 && !g.refused));
    let fevers: u64 = groups.iter().filter(|g| g.fever).map(|g| g.count).sum();
    assert_eq!(fevers, 1);
    assert!(store
        .venue_groups("demo-venue-0001", at(NOW - 86_400), at(NOW))
        .unwrap()
        .is_empty());
    // Five subjects, plus the one shared by the exit and the refusals.
    assert_eq!(
        store
            .venue_people("demo-venue-0003", at(NOW - 86_400), at(NOW))
            .unwrap(),
        6
    );
    // Both in one read: the same groups (in any order) and people.
    let (mut both, people) = store
        .venue_counts("demo-venue-0003", at(NOW - 86_400), at(NOW))
        .unwrap();
    let key = |g: &venuecode_core::statistics::Group| {
        (
            g.hour,
            g.checkpoint_id.clone(),
            g.inspector.clone(),
            g.direction == venuecode_core::gate::Direction::Exit,
            g.refused,
            g.fever,
            g.count,
        )
    };
    let mut expected = groups.clone();
    expected.sort_by_key(key);
    both.sort_by_key(key);
    assert_eq!((both, people), (expected, 6));
    assert_eq!(
        store
            .venue_counts("demo-venue-0001", at(NOW - 86_400), at(NOW))
            .unwrap(),
        (vec![], 0)
    );

    // A sighting alert at the hospital, later than both refusals.
    let mut first = check_in(20, "demo-venue-0003");
    first.at = at(NOW - 15);
    first.subject = Some("traveller".into());
    let mut second = check_in(21, "demo-venue-0001");
    second.at = at(NOW - 10);
    second.subject = Some("traveller".into());
    store
        .ingest(&market, vec![Record::CheckIn(first)], at(NOW))
        .unwrap();
    store
        .ingest(&hospital, vec![Record::CheckIn(second)], at(NOW))
        .unwrap();
    let seen = store
        .entries_of(&["traveller".into()], at(NOW - 100), at(NOW))
        .unwrap();
    let found = sightings::find(&seen, &seen);
    assert_eq!(store.add_sighting_alerts(&found, at(NOW)).unwrap(), 1);

    let all = AlertQuery {
        scopes: vec!["659002".into()],
        limit: 50,
        ..AlertQuery::default()
    };
    let listed = store.alerts(&all).unwrap();
    let kinds: Vec<&str> = listed.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(kinds, ["two_places", "refusal", "refusal"], "{listed:#?}");
    assert_eq!(listed[0].reasons, ["impossible_travel"]);
    assert_eq!(listed[0].venue_name, "阿拉尔市人民医院");
    assert_eq!(listed[1].reasons, ["fever"]);
    assert_eq!(listed[2].name_masked.as_deref(), Some("张*"));
    assert_eq!(listed[2].checkpoint_id.as_deref(), Some("main"));
    assert_eq!(listed[2].checkpoint_name.as_deref(), Some("北门"));
    assert_eq!(store.count_alerts(&all).unwrap(), 3);
    // Another region, or none, sees nothing.
    for scopes in [vec!["4405".to_string()], vec![]] {
        let q = AlertQuery {
            scopes,
            ..all.clone()
        };
        assert!(store.alerts(&q).unwrap().is_empty());
        assert_eq!(store.count_alerts(&q).unwrap(), 0);
    }
    // Filters.
    let q = |f: &dyn Fn(&mut AlertQuery)| {
        let mut q = all.clone();
        f(&mut q);
        store.alerts(&q).unwrap()
    };
    assert_eq!(q(&|q| q.reason = Some(AlertReason::RedCode)).len(), 1);
    assert_eq!(
        q(&|q| q.reason = Some(AlertReason::ImpossibleTravel)).len(),
        1
    );
    assert!(q(&|q| q.reason = Some(AlertReason::SharedCode)).is_empty());
    assert_eq!(q(&|q| q.venue_id = Some("demo-venue-0003".into())).len(), 2);
    assert_eq!(q(&|q| q.region = Some("659002".into())).len(), 3);
    assert!(q(&|q| q.region = Some("6591".into())).is_empty());
    assert_eq!(q(&|q| q.from = Some(at(NOW - 12))).len(), 1);
    assert_eq!(q(&|q| q.to = Some(at(NOW - 25))).len(), 1);
    // Pages: two, then the rest, nothing repeated.
    let page1 = q(&|q| q.limit = 2);
    let last = page1.last().unwrap();
    let cursor = (last.at, last.venue_id.clone(), last.alert_id.clone());
    let page2 = q(&|q| {
        q.limit = 2;
        q.before = Some(cursor.clone());
    });
    assert_eq!(page2.len(), 1);
    assert_eq!(page2[0].reasons, ["red_code"]);
    // Handling.
    let red_alert = &listed[2];
    assert!(store
        .handle_alert(
            &red_alert.venue_id,
            &red_alert.alert_id,
            "卫健 (wj)",
            "已通知社区",
            at(NOW + 60)
        )
        .unwrap());
    assert!(!store
        .handle_alert("demo-venue-0003", "no-such-alert", "x", "y", at(NOW))
        .unwrap());
    let unhandled = AlertQuery {
        unhandled: true,
        ..all.clone()
    };
    assert_eq!(store.count_alerts(&unhandled).unwrap(), 2);
    let again = store.alerts(&all).unwrap();
    assert_eq!(again[2].note.as_deref(), Some("已通知社区"));
    assert_eq!(again[2].handled_at, Some(at(NOW + 60)));
    // A second note replaces the first.
    assert!(store
        .handle_alert(
            &red_alert.venue_id,
            &red_alert.alert_id,
            "卫健 (wj)",
            "已隔离",
            at(NOW + 90)
        )
        .unwrap());
    assert_eq!(
        store.alerts(&all).unwrap()[2].note.as_deref(),
        Some("已隔离")
    );
}

/// Who is inside a venue when a window opens, read in the database: each person's last
/// let-through passage before it, kept when it is an entry.
pub(super) fn inside_at_keeps_last_entries(store: &dyn Store) {
    store.seed_demo(at(NOW)).unwrap();
    let market = enrol(store, "dev1", "100003").unwrap();
    let mut records = Vec::new();
    let mut n = 0u64;
    let mut pass = |subject: &str, direction: &str, secs_before: i64, verdict: &str| {
        n += 1;
        let mut c = check_in(n, "demo-venue-0003");
        c.subject = Some(subject.into());
        c.direction = direction.into();
        c.verdict = verdict.into();
        c.at = at(NOW - secs_before);
        Record::CheckIn(c)
    };
    // a: in, out, in again (inside); b: in, out (gone); c: in at two gates (inside, last
    // gate's entry); d: refused at the door (never inside); e: an exit only (gone).
    records.push(pass("a", "entry", 3000, "pass"));
    records.push(pass("a", "exit", 2500, "pass"));
    records.push(pass("a", "entry", 2000, "pass"));
    records.push(pass("b", "entry", 2900, "pass"));
    records.push(pass("b", "exit", 1000, "pass"));
    records.push(pass("c", "entry", 2800, "pass"));
    records.push(pass("c", "entry", 1500, "pass"));
    records.push(pass("d", "entry", 1200, "refuse"));
    records.push(pass("e", "exit", 900, "pass"));
    // After the window closes: not read.
    records.push(pass("b", "entry", 100, "pass"));
    store.ingest(&market, records, at(NOW)).unwrap();
    let inside = store
        .inside_at("demo-venue-0003", at(NOW - 3600), at(NOW - 500))
        .unwrap();
    let got: Vec<(&str, i64)> = inside
        .iter()
        .map(|p| (p.subject.as_str(), p.at.timestamp() - NOW))
        .collect();
    assert_eq!(got, [("a", -2000), ("c", -1500)]);
    assert!(inside.iter().all(|p| p.direction == "entry" && p.passed));
    // Every check-in of the window as co-presence reads it: direction and refusal as flags.
    let marks = store
        .marks_at("demo-venue-0003", at(NOW - 1300), at(NOW - 500))
        .unwrap();
    let got: Vec<(&str, bool, bool, i64)> = marks
        .iter()
        .map(|m| (m.subject.as_str(), m.exit, m.passed, m.at.timestamp() - NOW))
        .collect();
    assert_eq!(
        got,
        [
            ("d", false, false, -1200),
            ("b", true, true, -1000),
            ("e", true, true, -900)
        ]
    );
    assert!(marks
        .iter()
        .all(|m| m.name_masked.as_deref() == Some("张*")));
    assert!(store
        .inside_at("demo-venue-0001", at(NOW - 3600), at(NOW))
        .unwrap()
        .is_empty());
}

/// Tracing reads the windows around a case's stays two at a time: what comes back, window by
/// window and in order, is what reading them one by one gives — at two venues, one with two
/// windows hours apart, and for a single window.
pub(super) fn windows_read_at_once_match_one_by_one(store: &dyn Store) {
    store.seed_demo(at(NOW)).unwrap();
    let market = enrol(store, "dev1", "100003").unwrap();
    let mut records = Vec::new();
    for n in 0..600u64 {
        let mut c = check_in(
            n + 1,
            if n % 3 == 0 {
                "demo-venue-0001"
            } else {
                "demo-venue-0003"
            },
        );
        c.subject = Some(format!("p{:03}", n % 97));
        c.direction = if n % 4 == 1 { "exit" } else { "entry" }.into();
        c.verdict = if n % 29 == 0 { "refuse" } else { "pass" }.into();
        c.at = at(NOW - 3600 * 20 + n as i64 * 113);
        records.push(Record::CheckIn(c));
    }
    store.ingest(&market, records, at(NOW)).unwrap();
    let h = |hours: i64| at(NOW - 3600 * hours);
    let jobs = [
        ("demo-venue-0001", (h(20), h(2))),
        ("demo-venue-0003", (h(20), h(14))),
        ("demo-venue-0003", (h(10), h(5))),
    ];
    let one_by_one: Vec<_> = jobs
        .iter()
        .map(|(venue, (a, b))| {
            let opens = (*a + crate::trace_routes::AUTO_CLOSE).min(*b);
            (
                store.inside_at(venue, *a, opens).unwrap(),
                store.marks_at(venue, opens, *b).unwrap(),
            )
        })
        .collect();
    assert!(one_by_one
        .iter()
        .all(|(i, m)| !i.is_empty() && !m.is_empty()));
    let at_once = crate::trace_read::read_windows(store, &jobs).unwrap();
    assert_eq!(at_once, one_by_one);
    assert_eq!(
        crate::trace_read::read_windows(store, &jobs[2..]).unwrap(),
        one_by_one[2..]
    );
}

/// A person's check-ins are found day by day (the `(day, subject, at_ms)` index): on both sides
/// of a UTC midnight, days apart, and no further than the window asks.
pub(super) fn a_persons_days_are_each_read(store: &dyn Store) {
    store.seed_demo(at(NOW)).unwrap();
    let market = enrol(store, "dev1", "100003").unwrap();
    let midnight = NOW / 86_400 * 86_400;
    let mut n = 0u64;
    let mut pass = |subject: &str, secs: i64| {
        n += 1;
        let mut c = check_in(n, "demo-venue-0003");
        c.subject = Some(subject.into());
        c.at = at(secs);
        Record::CheckIn(c)
    };
    let records = vec![
        pass("p", midnight - 1),
        pass("p", midnight),
        pass("q", midnight),
        pass("p", midnight + 2 * 86_400 + 5),
    ];
    store.ingest(&market, records, at(NOW)).unwrap();
    let times = |from: i64, to: i64| -> Vec<i64> {
        store
            .passages_of("p", at(from), at(to))
            .unwrap()
            .iter()
            .map(|p| p.at.timestamp() - midnight)
            .collect()
    };
    assert_eq!(
        times(midnight - 10, midnight + 3 * 86_400),
        [-1, 0, 172_805]
    );
    assert_eq!(times(midnight, midnight + 3 * 86_400), [0, 172_805]);
    assert_eq!(times(midnight - 1, midnight - 1), [-1]);
    assert_eq!(
        times(midnight + 1, midnight + 2 * 86_400),
        Vec::<i64>::new()
    );
    let seen = store
        .entries_of(
            &["p".into(), "q".into()],
            at(midnight - 10),
            at(midnight + 10),
        )
        .unwrap();
    assert_eq!(seen.len(), 3, "{seen:#?}");
    let far = store.passages_of("p", at(midnight - 500 * 86_400), at(midnight));
    assert!(
        matches!(far, Err(StoreError::WindowTooLong { .. })),
        "{far:?}"
    );
}
