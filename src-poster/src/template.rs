//! Poster templates: SVG files whose page is one of the poster sizes (width and height in mm,
//! viewBox `0 0 W H`, so one user unit is one millimetre) and whose placeholders are `<rect>`s
//! with these ids:
//!
//! | id | filled with |
//! |---|---|
//! | `vc-qr` | the QR code, as vector paths, centred in the largest square that fits |
//! | `vc-venue-name` | the venue's full name |
//! | `vc-checkpoint` | the checkpoint's name |
//! | `vc-direction` | 进 or 出 |
//! | `vc-short-code` | the code to type when the QR cannot be read |
//! | `vc-instructions` | the deployment's instructions, one paragraph each |
//! | `vc-direction-en` (optional) | ENTRY or EXIT |
//!
//! A text placeholder may say how its text is set: `data-max-size` and `data-min-size` (font
//! size in mm), `data-lines` (most lines), `data-weight` (`bold`), `data-fill` (a colour),
//! `data-anchor` (`start`, `middle`, `end`) and `data-valign` (`top`, `middle`).
//!
//! Invariants: a template is checked when it is read — every required placeholder present once,
//! each a rect with numbers for x, y, width and height inside the page, and a QR area large
//! enough for the size's reading distance with a typical venue code; filling never overflows a
//! box (the text shrinks, wraps, and at its smallest is cut with "…").

use std::collections::BTreeMap;

use venuecode_core::poster::{self, PosterSize};

use crate::{direction_en, direction_zh, xml_escape, PosterText};

/// The placeholders every template must have.
pub const PLACEHOLDERS: [&str; 6] = [
    "vc-qr",
    "vc-venue-name",
    "vc-checkpoint",
    "vc-direction",
    "vc-short-code",
    "vc-instructions",
];

/// Placeholders a template may have.
const OPTIONAL: [&str; 1] = ["vc-direction-en"];

/// A typical venue code (a 20-character name), for checking a template's QR area when it is read.
const TYPICAL_CODE: &str = "https://csm.example.cn/v/HC1:6BFHU3QN8NJ0ZKAN.:UP9LNU*BO96DGE4TPF2%OK6WI*S7Q34KT/PT0BT3NKY*SF7IK4G82I7VB$V1YBFWK0EN/DBD3E2X9N3U*24KS7ZTKKA1*N+TOV%FDNUD$G:ZK/O3W.1F2WM+P0DKBTHYGF3NU$87JDP3EWRU-5Z7-4+0VJ5RPYKA6O7GLRM-5O3";

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    #[error("the template is not readable SVG: {0}")]
    Xml(String),
    #[error(
        "the template's page ({0}) is none of the poster sizes: give width and height in mm — \
         210mm×297mm (A4), 600mm×900mm (60×90 cm) or 800mm×1800mm (80×180 cm) — and viewBox \
         \"0 0 W H\" with the same numbers"
    )]
    PageSize(String),
    #[error(
        "the template has no placeholder {0}: add a <rect id=\"{0}\" x=… y=… width=… height=…/>"
    )]
    Missing(&'static str),
    #[error("placeholder {0} appears more than once")]
    Duplicate(String),
    #[error("placeholder {0} must be a <rect>")]
    NotARect(String),
    #[error("placeholder {id}: {attr} must be a number in millimetres")]
    BadNumber { id: String, attr: &'static str },
    #[error("placeholder {0} lies outside the page or has no area")]
    OutsidePage(String),
    #[error("placeholder vc-qr: {0}")]
    Qr(#[from] poster::PosterError),
    #[error(
        "placeholder {0} overlaps the QR area (vc-qr): keep text off the code and its quiet zone"
    )]
    OverlapsQr(String),
}

/// A placeholder's box and how its text is set.
#[derive(Debug, Clone, PartialEq)]
struct Slot {
    /// Byte range of the element in the source.
    range: std::ops::Range<usize>,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    max_size: f64,
    min_size: f64,
    lines: usize,
    weight: String,
    fill: String,
    anchor: String,
    valign: String,
}

