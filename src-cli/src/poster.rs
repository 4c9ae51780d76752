//! `venuecode poster`: print-ready posters from the command line — one (`make`), or many from a
//! CSV of venues and checkpoints (`batch`, with a progress bar, a "how to post" sheet per venue,
//! and a report of the rows it could not make); `venuecode bench posters` times a batch.
//!
//! Each poster's code is issued here with the venue authority's key (as `venue issue` does). A
//! batch keeps going past a bad row: the row is reported with its line and reason, the rest are
//! made, and the exit code says some failed (1).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use venuecode_core::gate::Direction;
use venuecode_core::poster::{short_code, PosterSize};
use venuecode_core::venue::VenueCategory;
use venuecode_core::venue_code::{self, VenueClaims};
use venuecode_keys::VenueAuthorityKeys;
use venuecode_poster::{
    how_to_post, poster_file_name, safe_file_part as safe, PosterText, Renderer, SheetEntry,
    Template,
};

#[derive(Subcommand)]
pub enum PosterCommand {
    /// Make one poster (PDF, and PNG with --png) for a checkpoint and direction.
    Make {
        /// The deployment directory (or its venue-authority part).
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        venue_id: String,
        /// The venue's full registered name.
        #[arg(long)]
        name: String,
        #[arg(long)]
        region: String,
        /// Category code (01–06, 99).
        #[arg(long, default_value = "99")]
        category: String,
        #[arg(long, default_value = "main")]
        checkpoint: String,
        /// The checkpoint's name as printed (南门 …); the checkpoint id when absent.
        #[arg(long)]
        checkpoint_name: Option<String>,
        /// entry or exit.
        #[arg(long, default_value = "entry")]
        direction: String,
        #[command(flatten)]
        look: Look,
        /// The PDF to write.
        #[arg(long)]
        out: PathBuf,
        /// Also write a PNG here (for messaging apps).
        #[arg(long)]
        png: Option<PathBuf>,
        #[arg(long, default_value_t = 150.0)]
        dpi: f32,
    },
    /// Make the posters of many venues and checkpoints from a CSV with the header
    /// `venue_id,venue_name,region,category,checkpoint_id,checkpoint_name,direction` (an empty
    /// direction makes both): OUT/<venue_id>/<checkpoint>-<direction>-<size>.pdf, and
    /// OUT/<venue_id>/how-to-post.pdf per venue.
    Batch {
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        csv: PathBuf,
        #[arg(long)]
        out_dir: PathBuf,
        #[command(flatten)]
        look: Look,
    },
}

/// How the posters look.
#[derive(clap::Args, Clone)]
pub struct Look {
    /// a4, 60x90 or 80x180.
    #[arg(long, default_value = "a4")]
    size: String,
    /// A template SVG (placeholders vc-qr, vc-venue-name, …); the built-in one for the size
    /// when absent.
    #[arg(long)]
    template: Option<PathBuf>,
    /// A font file for the text; the system's Chinese font when absent.
    #[arg(long)]
    font: Option<PathBuf>,
    /// The deployment's instructions, one paragraph per line; the default ones when absent.
    #[arg(long)]
    instructions: Option<PathBuf>,
    #[arg(long, default_value = "https://csm.example.cn")]
    base_url: String,
}

/// What posters are made with.
pub struct Kit {
    keys: VenueAuthorityKeys,
    template: Template,
    renderer: Renderer,
    instructions: Vec<String>,
    base_url: String,
}

impl Kit {
    pub fn load(keys: &Path, look: &Look) -> Result<Kit> {
        let size = PosterSize::from_code(&look.size)
            .with_context(|| format!("--size {:?}: use a4, 60x90 or 80x180", look.size))?;
        let template = match &look.template {
            Some(path) => {
                let svg = std::fs::read_to_string(path)
                    .with_context(|| format!("reading the template {}", path.display()))?;
                let t = Template::parse(&path.display().to_string(), &svg)
                    .with_context(|| format!("template {}", path.display()))?;
                if t.size() != size {
                    bail!(
                        "template {} is a {} page, not {}: pass --size {}",
                        path.display(),
                        t.size().code(),
                        size.code(),
                        t.size().code()
                    );
                }
                t
            }
            None => Template::built_in(size),
        };
        let renderer = match &look.font {
            Some(f) => Renderer::with_font(f)?,
            None => Renderer::system()?,
        };
        let instructions = match &look.instructions {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("reading the instructions {}", path.display()))?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            None => Vec::new(),
        };
        let keys =
            VenueAuthorityKeys::load(&crate::part_dir(keys, "venue-authority", "venue.key"))?;
        Ok(Kit {
            keys,
            template,
            renderer,
            instructions,
            base_url: look.base_url.clone(),
        })
    }

    /// The poster of one row, as PDF bytes.
    fn pdf(&self, row: &Row, direction: Direction, now: DateTime<Utc>) -> Result<Vec<u8>> {
        Ok(self.renderer.pdf(&self.svg(row, direction, now)?)?)
    }

    /// The poster of one row: its code issued now, the template filled.
    fn svg(&self, row: &Row, direction: Direction, now: DateTime<Utc>) -> Result<String> {
        let code = venue_code::issue(
            &self.keys.key,
            &VenueClaims {
                issuer: self.keys.name.clone(),
                issued_at: now,
                venue_id: row.venue_id.clone(),
                checkpoint_id: row.checkpoint_id.clone(),
                direction,
                venue_name: row.venue_name.clone(),
                region: row.region.clone(),
                category: row.category,
            },
            &self.base_url,
        );
        let svg = self.template.fill(&PosterText {
            venue_name: row.venue_name.clone(),
            checkpoint_name: row.checkpoint_name.clone(),
            direction,
            code,
            short_code: short_code(&row.venue_id, &row.checkpoint_id, direction),
            instructions: self.instructions.clone(),
        })?;
        Ok(svg)
    }

    fn size(&self) -> PosterSize {
        self.template.size()
    }
}

