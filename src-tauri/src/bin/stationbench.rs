//! `stationbench`: the station's numbers — scan-to-verdict latency (frame arrival to a verdict
//! ready to render: decode, verify, gate rule, record) and, with 1,000,000 check-ins in the local
//! database, the insert and counter times. Run with `--release`.
//!
//! Usage: `stationbench [ROWS]` (default 1000000). Prints one line per figure with its target.

use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{Duration, Utc};
use venuecode_app::station::{self, AUTO_CLOSE};
use venuecode_app::store::Store;
use venuecode_core::health_code::{self, Color, HealthClaims, Pseudonym};
use venuecode_core::keys::SecretKey;
use venuecode_ipc::{StationBinding, TemperatureInput};
use venuecode_scan::live::{LiveConfig, LiveDecoder};
use venuecode_scan::synth::{render, Conditions};

fn pct(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn main() -> Result<()> {
    let rows: i64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let now = Utc::now();
    let issuer = SecretKey::from_seed(&[2; 32]);
    venuecode_app::checking::write_test_trust(
        dir.path(),
        &SecretKey::from_seed(&[1; 32]),
        "BENCH-HC",
        &issuer,
        now,
    )?;
    let mut store = Store::open(dir.path())?;
    store.set_binding(&station::from_wire(&StationBinding {
        venue_id: "V-BENCH".into(),
        venue_name: "bench".into(),
        checkpoint_id: "g1".into(),
        inspector: "bench".into(),
        direction: venuecode_ipc::Direction::Entry,
    })?)?;

    // Seed: `rows` check-ins over the 28-day retention window, in bulk through a second connection.
    let t = Instant::now();
    {
        let (mut conn, _) = venuecode_app::store::open_keyed(dir.path())?;
        conn.pragma_update(None, "synchronous", "OFF")?;
        let tx = conn.transaction()?;
        {
            let mut ins = tx.prepare(
                "INSERT INTO check_ins (id, venue_id, checkpoint_id, inspector, direction, at, day,
                    temperature, verdict, reasons, fever, subject, name_masked, color)
                 VALUES (?1, 'V-BENCH', 'g1', 'bench', 'entry', ?2, ?3, 'normal', ?4, '', 0, ?5,
                    '张*', 'green')",
            )?;
            // Each passing check-in is also one of the venue's passages (what presence reads),
            // as `Store::record` writes it.
            let mut passage = tx.prepare(
                "INSERT INTO passages (id, venue_id, subject, checkpoint_id, direction, at, source)
                 VALUES (?1, 'V-BENCH', ?3, 'g1', 'entry', ?2, 'own')",
            )?;
            for i in 0..rows {
                let at = now - Duration::seconds(i * 28 * 86_400 / rows.max(1));
                let day = at
                    .with_timezone(&station::zone())
                    .format("%Y-%m-%d")
                    .to_string();
                let verdict = if i % 50 == 0 { "refuse" } else { "pass" };
                ins.execute(rusqlite::params![
                    format!("seed-{i:08}"),
                    at.to_rfc3339(),
                    day,
                    verdict,
                    format!("{:024x}", i)
                ])?;
                if verdict == "pass" {
                    passage.execute(rusqlite::params![
                        format!("seed-{i:08}"),
                        at.to_rfc3339(),
                        format!("{:024x}", i)
                    ])?;
                }
            }
        }
        tx.commit()?;
    }
    println!(
        "seeded {rows} check-ins in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Scan-to-verdict: a frame arrives with a fresh code in view; decode, verify, decide, record.
    let mut live = LiveDecoder::new(LiveConfig::default());
    let mut latency = Vec::new();
    let mut inserts = Vec::new();
    for i in 0..200u32 {
        let claims = HealthClaims {
            issuer: "BENCH-HC".into(),
            issued_at: now,
            expires_at: now + Duration::minutes(10),
            code_id: (u64::from(i) + 1).to_be_bytes(),
            subject: Pseudonym([(i % 251) as u8 + 1; 12]),
            name_masked: "张*".into(),
            phone_masked: "138****8000".into(),
            id_masked: "1101**********002X".into(),
            color: Color::Green,
            color_since: now - Duration::days(3),
            nat: None,
            guardian: None,
            medium: venuecode_core::health_code::Medium::Screen,
        };
        let text = health_code::issue(&issuer, &claims);
        let c = Conditions {
            rotation_deg: (i % 20) as f32 - 10.0,
            module_px: 4.0,
            noise: 4.0,
            ..Conditions::default()
        };
        let (frame, _) = render(&text, 640, 480, &c, u64::from(i)).context("render")?;
        let t = Instant::now();
        let found = live.on_frame(&frame, u64::from(i) * 5000);
        let Some(code) = found.new.first() else {
            continue;
        };
        let t_record = Instant::now();
        let v = station::submit(
            &mut store,
            dir.path(),
            &code.text,
            TemperatureInput::Normal,
            Utc::now(),
            // Measures the gate path itself: a fresh station.
            venuecode_core::sync::Freshness::default(),
        )?;
        let done = t.elapsed().as_secs_f64() * 1000.0;
        if v.recorded {
            latency.push(done);
            inserts.push(t_record.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let n = latency.len();
    println!(
        "scan-to-verdict ({n} frames 640x480): p50 {:.1} ms p95 {:.1} ms (target p95 ≤ 150 ms)",
        pct(&mut latency, 0.5),
        pct(&mut latency, 0.95)
    );
    println!(
        "verify + decide + record with fsync, {rows} rows: p50 {:.2} ms p95 {:.2} ms",
        pct(&mut inserts, 0.5),
        pct(&mut inserts, 0.95)
    );

    // Bare insert of a check-in (+ outbox row, one transaction, fsync), and the counters.
    let binding = store.binding()?.context("bound")?;
    let code = Err(venuecode_core::codes::CodeError::Expired {
        expired_at: now,
        now,
    });
    let policy = venuecode_core::gate::Policy::default();
    let mut insert = Vec::new();
    for _ in 0..500 {
        let decision = venuecode_core::gate::decide(venuecode_core::gate::GateInput {
            code: &code,
            temperature: venuecode_core::gate::Temperature::Normal,
            direction: venuecode_core::gate::Direction::Entry,
            presence: venuecode_core::gate::Presence::Outside,
            policy: &policy,
            now,
        });
        let draft = venuecode_core::checkin::draft(
            &binding,
            &code,
            venuecode_core::gate::Temperature::Normal,
            &decision,
            Utc::now(),
            station::zone(),
        );
        let t = Instant::now();
        store.record(&draft, decision.presence)?;
        insert.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "insert (check-in + outbox, one transaction, fsync) with {rows} rows: p50 {:.2} ms p95 {:.2} ms (target p95 ≤ 2 ms)",
        pct(&mut insert, 0.5),
        pct(&mut insert, 0.95)
    );
    let mut counters = Vec::new();
    let day = now
        .with_timezone(&station::zone())
        .format("%Y-%m-%d")
        .to_string();
    let mut last = None;
    for _ in 0..200 {
        let t = Instant::now();
        last = Some(store.counters("V-BENCH", &day, Utc::now(), AUTO_CLOSE)?);
        counters.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "counters with {rows} rows ({:?}): p50 {:.2} ms p95 {:.2} ms (target ≤ 20 ms)",
        last.context("counters")?,
        pct(&mut counters, 0.5),
        pct(&mut counters, 0.95)
    );
    Ok(())
}
