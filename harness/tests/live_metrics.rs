//! Live metrics end to end: a real Prometheus server (Debian's `prometheus` package, started
//! here on loopback) scrapes `harness run --metrics-addr` every 250 ms, and PromQL over what it
//! stored agrees with the run's results.json: the committed counter exactly, the p99 from
//! `histogram_quantile` within one bucket, the committed rate within 25 %. The text passes
//! `promtool check metrics`. The same run pushed with `--remote-write` to a Prometheus that
//! receives it agrees alike. Without the tools the test skips with a message, except under
//! `REQUIRE_TEST_TOOLS=1` (`.ci/run`, whose `.ci/deps` installs them).

#[path = "common/http1_server.rs"]
#[allow(dead_code)] // the server's statistics: this test reads the run's figures instead
mod http1_server;

mod common;

use harness::run::live::BOUNDS_NS;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn tool(name: &str) -> bool {
    common::tool(name, "prometheus")
}

/// A port free a moment ago on 127.0.0.1 (Prometheus's config must name it before the run).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET `path` from `addr`: the status line's code and the body (Connection: close).
fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let code = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok((code, body.to_string()))
}

/// Prometheus on loopback scraping `target` every 250 ms; killed on drop.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
}

impl Prometheus {
    /// Prometheus with `config` and `extra` flags, its data in `dir`.
    fn launch(dir: &Path, config: &str, extra: &[&str]) -> Prometheus {
        let file = dir.join("prometheus.yml");
        std::fs::write(&file, config).unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting prometheus");
        Prometheus { child, addr }
    }

    /// Prometheus receiving remote-write at /api/v1/write, scraping nothing, once ready.
    fn receiving(dir: &Path) -> Prometheus {
        let p = Prometheus::launch(dir, "global: {}\n", &["--web.enable-remote-write-receiver"]);
        let started = Instant::now();
        while !matches!(get(p.addr, "/-/ready"), Ok((200, _))) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "prometheus never ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        p
    }

    fn start(dir: &Path, target: SocketAddr) -> Prometheus {
        let config = format!("global:\n  scrape_interval: 250ms\n  scrape_timeout: 200ms\nscrape_configs:\n  - job_name: harness\n    static_configs:\n      - targets: ['{target}']\n");
        let p = Prometheus::launch(dir, &config, &[]);
        // Ready, and its first scrape of the target tried (and failed: nothing listens yet).
        // Prometheus 2.x applies a new config's targets up to 5 s after it starts: a run
        // begun before then would be over before the first scrape.
        let started = Instant::now();
        while !p.tried_a_scrape() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "prometheus never scraped"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        p
    }

    fn tried_a_scrape(&self) -> bool {
        let Ok((200, body)) = get(self.addr, "/api/v1/targets") else {
            return false;
        };
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["data"]["activeTargets"][0]["lastScrape"]
            .as_str()
            .is_some_and(|t| !t.starts_with("0001-"))
    }

