//! From a filled template to PDF and PNG: the SVG is parsed once into a usvg tree with the
//! system's fonts (the CJK family set as the `sans-serif` the templates name), then written as
//! PDF by svg2pdf — text embedded as text from a subset of the font, shapes (the QR code) as
//! vector paths, the page at the template's exact size — or rasterised by resvg.
//!
//! Invariants: a renderer always has a font that covers Chinese (it is not made otherwise, and the
//! error names the fonts looked for and how to install one); a PNG is refused before it would
//! take more than [`MAX_PNG_PIXELS`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use usvg::fontdb;

/// Families looked for, in order, when no font file is given.
pub const CJK_FAMILIES: [&str; 8] = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
];

/// The largest PNG made, in pixels (an 80×180 cm poster at 150 dpi is about 50 million).
pub const MAX_PNG_PIXELS: u64 = 120_000_000;

/// SVG user units are millimetres; usvg measures in CSS pixels (96 per inch).
const PX_PER_INCH: f32 = 96.0;

/// Why no font could be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FontError {
    #[error(
        "no font for Chinese text was found (looked for {0}): install one (Debian: apt install \
         fonts-noto-cjk) or give a font file (--font FILE)"
    )]
    NoCjkFont(String),
    #[error("the font file {path} cannot be used: {why}")]
    Unusable { path: PathBuf, why: String },
}

/// Why a poster could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("the filled template is not valid SVG: {0}")]
    Svg(String),
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
    #[error("the PNG could not be made: {0}")]
    Png(String),
    #[error("at {dpi} dpi the PNG would be {width}×{height} pixels: choose a lower dpi")]
    TooLarge { dpi: f32, width: u32, height: u32 },
}

/// Renders filled templates with one font database (load it once, render many).
pub struct Renderer {
    options: usvg::Options<'static>,
    family: String,
}

impl Renderer {
    /// A renderer with the system's first Chinese family found. Its font files are read into
    /// memory once (each is tens of megabytes; reading them per poster would cost more than the
    /// poster).
    pub fn system() -> Result<Renderer, FontError> {
        let mut system = fontdb::Database::new();
        system.load_system_fonts();
        let (family, files) = CJK_FAMILIES
            .iter()
            .find_map(|f| {
                let files: std::collections::BTreeSet<PathBuf> = system
                    .faces()
                    .filter(|face| face.families.iter().any(|(name, _)| name == f))
                    .filter_map(|face| match &face.source {
                        fontdb::Source::File(p) => Some(p.clone()),
                        _ => None,
                    })
                    .collect();
                (!files.is_empty()).then(|| (f.to_string(), files))
            })
            .ok_or_else(|| FontError::NoCjkFont(CJK_FAMILIES.join(", ")))?;
        let mut db = fontdb::Database::new();
        for path in files {
            let bytes = std::fs::read(&path).map_err(|e| FontError::Unusable {
                path: path.clone(),
                why: e.to_string(),
            })?;
            db.load_font_data(bytes);
        }
        Ok(Renderer::over(db, family))
    }

    /// A renderer with the font in `path` (its first family) for all text.
    pub fn with_font(path: &Path) -> Result<Renderer, FontError> {
        let unusable = |why: String| FontError::Unusable {
            path: path.to_path_buf(),
            why,
        };
        let bytes = std::fs::read(path).map_err(|e| unusable(e.to_string()))?;
        let mut db = fontdb::Database::new();
        db.load_font_data(bytes);
        let family = db
            .faces()
            .find_map(|f| f.families.first().map(|(n, _)| n.clone()))
            .ok_or_else(|| unusable("it holds no font".into()))?;
        Ok(Renderer::over(db, family))
    }

    fn over(mut db: fontdb::Database, family: String) -> Renderer {
        db.set_sans_serif_family(family.clone());
        db.set_serif_family(family.clone());
        let options = usvg::Options {
            fontdb: Arc::new(db),
            font_family: family.clone(),
            dpi: PX_PER_INCH,
            ..usvg::Options::default()
        };
        Renderer { options, family }
    }

