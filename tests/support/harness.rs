//! The end-to-end harness: Xvfb, a real `venuecode-server` on loopback with demo data, and
//! tauri-driver launching the real `venuecode-app` binary with a throwaway data directory.
//!
//! Paths: binaries come from `$VENUECODE_BIN_DIR` (set by `./x test`), else
//! `$CARGO_TARGET_DIR/debug`, else `target/debug`. Screenshots go to
//! `$VENUECODE_TEST_OUTPUT/screenshots/` (default `test-output/screenshots/` at the repo root).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{bail, Context, Result};

pub use crate::display::{save_screenshot_of, screenshot_dir, Xvfb};
use crate::procs::{free_port, wait_for, ProcGuard};
use crate::webdriver::Session;

static SERIAL: Mutex<()> = Mutex::new(());

/// One end-to-end test at a time: the machine has two cores and one virtual display each.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    // The run-time value first: a binary reused from a shared build cache may have been compiled
    // in another checkout.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Where the built binaries are.
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("VENUECODE_BIN_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(d).join("debug");
    }
    repo_root().join("target/debug")
}

/// A built binary, or an error saying how to build it.
pub fn binary(name: &str) -> Result<PathBuf> {
    let path = bin_dir().join(name);
    if !path.is_file() {
        bail!(
            "{} is missing: build it first (./x test does: cargo build -p venuecode-app -p venuecode-server -p venuecode-cli --bins)",
            path.display()
        );
    }
    Ok(path)
}

/// A `venuecode-server` on a free loopback port with demo data, a deployment key directory
/// (`keys`, from `venuecode keygen`) and the demo issuer on; over https with the deployment's
/// own CA (`keys/ca.pem`), unless started plain for a test proxy that reads HTTP.
pub struct Server {
    pub url: String,
    pub keys: PathBuf,
    pub database: PathBuf,
    _proc: ProcGuard,
    port: u16,
    extra: Vec<String>,
}

/// A blocking HTTP client that trusts the deployment CA in `keys/ca.pem` (and only it).
pub fn client_for(keys: &Path) -> Result<reqwest::blocking::Client> {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(keys.join("ca.pem"))?)?;
    Ok(reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .build()?)
}

/// Runs a `SELECT count(*) …` on a SQLite file, read-only (the app or server may be writing it).
pub fn sqlite_count(db: &Path, sql: &str) -> Result<i64> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    Ok(conn.query_row(sql, [], |r| r.get(0))?)
}

/// Opens a station's encrypted database with the station's key (read from its key store, as the
/// station itself does).
pub fn station_db(data_dir: &Path) -> Result<rusqlite::Connection> {
    let (conn, _) = venuecode_app::store::open_keyed(data_dir)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// Runs a `SELECT count(*) …` on a station's encrypted database.
pub fn station_count(data_dir: &Path, sql: &str) -> Result<i64> {
    Ok(station_db(data_dir)?.query_row(sql, [], |r| r.get(0))?)
}

/// Makes a demo deployment key directory (`venuecode keygen --demo`) at `dir/keys`: the server
/// gets `keys/server`, the demo issuer `keys/demo-issuer`, stations `keys/root.pub`.
pub fn keygen(dir: &Path) -> Result<PathBuf> {
    let keys = dir.join("keys");
    let status = Command::new(binary("venuecode")?)
        .args(["keygen", "--demo"])
        .arg("--out")
        .arg(&keys)
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("venuecode keygen failed");
    }
    Ok(keys)
}

/// Starts `venuecode-server` on `127.0.0.1:port` over `database` (a SQLite path or a
/// PostgreSQL URL) with the demo venues and the server part of the deployment in `keys`
/// (`keys/server`), plus `extra` arguments, and waits until it answers its health check —
/// over https (the deployment's TLS), or http when `extra` holds `--plain-http`.
pub fn start_server(port: u16, database: &str, keys: &Path, extra: &[&str]) -> Result<ProcGuard> {
    let mut cmd = Command::new(binary("venuecode-server")?);
    cmd.args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--database", database])
        .arg("--keys")
        .arg(keys.join("server"))
        .arg("--demo")
        .args(extra)
        // Everything from info up goes to `server.log` beside the keys (read back by tests that
        // check logs carry no personal data); only warnings and errors show in the test output.
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut proc = ProcGuard::spawn("venuecode-server", cmd)?;
    proc.log_stderr(&server_log(keys), |line| {
        line.contains(" WARN ") || line.contains(" ERROR ")
    })?;
    let plain = extra.contains(&"--plain-http");
    let http = client_for(keys)?;
    let scheme = if plain { "http" } else { "https" };
    let url = format!("{scheme}://127.0.0.1:{port}/api/v1/health");
    wait_for("server health", Duration::from_secs(30), || {
        if proc.check_alive().is_err() {
            return Some(Err(anyhow::anyhow!("venuecode-server exited")));
        }
        http.get(&url)
            .send()
            .ok()
            .filter(|r| r.status().is_success())
            .map(|_| Ok(()))
    })??;
    Ok(proc)
}

