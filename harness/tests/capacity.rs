//! Capacity search end to end, against a target whose capacity is known exactly: a server
//! that serves one request at a time, each taking 1/N s on a virtual clock (a request that
//! arrives while the server is busy waits its turn), so it serves at most N requests per
//! second and queues the rest. Below N latency is the service time; above it the queue, and
//! so the latency, grows without bound: the SLO breaks at N (a little above, by how much a
//! probe's growing queue takes to cross the limit).
//!
//! The tests run one at a time (a lock): each judges latency and how late the generator was,
//! and a neighbour's load on the same two cores would be noise they did not cause. Every
//! request goes to 127.0.0.1; every probe lasts under three seconds and every search is
//! bounded by `max_probes` and `max_time`.

mod common;
use common::*;
use harness::exit::Exit;
use harness::run::RunOutcome;
use results::{CapacitySearch, ProbeOutcome, ProbePhase, SearchEnd, Status};
use std::io::{BufReader, Write};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A server of capacity `per_s` requests per second, served in arrival order; its URL.
fn known_capacity_server(per_s: f64) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let service = Duration::from_secs_f64(1.0 / per_s);
    // When the server is next free: a request starts at max(arrival, free) and ends one
    // service time later. Sleeping until then cannot lose capacity to timer slack: the
    // schedule is kept on this clock, not by how long the sleeps took.
    let free = Arc::new(Mutex::new(Instant::now()));
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let free = Arc::clone(&free);
            std::thread::spawn(move || serve(s, &free, service));
        }
    });
    url
}

fn serve(s: std::net::TcpStream, free: &Mutex<Instant>, service: Duration) {
    let _ = s.set_nodelay(true);
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    while read_get_head(&mut r, &mut line) {
        let done = {
            let mut f = free.lock().unwrap();
            *f = (*f).max(Instant::now()) + service;
            *f
        };
        std::thread::sleep(done.saturating_duration_since(Instant::now()));
        if w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            .is_err()
        {
            return;
        }
    }
}

/// A search of `url` over `range` (`start` and `max`). What these tests judge is the search,
/// not the generator: a core taken by a neighbour for a few milliseconds must not make a probe
/// invalid, so an operation is late only after 10 ms (the starved generator's test keeps the
/// default 1 ms).
fn search_scenario(url: &str, name: &str, range: &str, extra: &str) -> String {
    format!(
        "[scenario]\nname = \"{name}\"\n[target]\nkind = \"http\"\nurl = \"{url}\"\n\
         [http]\nconnections = 64\ntimeout = \"5s\"\n\
         [[requests]]\nname = \"root\"\nmethod = \"GET\"\npath = \"/\"\nexpect_status = [200]\n\
         [capacity]\nmode = \"search\"\npercentile = 99.0\nmax_latency = \"20ms\"\n{range}\n\
         probe = \"1500ms\"\nsettle = \"500ms\"\nconfirm = \"2s\"\nprecision = \"4%\"\n\
         max_probes = 16\nmax_time = \"60s\"\n{extra}\n[output]\ninterval = \"500ms\"\n\
         [criteria]\nlate_dispatch = \"10ms\"\n"
    )
}

fn search_of(o: &RunOutcome) -> &CapacitySearch {
    let c = o.result.capacity.as_ref().expect("a capacity result");
    c.search.as_ref().expect("a search")
}

fn table(s: &CapacitySearch) -> String {
    s.probes
        .iter()
        .map(|p| {
            format!(
                "#{} {:?} {:.0}->{:.0} p99 {:.0}us {:?} {}\n",
                p.index, p.phase, p.offered, p.achieved, p.slo_latency_us, p.outcome, p.why
            )
        })
        .collect()
}

