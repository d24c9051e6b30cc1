//! `harness run --repeat N [--save-baseline NAME | --baseline NAME|FILE | --baseline-bin PATH]`:
//! the CI gate.
//!
//! One run on a shared machine is one sample of a noisy process, so the gate runs the scenario
//! N times (each a full run with its own results directory, through [`run::execute`]), then
//! either stores the runs' figures as a named [`Baseline`] (`DIR/NAME.json`) or compares them
//! with one by the noise-aware rule of [`crate::analysis::compare`], writing `comparison.md` and
//! `comparison.junit.xml` into the last run's directory and printing the table. With
//! `--baseline-bin` the baseline is measured now instead: another harness binary runs the
//! scenario before each of our repeats, A/B/A/B ([`super::baseline_bin`]), and its runs are the
//! base side.
//!
//! Exit code: 3 if a run was aborted (nothing is compared or saved then), else the worst run's
//! (4 invalid, 1 failed its criteria), else 1 if the comparison found a regression, else 0; 2
//! for usage errors (unknown baseline, different scenario, unreadable files).
//!
//! It lives with `run`, not with the analysis it calls, because it executes runs: `analysis`
//! never imports `run`.

use crate::analysis::compare::{
    self, Baseline, CompareError, CompareFormat, CompareOptions, Figures, Side, Tolerances,
};
use crate::exit::{Exit, UsageError};
use crate::plan::Prepared;
use crate::run::baseline_bin::{BaseRun, BaselineBin};
use crate::run::{self, output, RunOptions, RunOutcome};
use anyhow::{Context, Result};
use report::fmt;
use results::RunResult;
use std::path::{Path, PathBuf};

/// Options of a gated run.
#[derive(Clone, Debug)]
pub struct GateOptions {
    pub run: RunOptions,
    /// Number of full runs (at least 1).
    pub repeat: u32,
    /// Store the runs as baseline `baseline_dir/NAME.json`.
    pub save_baseline: Option<String>,
    /// Compare the runs with this baseline: a name in `baseline_dir` or a file.
    pub baseline: Option<String>,
    pub baseline_dir: PathBuf,
    pub allow_scenario_change: bool,
    /// Measure the baseline now with this harness binary, interleaved with our repeats.
    /// Excludes `baseline` and `save_baseline` (checked by [`run_gated`]).
    pub baseline_bin: Option<PathBuf>,
}

/// What a gated run produced.
pub struct GateOutcome {
    pub runs: Vec<RunOutcome>,
    pub comparison: Option<compare::Comparison>,
    pub saved: Option<PathBuf>,
    pub exit: Exit,
}

/// Entry point of `harness run` with `--repeat`, `--save-baseline` or `--baseline`.
pub fn run_gated(prepared: &Prepared, opts: &GateOptions) -> Result<Exit> {
    if opts.baseline_bin.is_some() && (opts.baseline.is_some() || opts.save_baseline.is_some()) {
        return Err(UsageError::new(
            "--baseline-bin cannot be combined with --baseline or --save-baseline: it measures \
             the baseline now, with that binary, instead of reading or saving one",
        )
        .into());
    }
    // Resolve the baseline before spending minutes on runs.
    let base = match &opts.baseline {
        Some(spec) => Some(load_baseline(spec, &opts.baseline_dir)?),
        None => None,
    };
    if let Some(b) = &base {
        let plan = &prepared.plan;
        let id = compare::ScenarioId {
            name: plan.name.clone(),
            sha256: plan.sha256.clone(),
        };
        if b.scenario != id && !opts.allow_scenario_change {
            return Err(CompareError::ScenarioMismatch {
                base: b.origin.clone(),
                base_id: b.scenario.to_string(),
                new: plan.file.display().to_string(),
                new_id: id.to_string(),
            }
            .into());
        }
    }
    let outcome = execute(prepared, opts, base.as_ref())?;
    if let Some(c) = &outcome.comparison {
        print!("{}", compare::render_text(c));
    }
    if let Some(p) = &outcome.saved {
        println!("baseline saved: {}", p.display());
    }
    Ok(outcome.exit)
}

/// A baseline named on the command line: a file path, or a name in `dir`.
pub fn load_baseline(spec: &str, dir: &Path) -> Result<Side, CompareError> {
    Side::load(spec, dir)
}

/// The path `--save-baseline NAME` writes.
pub fn baseline_path(name: &str, dir: &Path) -> Result<PathBuf> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    if !ok {
        anyhow::bail!(
            "--save-baseline {name:?}: a baseline name may hold only letters, digits, '-', '_' and '.'"
        );
    }
    let file = if name.ends_with(".json") {
        name.to_string()
    } else {
        format!("{name}.json")
    };
    Ok(dir.join(file))
}

