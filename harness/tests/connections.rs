//! Connection modes (`[http] connection`, `max_requests_per_connection`) on both HTTP/1.1
//! clients, counted by a hand-written server on 127.0.0.1 port 0 that sees every connection
//! and every `connection: close`; and the refusals (validation, goose) through the CLI.
//! Every run lasts 1 s, but the one of a thousand connections to `engine serve` (3 s), which
//! holds the generator's memory to its connections' buffers.

mod common;
#[path = "common/http1_server.rs"]
mod http1_server;

use assert_cmd::Command;
use common::*;
use http1_server::{start, Behaviour};

const WORKERS: u64 = 4;

/// Runs 1 s of `workers = 4` closed-model GET /ok with `http` in `[http]`; returns the
/// requests the harness recorded (all must succeed), the connections the server accepted and
/// the requests that said `connection: close`.
fn drive(http: &str) -> (u64, u64, u64) {
    let server = start(Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[scenario]\nname = \"t-conn\"\n[target]\nkind = \"http\"\nurl = \"{}\"\n[http]\n{http}\n\
         [[requests]]\nname = \"ok\"\npath = \"/ok\"\nexpect_status = [200]\n\
         [[stages]]\nname = \"steady\"\nduration = \"1s\"\nworkers = {WORKERS}\n",
        server.url
    );
    let r = execute_text(dir.path(), "conn", &text, false).result;
    let ops: u64 = r.stages.iter().map(|s| s.ops).sum();
    let errors: u64 = r.stages.iter().map(|s| s.errors).sum();
    assert_eq!(errors, 0, "{http}: {:?}", r.summary.errors_by_kind);
    assert!(ops > 50, "{http}: {ops} requests");
    let s = &server.stats;
    assert_eq!(s.get(&s.requests), ops, "{http}");
    (ops, s.get(&s.connections), s.get(&s.close_requests))
}

#[test]
fn keep_alive_uses_one_connection_per_worker() {
    for client in ["builtin", "hyper"] {
        let (_, conns, closes) = drive(&format!("client = \"{client}\""));
        assert_eq!((conns, closes), (WORKERS, 0), "{client}");
        let (_, conns, _) = drive(&format!(
            "client = \"{client}\"\nconnection = \"keep-alive\""
        ));
        assert_eq!(conns, WORKERS, "{client}");
    }
}

#[test]
fn close_opens_a_connection_per_request_and_says_so() {
    for client in ["builtin", "hyper"] {
        let (ops, conns, closes) = drive(&format!("client = \"{client}\"\nconnection = \"close\""));
        assert_eq!(conns, ops, "{client}");
        assert_eq!(closes, ops, "{client}");
    }
}

#[test]
fn a_request_limit_replaces_each_connection_after_n_requests() {
    for client in ["builtin", "hyper"] {
        let (ops, conns, closes) = drive(&format!(
            "client = \"{client}\"\nmax_requests_per_connection = 10"
        ));
        // Each worker's last connection may end short when the run does.
        assert!(
            ops / 10 <= conns && conns <= ops / 10 + WORKERS,
            "{client}: {conns} connections for {ops} requests"
        );
        assert!(
            closes <= conns && closes + WORKERS >= conns,
            "{client}: {closes} closes, {conns} connections"
        );
    }
}

fn harness_cmd() -> Command {
    Command::cargo_bin("harness").unwrap()
}

#[test]
fn bad_keys_and_goose_refusals_exit_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1: every refusal must come before any connection.
    let file = |name: &str, scenario_extra: &str, http: &str| {
        write_scenario(
            dir.path(),
            name,
            &format!(
                "[scenario]\nname = \"{name}\"\n{scenario_extra}[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:1\"\n\
                 [http]\n{http}\n[[requests]]\npath = \"/\"\n[[stages]]\nduration = \"1s\"\nworkers = 1\n"
            ),
        )
    };
    let cases = [
        (file("t-zero", "", "pipeline = 0"), "http.pipeline"),
        (
            file("t-hyper", "", "client = \"hyper\"\npipeline = 8"),
            "http.pipeline",
        ),
        (
            file("t-mode", "", "connection = \"sometimes\""),
            "http.connection",
        ),
        (
            file("t-goose", "driver = \"goose\"\n", "pipeline = 2"),
            "http.pipeline",
        ),
        (
            file(
                "t-goose-close",
                "driver = \"goose\"\n",
                "connection = \"close\"",
            ),
            "http.connection",
        ),
    ];
    for (f, field) in &cases {
        for sub in ["validate", "run"] {
            let out = harness_cmd().arg(sub).arg(f).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{sub} {}", f.display());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains(field), "{sub}: {stderr}");
        }
    }
    // A native scenario overridden to goose on the command line: refused the same way.
    let native = file("t-native", "", "max_requests_per_connection = 5");
    let out = harness_cmd()
        .args(["validate"])
        .arg(&native)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = harness_cmd()
        .args(["run", "--driver", "goose", "-q", "--out"])
        .arg(dir.path())
        .arg(&native)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("at most 5 requests per connection"),
        "{stderr}"
    );
}

