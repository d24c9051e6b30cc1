//! HTTP and spawn targets end to end, against the real engine server on loopback port 0.
//!
//! The engine binary belongs to another package, so cargo does not build it for this test
//! target. It is looked for beside the harness binary (`target/<profile>/engine`, which
//! `cargo test --workspace` builds for the engine's own tests); when missing, the test builds it
//! once with the same cargo, target dir and profile (`cargo build -p engine --bin engine`).
//! Every request goes to 127.0.0.1; the remote-refusal test uses a 10.x address that the
//! harness must refuse before opening any connection.

mod common;
use common::*;
use harness::exit::Exit;
use harness::plan::Prepared;
use harness::run::{execute, RunOptions};
use harness::targets::http::HttpError;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn spawn_target(accounts: u64) -> String {
    format!(
        "[target]\nkind = \"spawn\"\ncommand = [{:?}, \"serve\", \"--addr\", \"127.0.0.1:0\", \"--accounts\", \"{accounts}\", \"--workers\", \"1\"]\nhealth_path = \"/api/v11/health\"\nstartup_timeout = \"20s\"\n",
        engine_bin().display().to_string()
    )
}

fn run(file: &Path, out: &Path) -> anyhow::Result<harness::run::RunOutcome> {
    let plan = Prepared::whole(scenario::load(file).unwrap());
    execute(
        &plan,
        &RunOptions {
            out: Some(out.to_path_buf()),
            quiet: true,
            no_reports: true,
            ..RunOptions::default()
        },
    )
}

fn committed_in_stages(r: &results::RunResult) -> u64 {
    r.stages.iter().map(|s| s.committed).sum()
}

#[test]
fn binary_batches_open_model_agree_with_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[scenario]\nname = \"t-binary\"\n{}\n[workload]\naccounts = 10_000\nbatch_size = 128\n[http]\ntimeout = \"5s\"\nconnections = 8\n[[requests]]\nname = \"tx\"\nmethod = \"POST\"\npath = \"/api/v11/transactions\"\nheaders = {{ content-type = \"application/octet-stream\" }}\nbody = \"binary-batch\"\nexpect_status = [200]\n[[stages]]\nname = \"steady\"\nduration = \"3s\"\nrate = \"100/s\"\n[criteria]\nmin_tps = \"12800/s\"\n",
        spawn_target(10_000)
    );
    let f = write_scenario(dir.path(), "binary", &text);
    let o = run(&f, dir.path()).unwrap();
    let r = &o.result;
    assert_eq!(r.scenario.target_kind, "spawn");
    let audit = r.audit.as_ref().expect("our engine is audited");
    assert!(audit.ok, "{:?}", audit.problems);
    // Every transfer was valid and every one committed: the harness's count is the engine's.
    let committed = committed_in_stages(r);
    assert!(committed >= 250 * 128, "{committed}");
    assert_eq!(committed, audit.committed_transfers);
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    // 100 batches of 128 per second is 12,800 tx/s, what min_tps asks for: whole operations
    // land on the plan within one batch, which passes; the offered figure is the plan's.
    let min_tps = r.criteria.iter().find(|c| c.name == "min_tps").unwrap();
    assert_eq!(
        min_tps.status,
        results::CriterionStatus::Pass,
        "{min_tps:?}"
    );
    let offered = r
        .summary
        .offered_tps
        .expect("an open-model plan offers a rate");
    assert!((offered - 12_800.0).abs() < 1e-6, "{offered}");
    assert!(r.resources.target.pid.is_some());
    assert!(r.resources.target.rss_peak.is_some());
    assert!(o.dir.join("results.json").is_file());
}

