//! Command-line interface: raw flags (clap) turned into calls of the library.

use crate::run::{self, RunOptions};
use anyhow::Result;
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
        } => run::run(&RunOptions {
            scenario,
            out,
            duration_scale,
            quiet,
            allow_remote,
            no_reports,
            profile,
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
