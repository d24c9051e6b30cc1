//! [`compare`]: two sides in, one [`Comparison`] out, the struct every renderer reads.
//!
//! The steps, each a function: refuse (or note) a change of scenario, judge each metric by the
//! rule ([`super::metrics`]), note a change of driver. Nothing here formats a number.

use super::metrics::{self, MetricRow};
use super::rule::MetricVerdict;
use super::{CompareError, ScenarioId, Side, Tolerances};
use crate::exit::Exit;
use serde::{Deserialize, Serialize};

/// What one side was, for the header of every output.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SideInfo {
    pub origin: String,
    pub scenario: ScenarioId,
    pub driver: String,
    pub runs: usize,
    pub note: Option<String>,
}

impl SideInfo {
    fn of(s: &Side) -> SideInfo {
        SideInfo {
            origin: s.origin.clone(),
            scenario: s.scenario.clone(),
            driver: s.driver.clone(),
            runs: s.runs.len(),
            note: s.note.clone(),
        }
    }
}

/// A finished comparison: what the renderers read.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Comparison {
    pub scenario: String,
    pub base: SideInfo,
    pub new: SideInfo,
    pub tolerances: Tolerances,
    /// Set when the sides' scenarios differ and that was allowed.
    pub scenario_changed: Option<String>,
    /// Set when the sides ran through different drivers (e.g. native vs goose): allowed, and
    /// said, because the differences then measure the load generators as much as the target.
    #[serde(default)]
    pub drivers_differ: Option<String>,
    pub rows: Vec<MetricRow>,
}

impl Comparison {
    pub fn regressions(&self) -> impl Iterator<Item = &MetricRow> {
        self.rows
            .iter()
            .filter(|r| r.verdict() == MetricVerdict::Regressed)
    }

    pub fn has_regression(&self) -> bool {
        self.regressions().next().is_some()
    }

    /// Fail (1) on any regression, else pass (0).
    pub fn exit(&self) -> Exit {
        if self.has_regression() {
            Exit::Fail
        } else {
            Exit::Pass
        }
    }
}

/// Options of [`compare`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CompareOptions {
    /// Compare sides of different scenarios (e.g. the same file with a changed
    /// `workload.synthetic_cost`) instead of refusing.
    pub allow_scenario_change: bool,
}

/// Compares `new` against `base` metric by metric.
pub fn compare(
    base: &Side,
    new: &Side,
    tol: &Tolerances,
    opts: CompareOptions,
) -> Result<Comparison, CompareError> {
    let scenario_changed = scenario_change(base, new, opts)?;
    Ok(Comparison {
        scenario: new.scenario.name.clone(),
        base: SideInfo::of(base),
        new: SideInfo::of(new),
        tolerances: *tol,
        scenario_changed,
        drivers_differ: drivers_differ(base, new),
        rows: metrics::rows(base, new, tol),
    })
}

/// Sides of different scenarios: an error, or with `allow_scenario_change` a note saying so.
fn scenario_change(
    base: &Side,
    new: &Side,
    opts: CompareOptions,
) -> Result<Option<String>, CompareError> {
    if base.scenario == new.scenario {
        return Ok(None);
    }
    if !opts.allow_scenario_change {
        return Err(CompareError::ScenarioMismatch {
            base: base.origin.clone(),
            base_id: base.scenario.to_string(),
            new: new.origin.clone(),
            new_id: new.scenario.to_string(),
        });
    }
    Ok(Some(format!(
        "scenario changed: base {} vs new {}",
        base.scenario, new.scenario
    )))
}

/// A note when the sides ran through different load generators.
fn drivers_differ(base: &Side, new: &Side) -> Option<String> {
    (base.driver != new.driver).then(|| {
        format!(
            "drivers differ (base {}, new {}): the changes measure the load generators as much as the target",
            base.driver, new.driver
        )
    })
}
