//! HTTP/1.1 pipelining (`[http] pipeline = N`) end to end: against a hand-written server that
//! shows the requests arrived together and answers them in order with two framings and two
//! statuses, against one that closes mid-pipeline, and against the real engine.
//!
//! Every server listens on 127.0.0.1 port 0; every run lasts 1-2 s and every server thread
//! gives up after 5 s of silence. The tests take turns ([`alone`]): four of them load both
//! cores as fast as they can, and the open-model one judges how late the generator was.

mod common;
#[path = "common/http1_server.rs"]
mod http1_server;

use common::*;
use harness::plan::Prepared;
use harness::run::{execute, RunOptions, RunOutcome};
use http1_server::{start, Behaviour, Server};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

static TURNS: Mutex<()> = Mutex::new(());

/// Holds the machine for one test (CI, 2026-12-01: the open-model test ran beside the file's
/// closed-model ones and sent 21 of 400 requests over 5 ms late, lag p99 27 ms).
fn alone() -> MutexGuard<'static, ()> {
    TURNS.lock().unwrap_or_else(|e| e.into_inner())
}

fn run(file: &Path, out: &Path, reports: bool) -> RunOutcome {
    let plan = Prepared::whole(scenario::load(file).unwrap_or_else(|e| panic!("{e}")));
    execute(
        &plan,
        &RunOptions {
            out: Some(out.to_path_buf()),
            quiet: true,
            no_reports: !reports,
            ..RunOptions::default()
        },
    )
    .unwrap()
}

/// A scenario against `server`: `http` lines for `[http]`, `load` for the one stage.
fn scenario(name: &str, server: &Server, http: &str, load: &str) -> String {
    format!(
        "[scenario]\nname = \"{name}\"\n[target]\nkind = \"http\"\nurl = \"{}\"\n[http]\ntimeout = \"2s\"\n{http}\n\
         [[requests]]\nname = \"ok\"\npath = \"/ok\"\nexpect_status = [200]\n\
         [[requests]]\nname = \"teapot\"\npath = \"/teapot\"\nexpect_status = [418]\n\
         [[stages]]\nname = \"steady\"\nduration = \"1s\"\n{load}\n",
        server.url
    )
}

/// Operations, successes and io errors over every stage (everything the workers recorded,
/// including answers drained after the last stage ended).
fn counts(r: &results::RunResult) -> (u64, u64, u64) {
    let ops: u64 = r.stages.iter().map(|s| s.ops).sum();
    let errors: u64 = r.stages.iter().map(|s| s.errors).sum();
    let io: u64 = r
        .stages
        .iter()
        .map(|s| s.errors_by_kind.get("io").copied().unwrap_or(0))
        .sum();
    (ops, ops - errors, io)
}

