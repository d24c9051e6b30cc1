//! Per-request-template figures end to end: a scenario of three templates (a fast success, a
//! slow success, a 404 counted as an error) run through `harness::run::execute` against a
//! hand-written server on 127.0.0.1 port 0, for 1 s; and what the 404s said, kept by both
//! drivers.

mod common;
#[path = "common/http1_server.rs"]
#[allow(dead_code)] // the server's statistics: this test reads the run's figures instead
mod http1_server;

use common::execute_text;
use http1_server::{start, Behaviour};
use std::time::Duration;

#[test]
fn each_template_gets_its_own_row_and_the_rows_add_up_to_the_summary() {
    // /teapot answers 418 (expected) 20 ms late; /ok 200 at once; /nope 404 (unexpected).
    let server = start(Behaviour {
        teapot_delay: Duration::from_millis(20),
        ..Behaviour::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[scenario]\nname = \"t-templates\"\n[target]\nkind = \"http\"\nurl = \"{}\"\n\
         [http]\ntimeout = \"2s\"\n\
         [[requests]]\nname = \"fast\"\npath = \"/ok\"\nexpect_status = [200]\n\
         [[requests]]\nname = \"slow\"\npath = \"/teapot\"\nexpect_status = [418]\n\
         [[requests]]\nname = \"missing\"\npath = \"/nope\"\nexpect_status = [200]\n\
         [[stages]]\nname = \"steady\"\nduration = \"1s\"\nworkers = 2\n",
        server.url
    );
    let o = execute_text(dir.path(), "templates", &text, true);
    let r = &o.result;
    let names: Vec<&str> = r.templates.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["fast", "slow", "missing"]);
    let [fast, slow, missing] = &r.templates[..] else {
        unreachable!("three names")
    };
    // No warm-up: every operation is the steady state's, each in exactly one row.
    let ops: u64 = r.templates.iter().map(|t| t.ops).sum();
    assert_eq!(ops, r.summary.ops);
    assert!(
        fast.ops > 0 && slow.ops > 0 && missing.ops > 0,
        "{:?}",
        r.templates
    );
    // The errors are all the 404s', by kind.
    assert_eq!((fast.errors, slow.errors), (0, 0));
    assert_eq!(missing.errors, missing.ops);
    assert_eq!(missing.errors_by_kind.get("status_4xx"), Some(&missing.ops));
    assert_eq!(missing.errors, r.summary.errors);
    assert!((missing.error_rate - 1.0).abs() < 1e-12);
    assert_eq!(missing.latency_us.count, 0, "no success, no latency");
    // Each its own latency: the slow one waited its 20 ms, the fast one did not.
    assert_eq!(slow.latency_us.count, slow.ops);
    assert!(slow.latency_us.p50 >= 20_000.0, "{:?}", slow.latency_us);
    assert!(fast.latency_us.p50 < 10_000.0, "{:?}", fast.latency_us);
    assert!(fast.latency_us.ci95.is_some());
    let per_s = fast.ops as f64 / r.summary.duration_s;
    assert!(fast.ops_per_s.is_some_and(|v| (v - per_s).abs() < 1e-9));
    assert!(r
        .templates
        .iter()
        .all(|t| !t.setup && t.histogram.is_some() == (t.latency_us.count > 0)));
    // What the 404s said is kept, named by template: the first 64 sampled (all of them in a
    // run that had fewer).
    let a = &r.summary.failures.answers;
    assert_eq!(a.len(), 1, "{a:?}");
    let said = (a[0].kind.as_str(), a[0].status, a[0].template.as_deref());
    assert_eq!(said, ("status_4xx", 404, Some("missing")));
    assert_eq!(
        (a[0].body.as_str(), a[0].truncated),
        ("no such path", false)
    );
    assert!(a[0].sampled == 64 || a[0].sampled >= missing.ops, "{a:?}");
    // results.json keeps them, and the report shows them.
    let back = results::RunResult::read(o.dir.join("results.json")).unwrap();
    assert_eq!(back.templates, r.templates);
    let md = std::fs::read_to_string(o.dir.join("report.md")).unwrap();
    assert!(md.contains("## By request template"), "{md}");
    assert!(md.lines().any(|l| l.starts_with("| missing |")), "{md}");
    assert!(md.contains("| status\\_4xx | 404 | missing |"), "{md}");
    assert_eq!(back.summary.failures.answers, *a);
}

#[test]
fn goose_keeps_what_the_failed_answers_said_too() {
    let server = start(Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[scenario]\nname = \"t-answers\"\ndriver = \"goose\"\n[target]\nkind = \"http\"\nurl = \"{}\"\n\
         [http]\ntimeout = \"2s\"\n\
         [[requests]]\nname = \"fast\"\npath = \"/ok\"\nexpect_status = [200]\n\
         [[requests]]\nname = \"missing\"\npath = \"/nope\"\nexpect_status = [200]\n\
         [[stages]]\nname = \"steady\"\nduration = \"1s\"\nworkers = 2\n",
        server.url
    );
    let r = execute_text(dir.path(), "answers", &text, false).result;
    assert_eq!(r.driver.name, "goose");
    assert!(r
        .summary
        .errors_by_kind
        .get("status_4xx")
        .is_some_and(|n| *n > 0));
    let a = &r.summary.failures.answers;
    assert_eq!(a.len(), 1, "{a:?}");
    let said = (a[0].kind.as_str(), a[0].status, a[0].template.as_deref());
    assert_eq!(said, ("status_4xx", 404, Some("missing")));
    assert_eq!(a[0].body, "no such path");
}
