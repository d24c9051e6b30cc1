//! The two sides of a comparison and where they come from.
//!
//! Each side ([`Side`]) is a `results.json`, a directory of them (repeats, found recursively)
//! or a saved [`Baseline`] (`baselines/NAME.json`, written by `harness run --repeat N
//! --save-baseline NAME`). A side holds the [`Figures`] of its runs and the [`ScenarioId`] they
//! were made from: sides of different scenarios are refused unless the caller allows it (see
//! [`super::compare`]), because comparing them would blame the code for a change in the
//! benchmark.

use super::{CompareError, Figures};
use results::RunResult;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of the baseline file layout; readers reject any other.
pub const BASELINE_VERSION: u32 = 1;

/// Which scenario a run belongs to: the name and the SHA-256 of the scenario file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ScenarioId {
    pub name: String,
    pub sha256: String,
}

impl std::fmt::Display for ScenarioId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let short = report::fmt::short_hash(&self.sha256);
        write!(f, "{:?} (sha256 {short})", self.name)
    }
}

/// A saved baseline: the figures of N repeats of one scenario, written by
/// `harness run --repeat N --save-baseline NAME`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Baseline {
    pub baseline_version: u32,
    pub name: String,
    pub scenario: ScenarioId,
    /// Scenario file as given when the baseline was made.
    pub scenario_file: String,
    pub duration_scale: f64,
    /// Driver of the runs ("native", "goose").
    pub driver: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub git_commit: Option<String>,
    /// Where it was measured: CPU model and core count, for whoever wonders why it moved.
    pub machine: String,
    pub runs: Vec<Figures>,
    pub median: Figures,
}

impl Baseline {
    /// A baseline from finished runs of one scenario and their figures (`figures[i]` of
    /// `runs[i]`, usually [`Figures::of`] plus what the gate measured; `runs` must not be empty).
    pub fn from_runs(
        name: &str,
        runs: &[RunResult],
        figures: Vec<Figures>,
        created_at: String,
    ) -> Result<Baseline, CompareError> {
        let first = runs.first().ok_or_else(|| CompareError::NotFound {
            what: name.to_string(),
            tried: "no runs to make a baseline from".to_string(),
        })?;
        // Non-empty was checked above, so there is a median.
        let median = Figures::median_of(&figures).ok_or_else(|| CompareError::NotFound {
            what: name.to_string(),
            tried: "no runs to make a baseline from".to_string(),
        })?;
        let env = &first.environment;
        Ok(Baseline {
            baseline_version: BASELINE_VERSION,
            name: name.to_string(),
            scenario: ScenarioId {
                name: first.scenario.name.clone(),
                sha256: first.scenario.sha256.clone(),
            },
            scenario_file: first.scenario.file.clone(),
            duration_scale: first.scenario.duration_scale,
            driver: first.driver.name.clone(),
            created_at,
            git_commit: env.git_commit.clone(),
            machine: format!("{} ({} cores)", env.cpu_model, env.cores),
            runs: figures,
            median,
        })
    }

    /// Whether JSON bytes are a saved baseline (they have `baseline_version`), not a results.json.
    pub fn is_baseline(bytes: &[u8]) -> bool {
        serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .is_some_and(|v| v.get("baseline_version").is_some())
    }

    /// Reads a baseline file, rejecting other layout versions with a message naming the file.
    pub fn read(path: &Path) -> Result<Baseline, CompareError> {
        let bytes = std::fs::read(path).map_err(|source| CompareError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_slice(&bytes, path)
    }

    /// Parses baseline JSON bytes under [`Baseline::read`]'s version rule; `path` names the
    /// source in errors.
    pub fn from_slice(bytes: &[u8], path: &Path) -> Result<Baseline, CompareError> {
        let parse = |source| CompareError::BaselineParse {
            path: path.to_owned(),
            source,
        };
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(parse)?;
        match v.get("baseline_version").and_then(|v| v.as_u64()) {
            // The same rule as results.json: added optional fields do not bump the version,
            // so every version up to ours reads; only a newer one is refused.
            Some(found) if !results::readable_version(found, BASELINE_VERSION) => {
                return Err(CompareError::BaselineVersion {
                    path: path.to_owned(),
                    found,
                    expected: BASELINE_VERSION,
                })
            }
            _ => {}
        }
        serde_json::from_value(v).map_err(parse)
    }

    /// Writes the baseline as pretty JSON (creating the directory).
    pub fn write(&self, path: &Path) -> Result<(), CompareError> {
        let werr = |source| CompareError::Write {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(werr)?;
        }
        let mut json =
            serde_json::to_string_pretty(self).map_err(|source| CompareError::Serialize {
                path: path.to_owned(),
                source,
            })?;
        json.push('\n');
        std::fs::write(path, json).map_err(werr)
    }
}

/// One side of a comparison: the runs and what they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Side {
    /// How the user named it (path or baseline name).
    pub origin: String,
    pub scenario: ScenarioId,
    /// Driver name(s) of the runs, e.g. "native".
    pub driver: String,
    pub runs: Vec<Figures>,
    /// "baseline gate, 2026-11-23T17:00:00Z, commit abc" when loaded from a baseline.
    pub note: Option<String>,
    /// The scenario file the runs were made from, as recorded (for its tolerances).
    pub scenario_file: Option<String>,
}

impl Side {
    /// A side from runs in memory (`origin` names them in messages).
    pub fn from_results(origin: &str, runs: &[RunResult]) -> Result<Side, CompareError> {
        let figures = runs.iter().map(Figures::of).collect();
        Self::from_runs(origin, runs, figures)
    }

