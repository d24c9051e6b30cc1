//! Verdicts a reader can trust, end to end: a starved generator is invalid (not the target's
//! fault), a slow target under an idle generator fails (not invalid), a healthy run is
//! neither, and a dying target's failed batches count every transaction they carried.
//!
//! The tests in this file run one at a time (a lock): each judges how late the generator was,
//! and a neighbour's load on the same two cores would be lateness they did not cause. Every
//! request goes to 127.0.0.1; every run lasts a few seconds.

mod common;
use common::*;
use harness::exit::Exit;
use results::{RunResult, Status};
use std::io::{BufReader, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

const HEALTH: &str = "[[requests]]\nname = \"health\"\nmethod = \"GET\"\npath = \"/api/v11/health\"\nexpect_status = [200]\n";

fn read_result(dir: &Path) -> RunResult {
    let text = std::fs::read_to_string(dir.join("results.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_starved_generator_is_invalid_not_the_targets_fault() {
    let _one = serial();
    // The run: the harness pinned to a core three busy loops share, the engine alone
    // on the other, 60k GET/s asked of one generator thread.
    let dir = tempfile::tempdir().unwrap();
    let rest = format!("[http]\nconnections = 64\n{HEALTH}[[stages]]\nname = \"steady\"\nduration = \"3s\"\nrate = \"60k/s\"\n[criteria]\nmax_p99 = \"10ms\"\n");
    let Some((status, out)) = run_starved(dir.path(), "t-starved", &rest) else {
        return;
    };
    assert!(
        out.is_file(),
        "no results.json; the harness exited {status}"
    );
    let r = read_result(out.parent().unwrap());
    let d = r
        .summary
        .dispatch
        .as_ref()
        .expect("open model: dispatch lag");
    assert_eq!(r.verdict.status, Status::Invalid, "{:?} {d:?}", r.verdict);
    assert_eq!(status.code(), Some(Exit::Invalid as i32));
    assert!(d.late_fraction() > 0.01, "{d:?}");
    assert!(
        d.achieved_ops_per_s < d.offered_ops_per_s * 0.9,
        "the generator fell behind: {d:?}"
    );
    let why = r.verdict.reasons.join("; ");
    assert!(why.contains("the load generator started"), "{why}");
    assert!(why.contains("busiest thread was"), "{why}");
    // Three busy loops share its core: it waited for the core most of the time.
    if let Some(w) = r.resources.harness.busiest_thread_wait_peak_pct {
        assert!(w > 30.0, "{w}");
        assert!(why.contains("waited for a core"), "{why}");
    }
    // The charts' late marks: some interval was late.
    assert!(r
        .intervals
        .iter()
        .any(|i| i.dispatch.as_ref().is_some_and(|x| d.interval_is_late(x))));
}

/// A server that answers every request after `delay`, one thread per connection.
fn slow_server(delay: Duration) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            std::thread::spawn(move || serve_slowly(s, delay));
        }
    });
    url
}

fn serve_slowly(s: std::net::TcpStream, delay: Duration) {
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    while read_get_head(&mut r, &mut line) {
        std::thread::sleep(delay);
        if w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            .is_err()
        {
            return;
        }
    }
}

#[test]
fn a_slow_target_under_an_idle_generator_fails_and_is_not_invalid() {
    let _one = serial();
    // 4 connections, 50 ms per answer: 80 answers/s for 200 asked. Every connection is busy;
    // the queue is the target's doing, so latency grows and the generator is never late.
    let url = slow_server(Duration::from_millis(50));
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[scenario]\nname = \"t-slow\"\n[target]\nkind = \"http\"\nurl = \"{url}\"\n[http]\nconnections = 4\ntimeout = \"5s\"\n[[requests]]\nname = \"root\"\nmethod = \"GET\"\npath = \"/\"\nexpect_status = [200]\n[[stages]]\nname = \"steady\"\nduration = \"2s\"\nrate = \"200/s\"\n[criteria]\nmax_p99 = \"100ms\"\nlate_dispatch = \"10ms\"\n"
    );
    let f = write_scenario(dir.path(), "slow", &text);
    // Lateness counts from 10 ms, and a run late anyway is tried again (at most four runs):
    // only ~160 requests go out, so two sends delayed by a stall of the whole VM were over the
    // 1 % at the default 1 ms (CI, 2026-12-01: 2 of 160, 1.16 and 1.58 ms, lag p50 66 us). A
    // generator that waited for the slow target's connections would be 50+ ms late in every
    // run, and the test would still fail.
    let o = run_quiet_undisturbed(&f, dir.path(), |o| {
        let d = o.result.summary.dispatch.as_ref()?;
        (d.late_fraction() > 0.01).then(|| format!("{d:?}"))
    });
    let r = &o.result;
    let d = r
        .summary
        .dispatch
        .as_ref()
        .expect("open model: dispatch lag");
    assert_eq!(r.verdict.status, Status::Fail, "{:?} {d:?}", r.verdict);
    assert_eq!(o.exit, Exit::Fail);
    assert!(d.late_fraction() <= 0.01, "{d:?}");
    assert!(
        r.verdict.reasons.iter().any(|x| x.contains("Latency p99")),
        "{:?}",
        r.verdict
    );
    // A server the harness did not start is not sampled: no target CPU or RSS anywhere (the
    // charts drew the harness's own figures as the target's).
    assert!(r
        .intervals
        .iter()
        .all(|i| i.target_cpu_pct.is_none() && i.target_rss_bytes.is_none()));
    // A GET is not "a batch of 1,024 transactions", whatever the workload's default batch.
    assert_eq!(r.driver.batch_size, None);
    // The queue shows in the latency (from each request's slot), not in the lag.
    assert!(
        r.summary.latency_us.p99 > 300_000.0,
        "{:?}",
        r.summary.latency_us
    );
}

