//! Feeders, checks and flows end to end (issue 19): real runs of small scenarios against a
//! server that checks what it receives (`flows/server.rs`): the token it issued comes back,
//! rows arrive in the order and number each strategy promises (across two segments too),
//! checks fail on a wrong body, and a missing column is a scenario error.
//!
//! Bounded: every stage lasts at most 1 s with 1 or 2 workers against 127.0.0.1 port 0; queue
//! runs end sooner, when their few rows run out.

mod common;
#[path = "flows/server.rs"]
mod server;

use common::write_scenario;
use harness::plan::Prepared;
use harness::run::{execute, RunOptions, RunOutcome};
use server::Server;
use std::path::Path;
use std::process::Command;

/// A closed-model scenario of `workers` for `secs` against `server`, with `extra` (TOML:
/// `[[data]]`, `[[requests]]`...) in between.
fn scenario(name: &str, server: &Server, extra: &str, workers: u32, secs: f64) -> String {
    format!(
        "[scenario]\nname = \"{name}\"\n[target]\nkind = \"http\"\nurl = \"{}\"\n[http]\ntimeout = \"2s\"\n\
         {extra}\n[[stages]]\nname = \"steady\"\nduration = \"{secs}s\"\nworkers = {workers}\n",
        server.url
    )
}

fn run(file: &Path, out: &Path) -> RunOutcome {
    let plan = Prepared::whole(scenario::load(file).unwrap_or_else(|e| panic!("{e}")));
    run_prepared(&plan, out)
}

fn run_prepared(plan: &Prepared, out: &Path) -> RunOutcome {
    execute(
        plan,
        &RunOptions {
            out: Some(out.to_path_buf()),
            quiet: true,
            no_reports: true,
            ..RunOptions::default()
        },
    )
    .unwrap()
}

fn errors_of(r: &results::RunResult, kind: &str) -> u64 {
    r.summary.errors_by_kind.get(kind).copied().unwrap_or(0)
}

/// `n` rows of `id,name` (a quoted comma in every name).
fn users_csv(dir: &Path, n: u32) {
    let mut text = String::from("id,name\n");
    for i in 1..=n {
        text.push_str(&format!("{i},\"user {i}, esq\"\n"));
    }
    std::fs::write(dir.join("users.csv"), text).unwrap();
}

#[test]
fn a_token_from_the_setup_login_comes_back_on_every_request_of_its_connection() {
    for client in ["builtin", "hyper"] {
        token_round_trip(client);
    }
}

/// The login flow with `[http] client = "<client>"`.
fn token_round_trip(client: &str) {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    users_csv(dir.path(), 50);
    let extra = r#"
[[data]]
name = "users"
file = "users.csv"
strategy = "circular"

[[requests]]
name = "login"
method = "POST"
path = "/login"
body = { template = '{"user":"{{users.id}}"}' }
setup = true
check = [{ header = "content-type", equals = "application/json" }]
extract = [{ var = "token", json = "/token" }, { var = "session", header = "x-session" }]

[[requests]]
name = "item"
path = "/items/{{users.id}}"
headers = { authorization = "Bearer {{token}}", x-session = "{{session}}" }
check = [{ json = "/ok", equals = true }, { body_contains = '"id":"' }]
"#;
    let extra = format!("client = \"{client}\"\n{extra}");
    let f = write_scenario(
        dir.path(),
        "token",
        &scenario("t-token", &srv, &extra, 2, 1.0),
    );
    let r = run(&f, dir.path()).result;
    assert!(r.summary.ops > 20, "{} requests", r.summary.ops);
    assert_eq!(r.summary.errors_by_kind, Default::default());
    let seen = srv.seen();
    // One login per connection (two workers, keep-alive), never counted as an operation.
    assert_eq!(seen.logins, 2);
    assert_eq!(seen.refused, 0);
    assert_eq!(seen.used.len() as u64, r.summary.ops);
    // Each connection used its own token only.
    assert!(seen.used.iter().all(|t| seen.issued.contains(t)));
    assert!(seen.used.contains(&"tok-1".to_string()) && seen.used.contains(&"tok-2".to_string()));
    // Per-template figures: the logins apart, the timed template carrying every operation.
    let by_name = |n: &str| r.templates.iter().find(|t| t.name == n).expect(n);
    let (login, item) = (by_name("login"), by_name("item"));
    assert!(login.setup && !item.setup);
    assert_eq!((login.ops, login.errors, login.ops_per_s), (2, 0, None));
    assert_eq!(item.ops, r.summary.ops);
    assert!(login.latency_us.count == 2 && item.latency_us.count == r.summary.ops);
}