/// One venue checkpoint to make posters for.
#[derive(Debug, Clone)]
struct Row {
    venue_id: String,
    venue_name: String,
    region: String,
    category: VenueCategory,
    checkpoint_id: String,
    checkpoint_name: String,
    /// None: both directions.
    direction: Option<Direction>,
}

const HEADER: [&str; 7] = [
    "venue_id",
    "venue_name",
    "region",
    "category",
    "checkpoint_id",
    "checkpoint_name",
    "direction",
];

fn parse_row(r: &csv::StringRecord) -> Result<Row> {
    let get = |i: usize| r.get(i).unwrap_or("").trim().to_string();
    if r.len() != HEADER.len() {
        bail!("{} columns, expected {}", r.len(), HEADER.len());
    }
    let (venue_id, venue_name, checkpoint_id) = (get(0), get(1), get(4));
    for (what, v, max) in [
        ("venue_id", &venue_id, 64),
        ("venue_name", &venue_name, 200),
        ("checkpoint_id", &checkpoint_id, 64),
    ] {
        if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
            bail!("{what} is empty, longer than {max} characters or holds control characters");
        }
    }
    let category = VenueCategory::from_code(&get(3))
        .with_context(|| format!("category {:?} is not 01–06 or 99", get(3)))?;
    let direction = match get(6).as_str() {
        "" | "both" => None,
        d => Some(
            Direction::parse(d)
                .with_context(|| format!("direction {d:?}: use entry, exit or leave it empty"))?,
        ),
    };
    let checkpoint_name = match get(5) {
        n if n.is_empty() => checkpoint_id.clone(),
        n => n,
    };
    Ok(Row {
        venue_id,
        venue_name,
        region: get(2),
        category,
        checkpoint_id,
        checkpoint_name,
        direction,
    })
}

/// Writes `bytes` to `path`, saying which path could not be written.
fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// The outcome of a batch.
pub struct BatchReport {
    pub made: usize,
    pub failed: Vec<String>,
    pub seconds: f64,
}

