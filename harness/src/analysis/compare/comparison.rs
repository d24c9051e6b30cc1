//! [`compare`]: two sides in, one [`Comparison`] out, the struct every renderer reads.
//!
//! The steps, each a function: refuse (or note) a change of scenario, judge each metric by the
//! rule ([`super::metrics`]), note a change of driver, compare two capacity searches
//! ([`super::capacity`]). Nothing here formats a number.

use super::capacity::{compare_capacity, CapacityComparison, SearchFigures};
use super::metrics::{self, MetricRow};
use super::noise::SideNoise;
use super::rule::MetricVerdict;
use super::{CompareError, FunctionChange, ScenarioId, Side, Tolerances};
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
    /// The capacity row, when at least one side is a capacity search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacityComparison>,
    /// Each side's machine noise (`None` where no run measured it): shown, and noted when a
    /// regression coincides with a busy machine; never part of the verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_noise: Option<SideNoise>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_noise: Option<SideNoise>,
    /// When both sides were counted under callgrind: the functions whose own instructions per
    /// unit of work moved the most, so a regressed count points at its cause.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionChange>,
}

impl Comparison {
    pub fn regressions(&self) -> impl Iterator<Item = &MetricRow> {
        self.rows
            .iter()
            .filter(|r| r.verdict() == MetricVerdict::Regressed)
    }

    /// Whether the new search broke at a rate the baseline sustained (see `capacity`).
    pub fn capacity_regressed(&self) -> bool {
        self.capacity
            .as_ref()
            .is_some_and(|c| c.verdict() == MetricVerdict::Regressed)
    }

    /// A regression in any metric or in capacity.
    pub fn has_regression(&self) -> bool {
        self.regressions().next().is_some() || self.capacity_regressed()
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
        capacity: capacity(base, new, tol),
        base_noise: SideNoise::of(base),
        new_noise: SideNoise::of(new),
        functions: super::functions::changes(base, new),
    })
}

/// The capacity row: the sides' searches compared with the throughput tolerance, the one
/// that already says how much throughput may move.
fn capacity(base: &Side, new: &Side, tol: &Tolerances) -> Option<CapacityComparison> {
    fn searches(s: &Side) -> Vec<Option<&SearchFigures>> {
        s.runs.iter().map(|f| f.capacity.as_ref()).collect()
    }
    compare_capacity(&searches(base), &searches(new), tol.tps)
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