/// A checked template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    name: String,
    source: String,
    size: PosterSize,
    slots: BTreeMap<&'static str, Slot>,
}

/// The built-in templates, one per size.
const BUILT_IN: [(PosterSize, &str, &str); 3] = [
    (
        PosterSize::A4,
        "built-in A4",
        include_str!("../templates/a4.svg"),
    ),
    (
        PosterSize::TwoPanel,
        "built-in 60×90",
        include_str!("../templates/60x90.svg"),
    ),
    (
        PosterSize::Banner,
        "built-in 80×180",
        include_str!("../templates/80x180.svg"),
    ),
];

fn mm(attr: Option<&str>) -> Option<f64> {
    attr?.trim().strip_suffix("mm")?.trim().parse().ok()
}

impl Template {
    /// The built-in template for `size`.
    pub fn built_in(size: PosterSize) -> Template {
        let (_, name, svg) = BUILT_IN
            .iter()
            .find(|(s, _, _)| *s == size)
            .copied()
            .unwrap_or(BUILT_IN[0]);
        // The built-in templates are checked by a test; were one ever damaged, the A4 one
        // (also checked) stands in rather than panicking.
        Template::parse(name, svg)
            .or_else(|_| Template::parse(BUILT_IN[0].1, BUILT_IN[0].2))
            .unwrap_or_else(|_| Template {
                name: name.into(),
                source: String::new(),
                size,
                slots: BTreeMap::new(),
            })
    }