#[test]
fn a_queue_hands_each_row_once_in_order_then_the_run_ends_aborted() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    users_csv(dir.path(), 30);
    let extra = "[[data]]\nname = \"users\"\nfile = \"users.csv\"\nstrategy = \"queue\"\n\
        [[requests]]\nname = \"row\"\npath = \"/rows/{{users.id}}\"\n";
    let f = write_scenario(
        dir.path(),
        "queue",
        &scenario("t-queue", &srv, extra, 1, 5.0),
    );
    let started = std::time::Instant::now();
    let r = run(&f, dir.path()).result;
    assert!(
        started.elapsed().as_secs_f64() < 4.0,
        "ended when the rows ran out"
    );
    let want: Vec<String> = (1..=30).map(|i| i.to_string()).collect();
    assert_eq!(srv.seen().rows, want);
    assert_eq!(r.summary.ops, 30);
    assert_eq!(r.verdict.status, results::Status::Aborted);
    let why = r.verdict.reasons.join("\n");
    assert!(
        why.contains("feeder users.csv exhausted after 30 rows"),
        "{why}"
    );
}

#[test]
fn circular_wraps_in_file_order_and_random_stays_within_the_rows() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    users_csv(dir.path(), 7);
    let extra = "[[data]]\nname = \"users\"\nfile = \"users.csv\"\nstrategy = \"circular\"\n\
        [[requests]]\nname = \"row\"\npath = \"/rows/{{users.id}}\"\n";
    let f = write_scenario(dir.path(), "circ", &scenario("t-circ", &srv, extra, 1, 0.3));
    let r = run(&f, dir.path()).result;
    let rows = srv.seen().rows.clone();
    assert!(rows.len() > 14 && rows.len() as u64 == r.summary.ops);
    for (i, v) in rows.iter().enumerate() {
        assert_eq!(v, &((i % 7) + 1).to_string());
    }

    let srv = Server::start();
    let extra = extra.replace("circular", "random");
    let f = write_scenario(
        dir.path(),
        "rand",
        &scenario("t-rand", &srv, &extra, 1, 0.3),
    );
    run(&f, dir.path());
    let rows = srv.seen().rows.clone();
    assert!(rows.len() > 14);
    assert!(rows.iter().all(|v| (1..=7).any(|i| v == &i.to_string())));
    // With replacement: 15+ draws of 7 rows repeat some.
    let mut distinct = rows.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() < rows.len());
}

#[test]
fn two_segments_of_a_queue_and_of_a_shuffle_share_no_row_and_cover_all() {
    for strategy in ["queue", "shuffle"] {
        let srv = Server::start();
        let dir = tempfile::tempdir().unwrap();
        users_csv(dir.path(), 20);
        let extra = format!(
            "[[data]]\nname = \"users\"\nfile = \"users.csv\"\nstrategy = \"{strategy}\"\n\
             [[requests]]\nname = \"row\"\npath = \"/rows/{{{{users.id}}}}\"\n"
        );
        // Two workers: one for each segment.
        let f = write_scenario(dir.path(), "seg", &scenario("t-seg", &srv, &extra, 2, 5.0));
        let mut per_segment = Vec::new();
        for i in 0..2 {
            let adjust = harness::plan::Adjust {
                segment: Some(harness::plan::segment::Segment::new(i, 2).unwrap()),
                ..Default::default()
            };
            let plan = harness::plan::load(&f, &adjust).unwrap();
            let before = srv.seen().rows.len();
            run_prepared(&plan, dir.path());
            per_segment.push(srv.seen().rows[before..].to_vec());
        }
        assert_eq!(per_segment[0].len(), 10, "{strategy}: {per_segment:?}");
        assert_eq!(per_segment[1].len(), 10, "{strategy}: {per_segment:?}");
        let mut all: Vec<u32> = per_segment
            .concat()
            .iter()
            .map(|v| v.parse().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (1..=20).collect::<Vec<_>>(), "{strategy}");
        if strategy == "shuffle" {
            let flat = per_segment.concat();
            let in_order: Vec<String> = (1..=20).map(|i| i.to_string()).collect();
            assert_ne!(flat, in_order, "shuffled, not in file order");
        }
    }
}

