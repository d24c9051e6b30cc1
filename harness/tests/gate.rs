//! The regression gate end to end: real short in-process runs, compared through the real
//! binary. The runs are made once (they take seconds) and shared by the tests below; each test
//! checks one promise of `harness compare` / `harness run --baseline`.

use assert_cmd::Command;
use harness::exit::Exit;
use harness::plan::Prepared;
use harness::run::{self, RunOptions};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Held by each test that makes timed runs through the binary, so two of them never measure on
/// the same 2 cores at once: run side by side, each halved the other's TPS and the slow-engine
/// check of `run_saves_a_baseline_then_gates_against_it` saw a baseline slowed as much as the
/// slow copy.
fn timed_runs() -> MutexGuard<'static, ()> {
    static RUNS: Mutex<()> = Mutex::new(());
    // A test that panicked while holding it leaves nothing to repair: the guard is only a turn.
    RUNS.lock().unwrap_or_else(|e| e.into_inner())
}

/// A small scenario: short, closed model, wide tolerances so that two runs of the same engine on
/// a busy shared machine agree, while an engine several times slower does not.
const SMALL: &str = r#"
[scenario]
name = "gatetest"

[target]
kind = "in-process"

[workload]
accounts = 50_000
batch_size = 1024
seed = 3
SLOW

[[stages]]
name = "warmup"
duration = "500ms"
workers = 2
warmup = true

[[stages]]
name = "steady"
duration = "1500ms"
workers = 2

[criteria.tolerance]
tps = 0.6
p50 = 1.0
p99 = 1.0
p999 = 1.0
rss = 0.5
cpu = 0.5
"#;

/// Units of synthetic work (one dependent add, about a cycle, each) per committed transfer for
/// the slow copy: several times the cost of a transfer on this kind of machine (~80 cycles
/// optimised, 300 only reached 56 % on a loaded machine), so TPS falls far below half (checked).
const SLOW_COST: u32 = 1000;

struct Fixture {
    root: PathBuf,
    small: PathBuf,
    slow: PathBuf,
    /// Three runs of `small` (tail latency on a busy 2-core machine needs three a side).
    base: PathBuf,
    /// Three more runs of `small`.
    again: PathBuf,
    /// One run of `slow`.
    slower: PathBuf,
}

fn runs(scenario: &Path, out: &Path, n: usize) -> Vec<f64> {
    let plan = Prepared::whole(scenario::load(scenario).unwrap());
    let opts = RunOptions {
        out: Some(out.to_path_buf()),
        quiet: true,
        no_reports: true,
        ..RunOptions::default()
    };
    (0..n)
        .map(|_| {
            let o = run::execute(&plan, &opts).unwrap();
            assert_eq!(o.exit, Exit::Pass, "{:?}", o.result.verdict);
            o.result.summary.committed_tps
        })
        .collect()
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gate-tests");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let small = root.join("small.toml");
        let slow = root.join("slow.toml");
        std::fs::write(&small, SMALL.replace("SLOW", "")).unwrap();
        std::fs::write(
            &slow,
            SMALL.replace("SLOW", &format!("synthetic_cost = {SLOW_COST}")),
        )
        .unwrap();
        let f = Fixture {
            base: root.join("base"),
            again: root.join("again"),
            slower: root.join("slower"),
            root,
            small,
            slow,
        };
        let base = runs(&f.small, &f.base, 3);
        runs(&f.small, &f.again, 3);
        let slow = runs(&f.slow, &f.slower, 1);
        // The premise of the regression tests: the slow copy really is far slower.
        assert!(
            slow[0] < 0.5 * base.iter().copied().fold(f64::INFINITY, f64::min),
            "synthetic_cost {SLOW_COST} did not halve TPS: {slow:?} vs {base:?}"
        );
        f
    })
}

