//! Command-line interface: raw flags (clap) turned into calls of the library.

use crate::compare::{self, CompareFormat, CompareOptions, Side, Tolerances};
use crate::gate::{self, GateOptions};
use crate::run::{self, RunOptions};
use crate::segment::{Segment, SegmentError, SegmentRun, StartSync};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Drives a transaction engine or an HTTP service through a scenario, measures throughput and
/// latency honestly (HDR histograms, coordinated omission corrected), and reports against the
/// scenario's criteria.
#[derive(Parser, Debug)]
#[command(name = "harness", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario and write results.json, the interval log and the reports.
    ///
    /// Exit codes: 0 every criterion met, 1 a criterion failed (or the audit failed),
    /// 2 usage or scenario error, 3 aborted (Ctrl-C).
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Output root; the run goes to OUT/<scenario>/<UTC timestamp>/ (default: the
        /// scenario's output.dir, usually `reports`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Multiply every stage's duration by this factor (e.g. 0.1 runs a 30-minute scenario
        /// in 3 minutes); recorded in the results.
        #[arg(long, value_name = "FACTOR")]
        duration_scale: Option<f64>,
        /// No live progress.
        #[arg(long, short)]
        quiet: bool,
        /// Allow load against a non-loopback address.
        #[arg(long)]
        allow_remote: bool,
        /// Write results.json and the interval log only.
        #[arg(long)]
        no_reports: bool,
        /// Profile the steady state with pprof and write a flamegraph (in-process targets).
        #[arg(long)]
        profile: bool,
        /// Run the scenario N times (each a full run with its own results directory); with
        /// --baseline the medians are compared, with --save-baseline they are stored.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
        repeat: Option<u32>,
        /// Store the runs' figures as baseline DIR/NAME.json (see --baseline-dir).
        #[arg(long, value_name = "NAME")]
        save_baseline: Option<String>,
        /// Compare the runs with a baseline (a name in --baseline-dir or a file); writes
        /// comparison.md and comparison.junit.xml into the last run's directory; exit 1 on a
        /// regression.
        #[arg(long, value_name = "NAME|FILE")]
        baseline: Option<String>,
        /// Where named baselines live.
        #[arg(long, value_name = "DIR", default_value = "baselines")]
        baseline_dir: PathBuf,
        /// Compare with a baseline of a different scenario file (e.g. a changed workload).
        #[arg(long)]
        allow_scenario_change: bool,
        /// Run execution segment INDEX of COUNT (0-based, e.g. 0/3): its share of every stage's
        /// workers or rate and its own part of the sender accounts. Default: $HARNESS_SEGMENT,
        /// or $JOB_COMPLETION_INDEX with $HARNESS_SEGMENT_COUNT (Kubernetes Indexed Job).
        #[arg(long, value_name = "INDEX/COUNT")]
        segment: Option<String>,
        /// Segments: start stage 0 at this time (RFC 3339 UTC, e.g. 2026-11-23T19:00:00Z).
        #[arg(long, value_name = "TIME", conflicts_with = "barrier")]
        start_at: Option<String>,
        /// Segments: create FILE.<index> and start when every segment's file exists (a volume
        /// all instances share); FILE.done.<index> likewise at the end.
        #[arg(long, value_name = "FILE")]
        barrier: Option<PathBuf>,
        /// How long to wait at the barrier.
        #[arg(long, value_name = "DURATION", default_value = "10m")]
        barrier_timeout: humantime::Duration,
        /// Load generator for HTTP targets, overriding the scenario's `driver`: native (ours)
        /// or goose (closed-model stages only).
        #[arg(long, value_name = "native|goose", value_parser = parse_driver)]
        driver: Option<scenario::Driver>,
    },
    /// Combine execution segments' results into one result and report.
    ///
    /// Counts, rates per wall-clock interval and errors are summed, histograms merged without
    /// loss, resources kept per instance, criteria re-evaluated. Exit codes: 0 pass, 1 fail or
    /// invalid (e.g. segments missing), 2 inputs that cannot be merged, 3 a segment aborted.
    Merge {
        /// Segment results.json files, or directories searched for them.
        #[arg(required = true)]
        results: Vec<PathBuf>,
        /// Where to write the merged results and reports (default
        /// reports/<scenario>/<timestamp>-merged).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Merge even if some segments are missing (the verdict is then invalid and names them).
        #[arg(long)]
        allow_missing: bool,
        /// Write results.json only.
        #[arg(long)]
        no_reports: bool,
    },
    /// Compare two sets of results: is NEW slower than BASE beyond tolerance and noise?
    ///
    /// BASE and NEW are each a results.json, a directory of them (repeats), or a saved
    /// baseline (file, or name in --baseline-dir). A metric regressed only if its new median is
    /// worse than the baseline median by more than the tolerance AND every new repeat lies
    /// outside the baseline's [min, max] widened by the tolerance. Exit codes: 0 no regression, 1 a regression,
    /// 2 usage error (unreadable input, different scenarios).
    Compare {
        base: String,
        new: String,
        /// Output formats (text, markdown, html, junit); default text.
        #[arg(long, value_delimiter = ',', default_value = "text")]
        format: Vec<String>,
        /// Write comparison.{txt,md,junit.xml} here instead of printing them (text is also
        /// printed).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Where named baselines live.
        #[arg(long, value_name = "DIR", default_value = "baselines")]
        baseline_dir: PathBuf,
        /// Compare results of different scenario files (e.g. the same scenario with a changed
        /// workload.synthetic_cost) instead of refusing.
        #[arg(long)]
        allow_scenario_change: bool,
        /// Take tolerances from this scenario's [criteria.tolerance] (default: the scenario
        /// file NEW recorded, if it is still there unchanged).
        #[arg(long, value_name = "FILE")]
        scenario: Option<PathBuf>,
        /// Override one tolerance, e.g. --tolerance tps=0.2 (repeatable; error_rate is absolute).
        #[arg(long, value_name = "KEY=VALUE")]
        tolerance: Vec<String>,
    },
    /// Check scenario files without running them.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Render the reports of a saved run again.
    Report {
        /// A results.json written by `harness run`.
        results: PathBuf,
        /// Formats to render (markdown, html, pdf, svg, junit); default: all.
        #[arg(long, value_delimiter = ',')]
        format: Vec<String>,
        /// Directory to write into (default: beside results.json).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn parse_driver(s: &str) -> Result<scenario::Driver, String> {
    match s {
        "native" => Ok(scenario::Driver::Native),
        "goose" => Ok(scenario::Driver::Goose),
        _ => Err(format!("unknown driver {s:?} (expected native or goose)")),
    }
}

