//! `venuecode-server`: starts the central server on an embedded SQLite file (default) or on
//! PostgreSQL (`--database postgres://…`).
//!
//! Usage (arguments parsed by clap; `--help` lists them): `venuecode-server [--listen ADDR]
//! [--database PATH|URL] [--keys DIR] [--demo] [--demo-issuer DIR]`, or one of the commands:
//! `revoke-device`, `reactivate-device --by NAME`, `devices`, `device-log`, `sighting-alerts
//! [--hours N]`, `policy VENUE [--stale-after-hours N …]`. Serves
//! HTTPS when the key directory holds `tls.crt`/`tls.key` (`--plain-http` for development).
//! Prints one line `listening on https://ADDR` (or `http://`) once it accepts connections, so
//! scripts can wait for it.

use anyhow::{bail, Context};
use clap::Parser;
use venuecode_keys::{IssuerKeys, ServerKeys};
use venuecode_server::{app, store, AppState};

mod args;
use args::*;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Structured logs on stderr; RUST_LOG to change the level (default: info).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // The store is blocking (the PostgreSQL client runs its own runtime): open it, and do the
    // one-off work, before the async runtime starts.
    let store = store::open(&args.database)
        .with_context(|| format!("opening database {}", args.database))?;
    let now = chrono::Utc::now();
    match &args.command {
        Some(Command::RevokeDevice { device_id: id, by }) => {
            if !store.set_revoked(id, true, by, now)? {
                bail!("no device {id} is enrolled");
            }
            println!("device {id} revoked");
            return Ok(());
        }
        Some(Command::ReactivateDevice { device_id: id, by }) => {
            if !store.set_revoked(id, false, by, now)? {
                bail!("no device {id} is enrolled");
            }
            println!("device {id} re-activated by {by}");
            return Ok(());
        }
        Some(Command::Devices) => {
            for d in store.devices(None)? {
                let x = &d.device;
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    x.device_id,
                    x.venue_id,
                    x.checkpoint_id,
                    x.inspector,
                    d.enrolled_at.to_rfc3339(),
                    if x.revoked { "revoked" } else { "active" }
                );
            }
            return Ok(());
        }
        Some(Command::DeviceLog { device_id }) => {
            for e in store.device_events(device_id)? {
                println!("{}\t{}\t{}", e.at.to_rfc3339(), e.action, e.actor);
            }
            return Ok(());
        }
        Some(Command::SightingAlerts { hours }) => {
            let since = now - chrono::Duration::hours(i64::from(*hours));
            for a in store.sighting_alerts(since, 10_000)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    a.detected_at.to_rfc3339(),
                    a.kind.as_str(),
                    a.subject,
                    a.first_venue_id,
                    a.first_at.to_rfc3339(),
                    a.second_venue_id,
                    a.second_at.to_rfc3339(),
                    a.distance_m.map_or("-".into(), |m| m.to_string()),
                    a.needed_s
                );
            }
            return Ok(());
        }
        Some(Command::Export { what }) => {
            export(store.as_ref(), what, now)?;
            return Ok(());
        }
        Some(Command::Admin { command }) => {
            match command {
                AdminCommand::Create {
                    username,
                    name,
                    role,
                    scope,
                } => {
                    let role =
                        venuecode_core::accounts::Role::from_code(role).with_context(|| {
                            format!("--role {role:?}: sysadmin, reviewer, authority or venue_admin")
                        })?;
                    let password = match std::env::var("VENUECODE_PASSWORD") {
                        Ok(p) => p,
                        Err(_) => {
                            let mut line = String::new();
                            std::io::stdin().read_line(&mut line)?;
                            line.trim_end_matches(['\r', '\n']).to_string()
                        }
                    };
                    let a = venuecode_server::people::create_account(
                        store.as_ref(),
                        &venuecode_server::people::AccountSpec {
                            username,
                            display_name: name,
                            role,
                            scopes: scope.clone(),
                            password: &password,
                            created_by: "command line",
                        },
                        now,
                    )?;
                    println!("account {} ({}) created", a.username, a.role.as_str());
                }
                AdminCommand::List => {
                    for a in store.accounts()? {
                        println!(
                            "{}\t{}\t{}\t{}\t{}",
                            a.username,
                            a.role.as_str(),
                            a.scopes.join(" "),
                            a.display_name,
                            if a.active { "active" } else { "disabled" }
                        );
                    }
                }
            }
            return Ok(());
        }
        Some(Command::Policy {
            venue_id,
            fever_threshold_c,
            accept_yellow,
            require_nat_within_hours,
            max_code_age_hours,
            max_paper_code_age_hours,
            max_unsigned_time_hours,
            stale_after_hours,
            when_stale,
            capacity,
        }) => {
            let (_, mut p) = store
                .venue_info(venue_id)?
                .with_context(|| format!("no venue {venue_id}"))?;
            let changed = fever_threshold_c.is_some()
                || accept_yellow.is_some()
                || require_nat_within_hours.is_some()
                || max_code_age_hours.is_some()
                || max_paper_code_age_hours.is_some()
                || max_unsigned_time_hours.is_some()
                || stale_after_hours.is_some()
                || when_stale.is_some()
                || capacity.is_some();
            p.fever_threshold_c = fever_threshold_c.unwrap_or(p.fever_threshold_c);
            p.accept_yellow = accept_yellow.unwrap_or(p.accept_yellow);
            if let Some(h) = require_nat_within_hours {
                p.require_nat_within_hours = (*h != 0).then_some(*h);
            }
            p.max_code_age_hours = max_code_age_hours.or(p.max_code_age_hours);
            p.max_paper_code_age_hours = max_paper_code_age_hours.or(p.max_paper_code_age_hours);
            p.max_unsigned_time_hours =
                max_unsigned_time_hours.unwrap_or(p.max_unsigned_time_hours);
            p.stale_after_hours = stale_after_hours.unwrap_or(p.stale_after_hours);
            if let Some(w) = when_stale {
                p.when_stale = w.clone();
            }
            if let Some(c) = capacity {
                p.capacity = (*c > 0).then_some(*c);
            }
            if changed {
                p.validate().context("the policy was not changed")?;
                store.set_policy(venue_id, &p, now)?;
            }
            println!("{}", serde_json::to_string_pretty(&p)?);
            return Ok(());
        }
        None => {}
    }
    let regions = match &args.regions {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the region table {}", path.display()))?;
            venuecode_core::region::Regions::parse(&text)
                .with_context(|| format!("region table {}", path.display()))?
        }
        None => venuecode_core::region::Regions::demo(),
    };
    let place_types = match &args.place_types {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the place-type list {}", path.display()))?;
            venuecode_core::place_type::PlaceTypes::parse(&text)
                .with_context(|| format!("place-type list {}", path.display()))?
        }
        None => venuecode_core::place_type::PlaceTypes::default_list(),
    };
    if args.demo {
        let now = chrono::Utc::now();
        store.seed_demo(now)?;
        let made = venuecode_server::people::seed_demo_people(
            store.as_ref(),
            &regions,
            &place_types,
            now,
        )?;
        if !made.is_empty() {
            tracing::info!(accounts = ?made, "demo accounts made (password in the README)");
        }
        // A week of history the first time, so statistics, alerts and tracing show something;
        // 张三 (the demo code's person) is the one to trace when the demo issuer is here.
        if args.demo_history {
            let secret = match &args.demo_issuer {
                Some(dir) => Some(
                    IssuerKeys::load(dir)
                        .with_context(|| format!("demo issuer {}", dir.display()))?
                        .subject_secret,
                ),
                None => None,
            };
            let stored = venuecode_server::history::seed_demo_week(store.as_ref(), secret, now)?;
            if stored > 0 {
                tracing::info!(stored, "a week of demo history seeded");
            }
        }
    }
    let mut state = AppState::new(store)
        .with_max_in_flight(args.max_in_flight)
        .with_regions(regions)
        .with_place_types(place_types)
        .with_rules(venuecode_core::deployment::DeploymentRules {
            review_required: args.review == Review::Required,
            admins_per_venue: args.admins_per_venue,
            venues_per_admin: args.venues_per_admin,
        });
    if let Some(dir) = &args.venue_authority {
        let keys = venuecode_keys::VenueAuthorityKeys::load(dir)
            .with_context(|| format!("venue authority {}", dir.display()))?;
        let base = args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("https://{}", args.listen));
        state = state.with_venue_authority(keys, &base);
    }
    state = state.with_web_dir(args.web_dir.clone());
    if let Some(dir) = &args.tracing_keys {
        let keys = venuecode_keys::TracingKeys::load(dir)
            .with_context(|| format!("tracing keys {}", dir.display()))?;
        state = state.with_tracing(keys);
    }
    // TLS when the server's key directory holds a certificate (venuecode keygen makes one).
    let tls = match &args.keys {
        Some(dir) if !args.plain_http && dir.join("tls.crt").exists() => Some(
            venuecode_server::serve::tls_config(&dir.join("tls.crt"), &dir.join("tls.key"))
                .context("TLS certificate")?,
        ),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    if let Some(dir) = &args.keys {
        let keys =
            ServerKeys::load(dir).with_context(|| format!("key directory {}", dir.display()))?;
        if keys.trust.expired(now) {
            tracing::warn!(
                "the trust list expired at {}: stations will refuse it; run venuecode renew-trust and give the server the new server/trust.cose",
                keys.trust.expires_at
            );
        }
        if keys.delegation.not_after < now {
            bail!(
                "the server key's delegation ended at {}: run venuecode delegate where the root key is kept",
                keys.delegation.not_after
            );
        }
        state = state.with_keys(keys);
    }
    if let Some(dir) = &args.demo_issuer {
        let addr: std::net::SocketAddr = args
            .listen
            .parse()
            .with_context(|| format!("--listen {} is not an IP address and port", args.listen))?;
        if !addr.ip().is_loopback() {
            bail!(
                "the demo issuer mints health codes for anyone who asks: it only runs on a loopback address, not {}",
                args.listen
            );
        }
        state = state.with_demo_issuer(
            IssuerKeys::load(dir).with_context(|| format!("demo issuer {}", dir.display()))?,
        );
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(&args.listen)
                .await
                .with_context(|| format!("binding {}", args.listen))?;
            println!("listening on {scheme}://{}", listener.local_addr()?);
            if args.retention_days > 0 {
                let window = chrono::Duration::days(args.retention_days);
                venuecode_server::retention::spawn(state.store(), window);
            }
            // Our own accept loop: header-read timeout, peer address for the enrolment lockout.
            venuecode_server::serve::serve(
                listener,
                app(state),
                std::time::Duration::from_secs(args.header_timeout_secs.max(1)),
                tls,
                async {
                    let _ = tokio::signal::ctrl_c().await;
                },
            )
            .await;
            Ok(())
        })
}

