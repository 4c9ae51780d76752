//! Headless gates for the tests of presence shared between a venue's gates (`tests/gates.rs`):
//! a `gatesim` process driven line by line, a deployment (keys, a server that can be stopped and
//! started, demo codes), a private network namespace for real DNS-SD, and a TCP forwarder that
//! can be cut to partition the gates.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;

use crate::harness::{binary, keygen, start_server, tempdir::TempDir};
use crate::procs::{free_port, ProcGuard};
use crate::station::green_code_of;

/// The hospital (正门 main, 东门 east) and the market (北门 main, 南门 south): declaration codes.
pub const HOSPITAL: &str = "100001";
pub const MARKET: &str = "100003";
/// People with valid ID numbers (GB 11643 check digits).
pub const PEOPLE: [(&str, &str); 6] = [
    ("11010519491231002X", "张三"),
    ("650102201501010013", "李四"),
    ("440524198001010013", "王五"),
    ("110105198001010032", "赵六"),
    ("110105198505050046", "钱七"),
    ("110105195001010020", "孙八"),
];

/// One gate's station process.
pub struct Gate {
    pub name: &'static str,
    pub proc: ProcGuard,
    pub input: ChildStdin,
    pub output: BufReader<ChildStdout>,
    pub device: String,
    pub port: u16,
}

pub struct GateOpts<'a> {
    pub name: &'static str,
    pub declaration: &'a str,
    pub checkpoint: &'a str,
    pub bind_port: Option<u16>,
    pub peers: Vec<String>,
    pub mdns: bool,
    pub relay: bool,
}

impl Gate {
    /// Enrols a gate's station and lets it pull once, then stops it (installed, not running).
    pub fn install(
        tmp: &Path,
        keys: &Path,
        server: &str,
        name: &str,
        checkpoint: &str,
    ) -> Result<()> {
        let status = Command::new(binary("gatesim")?)
            .arg("--data")
            .arg(tmp.join(name))
            .args(["--server", server])
            .args(["--declaration", HOSPITAL])
            .args(["--checkpoint", checkpoint])
            .arg("--root-pub")
            .arg(keys.join("root.pub"))
            .arg("--ca")
            .arg(keys.join("ca.pem"))
            .arg("--enrol-only")
            .stdout(Stdio::null())
            .status()?;
        ensure!(status.success(), "installing {name}: {status}");
        Ok(())
    }