#[test]
fn failed_checks_and_unset_variables_are_check_errors() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    // /wrong answers 200 {"ok":false}: the status passes, the check does not.
    let extra = "[[requests]]\nname = \"wrong\"\npath = \"/wrong\"\ncheck = [{ json = \"/ok\", equals = true }]\n";
    let f = write_scenario(dir.path(), "chk", &scenario("t-chk", &srv, extra, 1, 0.3));
    let r = run(&f, dir.path()).result;
    assert!(r.summary.ops > 5);
    assert_eq!(errors_of(&r, "check"), r.summary.ops);

    // "item" needs {{token}}, which only "login" sets, and login answers 400 to a bodiless
    // POST: no token, so no item request is ever sent.
    let extra = "[[requests]]\nname = \"login\"\nmethod = \"POST\"\npath = \"/login\"\nexpect_status = [400]\n\
        extract = [{ var = \"token\", json = \"/token\" }]\n\
        [[requests]]\nname = \"item\"\npath = \"/items/1\"\nheaders = { authorization = \"Bearer {{token}}\" }\n";
    let srv = Server::start();
    let f = write_scenario(
        dir.path(),
        "unset",
        &scenario("t-unset", &srv, extra, 1, 0.3),
    );
    let r = run(&f, dir.path()).result;
    assert!(errors_of(&r, "check") > 0, "{:?}", r.summary.errors_by_kind);
    assert_eq!(srv.seen().refused, 0, "no request left without its token");
    // Named per template: login's extraction found nothing; item was never sent.
    let login = r.templates.iter().find(|t| t.name == "login").unwrap();
    let item = r.templates.iter().find(|t| t.name == "item").unwrap();
    assert_eq!(
        login
            .checks_failed
            .get("extract token from json /token")
            .copied(),
        Some(login.ops)
    );
    assert_eq!(item.errors_by_kind.get("check").copied(), Some(item.ops));
}

#[test]
fn a_missing_column_is_a_scenario_error_naming_file_and_line() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    users_csv(dir.path(), 3);
    let extra = "[[data]]\nname = \"users\"\nfile = \"users.csv\"\n\
        [[requests]]\nname = \"row\"\npath = \"/rows/{{users.email}}\"\n";
    let f = write_scenario(dir.path(), "col", &scenario("t-col", &srv, extra, 1, 0.3));
    let o = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("validate")
        .arg(&f)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("col.toml:") && err.contains("email"), "{err}");
}

#[test]
fn pipelined_requests_take_their_rows_in_order_and_are_checked() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    users_csv(dir.path(), 9);
    let extra = "pipeline = 4\n[[data]]\nname = \"users\"\nfile = \"users.csv\"\nstrategy = \"circular\"\n\
        [[requests]]\nname = \"row\"\npath = \"/rows/{{users.id}}\"\ncheck = [{ json = \"/ok\", equals = true }]\n";
    let f = write_scenario(dir.path(), "pipe", &scenario("t-pipe", &srv, extra, 1, 0.3));
    let r = run(&f, dir.path()).result;
    assert_eq!(r.summary.errors_by_kind, Default::default());
    let rows = srv.seen().rows.clone();
    assert!(rows.len() > 18, "{}", rows.len());
    for (i, v) in rows.iter().enumerate() {
        assert_eq!(v, &((i % 9) + 1).to_string());
    }
}