/// `venuecode-server export …`: the same tables as the API's exports, written to a file.
fn export(
    store: &dyn store::Store,
    what: &ExportCommand,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use venuecode_export::FileFormat;
    use venuecode_server::export_routes::{alerts_table, venue_export, MAX_ROWS};
    let offset_of = |m: i32| {
        chrono::FixedOffset::east_opt(m * 60).context("--tz-offset-minutes is -840 to 840")
    };
    let format_of = |f: &str| FileFormat::parse(f).context("--format is csv or xlsx");
    let (out, bytes, rows) = match what {
        ExportCommand::CheckIns {
            venue_id,
            days,
            format,
            tz_offset_minutes,
            out,
        } => {
            let from = now - chrono::Duration::days(i64::from((*days).clamp(1, 366)));
            let (_, bytes) = venue_export(
                store,
                venue_id,
                from,
                now,
                offset_of(*tz_offset_minutes)?,
                format_of(format)?,
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let rows = store.venue_check_ins(venue_id, from, now, MAX_ROWS)?.len();
            (out, bytes, rows)
        }
        ExportCommand::Alerts {
            region,
            days,
            format,
            tz_offset_minutes,
            out,
        } => {
            anyhow::ensure!(
                !region.is_empty() && region.chars().all(|c| c.is_ascii_digit()),
                "--region is a region code (digits)"
            );
            let rows = store.alerts(&store::AlertQuery {
                scopes: vec![region.clone()],
                from: Some(now - chrono::Duration::days(i64::from((*days).clamp(1, 366)))),
                limit: MAX_ROWS,
                ..store::AlertQuery::default()
            })?;
            let table = alerts_table(&rows, offset_of(*tz_offset_minutes)?);
            (
                out,
                venuecode_export::write(&table, format_of(format)?)?,
                rows.len(),
            )
        }
    };
    std::fs::write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("{rows} rows, {} bytes → {}", bytes.len(), out.display());
    Ok(())
}