fn harness() -> Command {
    Command::cargo_bin("harness").unwrap()
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn compare(args: &[&str]) -> Out {
    let o = harness().arg("compare").args(args).output().unwrap();
    Out {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The verdict cell of a metric's row in the text table.
fn verdict_of<'a>(table: &'a str, label: &str) -> &'a str {
    let line = table
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no row {label:?} in\n{table}"));
    line.split_whitespace().last().unwrap()
}

#[test]
fn same_target_twice_is_no_regression() {
    let f = fixture();
    let o = compare(&[s(&f.base), s(&f.again)]);
    assert_eq!(o.code, Some(0), "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("no regression"), "{}", o.stdout);
    assert!(o.stdout.contains("driver native, 3 runs"), "{}", o.stdout);
    assert_eq!(verdict_of(&o.stdout, "Committed TPS"), "unchanged");
    // The rule is in the footer.
    assert!(o.stdout.contains("Rule:"), "{}", o.stdout);
}

#[test]
fn a_changed_scenario_is_refused_without_the_flag() {
    let f = fixture();
    let o = compare(&[s(&f.base), s(&f.slower)]);
    assert_eq!(o.code, Some(2), "{}\n{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("different scenarios"), "{}", o.stderr);
    assert!(o.stderr.contains("--allow-scenario-change"), "{}", o.stderr);
    assert!(o.stdout.is_empty(), "{}", o.stdout);
}

#[test]
fn a_slower_engine_is_a_regression_and_junit_names_it() {
    let f = fixture();
    let out = f.root.join("cmp-slow");
    let o = compare(&[
        s(&f.base),
        s(&f.slower),
        "--allow-scenario-change",
        "--scenario",
        s(&f.small),
        "--format",
        "text,markdown,junit",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.code, Some(1), "{}\n{}", o.stdout, o.stderr);
    assert_eq!(verdict_of(&o.stdout, "Committed TPS"), "REGRESSED");
    assert!(o.stdout.contains("scenario changed"), "{}", o.stdout);
    let md = std::fs::read_to_string(out.join("comparison.md")).unwrap();
    assert!(
        md.contains("| Committed TPS |") && md.contains("**REGRESSED**"),
        "{md}"
    );
    let xml = std::fs::read_to_string(out.join("comparison.junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("a testsuite");
    assert_eq!(suite.attribute("name"), Some("compare.gatetest"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<_> = cases.iter().filter_map(|c| c.attribute("name")).collect();
    for m in ["tps", "p50", "p99", "p999", "error_rate", "rss", "cpu"] {
        assert!(names.contains(&m), "{m} missing from {names:?}");
    }
    let failed: Vec<_> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .filter_map(|c| c.attribute("name"))
        .collect();
    assert!(failed.contains(&"tps"), "{failed:?}\n{xml}");
    assert_eq!(
        suite.attribute("failures"),
        Some(failed.len().to_string().as_str())
    );
}

#[test]
fn swapping_base_and_new_is_an_improvement() {
    let f = fixture();
    let o = compare(&[
        s(&f.slower),
        s(&f.base),
        "--allow-scenario-change",
        "--scenario",
        s(&f.small),
    ]);
    assert_eq!(o.code, Some(0), "{}\n{}", o.stdout, o.stderr);
    assert_eq!(verdict_of(&o.stdout, "Committed TPS"), "improved");
}

/// The first results.json under `dir`, as JSON to tamper with.
fn first_result(dir: &Path) -> serde_json::Value {
    fn find(dir: &Path) -> Option<PathBuf> {
        for e in std::fs::read_dir(dir).ok()? {
            let p = e.ok()?.path();
            if p.is_dir() && !p.is_symlink() {
                if let Some(x) = find(&p) {
                    return Some(x);
                }
            } else if p.file_name().is_some_and(|n| n == "results.json") {
                return Some(p);
            }
        }
        None
    }
    let p = find(dir).expect("a results.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn different_scenario_names_are_a_clear_error() {
    let f = fixture();
    let mut v = first_result(&f.again);
    v["scenario"]["name"] = "other".into();
    let p = f.root.join("other.json");
    std::fs::write(&p, serde_json::to_string(&v).unwrap()).unwrap();
    let o = compare(&[s(&f.base), s(&p)]);
    assert_eq!(o.code, Some(2), "{}\n{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("different scenarios"), "{}", o.stderr);
    assert!(
        o.stderr.contains("\"gatetest\"") && o.stderr.contains("\"other\""),
        "{}",
        o.stderr
    );
}

#[test]
fn an_unknown_schema_version_is_a_clear_error() {
    let f = fixture();
    let mut v = first_result(&f.again);
    v["schema_version"] = 99.into();
    let p = f.root.join("future.json");
    std::fs::write(&p, serde_json::to_string(&v).unwrap()).unwrap();
    let o = compare(&[s(&f.base), s(&p)]);
    assert_eq!(o.code, Some(2), "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("schema_version 99") && o.stderr.contains("future.json"),
        "{}",
        o.stderr
    );
}

#[test]
fn unknown_inputs_and_formats_exit_2() {
    let f = fixture();
    let o = compare(&[s(&f.base), "no-such-baseline"]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("no-such-baseline"), "{}", o.stderr);
    let o = compare(&[s(&f.base), s(&f.again), "--format", "pdf"]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("pdf"), "{}", o.stderr);
}

#[test]
fn run_saves_a_baseline_then_gates_against_it() {
    let f = fixture();
    let _turn = timed_runs();
    let dir = f.root.join("gate-run");
    let bdir = dir.join("baselines");
    let out = dir.join("reports");
    let run = |extra: &[&str]| {
        harness()
            .args([
                "run",
                s(&f.small),
                "--quiet",
                "--no-reports",
                "--out",
                s(&out),
            ])
            .args(["--baseline-dir", s(&bdir)])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = run(&["--repeat", "2", "--save-baseline", "small"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bdir.join("small.json")).unwrap()).unwrap();
    assert_eq!(saved["scenario"]["name"], "gatetest");
    assert_eq!(saved["runs"].as_array().unwrap().len(), 2);
    assert!(saved["median"]["committed_tps"].as_f64().unwrap() > 0.0);
    assert!(saved["created_at"].as_str().is_some());

    // Three repeats: tail latency on a shared machine needs them to tell noise from change.
    let o = run(&["--repeat", "3", "--baseline", "small"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{o:?}");
    assert!(stdout.contains("no regression"), "{stdout}");
    let last = std::fs::read_link(out.join("gatetest/latest")).unwrap();
    let last = out.join("gatetest").join(last);
    assert!(last.join("comparison.md").is_file());
    assert!(last.join("comparison.junit.xml").is_file());

    // The slow copy against the same baseline: a different scenario file...
    let slow = harness()
        .args([
            "run",
            s(&f.slow),
            "--quiet",
            "--no-reports",
            "--out",
            s(&out),
        ])
        .args(["--baseline-dir", s(&bdir), "--baseline", "small"])
        .output()
        .unwrap();
    assert_eq!(slow.status.code(), Some(2), "{slow:?}");
    // ...and with the change allowed, a regression.
    let slow = harness()
        .args([
            "run",
            s(&f.slow),
            "--quiet",
            "--no-reports",
            "--out",
            s(&out),
        ])
        .args(["--baseline-dir", s(&bdir), "--baseline", "small"])
        .arg("--allow-scenario-change")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&slow.stdout);
    assert_eq!(slow.status.code(), Some(1), "{stdout}\n{slow:?}");
    assert_eq!(verdict_of(&stdout, "Committed TPS"), "REGRESSED");
}

/// `harness history` over real runs of two scenario files: one section each, never mixed,
/// every run in its table and charts, the page self-contained; each run records the commit
/// the harness was built from.
#[test]
fn history_charts_real_runs_per_scenario_file() {
    let f = fixture();
    let out = f.root.join("history");
    let o = harness()
        .arg("history")
        .args([s(&f.base), s(&f.again), s(&f.slower)])
        .args(["--baseline", s(&f.base), "--out", s(&out)])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "one line per scenario file: {stdout}");
    assert!(lines.iter().any(|l| l.contains(": 6 runs;")), "{stdout}");
    assert!(lines.iter().any(|l| l.contains(": 1 runs;")), "{stdout}");
    let html = std::fs::read_to_string(out.join("history.html")).unwrap();
    assert!(html.contains("History of 2 scenario files"), "{html}");
    assert!(html.contains("(--baseline)"), "the given baseline is named");
    let fetched = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!fetched.contains("http://") && !fetched.contains("https://"));
    let md = std::fs::read_to_string(out.join("history.md")).unwrap();
    let svgs = std::fs::read_dir(out.join("charts")).unwrap().count();
    assert_eq!(
        md.matches("](charts/").count(),
        svgs,
        "every chart written and linked"
    );
    assert!(html.matches("<svg").count() >= svgs, "every chart inline");
    // The commit is the build's: the checkout this test was built from.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(head) = head {
        let r = first_result(&f.base);
        let commit = r["environment"]["git_commit"].as_str().unwrap_or("");
        assert!(commit.starts_with(&head), "{commit} is not {head}");
        assert!(html.contains(commit), "the table shows the commit");
    }
}

/// `--baseline-bin`: the harness binary itself as the baseline binary, on a tiny scenario. Its
/// runs and ours alternate (baseline 1, repeat 1, baseline 2, ...), both sides appear in the
/// table (its runs read back from their results.json, TPS per CPU-second on both), and the
/// same binary against itself is no regression.
#[test]
fn baseline_bin_interleaves_another_binary_as_the_base_side() {
    let f = fixture();
    let _turn = timed_runs();
    let tiny = f.root.join("tiny.toml");
    std::fs::write(
        &tiny,
        SMALL
            .replace("SLOW", "")
            .replace("\"500ms\"", "\"200ms\"")
            .replace("\"1500ms\"", "\"500ms\""),
    )
    .unwrap();
    let out = f.root.join("bin-run");
    let bin = env!("CARGO_BIN_EXE_harness");
    let o = harness()
        .args(["run", s(&tiny), "--quiet", "--no-reports", "--out", s(&out)])
        .args(["--repeat", "3", "--baseline-bin", bin])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    // A/B/A/B, in that order.
    let order: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split(':').next())
        .filter(|w| w.starts_with("baseline ") || w.starts_with("repeat "))
        .collect();
    assert_eq!(
        order,
        [
            "baseline 1/3",
            "repeat 1/3",
            "baseline 2/3",
            "repeat 2/3",
            "baseline 3/3",
            "repeat 3/3"
        ],
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "base: {bin} (baseline binary) [driver native, 3 runs]"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("interleaved with this run's repeats"),
        "{stdout}"
    );
    assert!(stdout.contains("driver native, 3 runs]"), "{stdout}");
    assert!(stdout.contains("no regression"), "{stdout}");
    // TPS per CPU-second measured on both sides (3 vs 3: the rank test decides).
    let row = stdout
        .lines()
        .find(|l| l.starts_with("TPS per CPU-second"))
        .unwrap_or_else(|| panic!("no TPS per CPU-second row:\n{stdout}"));
    assert!(!row.contains("n/a"), "{row}");
    assert!(row.contains("rank p="), "{row}");
    // The baseline binary's runs are kept apart from ours, one directory each.
    for k in 1..=3 {
        let dir = out.join(format!("baseline-bin/base-{k}"));
        assert!(
            first_result(&dir)["summary"]["committed_tps"]
                .as_f64()
                .unwrap()
                > 0.0
        );
    }
}

/// A baseline binary that does not exist, or the flag with a saved baseline: a clear usage
/// error (exit 2) before any run.
#[test]
fn baseline_bin_errors_are_usage_errors() {
    let f = fixture();
    let out = f.root.join("bin-missing");
    let missing = f.root.join("no-such-harness");
    let run = |extra: &[&str]| {
        harness()
            .args([
                "run",
                s(&f.small),
                "--quiet",
                "--no-reports",
                "--out",
                s(&out),
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = run(&["--repeat", "2", "--baseline-bin", s(&missing)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--baseline-bin") && stderr.contains("no-such-harness"),
        "{stderr}"
    );
    assert!(!out.exists(), "no run was made");
    // Not an executable: the scenario file itself.
    let o = run(&["--baseline-bin", s(&f.small)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not an executable file"), "{stderr}");
    let bin = env!("CARGO_BIN_EXE_harness");
    for other in [["--baseline", "x"], ["--save-baseline", "x"]] {
        let o = run(&[&["--baseline-bin", bin][..], &other[..]].concat());
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("--baseline-bin cannot be combined with --baseline or --save-baseline"),
            "{stderr}"
        );
    }
}