#[test]
fn json_transfers_closed_model_and_health() {
    let dir = tempfile::tempdir().unwrap();
    // Both HTTP/1.1 clients: our own (the default) and hyper's.
    for (client, says) in [
        ("", "the harness's own HTTP/1.1 client"),
        ("client = \"hyper\"\n", "hyper's client connection"),
    ] {
        let text = format!(
            "[scenario]\nname = \"t-json\"\n{}\n[workload]\naccounts = 1000\n[http]\ntimeout = \"5s\"\n{client}[[requests]]\nname = \"transfer\"\nmethod = \"POST\"\npath = \"/api/v11/transactions\"\nheaders = {{ content-type = \"application/json\" }}\nbody = \"json-transfer\"\nexpect_status = [200]\n[[stages]]\nname = \"steady\"\nduration = \"2s\"\nworkers = 4\n",
            spawn_target(1000)
        );
        let f = write_scenario(dir.path(), "json", &text);
        let r = run(&f, dir.path()).unwrap().result;
        let notes = &r.driver.notes;
        assert!(notes.iter().any(|n| n.contains(says)), "{notes:?}");
        let audit = r.audit.as_ref().expect("audited");
        assert!(audit.ok, "{:?}", audit.problems);
        let committed = committed_in_stages(&r);
        let ops: u64 = r.stages.iter().map(|s| s.ops).sum();
        assert!(ops > 100, "{ops}");
        assert_eq!(committed, ops, "one valid transfer per request");
        assert_eq!(committed, audit.committed_transfers);
    }

    let text = format!(
        "[scenario]\nname = \"t-health\"\n{}\n[workload]\naccounts = 1000\n[[requests]]\nname = \"health\"\nmethod = \"GET\"\npath = \"/api/v11/health\"\nexpect_status = [200]\n[[stages]]\nname = \"steady\"\nduration = \"2s\"\nworkers = 4\n",
        spawn_target(1000)
    );
    let f = write_scenario(dir.path(), "health", &text);
    let r = run(&f, dir.path()).unwrap().result;
    assert!(r.summary.ops > 100, "{}", r.summary.ops);
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    assert_eq!(r.summary.committed, 0);
    let audit = r.audit.as_ref().expect("audited");
    assert!(audit.ok && audit.committed_transfers == 0);
}

#[test]
fn a_killed_server_is_counted_not_fatal() {
    let (child, url) = start_engine(1000);
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[scenario]\nname = \"t-kill\"\n[target]\nkind = \"http\"\nurl = \"{url}\"\n[workload]\naccounts = 1000\n[http]\ntimeout = \"1s\"\nconnections = 4\n[[requests]]\nname = \"health\"\nmethod = \"GET\"\npath = \"/api/v11/health\"\nexpect_status = [200]\n[[stages]]\nname = \"steady\"\nduration = \"3s\"\nrate = \"200/s\"\n"
    );
    let f = write_scenario(dir.path(), "kill", &text);
    let killer = kill_after(child, Duration::from_millis(1200));
    let t0 = Instant::now();
    let o = run(&f, dir.path()).unwrap();
    killer.join().unwrap();
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(8), "{took:?}");
    let r = &o.result;
    assert_eq!(r.scenario.target_kind, "http");
    let kinds = &r.summary.errors_by_kind;
    assert!(
        kinds.get("connect").copied().unwrap_or(0) > 0,
        "connect errors expected: {kinds:?}"
    );
    assert!(
        kinds
            .keys()
            .all(|k| ["connect", "io", "timeout"].contains(&k.as_str())),
        "{kinds:?}"
    );
    // About 1.2 s of the 3 s worked.
    assert!(r.summary.ops > 150, "{}", r.summary.ops);
    assert!(r.summary.errors > 0 && r.summary.errors < r.summary.ops);
    assert!(o.dir.join("results.json").is_file());
    assert_ne!(o.exit, Exit::Aborted, "finished on schedule, not aborted");
}

#[test]
fn a_silent_server_gives_timeouts_one_per_request_deadline() {
    // Accepts connections, reads what comes, never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s); // keep it open
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[scenario]\nname = \"t-silent\"\n[target]\nkind = \"http\"\nurl = \"{url}\"\n[http]\ntimeout = \"200ms\"\n[[requests]]\nname = \"health\"\nmethod = \"GET\"\npath = \"/\"\n[[stages]]\nname = \"steady\"\nduration = \"2s\"\nworkers = 2\n"
    );
    let f = write_scenario(dir.path(), "silent", &text);
    let t0 = Instant::now();
    let o = run(&f, dir.path()).unwrap();
    let took = t0.elapsed();
    let r = &o.result;
    let kinds = &r.summary.errors_by_kind;
    let timeouts = kinds.get("timeout").copied().unwrap_or(0);
    // 2 workers x 2 s / 200 ms = 20 deadlines; each one ends its request on time, again and
    // again on the same worker (the worker's timer is re-armed after it fired).
    assert!(
        (14..=22).contains(&timeouts),
        "{timeouts} timeouts: {kinds:?}"
    );
    assert_eq!(kinds.len(), 1, "only timeouts: {kinds:?}");
    assert_eq!(r.summary.errors, r.summary.ops);
    assert!(took < Duration::from_secs(8), "{took:?}");
    // No criteria, and nothing succeeded: a failure, never "pass" or "not judged".
    assert_eq!(r.verdict.status, results::Status::Fail, "{:?}", r.verdict);
    let why = format!(
        "no operation succeeded: {n} of {n} requests failed (timeout {n})",
        n = r.summary.ops
    );
    assert_eq!(r.verdict.reasons, [why]);
    assert_eq!(o.exit, Exit::Fail);
}