#[test]
fn the_search_finds_a_known_capacity_within_its_precision() {
    let _one = serial();
    // 2,000 requests/s: 500 µs each. The search grows 300, 600, 1,200, 2,400 (bad), then
    // bisects toward 2,000.
    let n = 2_000.0;
    let url = known_capacity_server(n);
    let dir = tempfile::tempdir().unwrap();
    let text = search_scenario(&url, "t-known", "start = \"300/s\"\nmax = \"20k/s\"", "");
    let f = write_scenario(dir.path(), "known", &text);
    // Run again (at most four runs in all) when the instrument says a VM stall disturbed the
    // search: the generator started operations more than 10 ms late though its threads were
    // mostly idle (CI: 18 of 900 late, the busiest thread 13 % busy, p99 30 ms), or a probe
    // below capacity came out bad without the generator seeing itself late (CI, 2026-12-01:
    // 1,800/s bad at p99 29.6 ms against this 2,000/s server, so it settled on 1,762). A search
    // that is wrong by design is wrong every time.
    let o = run_quiet_undisturbed(&f, dir.path(), |o| {
        let s = search_of(o);
        let good = o.result.capacity.as_ref().and_then(|c| c.max_rate_met);
        let on_capacity = good.is_some_and(|g| g >= n * 0.96 && g <= n * 1.04);
        (s.ended == SearchEnd::GeneratorLimit || !on_capacity).then(|| table(s))
    });
    let s = search_of(&o);
    let c = o.result.capacity.as_ref().unwrap();
    let why = format!("{:?}\n{}", o.result.verdict, table(s));
    eprintln!("{why}");
    assert_eq!(s.ended, SearchEnd::Converged, "{why}");
    assert_eq!(o.result.verdict.status, Status::Pass, "{why}");
    assert_eq!(o.exit, Exit::Pass);
    let (good, bad) = (c.max_rate_met.unwrap(), c.first_rate_broken.unwrap());
    assert!(
        bad <= good * 1.04 + 1e-9,
        "bracket within the precision: {why}"
    );
    // Where the SLO breaks: at N, give or take the precision (a probe's queue at 1 % over N
    // reaches 20 ms in two seconds; at 4 % under N nothing queues).
    assert!(good >= n * 0.96 && good <= n * 1.04, "good {good}: {why}");
    assert!(bad > n * 0.99 && bad <= n * 1.08, "bad {bad}: {why}");
    assert_eq!(s.capacity, Some(good), "{why}");
    let last = s.probes.last().unwrap();
    assert_eq!(
        (last.phase, last.outcome),
        (ProbePhase::Confirm, ProbeOutcome::Good),
        "{why}"
    );
    assert!(s.probes.len() <= 14, "a bounded number of probes: {why}");
    // The whole search is on one clock: probes follow each other.
    assert!(
        s.probes.windows(2).all(|w| w[1].start_s > w[0].start_s),
        "{why}"
    );
    assert!(o.result.intervals.windows(2).all(|w| w[1].t_s > w[0].t_s));
    assert!(o.dir.join("results.json").is_file());
    assert!(o.dir.join("probe-01.hlog").is_file());
    // Memory is the whole search's, from the first probe's start to the last one's end.
    let h = &o.result.resources.harness;
    assert!(
        h.rss_start.is_some() && h.rss_peak >= h.rss_start && h.rss_peak >= h.rss_end,
        "{h:?}"
    );
    assert_eq!(o.result.resources.rss_growth_bytes, None);
}

#[test]
fn a_target_whose_latency_stays_flat_is_above_max() {
    let _one = serial();
    // 100,000 requests/s (10 µs each): far above the 2,000/s the search may ask for. The SLO
    // is 200 ms, not 20: what this test judges is a latency that never rises, and a 23 ms stall
    // of this shared VM once broke the 500/s probe's p99 (CI, 2026-12-01) with nothing queued.
    let url = known_capacity_server(100_000.0);
    let dir = tempfile::tempdir().unwrap();
    // Lateness counts from 50 ms and up to 5 % of sends for the same reason.
    let text = search_scenario(&url, "t-flat", "start = \"500/s\"\nmax = \"2k/s\"", "")
        .replace("max_latency = \"20ms\"", "max_latency = \"200ms\"")
        .replace(
            "late_dispatch = \"10ms\"",
            "late_dispatch = \"50ms\"\nmax_late_dispatch = \"5%\"",
        );
    assert!(text.contains("max_latency = \"200ms\"") && text.contains("\"50ms\""));
    let f = write_scenario(dir.path(), "flat", &text);
    // A search the generator's lateness ended is run again, at most four runs (CI,
    // 2026-12-01 23:40, the hypervisor stealing up to 22 % of the machine: the 2,000/s probe
    // had 65 of 3,000 sends over 10 ms late, its thread waiting for a core 34 % of the time).
    // A search that stops short of max by design does so every time.
    let o = run_quiet_undisturbed(&f, dir.path(), |o| {
        let s = search_of(o);
        (s.ended == SearchEnd::GeneratorLimit).then(|| table(s))
    });
    let s = search_of(&o);
    let why = format!("{:?}\n{}", o.result.verdict, table(s));
    assert_eq!(s.ended, SearchEnd::AboveMax, "{why}");
    assert!(s.above_max, "{why}");
    assert_eq!(s.capacity, Some(2_000.0), "{why}");
    let offered: Vec<f64> = s.probes.iter().map(|p| p.offered).collect();
    assert_eq!(offered, [500.0, 1_000.0, 2_000.0, 2_000.0], "{why}");
    assert_eq!(o.result.capacity.as_ref().unwrap().first_rate_broken, None);
    assert_eq!(o.result.verdict.status, Status::Pass, "{why}");
    assert!(
        o.result.verdict.reasons[0].contains("above the search's max"),
        "{why}"
    );
}