/// Runs a parsed command line.
pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run {
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
            allow_scenario_change,
            segment,
            start_at,
            barrier,
            barrier_timeout,
            driver,
        } => {
            let segment = match segment_run(segment, start_at, barrier, barrier_timeout.into()) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(run::exit::USAGE));
                }
            };
            if segment.is_some()
                && (repeat.is_some() || save_baseline.is_some() || baseline.is_some())
            {
                eprintln!("error: --segment cannot be combined with --repeat or baselines: merge the segments, then compare the merged result");
                return Ok(ExitCode::from(run::exit::USAGE));
            }
            let run = RunOptions {
                scenario,
                out,
                duration_scale,
                quiet,
                allow_remote,
                no_reports,
                profile,
                segment,
                driver,
            };
            if repeat.is_none() && save_baseline.is_none() && baseline.is_none() {
                // Exactly the plain `harness run`.
                return run::run(&run);
            }
            gate::run_gated(&GateOptions {
                run,
                repeat: repeat.unwrap_or(1),
                save_baseline,
                baseline,
                baseline_dir,
                allow_scenario_change,
            })
        }
        Command::Compare {
            base,
            new,
            format,
            out,
            baseline_dir,
            allow_scenario_change,
            scenario,
            tolerance,
        } => compare_cmd(
            &base,
            &new,
            &format,
            out.as_deref(),
            &baseline_dir,
            allow_scenario_change,
            scenario.as_deref(),
            &tolerance,
        ),
        Command::Merge {
            results,
            out,
            allow_missing,
            no_reports,
        } => crate::merge::run(&crate::merge::MergeOptions {
            inputs: results,
            out,
            allow_missing,
            no_reports,
        }),
        Command::Validate { files } => Ok(run::validate(&files)),
        Command::Report {
            results,
            format,
            out,
        } => {
            let mut formats = Vec::new();
            for f in &format {
                match report::Format::from_name(f) {
                    Some(x) => formats.push(x),
                    None => {
                        eprintln!("error: unknown format {f:?} (expected markdown, html, pdf, svg or junit)");
                        return Ok(ExitCode::from(run::exit::USAGE));
                    }
                }
            }
            run::rerender(&results, out.as_deref(), &formats)
        }
    }
}

