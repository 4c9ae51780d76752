//! The station's sync client against a real server process: enrolment, upload with a record the
//! server refuses (dated in the future: set aside on the station, kept, the rest delivered), the
//! pull (trust list file, revocation cursor, venue entry), the status the UI shows, and a device
//! revoked on the server (refused, nothing lost on the station).

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use chrono::Utc;
use venuecode_app::station::zone;
use venuecode_app::store::Store;
use venuecode_app::sync::{self, SyncConfig, SyncHandle};
use venuecode_core::checkin::CheckInDraft;
use venuecode_core::gate::{Direction, PresenceEffect, Verdict};
use venuecode_core::trust::Revocation;
use venuecode_tests::harness::{tempdir::TempDir, Server};
use venuecode_tests::procs::wait_for;

const WAIT: Duration = Duration::from_secs(30);

fn draft(venue: &str, at: chrono::DateTime<Utc>, n: u32) -> CheckInDraft {
    CheckInDraft {
        venue_id: venue.into(),
        checkpoint_id: "main".into(),
        inspector: "王五".into(),
        direction: Direction::Entry,
        at,
        day: at.with_timezone(&zone()).format("%Y-%m-%d").to_string(),
        temperature: "normal",
        celsius: None,
        verdict: Verdict::Pass,
        reasons: vec![],
        fever: false,
        code_id: Some(format!("{n:016x}")),
        subject: Some(format!("{n:024x}")),
        name_masked: Some("张*".into()),
        phone_masked: None,
        id_masked: None,
        color: Some("green"),
        alert: false,
        manual: false,
        proxy_name: None,
        proxy_phone: None,
        proxy_relation: None,
    }
}

fn server_ids(server: &Server) -> Result<Vec<String>> {
    let store = venuecode_server::store::open(server.database.to_str().context("path")?)?;
    Ok(store.check_in_ids()?)
}

#[test]
fn station_sync_sets_aside_refused_records_and_survives_revocation() -> Result<()> {
    let tmp = TempDir::new("venuecode-sync-client-")?;
    let server = Server::start(tmp.path())?;
    let data = tmp.path().join("station");
    std::fs::create_dir_all(data.join("trust"))?;
    std::fs::copy(server.keys.join("root.pub"), data.join("trust/root.pub"))?;

    let mut store = Store::open(&data)?;
    // A wrong declaration code is refused with the server's reason, and binds nothing.
    let err = sync::enrol(
        &mut store,
        &server.url,
        "999999",
        "王五",
        None,
        Direction::Entry,
    )
    .expect_err("unknown declaration code");
    ensure!(err.code() == "unknown_declaration_code", "{err}");
    ensure!(store.binding()?.is_none());
    let res = sync::enrol(
        &mut store,
        &server.url,
        "100003",
        "王五",
        None,
        Direction::Entry,
    )?;
    ensure!(res.venue.name == "幸福路农贸市场");
    let venue = store.binding()?.context("bound")?.venue_id;

    let now = Utc::now();
    let mut kept = Vec::new();
    for n in 0..5 {
        kept.push(store.record(&draft(&venue, now, n), PresenceEffect::Keep)?);
    }
    let future = store.record(
        &draft(&venue, now + chrono::Duration::hours(2), 99),
        PresenceEffect::Keep,
    )?;

    let handle = SyncHandle::start(
        &data,
        Some(server.url.clone()),
        SyncConfig {
            batch_size: 4,
            backoff_base: Duration::from_millis(50),
            backoff_cap: Duration::from_millis(500),
            offline_probe: Duration::from_millis(200),
            idle: Duration::from_millis(200),
            ..SyncConfig::default()
        },
    );
    wait_for("the outbox to drain", WAIT, || {
        let s = handle.status();
        (s.waiting == 0 && s.rejected == 1 && s.trust_fetched_at.is_some()).then_some(())
    })?;
    let mut held = server_ids(&server)?;
    held.sort();
    kept.sort();
    ensure!(held == kept, "server holds {held:?}, expected {kept:?}");
    // The refused record is still on the station, set aside with the server's reason.
    ensure!(store.count("check_ins")? == 6);
    let (waiting, rejected) = store.outbox_counts()?;
    ensure!((waiting, rejected) == (0, 1));
    ensure!(!held.contains(&future));
    ensure!(data.join("trust/trust.cose").is_file(), "trust list saved");
    let wire = handle.status().to_wire(Utc::now());
    ensure!(
        wire.online && wire.enrolled && !wire.trust_stale && !wire.clock_warn,
        "{wire:?}"
    );
    ensure!(wire.clock_offset_secs.abs() < 5);
    ensure!(venuecode_app::station::venue_phone(&store)?.as_deref() == Some("0997-4655555"));

    // A revocation made on the server arrives with the next pull.
    let server_store = venuecode_server::store::open(server.database.to_str().context("path")?)?;
    server_store.revoke(&Revocation::Subject("ab".repeat(12)), Utc::now())?;
    handle.sync_now();
    wait_for("the revocation", WAIT, || {
        store
            .revocations()
            .ok()
            .filter(|r| r.subject_revoked(&"ab".repeat(12)))
            .map(|_| ())
    })?;

    // The device is revoked on the server: uploads are refused, records stay on the station.
    let device = store.device()?.context("device")?.device_id;
    ensure!(server_store.set_revoked(&device, true)?);
    store.record(&draft(&venue, Utc::now(), 7), PresenceEffect::Keep)?;
    handle.wake();
    wait_for("the refusal to show", WAIT, || {
        (handle.status().last_error.as_deref() == Some("device_revoked")).then_some(())
    })?;
    ensure!(store.outbox_counts()?.0 == 1, "the new record waits, kept");
    ensure!(server_ids(&server)?.len() == 5);
    handle.stop();
    Ok(())
}
