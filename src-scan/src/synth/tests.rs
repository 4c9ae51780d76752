//! The synthetic conditions' floors: each condition a gate sees, rendered with fixed seeds.

use super::*;
use crate::Scanner;

const TEXT: &str = "JKM1:6BFOXN*TS0BI$ZD.P9UOL97O4-2HH77HRM3HSZS3AA6A3D";

/// The conditions a gate sees, each with the fraction of seeds that must decode. Seeds are
/// fixed, so the rates are deterministic: everyday conditions must decode every seed; for the
/// hard levels the floor is what the pipeline measured when it was set, less one seed, so a
/// regression shows and an improvement is free to land (then raise the floor).
fn conditions() -> Vec<(&'static str, Conditions, f32)> {
    let base = Conditions::default();
    let mut v = vec![("frontal", base.clone(), 1.0)];
    for deg in [15.0, 30.0, 45.0, -45.0] {
        v.push((
            match deg as i32 {
                15 => "rotate 15°",
                30 => "rotate 30°",
                45 => "rotate 45°",
                _ => "rotate -45°",
            },
            Conditions {
                rotation_deg: deg,
                ..base.clone()
            },
            1.0,
        ));
    }
    v.push((
        "perspective 0.2 + 20°",
        Conditions {
            tilt: 0.2,
            rotation_deg: 20.0,
            ..base.clone()
        },
        1.0,
    ));
    v.push((
        "perspective 0.35",
        Conditions {
            tilt: 0.35,
            ..base.clone()
        },
        1.0,
    ));
    v.push((
        "blur r1",
        Conditions {
            blur: 1,
            module_px: 5.0,
            ..base.clone()
        },
        1.0,
    ));
    v.push((
        "blur r2",
        Conditions {
            blur: 2,
            module_px: 6.0,
            ..base.clone()
        },
        1.0,
    ));
    v.push((
        "noise σ12",
        Conditions {
            noise: 12.0,
            ..base.clone()
        },
        1.0,
    ));
    v.push((
        "noise σ25",
        Conditions {
            noise: 25.0,
            module_px: 5.0,
            ..base.clone()
        },
        1.0,
    ));
    v.push((
        "glare",
        Conditions {
            glare: 0.6,
            ..base.clone()
        },
        1.0,
    ));
    v.push((
        "low contrast 0.3",
        Conditions {
            contrast: 0.3,
            noise: 4.0,
            ..base.clone()
        },
        1.0,
    ));
    v.push((
        "paper texture",
        Conditions {
            paper: 30.0,
            rotation_deg: 8.0,
            ..base.clone()
        },
        1.0,
    ));
    v.push((
        "screen moiré",
        Conditions {
            moire: 25.0,
            module_px: 5.0,
            ..base.clone()
        },
        1.0,
    ));
    v.push((
        "inverted",
        Conditions {
            invert: true,
            ..base.clone()
        },
        1.0,
    ));
    v.push((
        "small modules 2.5 px",
        Conditions {
            module_px: 2.5,
            ..base.clone()
        },
        1.0,
    ));
    // Harder levels: where the pipeline's limits are.
    v.push((
        "perspective 0.5 + 30°",
        Conditions {
            tilt: 0.5,
            rotation_deg: 30.0,
            ..base.clone()
        },
        0.9,
    ));
    v.push((
        "blur r3",
        Conditions {
            blur: 3,
            module_px: 6.0,
            ..base.clone()
        },
        0.9,
    ));
    v.push((
        "noise σ45",
        Conditions {
            noise: 45.0,
            module_px: 5.0,
            ..base.clone()
        },
        0.9,
    ));
    v.push((
        "glare 1.0",
        Conditions {
            glare: 1.0,
            ..base.clone()
        },
        0.6,
    ));
    v.push((
        "contrast 0.12 + noise",
        Conditions {
            contrast: 0.12,
            noise: 6.0,
            ..base.clone()
        },
        0.7,
    ));
    v.push((
        "moiré 60",
        Conditions {
            moire: 60.0,
            module_px: 5.0,
            ..base.clone()
        },
        0.9,
    ));
    v.push((
        "modules 1.7 px",
        Conditions {
            module_px: 1.7,
            ..base.clone()
        },
        0.9,
    ));
    v.push((
        "everything at once",
        Conditions {
            rotation_deg: 25.0,
            tilt: 0.25,
            blur: 1,
            noise: 15.0,
            glare: 0.4,
            contrast: 0.5,
            paper: 20.0,
            module_px: 5.0,
            ..base
        },
        0.6,
    ));
    v
}

#[test]
fn render_is_deterministic_and_corners_are_inside() {
    let c = Conditions {
        rotation_deg: 30.0,
        noise: 5.0,
        ..Conditions::default()
    };
    let (a, ca) = render(TEXT, 320, 240, &c, 7).unwrap();
    let (b, _) = render(TEXT, 320, 240, &c, 7).unwrap();
    assert_eq!(a, b);
    for (x, y) in ca {
        assert!((0.0..320.0).contains(&x) && (0.0..240.0).contains(&y));
    }
    assert_eq!(
        render(&"A".repeat(9000), 64, 64, &c, 1).unwrap_err(),
        SynthError::TooLong
    );
}

#[test]
fn decode_rate_per_condition_meets_its_floor() {
    const SEEDS: u64 = 10;
    let mut failures = Vec::new();
    println!("{:<24} decoded", "condition");
    for (name, cond, floor) in conditions() {
        let mut ok = 0;
        for seed in 0..SEEDS {
            let (img, _) = render(TEXT, 320, 320, &cond, seed).unwrap();
            if Scanner::default().scan(&img).iter().any(|f| f.text == TEXT) {
                ok += 1;
            }
        }
        let rate = ok as f32 / SEEDS as f32;
        println!("{name:<24} {ok}/{SEEDS}");
        if rate < floor {
            failures.push(format!("{name}: {ok}/{SEEDS} < {floor}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
