//! Posters on the app (the venue administrator's desktop): a checkpoint's poster previewed for a
//! direction, size and template, saved as PDF (and PNG), every poster of the venue saved with
//! the "how to post" sheet, and a saved file opened in the system's viewer to print.
//!
//! Invariants: a poster carries the door's code exactly as the server issued it (一门一码, from
//! the venue's registry entry, kept for offline use) — the app never makes codes; files are
//! written only under the folder the person chose, under names made from ids (no path from a
//! name); the fonts are read once per run, on first use.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine;
use venuecode_core::gate::Direction;
use venuecode_core::poster::{self, PosterSize};
use venuecode_ipc::{
    CheckpointRow, ErrorCode, IpcError, PosterChoice, PosterPreview, SavedAll, SavedPoster,
    VenueView,
};
use venuecode_poster::{
    how_to_post, poster_file_name as file_name, safe_file_part as safe, PosterText, Renderer,
    SheetEntry, Template,
};

/// Why a poster could not be made or saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PosterError {
    #[error("{0}")]
    Font(#[from] venuecode_poster::FontError),
    #[error("{0}")]
    Template(#[from] venuecode_poster::TemplateError),
    #[error("{0}")]
    Render(#[from] venuecode_poster::RenderError),
    #[error("the size {0:?} is none of a4, 60x90, 80x180")]
    Size(String),
    #[error("the template {path} is a {is} page, not {wanted}")]
    TemplateSize {
        path: String,
        is: &'static str,
        wanted: &'static str,
    },
    #[error("cannot read the template {path}: {why}")]
    TemplateFile { path: String, why: String },
    #[error("this venue has no checkpoint {0}")]
    NoCheckpoint(String),
    #[error("checkpoint {0} has no code yet: the server issues door codes once the venue is approved (and only where it holds the venue authority's key)")]
    NoCode(String),
    #[error("cannot write {path}: {why}")]
    Write { path: String, why: String },
    #[error("cannot open {path}: {why}")]
    Open { path: String, why: String },
}

impl From<PosterError> for IpcError {
    fn from(e: PosterError) -> IpcError {
        let code = match &e {
            PosterError::Font(_) => ErrorCode::NoFont,
            PosterError::Write { .. } | PosterError::Open { .. } => ErrorCode::CannotWrite,
            PosterError::Template(_)
            | PosterError::TemplateSize { .. }
            | PosterError::TemplateFile { .. } => ErrorCode::BadTemplate,
            PosterError::NoCode(_) => ErrorCode::NoDoorCode,
            _ => ErrorCode::Invalid,
        };
        IpcError {
            code,
            detail: e.to_string(),
        }
    }
}

/// The renderer, made on first use (reading the system's Chinese font once).
fn renderer() -> Result<&'static Renderer, PosterError> {
    static RENDERER: OnceLock<Result<Renderer, venuecode_poster::FontError>> = OnceLock::new();
    RENDERER
        .get_or_init(Renderer::system)
        .as_ref()
        .map_err(|e| PosterError::Font(e.clone()))
}

fn size_of(code: &str) -> Result<PosterSize, PosterError> {
    PosterSize::from_code(code).ok_or_else(|| PosterError::Size(code.into()))
}

fn template_for(size: PosterSize, path: Option<&str>) -> Result<Template, PosterError> {
    let Some(path) = path.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(Template::built_in(size));
    };
    let svg = std::fs::read_to_string(path).map_err(|e| PosterError::TemplateFile {
        path: path.into(),
        why: e.to_string(),
    })?;
    let t = Template::parse(path, &svg)?;
    if t.size() != size {
        return Err(PosterError::TemplateSize {
            path: path.into(),
            is: t.size().code(),
            wanted: size.code(),
        });
    }
    Ok(t)
}

fn door<'a>(view: &'a VenueView, checkpoint_id: &str) -> Result<&'a CheckpointRow, PosterError> {
    view.checkpoints
        .iter()
        .find(|c| c.checkpoint_id == checkpoint_id)
        .ok_or_else(|| PosterError::NoCheckpoint(checkpoint_id.into()))
}

fn core_direction(d: venuecode_ipc::Direction) -> Direction {
    match d {
        venuecode_ipc::Direction::Entry => Direction::Entry,
        venuecode_ipc::Direction::Exit => Direction::Exit,
    }
}