#[test]
fn a_remote_target_is_refused_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    for allow in ["false", "true"] {
        let text = format!(
            "[scenario]\nname = \"t-remote\"\n[target]\nkind = \"http\"\nurl = \"http://10.1.2.3:80\"\nallow_remote = {allow}\n[[requests]]\nname = \"health\"\nmethod = \"GET\"\npath = \"/\"\n[[stages]]\nname = \"s\"\nduration = \"1s\"\nworkers = 1\n"
        );
        let f = write_scenario(dir.path(), "remote", &text);
        // Without --allow-remote, whatever the scenario says.
        let err = run(&f, dir.path()).err().expect("refused");
        let http = err.downcast_ref::<HttpError>().expect("an HttpError");
        assert!(matches!(http, HttpError::Remote { .. }), "{http}");
        assert!(http.is_usage());
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["run", "--quiet", "--out"])
            .arg(dir.path())
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("loopback") && stderr.contains("10.1.2.3"),
            "{stderr}"
        );
    }
    // Nothing was written for a refused run.
    let wrote = walk(dir.path()).any(|p| p.ends_with("results.json"));
    assert!(!wrote);
}

fn walk(dir: &Path) -> impl Iterator<Item = PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.into_iter()
}

#[test]
fn profile_of_a_spawned_engine_is_fetched_for_the_steady_state() {
    let dir = tempfile::tempdir().unwrap();
    let target = spawn_target(10_000).replace(
        "\"--workers\", \"1\"]",
        "\"--workers\", \"1\", \"--enable-profiling\"]",
    );
    let text = format!(
        "[scenario]\nname = \"t-prof\"\n{target}\n[workload]\naccounts = 10_000\nbatch_size = 256\n[http]\nconnections = 4\n[[requests]]\nname = \"tx\"\nmethod = \"POST\"\npath = \"/api/v11/transactions\"\nheaders = {{ content-type = \"application/octet-stream\" }}\nbody = \"binary-batch\"\n[[stages]]\nname = \"warm\"\nduration = \"1s\"\nworkers = 2\nwarmup = true\n[[stages]]\nname = \"steady\"\nduration = \"2s\"\nworkers = 4\n"
    );
    let file = write_scenario(dir.path(), "t-prof", &text);
    let plan = Prepared::whole(scenario::load(&file).unwrap());
    let out = execute(
        &plan,
        &RunOptions {
            out: Some(dir.path().join("reports")),
            quiet: true,
            no_reports: true,
            profile: true,
            ..RunOptions::default()
        },
    )
    .unwrap();
    let p = out
        .result
        .profile
        .as_ref()
        .expect("the server's profile was fetched");
    let svg = std::fs::read_to_string(out.dir.join(&p.flamegraph)).unwrap();
    assert!(svg.starts_with("<?xml") || svg.contains("<svg"), "an SVG");
    assert!(
        svg.contains("engine::"),
        "engine frames in the server's flamegraph"
    );
    assert!(dir.path().join("flamegraphs").read_dir().unwrap().count() == 1);
}

