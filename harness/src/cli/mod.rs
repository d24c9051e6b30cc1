//! Command-line interface: raw flags ([`args`]) turned into the library's options once, then
//! one call per command. Every command returns the [`Exit`] to end with; errors go up to
//! `main`, which prints their chain and picks the exit code from their kind.

pub mod args;

use crate::analysis::compare::CompareError;
use crate::analysis::compare::{self, CompareFormat, CompareOptions, Side, Tolerances};
use crate::analysis::history;
use crate::analysis::merge::MergeError;
use crate::cancel::Cancel;
use crate::exit::{Exit, UsageError};
use crate::plan::segment::{Segment, SegmentError};
use crate::plan::PlanError;
use crate::plan::{self, Adjust};
use crate::run::calibration::CalibrationUse;
use crate::run::repeat::{self, GateOptions};
use crate::run::sync::StartSync;
use crate::run::sync::SyncError;
use crate::run::{self, RunOptions};
use crate::targets::http::HttpError;
use anyhow::{Context, Result};
pub use args::{Cli, Command};
use std::path::{Path, PathBuf};

/// The exit code for an error that ended a command: usage errors (wherever in the chain they
/// are) exit 2, everything else 5.
pub fn exit_for(e: &anyhow::Error) -> Exit {
    if e.chain().any(|c| c.is::<UsageError>() || is_usage(c)) {
        Exit::Usage
    } else {
        Exit::Internal
    }
}