    /// Reads and checks a template; `name` says which one in messages.
    pub fn parse(name: &str, svg: &str) -> Result<Template, TemplateError> {
        let doc = roxmltree::Document::parse(svg).map_err(|e| TemplateError::Xml(e.to_string()))?;
        let root = doc.root_element();
        if root.tag_name().name() != "svg" {
            return Err(TemplateError::Xml("the root element is not <svg>".into()));
        }
        let (w, h) = (mm(root.attribute("width")), mm(root.attribute("height")));
        let described = format!(
            "width {:?}, height {:?}, viewBox {:?}",
            root.attribute("width").unwrap_or(""),
            root.attribute("height").unwrap_or(""),
            root.attribute("viewBox").unwrap_or("")
        );
        let size = PosterSize::ALL
            .into_iter()
            .find(|s| {
                let (sw, sh) = s.mm();
                w.is_some_and(|w| (w - sw).abs() < 0.01) && h.is_some_and(|h| (h - sh).abs() < 0.01)
            })
            .ok_or_else(|| TemplateError::PageSize(described.clone()))?;
        let (pw, ph) = size.mm();
        let view: Vec<f64> = root
            .attribute("viewBox")
            .unwrap_or("")
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect();
        if view.len() != 4
            || view[0] != 0.0
            || view[1] != 0.0
            || (view[2] - pw).abs() > 0.01
            || (view[3] - ph).abs() > 0.01
        {
            return Err(TemplateError::PageSize(described));
        }
        let mut slots = BTreeMap::new();
        for node in doc.descendants().filter(|n| n.is_element()) {
            let Some(id) = node.attribute("id") else {
                continue;
            };
            let Some(key) = PLACEHOLDERS
                .iter()
                .chain(OPTIONAL.iter())
                .find(|p| **p == id)
                .copied()
            else {
                continue;
            };
            if slots.contains_key(key) {
                return Err(TemplateError::Duplicate(id.into()));
            }
            if node.tag_name().name() != "rect" {
                return Err(TemplateError::NotARect(id.into()));
            }
            let num = |attr: &'static str| {
                node.attribute(attr)
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|v| v.is_finite())
                    .ok_or(TemplateError::BadNumber {
                        id: id.into(),
                        attr,
                    })
            };
            let (x, y, w, h) = (num("x")?, num("y")?, num("width")?, num("height")?);
            if w <= 0.0 || h <= 0.0 || x < 0.0 || y < 0.0 || x + w > pw + 0.01 || y + h > ph + 0.01
            {
                return Err(TemplateError::OutsidePage(id.into()));
            }
            let data = |attr: &str| node.attribute(attr).map(str::to_string);
            let data_num = |attr: &str, default: f64| {
                node.attribute(attr)
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .unwrap_or(default)
            };
            let max_size = data_num("data-max-size", h * 0.6);
            slots.insert(
                key,
                Slot {
                    range: node.range(),
                    x,
                    y,
                    w,
                    h,
                    max_size,
                    min_size: data_num("data-min-size", max_size / 3.0).min(max_size),
                    lines: data_num("data-lines", 0.0) as usize,
                    weight: data("data-weight").unwrap_or_else(|| "normal".into()),
                    fill: data("data-fill").unwrap_or_else(|| "#000000".into()),
                    anchor: data("data-anchor").unwrap_or_else(|| "middle".into()),
                    valign: data("data-valign").unwrap_or_else(|| "middle".into()),
                },
            );
        }
        for p in PLACEHOLDERS {
            if !slots.contains_key(p) {
                return Err(TemplateError::Missing(p));
            }
        }
        // Text boxes keep off the QR area (its quiet zone included).
        if let Some(q) = slots.get("vc-qr") {
            for (id, s) in slots.iter().filter(|(id, _)| **id != "vc-qr") {
                let apart = s.x + s.w <= q.x + 0.01
                    || q.x + q.w <= s.x + 0.01
                    || s.y + s.h <= q.y + 0.01
                    || q.y + q.h <= s.y + 0.01;
                if !apart {
                    return Err(TemplateError::OverlapsQr(id.to_string()));
                }
            }
        }
        let t = Template {
            name: name.into(),
            source: svg.into(),
            size,
            slots,
        };
        poster::fit_qr(TYPICAL_CODE, t.qr_side().unwrap_or(0.0), size)?;
        Ok(t)
    }

    /// The template's name (a file name, or "built-in A4" …).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The poster size its page is.
    pub fn size(&self) -> PosterSize {
        self.size
    }

    /// The QR placeholder's box (x, y, width, height in mm).
    pub fn qr_area(&self) -> Option<(f64, f64, f64, f64)> {
        self.slots.get("vc-qr").map(|s| (s.x, s.y, s.w, s.h))
    }

    fn qr_side(&self) -> Option<f64> {
        self.slots.get("vc-qr").map(|s| s.w.min(s.h))
    }

    /// The template filled for one poster: an SVG document of the page.
    pub fn fill(&self, p: &PosterText) -> Result<String, TemplateError> {
        let qr_slot = self
            .slots
            .get("vc-qr")
            .ok_or(TemplateError::Missing("vc-qr"))?;
        let side = qr_slot.w.min(qr_slot.h);
        let fit = poster::fit_qr(&p.code, side, self.size)?;
        let mut parts: Vec<(std::ops::Range<usize>, String)> = Vec::new();
        let mut qr = String::new();
        for (key, slot) in &self.slots {
            let markup = match *key {
                "vc-qr" => {
                    let (x0, y0) = (
                        slot.x + (slot.w - fit.symbol_mm) / 2.0,
                        slot.y + (slot.h - fit.symbol_mm) / 2.0,
                    );
                    let quiet = fit.module_mm * poster::QUIET_MODULES as f64;
                    // Drawn last, over anything the template put there: nothing crowds the
                    // quiet zone.
                    qr = format!(
                        "<g id=\"vc-qr\"><rect x=\"{:.3}\" y=\"{:.3}\" width=\"{:.3}\" height=\"{:.3}\" fill=\"#ffffff\"/><path fill=\"#000000\" d=\"{}\"/></g>",
                        x0 - quiet,
                        y0 - quiet,
                        fit.symbol_mm + 2.0 * quiet,
                        fit.symbol_mm + 2.0 * quiet,
                        poster::qr_svg_path(&fit.matrix, x0, y0, fit.module_mm)
                    );
                    String::new()
                }
                "vc-instructions" => {
                    let f = poster::fit_paragraphs(
                        &p.instructions_or_default(),
                        slot.w,
                        slot.h,
                        slot.max_size,
                        slot.min_size,
                    );
                    text(key, slot, &f)
                }
                _ => {
                    let content = match *key {
                        "vc-venue-name" => p.venue_name.clone(),
                        "vc-checkpoint" => p.checkpoint_name.clone(),
                        "vc-direction" => direction_zh(p.direction).into(),
                        "vc-direction-en" => direction_en(p.direction).into(),
                        _ => p.short_code.clone(),
                    };
                    let f = poster::fit_text(
                        &content,
                        slot.w,
                        slot.h,
                        slot.max_size,
                        slot.min_size,
                        slot.lines.max(1),
                    );
                    text(key, slot, &f)
                }
            };
            parts.push((slot.range.clone(), markup));
        }
        parts.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
        let mut out = self.source.clone();
        for (range, markup) in parts {
            if out.get(range.clone()).is_some() {
                out.replace_range(range, &markup);
            }
        }
        match out.rfind("</svg>") {
            Some(end) => out.insert_str(end, &qr),
            None => return Err(TemplateError::Xml("the template has no </svg>".into())),
        }
        Ok(out)
    }
}