/// Runs the plan `opts.repeat` times (after each run of the baseline binary, if any), then
/// saves and/or compares. `base` is the already loaded baseline to compare with, if any.
pub fn execute(
    prepared: &Prepared,
    opts: &GateOptions,
    base: Option<&Side>,
) -> Result<GateOutcome> {
    let save_path = opts
        .save_baseline
        .as_deref()
        .map(|n| baseline_path(n, &opts.baseline_dir))
        .transpose()?;
    let root = opts
        .run
        .out
        .clone()
        .unwrap_or_else(|| prepared.plan.output.dir.clone());
    let bin = opts
        .baseline_bin
        .as_deref()
        .map(|b| BaselineBin::new(b, prepared, &root.join("baseline-bin")))
        .transpose()?;
    let r = repeat_runs(prepared, opts, bin.as_ref())?;
    if r.aborted {
        eprintln!("run aborted: nothing compared or saved");
        return Ok(GateOutcome {
            runs: r.runs,
            comparison: None,
            saved: None,
            exit: Exit::Aborted,
        });
    }
    let measured_base = match &bin {
        Some(b) => Some(base_side(b, &r.base)?),
        None => None,
    };
    let results: Vec<RunResult> = r.runs.iter().map(|r| r.result.clone()).collect();
    let comparison = match base.or(measured_base.as_ref()) {
        Some(base) => Some(compare_with(
            prepared, opts, base, &r.runs, &results, &r.figures,
        )?),
        None => None,
    };
    let saved = match save_path {
        Some(path) => Some(save(path, &results, &r.figures)?),
        None => None,
    };
    let regressed = comparison
        .as_ref()
        .is_some_and(compare::Comparison::has_regression);
    // The worst run's code (invalid > fail), then a regression makes a pass a fail.
    let exit = if regressed {
        r.worst.worst(Exit::Fail)
    } else {
        r.worst
    };
    Ok(GateOutcome {
        runs: r.runs,
        comparison,
        saved,
        exit,
    })
}

/// The baseline binary's runs as the base side, with a note saying how they were made.
fn base_side(bin: &BaselineBin, runs: &[BaseRunDone]) -> Result<Side> {
    let results: Vec<RunResult> = runs.iter().map(|r| r.result.clone()).collect();
    let figures: Vec<Figures> = runs.iter().map(|r| r.figures.clone()).collect();
    let origin = format!("{} (baseline binary)", bin.path().display());
    let mut side = Side::from_runs(&origin, &results, figures)?;
    let mut note = "interleaved with this run's repeats, A/B/A/B".to_string();
    if runs.iter().any(|r| r.whole_process_cpu) {
        note.push_str(
            "; TPS per CPU-second of its whole process (getrusage of the child): it records none",
        );
    }
    if let Some(n) = side.note.take() {
        note = format!("{n}; {note}");
    }
    side.note = Some(note);
    Ok(side)
}

/// One completed run of the baseline binary.
struct BaseRunDone {
    result: RunResult,
    figures: Figures,
    whole_process_cpu: bool,
}

/// What the repeats produced: our runs and their figures, the baseline binary's runs (none
/// without `--baseline-bin`), the worst exit code of ours, and whether a run (ours or the
/// baseline binary's) was interrupted.
struct Repeats {
    runs: Vec<RunOutcome>,
    figures: Vec<Figures>,
    base: Vec<BaseRunDone>,
    worst: Exit,
    aborted: bool,
}

/// The runs, their figures and the worst exit code; with a baseline binary, one of its runs
/// before each of ours (A/B/A/B). Stops at the first aborted run.
fn repeat_runs(
    prepared: &Prepared,
    opts: &GateOptions,
    bin: Option<&BaselineBin>,
) -> Result<Repeats> {
    let repeat = opts.repeat.max(1);
    let mut runs = Vec::with_capacity(repeat as usize);
    let mut figures = Vec::with_capacity(repeat as usize);
    let mut base = Vec::new();
    let mut worst = Exit::Pass;
    let mut aborted = false;
    // Reports are rendered after the last repeat, not after each: rendering in between left
    // its fonts and charts resident in the process, and the next repeat measured them as its
    // own. The gate's repeats read 16.4, 25.7 and 27.2 MiB peak RSS for the same run that way
    // (2026-11-30, 2-core Xeon VM), 15-17 MiB each without reports in between.
    let each = run::RunOptions {
        no_reports: true,
        ..opts.run.clone()
    };
    for i in 1..=repeat {
        if let Some(b) = bin {
            match base_run(b, i, repeat)? {
                Some(done) if !opts.run.cancel.is_cancelled() => base.push(done),
                _ => {
                    aborted = true;
                    break;
                }
            }
        }
        let outcome = run::execute(prepared, &each)
            .with_context(|| format!("repeat {i}/{repeat} of {}", prepared.plan.name))?;
        let f = Figures::of(&outcome.result);
        println!(
            "{}",
            run_line("repeat", i, repeat, &f, &outcome.result, &outcome.dir)
        );
        figures.push(f);
        let code = outcome.exit;
        worst = worst.worst(code);
        if code != Exit::Pass && code != Exit::Aborted {
            eprintln!(
                "repeat {i}/{repeat}: {}: {}",
                code_name(code),
                outcome.result.verdict.reasons.join("; ")
            );
        }
        runs.push(outcome);
        if code == Exit::Aborted {
            aborted = true;
            break;
        }
    }
    worst = worst.worst(write_reports(&mut runs, opts.run.no_reports)?);
    Ok(Repeats {
        runs,
        figures,
        base,
        worst,
        aborted,
    })
}