/// Library errors that are the user's to fix.
fn is_usage(e: &(dyn std::error::Error + 'static)) -> bool {
    e.is::<scenario::ScenarioError>()
        || e.is::<PlanError>()
        || e.is::<SyncError>()
        || e.is::<scenario::DriverError>()
        || e.is::<SegmentError>()
        || e.is::<MergeError>()
        || e.is::<CompareError>()
        || e.downcast_ref::<HttpError>()
            .is_some_and(HttpError::is_usage)
}

/// Runs a parsed command line. `cancel` is the process's Ctrl-C token.
pub fn dispatch(cli: Cli, cancel: &Cancel) -> Result<Exit> {
    match cli.command {
        c @ Command::Run { .. } => run_cmd(c, cancel),
        Command::Compare {
            base,
            new,
            format,
            out,
            baseline_dir,
            allow_scenario_change,
            scenario,
            tolerance,
        } => compare_cmd(&CompareArgs {
            base: &base,
            new: &new,
            format: &format,
            out: out.as_deref(),
            baseline_dir: &baseline_dir,
            allow_scenario_change,
            scenario_file: scenario.as_deref(),
            tolerance: &tolerance,
        }),
        Command::Merge {
            results,
            out,
            allow_missing,
            no_reports,
        } => crate::analysis::merge::run(&crate::analysis::merge::MergeOptions {
            inputs: results,
            out,
            allow_missing,
            no_reports,
        }),
        Command::History {
            paths,
            out,
            baseline,
            baseline_dir,
            tolerance,
        } => history_cmd(&HistoryArgs {
            paths: &paths,
            out: out.as_deref(),
            baseline: baseline.as_deref(),
            baseline_dir: &baseline_dir,
            tolerance: &tolerance,
        }),
        Command::Calibrate {
            quick,
            out,
            coarse_timer,
        } => {
            crate::calibrate::run(&crate::calibrate::Options {
                quick,
                out,
                coarse_timer: coarse_timer.map(Into::into),
            })?;
            Ok(Exit::Pass)
        }
        Command::Validate { files } => Ok(validate(&files)),
        Command::Report {
            results,
            format,
            out,
        } => report_cmd(&results, out.as_deref(), &format),
        Command::Engine(_) => unreachable!("main runs `harness engine` through engine_main"),
    }
}

/// `harness engine ...`: the engine binary's main, verbatim (its exit codes, its
/// `engine: error:` lines, its own SIGINT/SIGTERM handling). `Err` hands back any other
/// command line, for [`dispatch`]. It runs before the harness's Ctrl-C handler is installed:
/// that handler would also answer the SIGTERM that stops the server gracefully (printing the
/// harness's interrupt message, exiting 130 on a second signal).
pub fn engine_main(cli: Cli) -> Result<std::process::ExitCode, Box<Cli>> {
    match cli.command {
        Command::Engine(engine) => Ok(engine::server::main_with(engine)),
        command => Err(Box::new(Cli { command })),
    }
}

/// `harness run`: the plan transformed once, then a plain run or a gated one.
fn run_cmd(c: Command, cancel: &Cancel) -> Result<Exit> {
    let Command::Run {
        scenario,
        out,
        duration_scale,
        quiet,
        allow_remote,
        no_reports,
        profile,
        repeat,
        save_baseline,
        baseline,
        baseline_dir,
        baseline_bin,
        allow_scenario_change,
        segment,
        start_at,
        barrier,
        barrier_timeout,
        driver,
        metrics_addr,
        metrics_linger,
        remote_write,
        remote_write_interval,
        calibration,
        count_instructions,
        into,
    } = c
    else {
        unreachable!("run_cmd is only called for `harness run`")
    };
    let segment = segment_flag(segment)?;
    let gated =
        repeat.is_some() || save_baseline.is_some() || baseline.is_some() || baseline_bin.is_some();
    if segment.is_some() && gated {
        return Err(UsageError::new("--segment cannot be combined with --repeat or baselines: merge the segments, then compare the merged result").into());
    }
    let start = start_sync(segment.is_some(), start_at, barrier, barrier_timeout.into())?;
    let adjust = Adjust {
        duration_scale,
        driver,
        segment,
    };
    let prepared = plan::load(&scenario, &adjust)?;
    let calibration = calibration_for(&prepared, out.as_deref(), calibration.as_deref())?;
    let run = RunOptions {
        out,
        quiet,
        allow_remote,
        no_reports,
        profile,
        start,
        cancel: cancel.clone(),
        metrics: live_options(
            metrics_addr,
            metrics_linger.into(),
            remote_write.as_deref(),
            remote_write_interval.into(),
            allow_remote,
        )?,
        calibration,
        count_instructions,
        into,
    };
    if !gated {
        return plain_run(&prepared, &run);
    }
    repeat::run_gated(
        &prepared,
        &GateOptions {
            run,
            repeat: repeat.unwrap_or(1),
            save_baseline,
            baseline,
            baseline_dir,
            allow_scenario_change,
            baseline_bin,
        },
    )
}

/// The calibration the run's latency limits are held against (`--calibration`, else the
/// scenario's `use_calibration`, looked for under the output root); a note when none is found.
fn calibration_for(
    prepared: &plan::Prepared,
    out: Option<&std::path::Path>,
    file: Option<&std::path::Path>,
) -> Result<Option<CalibrationUse>> {
    let root = out.map_or_else(|| prepared.plan.output.dir.clone(), |o| o.to_path_buf());
    let calibration = CalibrationUse::resolve(file, &prepared.plan.criteria, &root)?;
    if let Some(CalibrationUse::Missing(why)) = &calibration {
        eprintln!("note: {why}");
    }
    Ok(calibration)
}

/// One run: its summary, where it went, and what could not be written.
fn plain_run(prepared: &plan::Prepared, opts: &RunOptions) -> Result<Exit> {
    let outcome = run::execute(prepared, opts)?;
    println!("{}", report::text_summary(&outcome.result));
    println!("results: {}", outcome.dir.join("results.json").display());
    for p in &outcome.write_problems {
        eprintln!("error: {p}");
    }
    Ok(outcome.exit)
}

/// The segment to run, from `--segment` or the environment.
/// The live metrics asked for: served at `addr`, pushed to `remote_write`, both or neither. A
/// bad or refused URL is a usage error, before any load.
fn live_options(
    addr: Option<std::net::SocketAddr>,
    linger: std::time::Duration,
    remote_write: Option<&str>,
    interval: std::time::Duration,
    allow_remote: bool,
) -> Result<Option<run::live::LiveOptions>> {
    let remote_write = remote_write
        .map(|url| run::remote_write::RemoteWrite::new(url, interval, allow_remote))
        .transpose()
        .map_err(|e| UsageError::new(format!("{e:#}")))?;
    if addr.is_none() && remote_write.is_none() {
        return Ok(None);
    }
    Ok(Some(run::live::LiveOptions {
        addr,
        linger,
        remote_write,
    }))
}

fn segment_flag(flag: Option<String>) -> Result<Option<Segment>> {
    Ok(match flag {
        Some(f) => Some(f.parse::<Segment>()?),
        None => Segment::from_env(|k| std::env::var(k).ok())?,
    })
}

/// How a segment starts with the others (`--start-at`, `--barrier`).
fn start_sync(
    is_segment: bool,
    start_at: Option<String>,
    barrier: Option<PathBuf>,
    barrier_timeout: std::time::Duration,
) -> Result<StartSync> {
    if !is_segment {
        if start_at.is_some() || barrier.is_some() {
            eprintln!(
                "warning: --start-at and --barrier only apply to segments (--segment); ignored"
            );
        }
        return Ok(StartSync::None);
    }
    Ok(match (start_at, barrier) {
        (Some(t), _) => StartSync::start_at(&t).map_err(|e| UsageError::new(e.to_string()))?,
        (None, Some(base)) => StartSync::Barrier {
            base,
            timeout: barrier_timeout,
        },
        (None, None) => StartSync::None,
    })
}

/// What a valid scenario will run, in a few words: its stages, or its capacity search.
fn shape(plan: &scenario::Plan) -> String {
    use scenario::units::format_duration;
    match plan.capacity.as_ref().and_then(|c| c.search()) {
        Some(s) => {
            let unit = match s.unit {
                scenario::RateUnit::TxPerSec => "tx/s",
                scenario::RateUnit::OpsPerSec => "ops/s",
            };
            format!(
                "capacity search {} -> {}, at most {} probes in {}",
                report::fmt::set_rate(s.start, unit),
                report::fmt::set_rate(s.max, unit),
                s.max_probes,
                format_duration(s.max_time)
            )
        }
        None => {
            let work = plan
                .stages
                .last()
                .and_then(|s| s.operations)
                .map(|n| format!(", the last a fixed {} operations", report::fmt::count(n)))
                .unwrap_or_default();
            format!(
                "{} stages, {}{work}",
                plan.stages.len(),
                format_duration(plan.total_duration())
            )
        }
    }
}

/// Checks scenarios without running them; prints one line per file.
fn validate(files: &[PathBuf]) -> Exit {
    let mut bad = 0;
    for f in files {
        match scenario::load(f) {
            Ok(plan) => println!("ok: {} ({})", f.display(), shape(&plan)),
            Err(e) => {
                bad += 1;
                eprintln!("error: {e}");
            }
        }
    }
    if bad == 0 {
        Exit::Pass
    } else {
        Exit::Usage
    }
}

/// `harness report`: renders a saved results.json again.
fn report_cmd(results_json: &Path, out: Option<&Path>, format: &[String]) -> Result<Exit> {
    let mut formats = Vec::new();
    for f in format {
        formats.push(report::Format::from_name(f).ok_or_else(|| {
            UsageError::new(format!(
                "unknown format {f:?} (expected markdown, html, pdf, svg or junit)"
            ))
        })?);
    }
    let result = results::RunResult::read(results_json)?;
    let dir = out
        .map(Path::to_path_buf)
        .or_else(|| results_json.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let written = if formats.is_empty() {
        report::render_all(&result, &dir)?
    } else {
        report::render(&result, &formats, &dir)?
    };
    for p in written {
        println!("{}", p.display());
    }
    Ok(Exit::Pass)
}

/// The flags of `harness compare`.
struct CompareArgs<'a> {
    base: &'a str,
    new: &'a str,
    format: &'a [String],
    out: Option<&'a Path>,
    baseline_dir: &'a Path,
    allow_scenario_change: bool,
    scenario_file: Option<&'a Path>,
    tolerance: &'a [String],
}

/// `harness compare`: loads both sides, compares, prints and writes the formats asked for.
fn compare_cmd(a: &CompareArgs<'_>) -> Result<Exit> {
    let mut formats = Vec::new();
    for f in a.format {
        formats.push(CompareFormat::from_name(f).ok_or_else(|| {
            UsageError::new(format!(
                "unknown --format {f:?} (expected text, markdown, html or junit)"
            ))
        })?);
    }
    let base = Side::load(a.base, a.baseline_dir)?;
    let new = Side::load(a.new, a.baseline_dir)?;
    let mut tol = match a.scenario_file {
        Some(p) => {
            let plan = scenario::load(p).with_context(|| format!("--scenario {}", p.display()))?;
            Tolerances::from_scenario(&plan.criteria.tolerances)
        }
        None => recorded_scenario_tolerances(&new).unwrap_or_default(),
    };
    for spec in a.tolerance {
        tol.apply_spec(spec)?;
    }
    let options = CompareOptions {
        allow_scenario_change: a.allow_scenario_change,
    };
    let c = compare::compare(&base, &new, &tol, options)?;
    match a.out {
        Some(dir) => {
            for p in compare::write_outputs(&c, dir, &formats)? {
                eprintln!("wrote {}", p.display());
            }
            print!("{}", compare::render_text(&c));
        }
        None => {
            for f in &formats {
                print!("{}", f.render(&c));
            }
        }
    }
    Ok(c.exit())
}

/// The flags of `harness history`.
struct HistoryArgs<'a> {
    paths: &'a [PathBuf],
    out: Option<&'a Path>,
    baseline: Option<&'a str>,
    baseline_dir: &'a Path,
    tolerance: &'a [String],
}

