//! Poster rules (场所码海报): the three printed sizes cities hand venues, how large a QR code must
//! be to read from where people stand in front of each, how text is fitted into a template's box,
//! and the short code printed under the QR for a person to type when it cannot be read.
//!
//! The QR sizing rule: a phone camera (about 65° across, 1280 pixels wide in its preview) sees
//! roughly 1 mm per pixel for each metre of distance, and decodes reliably, slightly blurred and
//! turned, from about 3 pixels per module. So a module must be at least 3 mm per metre of reading
//! distance. Each size has the distance people read it from (A4 on a glass door, at arm's
//! length: 0.5 m; 两开 on the right door, its lower edge 1.5 m up, from a step back: 1.5 m; 展架
//! beside the entrance, from the queue: 2.5 m). Error correction Q (25%: posters fade, get wet and
//! catch glare) is chosen when its modules, with the 4-module quiet zone, come out at least 1.5
//! times that minimum in the template's QR area; otherwise M, whose modules must still reach the
//! minimum. More correction at the edge of the minimum would shrink every module and read worse
//! than the damage it repairs.
//!
//! Invariants: pure; every function answers for all input (no panics); a fitted text never
//! exceeds its box by the estimate used here (CJK glyphs are one em wide, others at most 0.6 em).

use sha2::{Digest, Sha256};

use crate::gate::Direction;
use crate::qr::{Ecc, QrMatrix};

/// A printed poster size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PosterSize {
    /// A4 (210×297 mm), for glass doors and windows.
    A4,
    /// 两开 (60×90 cm), on the right door at its centre line, lower edge 1.5 m above the floor.
    TwoPanel,
    /// 展架 (80×180 cm), a stand at the right of the entrance.
    Banner,
}

impl PosterSize {
    /// Every size, smallest first.
    pub const ALL: [PosterSize; 3] = [PosterSize::A4, PosterSize::TwoPanel, PosterSize::Banner];

    /// The stable name used in files, commands and the API.
    pub fn code(self) -> &'static str {
        match self {
            PosterSize::A4 => "a4",
            PosterSize::TwoPanel => "60x90",
            PosterSize::Banner => "80x180",
        }
    }

    /// Looks a size up by its stable name.
    pub fn from_code(code: &str) -> Option<PosterSize> {
        PosterSize::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Page width and height in millimetres.
    pub fn mm(self) -> (f64, f64) {
        match self {
            PosterSize::A4 => (210.0, 297.0),
            PosterSize::TwoPanel => (600.0, 900.0),
            PosterSize::Banner => (800.0, 1800.0),
        }
    }

    /// How far people stand when they scan it, in metres.
    pub fn reading_distance_m(self) -> f64 {
        match self {
            PosterSize::A4 => 0.5,
            PosterSize::TwoPanel => 1.5,
            PosterSize::Banner => 2.5,
        }
    }

    /// The smallest module that reads from the reading distance, in millimetres.
    pub fn min_module_mm(self) -> f64 {
        MM_PER_METRE_PER_MODULE * self.reading_distance_m()
    }

    /// Where the poster goes (zh-CN), for the "how to post" sheet.
    pub fn placement_zh(self) -> &'static str {
        match self {
            PosterSize::A4 => "张贴在入口玻璃门或窗上，与视线齐平",
            PosterSize::TwoPanel => "张贴在入口右侧门扇的中线上，下沿距地面 1.5 米",
            PosterSize::Banner => "立于入口右侧，正对进场人流",
        }
    }

    /// Where the poster goes (English).
    pub fn placement_en(self) -> &'static str {
        match self {
            PosterSize::A4 => "on the entrance's glass door or window, at eye level",
            PosterSize::TwoPanel => {
                "on the right door leaf at its centre line, lower edge 1.5 m above the floor"
            }
            PosterSize::Banner => "standing at the right of the entrance, facing people coming in",
        }
    }
}

/// Millimetres of module per metre of reading distance (see the module documentation).
pub const MM_PER_METRE_PER_MODULE: f64 = 3.0;