#[test]
fn a_healthy_run_is_neither_invalid_nor_failed() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[scenario]\nname = \"t-healthy\"\n[target]\nkind = \"spawn\"\ncommand = [{:?}, \"serve\", \"--addr\", \"127.0.0.1:0\", \"--accounts\", \"1000\", \"--workers\", \"1\"]\nhealth_path = \"/api/v11/health\"\n[workload]\naccounts = 1000\n[http]\nconnections = 8\n{HEALTH}[[stages]]\nname = \"steady\"\nduration = \"3s\"\nrate = \"1000/s\"\n[criteria]\nmax_p99 = \"50ms\"\nmax_error_rate = \"0%\"\nlate_dispatch = \"10ms\"\n",
        engine_bin().display().to_string()
    );
    let f = write_scenario(dir.path(), "healthy", &text);
    // A stall of the whole VM makes the generator start operations late, and the run is then
    // rightly invalid (CI, 2026-12-01: 64 of 3,000 sends over 1 ms late, the max 12.8 ms, while
    // the generator's busiest thread was 14 % busy; later that day 414 of 3,000 in one run of
    // five, lag p99 5.0 ms, the thread 30 % busy against 8 % in a quiet run): lateness counts
    // from 10 ms here, and a run late anyway is tried again. The 1 ms default is the starved
    // test's, which needs it to be invalid.
    let o = run_quiet_undisturbed(&f, dir.path(), |o| {
        let v = &o.result.verdict;
        let late = v.status == Status::Invalid && v.reasons.iter().all(|r| r.contains("late"));
        late.then(|| format!("{:?}", v.reasons))
    });
    let r = &o.result;
    let d = r
        .summary
        .dispatch
        .as_ref()
        .expect("open model: dispatch lag");
    assert_eq!(r.verdict.status, Status::Pass, "{:?} {d:?}", r.verdict);
    assert!(d.late_fraction() <= 0.01, "{d:?}");
    assert!(d.ops >= 2900, "{d:?}");
    assert!(r.resources.harness.busiest_thread_peak_pct.is_some());
    let md = std::fs::read_to_string(o.dir.join("report.md")).unwrap();
    assert!(md.contains("## Load generator"), "{md}");
    assert!(md.contains("it kept up with its schedule"), "{md}");
}

#[test]
fn a_dying_target_counts_every_transaction_its_failed_batches_carried() {
    let _one = serial();
    let (child, url) = start_engine(10000);
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[scenario]\nname = \"t-dying\"\n[target]\nkind = \"http\"\nurl = \"{url}\"\n[workload]\naccounts = 10000\nbatch_size = 64\n[http]\ntimeout = \"1s\"\nconnections = 4\n[[requests]]\nname = \"transactions\"\nmethod = \"POST\"\npath = \"/api/v11/transactions\"\nheaders = {{ content-type = \"application/octet-stream\" }}\nbody = \"binary-batch\"\nexpect_status = [200, 202]\n[[stages]]\nname = \"steady\"\nduration = \"3s\"\nrate = \"200/s\"\n"
    );
    let f = write_scenario(dir.path(), "dying", &text);
    let killer = kill_after(child, Duration::from_millis(1200));
    let o = run_quiet(&f, dir.path());
    killer.join().unwrap();
    let r = &o.result;
    let s = &r.summary;
    let f = &s.failures;
    // Roughly 1.8 s of 3 s failed: every one of those requests' 64 transactions counts.
    assert!(f.failed_ops > 100, "{f:?}");
    assert_eq!(f.failed_tx, f.failed_ops * 64, "{f:?}");
    let tx_rate = f.tx_error_rate.expect("transactions were submitted");
    assert!(tx_rate > 0.3 && tx_rate < 0.9, "{tx_rate}");
    assert!(
        (s.error_rate - tx_rate).abs() < 1e-12,
        "criteria judge the tx rate"
    );
    assert!((f.op_error_rate - f.failed_ops as f64 / s.ops as f64).abs() < 1e-12);
    // Failed requests' latency is apart: the successful histogram holds only successes.
    assert_eq!(s.latency_us.count, s.ops - f.failed_ops);
    let ko = f.latency_failed_us.as_ref().expect("failed latency kept");
    assert_eq!(ko.count, f.failed_ops);
    assert!(r.histogram_failed.is_some());
    let md = std::fs::read_to_string(o.dir.join("report.md")).unwrap();
    assert!(md.contains("carried by failed operations"), "{md}");
    assert!(md.contains("| successful | 2"), "{md}");
}
