//! `venuecode bench verify`: time health-code verification end to end and by stage, printed side
//! by side with the floor set by the signature check alone.

use std::hint::black_box;
use std::time::Instant;

use anyhow::Result;
use chrono::{Duration, Utc};
use venuecode_core::health_code::{
    self, Color, Guardian, HealthClaims, NatOutcome, NatResult, Pseudonym, Relation,
};
use venuecode_core::keys::SecretKey;
use venuecode_core::trust::{KeyRole, RevocationList, TrustList, TrustedKey};
use venuecode_core::{base45, cose, mask};

fn per_op(n: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..n.min(1000) {
        f();
    }
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

/// Runs the benchmark with `n` iterations per measurement.
pub fn verify(n: u32) -> Result<()> {
    let now = Utc::now();
    let key = SecretKey::from_seed(&[7; 32]);
    let trust = TrustList {
        version: 1,
        issued_at: now,
        expires_at: now + chrono::Duration::days(30),
        keys: vec![TrustedKey {
            issuer: "BENCH-HC".into(),
            key: key.public(),
            role: KeyRole::HealthIssuer,
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(1),
        }],
    };
    let claims = HealthClaims {
        issuer: "BENCH-HC".into(),
        issued_at: now,
        expires_at: now + Duration::minutes(10),
        code_id: [1; 8],
        subject: Pseudonym([2; 12]),
        name_masked: mask::mask_name("张三丰"),
        phone_masked: mask::mask_phone("13800138000"),
        id_masked: mask::mask_id_number("11010519491231002X"),
        color: Color::Green,
        color_since: now - Duration::days(3),
        nat: Some(NatResult {
            outcome: NatOutcome::Negative,
            tested_at: now - Duration::hours(20),
        }),
        guardian: Some(Guardian {
            pseudonym: Pseudonym([3; 12]),
            relation: Relation::Child,
        }),
        medium: venuecode_core::health_code::Medium::Screen,
    };
    let text = health_code::issue(&key, &claims);
    let revs = RevocationList::default();
    let env_bytes = base45::decode(&text[health_code::PREFIX.len()..])?;
    let env = cose::decode(&env_bytes)?;
    let public = key.public();

    let full = per_op(n, || {
        black_box(health_code::verify(black_box(&text), &trust, &revs, now).is_ok());
    });
    let decode = per_op(n, || {
        let b = base45::decode(black_box(&text[5..])).unwrap_or_default();
        black_box(cose::decode(&b).is_ok());
    });
    let sig = per_op(n, || {
        black_box(env.verify(black_box(&public)));
    });
    println!(
        "health code: {} characters (QR alphanumeric), {} bytes signed envelope",
        text.len(),
        env_bytes.len()
    );
    println!("{:<44} {:>10}", "stage", "µs/code");
    println!("{:<44} {:>10.1}", "base45 + COSE decode (ours)", decode);
    println!(
        "{:<44} {:>10.1}",
        "Ed25519 verify_strict alone (ed25519-dalek)", sig
    );
    println!(
        "{:<44} {:>10.1}",
        "full verify (decode+claims+sig+time+revocation)", full
    );
    println!(
        "verify {:.1} µs per code (target ≤ 100 µs); overhead over the bare signature check {:.1} µs",
        full,
        full - sig
    );
    Ok(())
}