/// The quiet zone around the symbol, in modules (the standard's minimum).
pub const QUIET_MODULES: usize = 4;

/// Why a QR code does not fit a poster.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PosterError {
    #[error("the code's text is too long for a QR code")]
    TooLong,
    #[error(
        "the QR area ({side_mm:.0} mm) is too small for a {size} poster: its modules would be \
         {module_mm:.2} mm, and reading from {distance_m} m needs at least {min_mm:.2} mm \
         (a QR area of at least {needed_mm:.0} mm)"
    )]
    QrAreaTooSmall {
        size: &'static str,
        side_mm: f64,
        module_mm: f64,
        min_mm: f64,
        distance_m: f64,
        needed_mm: f64,
    },
}

/// A QR code laid out in a square area.
#[derive(Debug, Clone, PartialEq)]
pub struct QrFit {
    pub matrix: QrMatrix,
    pub ecc: Ecc,
    /// One module's side, millimetres.
    pub module_mm: f64,
    /// The symbol's side without quiet zone, millimetres (centred in the area).
    pub symbol_mm: f64,
}

/// How much larger than the minimum Q's modules must be for Q to be chosen over M.
pub const Q_MARGIN: f64 = 1.5;

/// Lays `text` out in a square QR area of `side_mm` for a poster of `size` (see the module
/// documentation for the rule), with the 4-module quiet zone inside the area.
pub fn fit_qr(text: &str, side_mm: f64, size: PosterSize) -> Result<QrFit, PosterError> {
    let min = size.min_module_mm();
    let side = if side_mm.is_finite() && side_mm > 0.0 {
        side_mm
    } else {
        0.0
    };
    let layout = |ecc: Ecc| {
        QrMatrix::encode(text, ecc).ok().map(|matrix| {
            let total = (matrix.width + 2 * QUIET_MODULES) as f64;
            let module_mm = side / total;
            QrFit {
                symbol_mm: module_mm * matrix.width as f64,
                matrix,
                ecc,
                module_mm,
            }
        })
    };
    if let Some(q) = layout(Ecc::Q).filter(|q| q.module_mm >= min * Q_MARGIN) {
        return Ok(q);
    }
    let m = layout(Ecc::M).ok_or(PosterError::TooLong)?;
    if m.module_mm >= min {
        return Ok(m);
    }
    let total = (m.matrix.width + 2 * QUIET_MODULES) as f64;
    Err(PosterError::QrAreaTooSmall {
        size: size.code(),
        side_mm: side,
        module_mm: m.module_mm,
        min_mm: min,
        distance_m: size.reading_distance_m(),
        needed_mm: min * total,
    })
}

/// The QR symbol's dark modules as one SVG path in `module`-sized squares, offset by `(x, y)`
/// (vector paths: crisp at any print size). Adjacent modules in a row merge into one rectangle.
pub fn qr_svg_path(m: &QrMatrix, x: f64, y: f64, module: f64) -> String {
    let mut d = String::new();
    for row in 0..m.width {
        let mut col = 0;
        while col < m.width {
            if !m.dark(col, row) {
                col += 1;
                continue;
            }
            let start = col;
            while col < m.width && m.dark(col, row) {
                col += 1;
            }
            let (px, py) = (x + start as f64 * module, y + row as f64 * module);
            let w = (col - start) as f64 * module;
            d.push_str(&format!("M{px:.3} {py:.3}h{w:.3}v{module:.3}h{:.3}z", -w));
        }
    }
    d
}

/// Text fitted into a box: its font size and lines.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedText {
    /// Font size, in the box's units.
    pub size: f64,
    pub lines: Vec<String>,
}

