//! `venuecode`: the command line for people and scripts — demo keys, health codes, venue codes,
//! ID numbers, posters, and the benchmarks.
//!
//! Exit codes: 0 success (or valid), 1 invalid input judged (a code or ID that fails), 2 usage
//! errors (bad flags, missing files). Output for scripts is one line of JSON where noted.

mod bench;
mod poster;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, Utc};
use clap::{Parser, Subcommand};
use serde_json::json;
use venuecode_core::gate::Direction;
use venuecode_core::health_code::{
    self, Color, Guardian, NatOutcome, NatResult, NewCode, Pseudonym, Relation,
};
use venuecode_core::idnumber::IdNumber;
use venuecode_core::qr::{Ecc, QrMatrix};
use venuecode_core::trust::RevocationList;
use venuecode_core::venue::VenueCategory;
use venuecode_core::venue_code::{self, VenueClaims};
use venuecode_keys::{IssuerKeys, VenueAuthorityKeys};

#[derive(Parser)]
#[command(
    name = "venuecode",
    version,
    about = "VenueCode keys, codes and ID numbers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a deployment in DIR: the offline root key and the trust list it signs, the
    /// server's directory (server/: its own key and the root's delegation), the health issuer
    /// (issuer/), the venue authority (venue-authority/), and with --demo a demo issuer.
    Keygen {
        #[arg(long)]
        out: PathBuf,
        /// Also make a demo issuer (demo-issuer/) and list it: never for production.
        #[arg(long)]
        demo: bool,
        /// A host name or address the server's TLS certificate names (repeat for several);
        /// stations connect to one of them.
        #[arg(long = "server-name", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string()])]
        server_names: Vec<String>,
        /// Name of the health-code issuer on the trust list.
        #[arg(long, default_value = "DEMO-HC")]
        issuer: String,
        /// Name of the venue authority on the trust list.
        #[arg(long, default_value = "DEMO-VA")]
        venue_authority: String,
        /// How many days the issuer keys stay valid.
        #[arg(long, default_value_t = 365)]
        valid_days: i64,
    },
    /// Give the server a new signing key and the root's delegation of it (rotation; run before
    /// the last delegation ends). Needs the root key: run where the deployment directory is kept.
    Delegate {
        /// The deployment directory made by keygen.
        #[arg(long)]
        keys: PathBuf,
        /// How many days the delegation lasts.
        #[arg(long, default_value_t = venuecode_keys::DELEGATION_DAYS)]
        days: i64,
    },
    /// Re-sign the trust list (same keys, version + 1, a new expiry) with the root key; give
    /// the server the new `server/trust.cose` before the old list expires.
    RenewTrust {
        /// The deployment directory made by keygen.
        #[arg(long)]
        keys: PathBuf,
        /// How many days the list lasts.
        #[arg(long, default_value_t = venuecode_keys::TRUST_LIST_DAYS)]
        days: i64,
    },
    /// Replace a key. `issuer` or `venue-authority`: a new issuing key, a trust list (its version
    /// raised) listing it, the old key kept only for codes issued before now. `root`: a new offline
    /// root; the old root signs the hand-over (server/root-chain, which the server sends so
    /// stations follow it), the trust list and the server's delegation move to the new root, the
    /// old root key goes to retired/ for you to destroy. `tls`: a new server TLS key and
    /// certificate from the deployment CA (stations' pinned ca.pem unchanged).
    Rotate {
        /// The deployment directory made by keygen.
        #[arg(long)]
        keys: PathBuf,
        /// `issuer`, `venue-authority`, `root` or `tls`.
        which: String,
        /// How many days the new key stays valid (issuing keys).
        #[arg(long, default_value_t = 365)]
        valid_days: i64,
        /// For `tls`: a host name or address the new certificate names (repeat for several).
        #[arg(long = "server-name", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string()])]
        server_names: Vec<String>,
    },
    /// Health codes (健康码).
    Code {
        #[command(subcommand)]
        command: CodeCommand,
    },
    /// Venue codes (场所码).
    Venue {
        #[command(subcommand)]
        command: VenueCommand,
    },
    /// Resident ID numbers.
    Id {
        #[command(subcommand)]
        command: IdCommand,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Print-ready posters: one checkpoint and direction, or a CSV of many.
    Poster {
        #[command(subcommand)]
        command: poster::PosterCommand,
    },
}

