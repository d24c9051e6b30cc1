//! What can go wrong loading, comparing or writing a comparison: one error type for the whole
//! of `compare`, each variant naming the file, name or flag at fault, so the CLI can print it
//! as it is and map it to exit code 2 (usage) or 5.

use results::ResultsError;
use std::path::PathBuf;

/// Errors of loading or comparing results; each names the file, name or flag at fault.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Results(#[from] ResultsError),
    #[error("parsing baseline {path}: {source}")]
    BaselineParse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{path}: baseline_version {found} is not supported (this harness reads versions 1 to {expected})"
    )]
    BaselineVersion {
        path: PathBuf,
        found: u64,
        expected: u32,
    },
    #[error("{what:?} is neither a results.json, a directory of them, nor a baseline (looked for {tried})")]
    NotFound { what: String, tried: String },
    #[error("{path}: no results.json found in this directory")]
    EmptyDir { path: PathBuf },
    #[error("{path}: mixes runs of different scenarios ({first} and {other}); one side must be repeats of one scenario")]
    MixedRuns {
        path: PathBuf,
        first: String,
        other: String,
    },
    #[error("different scenarios: base {base} is scenario {base_id} but new {new} is scenario {new_id}; compare runs of one scenario file (or pass --allow-scenario-change)")]
    ScenarioMismatch {
        base: String,
        base_id: String,
        new: String,
        new_id: String,
    },
    #[error("tolerance {spec:?}: {reason}")]
    BadTolerance { spec: String, reason: String },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("serializing baseline {path}: {source}")]
    Serialize {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}