    pub fn start(tmp: &Path, keys: &Path, server: &str, o: GateOpts<'_>) -> Result<Gate> {
        let mut cmd = Command::new(binary("gatesim")?);
        cmd.arg("--data")
            .arg(tmp.join(o.name))
            .args(["--server", server])
            .args(["--declaration", o.declaration])
            .args(["--checkpoint", o.checkpoint])
            .args(["--inspector", o.name])
            .arg("--root-pub")
            .arg(keys.join("root.pub"))
            .arg("--ca")
            .arg(keys.join("ca.pem"))
            .args([
                "--lan-bind",
                &format!("127.0.0.1:{}", o.bind_port.unwrap_or(0)),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if !o.peers.is_empty() {
            cmd.args(["--lan-peers", &o.peers.join(",")]);
        }
        if o.mdns {
            cmd.arg("--lan-loopback");
        } else {
            cmd.arg("--no-mdns");
        }
        if !o.relay {
            cmd.arg("--no-relay");
        }
        let mut proc = ProcGuard::spawn(&format!("gatesim {}", o.name), cmd)?;
        let input = proc.take_stdin().context("stdin")?;
        let mut output = BufReader::new(proc.take_stdout().context("stdout")?);
        let mut line = String::new();
        output.read_line(&mut line)?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let ["ready", device, port] = words.as_slice() else {
            bail!("{}: expected `ready`, got {line:?}", o.name);
        };
        Ok(Gate {
            name: o.name,
            device: device.to_string(),
            port: port.parse()?,
            proc,
            input,
            output,
        })
    }

    pub fn ask(&mut self, line: &str) -> Result<Value> {
        writeln!(self.input, "{line}")?;
        self.input.flush()?;
        let mut out = String::new();
        self.output.read_line(&mut out)?;
        let (kind, json) = out
            .trim()
            .split_once(' ')
            .with_context(|| format!("{}: {out:?}", self.name))?;
        ensure!(kind != "error", "{}: {json}", self.name);
        Ok(serde_json::from_str(json)?)
    }

    pub fn scan(&mut self, direction: &str, code: &str) -> Result<Value> {
        self.ask(&format!("scan {direction} {code}"))
    }

    pub fn state(&mut self) -> Result<State> {
        let v = self.ask("state")?;
        Ok(State {
            ids: v["ids"]
                .as_array()
                .context("ids")?
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            inside: v["inside"].as_i64().context("inside")?,
            by_gate: serde_json::from_value(v["by_gate"].clone())?,
            peers: serde_json::from_value(v["peers"].clone())?,
            refused: v["refused"].as_u64().unwrap_or(0),
            capacity: v["capacity"].as_u64(),
        })
    }

    pub fn quit(mut self) -> Result<()> {
        let _ = writeln!(self.input, "quit");
        let _ = self.input.flush();
        let status = self.proc.wait_exit(Duration::from_secs(15))?;
        ensure!(status.success(), "{} exited with {status}", self.name);
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub ids: BTreeSet<String>,
    pub inside: i64,
    pub by_gate: BTreeMap<String, i64>,
    pub peers: Vec<String>,
    pub refused: u64,
    pub capacity: Option<u64>,
}

/// Waits until `f` holds on `gate`'s state; returns how long it took.
pub fn until(
    gate: &mut Gate,
    what: &str,
    limit: Duration,
    f: impl Fn(&State) -> bool,
) -> Result<Duration> {
    let started = Instant::now();
    loop {
        let s = gate.state()?;
        if f(&s) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > limit {
            bail!("{}: {what} not within {limit:?}: {s:?}", gate.name);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Runs the calling test again inside a private network namespace (a user namespace maps the
/// caller to root there) whose loopback is up and carries multicast, so mDNS works on loopback
/// and nothing else on the machine is heard. True when the caller is inside and runs the
/// scenario; false when it was the outer process and the inner run passed.
pub fn inside_private_network(test: &str) -> Result<bool> {
    if std::env::var_os("VENUECODE_IN_NETNS").is_some() {
        return Ok(true);
    }
    let exe = std::env::current_exe()?;
    let status = Command::new("unshare")
        .args(["--net", "--map-root-user", "sh", "-c"])
        .arg("ip link set lo up && ip link set lo multicast on && exec \"$0\" \"$@\"")
        .arg(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("VENUECODE_IN_NETNS", "1")
        .status()
        .context("unshare (util-linux) and ip (iproute2) run the test in its own network")?;
    ensure!(
        status.success(),
        "{test} failed inside its private network (output above)"
    );
    Ok(false)
}

pub struct Deployment {
    pub tmp: TempDir,
    pub keys: PathBuf,
    pub port: u16,
    pub db: PathBuf,
    pub server: Option<ProcGuard>,
}

impl Deployment {
    pub fn start(name: &str) -> Result<Deployment> {
        let tmp = TempDir::new(name)?;
        let keys = keygen(tmp.path())?;
        let db = tmp.path().join("server.db");
        let mut d = Deployment {
            port: free_port()?,
            keys,
            db,
            server: None,
            tmp,
        };
        d.server_up()?;
        Ok(d)
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn server_up(&mut self) -> Result<()> {
        let db = self.db.to_str().context("utf-8 path")?.to_string();
        self.server = Some(start_server(self.port, &db, &self.keys, &[])?);
        Ok(())
    }

    pub fn server_down(&mut self) -> Result<()> {
        if let Some(mut p) = self.server.take() {
            p.kill9()?;
        }
        Ok(())
    }

    pub fn gate(&self, o: GateOpts<'_>) -> Result<Gate> {
        Gate::start(self.tmp.path(), &self.keys, &self.url(), o)
    }

    pub fn code(&self, person: usize) -> Result<String> {
        let (id, name) = PEOPLE[person];
        Ok(green_code_of(&self.keys, id, name)?.0)
    }

    /// The ids of a venue's check-ins at the server, and how many rows hold them.
    pub fn server_ids(&self, venue: &str) -> Result<(BTreeSet<String>, usize)> {
        let conn = rusqlite::Connection::open_with_flags(
            &self.db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        let mut stmt = conn.prepare("SELECT id FROM check_ins WHERE venue_id = ?1")?;
        let ids: Vec<String> = stmt
            .query_map([venue], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok((ids.iter().cloned().collect(), ids.len()))
    }
}

pub fn gate_opts(
    name: &'static str,
    declaration: &'static str,
    checkpoint: &'static str,
) -> GateOpts<'static> {
    GateOpts {
        name,
        declaration,
        checkpoint,
        bind_port: None,
        peers: vec![],
        mdns: true,
        relay: true,
    }
}

pub fn pass(v: &Value) -> bool {
    v["pass"].as_bool() == Some(true)
}

pub fn reasons(v: &Value) -> Vec<String> {
    serde_json::from_value(v["reasons"].clone()).unwrap_or_default()
}

/// A TCP forwarder that can be cut (new connections refused, open ones shut).
pub struct Forwarder {
    pub port: u16,
    pub cut: Arc<AtomicBool>,
    pub open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Forwarder {
    pub fn start(target: u16) -> Result<Forwarder> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let cut = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (c, o) = (cut.clone(), open.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(down) = conn else { continue };
                if c.load(Ordering::SeqCst) {
                    let _ = down.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(up) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                // The cut is checked again under the lock `set_cut` drains with: a connection
                // accepted just before a cut is either drained by it or refused here, never kept.
                {
                    let Ok(mut list) = o.lock() else { continue };
                    if c.load(Ordering::SeqCst) {
                        let _ = down.shutdown(Shutdown::Both);
                        let _ = up.shutdown(Shutdown::Both);
                        continue;
                    }
                    if let (Ok(d2), Ok(u2)) = (down.try_clone(), up.try_clone()) {
                        list.push(d2);
                        list.push(u2);
                    }
                }
                let (mut d1, mut u1) = (down, up);
                let (mut d3, mut u3) = match (d1.try_clone(), u1.try_clone()) {
                    (Ok(a), Ok(b)) => (a, b),
                    _ => continue,
                };
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut d1, &mut u1);
                    let _ = u1.shutdown(Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut u3, &mut d3);
                    let _ = d3.shutdown(Shutdown::Write);
                });
            }
        });
        Ok(Forwarder { port, cut, open })
    }

    pub fn set_cut(&self, cut: bool) {
        let Ok(mut list) = self.open.lock() else {
            self.cut.store(cut, Ordering::SeqCst);
            return;
        };
        self.cut.store(cut, Ordering::SeqCst);
        if cut {
            for s in list.drain(..) {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}
