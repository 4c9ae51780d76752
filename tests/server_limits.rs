//! The server under abuse, as a real process on loopback: a client that trickles its request
//! headers is cut off within the header timeout while other clients are served meanwhile.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use venuecode_tests::harness::{keygen, start_server, tempdir::TempDir};
use venuecode_tests::procs::free_port;

#[test]
fn a_slow_client_is_cut_off_while_others_are_served() -> Result<()> {
    let tmp = TempDir::new("venuecode-limits-")?;
    let keys = keygen(tmp.path())?;
    let port = free_port()?;
    let db = tmp.path().join("server.db");
    let _server = start_server(
        port,
        db.to_str().context("path")?,
        &keys,
        &["--header-timeout-secs", "2", "--plain-http"],
    )?;
    // The slow client: half a request line, then nothing.
    let mut slow = TcpStream::connect(("127.0.0.1", port))?;
    slow.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")?;
    let started = Instant::now();
    // Others are served meanwhile, promptly.
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    for _ in 0..5 {
        let t = Instant::now();
        let res = http
            .get(format!("http://127.0.0.1:{port}/api/v1/health"))
            .send()?;
        ensure!(res.status().is_success());
        ensure!(
            t.elapsed() < Duration::from_secs(1),
            "served in {:?}",
            t.elapsed()
        );
    }
    // The slow one is closed by the server within the timeout (plus a margin).
    slow.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut buf = [0u8; 1024];
    let n = match slow.read(&mut buf) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 0,
        Err(e) => return Err(e).context("the slow connection was not closed"),
    };
    let waited = started.elapsed();
    ensure!(
        waited < Duration::from_secs(5),
        "the slow client held its connection for {waited:?}"
    );
    // Closed with nothing or with a 408 at most, never a served request.
    let answer = String::from_utf8_lossy(&buf[..n]);
    ensure!(n == 0 || answer.contains(" 408 "), "answer: {answer}");
    eprintln!("slow client cut off after {waited:?} (header timeout 2 s)");
    Ok(())
}

/// A refused upload with a large body (here: unsigned, 3 MiB) is answered, not reset: the server
/// refuses it before keeping any of the body, then reads and drops the rest so the client, still
/// sending, reads the 401 (a lingering close). Over TLS, as stations and the contract test talk.
#[test]
fn a_refused_large_upload_gets_its_answer_not_a_reset() -> Result<()> {
    use venuecode_tests::harness::client_for;
    let tmp = TempDir::new("venuecode-linger-")?;
    let keys = keygen(tmp.path())?;
    let port = free_port()?;
    let db = tmp.path().join("server.db");
    let _server = start_server(port, db.to_str().context("path")?, &keys, &[])?;
    let http = client_for(&keys)?;
    let body = format!(
        r#"{{"records":[{}]}}"#,
        "\"x\",".repeat(1_000_000) + "\"x\""
    );
    for _ in 0..3 {
        let res = http
            .post(format!("https://127.0.0.1:{port}/api/v1/sync/upload"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .context("the refused upload was reset instead of answered")?;
        ensure!(res.status().as_u16() == 401, "{}", res.status());
    }
    Ok(())
}

/// The server's TLS key rotates (`venuecode rotate tls`): a new key and certificate from the
/// deployment CA, which clients trusting only the unchanged `ca.pem` accept.
#[test]
fn the_server_tls_key_rotates_under_the_pinned_ca() -> Result<()> {
    use venuecode_tests::harness::{binary, client_for};
    let tmp = TempDir::new("venuecode-tls-rotation-")?;
    let keys = keygen(tmp.path())?;
    let ca_before = std::fs::read(keys.join("ca.pem"))?;
    let cert_before = std::fs::read(keys.join("server/tls.crt"))?;
    let key_before = std::fs::read(keys.join("server/tls.key"))?;
    let status = std::process::Command::new(binary("venuecode")?)
        .args(["rotate", "tls", "--keys"])
        .arg(&keys)
        .stdout(std::process::Stdio::null())
        .status()?;
    ensure!(status.success(), "venuecode rotate tls failed");
    ensure!(
        std::fs::read(keys.join("ca.pem"))? == ca_before,
        "the pinned CA changed"
    );
    ensure!(std::fs::read(keys.join("server/tls.crt"))? != cert_before);
    ensure!(std::fs::read(keys.join("server/tls.key"))? != key_before);
    let port = free_port()?;
    let db = tmp.path().join("server.db");
    let _server = start_server(port, db.to_str().context("path")?, &keys, &[])?;
    let res = client_for(&keys)?
        .get(format!("https://127.0.0.1:{port}/api/v1/health"))
        .send()?;
    ensure!(res.status().is_success(), "{}", res.status());
    Ok(())
}
