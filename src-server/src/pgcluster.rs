//! A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` into a temp dir, `pg_ctl`
//! on a free loopback port, removed on drop. Uses the apt `postgresql` binaries. A benchmark
//! whose load takes half an hour may keep its cluster in a directory instead (`keep_in`).
//!
//! Invariants: nothing outside the temp dir is touched and no system service is assumed; when the
//! process runs as root, the cluster runs as the `postgres` user (initdb refuses root); the
//! cluster is stopped (immediate mode) when the value drops, even after a failed test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Why a cluster could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    #[error(
        "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (or {DIR_VAR}): install them \
         (`./x setup` does, or `apt install postgresql`), or set {SKIP_VAR}=1 to skip the \
         PostgreSQL tests on purpose"
    )]
    NoBinaries,
    #[error("{step}: {message}")]
    Step { step: &'static str, message: String },
}

fn step(step: &'static str) -> impl Fn(std::io::Error) -> ClusterError {
    move |e| ClusterError::Step {
        step,
        message: e.to_string(),
    }
}

/// The variable a developer without PostgreSQL sets (to `1`) to skip its tests on purpose.
/// Without it, a missing PostgreSQL fails the tests that need it.
pub const SKIP_VAR: &str = "VENUECODE_SKIP_POSTGRES";

