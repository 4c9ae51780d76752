//! `venuecode-server`: starts the central server on an embedded SQLite file (default) or on
//! PostgreSQL (`--database postgres://…`).
//!
//! Usage: `venuecode-server [--listen ADDR] [--database PATH|URL] [--keys DIR] [--demo]
//! [--demo-issuer]`, or `venuecode-server revoke-device --database PATH|URL DEVICE_ID`. Prints one
//! line `listening on http://ADDR` once it accepts connections, so scripts can wait for it.

use anyhow::{bail, Context};
use venuecode_server::deployment::{Deployment, IssuerKeys};
use venuecode_server::{app, store, AppState};

const USAGE: &str = "usage: venuecode-server [--listen ADDR] [--database PATH|postgres://URL] \
[--keys DIR] [--demo] [--demo-issuer]
       venuecode-server revoke-device [--database PATH|URL] DEVICE_ID

  --listen ADDR     address to listen on (default 127.0.0.1:8730)
  --database DB     SQLite file (default venuecode-server.db) or a postgres:// URL
  --keys DIR        deployment key directory (venuecode keygen): serves its trust list and
                    signs revocation deltas with its root key
  --demo            add the demo venues (declaration codes 100001-100003)
  --demo-issuer     issue demo health codes at POST /api/v1/demo/codes (needs --keys;
                    demo deployments only)";

#[derive(Debug)]
struct Args {
    listen: String,
    database: String,
    keys: Option<std::path::PathBuf>,
    demo: bool,
    demo_issuer: bool,
    revoke: Option<String>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        listen: "127.0.0.1:8730".into(),
        database: "venuecode-server.db".into(),
        keys: None,
        demo: false,
        demo_issuer: false,
        revoke: None,
    };
    let mut it = std::env::args().skip(1).peekable();
    let revoking = it.peek().map(String::as_str) == Some("revoke-device");
    if revoking {
        it.next();
    }
    while let Some(a) = it.next() {
        match a.as_str() {
            "--listen" => args.listen = it.next().context("--listen needs an address")?,
            "--database" => args.database = it.next().context("--database needs a path or URL")?,
            "--keys" => args.keys = Some(it.next().context("--keys needs a directory")?.into()),
            "--demo" => args.demo = true,
            "--demo-issuer" => args.demo_issuer = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            id if revoking && !id.starts_with('-') => args.revoke = Some(id.to_string()),
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    if revoking && args.revoke.is_none() {
        bail!("revoke-device needs a device id\n{USAGE}");
    }
    if args.demo_issuer && args.keys.is_none() {
        bail!("--demo-issuer needs --keys DIR");
    }
    Ok(args)
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    // The store is blocking (the PostgreSQL client runs its own runtime): open it, and do the
    // one-off work, before the async runtime starts.
    let store = store::open(&args.database)
        .with_context(|| format!("opening database {}", args.database))?;
    if let Some(id) = &args.revoke {
        if !store.set_revoked(id, true)? {
            bail!("no device {id} is enrolled");
        }
        println!("device {id} revoked");
        return Ok(());
    }
    if args.demo {
        store.seed_demo(chrono::Utc::now())?;
    }
    let mut state = AppState::new(store);
    if let Some(dir) = &args.keys {
        state = state.with_deployment(
            Deployment::load(dir).with_context(|| format!("key directory {}", dir.display()))?,
        );
        if args.demo_issuer {
            state = state.with_demo_issuer(IssuerKeys::load(dir)?);
        }
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(&args.listen)
                .await
                .with_context(|| format!("binding {}", args.listen))?;
            println!("listening on http://{}", listener.local_addr()?);
            axum::serve(listener, app(state))
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
            Ok(())
        })
}
