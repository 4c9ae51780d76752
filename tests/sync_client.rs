//! The station's sync client against a real server process: enrolment, upload with a record the
//! server refuses (dated in the future: set aside on the station, kept, the rest delivered), the
//! pull (trust list file, revocation cursor, venue entry), the status the UI shows, and a device
//! revoked on the server (refused, nothing lost on the station); and a poison record the server
//! cannot parse, set aside alone while the rest of its batch is delivered.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use chrono::Utc;
use venuecode_app::store::Store;
use venuecode_core::gate::PresenceEffect;
use venuecode_core::trust::Revocation;
use venuecode_tests::harness::{tempdir::TempDir, Server};
use venuecode_tests::procs::wait_for;
use venuecode_tests::station::{draft, enrol, fast_sync, provisioned_station, TestSync};

const WAIT: Duration = Duration::from_secs(30);

fn server_ids(server: &Server) -> Result<Vec<String>> {
    let store = venuecode_server::store::open(server.database.to_str().context("path")?)?;
    Ok(store.check_in_ids()?)
}

#[test]
fn station_sync_sets_aside_refused_records_and_survives_revocation() -> Result<()> {
    let tmp = TempDir::new("venuecode-sync-client-")?;
    let server = Server::start(tmp.path())?;
    let data = provisioned_station(tmp.path(), &server.keys)?;

    let mut store = Store::open(&data)?;
    // A wrong declaration code is refused with the server's reason, and binds nothing.
    let err =
        enrol(&mut store, &data, &server.url, "999999").expect_err("unknown declaration code");
    ensure!(err.code() == "unknown_declaration_code", "{err}");
    ensure!(store.binding()?.is_none());
    let res = enrol(&mut store, &data, &server.url, "100003")?;
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

    let handle = fast_sync(&data, &server.url, 4);
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

    // The door and the inspector on the server are the device's binding, whatever a record
    // claims.
    let mut claimed = draft(&venue, Utc::now(), 50);
    claimed.checkpoint_id = "roof".into();
    claimed.inspector = "冒名顶替".into();
    let claimed = store.record(&claimed, PresenceEffect::Keep)?;
    handle.wake();
    wait_for("the claimed record on the server", WAIT, || {
        server_ids(&server).ok()?.contains(&claimed).then_some(())
    })?;
    // Stored with the binding's door and, for the inspector, the device's id (the binding's
    // name, 王五, stays with the device record and never enters the check-ins).
    let (cp, inspector, device): (String, String, String) =
        rusqlite::Connection::open(&server.database)?.query_row(
            "SELECT checkpoint_id, inspector, device_id FROM check_ins WHERE id = ?1",
            [&claimed],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
    ensure!(
        cp == "main" && inspector == device,
        "stored {cp} / {inspector} (device {device})"
    );
    let names: i64 = rusqlite::Connection::open(&server.database)?.query_row(
        "SELECT count(*) FROM check_ins WHERE inspector IN ('王五', '冒名顶替')",
        [],
        |r| r.get(0),
    )?;
    ensure!(names == 0, "{names} check-ins carry an inspector's name");

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
    ensure!(server_store.set_revoked(&device, true, "test", Utc::now())?);
    store.record(&draft(&venue, Utc::now(), 7), PresenceEffect::Keep)?;
    handle.wake();
    wait_for("the refusal to show", WAIT, || {
        (handle.status().last_error.as_deref() == Some("device_revoked")).then_some(())
    })?;
    ensure!(store.outbox_counts()?.0 == 1, "the new record waits, kept");
    ensure!(server_ids(&server)?.len() == 6);
    handle.stop();
    Ok(())
}

#[test]
fn a_poison_record_is_set_aside_and_the_rest_of_its_batch_delivered() -> Result<()> {
    let tmp = TempDir::new("venuecode-sync-poison-")?;
    let server = Server::start(tmp.path())?;
    let data = provisioned_station(tmp.path(), &server.keys)?;
    let mut store = Store::open(&data)?;
    enrol(&mut store, &data, &server.url, "100001")?;
    let venue = store.binding()?.context("bound")?.venue_id;
    let now = Utc::now();
    let mut ids = Vec::new();
    for n in 0..9 {
        ids.push(store.record(&draft(&venue, now, n), PresenceEffect::Keep)?);
    }
    // Damage one queued payload so the server cannot even parse the batch: its answer (400)
    // names no record, which used to block the whole queue behind it forever.
    let poison = ids[5].clone();
    let conn = venuecode_tests::harness::station_db(&data)?;
    let damaged = conn.execute(
        "UPDATE outbox SET payload = ?2 WHERE record_id = ?1",
        rusqlite::params![
            poison,
            format!(r#"{{"kind":"check_in","format":1,"id":"{poison}","venue_id":7}}"#)
        ],
    )?;
    ensure!(damaged == 1, "the poison payload was not written");
    drop(conn);

    let handle = fast_sync(&data, &server.url, 100);
    wait_for("the outbox to settle", WAIT, || {
        let s = handle.status();
        (s.waiting == 0 && s.rejected == 1).then_some(())
    })?;
    handle.stop();
    let mut held = server_ids(&server)?;
    held.sort();
    let mut expected: Vec<String> = ids.iter().filter(|i| **i != poison).cloned().collect();
    expected.sort();
    ensure!(
        held == expected,
        "server holds {held:?}, expected {expected:?}"
    );
    // The poison record is kept on the station, set aside with the server's reason.
    ensure!(store.count("check_ins")? == 9);
    ensure!(store.outbox_counts()? == (0, 1));
    let conn = venuecode_tests::harness::station_db(&data)?;
    let reason: String = conn.query_row(
        "SELECT rejected FROM outbox WHERE record_id = ?1",
        [&poison],
        |r| r.get(0),
    )?;
    ensure!(reason.starts_with("bad_json"), "reason: {reason}");
    Ok(())
}

#[test]
fn a_new_station_receives_100000_revocations_page_by_page() -> Result<()> {
    let tmp = TempDir::new("venuecode-sync-revocations-")?;
    let server = Server::start(tmp.path())?;
    // 100,000 revocations at once, as a health authority's bulk list would arrive (written
    // straight into the server's database in one transaction: the store revokes one at a time).
    let n: u64 = 100_000;
    let mut conn = rusqlite::Connection::open(&server.database)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let tx = conn.transaction()?;
    {
        let mut stmt =
            tx.prepare("INSERT INTO revocations (kind, target, made_ms) VALUES (?1, ?2, ?3)")?;
        for i in 0..n {
            let kind = if i % 10 == 0 { "subject" } else { "code" };
            stmt.execute(rusqlite::params![kind, format!("{i:016x}"), 0i64])?;
        }
    }
    tx.commit()?;
    drop(conn);

    let data = provisioned_station(tmp.path(), &server.keys)?;
    let mut store = Store::open(&data)?;
    enrol(&mut store, &data, &server.url, "100002")?;
    let started = std::time::Instant::now();
    let handle = fast_sync(&data, &server.url, 100);
    wait_for("every revocation", Duration::from_secs(180), || {
        (store.revocation_cursor().ok()? == n).then_some(())
    })?;
    let took = started.elapsed();
    let held: i64 = venuecode_tests::harness::station_db(&data)?.query_row(
        "SELECT count(*) FROM revocations",
        [],
        |r| r.get(0),
    )?;
    ensure!(held == n as i64, "the station holds {held} of {n}");
    use venuecode_core::trust::Revocations;
    let check = store.revocation_check();
    ensure!(check.code_revoked(&format!("{:016x}", n - 1)));
    ensure!(check.subject_revoked(&format!("{:016x}", 10)));
    ensure!(!check.code_revoked(&format!("{:016x}", n + 1)));
    // The round that stored the last page finishes (and marks the trust list fresh) a moment
    // after the cursor moves: wait for it rather than read the status at once (it raced once
    // in CI: cursor at 100,000, round not yet done).
    wait_for("the round to finish", Duration::from_secs(30), || {
        let wire = handle.status().to_wire(handle.trusted_now());
        (!wire.trust_stale && wire.last_error.is_none()).then_some(())
    })
    .map_err(|e| {
        let wire = handle.status().to_wire(handle.trusted_now());
        e.context(format!("{wire:?}"))
    })?;
    eprintln!("{n} revocations reached a new station in {took:?} (pages of 5,000)");
    handle.stop();
    Ok(())
}

/// One person's code scanned at 阿拉尔市人民医院 and, moments later, at 幸福路农贸市场 (1.4 km
/// away) by two real stations: after both sync, the server's `sighting-alerts` command lists
/// the pair — once, though each station's upload ran the detection.
#[test]
fn one_code_at_two_venues_at_once_is_listed_by_the_server() -> Result<()> {
    use venuecode_app::station;
    use venuecode_core::health_code::Color;
    use venuecode_ipc::TemperatureInput;
    use venuecode_tests::station::demo_code;
    let tmp = TempDir::new("venuecode-sightings-")?;
    let server = Server::start(tmp.path())?;
    let (text, _) = demo_code(&server.keys, Color::Green, 0, 24)?;
    let mut stations = Vec::new();
    for (dir, declaration) in [("hospital", "100001"), ("market", "100003")] {
        let data = provisioned_station(&tmp.path().join(dir), &server.keys)?;
        let mut store = Store::open(&data)?;
        enrol(&mut store, &data, &server.url, declaration)?;
        let handle = fast_sync(&data, &server.url, 50);
        wait_for("the first pull", WAIT, || {
            handle.status().trust_fetched_at.is_some().then_some(())
        })?;
        stations.push((data, store, handle));
    }
    for (data, store, handle) in &mut stations {
        let fresh = station::freshness(store, &handle.time())?;
        let v = station::submit(
            store,
            data,
            &text,
            TemperatureInput::Normal,
            handle.trusted_now(),
            fresh,
        )?;
        ensure!(v.pass, "the green code passes at each gate: {v:?}");
        handle.sync_now();
    }
    wait_for("both scans to reach the server", WAIT, || {
        (server_ids(&server).ok()?.len() == 2).then_some(())
    })?;
    for (_, _, handle) in &stations {
        ensure!(handle.status().rejected == 0, "{:?}", handle.status());
    }
    let out = std::process::Command::new(venuecode_tests::harness::binary("venuecode-server")?)
        .arg("--database")
        .arg(&server.database)
        .args(["sighting-alerts", "--hours", "1"])
        .output()?;
    ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = String::from_utf8(out.stdout)?;
    let lines: Vec<&str> = listed.lines().collect();
    ensure!(lines.len() == 1, "one pair, listed once: {listed}");
    let cols: Vec<&str> = lines[0].split('\t').collect();
    // The pair is listed earlier scan first; each station stamps its scan with its own trusted
    // clock, so two scans milliseconds apart may come in either order.
    let mut venues = [cols.get(3).copied(), cols.get(5).copied()];
    venues.sort();
    ensure!(
        cols.get(1) == Some(&"two_places")
            && venues == [Some("demo-venue-0001"), Some("demo-venue-0003")],
        "{listed}"
    );
    Ok(())
}

/// The deployment rotates its root (`venuecode rotate root`) while a station runs: once the
/// server restarts with the new server part, the station follows the hand-over chain from the
/// root it pinned, keeps the new root, loads the trust list the new root signed, and still
/// verifies codes; after its own restart it starts from the new root. A station provisioned
/// with the old root and enrolled only after the rotation follows the chain at enrolment.
#[test]
fn a_running_station_follows_a_root_rotation() -> Result<()> {
    use venuecode_core::health_code::Color;
    use venuecode_tests::harness::{keygen, start_server};
    use venuecode_tests::procs::free_port;
    use venuecode_tests::station::demo_code;
    let tmp = TempDir::new("venuecode-root-rotation-")?;
    let keys = keygen(tmp.path())?;
    let old_root = std::fs::read_to_string(keys.join("root.pub"))?;
    let port = free_port()?;
    let url = format!("https://127.0.0.1:{port}");
    let db = tmp.path().join("server.db");
    let db = db.to_str().context("path")?;
    let demo = keys.join("demo-issuer");
    let extra = ["--demo-issuer", demo.to_str().context("path")?];
    let server = start_server(port, db, &keys, &extra)?;

    let data = provisioned_station(&tmp.path().join("a"), &keys)?;
    let late = provisioned_station(&tmp.path().join("b"), &keys)?;
    let mut store = Store::open(&data)?;
    enrol(&mut store, &data, &url, "100001")?;
    let handle = fast_sync(&data, &url, 50);
    wait_for("the first pull", WAIT, || {
        let s = handle.status();
        (s.trust_version == 1 && s.last_error.is_none()).then_some(())
    })?;

    let v = venuecode_keys::rotate_root(&keys, Utc::now(), 30)?;
    ensure!(v == 2);
    let new_root = std::fs::read_to_string(keys.join("root.pub"))?;
    ensure!(new_root != old_root);
    drop(server);
    let server = start_server(port, db, &keys, &extra)?;
    // A pull at once (the trust list otherwise comes with the next scheduled pull).
    handle.sync_now();
    wait_for("the station to follow the new root", WAIT, || {
        let s = handle.status();
        (s.trust_version == 2 && s.last_error.is_none()).then_some(())
    })
    .with_context(|| format!("{:?}", handle.status()))?;
    ensure!(store.succeeded_root()?.as_deref() == Some(new_root.trim()));
    let (green, _) = demo_code(&keys, Color::Green, 0, 24)?;
    let trust = venuecode_app::checking::station_trust(&mut store, &data, handle.trusted_now());
    let check = venuecode_app::checking::check(
        &green,
        trust,
        &store.revocation_check(),
        handle.trusted_now(),
    );
    ensure!(check.valid, "{check:?}");
    // After a restart the station starts from the new root (the pinned old one is outranked).
    handle.stop();
    drop(handle);
    let handle = fast_sync(&data, &url, 50);
    handle.sync_now();
    wait_for("a round after the restart", WAIT, || {
        let s = handle.status();
        (s.last_success.is_some() && s.trust_version == 2 && s.last_error.is_none()).then_some(())
    })?;
    ensure!(
        venuecode_app::checking::root_key(&mut store, &data)
            .ok()
            .map(|k| k.to_hex())
            == Some(new_root.trim().to_string())
    );
    // Provisioned before the rotation (old root.pub), enrolled after it.
    let mut late_store = Store::open(&late)?;
    ensure!(late_store.pinned_root()?.is_none());
    std::fs::write(late.join("trust/root.pub"), &old_root)?;
    enrol(&mut late_store, &late, &url, "100002")?;
    ensure!(late_store.succeeded_root()?.as_deref() == Some(new_root.trim()));
    drop(server);
    Ok(())
}

/// A station replaces its device key when the key is past its age: the server hands the binding
/// to the new key and refuses the old one; records made before and after arrive. A rotation left
/// half-done (the new key kept, the answer lost) is finished with that same key.
#[test]
fn a_station_rotates_its_device_key_and_keeps_delivering() -> Result<()> {
    use venuecode_app::sync::SyncHandle;
    use venuecode_tests::station::fast_config;
    let tmp = TempDir::new("venuecode-key-rotation-")?;
    let server = Server::start(tmp.path())?;
    let data = provisioned_station(tmp.path(), &server.keys)?;
    let mut store = Store::open(&data)?;
    enrol(&mut store, &data, &server.url, "100003")?;
    let first = store.device()?.context("device")?.device_id;
    let venue = store.binding()?.context("bound")?.venue_id;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(store.record(&draft(&venue, Utc::now(), n), PresenceEffect::Keep)?);
    }
    let config = venuecode_app::sync::SyncConfig {
        key_max_age: chrono::Duration::seconds(2),
        ..fast_config(&server.url, 50)
    };
    let handle = TestSync(SyncHandle::start(&data, Some(server.url.clone()), config));
    wait_for("the key to be replaced", WAIT, || {
        let s = handle.status();
        (s.device_id.as_deref().is_some_and(|d| d != first) && s.last_error.is_none()).then_some(())
    })?;
    handle.stop();
    drop(handle);
    let second = store.device()?.context("device")?.device_id;
    ensure!(second != first && store.pending_device_key()?.is_none());
    let server_store = venuecode_server::store::open(server.database.to_str().context("path")?)?;
    ensure!(server_store.device(&first)?.context("old device")?.revoked);
    ensure!(!server_store.device(&second)?.context("new device")?.revoked);

    // A rotation left half-done: the new key is kept, the server never asked. The next round
    // finishes it with that very key; records made meanwhile arrive under it.
    let (pending, pending_id) = venuecode_app::sync::new_device_key()?;
    store.set_pending_device_key(&pending)?;
    for n in 3..6 {
        ids.push(store.record(&draft(&venue, Utc::now(), n), PresenceEffect::Keep)?);
    }
    let handle = TestSync(SyncHandle::start(
        &data,
        Some(server.url.clone()),
        fast_config(&server.url, 50),
    ));
    handle.sync_now();
    wait_for(
        "the half-done rotation to finish and the records to arrive",
        WAIT,
        || {
            let held = server_ids(&server).ok()?;
            (store.device().ok()??.device_id == pending_id && ids.iter().all(|i| held.contains(i)))
                .then_some(())
        },
    )?;
    ensure!(server_store.device(&second)?.context("second")?.revoked);
    let log: Vec<String> = server_store
        .device_events(&pending_id)?
        .into_iter()
        .map(|e| e.actor)
        .collect();
    ensure!(log == [format!("rotated from {second}")], "{log:?}");
    Ok(())
}

/// One inspector, several venues: a station enrolled at the hospital enrols at the market with
/// the market's code (a key of its own there; the hospital is parked, not lost); enrolling with
/// the hospital's code again switches back under the hospital's key (no new device on the
/// server). Records of both venues reach the server, each under its own venue and key, whichever
/// is active; when the hospital unbinds the parked key, its refusal is noted on the hospital and
/// the market's records still flow.
#[test]
fn one_station_serves_two_venues_each_under_its_own_key() -> Result<()> {
    let tmp = TempDir::new("venuecode-two-venues-")?;
    let server = Server::start(tmp.path())?;
    let data = provisioned_station(tmp.path(), &server.keys)?;
    let mut store = Store::open(&data)?;
    let now = Utc::now();

    enrol(&mut store, &data, &server.url, "100001")?;
    let hospital = store.binding()?.context("bound")?.venue_id;
    let hospital_key = store.device()?.context("device")?.device_id;
    let mut expected = Vec::new();
    for n in 0..3 {
        let id = store.record(&draft(&hospital, now, n), PresenceEffect::Keep)?;
        expected.push((id, hospital.clone()));
    }

    enrol(&mut store, &data, &server.url, "100003")?;
    let market = store.binding()?.context("bound")?.venue_id;
    let market_key = store.device()?.context("device")?.device_id;
    ensure!(market != hospital && market_key != hospital_key);
    let parked = store.parked_venues()?;
    ensure!(parked.len() == 1 && parked[0].binding.venue_id == hospital);
    ensure!(
        store.outbox_counts()?.0 == 3,
        "the hospital's records still wait"
    );
    for n in 10..12 {
        let id = store.record(&draft(&market, now, n), PresenceEffect::Keep)?;
        expected.push((id, market.clone()));
    }

    // The hospital's code again: back to the hospital under its own key.
    enrol(&mut store, &data, &server.url, "100001")?;
    ensure!(store.binding()?.context("bound")?.venue_id == hospital);
    ensure!(store.device()?.context("device")?.device_id == hospital_key);
    let devices: i64 = rusqlite::Connection::open(&server.database)?.query_row(
        "SELECT count(*) FROM devices",
        [],
        |r| r.get(0),
    )?;
    ensure!(devices == 2, "one key per venue, no more: {devices}");
    let listed = venuecode_app::station_venues::list(&store)?;
    ensure!(
        listed.len() == 2 && listed[0].active && listed[0].venue_id == hospital,
        "{listed:?}"
    );
    ensure!(listed[1].venue_id == market && listed[1].waiting == 2);

    // The market active again: both venues' records are delivered, each as its own venue's.
    store.switch_venue(&market)?;
    let handle = fast_sync(&data, &server.url, 50);
    wait_for("all five records on the server", WAIT, || {
        (server_ids(&server).ok()?.len() == 5).then_some(())
    })?;
    let db = rusqlite::Connection::open(&server.database)?;
    for (id, venue) in &expected {
        let (held, device): (String, String) = db.query_row(
            "SELECT venue_id, device_id FROM check_ins WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let key = if *venue == hospital {
            &hospital_key
        } else {
            &market_key
        };
        ensure!(held == *venue && device == *key, "{id}: {held} by {device}");
    }

    // The hospital unbinds this station: its parked key is refused, noted on the hospital; the
    // market's records still flow.
    let server_store = venuecode_server::store::open(server.database.to_str().context("path")?)?;
    ensure!(server_store.set_revoked(&hospital_key, true, "test", Utc::now())?);
    store.record(&draft(&hospital, Utc::now(), 20), PresenceEffect::Keep)?;
    handle.wake();
    wait_for("the hospital's refusal noted", WAIT, || {
        store
            .parked_venues()
            .ok()?
            .iter()
            .any(|p| p.problem.as_deref() == Some("device_revoked"))
            .then_some(())
    })?;
    let market_now = store.record(&draft(&market, Utc::now(), 21), PresenceEffect::Keep)?;
    handle.wake();
    wait_for("the market's new record on the server", WAIT, || {
        server_ids(&server)
            .ok()?
            .contains(&market_now)
            .then_some(())
    })?;
    // The server stores a batch before the station hears its acknowledgement.
    wait_for("only the hospital's record to wait, kept", WAIT, || {
        (store.outbox_counts().ok()?.0 == 1).then_some(())
    })?;
    handle.stop();
    Ok(())
}