/// Starts a cluster for the tests named by `what`. PostgreSQL missing is an error unless
/// [`SKIP_VAR`] is `1`; then this returns `Ok(None)` after printing a notice straight to the
/// process's stderr (not through `eprintln!`, which the test harness captures and hides).
pub fn start_for_tests(what: &str) -> Result<Option<TempCluster>, ClusterError> {
    match TempCluster::start() {
        Ok(c) => Ok(Some(c)),
        Err(ClusterError::NoBinaries) if std::env::var(SKIP_VAR).as_deref() == Ok("1") => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "\n!!! SKIPPED ({SKIP_VAR}=1): PostgreSQL is not installed; {what} untested !!!\n"
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The variable naming where PostgreSQL's versions are installed, when not `/usr/lib/postgresql`.
pub const DIR_VAR: &str = "VENUECODE_PG_DIR";

/// Where `initdb` and `pg_ctl` live (`<root>/<version>/bin`), newest version first.
pub fn binaries() -> Option<PathBuf> {
    let root = std::env::var_os(DIR_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql"));
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").is_file() && b.join("pg_ctl").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

/// A running throwaway cluster (or, from [`TempCluster::keep_in`], a benchmark's kept one).
pub struct TempCluster {
    bin: PathBuf,
    /// The cluster's directory: the temp dir's, or the kept one's.
    root: PathBuf,
    /// Removes the directory on drop; `None` for a kept cluster.
    _temp: Option<tempfile::TempDir>,
    port: u16,
    as_postgres: bool,
    /// Set by [`TempCluster::require_tls`]: server options and the `pg_hba.conf` that refuses
    /// plain connections over TCP.
    tls: bool,
    /// Server settings beyond the test defaults (`key=value`), from [`TempCluster::start_with`].
    settings: Vec<String>,
}

/// Hands `paths` (recursively) to the `postgres` user, which the cluster runs as under root.
fn chown_to_postgres(paths: &[&Path]) -> Result<(), ClusterError> {
    let status = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .args(paths)
        .status()
        .map_err(step("chown to postgres"))?;
    if status.success() {
        Ok(())
    } else {
        Err(ClusterError::Step {
            step: "chown to postgres",
            message: status.to_string(),
        })
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl TempCluster {
    /// Starts a fresh cluster; [`ClusterError::NoBinaries`] when PostgreSQL is not installed.
    pub fn start() -> Result<TempCluster, ClusterError> {
        TempCluster::start_with(&[])
    }

    /// [`TempCluster::start`] with server settings (`key=value`, as `postgres -c` takes them)
    /// after the test defaults, which they override: the benchmarks configure a production-like
    /// server this way.
    pub fn start_with(settings: &[&str]) -> Result<TempCluster, ClusterError> {
        let bin = binaries().ok_or(ClusterError::NoBinaries)?;
        let dir = tempfile::Builder::new()
            .prefix("venuecode-pg-")
            .tempdir()
            .map_err(step("creating the cluster directory"))?;
        let root = dir.path().to_path_buf();
        let cluster = TempCluster::new(bin, root, Some(dir), settings)?;
        cluster.init()?;
        cluster.start_server()?;
        Ok(cluster)
    }

    /// A cluster kept in `dir` across runs, for benchmarks whose load takes half an hour:
    /// created there (initdb) when `dir` holds none, else started over what it holds. Stopped
    /// (fast, so the next start needs no recovery) but not removed on drop. The cluster and
    /// whether it was created now.
    pub fn keep_in(dir: &Path, settings: &[&str]) -> Result<(TempCluster, bool), ClusterError> {
        let bin = binaries().ok_or(ClusterError::NoBinaries)?;
        std::fs::create_dir_all(dir).map_err(step("creating the cluster directory"))?;
        let root = dir
            .canonicalize()
            .map_err(step("finding the cluster directory"))?;
        let cluster = TempCluster::new(bin, root, None, settings)?;
        let fresh = !cluster.data_dir().join("PG_VERSION").is_file();
        if fresh {
            let _ = std::fs::remove_dir_all(cluster.data_dir());
            cluster.init()?;
        }
        cluster.start_server()?;
        Ok((cluster, fresh))
    }

    fn new(
        bin: PathBuf,
        root: PathBuf,
        temp: Option<tempfile::TempDir>,
        settings: &[&str],
    ) -> Result<TempCluster, ClusterError> {
        let as_postgres = is_root();
        if as_postgres {
            chown_to_postgres(&[&root])?;
        }
        let port = free_port_in(CLUSTER_PORTS).map_err(step("finding a free port"))?;
        Ok(TempCluster {
            bin,
            root,
            _temp: temp,
            port,
            as_postgres,
            tls: false,
            settings: settings.iter().map(|s| s.to_string()).collect(),
        })
    }

    fn init(&self) -> Result<(), ClusterError> {
        let data = self.data_dir();
        self.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap_or_default(),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ],
        )
    }

    fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, tool: &'static str, args: &[&str]) -> Result<(), ClusterError> {
        let out = self
            .command(tool)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(step(tool))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(ClusterError::Step {
                step: tool,
                message: format!(
                    "{}: {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            })
        }
    }

    /// Starts the (stopped) server again on the same port and waits until it accepts connections.
    pub fn start_server(&self) -> Result<(), ClusterError> {
        let data = self.data_dir();
        let log = self.root.join("server.log");
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=60 \
             -c shared_buffers=128MB -c synchronous_commit=on",
            self.port,
            self.root.display()
        );
        for s in &self.settings {
            options.push_str(" -c ");
            options.push_str(s);
        }
        if self.tls {
            options.push_str(" -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key");
        }
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap_or_default(),
                "-l",
                log.to_str().unwrap_or_default(),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )?;
        self.wait_ready(Duration::from_secs(30))
    }

    /// A URL over the cluster's local socket (set-up keeps working when TCP requires TLS).
    fn socket_url(&self) -> String {
        format!(
            "host={} port={} user=postgres dbname=postgres connect_timeout=5",
            self.root.display(),
            self.port
        )
    }

    fn wait_ready(&self, limit: Duration) -> Result<(), ClusterError> {
        let start = Instant::now();
        loop {
            if postgres::Client::connect(&self.socket_url(), postgres::NoTls).is_ok() {
                return Ok(());
            }
            if start.elapsed() > limit {
                return Err(ClusterError::Step {
                    step: "waiting for the server",
                    message: format!("not accepting connections after {limit:?}"),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The connection URL (database `postgres`, user `postgres`, no password).
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?connect_timeout=5",
            self.port
        )
    }

    /// Creates an empty database and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, ClusterError> {
        let mut c =
            postgres::Client::connect(&self.socket_url(), postgres::NoTls).map_err(|e| {
                ClusterError::Step {
                    step: "connecting",
                    message: e.to_string(),
                }
            })?;
        c.batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .map_err(|e| ClusterError::Step {
                step: "creating a database",
                message: e.to_string(),
            })?;
        Ok(format!(
            "postgres://postgres@127.0.0.1:{}/{name}?connect_timeout=5",
            self.port
        ))
    }

    /// Restarts the cluster serving TLS with `cert` and `key` (PEM) and refusing plain TCP
    /// connections (`hostssl` only in `pg_hba.conf`; the local socket stays open for set-up).
    pub fn require_tls(&mut self, cert: &Path, key: &Path) -> Result<(), ClusterError> {
        self.stop("fast")?;
        let data = self.data_dir();
        std::fs::copy(cert, data.join("server.crt")).map_err(step("copying the certificate"))?;
        std::fs::copy(key, data.join("server.key")).map_err(step("copying the key"))?;
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .map_err(step("writing pg_hba.conf"))?;
        let key_path = data.join("server.key");
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))
                .map_err(step("chmod server.key"))?;
        }
        if self.as_postgres {
            chown_to_postgres(&[
                &data.join("server.crt"),
                &key_path,
                &data.join("pg_hba.conf"),
            ])?;
        }
        self.tls = true;
        self.start_server()
    }

    /// Stops the server abruptly (as a crash would) and starts it again on the same port.
    pub fn restart(&self) -> Result<(), ClusterError> {
        self.stop("immediate")?;
        self.start_server()
    }

    /// Stops the server (`mode`: smart, fast or immediate).
    pub fn stop(&self, mode: &str) -> Result<(), ClusterError> {
        let data = self.data_dir();
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                if mode == "immediate" {
                    "immediate"
                } else {
                    "fast"
                },
                "-w",
                "stop",
            ],
        )
    }

    /// The cluster's directory (data and log).
    pub fn path(&self) -> &Path {
        &self.root
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        let _ = self.stop(if self._temp.is_some() {
            "immediate"
        } else {
            "fast"
        });
    }
}

/// Ports for clusters: below Linux's ephemeral range, apart from the tests' own range
/// (20000–31999; see [`free_port_in`]).
const CLUSTER_PORTS: std::ops::Range<u32> = 12_000..20_000;

/// A TCP port on loopback in `range`, free when chosen. Ranges below Linux's ephemeral range
/// (32768–60999) keep outgoing connections of this machine — a webdriver's, an HTTP client's —
/// from taking the port between the moment it is chosen and the moment a child or PostgreSQL
/// binds it (binding port 0 hands out exactly those: a race that failed CI with "Address already
/// in use"). Each call in a process moves on to the next port, from a start that depends on the
/// process id, so two picks of one process never collide.
pub fn free_port_in(range: std::ops::Range<u32>) -> std::io::Result<u16> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let span = range.end.saturating_sub(range.start).max(1);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919),
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..span {
        let offset = NEXT.fetch_add(1, Ordering::SeqCst) % span;
        let Ok(port) = u16::try_from(range.start + offset) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        format!("no free TCP port on loopback in {range:?}"),
    ))
}
