//! History from results.json files written to a temporary directory: grouping by scenario
//! file, the rule's regressions marked, the baseline's band, older and partial records read.

use super::*;
use crate::analysis::compare::{MetricVerdict, Tolerances};
use std::path::PathBuf;

/// A run of the fixture scenario at `commit`, started `day` days after the fixture's, with
/// its committed TPS scaled by `tps_scale`.
fn run(dir: &std::path::Path, commit: &str, day: u32, tps_scale: f64) -> PathBuf {
    let mut r = results::fixture::sample();
    r.environment.git_commit = Some(commit.to_string());
    r.environment.started_at = format!("2026-11-{:02}T10:00:00Z", 1 + day);
    r.summary.committed_tps *= tps_scale;
    r.resources.tx_per_cpu_s = Some(3e7);
    let path = dir.join(format!("{commit}/results.json"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    r.write(&path).unwrap();
    path
}

fn defaults(_: &Side) -> Tolerances {
    Tolerances::default()
}

fn history(paths: &[PathBuf], baseline: Option<Side>) -> History {
    let entries = load(paths).unwrap();
    build(
        entries,
        &HistoryOptions {
            baseline,
            tolerances: &defaults,
        },
    )
    .unwrap()
}

#[test]
fn runs_are_ordered_by_date_and_a_drop_is_marked_by_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    // Written out of order: the history sorts by the date each run recorded.
    run(dir.path(), "c3", 3, 0.5);
    run(dir.path(), "c1", 1, 1.0);
    run(dir.path(), "c2", 2, 1.02);
    let h = history(&[dir.path().to_path_buf()], None);
    assert_eq!(h.tracks.len(), 1);
    let t = &h.tracks[0];
    let commits: Vec<_> = t
        .runs
        .iter()
        .map(|(e, _)| e.commit.clone().unwrap())
        .collect();
    assert_eq!(commits, ["c1", "c2", "c3"]);
    assert!(
        t.baseline_origin.contains("oldest"),
        "{}",
        t.baseline_origin
    );
    let tps = |i: usize| {
        let c = &t.runs[i].1;
        c.rows.iter().find(|r| r.key == "tps").unwrap().verdict()
    };
    assert_eq!(tps(1), MetricVerdict::Unchanged, "+2 % is inside 10 %");
    assert_eq!(tps(2), MetricVerdict::Regressed, "half the TPS");

    let (doc, charts) = page(&h).unwrap();
    let html = report::html::render_with_charts(&doc, "h", &charts);
    assert!(
        html.contains("REGRESSED: Committed TPS"),
        "the table says it"
    );
    assert!(
        html.contains("#3 c3 (Committed TPS)"),
        "the summary names it"
    );
    let tps_chart = charts
        .iter()
        .find(|c| c.file.ends_with("-tps.svg"))
        .unwrap();
    assert!(tps_chart.series.contains(&"regression".to_string()));
    assert!(tps_chart.series.contains(&"baseline band".to_string()));
    let p99 = charts
        .iter()
        .find(|c| c.file.ends_with("-p99.svg"))
        .unwrap();
    assert!(
        !p99.series.contains(&"regression".to_string()),
        "latency did not move"
    );
    // Inline SVG names its namespace by URL; nothing else may.
    let fetched = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !fetched.contains("http://") && !fetched.contains("https://"),
        "self-contained"
    );
}

#[test]
fn another_scenario_file_gets_its_own_track() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), "c1", 1, 1.0);
    let other = run(dir.path(), "c2", 2, 0.5);
    let mut r = results::RunResult::read(&other).unwrap();
    r.scenario.sha256 = "ff".repeat(32);
    r.write(&other).unwrap();
    let h = history(&[dir.path().to_path_buf()], None);
    assert_eq!(h.tracks.len(), 2, "never mixed");
    for t in &h.tracks {
        assert_eq!(t.runs.len(), 1);
        let c = &t.runs[0].1;
        assert!(c.regressions().next().is_none(), "each is its own baseline");
    }
    let (doc, charts) = page(&h).unwrap();
    let md = report::markdown::render_with_charts(&doc, &charts);
    assert!(md.contains("scenario sha256 ffffffffffff"), "{md}");
    let files: std::collections::BTreeSet<_> = charts.iter().map(|c| c.file.clone()).collect();
    assert_eq!(
        files.len(),
        charts.len(),
        "chart files are unique per track"
    );
}

