//! Pins the output of `harness compare`'s renderers (text, Markdown, HTML, JUnit) and its exit
//! code, so that a restructuring can be shown not to change a byte, and a deliberate change
//! shows up as a snapshot diff to read.
//!
//! The inputs are the results crate's fixed fixture run, varied in memory: nothing depends on
//! the clock, the machine or a path, so the snapshots hold everywhere. The harness library is
//! used only in [`compare_and_render`]; after a move, re-point that function's paths alone.

use results::RunResult;

/// What a comparison renders to, and the exit code `harness compare` would give.
struct Rendered {
    text: String,
    markdown: String,
    html: String,
    junit: String,
    exit_code: u8,
}

/// The one place these tests touch the harness library: sides from in-memory runs, the default
/// tolerances, the comparison and its four renderers.
fn compare_and_render(base: &[RunResult], new: &[RunResult]) -> Rendered {
    use harness::analysis::compare::{
        compare, render_html, render_junit, render_markdown, render_text, CompareOptions, Figures,
        Side, Tolerances,
    };
    let side = |origin: &str, runs: &[RunResult]| {
        let figures = runs.iter().map(Figures::of).collect();
        Side::from_runs(origin, runs, figures).expect("runs of one scenario make a side")
    };
    let base = side("runs/base", base);
    let new = side("runs/new", new);
    let c = compare(
        &base,
        &new,
        &Tolerances::default(),
        CompareOptions::default(),
    )
    .expect("sides of the same scenario compare");
    Rendered {
        text: render_text(&c),
        markdown: render_markdown(&c),
        html: render_html(&c),
        junit: render_junit(&c),
        exit_code: c.exit().code(),
    }
}

/// The fixture with its steady-state figures scaled: throughput by `tps`, p50 by `p50`,
/// p99 by `p99`, peak RSS by `rss`.
fn varied(tps: f64, p50: f64, p99: f64, rss: f64) -> RunResult {
    let mut r = results::fixture::sample();
    let s = &mut r.summary;
    s.committed_tps *= tps;
    s.ops_per_s *= tps;
    s.latency_us.p50 *= p50;
    s.latency_us.p99 *= p99;
    let t = &mut r.resources.target;
    t.rss_peak = t.rss_peak.map(|b| (b as f64 * rss).round() as u64);
    r
}

/// Three baseline repeats with a little noise.
fn baseline() -> Vec<RunResult> {
    vec![
        varied(1.00, 1.00, 1.00, 1.00),
        varied(0.98, 1.03, 0.97, 1.01),
        varied(1.02, 0.99, 1.04, 0.99),
    ]
}

fn snapshot_all(case: &str, r: &Rendered) {
    insta::assert_snapshot!(format!("{case}_text"), r.text);
    insta::assert_snapshot!(format!("{case}_markdown"), r.markdown);
    insta::assert_snapshot!(format!("{case}_html"), r.html);
    insta::assert_snapshot!(format!("{case}_junit"), r.junit);
    insta::assert_snapshot!(format!("{case}_exit_code"), r.exit_code.to_string());
}

/// p99 about 90 % worse in every repeat (tolerance 25 %): a regression, exit 1. Throughput
/// (−4 %, tolerance 10 %), p50 (+8 %, tolerance 25 %) and peak RSS (+5 %, tolerance 20 %) moved
/// within their tolerances and stay unchanged.
#[test]
fn p99_regressed_others_within_tolerance() {
    let new = vec![
        varied(0.96, 1.08, 1.85, 1.05),
        varied(0.95, 1.07, 1.90, 1.04),
        varied(0.97, 1.09, 1.95, 1.06),
    ];
    let r = compare_and_render(&baseline(), &new);
    assert_eq!(r.exit_code, 1, "{}", r.text);
    assert!(r.text.contains("REGRESSION in p99"), "{}", r.text);
    snapshot_all("regressed_p99", &r);
}

/// Throughput, p50 and RSS within tolerance and p99 better by about 45 % in every repeat:
/// an improvement, no regression, exit 0.
#[test]
fn no_regression_with_p99_improved() {
    let new = vec![
        varied(1.01, 0.95, 0.55, 0.98),
        varied(0.99, 0.96, 0.54, 1.00),
        varied(1.03, 0.94, 0.56, 0.97),
    ];
    let r = compare_and_render(&baseline(), &new);
    assert_eq!(r.exit_code, 0, "{}", r.text);
    assert!(r.text.contains("no regression"), "{}", r.text);
    snapshot_all("no_regression", &r);
}

/// Two capacity searches: the new one broke at 11M tx/s, a rate the baseline held (good
/// 12.75M, tolerance 10 %): the capacity row regressed, exit 1. The ordinary metrics compare
/// the same confirming probe on both sides and stay unchanged.
#[test]
fn capacity_regressed() {
    let base = results::fixture::capacity_search();
    let mut new = results::fixture::capacity_search();
    let c = new.capacity.as_mut().expect("the fixture is a search");
    (c.max_rate_met, c.first_rate_broken) = (Some(10.75e6), Some(11e6));
    c.search.as_mut().expect("the fixture is a search").capacity = Some(10.75e6);
    let r = compare_and_render(&[base], &[new]);
    assert_eq!(r.exit_code, 1, "{}", r.text);
    assert!(r.text.contains("REGRESSION in capacity"), "{}", r.text);
    snapshot_all("capacity_regressed", &r);
}
