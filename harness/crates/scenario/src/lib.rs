//! Scenario files: parse, validate, plan. (Being written: the public API below is stable,
//! `parse` does not validate files yet.)

mod error;
mod plan;

use std::path::Path;

pub use error::{line_column, ErrorKind, ScenarioError};
pub use plan::*;

/// Reads, parses and validates the scenario file at `path`.
pub fn load(path: &Path) -> Result<Plan, ScenarioError> {
    let src = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(path, e))?;
    parse(&src, path)
}

/// Parses and validates scenario text `src`; `file` is used in error messages and the plan.
pub fn parse(_src: &str, file: &Path) -> Result<Plan, ScenarioError> {
    Err(ScenarioError::at(
        ErrorKind::Invalid,
        file,
        "",
        None,
        None,
        "scenario parsing is not implemented yet".into(),
    ))
}
