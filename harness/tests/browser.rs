//! Reports seen in a real browser: `report.html`, `comparison.html` and `history.html` opened in
//! headless Chromium and checked through the DevTools protocol (CDP over its WebSocket): every
//! chart is drawn at a real size with real marks, no request leaves the page (every resource is
//! inline), and the console has no errors. A control page with an outside image and a console
//! error shows the checks can fail. A full-page screenshot of each is written to
//! `target/tmp/browser/` (and to `$BROWSER_SCREENSHOTS` when set).
//!
//! Chromium is started with its background networking off and a proxy on a closed loopback
//! port, so even a request the page should not make goes nowhere. Skipped with a note when
//! Chromium is not installed, except under `REQUIRE_TEST_TOOLS=1` (`.ci/run`, whose `.ci/deps`
//! installs Debian's `chromium`), where that fails.

use harness::analysis::compare::{self, CompareOptions, Side, Tolerances};
use harness::analysis::history;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// Every wait in this file ends by then.
const WAIT: Duration = Duration::from_secs(30);

/// What a page did while it loaded.
#[derive(Debug, Default)]
struct Seen {
    /// Every URL the page requested (the page itself included).
    requests: Vec<String>,
    /// Console errors, uncaught exceptions and error log entries.
    errors: Vec<String>,
    loaded: bool,
}

impl Seen {
    fn event(&mut self, m: &Value) {
        let p = &m["params"];
        match m["method"].as_str().unwrap_or("") {
            "Network.requestWillBeSent" => {
                self.requests
                    .push(p["request"]["url"].as_str().unwrap_or("").to_string());
            }
            "Runtime.consoleAPICalled" if p["type"] == "error" || p["type"] == "assert" => {
                self.errors.push(format!("console: {}", p["args"]));
            }
            "Runtime.exceptionThrown" => self.errors.push(format!("exception: {p}")),
            "Log.entryAdded" if p["entry"]["level"] == "error" => {
                self.errors.push(format!("log: {}", p["entry"]["text"]));
            }
            "Page.loadEventFired" => self.loaded = true,
            _ => {}
        }
    }

    /// The requests that left the page: anything but the file itself and inline data.
    fn outside(&self) -> Vec<&String> {
        self.requests
            .iter()
            .filter(|u| !u.starts_with("file://") && !u.starts_with("data:"))
            .collect()
    }
}

struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

impl Browser {
    /// Headless Chromium on a page target, or `None` (with a note) where there is none.
    fn launch() -> Option<Browser> {
        let Some(bin) = chromium() else {
            assert!(
                std::env::var_os("REQUIRE_TEST_TOOLS").is_none(),
                "REQUIRE_TEST_TOOLS=1 and no chromium (Debian package chromium; .ci/deps installs it)"
            );
            eprintln!("skipped: no chromium on PATH (Debian package chromium)");
            return None;
        };
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--no-first-run",
                "--no-default-browser-check",
                "--proxy-server=127.0.0.1:9",
                "--window-size=1100,900",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let port = devtools_port(profile.path());
        let url = page_socket(port);
        let (ws, _) = tungstenite::connect(url.as_str()).unwrap();
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(WAIT)).unwrap();
        }
        let mut b = Browser {
            child,
            ws,
            next_id: 0,
            _profile: profile,
        };
        let mut seen = Seen::default();
        for domain in ["Page", "Network", "Runtime", "Log"] {
            b.call(&format!("{domain}.enable"), json!({}), &mut seen);
        }
        Some(b)
    }

    /// Sends a command and reads until its answer; events on the way go to `seen`.
    fn call(&mut self, method: &str, params: Value, seen: &mut Seen) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws.send(Message::Text(msg.into())).unwrap();
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            let m = self.read();
            if m["id"] == id {
                assert!(m.get("error").is_none(), "{method}: {m}");
                return m["result"].clone();
            }
            seen.event(&m);
        }
        panic!("{method}: no answer in {WAIT:?}");
    }

    fn read(&mut self) -> Value {
        loop {
            match self.ws.read().unwrap() {
                Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
                Message::Close(_) => panic!("the browser closed the DevTools socket"),
                _ => {}
            }
        }
    }

    /// Opens a file and waits for its load event, then a moment for late console output.
    fn open(&mut self, file: &Path) -> Seen {
        let mut seen = Seen::default();
        let url = format!("file://{}", file.canonicalize().unwrap().display());
        self.call("Page.navigate", json!({ "url": url }), &mut seen);
        let deadline = Instant::now() + WAIT;
        while !seen.loaded && Instant::now() < deadline {
            let m = self.read();
            seen.event(&m);
        }
        assert!(seen.loaded, "{} did not load in {WAIT:?}", file.display());
        // A round trip after the load event: anything the page logged is in by its answer.
        self.call("Runtime.evaluate", json!({"expression": "1"}), &mut seen);
        seen
    }

    /// Each chart's drawn size and how many SVG marks it has; the table rows.
    fn charts(&mut self) -> (Vec<(f64, f64, u64)>, u64) {
        let js = "JSON.stringify({svgs: [...document.querySelectorAll('figure svg')].map(s => {\
                  const r = s.getBoundingClientRect(); return [r.width, r.height, \
                  s.querySelectorAll('path,polyline,polygon,circle,rect,line,text').length]}), \
                  rows: document.querySelectorAll('tr').length})";
        let mut seen = Seen::default();
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true}),
            &mut seen,
        );
        let v: Value = serde_json::from_str(r["result"]["value"].as_str().unwrap()).unwrap();
        let svgs = v["svgs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s[0].as_f64().unwrap(),
                    s[1].as_f64().unwrap(),
                    s[2].as_u64().unwrap(),
                )
            })
            .collect();
        (svgs, v["rows"].as_u64().unwrap())
    }

    /// A full-page PNG.
    fn screenshot(&mut self, to: &Path) {
        use base64::Engine as _;
        let mut seen = Seen::default();
        let m = self.call("Page.getLayoutMetrics", json!({}), &mut seen);
        let size = &m["cssContentSize"];
        let (w, h) = (
            size["width"].as_f64().unwrap(),
            size["height"].as_f64().unwrap(),
        );
        let clip = json!({"x": 0, "y": 0, "width": w, "height": h.min(16_000.0), "scale": 1});
        let r = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true, "clip": clip}),
            &mut seen,
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{} bytes",
            png.len()
        );
        std::fs::write(to, png).unwrap();
    }
}