/// `connections_total` from the engine's `/api/v11/stats` (one plain HTTP/1.0 request).
fn engine_connections(url: &str) -> u64 {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    s.write_all(b"GET /api/v11/stats HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let body = &answer[answer.find("\r\n\r\n").expect("a head") + 4..];
    let stats: serde_json::Value = serde_json::from_str(body).unwrap();
    stats["http"]["connections_total"]
        .as_u64()
        .expect("a count")
}

#[test]
fn http2_connections_are_replaced_as_asked() {
    for (http, per_request) in [
        ("", None),
        ("connection = \"close\"", Some(1)),
        ("max_requests_per_connection = 10", Some(10)),
    ] {
        let (child, url) = start_engine(1000);
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[scenario]\nname = \"t-h2\"\n[target]\nkind = \"http\"\nurl = \"{url}\"\n[workload]\naccounts = 1000\n\
             [http]\nhttp2 = true\n{http}\n[[requests]]\nname = \"health\"\npath = \"/api/v11/health\"\n\
             [[stages]]\nname = \"steady\"\nduration = \"1s\"\nworkers = {WORKERS}\n"
        );
        let r = execute_text(dir.path(), "h2", &text, false).result;
        let conns = engine_connections(&url);
        kill_after(child, std::time::Duration::ZERO).join().unwrap();
        let ops: u64 = r.stages.iter().map(|s| s.ops).sum();
        let errors: u64 = r.stages.iter().map(|s| s.errors).sum();
        assert_eq!(errors, 0, "{http}: {:?}", r.summary.errors_by_kind);
        assert!(ops > 50, "{http}: {ops}");
        // The harness's own control requests (info, stats, audit) and this one add a few.
        let load = match per_request {
            None => WORKERS,
            Some(n) => ops.div_ceil(n),
        };
        assert!(
            load <= conns && conns <= load + WORKERS + 10,
            "{http}: {conns} connections for {ops} requests"
        );
    }
}

/// A thousand connections cost their buffers, not histograms of their own: the workers of a
/// generator thread share one recorder (`load::recorder`). With a set of histograms per worker
/// this run peaked at ~570 MiB (release build, 2026-12-01); shared, ~35 MiB.
#[test]
fn a_thousand_connections_do_not_cost_a_thousand_sets_of_histograms() {
    let (mut engine, url) = start_engine(1000);
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[scenario]\nname = \"t-many\"\n[target]\nkind = \"http\"\nurl = \"{url}\"\n\
         [workload]\naccounts = 1000\n[http]\ntimeout = \"10s\"\n\
         [[requests]]\nname = \"health\"\npath = \"/api/v11/health\"\nexpect_status = [200]\n\
         [[stages]]\nname = \"steady\"\nduration = \"3s\"\nworkers = 1000\n"
    );
    let f = write_scenario(dir.path(), "many", &text);
    let out = Command::cargo_bin("harness")
        .unwrap()
        .args(["run", "--quiet", "--no-reports", "--out"])
        .arg(dir.path())
        .arg(&f)
        .output()
        .unwrap();
    engine.kill().unwrap();
    engine.wait().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let r = results::RunResult::read(dir.path().join("t-many/latest/results.json")).unwrap();
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    assert!(r.summary.ops > 1000, "{} requests", r.summary.ops);
    let peak = r
        .resources
        .harness
        .rss_peak
        .expect("the harness's peak RSS") as f64;
    let mib = peak / (1024.0 * 1024.0);
    assert!(mib < 150.0, "peak RSS {mib:.0} MiB for 1,000 connections");
}
