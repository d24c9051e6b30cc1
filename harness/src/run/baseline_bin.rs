//! `harness run --repeat N --baseline-bin PATH`: the baseline measured now, by another build.
//!
//! A saved baseline was measured on another day, maybe on another machine, under other noise.
//! When a baseline binary is at hand (CI builds the merge base too), both sides can be measured
//! in the same minutes instead: before each of our repeats the baseline binary runs the same
//! scenario as a child process (`PATH run SCENARIO --out DIR/base-k --quiet --no-reports`), so
//! the runs alternate A/B/A/B as `benches/parity.sh` does, and a neighbour's burst or a
//! thermal drift falls on both sides alike instead of on one. Its runs are read back from
//! their results.json and become the comparison's base side.
//!
//! TPS per CPU-second: the child measures it itself, the same way our repeats do (getrusage of
//! its own process around the run, `resources.tx_per_cpu_s`), so both sides' figures come from
//! one method. A baseline binary too old to record it gets it from `getrusage(RUSAGE_CHILDREN)`
//! around the child instead: its whole process (start-up and writing its results too), a
//! little lower than the in-run figure, and said so in the side's note.
//!
//! Errors: a PATH that is not an executable file, or one that cannot be started, is a usage
//! error (exit 2) raised before any run; a child that exits 2 (it does not know the scenario or
//! a flag) likewise; a child that was interrupted ends the gate as aborted.

use crate::analysis::compare::{find_results, Figures};
use crate::exit::UsageError;
use crate::observe::sampler::children_cpu_seconds;
use crate::plan::Prepared;
use anyhow::{Context, Result};
use results::RunResult;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The baseline binary and how to call it for this plan.
#[derive(Debug, Clone)]
pub struct BaselineBin {
    bin: PathBuf,
    scenario: PathBuf,
    /// The flags beyond `--out` that make its runs the same as ours.
    flags: Vec<String>,
    /// Where its runs go: `root/base-k`.
    root: PathBuf,
}

/// One run of the baseline binary.
pub enum BaseRun {
    /// Its results and their figures.
    Done {
        result: Box<RunResult>,
        figures: Box<Figures>,
        /// TPS per CPU-second came from getrusage around the child, not from the run itself.
        whole_process_cpu: bool,
    },
    /// The child was interrupted (exit 3 or a signal): the gate stops.
    Aborted,
}

impl BaselineBin {
    /// Checks that `bin` is an executable file before any run is spent. `root` is where the
    /// baseline binary's runs go (`root/base-k/...`).
    pub fn new(bin: &Path, prepared: &Prepared, root: &Path) -> Result<BaselineBin> {
        let meta = std::fs::metadata(bin).map_err(|e| {
            UsageError::new(format!(
                "--baseline-bin {}: {e}: give the path of a harness binary (e.g. one built from the merge base)",
                bin.display()
            ))
        })?;
        if !meta.is_file() || !is_executable(&meta) {
            return Err(UsageError::new(format!(
                "--baseline-bin {}: not an executable file",
                bin.display()
            ))
            .into());
        }
        let plan = &prepared.plan;
        let mut flags = vec!["--quiet".to_string(), "--no-reports".to_string()];
        // The same stage lengths and driver as our runs; everything else is in the scenario.
        if plan.duration_scale != 1.0 {
            flags.extend([
                "--duration-scale".to_string(),
                plan.duration_scale.to_string(),
            ]);
        }
        let driver = match plan.driver {
            scenario::Driver::Native => "native",
            scenario::Driver::Goose => "goose",
        };
        flags.extend(["--driver".to_string(), driver.to_string()]);
        Ok(BaselineBin {
            bin: bin.to_owned(),
            scenario: plan.file.clone(),
            flags,
            root: root.to_owned(),
        })
    }

    /// Runs the baseline binary once, as repeat `k`, and reads its results back.
    pub fn run(&self, k: u32) -> Result<BaseRun> {
        let out = self.root.join(format!("base-{k}"));
        // A leftover from an earlier gate would be read back as this run's results.
        if out.exists() {
            std::fs::remove_dir_all(&out).with_context(|| format!("clearing {}", out.display()))?;
        }
        let cpu_before = children_cpu_seconds();
        let output = Command::new(&self.bin)
            .arg("run")
            .arg(&self.scenario)
            .arg("--out")
            .arg(&out)
            .args(&self.flags)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| {
                UsageError::new(format!(
                    "--baseline-bin {}: could not start it: {e}",
                    self.bin.display()
                ))
            })?;
        let cpu = children_cpu_seconds()
            .zip(cpu_before)
            .map(|(after, before)| after - before);
        match output.status.code() {
            Some(0 | 1 | 4) => {}
            Some(2) => {
                return Err(UsageError::new(format!(
                    "--baseline-bin {}: it refused `run {}` (exit 2, its message above): a baseline binary must know this scenario and its flags",
                    self.bin.display(),
                    self.scenario.display()
                ))
                .into())
            }
            // 3: interrupted; None: killed by a signal (Ctrl-C reaches the child first).
            Some(3) | None => return Ok(BaseRun::Aborted),
            Some(code) => anyhow::bail!(
                "--baseline-bin {}: baseline run {k} ended with exit {code}",
                self.bin.display()
            ),
        }
        let mut result = read_back(&out)?;
        let whole_process_cpu = result.resources.tx_per_cpu_s.is_none();
        if whole_process_cpu {
            let committed: u64 = result.stages.iter().map(|s| s.committed).sum();
            result.resources.tx_per_cpu_s = cpu
                .filter(|&c| c > 0.0 && committed > 0)
                .map(|c| committed as f64 / c);
        }
        let figures = Figures::of(&result);
        Ok(BaseRun::Done {
            result: Box::new(result),
            figures: Box::new(figures),
            whole_process_cpu,
        })
    }

    /// The binary, for messages.
    pub fn path(&self) -> &Path {
        &self.bin
    }
}

/// The one results.json the child wrote under `out`.
fn read_back(out: &Path) -> Result<RunResult> {
    let mut files = Vec::new();
    find_results(out, &mut files)
        .with_context(|| format!("reading the baseline binary's runs in {}", out.display()))?;
    let [file] = files.as_slice() else {
        anyhow::bail!(
            "the baseline binary left {} results.json files under {} (expected one)",
            files.len(),
            out.display()
        );
    };
    Ok(RunResult::read(file)?)
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    true
}