#[test]
fn a_given_baseline_judges_every_run_and_must_match_a_track() {
    let dir = tempfile::tempdir().unwrap();
    let base = run(dir.path(), "b0", 0, 1.0);
    let runs = dir.path().join("runs");
    run(&runs, "c1", 1, 0.5);
    run(&runs, "c2", 2, 0.5);
    let side = Side::load(base.to_str().unwrap(), dir.path()).unwrap();
    let h = history(std::slice::from_ref(&runs), Some(side.clone()));
    let t = &h.tracks[0];
    assert!(t.baseline_origin.contains("--baseline"));
    assert!(t.runs.iter().all(|(_, c)| c.has_regression()));

    let mut other = side;
    other.scenario.sha256 = "00".repeat(32);
    let e = build(
        load(&[runs]).unwrap(),
        &HistoryOptions {
            baseline: Some(other),
            tolerances: &defaults,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("different scenarios"), "{e}");
}

/// A results.json written before an optional field existed (here `tx_per_cpu_s`) still reads,
/// its missing figure "n/a".
#[test]
fn records_without_later_fields_read_as_not_measured() {
    let dir = tempfile::tempdir().unwrap();
    let p = run(dir.path(), "c1", 1, 1.0);
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    v["resources"]
        .as_object_mut()
        .unwrap()
        .remove("tx_per_cpu_s");
    std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    let h = history(&[p], None);
    let row = |k: &str| {
        h.tracks[0].runs[0]
            .1
            .rows
            .iter()
            .find(|r| r.key == k)
            .unwrap()
            .verdict()
    };
    assert_eq!(row("tps_per_cpu"), MetricVerdict::NotMeasured);
    assert_eq!(row("tps"), MetricVerdict::Unchanged);
}

#[test]
fn a_path_that_is_nothing_is_an_error_naming_it() {
    let e = load(&[PathBuf::from("/nonexistent/history")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/history"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let e = load(&[dir.path().to_path_buf()]).unwrap_err().to_string();
    assert!(e.contains("no results.json"), "{e}");
}

/// A `baselines/` directory: its saved baselines are entries (the median of their repeats,
/// with the commit and date they were saved with); other JSON beside them is not a run.
#[test]
fn saved_baselines_are_entries_and_other_json_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let runs = tempfile::tempdir().unwrap();
    let p = run(runs.path(), "c1", 1, 1.0);
    let r = results::RunResult::read(&p).unwrap();
    let figures = vec![crate::analysis::compare::Figures::of(&r)];
    let b = crate::analysis::compare::Baseline::from_runs(
        "gate",
        std::slice::from_ref(&r),
        figures,
        "2026-11-30T00:00:00Z".to_string(),
    )
    .unwrap();
    b.write(&dir.path().join("gate.json")).unwrap();
    std::fs::write(dir.path().join("notes.json"), "{\"not\": \"a baseline\"}").unwrap();
    let entries = load(&[dir.path().to_path_buf(), p]).unwrap();
    assert_eq!(entries.len(), 2, "the baseline and the run, not notes.json");
    let saved = entries.iter().find(|e| e.status.is_none()).unwrap();
    assert_eq!(saved.commit.as_deref(), Some("c1"));
    assert_eq!(saved.date, "2026-11-30T00:00:00Z");
    assert_eq!(entries[0].commit.as_deref(), Some("c1"), "the run is older");
}

/// The committed sample (`reports/sample/history/`): `gate.toml` run by the harness built at
/// successive commits, each writing results.json as that build did, reads as one track of
/// distinct commits in date order.
#[test]
fn the_committed_sample_reads_as_one_track_of_distinct_commits() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/sample/history/runs");
    let h = history(&[dir], None);
    assert_eq!(h.tracks.len(), 1, "one scenario file");
    let t = &h.tracks[0];
    assert!(t.runs.len() >= 10, "{} runs", t.runs.len());
    let commits: std::collections::BTreeSet<String> = t
        .runs
        .iter()
        .map(|(e, _)| e.commit.clone().expect("every run recorded its build"))
        .collect();
    assert_eq!(commits.len(), t.runs.len(), "one run per commit");
    assert!(t.runs.windows(2).all(|w| w[0].0.date <= w[1].0.date));
}
