//! Where a run's files go and how they are written: `reports/<scenario>/<UTC timestamp>/`
//! with a `latest` link beside it, results.json first, then the reports.
//!
//! Write failures are not swallowed: results.json that cannot be written is an error; a report
//! that cannot be rendered is reported to the caller, who tells the user and exits non-zero,
//! after everything else was written.

use anyhow::{Context, Result};
use results::RunResult;
use std::path::{Path, PathBuf};

/// Creates the run's directory: `root/<scenario>/<stamp>[-segment-i-of-n][-k]`, and points
/// `root/<scenario>/latest` at it.
pub fn run_dir(
    root: &Path,
    scenario: &str,
    started_at: &str,
    suffix: Option<String>,
) -> Result<PathBuf> {
    let scenario_dir = root.join(scenario);
    let mut stamp = started_at.replace(':', "-");
    if let Some(s) = suffix {
        // Segments start in the same second: each needs its own directory.
        stamp = format!("{stamp}-{s}");
    }
    let mut dir = scenario_dir.join(&stamp);
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = scenario_dir.join(format!("{stamp}-{n}"));
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        // The link is a convenience: failing to move it loses nothing measured.
        let latest = scenario_dir.join("latest");
        let _ = std::fs::remove_file(&latest);
        if let Some(name) = dir.file_name() {
            let _ = std::os::unix::fs::symlink(name, &latest);
        }
    }
    Ok(dir)
}

/// Writes results.json, then (unless `no_reports`) every report. Returns the problems the
/// user must be told about (a report that could not be rendered); results.json failing is an
/// error.
pub fn write(result: &RunResult, dir: &Path, no_reports: bool) -> Result<Vec<String>> {
    result
        .write(dir.join("results.json"))
        .with_context(|| format!("writing results.json in {}", dir.display()))?;
    let mut problems = Vec::new();
    if !no_reports {
        if let Err(e) = report::render_all(result, dir) {
            problems.push(format!(
                "rendering the reports in {} failed: {e}",
                dir.display()
            ));
        }
    }
    Ok(problems)
}
