//! Print-ready venue code posters (场所码海报): one poster per checkpoint and direction, at the
//! exact physical size cities hand venues (A4, 两开 60×90 cm, 展架 80×180 cm), as PDF with the
//! QR code as vector paths and the Chinese text embedded from a subset CJK font, or as PNG at a
//! chosen DPI; and the one-page "how to post" sheet listing a venue's posters.
//!
//! Layouts are SVG templates with named placeholders (`template.rs`), so a city drops in its own
//! unified layout (统一版式); three are built in, one per size. Text is fitted into each box by
//! core's rule (shrink, then wrap, never overflow) and the QR code is sized for the distance
//! people read the poster from (`venuecode_core::poster`). `render.rs` turns a filled template
//! into PDF (svg2pdf) and PNG (resvg) with the system's CJK font; `sheet.rs` draws the sheet.
//!
//! Invariants: a template is checked when it is read (every placeholder present, a page of a
//! known size, a QR area that reads from the size's distance); nothing here panics on input;
//! the only I/O is reading fonts (and a font file when one is given).

mod render;
mod sheet;
mod template;

pub use render::{FontError, RenderError, Renderer};
pub use sheet::{how_to_post, SheetEntry};
pub use template::{Template, TemplateError, PLACEHOLDERS};

use venuecode_core::gate::Direction;

/// The deployment's instructions printed on every poster by default (zh-CN, then English).
pub const DEFAULT_INSTRUCTIONS: &[&str] = &[
    "逢进必扫、逢扫必验：请用手机扫码，并向检测员出示登记结果。",
    "同行多人须逐人扫码；老人、儿童可由家人代为登记。",
    "没有手机？请向检测员出示身份证，由检测员手工登记。",
    "Scan on every entry and show the result to the inspector. Each person scans; family members \
     may register elders and children. No phone? Show your ID card to the inspector.",
];

/// What one poster says.
#[derive(Debug, Clone, PartialEq)]
pub struct PosterText {
    /// The venue's full registered name.
    pub venue_name: String,
    /// The checkpoint's name (南门, 北门 …).
    pub checkpoint_name: String,
    pub direction: Direction,
    /// The venue code the QR carries (a URL signed by the venue authority).
    pub code: String,
    /// The code a person types when the QR cannot be read (`venuecode_core::poster::short_code`).
    pub short_code: String,
    /// The deployment's instructions, one paragraph each.
    pub instructions: Vec<String>,
}

impl PosterText {
    /// The instructions, or the default ones when none are given.
    pub fn instructions_or_default(&self) -> Vec<String> {
        if self.instructions.iter().any(|p| !p.trim().is_empty()) {
            self.instructions.clone()
        } else {
            DEFAULT_INSTRUCTIONS.iter().map(|s| s.to_string()).collect()
        }
    }
}

/// 进 or 出, as printed.
pub fn direction_zh(d: Direction) -> &'static str {
    match d {
        Direction::Entry => "进",
        Direction::Exit => "出",
    }
}

/// ENTRY or EXIT, as printed.
pub fn direction_en(d: Direction) -> &'static str {
    match d {
        Direction::Entry => "ENTRY",
        Direction::Exit => "EXIT",
    }
}

/// A file-name-safe form of an id (ASCII letters, digits, `-` and `_`; anything else `_`), so no
/// name or id can make a path.
pub fn safe_file_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A poster's file name: `<checkpoint id>-<entry|exit>-<size>.pdf`.
pub fn poster_file_name(
    checkpoint_id: &str,
    direction: Direction,
    size: venuecode_core::poster::PosterSize,
) -> String {
    format!(
        "{}-{}-{}.pdf",
        safe_file_part(checkpoint_id),
        direction.as_str(),
        size.code()
    )
}

/// Escapes text for SVG character data and attribute values.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}
