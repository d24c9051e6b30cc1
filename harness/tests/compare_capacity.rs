//! `harness compare` of two capacity searches through the real binary: results.json files
//! written from the results crate's search fixture (capacity 12.75M tx/s, good 12.75M, bad
//! 13M), varied in memory, so nothing is run and nothing depends on the machine. Each test
//! checks one promise: the exit code and the capacity row a CI job would read.

use assert_cmd::Command;
use results::RunResult;
use std::path::{Path, PathBuf};

/// The fixture's search with another bracket (the capacity follows the good end); `bad`
/// `None`: nothing broke up to its maximum.
fn search(good: Option<f64>, bad: Option<f64>) -> RunResult {
    let mut r = results::fixture::capacity_search();
    let c = r.capacity.as_mut().unwrap();
    (c.max_rate_met, c.first_rate_broken) = (good, bad);
    let s = c.search.as_mut().unwrap();
    s.capacity = good;
    s.above_max = bad.is_none();
    r
}

/// Writes `r` as `dir/name/results.json`.
fn write(dir: &Path, name: &str, r: &RunResult) -> PathBuf {
    let p = dir.join(name).join("results.json");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    r.write(&p).unwrap();
    p
}

struct Out {
    code: Option<i32>,
    stdout: String,
}

/// `harness compare BASE NEW ARGS...` on two runs written to a temporary directory.
fn compare(base: &RunResult, new: &RunResult, args: &[&str]) -> Out {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::cargo_bin("harness")
        .unwrap()
        .arg("compare")
        .arg(write(dir.path(), "base", base))
        .arg(write(dir.path(), "new", new))
        .args(args)
        .output()
        .unwrap();
    Out {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
    }
}

/// The capacity row of the text table.
fn capacity_row(out: &Out) -> &str {
    out.stdout
        .lines()
        .find(|l| l.starts_with("Capacity "))
        .unwrap_or_else(|| panic!("no capacity row:\n{}", out.stdout))
}

/// Broke at 11M, which the baseline sustained (12.75M x 0.9 = 11.475M): exit 1, and the
/// JUnit report fails the capacity testcase. With the throughput tolerance widened to 20 %
/// (edge 10.2M) the same change is within it: the rule reads compare's own `tps` tolerance.
#[test]
fn a_search_that_broke_where_the_baseline_held_exits_1() {
    let base = results::fixture::capacity_search();
    let new = search(Some(10.75e6), Some(11e6));
    let o = compare(&base, &new, &[]);
    assert_eq!(o.code, Some(1), "{}", o.stdout);
    assert!(o.stdout.contains("REGRESSION in capacity"), "{}", o.stdout);
    assert!(capacity_row(&o).ends_with("REGRESSED"), "{}", o.stdout);

    let junit = compare(&base, &new, &["--format", "junit"]);
    assert_eq!(junit.code, Some(1));
    assert!(
        junit
            .stdout
            .contains("<failure message=\"Capacity regressed: -15.7 % (tolerance 10 %)\""),
        "{}",
        junit.stdout
    );

    let wider = compare(&base, &new, &["--tolerance", "tps=0.2"]);
    assert_eq!(wider.code, Some(0), "{}", wider.stdout);
    assert!(
        capacity_row(&wider).ends_with("unchanged"),
        "{}",
        wider.stdout
    );
}

#[test]
fn within_tolerance_improved_and_above_max_exit_0() {
    let base = results::fixture::capacity_search();
    for (new, verdict) in [
        (search(Some(11.25e6), Some(11.5e6)), "unchanged"),
        (search(Some(14.5e6), Some(15e6)), "improved"),
        (search(Some(40e6), None), "improved"),
    ] {
        let o = compare(&base, &new, &[]);
        assert_eq!(o.code, Some(0), "{}", o.stdout);
        assert!(
            capacity_row(&o).ends_with(verdict),
            "{verdict}: {}",
            o.stdout
        );
    }
}

/// A different SLO, or one side not a search: said, not judged, and the rest compared (exit 0).
#[test]
fn different_slos_and_a_single_search_are_said_and_not_judged() {
    let base = results::fixture::capacity_search();
    let mut p999 = search(Some(1e6), Some(2e6));
    p999.capacity
        .as_mut()
        .unwrap()
        .search
        .as_mut()
        .unwrap()
        .slo
        .percentile = 99.9;
    let o = compare(&base, &p999, &["--format", "markdown"]);
    assert_eq!(o.code, Some(0), "{}", o.stdout);
    assert!(
        o.stdout
            .contains("- **Note**: capacity not comparable: the SLOs differ"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("| not comparable |"), "{}", o.stdout);

    let o = compare(&base, &results::fixture::sample(), &[]);
    assert_eq!(o.code, Some(0), "{}", o.stdout);
    assert!(
        o.stdout
            .contains("note: capacity not compared: only the baseline is a capacity search"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("Committed TPS"), "{}", o.stdout);
}