/// The baseline binary's run `i` of `repeat`, printed; `None` when it was interrupted.
fn base_run(b: &BaselineBin, i: u32, repeat: u32) -> Result<Option<BaseRunDone>> {
    match b
        .run(i)
        .with_context(|| format!("baseline run {i}/{repeat}"))?
    {
        BaseRun::Done {
            result,
            figures,
            whole_process_cpu,
        } => {
            println!(
                "{}",
                run_line("baseline", i, repeat, &figures, &result, b.path())
            );
            Ok(Some(BaseRunDone {
                result: *result,
                figures: *figures,
                whole_process_cpu,
            }))
        }
        BaseRun::Aborted => Ok(None),
    }
}

/// Renders every run's reports after the last repeat (unless `no_reports`) and tells the user
/// what could not be written; `Exit::Internal` when something could not, as a single run does.
fn write_reports(runs: &mut [RunOutcome], no_reports: bool) -> Result<Exit> {
    let mut worst = Exit::Pass;
    for outcome in runs {
        if !no_reports {
            let problems = output::write(&outcome.result, &outcome.dir, false)?;
            if !problems.is_empty() {
                outcome.exit = Exit::Internal;
                worst = Exit::Internal;
            }
            outcome.write_problems.extend(problems);
        }
        for p in &outcome.write_problems {
            eprintln!("error: {p}");
        }
    }
    Ok(worst)
}

/// Compares the runs with the baseline and writes comparison.{md,html,junit.xml} into the last
/// run's directory.
fn compare_with(
    prepared: &Prepared,
    opts: &GateOptions,
    base: &Side,
    runs: &[RunOutcome],
    results: &[RunResult],
    figures: &[Figures],
) -> Result<compare::Comparison> {
    let plan = &prepared.plan;
    let origin = runs
        .last()
        .and_then(|r| r.dir.parent())
        .map_or_else(|| plan.name.clone(), |p| p.display().to_string());
    let new = Side::from_runs(&format!("{origin} (this run)"), results, figures.to_vec())?;
    let tol = Tolerances::from_scenario(&plan.criteria.tolerances);
    let options = CompareOptions {
        allow_scenario_change: opts.allow_scenario_change,
    };
    let c = compare::compare(base, &new, &tol, options)?;
    if let Some(last) = runs.last() {
        let formats = [
            CompareFormat::Markdown,
            CompareFormat::Html,
            CompareFormat::Junit,
        ];
        compare::write_outputs(&c, &last.dir, &formats)?;
    }
    Ok(c)
}

/// Stores the runs as a named baseline at `path`.
fn save(path: PathBuf, results: &[RunResult], figures: &[Figures]) -> Result<PathBuf> {
    let name = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let b = Baseline::from_runs(
        &name,
        results,
        figures.to_vec(),
        crate::observe::environment::now_rfc3339(),
    )?;
    b.write(&path)?;
    Ok(path)
}

fn code_name(e: Exit) -> &'static str {
    match e {
        Exit::Invalid => "invalid",
        Exit::Internal => "could not write all its output",
        _ => "failed its criteria",
    }
}

/// "repeat 2/7: 12.3M tx/s, ... -> DIR" (or "baseline 2/7: ... -> BINARY").
fn run_line(what: &str, i: u32, n: u32, f: &Figures, r: &RunResult, dir: &Path) -> String {
    let s = &r.summary;
    if let Some(count) = &r.instructions {
        // Counted under valgrind: the count is the figure; the times are valgrind's.
        return format!(
            "repeat {i}/{n}: {} per {} (callgrind), {} -> {}",
            fmt::instructions(compare::per_unit(count)),
            if count.per_tx.is_some() {
                "committed tx"
            } else {
                "operation"
            },
            r.verdict.status,
            dir.display()
        );
    }
    format!(
        "{what} {i}/{n}: {}, {}, p50 {}, p99 {}, {} -> {}",
        fmt::rate(s.committed_tps, "tx/s"),
        f.tx_per_cpu_s
            .map_or_else(|| "n/a tx/CPU-s".to_string(), |v| fmt::rate(v, "tx/CPU-s")),
        fmt::latency_us(s.latency_us.p50),
        fmt::latency_us(s.latency_us.p99),
        r.verdict.status,
        dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_names_are_plain_file_names() {
        let d = Path::new("baselines");
        assert_eq!(
            baseline_path("gate", d).unwrap(),
            Path::new("baselines/gate.json")
        );
        assert_eq!(
            baseline_path("gate.json", d).unwrap(),
            Path::new("baselines/gate.json")
        );
        for bad in ["", "../x", "a/b", ".hidden"] {
            let e = baseline_path(bad, d).unwrap_err().to_string();
            assert!(e.contains("--save-baseline"), "{bad}: {e}");
        }
    }
}
