//! `harness run --count-instructions`: the run executed once more, in a child process under
//! valgrind's callgrind, and its instruction count per committed transaction added to the
//! result: the gate metric that does not drift on a shared machine.
//!
//! Time-based figures move 10-40 % on this 2-core VM with nothing changed; an instruction count
//! of the same binary doing the same seeded work does not move (measured: see
//! `baselines/README.md`). So the scenario must be a fixed amount of work (one stage,
//! `operations = N`) on the in-process engine, where the engine runs in the worker threads.
//! Only the workers are counted (`--toggle-collect` on the worker's body,
//! `drivers::threads::EngineWorker::run`): the collector, sampler and progress threads wake
//! on the clock, and under valgrind's 50x slowdown they would add a count that depends on
//! how long the run took.
//!
//! The parent creates the run directory, the child (`harness run FILE --into DIR`) runs and
//! writes results.json there, the parent reads callgrind's file, adds
//! [`results::Instructions`] and writes results.json and the reports again. Everything else
//! (verdict, baselines, `--repeat`) is the plain run's.

use crate::exit::UsageError;
use crate::observe::callgrind;
use crate::plan::Prepared;
use crate::run::{output, RunOptions, RunOutcome};
use anyhow::{bail, Context, Result};
use results::{FunctionInstructions, Instructions, RunResult};
use std::process::{Command, Stdio};

/// The function whose dynamic extent callgrind counts: the in-process worker's body.
const COUNTED: &str = "*EngineWorker::run*";
/// Functions kept in the result, most instructions first.
const TOP_FUNCTIONS: usize = 40;

/// Runs the plan under callgrind and returns the outcome with its instruction count.
pub fn execute(prepared: &Prepared, opts: &RunOptions) -> Result<RunOutcome> {
    let plan = &prepared.plan;
    check(prepared)?;
    let root = opts.out.clone().unwrap_or_else(|| plan.output.dir.clone());
    let started = crate::observe::environment::now_rfc3339();
    let dir = output::run_dir(&root, &plan.name, &started, None)?;
    let out = dir.join("callgrind.out");
    let log = dir.join("valgrind.log");
    let exe = std::env::current_exe().context("finding the harness executable")?;
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg("--collect-atstart=no")
        .arg(format!("--toggle-collect={COUNTED}"))
        .arg(format!("--callgrind-out-file={}", valgrind_path(&out)))
        .arg(format!("--log-file={}", valgrind_path(&log)))
        .arg(exe)
        .arg("run")
        .arg(&plan.file)
        .arg("--into")
        .arg(&dir)
        .args(["--quiet", "--no-reports"])
        .stdout(Stdio::null());
    if !opts.quiet {
        eprintln!(
            "counting instructions under valgrind (callgrind): {}",
            dir.display()
        );
    }
    let status = match cmd.status() {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(UsageError::new(
                "--count-instructions needs valgrind on the PATH (Debian package `valgrind`; `.ci/deps` installs it)",
            )
            .into())
        }
        Err(e) => return Err(e).context("starting valgrind"),
    };
    // 0, 1 and 4 are verdicts and 3 an aborted run: each wrote its result. Anything else did
    // not, and neither did valgrind refusing to start (its own exit code is 1 too).
    let written = dir.join("results.json").exists();
    if !written || !matches!(status.code(), Some(0 | 1 | 3 | 4)) {
        bail!(
            "the counted run under valgrind failed ({status}) without a result; valgrind's log: {} (or the messages above)",
            log.display()
        );
    }
    let mut result = RunResult::read(dir.join("results.json"))?;
    result.instructions = Some(instructions(&result, &callgrind::read(&out)?));
    let problems = output::write(&result, &dir, opts.no_reports)?;
    Ok(RunOutcome::written(result, dir, problems))
}

/// A path as valgrind's file options read it: `%p`, `%q{VAR}` and `%n` are expanded there, so
/// a literal `%` (a directory named "3%") must be written `%%`.
fn valgrind_path(p: &std::path::Path) -> String {
    p.display().to_string().replace('%', "%%")
}

/// What a counted run must be: fixed work on the in-process engine, nothing that splits or
/// times it.
fn check(prepared: &Prepared) -> Result<()> {
    let plan = &prepared.plan;
    let why = if plan.target.is_http() {
        Some("counts the in-process engine and its generator only (target kind = \"in-process\"): an HTTP target's server runs in another process")
    } else if !(plan.stages.len() == 1 && plan.stages[0].operations.is_some()) {
        Some("needs a scenario whose only stage is a fixed amount of work (`operations = N`): a timed stage does as much work as the machine allows, so its count would move with the machine (see scenarios/gate-instructions.toml)")
    } else if plan.capacity.is_some() {
        Some("cannot count a capacity search: its probes are timed")
    } else if prepared.segment.is_some() {
        Some("cannot count an execution segment: count the whole scenario on one machine")
    } else {
        None
    };
    match why {
        Some(why) => Err(UsageError::new(format!(
            "--count-instructions {why}; {} is not such a scenario",
            plan.file.display()
        ))
        .into()),
        None => Ok(()),
    }
}

/// The count per unit of the work the workers did.
pub fn instructions(r: &RunResult, p: &callgrind::Profile) -> Instructions {
    let ops: u64 = r.stages.iter().map(|s| s.ops).sum();
    let committed_tx: u64 = r.stages.iter().map(|s| s.committed).sum();
    let per = |n: u64| (n > 0).then(|| p.total as f64 / n as f64);
    Instructions {
        tool: "callgrind".to_string(),
        total: p.total,
        ops,
        committed_tx,
        per_tx: per(committed_tx),
        per_op: per(ops).unwrap_or(0.0),
        functions: p
            .functions
            .iter()
            .take(TOP_FUNCTIONS)
            .map(|(name, n)| FunctionInstructions {
                name: name.clone(),
                instructions: *n,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percent_sign_in_a_path_reaches_valgrind_literally() {
        assert_eq!(
            valgrind_path(std::path::Path::new("out/3%-1/callgrind.out")),
            "out/3%%-1/callgrind.out"
        );
    }
}
