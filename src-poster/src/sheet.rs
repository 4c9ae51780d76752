//! The "how to post" sheet (张贴说明): one A4 page listing every poster of a venue — checkpoint,
//! direction, size, where it goes and its file — so whoever puts them up hangs each code at the
//! door it belongs to (one door, one code).
//!
//! Invariants: every entry is listed (rows shrink to fit the page, down to a legible minimum, and
//! the page says how many were left off if even that is not enough); text never leaves its cell.

use venuecode_core::gate::Direction;
use venuecode_core::poster::{fit_text, PosterSize};

use crate::{direction_en, direction_zh, xml_escape};

/// One poster on the sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetEntry {
    pub checkpoint_name: String,
    pub direction: Direction,
    pub size: PosterSize,
    /// The poster's file name.
    pub file: String,
}

/// A text cell.
fn cell(x: f64, y: f64, w: f64, h: f64, text: &str, max: f64, bold: bool) -> String {
    let f = fit_text(text, w, h, max, max * 0.5, 2);
    let line_h = f.size * 1.25;
    let block = f.lines.len() as f64 * line_h - f.size * 0.25;
    let top = y + (h - block).max(0.0) / 2.0;
    let spans: String = f
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            format!(
                "<tspan x=\"{x:.2}\" y=\"{:.2}\">{}</tspan>",
                top + f.size * 0.88 + i as f64 * line_h,
                xml_escape(l)
            )
        })
        .collect();
    format!(
        "<text font-family=\"sans-serif\" font-size=\"{:.2}\" font-weight=\"{}\" fill=\"#111111\">{spans}</text>",
        f.size,
        if bold { "bold" } else { "normal" }
    )
}

/// The sheet for `venue_name`'s posters, as an A4 SVG page.
pub fn how_to_post(venue_name: &str, entries: &[SheetEntry]) -> String {
    let mut out = String::from(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"210mm\" height=\"297mm\" viewBox=\"0 0 210 297\">\
         <rect width=\"210\" height=\"297\" fill=\"#ffffff\"/>\
         <rect width=\"210\" height=\"24\" fill=\"#c8102e\"/>\
         <text x=\"105\" y=\"14.5\" font-family=\"sans-serif\" font-size=\"6.5\" font-weight=\"bold\" fill=\"#ffffff\" text-anchor=\"middle\">场所码张贴说明 · How to post the venue codes</text>",
    );
    out.push_str(&cell(12.0, 28.0, 186.0, 14.0, venue_name, 8.0, true));
    let rules = [
        "一门一码：每个检测点的进、出码只贴在该检测点，不得一码多贴。",
        "One door, one code: post each checkpoint's entry and exit codes at that checkpoint only.",
    ];
    for (i, r) in rules.iter().enumerate() {
        out.push_str(&cell(
            12.0,
            43.0 + i as f64 * 6.0,
            186.0,
            6.0,
            r,
            3.6,
            false,
        ));
    }
    let (top, bottom) = (58.0, 287.0);
    let header_h = 8.0;
    // Rows shrink to fit the page, down to 7 mm.
    let row_h = ((bottom - top - header_h) / entries.len().max(1) as f64).clamp(7.0, 16.0);
    let fits = ((bottom - top - header_h) / row_h).floor() as usize;
    let cols = [
        (12.0, 34.0, "检测点 Checkpoint"),
        (46.0, 20.0, "方向 Way"),
        (66.0, 22.0, "尺寸 Size"),
        (88.0, 62.0, "张贴位置 Where"),
        (150.0, 48.0, "文件 File"),
    ];
    out.push_str(&format!(
        "<rect x=\"10\" y=\"{top}\" width=\"190\" height=\"{header_h}\" fill=\"#eeeeee\"/>"
    ));
    for (x, w, title) in cols {
        out.push_str(&cell(x, top, w - 2.0, header_h, title, 3.4, true));
    }
    for (i, e) in entries.iter().take(fits).enumerate() {
        let y = top + header_h + i as f64 * row_h;
        out.push_str(&format!(
            "<rect x=\"10\" y=\"{:.2}\" width=\"190\" height=\"0.3\" fill=\"#bbbbbb\"/>",
            y
        ));
        let size = match e.size {
            PosterSize::A4 => "A4",
            PosterSize::TwoPanel => "60×90 cm",
            PosterSize::Banner => "80×180 cm",
        };
        let texts = [
            e.checkpoint_name.clone(),
            format!(
                "{} {}",
                direction_zh(e.direction),
                direction_en(e.direction)
            ),
            size.to_string(),
            format!("{} · {}", e.size.placement_zh(), e.size.placement_en()),
            e.file.clone(),
        ];
        for ((x, w, _), t) in cols.iter().zip(texts.iter()) {
            out.push_str(&cell(*x, y, w - 2.0, row_h, t, 4.2, false));
        }
    }
    if entries.len() > fits {
        out.push_str(&cell(
            12.0,
            bottom,
            186.0,
            8.0,
            &format!(
                "另有 {} 张未列出 · {} more not listed",
                entries.len() - fits,
                entries.len() - fits
            ),
            3.6,
            true,
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_poster_is_listed_and_the_page_stays_valid() {
        let entries: Vec<SheetEntry> = (0..6)
            .map(|i| SheetEntry {
                checkpoint_name: format!("门{i}"),
                direction: if i % 2 == 0 {
                    Direction::Entry
                } else {
                    Direction::Exit
                },
                size: PosterSize::A4,
                file: format!("p{i}.pdf"),
            })
            .collect();
        let svg = how_to_post("阿拉尔市人民医院 <A&B>", &entries);
        assert!(roxmltree::Document::parse(&svg).is_ok());
        for i in 0..6 {
            assert!(svg.contains(&format!(">p{i}.pdf<")), "{i}");
        }
        assert!(svg.contains("&lt;A&amp;B&gt;"));
        let many: Vec<SheetEntry> = (0..100).map(|_| entries[0].clone()).collect();
        let svg = how_to_post("v", &many);
        assert!(svg.contains("more not listed"));
        assert!(roxmltree::Document::parse(&svg).is_ok());
    }
}
