//! A fixed amount of work (`operations = N`) and the instruction count made of it
//! (`harness run --count-instructions`, valgrind's callgrind): the work is exactly N operations
//! however many workers share it, a stage cut by its limit is invalid, the count repeats, and a
//! deliberate 3 % slowdown (`workload.synthetic_cost`) fails the gate while 1 % does not.
//!
//! The valgrind tests are skipped with a note when valgrind is not installed, except under
//! `REQUIRE_TEST_TOOLS=1` (`.ci/run`, whose `.ci/deps` installs it).

mod common;

use assert_cmd::Command;
use common::{run_quiet, write_scenario};
use harness::exit::Exit;
use std::path::{Path, PathBuf};

/// A scenario of `work` on 10k accounts. One interval (1 minute) for the whole run: a worker then
/// ships its figures once, at the end, and the instruction count does not depend on how many
/// interval boundaries a run under valgrind happened to cross (~100k instructions each).
fn scenario(work: &str, workload: &str) -> String {
    format!(
        "[scenario]\nname = \"fixed\"\n[target]\nkind = \"in-process\"\n[workload]\n\
         accounts = 10_000\nbatch_size = 256\nseed = 3\n{workload}\n[[stages]]\nname = \"work\"\n\
         {work}\n[criteria]\nmax_error_rate = \"0.1%\"\n[output]\ninterval = \"1m\"\n"
    )
}

fn temp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_fixed_amount_of_work_is_done_exactly_and_ends_the_run() {
    let dir = temp("fixed-work");
    let file = write_scenario(
        &dir,
        "fixed",
        &scenario("operations = 3000\nworkers = 2\nduration = \"60s\"", ""),
    );
    let o = run_quiet(&file, &dir.join("out"));
    assert_eq!(o.exit, Exit::Pass, "{:?}", o.result.verdict);
    let stage = &o.result.stages[0];
    assert_eq!(stage.ops, 3000, "two workers share the count exactly");
    assert_eq!(stage.committed, 3000 * 256);
    assert!(
        stage.end_s < 30.0,
        "the run ends when the work is done, not at its 60 s limit: {}",
        stage.end_s
    );
    assert_eq!(o.result.scenario.stages_planned[0].operations, Some(3000));
}

#[test]
fn a_fixed_amount_of_work_cut_by_its_limit_is_invalid() {
    let dir = temp("fixed-work-cut");
    let file = write_scenario(
        &dir,
        "cut",
        &scenario(
            "operations = 1_000_000_000\nworkers = 1\nduration = \"300ms\"",
            "",
        ),
    );
    let o = run_quiet(&file, &dir.join("out"));
    assert_eq!(o.exit, Exit::Invalid, "{:?}", o.result.verdict);
    let why = o.result.verdict.reasons.join("; ");
    assert!(
        why.contains("was to do 1,000,000,000 operations") && why.contains("limit of 300 ms"),
        "{why}"
    );
}

fn valgrind() -> bool {
    common::tool("valgrind", "valgrind")
}

/// One counted run of a copy of the scenario with `synthetic_cost = cost`; its exit code,
/// stdout and instructions per committed transaction.
fn counted(dir: &Path, cost: u32, gate: &[&str]) -> (i32, String, f64) {
    let name = format!("cost-{cost}");
    let file = write_scenario(
        dir,
        &name,
        &scenario(
            "operations = 60\nworkers = 1",
            &format!("synthetic_cost = {cost}"),
        ),
    );
    let out = dir.join(format!("out-{cost}"));
    let o = Command::cargo_bin("harness")
        .unwrap()
        .arg("run")
        .arg(&file)
        .args(["--count-instructions", "--quiet", "--no-reports", "--out"])
        .arg(&out)
        .args(["--baseline-dir"])
        .arg(dir)
        .args(gate)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let code = o.status.code().unwrap_or(-1);
    assert!(
        matches!(code, 0 | 1),
        "exit {code}\n{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut found = Vec::new();
    harness::analysis::compare::find_results(&out, &mut found).unwrap();
    let r = results::RunResult::read(&found[0]).unwrap();
    let i = r
        .instructions
        .expect("a counted run records its instructions");
    assert_eq!(i.tool, "callgrind");
    assert_eq!(i.committed_tx, 60 * 256);
    (code, stdout, i.per_tx.unwrap())
}

#[test]
fn instruction_counts_repeat_and_a_three_percent_slowdown_fails_the_gate() {
    if !valgrind() {
        return;
    }
    let dir = temp("instructions-gate");
    let (code, _, base) = counted(&dir, 0, &["--save-baseline", "base"]);
    assert_eq!(code, 0);
    // Same binary, same seeded work: the count repeats (measured spread well under 0.5 %).
    let (code, stdout, again) = counted(&dir, 0, &["--baseline", "base"]);
    assert!((again - base).abs() / base < 0.005, "{base} vs {again}");
    assert_eq!(code, 0, "{stdout}");
    // What one unit of the dial costs, then the units for 1 % and 3 % of today's count.
    let (_, _, heavy) = counted(&dir, 40, &[]);
    let per_unit = (heavy - base) / 40.0;
    assert!(
        per_unit > 0.5,
        "the dial adds instructions: {per_unit} per unit"
    );
    let units = |pct: f64| (pct / 100.0 * base / per_unit).ceil() as u32;
    let changed = ["--baseline", "base", "--allow-scenario-change"];
    // The dial is not quite linear (units beyond a multiple of eight cost a little more or less
    // than the rest), so the units are stepped up from the estimate until the measured count
    // is at least 3 % above the base: a handful of steps of ~0.5 % each at most.
    let mut u = units(3.0);
    let (code, stdout, slow) = loop {
        let (code, stdout, slow) = counted(&dir, u, &changed);
        if slow >= base * 1.03 || u >= units(3.0) + 4 {
            break (code, stdout, slow);
        }
        u += 1;
    };
    assert!(
        slow >= base * 1.03,
        "{slow} vs {base}: not a 3 % slowdown at {u} units"
    );
    assert_eq!(code, 1, "a 3 % slowdown fails the gate:\n{stdout}");
    assert!(
        stdout.contains("Instructions per committed tx") && stdout.contains("REGRESSED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("synthetic_work"),
        "the comparison names the function that grew:\n{stdout}"
    );
    let (code, stdout, _) = counted(&dir, units(1.0).saturating_sub(1), &changed);
    assert_eq!(
        code, 0,
        "under 1 % stays inside the 2 % tolerance:\n{stdout}"
    );
}

#[test]
fn counting_a_timed_scenario_is_refused_with_the_reason() {
    let dir = temp("instructions-timed");
    let file = write_scenario(
        &dir,
        "timed",
        &scenario("duration = \"1s\"\nworkers = 1", ""),
    );
    let o = Command::cargo_bin("harness")
        .unwrap()
        .arg("run")
        .arg(&file)
        .args(["--count-instructions", "--quiet", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("only stage is a fixed amount of work (`operations = N`)"),
        "{err}"
    );
}