    /// A side from runs in memory and their figures (`figures[i]` of `runs[i]`).
    pub fn from_runs(
        origin: &str,
        runs: &[RunResult],
        figures: Vec<Figures>,
    ) -> Result<Side, CompareError> {
        let first = runs.first().ok_or_else(|| CompareError::EmptyDir {
            path: PathBuf::from(origin),
        })?;
        let id = |r: &RunResult| ScenarioId {
            name: r.scenario.name.clone(),
            sha256: r.scenario.sha256.clone(),
        };
        let scenario = id(first);
        let mut drivers: Vec<String> = Vec::new();
        for r in runs {
            if id(r) != scenario {
                return Err(CompareError::MixedRuns {
                    path: PathBuf::from(origin),
                    first: scenario.to_string(),
                    other: id(r).to_string(),
                });
            }
            if !drivers.contains(&r.driver.name) {
                drivers.push(r.driver.name.clone());
            }
        }
        let aborted = runs
            .iter()
            .filter(|r| r.verdict.status == results::Status::Aborted)
            .count();
        Ok(Side {
            origin: origin.to_string(),
            scenario,
            driver: drivers.join("+"),
            runs: figures,
            note: (aborted > 0).then(|| format!("{aborted} run(s) aborted: partial figures")),
            scenario_file: Some(first.scenario.file.clone()),
        })
    }

    /// A side from a saved baseline.
    pub fn from_baseline(origin: &str, b: &Baseline) -> Side {
        Side {
            origin: origin.to_string(),
            scenario: b.scenario.clone(),
            driver: b.driver.clone(),
            runs: b.runs.clone(),
            note: Some(format!(
                "baseline {:?} of {}{}, {}",
                b.name,
                b.created_at,
                b.git_commit
                    .as_deref()
                    .map(|c| format!(", commit {c}"))
                    .unwrap_or_default(),
                b.machine
            )),
            scenario_file: Some(b.scenario_file.clone()),
        }
    }

    /// Loads a side named on the command line: a `results.json`, a baseline file, a directory
    /// of `results.json` files (searched recursively; symlinks such as `latest` are not
    /// followed, so no run counts twice), or the name of a baseline in `baseline_dir`.
    pub fn load(spec: &str, baseline_dir: &Path) -> Result<Side, CompareError> {
        let p = Path::new(spec);
        if p.is_dir() {
            let mut files = Vec::new();
            find_results(p, &mut files).map_err(|source| CompareError::Io {
                path: p.to_owned(),
                source,
            })?;
            if files.is_empty() {
                return Err(CompareError::EmptyDir { path: p.to_owned() });
            }
            files.sort();
            let runs = files
                .iter()
                .map(RunResult::read)
                .collect::<Result<Vec<_>, _>>()?;
            return Side::from_results(spec, &runs);
        }
        if p.is_file() {
            return Self::load_file(spec, p);
        }
        let named = baseline_dir.join(format!("{spec}.json"));
        let is_name = !spec.contains(['/', '\\']) && !spec.ends_with(".json");
        if is_name && named.is_file() {
            return Self::load_file(spec, &named);
        }
        let tried = if is_name {
            format!("a file or directory {spec:?}, and {}", named.display())
        } else {
            format!("a file or directory {spec:?}")
        };
        Err(CompareError::NotFound {
            what: spec.to_string(),
            tried,
        })
    }

    fn load_file(spec: &str, path: &Path) -> Result<Side, CompareError> {
        let bytes = std::fs::read(path).map_err(|source| CompareError::Io {
            path: path.to_owned(),
            source,
        })?;
        if Baseline::is_baseline(&bytes) {
            let b = Baseline::from_slice(&bytes, path)?;
            Ok(Side::from_baseline(spec, &b))
        } else {
            let r = RunResult::from_json_slice(&bytes, path)?;
            Side::from_results(spec, std::slice::from_ref(&r))
        }
    }
}

/// Every `results.json` under `dir`, recursively (symlinks not followed, so no run counts twice).
pub fn find_results(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            find_results(&entry.path(), out)?;
        } else if kind.is_file() && entry.file_name() == "results.json" {
            out.push(entry.path());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::compare::fixtures::figures;

    #[test]
    fn baseline_round_trips_and_rejects_other_versions() {
        let dir = tempfile::tempdir().unwrap();
        let b = Baseline {
            baseline_version: BASELINE_VERSION,
            name: "x".into(),
            scenario: ScenarioId {
                name: "s".into(),
                sha256: "aa".into(),
            },
            scenario_file: "s.toml".into(),
            duration_scale: 1.0,
            driver: "native".into(),
            created_at: "2026-11-23T00:00:00Z".into(),
            git_commit: None,
            machine: "cpu (2 cores)".into(),
            runs: vec![figures(1e6, 1000.0)],
            median: figures(1e6, 1000.0),
        };
        let p = dir.path().join("sub/x.json");
        b.write(&p).unwrap();
        assert_eq!(Baseline::read(&p).unwrap(), b);
        let side = Side::load("x", &dir.path().join("sub")).unwrap();
        assert_eq!(side.runs.len(), 1);
        let text = std::fs::read_to_string(&p)
            .unwrap()
            .replace("\"baseline_version\": 1", "\"baseline_version\": 9");
        std::fs::write(&p, text).unwrap();
        let e = Side::load(p.to_str().unwrap(), dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("baseline_version 9") && e.contains("x.json"),
            "{e}"
        );
        let e = Side::load("nope", dir.path()).unwrap_err().to_string();
        assert!(e.contains("nope.json"), "{e}");
    }
}