#[test]
fn a_start_rate_that_already_breaks_is_below_start_and_fails() {
    let _one = serial();
    let url = known_capacity_server(200.0);
    let dir = tempfile::tempdir().unwrap();
    // A 6 s probe, five times what the server can serve: clearly bad (p99 over 10x the
    // 20 ms limit) from the first settled interval, so it ends 3 s after settling.
    let text = search_scenario(&url, "t-below", "start = \"1k/s\"\nmax = \"4k/s\"", "")
        .replace("probe = \"1500ms\"", "probe = \"6s\"");
    let f = write_scenario(dir.path(), "below", &text);
    let t0 = std::time::Instant::now();
    let o = run_quiet(&f, dir.path());
    let s = search_of(&o);
    let why = format!("{:?}\n{}", o.result.verdict, table(s));
    assert_eq!(s.ended, SearchEnd::BelowStart, "{why}");
    assert_eq!(s.probes.len(), 1, "{why}");
    let p = &s.probes[0];
    assert!(p.ended_early, "{why}");
    assert!(p.duration_s < 4.0, "ended 3 s after settling: {why}");
    assert!(p.why.contains("ended early"), "{why}");
    assert!(t0.elapsed() < Duration::from_secs(6), "{:?}", t0.elapsed());
    assert_eq!(o.result.verdict.status, Status::Fail, "{why}");
    assert_eq!(o.exit, Exit::Fail);
    assert_eq!(s.capacity, None);
}

#[test]
fn a_starved_generator_makes_the_search_invalid() {
    let _one = serial();
    // As in tests/verdicts.rs: the harness pinned to a core three busy loops share, the
    // engine alone on the other, 60k GET/s asked of one generator thread from the start.
    let dir = tempfile::tempdir().unwrap();
    let rest = "[http]\nconnections = 64\n[[requests]]\nname = \"health\"\nmethod = \"GET\"\npath = \"/api/v11/health\"\nexpect_status = [200]\n[capacity]\nmode = \"search\"\npercentile = 99.0\nmax_latency = \"10ms\"\nstart = \"60k/s\"\nmax = \"240k/s\"\nprobe = \"2s\"\nsettle = \"500ms\"\nconfirm = \"2s\"\nmax_probes = 4\nmax_time = \"30s\"\n";
    let Some((status, out)) = run_starved(dir.path(), "t-starved", rest) else {
        return;
    };
    let r: results::RunResult = serde_json::from_str(
        &std::fs::read_to_string(&out)
            .unwrap_or_else(|e| panic!("{}: {e}; the harness exited {status}", out.display())),
    )
    .unwrap();
    let s = r
        .capacity
        .as_ref()
        .and_then(|c| c.search.as_ref())
        .expect("a search");
    let why = format!("{:?}\n{}", r.verdict, table(s));
    assert_eq!(s.ended, SearchEnd::GeneratorLimit, "{why}");
    assert_eq!(r.verdict.status, Status::Invalid, "{why}");
    assert_eq!(status.code(), Some(Exit::Invalid as i32));
    assert_eq!(s.capacity, None, "never a capacity: {why}");
    assert_eq!(
        s.probes.last().unwrap().outcome,
        ProbeOutcome::Invalid,
        "{why}"
    );
    // The generator's own fault, in either words: late sends, or (when the hypervisor also
    // stole a third of the machine, CI 02:50) nothing completed while it lacked its CPU.
    let reasons = r.verdict.reasons.join(" ");
    assert!(
        reasons.contains("the load generator started")
            || reasons.contains("the generator did not have its CPU"),
        "{why}"
    );
}

#[test]
fn a_search_cannot_be_split_into_segments() {
    let dir = tempfile::tempdir().unwrap();
    let text = search_scenario(
        "http://127.0.0.1:9",
        "t-seg",
        "start = \"1k/s\"\nmax = \"4k/s\"",
        "",
    );
    let f = write_scenario(dir.path(), "seg", &text);
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("run")
        .arg(&f)
        .args(["--segment", "0/2", "--quiet", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--segment cannot split a capacity search"),
        "{err}"
    );
}

#[test]
fn ctrl_c_writes_the_probes_so_far_marked_aborted() {
    let _one = serial();
    let url = known_capacity_server(100_000.0);
    let dir = tempfile::tempdir().unwrap();
    let text = search_scenario(&url, "t-int", "start = \"500/s\"\nmax = \"8k/s\"", "");
    let f = write_scenario(dir.path(), "int", &text);
    let child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("run")
        .arg(&f)
        .args(["--quiet", "--no-reports", "--out"])
        .arg(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Probes last 2 s (settle included): interrupt the second.
    std::thread::sleep(Duration::from_millis(3000));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(Exit::Aborted as i32), "{err}");
    let r = results::RunResult::read(dir.path().join("t-int/latest/results.json")).unwrap();
    let s = r
        .capacity
        .as_ref()
        .and_then(|c| c.search.as_ref())
        .expect("a search");
    let why = format!("{:?}\n{}", r.verdict, table(s));
    assert_eq!(r.verdict.status, Status::Aborted, "{why}");
    assert_eq!(s.ended, SearchEnd::Aborted, "{why}");
    assert_eq!(s.capacity, None, "{why}");
    assert_eq!(
        s.probes.first().map(|p| p.outcome),
        Some(ProbeOutcome::Good),
        "{why}"
    );
    assert_eq!(
        s.probes.last().map(|p| p.outcome),
        Some(ProbeOutcome::Aborted),
        "{why}"
    );
}
