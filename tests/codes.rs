//! The `venuecode` command end to end: keys, health codes and venue codes issued to PNG and read
//! back by two independent decoders (ZXing-C++ and zbar) to the identical text; verification
//! verdicts and exit codes; ID number checks.

use std::path::Path;
use std::process::{Command, Output};

use venuecode_tests::harness::{binary, repo_root, tempdir::TempDir};

fn venuecode(args: &[&str]) -> Output {
    Command::new(binary("venuecode").unwrap())
        .args(args)
        .output()
        .expect("running venuecode")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn keygen(dir: &Path) {
    let o = venuecode(&["keygen", "--out", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn issued_codes_read_back_with_zbar_and_zxing_to_the_identical_text() {
    let tmp = TempDir::new("venuecode-codes").unwrap();
    let keys = tmp.path().join("keys");
    keygen(&keys);
    let k = keys.to_str().unwrap();
    let mut cases = Vec::new();
    let variants: [&[&str]; 4] = [
        &[
            "--name",
            "张三",
            "--phone",
            "13800138000",
            "--id",
            "11010519491231002X",
        ],
        &[
            "--name",
            "欧阳娜娜",
            "--phone",
            "13912345678",
            "--id",
            "440524198001010013",
            "--color",
            "yellow",
            "--nat",
            "negative:2026-11-20T08:00:00Z",
        ],
        &[
            "--name",
            "阿依古丽·买买提",
            "--phone",
            "13012345678",
            "--id",
            "650102201501010013",
            "--nat",
            "pending:2026-11-21T08:00:00Z",
            "--guardian-id",
            "11010519491231002X",
            "--relation",
            "parent",
        ],
        &[
            "--name",
            "李四",
            "--phone",
            "13800138000",
            "--id",
            "11010519491231002X",
            "--color",
            "red",
        ],
    ];
    for (i, extra) in variants.iter().enumerate() {
        let png = tmp.path().join(format!("health-{i}.png"));
        let mut args = vec!["code", "issue", "--keys", k, "--png", png.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = venuecode(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        cases.push((png, stdout(&o)));
    }
    let png = tmp.path().join("venue.png");
    let o = venuecode(&[
        "venue",
        "issue",
        "--keys",
        k,
        "--venue-id",
        "V-659002-000123",
        "--checkpoint",
        "east-gate",
        "--direction",
        "entry",
        "--name",
        "阿拉尔市人民医院",
        "--region",
        "659002",
        "--category",
        "01",
        "--png",
        png.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    cases.push((png, stdout(&o)));

    let script = repo_root().join("scripts/qr_readback.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&script);
    for (png, _) in &cases {
        cmd.arg(png);
    }
    let o = cmd.output().expect("running scripts/qr_readback.py");
    assert!(
        o.status.success(),
        "qr_readback.py failed (./x setup installs zxing-cpp, pyzbar, pillow): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for (png, text) in &cases {
        for decoder in ["zxing-cpp", "zbar"] {
            let got = &read[png.to_str().unwrap()][decoder];
            assert_eq!(
                got,
                &serde_json::json!([text]),
                "{decoder} read {} differently",
                png.display()
            );
        }
    }
}

#[test]
fn verify_prints_json_and_exit_codes_tell_valid_invalid_and_usage() {
    let tmp = TempDir::new("venuecode-verify").unwrap();
    let keys = tmp.path().join("keys");
    keygen(&keys);
    let k = keys.to_str().unwrap();
    let trust = keys.join("trust.cose");
    let trust = trust.to_str().unwrap();
    let o = venuecode(&[
        "code",
        "issue",
        "--keys",
        k,
        "--name",
        "张三丰",
        "--phone",
        "13800138000",
        "--id",
        "11010519491231002X",
        "--valid-for",
        "10m",
    ]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(text.starts_with("JKM1:"));

    let o = venuecode(&["code", "verify", "--trust", trust, &text]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["name"], "张*丰");
    assert_eq!(v["phone"], "138****8000");
    assert_eq!(v["color"], "green");
    assert!(!stdout(&o).contains("11010519491231002X"), "full ID leaked");

    let later = "2100-01-01T00:00:00Z";
    let o = venuecode(&["code", "verify", "--trust", trust, "--at", later, &text]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (v["valid"].clone(), v["error"].clone()),
        (false.into(), "expired".into())
    );

    // A code from another deployment's issuer is unknown here.
    let other = tmp.path().join("other");
    let o = venuecode(&[
        "keygen",
        "--out",
        other.to_str().unwrap(),
        "--issuer",
        "ELSEWHERE",
    ]);
    assert!(o.status.success());
    let o = venuecode(&[
        "code",
        "issue",
        "--keys",
        other.to_str().unwrap(),
        "--name",
        "张三",
        "--phone",
        "13800138000",
        "--id",
        "11010519491231002X",
    ]);
    let foreign = stdout(&o);
    let o = venuecode(&["code", "verify", "--trust", trust, &foreign]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("\"unknown_issuer\""));

    let o = venuecode(&["code", "verify", "--trust", trust, "garbage"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("\"not_a_code\""));

    // Usage errors: missing argument, missing trust file, bad flag values.
    assert_eq!(venuecode(&["code", "verify"]).status.code(), Some(2));
    assert_eq!(
        venuecode(&[
            "code",
            "verify",
            "--trust",
            "/nonexistent/trust.cose",
            &text
        ])
        .status
        .code(),
        Some(2)
    );
    let o = venuecode(&[
        "code",
        "issue",
        "--keys",
        k,
        "--name",
        "张三",
        "--phone",
        "1",
        "--id",
        "110105194912310021",
        "--color",
        "green",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("check digit"));
}

#[test]
fn id_check_exit_codes_and_reasons() {
    let ok = venuecode(&["id", "check", "11010519491231002x", "--today", "2026-11-22"]);
    assert_eq!(ok.status.code(), Some(0));
    for (number, reason) in [
        ("110105194912310021", "check_digit"),
        ("11010519491231002", "length"),
        ("99010519491231002X", "region"),
        ("110105194902300020", "birth_date"),
    ] {
        let o = venuecode(&["id", "check", number, "--today", "2026-11-22"]);
        assert_eq!(o.status.code(), Some(1), "{number}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&format!("({reason})")), "{number}: {err}");
    }
    assert_eq!(venuecode(&["id", "check"]).status.code(), Some(2));
}