    /// The answer of a PromQL API call (`query` or `query_range`) with `extra` parameters.
    fn api(&self, call: &str, promql: &str, extra: &str) -> serde_json::Value {
        let q: String = promql
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let (code, body) = get(self.addr, &format!("/api/v1/{call}?query={q}{extra}")).unwrap();
        assert_eq!(code, 200, "{promql}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// The value of an instant PromQL query that gives one sample.
    fn query(&self, promql: &str) -> f64 {
        let v = self.api("query", promql, "");
        let value = &v["data"]["result"][0]["value"][1];
        value
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{promql}: {v}"))
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bucket a latency in seconds falls in.
fn bucket(s: f64) -> usize {
    BOUNDS_NS.partition_point(|&b| (b as f64) < s * 1e9)
}

/// `harness run` of a 1 s + 3 s in-process scenario named `name` in `dir`, with `live` flags.
/// Sends may start up to 10 ms late: these tests share two cores with Prometheus servers and
/// each other, and CI (2026-12-01) saw a run at the default 1 ms exit 4 (invalid); what they
/// check is what the live metrics say, not the generator's precision.
fn start_run(dir: &Path, name: &str, live: &[&str]) -> Child {
    let scenario = dir.join("live.toml");
    std::fs::write(
        &scenario,
        format!("[scenario]\nname = \"{name}\"\n[target]\nkind = \"in-process\"\n[workload]\naccounts = 10000\nbatch_size = 64\n[output]\ninterval = \"250ms\"\n\
         [[stages]]\nname = \"warm\"\nduration = \"1s\"\nworkers = 1\nwarmup = true\n\
         [[stages]]\nname = \"steady\"\nduration = \"3s\"\nrate = \"2000/s\"\n\
         [criteria]\nlate_dispatch = \"10ms\"\n"),
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("run")
        .arg(&scenario)
        .args(["--quiet", "--no-reports", "--out"])
        .arg(dir.join("out"))
        .args(live)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The run's results.json, once it exited 0.
fn finished(run: Child) -> results::RunResult {
    let out = run.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let results = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("results: ").map(str::to_string))
        .expect("the results path is printed");
    results::RunResult::read(results).unwrap()
}

/// What Prometheus stored agrees with results.json: the steady stage's committed count
/// exactly, the run finished, the p99 within one bucket.
fn totals_agree(prom: &Prometheus, scenario: &str, r: &results::RunResult) {
    let steady = r.stages.iter().find(|s| s.name == "steady").unwrap();
    let sel = format!("{{scenario=\"{scenario}\",stage=\"steady\"}}");
    let committed = prom.query(&format!("harness_transactions_committed_total{sel}"));
    assert_eq!(committed as u64, steady.committed);
    assert_eq!(
        prom.query(&format!("harness_finished{{scenario=\"{scenario}\"}}")),
        1.0
    );
    let p99 = prom.query(&format!(
        "histogram_quantile(0.99, sum by (le) (harness_latency_seconds_bucket{sel}))"
    ));
    let want = r.summary.latency_us.p99 / 1e6;
    assert!(
        bucket(p99).abs_diff(bucket(want)) <= 1,
        "PromQL p99 {p99} s against results.json's {want} s"
    );
}

#[test]
fn remote_write_reaches_prometheus_with_the_run_s_totals() {
    if !tool("prometheus") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let prom = Prometheus::receiving(dir.path());
    let url = format!("http://{}/api/v1/write", prom.addr);
    let run = start_run(
        dir.path(),
        "t-push",
        &["--remote-write", &url, "--remote-write-interval", "500ms"],
    );
    // Mid-run, pushes have arrived.
    std::thread::sleep(Duration::from_millis(2500));
    let mid = prom.api("query", "harness_operations_total", "");
    assert!(
        !mid["data"]["result"].as_array().unwrap().is_empty(),
        "nothing pushed 2.5 s into the run: {mid}"
    );
    let r = finished(run);
    // The last push, made before the harness exited, carried the final totals.
    totals_agree(&prom, "t-push", &r);
}

#[test]
fn prometheus_scraping_a_run_agrees_with_its_results() {
    if !tool("prometheus") || !tool("promtool") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let began = std::time::SystemTime::now();
    let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let prom = Prometheus::start(dir.path(), metrics);
    let addr = metrics.to_string();
    let live = ["--metrics-linger", "10s", "--metrics-addr", &addr];
    let run = start_run(dir.path(), "t-live", &live);
    // Mid-run, the endpoint answers text that promtool accepts.
    std::thread::sleep(Duration::from_millis(2000));
    let (code, text) = get(metrics, "/metrics").unwrap();
    assert_eq!(code, 200);
    promtool_accepts(&text);
    let r = finished(run);
    // The final totals were scraped before the harness exited (it waits for that scrape).
    totals_agree(&prom, "t-live", &r);
    let sel = "{scenario=\"t-live\",stage=\"steady\"}";
    let rate = prom.query(&format!(
        "max_over_time(rate(harness_transactions_committed_total{sel}[1s])[1m:250ms])"
    ));
    let tps = r.summary.committed_tps;
    assert!(
        rate > tps * 0.75 && rate < tps * 1.5,
        "PromQL rate {rate} tx/s against results.json's {tps}"
    );
    let seen = Seen {
        errors: r.summary.errors > 0,
        templates: false,
    };
    dashboard_queries_return_data(&prom, began, "t-live", seen);
}

/// Every query of every panel of the Grafana dashboard (deploy/grafana/harness-live.json), its
/// variables filled in as Grafana would, returns data over the run from this Prometheus: the
/// dashboard is checked without a Grafana. Error series exist only once an error happened,
/// template series only in runs of several request templates.
fn dashboard_queries_return_data(
    prom: &Prometheus,
    began: std::time::SystemTime,
    scenario: &str,
    seen: Seen,
) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/grafana/harness-live.json");
    let dash: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap())
        .expect("the dashboard is JSON");
    let unix = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    let range = format!(
        "&start={}&end={}&step=0.25",
        unix(began),
        unix(std::time::SystemTime::now())
    );
    let panels = dash["panels"].as_array().expect("panels");
    assert!(
        panels.len() >= 6,
        "throughput, latency, errors, lag, CPU, RSS at least"
    );
    for panel in panels {
        let targets = panel["targets"].as_array().expect("each panel has queries");
        assert!(!targets.is_empty(), "{}", panel["title"]);
        for t in targets {
            let expr = t["expr"].as_str().expect("a PromQL expression");
            let filled = expr
                .replace("$scenario", scenario)
                .replace("$segment", ".*")
                .replace("$__rate_interval", "1s");
            let v = prom.api("query_range", &filled, &range);
            let series = v["data"]["result"].as_array().map_or(0, Vec::len);
            if (expr.contains("harness_errors_total") && !seen.errors)
                || (expr.contains("harness_template_") && !seen.templates)
            {
                continue;
            }
            assert!(
                series > 0,
                "panel {}: {filled} returned no data",
                panel["title"]
            );
        }
    }
}

/// A capacity search of two request templates (`fast`: /ok at once; `slow`: /teapot 4 ms late)
/// served live and scraped: every probe's stages appear as they start, each stage's counters
/// equal results.json's, the templates' series add up to their stage's, and each template's
/// own latency is told apart (`slow`'s median at least its delay, `fast`'s below it).
#[test]
fn a_capacity_search_of_two_templates_is_watched_probe_by_probe() {
    if !tool("prometheus") || !tool("promtool") {
        return;
    }
    let server = http1_server::start(http1_server::Behaviour {
        teapot_delay: Duration::from_millis(4),
        ..http1_server::Behaviour::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let began = std::time::SystemTime::now();
    let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let prom = Prometheus::start(dir.path(), metrics);
    let scenario = dir.path().join("search.toml");
    // Probes of 1 s after 250 ms of settling, from 200/s to at most 400/s: three or four probes,
    // under 10 s in all (max_time bounds it). Lateness counts from 50 ms and up to 5 % of sends:
    // this test is about the live series, and in CI (f988d57, 02:29) the hypervisor stole 41 %
    // of the machine and 11 of 400 sends went out more than 10 ms late, which ended the search
    // at "generator limit" (exit 4) with every series right.
    std::fs::write(
        &scenario,
        format!(
            "[scenario]\nname = \"t-probes\"\n[target]\nkind = \"http\"\nurl = \"{}\"\n\
         [http]\nconnections = 16\ntimeout = \"2s\"\n\
         [[requests]]\nname = \"fast\"\npath = \"/ok\"\nexpect_status = [200]\n\
         [[requests]]\nname = \"slow\"\npath = \"/teapot\"\nexpect_status = [418]\n\
         [capacity]\nmode = \"search\"\npercentile = 99.0\nmax_latency = \"500ms\"\n\
         start = \"200/s\"\nmax = \"400/s\"\nprobe = \"1s\"\nsettle = \"250ms\"\nconfirm = \"1s\"\n\
         precision = \"10%\"\nmax_probes = 4\nmax_time = \"20s\"\n\
         [output]\ninterval = \"250ms\"\n\
         [criteria]\nlate_dispatch = \"50ms\"\nmax_late_dispatch = \"5%\"\n",
            server.url
        ),
    )
    .unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("run")
        .arg(&scenario)
        .args([
            "--quiet",
            "--no-reports",
            "--metrics-linger",
            "10s",
            "--metrics-addr",
        ])
        .arg(metrics.to_string())
        .arg("--out")
        .arg(dir.path().join("out"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let (code, text) = get(metrics, "/metrics").unwrap();
    assert_eq!(code, 200);
    assert!(text.contains("template=\"slow\""), "{text}");
    promtool_accepts(&text);
    let r = finished(run);
    assert!(r.stages.len() >= 4, "two probes at least: {:?}", r.stages);
    for st in &r.stages {
        let sel = format!("{{scenario=\"t-probes\",stage=\"{}\"}}", st.name);
        let ops = prom.query(&format!("harness_operations_total{sel}"));
        assert_eq!(ops as u64, st.ops, "stage {}", st.name);
        let by_template = prom.query(&format!("sum(harness_template_operations_total{sel})"));
        assert_eq!(by_template, ops, "stage {}", st.name);
    }
    let median = |t: &str| {
        prom.query(&format!(
            "histogram_quantile(0.5, sum by (le) (harness_template_latency_seconds_bucket{{scenario=\"t-probes\",template=\"{t}\"}}))"
        ))
    };
    let (fast, slow) = (median("fast"), median("slow"));
    assert!(
        slow >= 0.004 && fast < 0.004,
        "medians: fast {fast} s, slow {slow} s"
    );
    let seen = Seen {
        errors: r.summary.errors > 0,
        templates: true,
    };
    dashboard_queries_return_data(&prom, began, "t-probes", seen);
}

/// What a run had, so that its dashboard's queries must return data.
struct Seen {
    errors: bool,
    templates: bool,
}

/// `promtool check metrics` passes on an exposition text.
fn promtool_accepts(text: &str) {
    let check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .output_with_stdin(text.as_bytes());
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

/// `Command::output` with bytes written to its stdin first.
trait WithStdin {
    fn output_with_stdin(&mut self, input: &[u8]) -> std::process::Output;
}

impl WithStdin for Command {
    fn output_with_stdin(&mut self, input: &[u8]) -> std::process::Output {
        let mut child = self.stdout(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    }
}

#[test]
fn a_remote_write_url_off_loopback_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = start_run(
        dir.path(),
        "t-refused",
        &["--remote-write", "http://10.1.2.3:9090/api/v1/write"],
    );
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a loopback address"), "{stderr}");
    assert!(!dir.path().join("out").exists(), "nothing ran");
}