/// What one poster says, from the venue's registry entry.
fn text_of(
    view: &VenueView,
    c: &CheckpointRow,
    direction: Direction,
) -> Result<PosterText, PosterError> {
    let code = match direction {
        Direction::Entry => c.entry_code.clone(),
        Direction::Exit => c.exit_code.clone(),
    }
    .ok_or_else(|| PosterError::NoCode(c.name.clone()))?;
    Ok(PosterText {
        venue_name: view.venue.name.clone(),
        checkpoint_name: c.name.clone(),
        direction,
        code,
        short_code: poster::short_code(&view.venue.venue_id, &c.checkpoint_id, direction),
        instructions: Vec::new(),
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), PosterError> {
    let fail = |e: std::io::Error| PosterError::Write {
        path: path.display().to_string(),
        why: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::write(path, bytes).map_err(fail)
}

/// The preview of one poster (about 900 pixels tall).
pub fn preview(view: &VenueView, choice: &PosterChoice) -> Result<PosterPreview, PosterError> {
    let size = size_of(&choice.size)?;
    let template = template_for(size, choice.template.as_deref())?;
    let c = door(view, &choice.checkpoint_id)?;
    let text = text_of(view, c, core_direction(choice.direction))?;
    let (w, h) = size.mm();
    let (_, _, qw, qh) = template.qr_area().unwrap_or((0.0, 0.0, w, h));
    let fit = poster::fit_qr(&text.code, qw.min(qh), size)
        .map_err(venuecode_poster::TemplateError::from)?;
    let svg = template.fill(&text)?;
    let dpi = (900.0 / (h / 25.4)) as f32;
    let png = renderer()?.png(&svg, dpi)?;
    Ok(PosterPreview {
        png_base64: base64::engine::general_purpose::STANDARD.encode(png),
        width_mm: w,
        height_mm: h,
        short_code: text.short_code,
        ecc: format!("{:?}", fit.ecc),
        module_mm: fit.module_mm,
    })
}

/// Saves one poster under `folder/<venue id>/` as PDF, and as PNG at `png_dpi` when given.
pub fn save(
    view: &VenueView,
    choice: &PosterChoice,
    folder: &Path,
    png_dpi: Option<u32>,
) -> Result<SavedPoster, PosterError> {
    let size = size_of(&choice.size)?;
    let template = template_for(size, choice.template.as_deref())?;
    let c = door(view, &choice.checkpoint_id)?;
    let direction = core_direction(choice.direction);
    let svg = template.fill(&text_of(view, c, direction)?)?;
    let dir = folder.join(safe(&view.venue.venue_id));
    let pdf = dir.join(file_name(&c.checkpoint_id, direction, size));
    write(&pdf, &renderer()?.pdf(&svg)?)?;
    let png = match png_dpi {
        Some(dpi) => {
            let path = pdf.with_extension("png");
            write(&path, &renderer()?.png(&svg, dpi as f32)?)?;
            Some(path.display().to_string())
        }
        None => None,
    };
    Ok(SavedPoster {
        pdf: pdf.display().to_string(),
        png,
    })
}

/// Saves every poster of the venue — each open checkpoint, entry and exit — and the "how to post"
/// sheet under `folder/<venue id>/`, calling `progress(done, total)` after each.
pub fn save_all(
    view: &VenueView,
    size: &str,
    template: Option<&str>,
    folder: &Path,
    mut progress: impl FnMut(u32, u32),
) -> Result<SavedAll, PosterError> {
    let size = size_of(size)?;
    let template = template_for(size, template)?;
    let r = renderer()?;
    let doors: Vec<&CheckpointRow> = view.checkpoints.iter().filter(|c| !c.disabled).collect();
    let total = (doors.len() * 2) as u32;
    let dir = folder.join(safe(&view.venue.venue_id));
    let (mut files, mut sheet) = (Vec::new(), Vec::new());
    for c in doors {
        for direction in [Direction::Entry, Direction::Exit] {
            let svg = template.fill(&text_of(view, c, direction)?)?;
            let name = file_name(&c.checkpoint_id, direction, size);
            let path = dir.join(&name);
            write(&path, &r.pdf(&svg)?)?;
            files.push(path.display().to_string());
            sheet.push(SheetEntry {
                checkpoint_name: c.name.clone(),
                direction,
                size,
                file: name,
            });
            progress(files.len() as u32, total);
        }
    }
    let sheet_path = dir.join("how-to-post.pdf");
    write(&sheet_path, &r.pdf(&how_to_post(&view.venue.name, &sheet))?)?;
    Ok(SavedAll {
        files,
        sheet: sheet_path.display().to_string(),
    })
}

/// The folder posters go to unless the person chooses another: `VENUECODE_POSTER_DIR`, else
/// 场所码海报 in the documents folder, else in the app's data folder.
pub fn default_folder(documents: Option<PathBuf>, data_dir: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("VENUECODE_POSTER_DIR") {
        return PathBuf::from(dir);
    }
    documents
        .unwrap_or_else(|| data_dir.to_path_buf())
        .join("场所码海报")
}

/// Opens a saved poster in the system's viewer (which prints it).
pub fn open(path: &str) -> Result<(), PosterError> {
    if !Path::new(path).is_file() {
        return Err(PosterError::Open {
            path: path.into(),
            why: "no such file".into(),
        });
    }
    opener::open(path).map_err(|e| PosterError::Open {
        path: path.into(),
        why: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use venuecode_ipc::{Direction as D, VenueRow};

    fn view(code: Option<&str>) -> VenueView {
        VenueView {
            venue: VenueRow {
                venue_id: "v-1".into(),
                name: "阿拉尔市人民医院".into(),
                category: "01".into(),
                place_type: None,
                region: "659002001001".into(),
                region_name: String::new(),
                address: "a".into(),
                status: "approved".into(),
                credit_code: None,
                responsible_name: None,
                responsible_phone: None,
                declaration_code: None,
                reject_reason: None,
                created_at: String::new(),
                lat_e6: None,
                lon_e6: None,
            },
            checkpoints: vec![CheckpointRow {
                checkpoint_id: "../south".into(),
                name: "南门".into(),
                responsible_name: String::new(),
                responsible_phone: String::new(),
                disabled: false,
                entry_code: code.map(str::to_string),
                exit_code: code.map(str::to_string),
            }],
            devices: vec![],
            history: vec![],
        }
    }

    fn choice(size: &str) -> PosterChoice {
        PosterChoice {
            venue_id: "v-1".into(),
            checkpoint_id: "../south".into(),
            direction: D::Entry,
            size: size.into(),
            template: None,
        }
    }

    #[test]
    fn posters_are_saved_under_ids_and_refusals_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let v = view(Some("https://csm.example.cn/v/TEST"));
        let saved = save(&v, &choice("a4"), dir.path(), Some(20)).unwrap();
        assert!(
            saved.pdf.ends_with("v-1/___south-entry-a4.pdf"),
            "{}",
            saved.pdf
        );
        assert!(Path::new(&saved.pdf).is_file());
        assert!(Path::new(saved.png.as_deref().unwrap()).is_file());
        let mut seen = Vec::new();
        let all = save_all(&v, "a4", None, dir.path(), |d, t| seen.push((d, t))).unwrap();
        assert_eq!(all.files.len(), 2);
        assert_eq!(seen, [(1, 2), (2, 2)]);
        assert!(Path::new(&all.sheet).is_file());
        let p = preview(&v, &choice("80x180")).unwrap();
        assert_eq!((p.width_mm, p.height_mm), (800.0, 1800.0));
        assert!(!p.png_base64.is_empty());

        assert!(matches!(
            save(&view(None), &choice("a4"), dir.path(), None),
            Err(PosterError::NoCode(_))
        ));
        assert!(matches!(
            preview(&v, &choice("a3")),
            Err(PosterError::Size(_))
        ));
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "x").unwrap();
        let e = save(&v, &choice("a4"), &blocker, None).unwrap_err();
        assert!(matches!(e, PosterError::Write { .. }), "{e}");
        assert_eq!(IpcError::from(e).code, ErrorCode::CannotWrite);
        let bad = PosterChoice {
            template: Some(dir.path().join("none.svg").display().to_string()),
            ..choice("a4")
        };
        assert_eq!(
            IpcError::from(preview(&v, &bad).unwrap_err()).code,
            ErrorCode::BadTemplate
        );
    }
}