#[derive(Subcommand)]
enum CodeCommand {
    /// Issue a health code; prints its text.
    Issue {
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long)]
        phone: String,
        #[arg(long)]
        id: String,
        /// green, yellow or red.
        #[arg(long, default_value = "green")]
        color: String,
        /// Colour since (RFC 3339); default: 7 days ago.
        #[arg(long)]
        color_since: Option<DateTime<Utc>>,
        /// Latest nucleic-acid test as RESULT:TIME, e.g. negative:2026-11-20T08:00:00Z.
        #[arg(long)]
        nat: Option<String>,
        /// How long the code is valid, e.g. 10m, 2h, 30s.
        #[arg(long, default_value = "10m")]
        valid_for: String,
        /// Issue time (RFC 3339); default: now.
        #[arg(long)]
        at: Option<DateTime<Utc>>,
        /// For a family code (亲情码): the guardian's ID number.
        #[arg(long, requires = "relation")]
        guardian_id: Option<String>,
        /// The guardian's relation to the holder: parent, child, spouse, grandparent, grandchild, sibling, other.
        #[arg(long, requires = "guardian_id")]
        relation: Option<String>,
        /// Also write the code as a QR image (PNG).
        #[arg(long)]
        png: Option<PathBuf>,
        /// A printed paper code (纸质码) for someone without a phone: stations hold it to the
        /// venue's paper limit (7 days by default) instead of the screen limit; give it a
        /// matching --valid-for (e.g. 7d).
        #[arg(long)]
        paper: bool,
    },
    /// Verify a health code; prints one line of JSON. Exit 0 valid, 1 invalid.
    Verify {
        /// The signed trust list (trust.cose).
        #[arg(long)]
        trust: PathBuf,
        /// The root public key; default: root.pub beside the trust list.
        #[arg(long)]
        root: Option<PathBuf>,
        /// Trusted time (RFC 3339); default: now.
        #[arg(long)]
        at: Option<DateTime<Utc>>,
        text: String,
    },
}

#[derive(Subcommand)]
enum VenueCommand {
    /// Issue a venue code for one checkpoint; prints its URL.
    Issue {
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        venue_id: String,
        #[arg(long, default_value = "main")]
        checkpoint: String,
        /// entry or exit.
        #[arg(long, default_value = "entry")]
        direction: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        region: String,
        /// Category code (01 government…, 02 business, 03 crowded/transport, 04 enterprise/site/residence, 05 cold chain, 06 event, 99 other).
        #[arg(long, default_value = "99")]
        category: String,
        #[arg(long, default_value = "https://csm.example.cn")]
        base_url: String,
        #[arg(long)]
        png: Option<PathBuf>,
    },
    /// Verify a venue code URL; prints one line of JSON. Exit 0 valid, 1 invalid.
    Verify {
        #[arg(long)]
        trust: PathBuf,
        #[arg(long)]
        root: Option<PathBuf>,
        text: String,
    },
}