    /// The font family Chinese text is set in.
    pub fn family(&self) -> &str {
        &self.family
    }

    fn tree(&self, svg: &str) -> Result<usvg::Tree, RenderError> {
        usvg::Tree::from_str(svg, &self.options).map_err(|e| RenderError::Svg(e.to_string()))
    }

    /// The page as PDF, at the template's size (text embedded and subset, shapes as paths).
    pub fn pdf(&self, svg: &str) -> Result<Vec<u8>, RenderError> {
        let tree = self.tree(svg)?;
        svg2pdf::to_pdf(
            &tree,
            svg2pdf::ConversionOptions::default(),
            svg2pdf::PageOptions { dpi: PX_PER_INCH },
        )
        .map_err(|e| RenderError::Pdf(e.to_string()))
    }

    /// The page as PNG at `dpi`.
    pub fn png(&self, svg: &str, dpi: f32) -> Result<Vec<u8>, RenderError> {
        if !(dpi.is_finite() && dpi > 0.0) {
            return Err(RenderError::Png(format!("{dpi} is not a dpi")));
        }
        let tree = self.tree(svg)?;
        let scale = dpi / PX_PER_INCH;
        let size = tree.size();
        let (w, h) = (
            (size.width() * scale).ceil() as u32,
            (size.height() * scale).ceil() as u32,
        );
        if u64::from(w) * u64::from(h) > MAX_PNG_PIXELS {
            return Err(RenderError::TooLarge {
                dpi,
                width: w,
                height: h,
            });
        }
        let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h)
            .ok_or_else(|| RenderError::Png(format!("no {w}×{h} image")))?;
        pixmap.fill(resvg::tiny_skia::Color::WHITE);
        resvg::render(
            &tree,
            resvg::tiny_skia::Transform::from_scale(scale, scale),
            &mut pixmap.as_mut(),
        );
        pixmap
            .encode_png()
            .map_err(|e| RenderError::Png(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PosterText, Template};
    use venuecode_core::gate::Direction;
    use venuecode_core::poster::PosterSize;

    #[test]
    fn a_missing_font_file_is_named() {
        let e = Renderer::with_font(Path::new("/nonexistent/font.ttf"))
            .err()
            .unwrap();
        assert!(e.to_string().contains("/nonexistent/font.ttf"), "{e}");
        assert!(FontError::NoCjkFont(CJK_FAMILIES.join(", "))
            .to_string()
            .contains("fonts-noto-cjk"));
    }

    #[test]
    fn every_size_renders_and_png_follows_the_dpi() {
        let r = Renderer::system().expect("set-up installs fonts-noto-cjk");
        for size in PosterSize::ALL {
            let svg = Template::built_in(size)
                .fill(&PosterText {
                    venue_name: "阿拉尔市人民医院".into(),
                    checkpoint_name: "南门".into(),
                    direction: Direction::Exit,
                    code: "https://csm.example.cn/v/TEST".into(),
                    short_code: "K7M2-9QXD".into(),
                    instructions: vec![],
                })
                .unwrap();
            let pdf = r.pdf(&svg).unwrap();
            // Page size and vector content are checked with poppler in tests/posters.rs.
            assert!(pdf.starts_with(b"%PDF-"), "{size:?}");
        }
        let svg = Template::built_in(PosterSize::A4)
            .fill(&PosterText {
                venue_name: "x".into(),
                checkpoint_name: "y".into(),
                direction: Direction::Entry,
                code: "z".into(),
                short_code: "K7M2-9QXD".into(),
                instructions: vec![],
            })
            .unwrap();
        let png = r.png(&svg, 72.0).unwrap();
        // 210 mm at 72 dpi: 596 pixels (rounded up).
        assert_eq!(&png[16..20], &596u32.to_be_bytes());
        assert!(matches!(
            r.png(&svg, 100_000.0),
            Err(RenderError::TooLarge { .. })
        ));
        assert!(r.png(&svg, f32::NAN).is_err());
        assert!(matches!(r.pdf("<svg"), Err(RenderError::Svg(_))));
    }
}