#[test]
fn pipelined_requests_arrive_together_and_answers_match_in_order() {
    let _turn = alone();
    let server = start(Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let text = scenario("t-pipe", &server, "pipeline = 16", "workers = 2");
    let f = write_scenario(dir.path(), "pipe", &text);
    let r = run(&f, dir.path(), false).result;
    let s = &server.stats;
    // The first batch on a connection arrived whole before anything was answered, and no
    // connection ever had more than the depth outstanding.
    assert_eq!(s.get(&s.max_before_first_answer), 16);
    assert_eq!(s.get(&s.max_pending), 16);
    assert_eq!(s.get(&s.connections), 2);
    // /ok answers 200 with a length, /teapot 418 chunked, mixed at random: any answer matched
    // to the wrong request, or misread, would be a status error.
    let (ops, ok, io) = counts(&r);
    assert!(ops > 200, "{ops}");
    assert_eq!(ok, ops, "{:?}", r.summary.errors_by_kind);
    assert_eq!((io, s.get(&s.answered)), (0, ops));
    let notes = r.driver.notes.join("\n");
    assert!(notes.contains("HTTP/1.1 pipelining, depth 16"), "{notes}");
    assert!(
        r.driver.latency_basis.contains("pipelined (depth 16)"),
        "{}",
        r.driver.latency_basis
    );
}

#[test]
fn open_model_workers_send_due_requests_while_earlier_ones_are_in_flight() {
    let _turn = alone();
    // Each batch of answers is held 20 ms: one request at a time, 2 connections could carry
    // 100 requests/s; at depth 8 they carry the 400/s asked.
    let server = start(Behaviour {
        delay: Duration::from_millis(20),
        ..Behaviour::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let text = scenario(
        "t-pipe-open",
        &server,
        "connections = 2\npipeline = 8",
        // Lateness from 5 ms: 400 sends, so four delayed by a stall of this shared VM would be
        // over the 1 % at the default 1 ms; the fault this test guards against was 7 ms at the
        // median, which the p50 bound below catches.
        "rate = \"400/s\"\n[criteria]\nlate_dispatch = \"5ms\"",
    );
    let f = write_scenario(dir.path(), "open", &text);
    // A stall of this shared VM makes a run late anyway (10 ms holds up four sends): such a
    // run is tried again, at most three runs; the fault guarded against is late every time.
    let mut r = run(&f, dir.path(), false).result;
    for _ in 1..3 {
        match r.summary.dispatch.as_ref().filter(|d| d.is_late()) {
            Some(d) => eprintln!("disturbed, run again: {d:?}"),
            None => break,
        }
        r = run(&f, dir.path(), false).result;
    }
    let (ops, ok, _) = counts(&r);
    assert!(ops >= 390, "{ops}");
    assert_eq!(ok, ops, "{:?}", r.summary.errors_by_kind);
    let s = &server.stats;
    assert!(s.get(&s.max_pending) >= 4, "{}", s.get(&s.max_pending));
    assert!(s.get(&s.max_pending) <= 8, "{}", s.get(&s.max_pending));
    // Waiting for the slow answers is the target's; the generator itself sent on time (lag
    // p99 ~0.3 ms here, the pacer's 250 us quantum; 7 ms median when a worker with requests
    // in flight could miss its slot).
    let d = r.summary.dispatch.as_ref().expect("open-model dispatch");
    assert!(d.lag_us.p50 < 1000.0 && !d.is_late(), "{d:?}");
}

#[test]
fn a_server_that_closes_mid_pipeline_costs_an_io_error_per_unanswered_request() {
    let _turn = alone();
    for close_header in [false, true] {
        // Each connection answers 3 requests, then closes (with or without saying so).
        let server = start(Behaviour {
            close_after: Some(3),
            close_header,
            ..Behaviour::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let text = scenario("t-pipe-close", &server, "pipeline = 16", "workers = 2");
        let f = write_scenario(dir.path(), "close", &text);
        let o = run(&f, dir.path(), true);
        let (ops, ok, io) = counts(&o.result);
        let s = &server.stats;
        let answered = s.get(&s.answered);
        assert_eq!(ok, answered, "close_header {close_header}");
        assert_eq!(io, ops - ok, "{:?}", o.result.summary.errors_by_kind);
        // 13 of every 16 are lost: far more io errors than answers.
        assert!(io > 3 * answered, "{io} io, {answered} answered");
        assert_eq!(answered, 3 * s.get(&s.connections));
        // The run still wrote its report, with the io errors in it.
        let md = std::fs::read_to_string(o.dir.join("report.md")).unwrap();
        assert!(md.lines().any(|l| l.starts_with("| io ")), "{md}");
        assert!(o.dir.join("results.json").is_file());
    }
}

#[test]
fn pipelining_over_connections_recycled_every_n_requests() {
    let _turn = alone();
    let server = start(Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let text = scenario(
        "t-pipe-recycle",
        &server,
        "pipeline = 4\nmax_requests_per_connection = 10",
        "workers = 2",
    );
    let f = write_scenario(dir.path(), "recycle", &text);
    let r = run(&f, dir.path(), false).result;
    let (ops, ok, _) = counts(&r);
    assert_eq!(ok, ops, "{:?}", r.summary.errors_by_kind);
    let s = &server.stats;
    let (conns, closes) = (s.get(&s.connections), s.get(&s.close_requests));
    // Ten requests a connection, the tenth saying `connection: close`; each worker's last
    // connection may end short when the run does.
    assert!(
        ops / 10 <= conns && conns <= ops / 10 + 2,
        "{conns} for {ops}"
    );
    assert!(
        closes + 2 >= conns && closes <= conns,
        "{closes} closes, {conns}"
    );
    assert!(s.get(&s.max_pending) <= 4);
}

#[test]
fn the_engine_answers_a_depth_16_pipeline() {
    let _turn = alone();
    let (child, url) = start_engine(10_000);
    let dir = tempfile::tempdir().unwrap();
    // Health checks and binary batches mixed: the engine must apply each worker's batches in
    // the order they were pipelined, or their nonces go stale (rejected:bad_nonce).
    let text = format!(
        "[scenario]\nname = \"t-pipe-engine\"\n[target]\nkind = \"http\"\nurl = \"{url}\"\n\
         [workload]\naccounts = 10000\nbatch_size = 16\n[http]\npipeline = 16\n\
         [[requests]]\nname = \"health\"\npath = \"/api/v11/health\"\nexpect_status = [200]\nweight = 3\n\
         [[requests]]\nname = \"tx\"\nmethod = \"POST\"\npath = \"/api/v11/transactions\"\n\
         headers = {{ content-type = \"application/octet-stream\" }}\nbody = \"binary-batch\"\n\
         [[stages]]\nname = \"steady\"\nduration = \"2s\"\nworkers = 4\n"
    );
    let f = write_scenario(dir.path(), "engine", &text);
    let r = run(&f, dir.path(), false).result;
    kill_after(child, Duration::ZERO).join().unwrap();
    let (ops, ok, _) = counts(&r);
    assert!(ops > 1000, "{ops}");
    assert_eq!(ok, ops, "{:?}", r.summary.errors_by_kind);
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    let audit = r.audit.as_ref().expect("our engine is audited");
    assert!(audit.ok, "{:?}", audit.problems);
    let committed: u64 = r.stages.iter().map(|s| s.committed).sum();
    assert!(committed > 0 && committed.is_multiple_of(16), "{committed}");
    assert_eq!(committed, audit.committed_transfers);
}
