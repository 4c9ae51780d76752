//! Child processes owned by guards, free ports, and waiting on conditions with a deadline.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// A child process started in its own process group; dropping the guard kills the group.
pub struct ProcGuard {
    name: String,
    child: Child,
}

impl ProcGuard {
    /// Starts `cmd` in a new process group.
    pub fn spawn(name: &str, mut cmd: Command) -> Result<ProcGuard> {
        cmd.process_group(0);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {name} ({cmd:?})"))?;
        Ok(ProcGuard {
            name: name.to_string(),
            child,
        })
    }

    /// Process id (and process group id) of the child.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process at once (SIGKILL), as a crash or a power cut would, and reaps it.
    pub fn kill9(&mut self) -> Result<()> {
        self.child
            .kill()
            .with_context(|| format!("killing {}", self.name))?;
        self.child.wait()?;
        Ok(())
    }

    /// Takes the child's piped standard output.
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }

    /// Copies the child's piped standard error, line by line, to the end of `log` (every line)
    /// and to the test's output (the lines `echo` picks), until the child closes it.
    pub fn log_stderr(&mut self, log: &std::path::Path, echo: fn(&str) -> bool) -> Result<()> {
        use std::io::{BufRead, Write};
        let stderr = self.child.stderr.take().context("stderr is not piped")?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(file, "{line}");
                if echo(&line) {
                    eprintln!("{line}");
                }
            }
        });
        Ok(())
    }

    /// Takes the child's piped standard input (dropping it closes the child's input).
    pub fn take_stdin(&mut self) -> Option<std::process::ChildStdin> {
        self.child.stdin.take()
    }

    /// Waits for the child to exit, up to `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<std::process::ExitStatus> {
        let name = self.name.clone();
        wait_for(&format!("{name} to exit"), timeout, || {
            self.child.try_wait().ok().flatten()
        })
    }

    /// Fails if the child has already exited.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited early with {status}", self.name);
        }
        Ok(())
    }
}

impl Drop for ProcGuard {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

/// Ports handed out by [`free_port`]: below Linux's ephemeral range (32768–60999), so no outgoing
/// connection of this machine — a webdriver's, an HTTP client's — can take one between the moment
/// it is chosen and the moment the child binds it (that race failed CI: "Address already in use").
const TEST_PORTS: std::ops::Range<u32> = 20_000..32_000;

/// A TCP port on loopback, free when chosen and outside the ephemeral range; each call in a
/// process moves on to the next port, so two children started by one test never get the same
/// one (`pgcluster::free_port_in`, which the test clusters use with their own range).
pub fn free_port() -> Result<u16> {
    Ok(venuecode_server::pgcluster::free_port_in(TEST_PORTS)?)
}

/// Polls `f` until it returns `Some`, or fails with `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