/// Makes every poster of the CSV in `csv_path` under `out_dir`; bad rows are reported, not fatal.
pub fn batch(kit: &Kit, csv_path: &Path, out_dir: &Path, progress: bool) -> Result<BatchReport> {
    let t0 = Instant::now();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(csv_path)
        .with_context(|| format!("reading {}", csv_path.display()))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("reading the header of {}", csv_path.display()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if header != HEADER {
        bail!(
            "{}: the header must be {} (found {})",
            csv_path.display(),
            HEADER.join(","),
            header.join(",")
        );
    }
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create the output folder {}", out_dir.display()))?;
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        // Line 1 is the header.
        let line = i + 2;
        match rec.map_err(anyhow::Error::from).and_then(|r| parse_row(&r)) {
            Ok(row) => rows.push((line, row)),
            Err(e) => failed.push(format!("line {line}: {e:#}")),
        }
    }
    let jobs: Vec<(usize, &Row, Direction)> = rows
        .iter()
        .flat_map(|(line, row)| {
            let dirs = match row.direction {
                Some(d) => vec![d],
                None => vec![Direction::Entry, Direction::Exit],
            };
            dirs.into_iter().map(move |d| (*line, row, d))
        })
        .collect();
    let bar = if progress {
        indicatif::ProgressBar::new(jobs.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} posters, {eta} left")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let now = Utc::now();
    let size = kit.size();
    let mut made = 0;
    let mut sheets: std::collections::BTreeMap<String, (String, Vec<SheetEntry>)> =
        Default::default();
    for (line, row, direction) in jobs {
        let file = poster_file_name(&row.checkpoint_id, direction, size);
        let path = out_dir.join(safe(&row.venue_id)).join(&file);
        match kit
            .pdf(row, direction, now)
            .and_then(|pdf| write(&path, &pdf))
        {
            Ok(()) => {
                made += 1;
                sheets
                    .entry(row.venue_id.clone())
                    .or_insert_with(|| (row.venue_name.clone(), Vec::new()))
                    .1
                    .push(SheetEntry {
                        checkpoint_name: row.checkpoint_name.clone(),
                        direction,
                        size,
                        file,
                    });
            }
            Err(e) => failed.push(format!("line {line} ({}): {e:#}", direction.as_str())),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    for (venue_id, (name, entries)) in sheets {
        let path = out_dir.join(safe(&venue_id)).join("how-to-post.pdf");
        if let Err(e) = kit
            .renderer
            .pdf(&how_to_post(&name, &entries))
            .map_err(anyhow::Error::from)
            .and_then(|pdf| write(&path, &pdf))
        {
            failed.push(format!("{venue_id} how-to-post sheet: {e:#}"));
        }
    }
    Ok(BatchReport {
        made,
        failed,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

pub fn run(cmd: PosterCommand) -> Result<ExitCode> {
    match cmd {
        PosterCommand::Make {
            keys,
            venue_id,
            name,
            region,
            category,
            checkpoint,
            checkpoint_name,
            direction,
            look,
            out,
            png,
            dpi,
        } => {
            let kit = Kit::load(&keys, &look)?;
            let row = Row {
                checkpoint_name: checkpoint_name.unwrap_or_else(|| checkpoint.clone()),
                venue_id,
                venue_name: name,
                region,
                category: VenueCategory::from_code(&category)
                    .with_context(|| format!("--category {category:?} is not a category code"))?,
                checkpoint_id: checkpoint,
                direction: None,
            };
            let direction = Direction::parse(&direction)
                .with_context(|| format!("--direction {direction:?}: use entry or exit"))?;
            let svg = kit.svg(&row, direction, Utc::now())?;
            write(&out, &kit.renderer.pdf(&svg)?)?;
            if let Some(png_path) = png {
                write(&png_path, &kit.renderer.png(&svg, dpi)?)?;
            }
            println!("{}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        PosterCommand::Batch {
            keys,
            csv,
            out_dir,
            look,
        } => {
            let kit = Kit::load(&keys, &look)?;
            let report = batch(&kit, &csv, &out_dir, true)?;
            for f in &report.failed {
                eprintln!("venuecode: not made: {f}");
            }
            println!(
                "{} posters made in {:.1} s under {}; {} rows not made",
                report.made,
                report.seconds,
                out_dir.display(),
                report.failed.len()
            );
            Ok(if report.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// The peak resident memory of this process so far, in MiB (Linux), if known.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// `venuecode bench posters`: `n` A4 posters from a generated CSV with the built-in template,
/// timed against the 10-second goal for 100, with the peak memory after the first tenth and at
/// the end (flat when the batch holds nothing per poster).
pub fn bench(keys: &Path, n: usize) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("venuecode-poster-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let look = Look {
        size: "a4".into(),
        template: None,
        font: None,
        instructions: None,
        base_url: "https://csm.example.cn".into(),
    };
    let kit = Kit::load(keys, &look)?;
    let csv_of = |count: usize| {
        let mut s = HEADER.join(",") + "\n";
        for i in 0..count {
            s.push_str(&format!(
                "bench-{:03},阿拉尔市幸福路农贸市场管理有限公司第{i}分店,659002001001,02,door-{i},第{i}号门,entry\n",
                i / 4
            ));
        }
        s
    };
    let warm = tmp.join("warm.csv");
    std::fs::write(&warm, csv_of((n / 10).max(1)))?;
    let first = batch(&kit, &warm, &tmp.join("warm"), false)?;
    let rss_first = peak_rss_mib();
    let all = tmp.join("all.csv");
    std::fs::write(&all, csv_of(n))?;
    let report = batch(&kit, &all, &tmp.join("all"), false)?;
    let rss_end = peak_rss_mib();
    let goal = 10.0 * n as f64 / 100.0;
    println!(
        "posters: {} A4 in {:.2} s ({:.0} ms each); goal {:.1} s for {n} — {}",
        report.made,
        report.seconds,
        report.seconds * 1000.0 / report.made.max(1) as f64,
        goal,
        if report.seconds <= goal {
            "met"
        } else {
            "MISSED"
        }
    );
    println!(
        "peak memory: {} MiB after {} posters, {} MiB after {} more",
        rss_first.map_or("?".into(), |m| format!("{m:.0}")),
        first.made,
        rss_end.map_or("?".into(), |m| format!("{m:.0}")),
        report.made
    );
    if !report.failed.is_empty() {
        bail!(
            "{} posters failed: {:?}",
            report.failed.len(),
            report.failed
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