#[derive(Subcommand)]
enum IdCommand {
    /// Check an ID number: exit 0 valid, 1 invalid with the reason on stderr.
    Check {
        number: String,
        /// Check as of this date (YYYY-MM-DD); default: today.
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Time health-code verification and print the comparison.
    Verify {
        #[arg(long, default_value_t = 20_000)]
        n: u32,
    },
    /// Time a batch of A4 posters (goal: 100 in 10 s) and print its peak memory.
    Posters {
        /// The deployment directory (keys for the venue codes).
        #[arg(long)]
        keys: PathBuf,
        #[arg(long, default_value_t = 100)]
        n: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("venuecode: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A deployment directory's part (`keys/issuer`), or `keys` itself when it is that part.
fn part_dir(keys: &std::path::Path, part: &str, marker: &str) -> PathBuf {
    if keys.join(marker).exists() {
        keys.to_path_buf()
    } else {
        keys.join(part)
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Keygen {
            out,
            issuer,
            venue_authority,
            valid_days,
            demo,
            server_names,
        } => {
            let names: Vec<&str> = server_names.iter().map(String::as_str).collect();
            venuecode_keys::keygen(
                &out,
                &venuecode_keys::KeygenOptions {
                    issuer: &issuer,
                    venue_authority: &venue_authority,
                    now: Utc::now(),
                    valid_days,
                    demo,
                    server_names: &names,
                },
            )?;
            println!(
                "keys and trust list written to {}; give the server {}",
                out.display(),
                out.join("server").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Delegate { keys, days } => {
            if !(1..=90).contains(&days) {
                bail!("--days must be 1 to 90: a delegation is short-lived by design");
            }
            venuecode_keys::delegate(&keys, Utc::now(), days)?;
            println!(
                "new server key and delegation for {days} days written to {}; restart the server",
                keys.join("server").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::RenewTrust { keys, days } => {
            if !(1..=365).contains(&days) {
                bail!("--days must be 1 to 365");
            }
            let v = venuecode_keys::renew_trust(&keys, Utc::now(), days)?;
            println!(
                "trust list version {v}, valid {days} days, written to {} and {}",
                keys.join("trust.cose").display(),
                keys.join("server/trust.cose").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Rotate {
            keys,
            which,
            valid_days,
            server_names,
        } => {
            let which = match which.as_str() {
                "issuer" => venuecode_keys::Issuing::Health,
                "venue-authority" => venuecode_keys::Issuing::Venue,
                "root" => {
                    let v = venuecode_keys::rotate_root(
                        &keys,
                        Utc::now(),
                        venuecode_keys::TRUST_LIST_DAYS,
                    )?;
                    println!(
                        "new root written ({}); trust list version {v} and a new server delegation: \
                         give the server {} (with root-chain, root.pub, trust.cose, delegation.cose, \
                         server.key); new stations get {}; destroy {} once every station has synced",
                        keys.join("root.pub").display(),
                        keys.join("server").display(),
                        keys.join("root.pub").display(),
                        keys.join("retired").display()
                    );
                    return Ok(ExitCode::SUCCESS);
                }
                "tls" => {
                    let names: Vec<&str> = server_names.iter().map(String::as_str).collect();
                    venuecode_keys::renew_server_certificate(&keys, &names, Utc::now())?;
                    println!(
                        "new TLS key and certificate in {} (for {}): restart the server with them; stations keep their ca.pem",
                        keys.join("server").display(),
                        names.join(", ")
                    );
                    return Ok(ExitCode::SUCCESS);
                }
                other => bail!("rotate issuer, venue-authority, root or tls, not {other:?}"),
            };
            let v = venuecode_keys::rotate(&keys, which, Utc::now(), valid_days)?;
            println!(
                "new key written; trust list version {v}: give the server {}",
                keys.join("server/trust.cose").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Code { command } => match command {
            CodeCommand::Issue {
                keys,
                name,
                phone,
                id,
                color,
                color_since,
                nat,
                valid_for,
                at,
                guardian_id,
                relation,
                png,
                paper,
            } => {
                let now = at.unwrap_or_else(Utc::now);
                let ks = IssuerKeys::load(&part_dir(&keys, "issuer", "issuer.key"))?;
                let id = IdNumber::parse(&id, now.date_naive()).context("--id")?;
                let color = Color::parse(&color)
                    .with_context(|| format!("--color {color:?}: use green, yellow or red"))?;
                let nat = nat.as_deref().map(parse_nat).transpose()?;
                let valid_for = parse_duration(&valid_for).context("--valid-for")?;
                let guardian = match (guardian_id, relation) {
                    (Some(g), Some(r)) => Some(Guardian {
                        pseudonym: Pseudonym::derive(
                            &ks.subject_secret,
                            &IdNumber::parse(&g, now.date_naive()).context("--guardian-id")?,
                        ),
                        relation: Relation::parse(&r)
                            .with_context(|| format!("--relation {r:?} is not a relation"))?,
                    }),
                    _ => None,
                };
                let claims = NewCode {
                    issuer: &ks.issuer,
                    subject_secret: &ks.subject_secret,
                    name: &name,
                    phone: &phone,
                    id: &id,
                    color,
                    color_since,
                    nat,
                    guardian,
                    issued_at: now,
                    valid_for,
                    code_id: venuecode_keys::random_bytes()?,
                    medium: if paper {
                        venuecode_core::health_code::Medium::Paper
                    } else {
                        venuecode_core::health_code::Medium::Screen
                    },
                }
                .claims();
                let text = health_code::issue(&ks.issuer_key, &claims);
                if let Some(path) = png {
                    write_png(&text, &path)?;
                }
                println!("{text}");
                Ok(ExitCode::SUCCESS)
            }
            CodeCommand::Verify {
                trust,
                root,
                at,
                text,
            } => {
                let trust = venuecode_keys::load_trust(&trust, root.as_deref())?;
                let now = at.unwrap_or_else(Utc::now);
                let out = match health_code::verify(&text, &trust, &RevocationList::default(), now)
                {
                    Ok(v) => {
                        let c = &v.claims;
                        json!({
                            "valid": true,
                            "kind": "health_code",
                            "issuer": c.issuer,
                            "kid": v.kid.to_string(),
                            "code_id": c.code_id_hex(),
                            "subject": c.subject.to_hex(),
                            "name": c.name_masked,
                            "phone": c.phone_masked,
                            "id": c.id_masked,
                            "color": c.color.as_str(),
                            "color_since": c.color_since.to_rfc3339(),
                            "nat": c.nat.map(|n| json!({"result": n.outcome.as_str(), "tested_at": n.tested_at.to_rfc3339()})),
                            "guardian": c.guardian.map(|g| json!({"subject": g.pseudonym.to_hex(), "relation": g.relation.as_str()})),
                            "issued_at": c.issued_at.to_rfc3339(),
                            "expires_at": c.expires_at.to_rfc3339(),
                        })
                    }
                    Err(e) => json!({"valid": false, "error": e.code(), "message": e.to_string()}),
                };
                println!("{out}");
                Ok(exit_for(&out))
            }
        },
        Command::Venue { command } => match command {
            VenueCommand::Issue {
                keys,
                venue_id,
                checkpoint,
                direction,
                name,
                region,
                category,
                base_url,
                png,
            } => {
                let ks =
                    VenueAuthorityKeys::load(&part_dir(&keys, "venue-authority", "venue.key"))?;
                let claims = VenueClaims {
                    issuer: ks.name.clone(),
                    issued_at: Utc::now(),
                    venue_id,
                    checkpoint_id: checkpoint,
                    direction: Direction::parse(&direction)
                        .with_context(|| format!("--direction {direction:?}: use entry or exit"))?,
                    venue_name: name,
                    region,
                    category: VenueCategory::from_code(&category).with_context(|| {
                        format!("--category {category:?} is not a category code")
                    })?,
                };
                let url = venue_code::issue(&ks.key, &claims, &base_url);
                if let Some(path) = png {
                    write_png(&url, &path)?;
                }
                println!("{url}");
                Ok(ExitCode::SUCCESS)
            }
            VenueCommand::Verify { trust, root, text } => {
                let trust = venuecode_keys::load_trust(&trust, root.as_deref())?;
                let out = match venue_code::verify(&text, &trust) {
                    Ok(v) => {
                        let c = &v.claims;
                        json!({
                            "valid": true,
                            "kind": "venue_code",
                            "issuer": c.issuer,
                            "kid": v.kid.to_string(),
                            "venue_id": c.venue_id,
                            "checkpoint_id": c.checkpoint_id,
                            "direction": c.direction.as_str(),
                            "venue_name": c.venue_name,
                            "region": c.region,
                            "category": c.category.code(),
                            "issued_at": c.issued_at.to_rfc3339(),
                        })
                    }
                    Err(e) => json!({"valid": false, "error": e.code(), "message": e.to_string()}),
                };
                println!("{out}");
                Ok(exit_for(&out))
            }
        },
        Command::Id {
            command: IdCommand::Check { number, today },
        } => {
            let today = today.unwrap_or_else(|| Utc::now().date_naive());
            match IdNumber::parse(&number, today) {
                Ok(id) => {
                    println!("valid: {} (born {})", id.masked(), id.birth_date());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("invalid ({}): {e}", e.code());
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Bench {
            command: BenchCommand::Verify { n },
        } => {
            bench::verify(n)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            command: BenchCommand::Posters { keys, n },
        } => {
            poster::bench(&keys, n)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Poster { command } => poster::run(command),
    }
}

fn exit_for(out: &serde_json::Value) -> ExitCode {
    if out["valid"] == true {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn write_png(text: &str, path: &std::path::Path) -> Result<()> {
    let png = QrMatrix::encode(text, Ecc::M)?.to_png(8)?;
    std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
}

/// `RESULT:TIME`, e.g. `negative:2026-11-20T08:00:00Z`.
fn parse_nat(s: &str) -> Result<NatResult> {
    let (result, time) = s
        .split_once(':')
        .context("--nat is RESULT:TIME, e.g. negative:2026-11-20T08:00:00Z")?;
    let outcome = NatOutcome::parse(result)
        .with_context(|| format!("--nat result {result:?}: use negative, positive or pending"))?;
    let tested_at = DateTime::parse_from_rfc3339(time)
        .with_context(|| format!("--nat time {time:?} is not RFC 3339"))?
        .with_timezone(&Utc);
    Ok(NatResult { outcome, tested_at })
}

/// `30s`, `10m`, `2h`, `1d`.
fn parse_duration(s: &str) -> Result<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .with_context(|| format!("{s:?}: expected a number and a unit, e.g. 10m"))?;
    let d = match unit {
        "s" => Duration::seconds(n),
        "m" | "" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => bail!("{s:?}: unit must be s, m, h or d"),
    };
    if d <= Duration::zero() || d > Duration::days(366) {
        bail!("{s:?}: must be between 1 second and 366 days");
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m").unwrap(), Duration::minutes(10));
        assert_eq!(parse_duration("30s").unwrap(), Duration::seconds(30));
        assert_eq!(parse_duration("2h").unwrap(), Duration::hours(2));
        assert!(parse_duration("0m").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("5y").is_err());
    }

    #[test]
    fn nat_argument() {
        let n = parse_nat("negative:2026-11-20T08:00:00Z").unwrap();
        assert_eq!(n.outcome, NatOutcome::Negative);
        assert!(parse_nat("negative").is_err());
        assert!(parse_nat("maybe:2026-11-20T08:00:00Z").is_err());
    }
}
