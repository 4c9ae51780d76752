//! Screens that fit: the station is a tablet used in landscape (1280×800) and portrait
//! (800×1280). [`check_both`] resizes the app window to each, looks for what a person would see
//! as broken — text or boxes sticking out of their container or the window, a button label
//! wrapped onto a second line, a placeholder wider than its field, a verdict screen that needs
//! scrolling — and saves a screenshot of each orientation.
//!
//! Invariants: the window is put back to landscape afterwards, so later steps see the default
//! size; every problem is reported with the element's id or class and its text, not just a count.

use std::time::Duration;

use anyhow::{bail, Result};

use crate::webdriver::Session;

/// Landscape and portrait, as (name, width, height).
pub const ORIENTATIONS: [(&str, u32, u32); 2] = [("landscape", 1280, 800), ("portrait", 800, 1280)];

/// The checks, run in the page: returns a list of problems (strings).
const SCRIPT: &str = r#"
const problems = [];
const W = window.innerWidth, H = window.innerHeight;
const name = (el) => {
  let n = el.tagName.toLowerCase();
  if (el.id) n += '#' + el.id;
  else if (el.className && typeof el.className === 'string') n += '.' + el.className.trim().split(/\s+/).join('.');
  const t = (el.innerText || el.placeholder || '').trim().replace(/\s+/g, ' ').slice(0, 30);
  return t ? `${n} "${t}"` : n;
};
const visible = (el) => {
  const cs = getComputedStyle(el);
  if (cs.display === 'none' || cs.visibility === 'hidden') return false;
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0;
};
const clips = (el) => {
  for (let p = el.parentElement; p; p = p.parentElement) {
    const cs = getComputedStyle(p);
    if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible') return p;
  }
  return null;
};
for (const el of document.querySelectorAll('body *')) {
  if (!visible(el) || el.closest('svg') || el.tagName === 'OPTION') continue;
  const cs = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  // Sticking out of the window sideways (the page never scrolls sideways).
  if (r.right > W + 1 || r.left < -1) problems.push(`${name(el)} sticks out of the window (${Math.round(r.left)}..${Math.round(r.right)} of ${W})`);
  // Content wider or taller than its own box, where the box does not scroll or clip on purpose.
  if (cs.overflowX === 'visible' && el.scrollWidth > el.clientWidth + 2 && el.clientWidth > 0 && !['INPUT','SELECT','TEXTAREA','IMG'].includes(el.tagName))
    problems.push(`${name(el)} overflows its box sideways (${el.scrollWidth} > ${el.clientWidth})`);
  // Text cut by a clipping ancestor.
  const c = clips(el);
  if (c && el.childElementCount === 0 && (el.innerText || '').trim()) {
    const cr = c.getBoundingClientRect();
    if (r.right > cr.right + 1 || r.bottom > cr.bottom + 1 && getComputedStyle(c).overflowY === 'hidden')
      problems.push(`${name(el)} is cut off by ${name(c)}`);
  }
  // A button's label on more than one line.
  if (el.tagName === 'BUTTON' && (el.innerText || '').trim()) {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top / 4)));
    if (tops.size > 1) problems.push(`${name(el)} wraps its label onto ${tops.size} lines`);
  }
  // A placeholder wider than its field.
  if ((el.tagName === 'INPUT' || el.tagName === 'TEXTAREA') && el.placeholder) {
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const room = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const need = ctx.measureText(el.placeholder).width;
    if (need > room + 1) problems.push(`${name(el)} cuts its placeholder (${Math.round(need)} px in ${Math.round(room)})`);
  }
}
// The page never scrolls sideways; the verdict screen fits without scrolling.
if (document.documentElement.scrollWidth > W + 1) problems.push(`the page scrolls sideways (${document.documentElement.scrollWidth} > ${W})`);
const v = document.querySelector('#verdict-screen');
if (v && visible(v)) {
  const r = v.getBoundingClientRect();
  if (r.top < -1 || r.bottom > H + 1 || v.scrollHeight > v.clientHeight + 2)
    problems.push(`the verdict screen does not fit the window (${Math.round(r.top)}..${Math.round(r.bottom)} of ${H}, content ${v.scrollHeight} in ${v.clientHeight})`);
}
return problems;
"#;

/// What is wrong with the screen as it is now.
pub fn problems(s: &Session) -> Result<Vec<String>> {
    let v = s.execute(SCRIPT)?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

/// Checks the current screen in landscape and portrait and saves `<name>-landscape.png` and
/// `<name>-portrait.png` (through `screenshot`); fails listing every problem of both.
pub fn check_both(s: &Session, name: &str, screenshot: impl Fn(&str) -> Result<()>) -> Result<()> {
    let mut all = Vec::new();
    for (orientation, w, h) in ORIENTATIONS {
        s.set_window_size(w, h)?;
        // Let layout settle after the resize.
        std::thread::sleep(Duration::from_millis(250));
        for p in problems(s)? {
            all.push(format!("{orientation}: {p}"));
        }
        screenshot(&format!("{name}-{orientation}"))?;
    }
    let (_, w, h) = ORIENTATIONS[0];
    s.set_window_size(w, h)?;
    if !all.is_empty() {
        bail!("{name} does not fit:\n  {}", all.join("\n  "));
    }
    Ok(())
}