/// Estimated advance of `c` in ems: CJK and full-width forms one em, others 0.6 (conservative
/// for the proportional Latin of CJK fonts).
fn advance_em(c: char) -> f64 {
    let u = c as u32;
    let wide = (0x1100..=0x115F).contains(&u)
        || (0x2E80..=0xA4CF).contains(&u)
        || (0xAC00..=0xD7A3).contains(&u)
        || (0xF900..=0xFAFF).contains(&u)
        || (0xFE30..=0xFE4F).contains(&u)
        || (0xFF00..=0xFF60).contains(&u)
        || (0xFFE0..=0xFFE6).contains(&u)
        || (0x20000..=0x3FFFD).contains(&u);
    if wide {
        1.0
    } else {
        0.6
    }
}

/// Punctuation that must not begin a line (避头点): it stays with what comes before it.
fn no_line_start(c: char) -> bool {
    "，。、；：！？）」』》〉】〕…·,.;:!?)]}%".contains(c)
}

/// Width of `s` in ems.
pub fn width_em(s: &str) -> f64 {
    s.chars().map(advance_em).sum()
}

/// Breaks `text` into lines of at most `max_em` ems: between CJK characters anywhere, between
/// other words at spaces (a word longer than a line is broken where it must be).
fn wrap(text: &str, max_em: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut width = 0.0;
    // Units that must stay together: a run of non-space, non-CJK characters, or one CJK char.
    let mut units: Vec<String> = Vec::new();
    for c in text.chars() {
        let wide = advance_em(c) >= 1.0;
        match units.last_mut() {
            Some(u) if no_line_start(c) && !u.trim().is_empty() => u.push(c),
            Some(u)
                if !wide
                    && !c.is_whitespace()
                    && u.chars()
                        .last()
                        .is_some_and(|l| advance_em(l) < 1.0 && !l.is_whitespace()) =>
            {
                u.push(c)
            }
            _ => units.push(c.to_string()),
        }
    }
    for unit in units {
        let w = width_em(&unit);
        if width + w > max_em + 1e-9 && !line.trim().is_empty() {
            lines.push(line.trim_end().to_string());
            line.clear();
            width = 0.0;
            if unit.trim().is_empty() {
                continue;
            }
        }
        if w > max_em {
            // A word longer than the line: break it by characters.
            for c in unit.chars() {
                let cw = advance_em(c);
                if width + cw > max_em + 1e-9 && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    width = 0.0;
                }
                line.push(c);
                width += cw;
            }
            continue;
        }
        line.push_str(&unit);
        width += w;
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// Fits `text` (control characters dropped, spaces collapsed) into a `width`×`height` box at the
/// largest font size up to `max_size` that needs at most `max_lines` lines (line height 1.25
/// em); below `min_size` it stops shrinking and the text is cut with "…" on its last line, so it
/// never overflows the box.
pub fn fit_text(
    text: &str,
    width: f64,
    height: f64,
    max_size: f64,
    min_size: f64,
    max_lines: usize,
) -> FittedText {
    fit(&[text], width, height, max_size, min_size, max_lines.max(1))
}

/// Fits paragraphs (each starts on a new line) into a box at one font size, as [`fit_text`]
/// does, with as many lines as the box's height holds.
pub fn fit_paragraphs<S: AsRef<str>>(
    paragraphs: &[S],
    width: f64,
    height: f64,
    max_size: f64,
    min_size: f64,
) -> FittedText {
    fit(paragraphs, width, height, max_size, min_size, usize::MAX)
}

fn fit<S: AsRef<str>>(
    paragraphs: &[S],
    width: f64,
    height: f64,
    max_size: f64,
    min_size: f64,
    max_lines: usize,
) -> FittedText {
    let clean: Vec<String> = paragraphs
        .iter()
        .map(|p| {
            p.as_ref()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .filter(|c| !c.is_control())
                .collect()
        })
        .collect();
    let (width, height) = (width.max(0.0), height.max(0.0));
    let min_size = min_size.max(0.1).min(max_size.max(0.1));
    let mut size = max_size.max(min_size);
    loop {
        let lines: Vec<String> = clean.iter().flat_map(|p| wrap(p, width / size)).collect();
        let block = lines.len() as f64 * size * 1.25 - size * 0.25;
        if lines.len() <= max_lines && block <= height + 1e-9 {
            return FittedText { size, lines };
        }
        if size <= min_size {
            // As small as allowed: keep what fits and cut the rest.
            let rows = (((height + size * 0.25) / (size * 1.25)).floor() as usize)
                .clamp(1, max_lines.max(1));
            let mut lines = lines;
            if lines.len() > rows {
                lines.truncate(rows);
                if let Some(last) = lines.last_mut() {
                    while width_em(last) + 1.0 > width / size && last.pop().is_some() {}
                    last.push('…');
                }
            }
            return FittedText { size, lines };
        }
        size = (size * 0.95).max(min_size);
    }
}

/// The short code printed under a checkpoint's QR code (for a person to type when the QR cannot
/// be read): 8 characters of Crockford base32 (no I, L, O, U) from a digest of the venue, the
/// checkpoint and the direction, shown as `XXXX-XXXX`. The same door and direction always get
/// the same code.
pub fn short_code(venue_id: &str, checkpoint_id: &str, direction: Direction) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut h = Sha256::new();
    for part in [venue_id, checkpoint_id, direction.as_str()] {
        h.update((part.len() as u32).to_be_bytes());
        h.update(part.as_bytes());
    }
    let d = h.finalize();
    let bits = u64::from_be_bytes([0, 0, 0, d[0], d[1], d[2], d[3], d[4]]);
    let chars: String = (0..8)
        .map(|i| ALPHABET[((bits >> (35 - i * 5)) & 31) as usize] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://csm.example.cn/v/HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP-IA%NFQGRJPC%OQHIZC4.OI1RM8ZA.A5:S9MKN4NN3F85QNCY0O%0VZ001HOC9JU0D0HT0HB2PL/IB*09B9LW4T*8+DCMH0LDK2%K:XFE70*LP$V25$0Q:J:4MO1P0%0L0HD+9E/HY+4J6TH48S%4K.GJ2PT3QY:GQ3TE2I+-CPHN6D7LLK*Y0ZQ5CJ0";

    #[test]
    fn each_size_gets_modules_large_enough_for_its_distance() {
        for size in PosterSize::ALL {
            let (w, _) = size.mm();
            let fit = fit_qr(URL, w * 0.7, size).unwrap();
            assert!(fit.module_mm >= size.min_module_mm(), "{size:?}: {fit:?}");
            let total = fit.module_mm * (fit.matrix.width + 2 * QUIET_MODULES) as f64;
            assert!((total - w * 0.7).abs() < 1e-6);
        }
        // Q where its modules come out well above the minimum, M at the edge.
        let roomy = fit_qr(URL, 1100.0, PosterSize::Banner).unwrap();
        assert_eq!(roomy.ecc, Ecc::Q);
        assert!(roomy.module_mm >= 7.5 * Q_MARGIN);
        let tight = fit_qr(URL, 600.0, PosterSize::Banner).unwrap();
        assert_eq!(tight.ecc, Ecc::M);
        assert_eq!(PosterSize::from_code("60x90"), Some(PosterSize::TwoPanel));
        assert_eq!(PosterSize::from_code("a3"), None);
    }

    #[test]
    fn a_qr_area_too_small_is_refused_with_what_it_needs() {
        let e = fit_qr(URL, 60.0, PosterSize::Banner).unwrap_err();
        let PosterError::QrAreaTooSmall {
            needed_mm, min_mm, ..
        } = &e
        else {
            panic!("{e:?}");
        };
        assert!((min_mm - 7.5).abs() < 1e-9);
        assert!(*needed_mm > 60.0);
        assert!(e.to_string().contains("too small"), "{e}");
        assert!(fit_qr(URL, f64::NAN, PosterSize::A4).is_err());
        assert!(fit_qr(URL, -1.0, PosterSize::A4).is_err());
        assert_eq!(
            fit_qr(&"x".repeat(8000), 200.0, PosterSize::A4).unwrap_err(),
            PosterError::TooLong
        );
    }

    #[test]
    fn the_qr_path_draws_every_dark_module_once() {
        let m = QrMatrix::encode("hello", Ecc::M).unwrap();
        let d = qr_svg_path(&m, 10.0, 20.0, 2.0);
        let runs = d.matches('M').count();
        let mut expected = 0;
        for y in 0..m.width {
            let mut prev = false;
            for x in 0..m.width {
                let dark = m.dark(x, y);
                if dark && !prev {
                    expected += 1;
                }
                prev = dark;
            }
        }
        assert_eq!(runs, expected);
        assert!(d.starts_with("M10.000 20.000"), "{}", &d[..20]);
    }

    #[test]
    fn text_shrinks_then_wraps_and_never_overflows() {
        let short = fit_text("阿拉尔市人民医院", 200.0, 30.0, 20.0, 6.0, 2);
        assert_eq!(short.lines, ["阿拉尔市人民医院"]);
        assert_eq!(short.size, 20.0);
        let long = "新疆生产建设兵团第一师阿拉尔市幸福路农贸市场管理有限公司第二分公司东区";
        let f = fit_text(long, 200.0, 40.0, 20.0, 6.0, 2);
        assert!(f.lines.len() <= 2 && f.size < 20.0, "{f:?}");
        for l in &f.lines {
            assert!(width_em(l) * f.size <= 200.0 + 1e-6, "{l} at {}", f.size);
        }
        assert!(f.lines.len() as f64 * f.size * 1.25 - f.size * 0.25 <= 40.0 + 1e-6);
        // Paragraphs each start a line and share one size.
        let f = fit_paragraphs(
            &["逢进必扫、逢扫必验", "同行多人须逐人扫码"],
            100.0,
            30.0,
            8.0,
            3.0,
        );
        assert_eq!(f.lines, ["逢进必扫、逢扫必验", "同行多人须逐人扫码"]);
        assert_eq!(f.size, 8.0);
        // Far too long for its box: cut with an ellipsis at the smallest size, still inside.
        let f = fit_text(&long.repeat(10), 100.0, 20.0, 20.0, 6.0, 2);
        assert_eq!(f.size, 6.0);
        assert!(f.lines.len() <= 2);
        assert!(f.lines.last().unwrap().ends_with('…'));
        for l in &f.lines {
            assert!(width_em(l) * f.size <= 100.0 + 1e-6, "{l}");
        }
        // Closing punctuation never starts a line.
        let f = fit_text(
            "同行多人须逐人扫码，没有手机请出示身份证。",
            9.0,
            20.0,
            1.0,
            1.0,
            9,
        );
        assert!(
            f.lines
                .iter()
                .all(|l| !l.starts_with('，') && !l.starts_with('。')),
            "{f:?}"
        );
        // English wraps at spaces.
        let f = fit_text(
            "Aral City People's Hospital, South Gate",
            60.0,
            40.0,
            10.0,
            4.0,
            3,
        );
        assert!(f
            .lines
            .iter()
            .all(|l| !l.starts_with(' ') && !l.ends_with(' ')));
        assert!(f.lines.len() > 1);
        // Nothing panics on odd input.
        for (t, w, h) in [
            ("", 10.0, 10.0),
            ("\u{7}\n", 0.0, 0.0),
            ("字", f64::NAN, 1.0),
        ] {
            let _ = fit_text(t, w, h, 10.0, 1.0, 1);
        }
    }

    #[test]
    fn short_codes_are_stable_typeable_and_differ_by_door_and_direction() {
        let a = short_code("v-1", "south", Direction::Entry);
        assert_eq!(a, short_code("v-1", "south", Direction::Entry));
        assert_eq!(a.len(), 9);
        assert!(a
            .chars()
            .all(|c| c == '-' || (c.is_ascii_alphanumeric() && !"ILOU".contains(c))));
        assert_ne!(a, short_code("v-1", "south", Direction::Exit));
        assert_ne!(a, short_code("v-1", "north", Direction::Entry));
        assert_ne!(short_code("v-1s", "outh", Direction::Entry), a);
    }
}