/// A fitted text as an SVG `<text>` in its box (one `<tspan>` per line).
fn text(id: &str, s: &Slot, f: &poster::FittedText) -> String {
    let anchor = match s.anchor.as_str() {
        "start" | "end" => s.anchor.as_str(),
        _ => "middle",
    };
    let x = match anchor {
        "start" => s.x,
        "end" => s.x + s.w,
        _ => s.x + s.w / 2.0,
    };
    let line_h = f.size * 1.25;
    let block = f.lines.len() as f64 * line_h - f.size * 0.25;
    let top = if s.valign == "top" {
        s.y
    } else {
        s.y + (s.h - block).max(0.0) / 2.0
    };
    // CJK glyphs sit about 0.88 em above the baseline.
    let mut spans = String::new();
    for (i, line) in f.lines.iter().enumerate() {
        spans.push_str(&format!(
            "<tspan x=\"{x:.3}\" y=\"{:.3}\">{}</tspan>",
            top + f.size * 0.88 + i as f64 * line_h,
            xml_escape(line)
        ));
    }
    format!(
        "<text id=\"{id}\" font-family=\"sans-serif\" font-size=\"{:.3}\" font-weight=\"{}\" fill=\"{}\" text-anchor=\"{anchor}\">{spans}</text>",
        f.size,
        xml_escape(&s.weight),
        xml_escape(&s.fill)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use venuecode_core::gate::Direction;

    fn poster() -> PosterText {
        PosterText {
            venue_name: "阿拉尔市人民医院".into(),
            checkpoint_name: "南门".into(),
            direction: Direction::Entry,
            code: TYPICAL_CODE.into(),
            short_code: "K7M2-9QXD".into(),
            instructions: vec![],
        }
    }

    #[test]
    fn the_built_in_templates_read_and_fill() {
        for size in PosterSize::ALL {
            let t = Template::parse("t", BUILT_IN.iter().find(|b| b.0 == size).unwrap().2)
                .unwrap_or_else(|e| panic!("{size:?}: {e}"));
            assert_eq!(t.size(), size);
            let built_in = Template::built_in(size);
            assert_eq!((built_in.size(), &built_in.slots), (size, &t.slots));
            let svg = t.fill(&poster()).unwrap();
            assert!(roxmltree::Document::parse(&svg).is_ok());
            assert!(svg.contains(">阿拉尔市人民医院</tspan>"));
            assert!(svg.contains(">南门</tspan>") && svg.contains(">进</tspan>"));
            assert!(svg.contains(">K7M2-9QXD</tspan>") && svg.contains(">ENTRY</tspan>"));
            assert!(!svg.contains("id=\"vc-qr\" x="), "the QR rect was replaced");
            // The code is drawn last: nothing in the template covers it.
            assert!(
                svg.trim_end().ends_with("</g></svg>"),
                "{}",
                &svg[svg.len() - 80..]
            );
        }
    }

    #[test]
    fn a_bad_template_is_refused_saying_what_is_wrong() {
        let a4 = BUILT_IN[0].2;
        let e = |svg: &str| Template::parse("t", svg).unwrap_err();
        assert_eq!(
            e(&a4.replace("id=\"vc-short-code\"", "id=\"other\"")),
            TemplateError::Missing("vc-short-code")
        );
        assert!(e(&a4.replace("id=\"vc-short-code\"", "id=\"other\""))
            .to_string()
            .contains("vc-short-code"));
        assert!(matches!(
            e(&a4.replace("width=\"210mm\"", "width=\"200mm\"")),
            TemplateError::PageSize(_)
        ));
        let small = a4.replace(
            "<rect id=\"vc-qr\" x=\"30\" y=\"92\" width=\"150\" height=\"150\"/>",
            "<rect id=\"vc-qr\" x=\"30\" y=\"92\" width=\"60\" height=\"60\"/>",
        );
        let err = e(&small);
        assert!(matches!(err, TemplateError::Qr(_)), "{err:?}");
        assert!(err.to_string().contains("too small"), "{err}");
        assert!(matches!(
            e(&a4.replace("<rect id=\"vc-qr\"", "<circle id=\"vc-qr\"")),
            TemplateError::Xml(_) | TemplateError::NotARect(_)
        ));
        assert!(matches!(
            e(&a4.replace("id=\"vc-qr\" x=\"30\"", "id=\"vc-qr\" x=\"thirty\"")),
            TemplateError::BadNumber { .. }
        ));
        assert!(matches!(
            e(&a4.replace("id=\"vc-qr\" x=\"30\"", "id=\"vc-qr\" x=\"300\"")),
            TemplateError::OutsidePage(_)
        ));
        assert!(matches!(e("<svg"), TemplateError::Xml(_)));
        let over = a4.replace(
            "<rect id=\"vc-short-code\" x=\"40\" y=\"249\"",
            "<rect id=\"vc-short-code\" x=\"40\" y=\"230\"",
        );
        assert_eq!(e(&over), TemplateError::OverlapsQr("vc-short-code".into()));
        let twice = a4.replace(
            "<rect id=\"vc-short-code\"",
            "<rect id=\"vc-checkpoint\" x=\"1\" y=\"1\" width=\"1\" height=\"1\"/><rect id=\"vc-short-code\"",
        );
        assert!(matches!(e(&twice), TemplateError::Duplicate(_)));
    }

    #[test]
    fn a_name_too_long_shrinks_and_wraps_inside_its_box_and_markup_is_escaped() {
        let t = Template::built_in(PosterSize::A4);
        let long =
            "新疆生产建设兵团第一师阿拉尔市幸福路农贸市场管理有限公司第二分公司东区<&>".repeat(3);
        let svg = t
            .fill(&PosterText {
                venue_name: long,
                ..poster()
            })
            .unwrap();
        assert!(svg.contains("&lt;&amp;&gt;"));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let name = doc
            .descendants()
            .find(|n| n.attribute("id") == Some("vc-venue-name"))
            .unwrap();
        let size: f64 = name.attribute("font-size").unwrap().parse().unwrap();
        let lines: Vec<String> = name
            .children()
            .filter(|n| n.is_element())
            .map(|n| n.text().unwrap_or("").to_string())
            .collect();
        assert!(lines.len() <= 2, "{lines:?}");
        for l in &lines {
            assert!(poster::width_em(l) * size <= 190.0 + 1e-6, "{l}");
        }
        assert!(lines.len() as f64 * size * 1.25 - size * 0.25 <= 22.0 + 1e-6);
    }
}