/// `harness history`: reads the runs, judges each against its scenario's baseline, writes the
/// page and prints where, with each scenario's regressions.
fn history_cmd(a: &HistoryArgs<'_>) -> Result<Exit> {
    // Checked once up front, so a bad flag is a usage error before anything is read.
    let mut check = Tolerances::default();
    for spec in a.tolerance {
        check.apply_spec(spec)?;
    }
    let tolerances = |s: &Side| {
        let mut t = recorded_scenario_tolerances(s).unwrap_or_default();
        for spec in a.tolerance {
            // Valid: checked above.
            let _ = t.apply_spec(spec);
        }
        t
    };
    let baseline = a
        .baseline
        .map(|b| Side::load(b, a.baseline_dir))
        .transpose()?;
    let entries = history::load(a.paths)?;
    let h = history::build(
        entries,
        &history::HistoryOptions {
            baseline,
            tolerances: &tolerances,
        },
    )?;
    let dir = match a.out {
        Some(d) => d.to_path_buf(),
        None => a
            .paths
            .first()
            .filter(|p| p.is_dir())
            .cloned()
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    for p in history::write_outputs(&h, &dir)? {
        eprintln!("wrote {}", p.display());
    }
    print!("{}", history::summary(&h));
    Ok(Exit::Pass)
}

/// The `[criteria.tolerance]` of the scenario file the new side was run from, when that file
/// is still there and unchanged (same SHA-256); otherwise the defaults apply.
fn recorded_scenario_tolerances(new: &Side) -> Option<Tolerances> {
    let file = new.scenario_file.as_deref()?;
    let plan = scenario::load(Path::new(file)).ok()?;
    (plan.sha256 == new.scenario.sha256)
        .then(|| Tolerances::from_scenario(&plan.criteria.tolerances))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_are_found_in_the_chain() {
        let e = anyhow::Error::new(UsageError::new("bad flag")).context("running");
        assert_eq!(exit_for(&e), Exit::Usage);
        let e = anyhow::Error::new(PlanError::Scale(-1.0)).context("loading");
        assert_eq!(exit_for(&e), Exit::Usage);
        assert_eq!(exit_for(&anyhow::anyhow!("disk full")), Exit::Internal);
    }
}