/// The port Chromium wrote to `DevToolsActivePort` in its profile.
fn devtools_port(profile: &Path) -> u16 {
    let file = profile.join("DevToolsActivePort");
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(&file) {
            if let Some(port) = text.lines().next().and_then(|l| l.trim().parse().ok()) {
                return port;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("chromium wrote no {} in {WAIT:?}", file.display());
}

/// The WebSocket of the first page target (`GET /json/list` on the loopback port; asked again
/// until the page target is listed, which can lag the port file).
fn page_socket(port: u16) -> String {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        let found = get(port, "/json/list").and_then(|body| {
            let targets: Value = serde_json::from_str(&body).ok()?;
            targets
                .as_array()?
                .iter()
                .find(|t| t["type"] == "page")
                .and_then(|t| t["webSocketDebuggerUrl"].as_str())
                .map(str::to_string)
        });
        if let Some(url) = found {
            return url;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no page target on the DevTools port {port} in {WAIT:?}");
}

/// One HTTP/1.1 GET on loopback: the body, read to its Content-Length.
fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(WAIT)).ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let text = String::from_utf8_lossy(&got);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            });
            if len.is_some_and(|n| body.len() >= n) {
                return Some(body.to_string());
            }
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => {
                let text = String::from_utf8_lossy(&got);
                return text.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
            }
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// The three pages, from the same code `harness run`, `compare` and `history` use.
fn pages(dir: &Path) -> [PathBuf; 3] {
    let base = results::fixture::sample();
    let mut slower = base.clone();
    slower.summary.committed_tps /= 2.0;
    let run = dir.join("run");
    report::render(&base, &[report::Format::Html], &run).unwrap();
    let side = |name: &str, r: &results::RunResult| {
        Side::from_results(name, std::slice::from_ref(r)).unwrap()
    };
    let c = compare::compare(
        &side("base", &base),
        &side("new", &slower),
        &Tolerances::default(),
        CompareOptions::default(),
    )
    .unwrap();
    let comparison = dir.join("comparison.html");
    std::fs::write(&comparison, compare::render_html(&c)).unwrap();
    let runs = dir.join("runs");
    for (i, (commit, r)) in [("aaa1111", &base), ("bbb2222", &base), ("ccc3333", &slower)]
        .into_iter()
        .enumerate()
    {
        let mut r = r.clone();
        r.environment.git_commit = Some(commit.to_string());
        r.environment.started_at = format!("2026-11-2{}T10:00:00Z", i + 1);
        std::fs::create_dir_all(runs.join(commit)).unwrap();
        r.write(runs.join(commit).join("results.json")).unwrap();
    }
    let defaults = |_: &Side| Tolerances::default();
    let h = history::build(
        history::load(&[runs]).unwrap(),
        &history::HistoryOptions {
            baseline: None,
            tolerances: &defaults,
        },
    )
    .unwrap();
    let out = dir.join("history");
    history::write_outputs(&h, &out).unwrap();
    [
        run.join("report.html"),
        comparison,
        out.join("history.html"),
    ]
}

#[test]
fn reports_render_in_chromium_with_nothing_from_outside_and_no_errors() {
    let Some(mut b) = Browser::launch() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&shots).unwrap();
    // The checks can fail: an outside image and a console error are both seen.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><img src=\"http://127.0.0.1:9/outside.png\">\
         <script>console.error('control error')</script>",
    )
    .unwrap();
    let seen = b.open(&control);
    assert_eq!(
        seen.outside(),
        ["http://127.0.0.1:9/outside.png"],
        "{seen:?}"
    );
    assert!(
        seen.errors.iter().any(|e| e.contains("control error")),
        "{seen:?}"
    );

    let [report, comparison, history] = pages(dir.path());
    // (page, charts it must draw at least, table rows it must have at least)
    for (page, min_charts, min_rows) in [(&report, 4, 10), (&comparison, 0, 8), (&history, 7, 4)] {
        let seen = b.open(page);
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            seen.outside().is_empty(),
            "{name} requested {:?}",
            seen.outside()
        );
        assert!(seen.errors.is_empty(), "{name}: {:?}", seen.errors);
        let (svgs, rows) = b.charts();
        assert!(svgs.len() >= min_charts, "{name}: {} charts", svgs.len());
        for (w, h, marks) in &svgs {
            assert!(
                *w >= 300.0 && *h >= 100.0 && *marks >= 20,
                "{name}: chart {w}x{h}, {marks} marks"
            );
        }
        assert!(rows >= min_rows, "{name}: {rows} table rows");
        let png = shots.join(name.replace(".html", ".png"));
        b.screenshot(&png);
        if let Some(to) = std::env::var_os("BROWSER_SCREENSHOTS") {
            std::fs::create_dir_all(&to).unwrap();
            std::fs::copy(&png, Path::new(&to).join(png.file_name().unwrap())).unwrap();
        }
    }
}