/// `harness compare`: loads both sides, compares, prints and writes the formats asked for.
#[allow(clippy::too_many_arguments)] // one parameter per flag, called from one place
fn compare_cmd(
    base: &str,
    new: &str,
    format: &[String],
    out: Option<&std::path::Path>,
    baseline_dir: &std::path::Path,
    allow_scenario_change: bool,
    scenario_file: Option<&std::path::Path>,
    tolerance: &[String],
) -> Result<ExitCode> {
    let mut formats = Vec::new();
    for f in format {
        match CompareFormat::from_name(f) {
            Some(x) => formats.push(x),
            None => anyhow::bail!("unknown --format {f:?} (expected text, markdown or junit)"),
        }
    }
    let base = Side::load(base, baseline_dir)?;
    let new = Side::load(new, baseline_dir)?;
    let mut tol = match scenario_file {
        Some(p) => {
            let plan = scenario::load(p).with_context(|| format!("--scenario {}", p.display()))?;
            Tolerances::from_scenario(&plan.criteria.tolerances)
        }
        None => recorded_scenario_tolerances(&new).unwrap_or_default(),
    };
    for spec in tolerance {
        tol.apply_spec(spec)?;
    }
    let c = compare::compare(
        &base,
        &new,
        &tol,
        CompareOptions {
            allow_scenario_change,
        },
    )?;
    match out {
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
    Ok(ExitCode::from(c.exit_code()))
}

/// The `[criteria.tolerance]` of the scenario file the new side was run from, when that file
/// is still there and unchanged (same SHA-256); otherwise the defaults apply.
fn recorded_scenario_tolerances(new: &Side) -> Option<Tolerances> {
    let file = new.scenario_file.as_deref()?;
    let plan = scenario::load(std::path::Path::new(file)).ok()?;
    (plan.sha256 == new.scenario.sha256)
        .then(|| Tolerances::from_scenario(&plan.criteria.tolerances))
}

/// The segment to run, from `--segment` or the environment, and how it starts.
fn segment_run(
    flag: Option<String>,
    start_at: Option<String>,
    barrier: Option<PathBuf>,
    barrier_timeout: std::time::Duration,
) -> Result<Option<SegmentRun>, SegmentError> {
    let segment = match flag {
        Some(f) => Some(f.parse::<Segment>()?),
        None => Segment::from_env(|k| std::env::var(k).ok())?,
    };
    let Some(segment) = segment else {
        if start_at.is_some() || barrier.is_some() {
            eprintln!(
                "warning: --start-at and --barrier only apply to segments (--segment); ignored"
            );
        }
        return Ok(None);
    };
    let sync = match (start_at, barrier) {
        (Some(t), _) => StartSync::start_at(&t)?,
        (None, Some(base)) => StartSync::Barrier {
            base,
            timeout: barrier_timeout,
        },
        (None, None) => StartSync::None,
    };
    Ok(Some(SegmentRun::new(segment, sync)))
}
