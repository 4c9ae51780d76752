//! A real platform keystore for tests: a private D-Bus session bus with GNOME Keyring's Secret
//! Service on it, unlocked with a throwaway password.
//!
//! The bus has no service directories, so nothing is activated behind the test's back (a second,
//! locked keyring would prompt); the daemon keeps its keyrings and sockets under the test's
//! directory. Both processes are owned by guards and stop with the [`Keyring`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{ensure, Context, Result};

use crate::procs::{wait_for, ProcGuard};

/// A running Secret Service on a private session bus.
pub struct Keyring {
    /// `DBUS_SESSION_BUS_ADDRESS` of the private bus.
    pub address: String,
    dir: PathBuf,
    // Drop order: the keyring daemon before its bus.
    _daemon: ProcGuard,
    _bus: ProcGuard,
}

impl Keyring {
    /// Starts the bus and the keyring daemon under `dir` and waits until the Secret Service
    /// answers.
    pub fn start(dir: &Path) -> Result<Keyring> {
        let dir = dir.to_path_buf();
        let runtime = dir.join("run");
        std::fs::create_dir_all(&runtime)?;
        std::fs::create_dir_all(dir.join("data"))?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))?;
        }
        let socket = dir.join("bus");
        let config = dir.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )?;
        let mut cmd = Command::new("dbus-daemon");
        cmd.arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let bus = ProcGuard::spawn("dbus-daemon", cmd)?;
        wait_for("the private D-Bus socket", Duration::from_secs(10), || {
            socket.exists().then_some(())
        })?;
        let address = format!("unix:path={}", socket.display());

        let mut cmd = Command::new("gnome-keyring-daemon");
        cmd.args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("HOME", &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut daemon = ProcGuard::spawn("gnome-keyring-daemon", cmd)?;
        {
            // The login keyring's password on standard input, then end of file.
            let mut stdin = daemon.take_stdin().context("keyring daemon's stdin")?;
            stdin.write_all(b"venuecode-test-keyring")?;
        }
        let keyring = Keyring {
            address,
            dir,
            _daemon: daemon,
            _bus: bus,
        };
        wait_for(
            "the Secret Service on the bus",
            Duration::from_secs(20),
            || {
                let out = keyring
                    .command("dbus-send")
                    .args([
                        "--session",
                        "--print-reply",
                        "--dest=org.freedesktop.DBus",
                        "/",
                        "org.freedesktop.DBus.NameHasOwner",
                        "string:org.freedesktop.secrets",
                    ])
                    .output()
                    .ok()?;
                String::from_utf8_lossy(&out.stdout)
                    .contains("boolean true")
                    .then_some(())
            },
        )?;
        Ok(keyring)
    }

    /// A command that talks to this keyring's bus.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("XDG_RUNTIME_DIR", self.dir.join("run"));
        cmd
    }

    /// The secret stored under `service` and `username`, through `secret-tool`.
    pub fn lookup(&self, service: &str, username: &str) -> Result<String> {
        let out = self
            .command("secret-tool")
            .args(["lookup", "service", service, "username", username])
            .output()
            .context("secret-tool")?;
        ensure!(
            out.status.success(),
            "no secret {service}/{username} in the keyring"
        );
        Ok(String::from_utf8(out.stdout)?.trim().to_string())
    }

    /// Opens a station's database (in `data_dir`, or a copy of it) with the database key this
    /// keyring holds for the station its `keystore.json` names.
    pub fn open_station_db(&self, data_dir: &Path) -> Result<rusqlite::Connection> {
        let marker: serde_json::Value =
            serde_json::from_slice(&std::fs::read(data_dir.join("keystore.json"))?)?;
        ensure!(
            marker["kind"] == "platform",
            "the station keeps its keys in {marker}"
        );
        let station = marker["station"].as_str().context("station id")?;
        let key = self.lookup("venuecode-station", &format!("{station}/database"))?;
        let conn = rusqlite::Connection::open(data_dir.join("station.db"))?;
        conn.execute_batch(&format!("PRAGMA key = \"x'{key}'\";"))?;
        conn.busy_timeout(Duration::from_secs(5))?;
        Ok(conn)
    }
}
