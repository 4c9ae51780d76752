//! Test helpers: sample records, and running one scenario on each engine.

use chrono::{DateTime, Utc};
use venuecode_core::sync::{AlertWire, CheckInWire, Record};

use super::Store;
use crate::pgcluster::start_for_tests;

pub fn at(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).unwrap()
}

/// A fixed "now" for tests.
pub const NOW: i64 = 1_790_000_000;

pub fn check_in(n: u64, venue: &str) -> CheckInWire {
    CheckInWire {
        format: venuecode_core::sync::RECORD_FORMAT,
        id: format!("0190f0e0-0000-7000-8000-{n:012x}"),
        venue_id: venue.into(),
        checkpoint_id: "main".into(),
        inspector: "王五".into(),
        direction: "entry".into(),
        at: at(NOW - 60),
        verdict: "pass".into(),
        reasons: vec![],
        temperature: "normal".into(),
        celsius: Some(36.5),
        fever: false,
        code_id: Some("0011223344556677".into()),
        subject: Some("aabbccddeeff001122334455".into()),
        name_masked: Some("张*".into()),
        phone_masked: Some("138****0000".into()),
        id_masked: None,
        color: Some("green".into()),
        manual: false,
        proxy_name: None,
        proxy_phone: None,
        proxy_relation: None,
        code: None,
        sealed_id: None,
    }
}

pub fn alert(n: u64, of: &CheckInWire) -> Record {
    Record::Alert(AlertWire {
        format: venuecode_core::sync::RECORD_FORMAT,
        id: format!("0190f0e0-0000-7000-9000-{n:012x}"),
        venue_id: of.venue_id.clone(),
        at: of.at,
        reasons: vec!["red_code".into()],
        check_in: of.clone(),
    })
}

/// A named test scenario over a store.
pub type Scenario = (&'static str, &'static dyn Fn(&dyn Store));

/// Runs `scenario` on a fresh SQLite store.
pub fn on_sqlite(scenario: impl Fn(&dyn Store)) {
    let dir = tempfile::tempdir().unwrap();
    let store = super::open(dir.path().join("s.db").to_str().unwrap()).unwrap();
    scenario(store.as_ref());
}

/// Runs each scenario on a fresh database of one throwaway PostgreSQL cluster. PostgreSQL missing
/// fails the test unless the developer asked to skip it (`pgcluster::SKIP_VAR`).
pub fn on_postgres(scenarios: &[Scenario]) {
    let cluster = match start_for_tests("the PostgreSQL store") {
        Ok(Some(c)) => c,
        Ok(None) => return,
        Err(e) => panic!("starting a throwaway PostgreSQL cluster: {e}"),
    };
    for (i, (name, scenario)) in scenarios.iter().enumerate() {
        let url = cluster.create_database(&format!("t{i}")).unwrap();
        let store = super::open(&url).unwrap();
        eprintln!("postgres: {name}");
        scenario(store.as_ref());
    }
}
