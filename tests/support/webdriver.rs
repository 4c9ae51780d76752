//! A minimal W3C WebDriver client (the few endpoints the end-to-end tests use), over blocking HTTP.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One WebDriver session: one app window.
pub struct Session {
    http: reqwest::blocking::Client,
    base: String,
    id: String,
}

impl Session {
    /// Opens a session that launches `application` through tauri-driver at `driver_url`.
    pub fn start(driver_url: &str, application: &str) -> Result<Session> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let caps = json!({
            "capabilities": {
                "alwaysMatch": { "tauri:options": { "application": application } }
            }
        });
        let res: Value = http
            .post(format!("{driver_url}/session"))
            .json(&caps)
            .send()
            .context("creating a WebDriver session")?
            .json()?;
        let id = res["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no session id in {res}"))?
            .to_string();
        Ok(Session {
            http,
            base: format!("{driver_url}/session/{id}"),
            id,
        })
    }

    /// The session id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().with_context(|| format!("WebDriver {path}"))?;
        let status = res.status();
        let v: Value = res
            .json()
            .with_context(|| format!("WebDriver {path}: body"))?;
        if !status.is_success() {
            bail!("WebDriver {path}: {status}: {}", v["value"]);
        }
        Ok(v["value"].clone())
    }

    /// Finds the first element matching a CSS selector. WebKitWebDriver sometimes answers
    /// "stale element reference" when the page re-renders during the search itself; that (and
    /// only that) is asked again, a few times.
    pub fn find(&self, css: &str) -> Result<String> {
        let query = || {
            self.call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
        };
        let mut v = query();
        for _ in 0..5 {
            match &v {
                Err(e) if format!("{e:#}").contains("stale element reference") => {
                    std::thread::sleep(Duration::from_millis(50));
                    v = query();
                }
                _ => break,
            }
        }
        let v = v?;
        v[ELEMENT_KEY]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("no element for {css}: {v}"))
    }

    /// Clicks the element matching `css`.
    pub fn click(&self, css: &str) -> Result<()> {
        let el = self.find(css)?;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )?;
        Ok(())
    }

    /// Types `text` into the element matching `css`.
    pub fn send_keys(&self, css: &str, text: &str) -> Result<()> {
        let el = self.find(css)?;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        )?;
        Ok(())
    }

    /// Presses the keys of `text` then Enter, `gap_ms` apart, as a keyboard (or a USB scanner
    /// in keyboard mode) would, through the W3C actions API.
    pub fn key_burst(&self, text: &str, gap_ms: u64) -> Result<()> {
        let mut actions = Vec::new();
        for c in text
            .chars()
            .map(|c| c.to_string())
            .chain(["\u{E007}".into()])
        {
            actions.push(json!({ "type": "keyDown", "value": c }));
            actions.push(json!({ "type": "keyUp", "value": c }));
            actions.push(json!({ "type": "pause", "duration": gap_ms }));
        }
        self.call(
            reqwest::Method::POST,
            "/actions",
            Some(json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] })),
        )?;
        Ok(())
    }

    /// Sends `code` as a scanner's keyboard burst until `css` contains `part` — at most three
    /// bursts, as an inspector scans again: on a loaded machine the webview may deliver a burst
    /// with a gap over the scanner threshold, so it arrives in two parts, each refused as not a
    /// whole code (nothing is recorded then). Between tries the verdict screen is dismissed.
    pub fn burst_until(&self, code: &str, css: &str, part: &str) -> Result<()> {
        let mut last = None;
        for attempt in 1..=3 {
            self.key_burst(code, 3)?;
            match self.wait_contains(css, part, Duration::from_secs(8)) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    eprintln!(
                        "burst {attempt} did not show {part:?} in {css}: {e:#}; the verdict read {:?}",
                        self.text("#verdict-screen").unwrap_or_default()
                    );
                    last = Some(e);
                    let _ = self.click("#verdict-screen");
                }
            }
        }
        Err(last.context("no burst")?)
    }

    /// Clears a text field.
    pub fn clear(&self, css: &str) -> Result<()> {
        let el = self.find(css)?;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/clear"),
            Some(json!({})),
        )?;
        Ok(())
    }

    /// A DOM property of the element matching `css` (e.g. an input's `value`).
    pub fn prop(&self, css: &str, name: &str) -> Result<String> {
        let el = self.find(css)?;
        let v = self.call(
            reqwest::Method::GET,
            &format!("/element/{el}/property/{name}"),
            None,
        )?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// An attribute of the element matching `css`.
    pub fn attr(&self, css: &str, name: &str) -> Result<Option<String>> {
        let el = self.find(css)?;
        let v = self.call(
            reqwest::Method::GET,
            &format!("/element/{el}/attribute/{name}"),
            None,
        )?;
        Ok(v.as_str().map(str::to_string))
    }

    /// Visible text of the element matching `css`.
    pub fn text(&self, css: &str) -> Result<String> {
        let el = self.find(css)?;
        let v = self.call(reqwest::Method::GET, &format!("/element/{el}/text"), None)?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Sets the window's outer size (the screen is an undecorated Xvfb display, so outer = inner).
    pub fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )?;
        Ok(())
    }

    /// Moves and sizes the window (Xvfb has no window manager: the app places itself).
    pub fn set_window_rect(&self, x: i64, y: i64, width: u32, height: u32) -> Result<()> {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "x": x, "y": y, "width": width, "height": height })),
        )?;
        Ok(())
    }

    /// The window's position and size: `(x, y, width, height)`.
    pub fn window_rect(&self) -> Result<(i64, i64, i64, i64)> {
        let v = self.call(reqwest::Method::GET, "/window/rect", None)?;
        let n = |k: &str| v[k].as_f64().map(|f| f.round() as i64).unwrap_or(0);
        Ok((n("x").max(0), n("y").max(0), n("width"), n("height")))
    }

    /// Runs a synchronous script in the page and returns its value.
    pub fn execute(&self, script: &str) -> Result<Value> {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Chooses `value` in the `<select>` matching `css` and fires its change event, as a person
    /// choosing from the list does (WebKitWebDriver cannot click an `<option>`).
    pub fn select(&self, css: &str, value: &str) -> Result<()> {
        self.find(css)?;
        let script = format!(
            "const e = document.querySelector({css}); e.value = {value}; \
             e.dispatchEvent(new Event('change', {{bubbles: true}})); return e.value;",
            css = serde_json::to_string(css)?,
            value = serde_json::to_string(value)?,
        );
        let got = self.execute(&script)?;
        anyhow::ensure!(got == value, "{css} has no option {value:?} (now {got})");
        Ok(())
    }

    /// Waits until the element matching `css` has exactly `expected` as its text.
    pub fn wait_text(&self, css: &str, expected: &str, timeout: Duration) -> Result<()> {
        self.wait_text_where(css, &format!("to read {expected:?}"), timeout, |t| {
            t.trim() == expected
        })
    }

    /// Waits until the element matching `css` has text containing `part`.
    pub fn wait_contains(&self, css: &str, part: &str, timeout: Duration) -> Result<()> {
        self.wait_text_where(css, &format!("to contain {part:?}"), timeout, |t| {
            t.contains(part)
        })
    }

    fn wait_text_where(
        &self,
        css: &str,
        what: &str,
        timeout: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> Result<()> {
        let mut last = String::new();
        crate::procs::wait_for(&format!("{css} {what}"), timeout, || match self.text(css) {
            Ok(t) if ok(&t) => Some(()),
            Ok(t) => {
                last = t;
                None
            }
            Err(e) => {
                last = e.to_string();
                None
            }
        })
        .with_context(|| format!("last seen: {last:?}"))
    }

    /// Ends the session, which closes the app.
    pub fn quit(self) -> Result<()> {
        self.http.delete(&self.base).send()?;
        Ok(())
    }
}
