//! What a history is made of: one [`Entry`] per run (a results.json) or saved baseline, read
//! from the paths the user named, with the commit and date the run itself recorded.
//!
//! Nothing is made up: a run without a recorded commit shows none. Results of every schema
//! version this build reads (`RunResult::read`) are read; fields a run predates are "n/a".

use crate::analysis::compare::{find_results, Baseline, CompareError, Side};
use results::{RunResult, Status};
use std::path::{Path, PathBuf};

/// One point of a history: a run, or a saved baseline (the median of its repeats).
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its figures, as `harness compare` reads them.
    pub side: Side,
    /// The build's commit as the run recorded it (`-dirty` when built from changed files).
    pub commit: Option<String>,
    /// RFC 3339 UTC: when the run started, or when the baseline was saved.
    pub date: String,
    /// The run's status; `None` for a baseline.
    pub status: Option<Status>,
}

/// Reads every run and baseline under `paths`: a results.json, a baseline file, or a
/// directory searched recursively for results.json files and, at its top level, baseline
/// files (a `baselines/` directory). Sorted oldest first (then by path).
pub fn load(paths: &[PathBuf]) -> Result<Vec<Entry>, CompareError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            load_dir(p, &mut out)?;
        } else if p.is_file() {
            out.push(load_file(p)?);
        } else {
            return Err(CompareError::NotFound {
                what: p.display().to_string(),
                tried: "a results.json, a baseline file or a directory".to_string(),
            });
        }
    }
    out.sort_by(|a, b| a.date.cmp(&b.date).then(a.side.origin.cmp(&b.side.origin)));
    Ok(out)
}

fn load_dir(dir: &Path, out: &mut Vec<Entry>) -> Result<(), CompareError> {
    let io = |source| CompareError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    find_results(dir, &mut files).map_err(io)?;
    let before = out.len();
    for f in &files {
        out.push(load_file(f)?);
    }
    // Other JSON files at the top: the baselines among them (a `baselines/` directory).
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let json = path.extension().is_some_and(|e| e == "json");
        let results = path.file_name().is_some_and(|n| n == "results.json");
        if json && !results && path.is_file() {
            let bytes = read(&path)?;
            if Baseline::is_baseline(&bytes) {
                out.push(entry_of(&path, &bytes)?);
            }
        }
    }
    if out.len() == before {
        return Err(CompareError::EmptyDir {
            path: dir.to_owned(),
        });
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, CompareError> {
    std::fs::read(path).map_err(|source| CompareError::Io {
        path: path.to_owned(),
        source,
    })
}

/// One file: a baseline if it says so (`baseline_version`), else a results.json.
fn load_file(path: &Path) -> Result<Entry, CompareError> {
    entry_of(path, &read(path)?)
}

fn entry_of(path: &Path, bytes: &[u8]) -> Result<Entry, CompareError> {
    let origin = path.display().to_string();
    if Baseline::is_baseline(bytes) {
        let b = Baseline::from_slice(bytes, path)?;
        return Ok(Entry {
            side: Side::from_baseline(&origin, &b),
            commit: b.git_commit.clone(),
            date: b.created_at.clone(),
            status: None,
        });
    }
    let r = RunResult::from_json_slice(bytes, path)?;
    Ok(Entry {
        side: Side::from_results(&origin, std::slice::from_ref(&r))?,
        commit: r.environment.git_commit.clone(),
        date: r.environment.started_at.clone(),
        status: Some(r.verdict.status),
    })
}
