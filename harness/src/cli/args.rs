//! The command line as clap parses it: raw flags, nothing interpreted yet (ripgrep's
//! "low args"). [`super`] turns them into the library's options once.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Drives a transaction engine or an HTTP service through a scenario, measures throughput and
/// latency honestly (HDR histograms, coordinated omission corrected), and reports against the
/// scenario's criteria.
#[derive(Parser, Debug)]
#[command(name = "harness", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// `Run` has many more flags than the other commands; the enum is built once per process, so its
// size costs nothing worth a Box and an indirection in every match.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario and write results.json, the interval log and the reports.
    ///
    /// Exit codes: 0 every criterion met, 1 a criterion failed, 2 usage or scenario error,
    /// 3 aborted (Ctrl-C), 4 invalid (the engine's audit failed), 5 internal error (a panic,
    /// an output that could not be written).
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
        /// --baseline or --baseline-bin the runs are compared, with --save-baseline stored.
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
        /// Measure the baseline now: before each repeat, run the scenario with this other
        /// harness binary (e.g. built from the merge base) as `PATH run SCENARIO --out
        /// OUT/baseline-bin/base-K --quiet --no-reports`, alternating A/B/A/B, and compare its
        /// runs with ours by the same rule. Not with --baseline or --save-baseline.
        #[arg(long, value_name = "PATH")]
        baseline_bin: Option<PathBuf>,
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
        /// Serve the run's totals so far as Prometheus text at http://ADDR/metrics while it
        /// goes (e.g. 127.0.0.1:9464; port 0 picks one). Loopback only unless --allow-remote.
        #[arg(long, value_name = "ADDR")]
        metrics_addr: Option<std::net::SocketAddr>,
        /// With --metrics-addr: after the run, wait this long at most for one scrape of the
        /// final totals (0s: do not wait).
        #[arg(long, value_name = "DURATION", default_value = "15s")]
        metrics_linger: humantime::Duration,
        /// Hold the scenario's latency limits against this calibration (`harness calibrate`):
        /// a limit below its dispatch precision makes the run invalid. Overrides the scenario's
        /// `use_calibration`.
        #[arg(long, value_name = "FILE")]
        calibration: Option<PathBuf>,
        /// Push the same metrics with Prometheus remote-write (protocol 1.0) to this http://
        /// URL, e.g. http://127.0.0.1:9090/api/v1/write (Prometheus started with
        /// --web.enable-remote-write-receiver). Loopback only unless --allow-remote.
        #[arg(long, value_name = "URL")]
        remote_write: Option<String>,
        /// How often --remote-write pushes (and once more with the final totals).
        #[arg(long, value_name = "DURATION", default_value = "5s")]
        remote_write_interval: humantime::Duration,
        /// Run under valgrind's callgrind and record the instructions executed per committed
        /// transaction, with the functions that executed them: a figure that does not drift on
        /// a shared machine (gated like the others). Needs valgrind, the in-process target and a
        /// scenario whose only stage is a fixed amount of work (`operations = N`).
        #[arg(long)]
        count_instructions: bool,
        /// Write into exactly this existing directory (the counted run's child process).
        #[arg(long, value_name = "DIR", hide = true)]
        into: Option<PathBuf>,
    },
    /// Combine execution segments' results into one result and report.
    ///
    /// Counts, rates per wall-clock interval and errors are summed, histograms merged without
    /// loss, resources kept per instance, criteria re-evaluated. Exit codes: 0 pass, 1 fail,
    /// 2 inputs that cannot be merged (e.g. a capacity search), 3 a segment aborted, 4 invalid
    /// (segments missing, audit failed), 5 an output that could not be written.
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
    /// worse than the baseline median by more than the tolerance AND an exact one-sided
    /// Mann-Whitney U (rank-sum) test on the two sides' repeats says it is worse with p <= 0.05;
    /// when the repeat counts cannot reach that (e.g. 2 vs 3), every new repeat must lie outside
    /// the baseline's [min, max] widened by the tolerance instead (single runs: the tolerance
    /// alone). The table's Test column says which decided. Two capacity searches of the
    /// same SLO are also compared: capacity regressed if NEW broke at a rate at or below BASE's
    /// good rate x (1 - the tps tolerance). Exit codes: 0 no regression, 1 a regression,
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
        /// Override one tolerance, e.g. --tolerance tps=0.2 (repeatable; error_rate is absolute;
        /// tps also bounds two capacity searches' comparison).
        #[arg(long, value_name = "KEY=VALUE")]
        tolerance: Vec<String>,
    },
    /// Chart a scenario's figures over many runs: one self-contained HTML page and Markdown.
    ///
    /// PATHS are results.json files, saved baselines, or directories searched for them (e.g.
    /// reports/gate/, baselines/). Runs are grouped by the SHA-256 of their scenario file (never
    /// mixed), oldest first, and each is judged against its group's baseline (the oldest run,
    /// or --baseline) by `harness compare`'s rule; the regressions are marked. Writes
    /// history.html, history.md and charts/*.svg. Exit codes: 0 written, 2 usage error
    /// (nothing to read, unreadable input), 5 an output that could not be written.
    History {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Where to write (default: the first PATH if it is a directory, else the current
        /// directory).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Judge the runs of its scenario against this instead of their oldest run: a
        /// results.json, a directory of repeats, a baseline file or a name in --baseline-dir.
        #[arg(long, value_name = "NAME|PATH")]
        baseline: Option<String>,
        /// Where named baselines live.
        #[arg(long, value_name = "DIR", default_value = "baselines")]
        baseline_dir: PathBuf,
        /// Override one tolerance, e.g. --tolerance tps=0.2 (repeatable; as in compare).
        #[arg(long, value_name = "KEY=VALUE")]
        tolerance: Vec<String>,
    },
    /// Measure the instrument on this machine: timer and dispatch precision, the loopback
    /// floor, the recorder's cost, the clock and how busy the machine is.
    ///
    /// Prints a table (every figure with what it means for a run's figures) and writes the
    /// figures as JSON, OUT/<host>-<UTC time>.json. About 35 s (--quick: about 10 s). Read it
    /// before trusting a p99: operations may start as late as the dispatch precision, and no
    /// HTTP latency is below the loopback floor. `harness run --calibration FILE` (or
    /// `use_calibration = true` in a scenario's [criteria]) makes a run whose latency limits
    /// are below the calibrated dispatch precision invalid. Exit codes: 0 written, 5 an output
    /// that could not be written or a measurement that failed.
    Calibrate {
        /// Shorter steps and fewer samples, for CI.
        #[arg(long)]
        quick: bool,
        /// Directory to write the JSON into.
        #[arg(long, value_name = "DIR", default_value = crate::calibrate::DEFAULT_DIR)]
        out: PathBuf,
        /// Round every wait up to whole multiples of this (e.g. 2ms): a deliberately coarse
        /// timer, for the tests that show the calibration sees one.
        #[arg(long, value_name = "DURATION", hide = true)]
        coarse_timer: Option<humantime::Duration>,
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
    /// The `engine` binary's commands (serve, bench), run by the engine server linked into
    /// the harness.
    // Linked in so a spawn target naming `engine` runs when no `engine` binary was built (see
    // `targets::http::spawn`). Hidden: it is that fallback, not a harness feature.
    #[command(hide = true)]
    Engine(engine::server::Cli),
}

fn parse_driver(s: &str) -> Result<scenario::Driver, String> {
    match s {
        "native" => Ok(scenario::Driver::Native),
        "goose" => Ok(scenario::Driver::Goose),
        _ => Err(format!("unknown driver {s:?} (expected native or goose)")),
    }
}