/// `cargo run -p harness` builds no `engine`: a spawn command naming it runs the engine server
/// linked into the harness (`harness engine serve ...`), still as a process of its own, and
/// results.json and the report say so. The harness binary is copied to a directory with no
/// `engine` beside it and run with a `PATH` that holds none either.
#[test]
fn a_spawn_command_naming_engine_runs_the_linked_server_when_none_was_built() {
    let dir = tempfile::tempdir().unwrap();
    let (bin, empty_path) = (dir.path().join("bin"), dir.path().join("path"));
    std::fs::create_dir(&bin).unwrap();
    std::fs::create_dir(&empty_path).unwrap();
    let harness = bin.join("harness");
    std::fs::copy(env!("CARGO_BIN_EXE_harness"), &harness).unwrap();
    let text = "[scenario]\nname = \"t-linked\"\n[target]\nkind = \"spawn\"\ncommand = [\"engine\", \"serve\", \"--addr\", \"127.0.0.1:0\", \"--accounts\", \"1000\", \"--workers\", \"1\"]\nhealth_path = \"/api/v11/health\"\nstartup_timeout = \"20s\"\n[workload]\naccounts = 1000\n[[requests]]\nname = \"health\"\nmethod = \"GET\"\npath = \"/api/v11/health\"\nexpect_status = [200]\n[[stages]]\nname = \"steady\"\nduration = \"1s\"\nworkers = 2\n[criteria]\nmax_error_rate = \"0%\"\n";
    let f = write_scenario(dir.path(), "linked", text);
    let child = Command::new(&harness)
        .args(["run", "--quiet", "--no-reports", "--out"])
        .arg(dir.path().join("reports"))
        .arg(&f)
        .env("PATH", &empty_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let harness_pid = child.id();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let results = stdout
        .lines()
        .find_map(|l| l.strip_prefix("results: "))
        .map(PathBuf::from)
        .expect("the results path is printed");
    let r = results::RunResult::read(&results).unwrap();

    let note = "no \"engine\" binary beside the harness or on PATH: started the engine server linked into the harness";
    let said = r.driver.notes.iter().find(|n| n.contains(note));
    let said = said.unwrap_or_else(|| panic!("{:?}", r.driver.notes));
    assert!(
        said.contains(&format!("{} engine serve --addr", harness.display())),
        "{said}"
    );
    assert!(r.scenario.target.contains(&harness.display().to_string()));
    // A separate process, sampled and stopped like any spawned server.
    let target_pid = r.resources.target.pid.expect("the server was sampled");
    assert_ne!(target_pid, harness_pid);
    assert!(r.resources.target.rss_peak.is_some());
    assert!(
        r.summary.ops > 50 && r.summary.errors == 0,
        "{:?}",
        r.summary
    );
    assert!(
        r.audit.as_ref().is_some_and(|a| a.ok),
        "our engine, audited"
    );
    assert!(
        !r.driver.notes.iter().any(|n| n.contains("exited")),
        "stopped cleanly by SIGTERM: {:?}",
        r.driver.notes
    );

    let rendered = Command::new(&harness)
        .args(["report", "--format", "markdown"])
        .arg(&results)
        .env("PATH", &empty_path)
        .output()
        .unwrap();
    assert!(rendered.status.success());
    let md = std::fs::read_to_string(results.with_file_name("report.md")).unwrap();
    assert!(md.contains("started the engine server linked into the harness"));
}

/// The PIDs of `parent`'s children (from /proc: the fourth field of `stat` is the parent's).
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // `pid (comm) state ppid ...`; comm may hold spaces, so split after its ')'.
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            after.split_whitespace().nth(1) == Some(&parent.to_string())
        })
        .collect()
}

/// Whether `pid` still runs (a zombie waiting for its reaper has ended).
fn running(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, r)| r.split_whitespace().next());
    state.is_some_and(|s| s != "Z" && s != "X")
}

/// SIGKILL gives the harness no chance to stop its server: the kernel must (issue 21: `engine
/// serve` kept running as an orphan, holding its port and a core).
#[test]
fn a_spawned_server_dies_with_a_killed_harness() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[scenario]\nname = \"t-orphan\"\n{}[workload]\naccounts = 1000\n[[requests]]\nname = \"health\"\nmethod = \"GET\"\npath = \"/api/v11/health\"\n[[stages]]\nduration = \"60s\"\nworkers = 1\n",
        spawn_target(1000)
    );
    let f = write_scenario(dir.path(), "orphan", &text);
    let mut harness = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", "--quiet", "--no-reports", "--out"])
        .arg(dir.path())
        .arg(&f)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let server = loop {
        if let Some(&pid) = children_of(harness.id()).first() {
            break pid;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no server");
        std::thread::sleep(Duration::from_millis(50));
    };
    // Let it pass startup and take load, so the kill lands mid-run.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(running(server));
    harness.kill().unwrap();
    harness.wait().unwrap();
    let killed = Instant::now();
    while running(server) && killed.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let orphaned = running(server);
    if orphaned {
        // Leave nothing behind, then fail.
        let _ = Command::new("kill")
            .args(["-KILL", &server.to_string()])
            .status();
    }
    assert!(!orphaned, "the server (pid {server}) outlived the harness");
}