/// Where [`start_server`] writes the server's log: beside its key directory.
pub fn server_log(keys: &Path) -> PathBuf {
    keys.parent().unwrap_or(keys).join("server.log")
}

impl Server {
    /// The server's log so far (every start appends to it).
    pub fn log(&self) -> PathBuf {
        server_log(&self.keys)
    }

    /// Starts the server over https with its database and keys in `dir` and waits until it
    /// answers.
    pub fn start(dir: &Path) -> Result<Server> {
        Server::start_with(dir, false)
    }

    /// [`Server::start`] over plain HTTP, for a test proxy that reads HTTP between station and
    /// server (the station then runs with its development flag).
    pub fn start_plain(dir: &Path) -> Result<Server> {
        Server::start_with(dir, true)
    }

    fn start_with(dir: &Path, plain: bool) -> Result<Server> {
        let port = free_port()?;
        let keys = keygen(dir)?;
        let database = dir.join("server.db");
        let demo_issuer = keys.join("demo-issuer");
        let venue_authority = keys.join("venue-authority");
        let tracing = keys.join("tracing");
        let web_dir = repo_root().join("dist/resident");
        let mut extra = vec![
            "--demo-issuer",
            demo_issuer.to_str().context("non-UTF-8 temp path")?,
            "--venue-authority",
            venue_authority.to_str().context("non-UTF-8 temp path")?,
            "--tracing-keys",
            tracing.to_str().context("non-UTF-8 temp path")?,
            "--web-dir",
            web_dir.to_str().context("non-UTF-8 repository path")?,
        ];
        if plain {
            extra.push("--plain-http");
        }
        let proc = start_server(
            port,
            database.to_str().context("non-UTF-8 temp path")?,
            &keys,
            &extra,
        )?;
        let scheme = if plain { "http" } else { "https" };
        Ok(Server {
            url: format!("{scheme}://127.0.0.1:{port}"),
            keys,
            database,
            _proc: proc,
            port,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// Stops the server at once (killed, as a power cut would).
    pub fn stop(&mut self) -> Result<()> {
        self._proc.kill9()
    }

    /// Starts a stopped server again on the same port and database.
    pub fn start_again(&mut self) -> Result<()> {
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        self._proc = start_server(
            self.port,
            self.database.to_str().context("non-UTF-8 temp path")?,
            &self.keys,
            &extra,
        )?;
        Ok(())
    }

    /// A client that trusts this server's certificate.
    pub fn http(&self) -> Result<reqwest::blocking::Client> {
        client_for(&self.keys)
    }

    /// A green demo code (张三, a negative test 30 h ago) from the server's demo issuer.
    pub fn green_code(&self) -> Result<String> {
        let res: serde_json::Value = self
            .http()?
            .post(format!("{}/api/v1/demo/codes", self.url))
            .json(&serde_json::json!({
                "name": "张三", "phone": "13900139000", "id_number": "11010519491231002X",
                "color": "green", "nat": {"result": "negative", "hours_ago": 30}
            }))
            .send()?
            .error_for_status()?
            .json()?;
        Ok(res["code"]
            .as_str()
            .context("no code in the answer")?
            .to_string())
    }
}

/// Everything one end-to-end test needs; dropping it stops every process it started.
pub struct Env {
    pub data_dir: PathBuf,
    pub server: Server,
    /// The attacker between app and server, when started with [`Env::start_behind_proxy`].
    pub proxy: Option<crate::tamperproxy::TamperProxy>,
    driver_url: String,
    app: PathBuf,
    // Field order is drop order: the driver (and the app under it) goes before the display and
    // the keyring.
    _driver: ProcGuard,
    xvfb: Xvfb,
    /// The Secret Service the app keeps its keys in, when started with [`Env::start_with_keyring`].
    pub keyring: Option<crate::keyring::Keyring>,
    _tmp: tempdir::TempDir,
}

pub mod tempdir {
    //! Throwaway directories for tests: the `tempfile` crate's, named with a prefix.
    use std::path::Path;

    /// A directory removed on drop.
    pub struct TempDir(tempfile::TempDir);

    impl TempDir {
        pub fn new(prefix: &str) -> std::io::Result<TempDir> {
            Ok(TempDir(
                tempfile::Builder::new()
                    .prefix(&format!("{prefix}-"))
                    .tempdir()?,
            ))
        }

        pub fn path(&self) -> &Path {
            self.0.path()
        }
    }
}

impl Env {
    /// Starts Xvfb, the server and tauri-driver; the app starts with [`Env::open_app`].
    pub fn start() -> Result<Env> {
        Env::start_with(false, false, &[])
    }

    /// [`Env::start`] with more environment for the app (e.g. its LAN settings).
    pub fn start_with_app_env(app_env: &[(&str, String)]) -> Result<Env> {
        Env::start_with(false, false, app_env)
    }

    /// [`Env::start`] with a real Secret Service (GNOME Keyring on a private bus) in which the
    /// app keeps its database and pseudonym keys, as on a desktop with a keyring.
    pub fn start_with_keyring() -> Result<Env> {
        Env::start_with(false, true, &[])
    }

    /// [`Env::start`] with a tampering proxy (honest until told otherwise) between the app and
    /// the server: the app's server address is the proxy's.
    pub fn start_behind_proxy() -> Result<Env> {
        Env::start_with(true, false, &[])
    }

    fn start_with(
        behind_proxy: bool,
        with_keyring: bool,
        app_env: &[(&str, String)],
    ) -> Result<Env> {
        let tmp = tempdir::TempDir::new("venuecode-e2e")?;
        let data_dir = tmp.path().join("station");
        std::fs::create_dir_all(&data_dir)?;
        let data_dir = data_dir.canonicalize()?;
        let app = binary("venuecode-app")?;
        let server = if behind_proxy {
            Server::start_plain(tmp.path())?
        } else {
            Server::start(tmp.path())?
        };
        let proxy = if behind_proxy {
            let upstream = server
                .url
                .trim_start_matches("http://")
                .parse()
                .context("server address")?;
            Some(crate::tamperproxy::TamperProxy::start(upstream)?)
        } else {
            None
        };
        let app_server_url = proxy.as_ref().map_or(server.url.clone(), |p| p.url());
        let keyring = if with_keyring {
            Some(crate::keyring::Keyring::start(&tmp.path().join("keyring"))?)
        } else {
            None
        };
        let xvfb = Xvfb::start()?;
        let (port, mut cmd) = driver_command(&xvfb.display, &data_dir)?;
        cmd.envs(app_env.iter().map(|(k, v)| (*k, v.as_str())));
        cmd.env("VENUECODE_SERVER_URL", &app_server_url)
            // Posters are saved in the test's scratch folder, not the person's documents.
            .env("VENUECODE_POSTER_DIR", tmp.path().join("posters"))
            // Behind the (plain HTTP) tampering proxy the app runs with its development flag.
            .env("VENUECODE_ALLOW_HTTP", if behind_proxy { "1" } else { "0" })
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("NO_AT_BRIDGE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // Keys in the private keyring, or in key files (never the person's own keyring).
        match &keyring {
            Some(k) => cmd
                .env("DBUS_SESSION_BUS_ADDRESS", &k.address)
                .env("VENUECODE_KEYSTORE", "platform"),
            None => cmd.env("VENUECODE_KEYSTORE", "file"),
        };
        let mut driver = ProcGuard::spawn("tauri-driver", cmd)?;
        // The app's (and the drivers') standard error: all of it in `app.log`, and on show.
        driver.log_stderr(&tmp.path().join("app.log"), |_| true)?;
        let driver_url = format!("http://127.0.0.1:{port}");
        wait_for_driver(&mut driver, &driver_url)?;
        Ok(Env {
            data_dir,
            server,
            proxy,
            keyring,
            driver_url,
            app,
            _driver: driver,
            xvfb,
            _tmp: tmp,
        })
    }

    /// The logs this test's processes wrote: the server's and the app's (with its drivers').
    pub fn logs(&self) -> Vec<PathBuf> {
        vec![self.server.log(), self._tmp.path().join("app.log")]
    }

    /// A scratch folder of this test, removed with the environment.
    pub fn scratch(&self) -> PathBuf {
        self._tmp.path().to_path_buf()
    }

    /// Saves a screenshot of the app window at its default size (1280×800 at the top left of the
    /// virtual screen; see [`save_screenshot_of`]).
    pub fn screenshot(&self, name: &str) -> Result<PathBuf> {
        save_screenshot_of(&self.xvfb.display, name, Some((0, 0, 1280, 800)))
    }

    /// Checks that the current screen fits in landscape and in portrait (see [`crate::fit`]) and
    /// saves `<name>-landscape.png` and `<name>-portrait.png`, each cropped to the window.
    pub fn check_fit(&self, s: &Session, name: &str) -> Result<()> {
        crate::fit::check_both(s, name, |shot| {
            let rect = s.window_rect()?;
            save_screenshot_of(&self.xvfb.display, shot, Some(rect)).map(|_| ())
        })
    }

    /// Launches the app window and waits until the UI has loaded its settings; on the role
    /// choice (a station not bound yet, nobody signed in) it chooses the station.
    pub fn open_app(&self) -> Result<Session> {
        let session = Session::start(&self.driver_url, &self.app.to_string_lossy())?;
        wait_for_ready(&session)?;
        Ok(session)
    }

    /// A second app instance on the same display and server (another gate of a venue): its own
    /// data directory (provisioned with the deployment's root key and CA), its own driver, and
    /// `app_env` for the app. Key files, like the first.
    pub fn open_second_app(&self, app_env: &[(&str, String)]) -> Result<SecondApp> {
        let data_dir = self._tmp.path().join("station-2");
        std::fs::create_dir_all(data_dir.join("trust"))?;
        for f in ["root.pub", "ca.pem"] {
            std::fs::copy(self.server.keys.join(f), data_dir.join("trust").join(f))?;
        }
        let data_dir = data_dir.canonicalize()?;
        let (port, mut cmd) = driver_command(&self.xvfb.display, &data_dir)?;
        cmd.env("VENUECODE_SERVER_URL", &self.server.url)
            .env("VENUECODE_POSTER_DIR", self._tmp.path().join("posters-2"))
            .env("VENUECODE_ALLOW_HTTP", "0")
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("NO_AT_BRIDGE", "1")
            .env("VENUECODE_KEYSTORE", "file")
            .envs(app_env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut driver = ProcGuard::spawn("tauri-driver (second app)", cmd)?;
        driver.log_stderr(&self._tmp.path().join("app-2.log"), |_| true)?;
        let driver_url = format!("http://127.0.0.1:{port}");
        wait_for_driver(&mut driver, &driver_url)?;
        let session = Session::start(&driver_url, &self.app.to_string_lossy())?;
        wait_for_ready(&session)?;
        Ok(SecondApp {
            data_dir,
            session,
            _driver: driver,
        })
    }

    /// A screenshot of the whole virtual screen (1280×1280): two windows side by side.
    pub fn screenshot_screen(&self, name: &str) -> Result<PathBuf> {
        save_screenshot_of(&self.xvfb.display, name, None)
    }

    /// Launches the app window and waits until the UI is ready, choosing nothing.
    pub fn open_app_as_is(&self) -> Result<Session> {
        let session = Session::start(&self.driver_url, &self.app.to_string_lossy())?;
        wait_for_shell(&session)?;
        Ok(session)
    }
}

/// A second app instance ([`Env::open_second_app`]); dropping it stops its driver and app.
pub struct SecondApp {
    pub data_dir: PathBuf,
    pub session: Session,
    _driver: ProcGuard,
}

/// tauri-driver on free ports for an app on `display` keeping its data in `data_dir`: the
/// driver's port and the command (the caller adds the app's environment).
fn driver_command(display: &str, data_dir: &Path) -> Result<(u16, Command)> {
    let port = free_port()?;
    let native_port = free_port()?;
    let mut cmd = Command::new("tauri-driver");
    cmd.args([
        "--port",
        &port.to_string(),
        "--native-port",
        &native_port.to_string(),
        "--native-driver",
        "/usr/bin/WebKitWebDriver",
    ])
    .env("DISPLAY", display)
    .env("VENUECODE_DATA_DIR", data_dir);
    Ok((port, cmd))
}

/// Waits until tauri-driver answers (or fails if it exited).
fn wait_for_driver(driver: &mut ProcGuard, driver_url: &str) -> Result<()> {
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    wait_for("tauri-driver", Duration::from_secs(20), || {
        if driver.check_alive().is_err() {
            return Some(Err(anyhow::anyhow!("tauri-driver exited")));
        }
        http.get(format!("{driver_url}/status"))
            .send()
            .ok()
            .map(|_| Ok(()))
    })?
}

/// [`wait_for_shell`], then the station on the role choice if the app opened on it.
pub fn wait_for_ready(session: &Session) -> Result<()> {
    wait_for_shell(session)?;
    if session.find("#role-choice").is_ok() {
        session.click("#role-station")?;
        wait_for("the station page", Duration::from_secs(20), || {
            session.find("#page-station").ok().map(|_| ())
        })?;
    }
    Ok(())
}

/// Waits until the shell has mounted and read the persisted settings and the kept session.
pub fn wait_for_shell(session: &Session) -> Result<()> {
    let mut last = String::new();
    let waited = wait_for("the UI to load", Duration::from_secs(60), || match session
        .find(".shell[data-ready='true']")
    {
        Ok(_) => Some(()),
        Err(e) => {
            last = format!("{e:#}");
            None
        }
    });
    if waited.is_err() {
        eprintln!("last WebDriver error: {last}");
        let page = session
            .execute("return document.documentElement.outerHTML")
            .map(|v| v.to_string())
            .unwrap_or_else(|e| e.to_string());
        return waited.with_context(|| format!("page was: {page:.2000}"));
    }
    Ok(())
}
