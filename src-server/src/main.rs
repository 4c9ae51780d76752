//! `venuecode-server`: starts the central server on an embedded SQLite file.
//!
//! Usage: `venuecode-server [--listen ADDR] [--database PATH] [--demo]`. Prints one line
//! `listening on http://ADDR` once it accepts connections, so scripts can wait for it.

use anyhow::Context;
use venuecode_server::{app, store::Store, AppState};

#[derive(Debug)]
struct Args {
    listen: String,
    database: std::path::PathBuf,
    demo: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        listen: "127.0.0.1:8730".into(),
        database: "venuecode-server.db".into(),
        demo: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--listen" => args.listen = it.next().context("--listen needs an address")?,
            "--database" => args.database = it.next().context("--database needs a path")?.into(),
            "--demo" => args.demo = true,
            "-h" | "--help" => {
                println!("usage: venuecode-server [--listen ADDR] [--database PATH] [--demo]");
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown argument {other:?}; see --help"),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let store = Store::open(&args.database)
        .with_context(|| format!("opening database {}", args.database.display()))?;
    if args.demo {
        store.seed_demo(chrono::Utc::now())?;
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    println!("listening on http://{}", listener.local_addr()?);
    let state = AppState::new(store);
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
