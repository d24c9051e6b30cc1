//! Two capacity searches compared: did the new search prove that the target breaks at a rate
//! the baseline sustained?
//!
//! A search ends with a bracket, the highest rate that met the SLO (good) and the lowest that
//! broke it (bad), rather than one figure with a spread, so the metric rule (medians and a
//! noise band) does not apply. The bracket says what was proved, and the rule reads it:
//!
//! **Rule.** With `t` the throughput tolerance (`tps`, 10 % by default): a *regression* when the
//! new bad rate <= the baseline's good rate x (1 - t), i.e. the new search broke the SLO at a
//! rate the baseline held, beyond the tolerance; an *improvement* when the new good rate >= the
//! baseline's bad rate x (1 + t); otherwise unchanged. A new search in which nothing broke up to
//! its maximum proved no breaking rate, so it is never a regression. With repeats a side's good
//! rate is the lowest of its runs' and its bad rate the highest (a run where nothing broke makes
//! it "none"), so a verdict holds for every repeat, as the metric rule asks of its repeats.
//!
//! Compared only when both sides are searches of the same unit and the same SLO (percentile,
//! latency limit, error-rate limit): a different SLO asks a different question. Otherwise the
//! comparison says why in [`NotComparable`], and the rest of the comparison is unaffected.
//! Nothing here formats a number; the renderers word it.

use super::rule::{median, MetricVerdict};
use results::{RunResult, Slo};
use serde::{Deserialize, Serialize};

/// The capacity rule, one paragraph, printed under a comparison that has a capacity row.
pub const CAPACITY_RULE: &str = "Capacity (two capacity searches): regressed if the new search's bad \
rate (the lowest rate that broke the SLO) is at or below the baseline's good rate (the highest that met it) \
x (1 - the throughput tolerance): the new run broke at a rate the baseline sustained; improved if the new \
good rate is at or above the baseline's bad rate x (1 + the tolerance). A new search where nothing broke up \
to its maximum is never a regression. With repeats: the lowest good and the highest bad rate of a side's \
runs. Compared only for the same SLO and unit.";

/// What one run's capacity search found, as the comparison reads it (saved in baselines too).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SearchFigures {
    /// The rates' unit, e.g. "tx/s".
    pub unit: String,
    pub slo: Slo,
    /// The confirmed capacity; `None` when no confirmation held.
    pub capacity: Option<f64>,
    /// The bracket's good end; `None` when no rate met the SLO.
    pub good: Option<f64>,
    /// The bracket's bad end; `None` when nothing broke up to `max`.
    pub bad: Option<f64>,
    /// The search's highest rate.
    pub max: f64,
}

impl SearchFigures {
    /// A run's search figures; `None` for a run that is not a capacity search (a ramp included).
    pub fn of(r: &RunResult) -> Option<SearchFigures> {
        let c = r.capacity.as_ref()?;
        let s = c.search.as_ref()?;
        Some(SearchFigures {
            unit: c.unit.clone(),
            slo: s.slo.clone(),
            capacity: s.capacity,
            good: c.max_rate_met,
            bad: c.first_rate_broken,
            max: s.settings.max,
        })
    }
}

/// One side's searches over its runs, reduced to what the rule reads.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SearchSide {
    pub unit: String,
    pub slo: Slo,
    /// Median of the runs' confirmed capacities; `None` when no run confirmed one.
    pub capacity: Option<f64>,
    /// The lowest good rate of the runs; `None` when a run found no good rate.
    pub good: Option<f64>,
    /// The highest bad rate of the runs; `None` when in a run nothing broke up to its maximum.
    pub bad: Option<f64>,
    /// The highest maximum of the runs (what "nothing broke" reached).
    pub max: f64,
    pub runs: usize,
}

impl SearchSide {
    /// `None` unless every run is a search. A side's runs share one scenario file, and the
    /// search mode, its SLO and unit are in that file, so they are the same in every run: the
    /// first run's stand for all.
    fn of(runs: &[Option<&SearchFigures>]) -> Option<SearchSide> {
        let runs: Vec<&SearchFigures> = runs.iter().copied().collect::<Option<_>>()?;
        let first = runs.first()?;
        let all = |f: fn(&SearchFigures) -> Option<f64>| -> Option<Vec<f64>> {
            runs.iter().map(|r| f(r)).collect()
        };
        let capacities: Vec<f64> = runs.iter().filter_map(|r| r.capacity).collect();
        Some(SearchSide {
            unit: first.unit.clone(),
            slo: first.slo.clone(),
            capacity: median(&capacities),
            good: all(|r| r.good).map(|v| v.into_iter().fold(f64::INFINITY, f64::min)),
            bad: all(|r| r.bad).map(|v| v.into_iter().fold(f64::NEG_INFINITY, f64::max)),
            max: runs.iter().map(|r| r.max).fold(f64::NEG_INFINITY, f64::max),
            runs: runs.len(),
        })
    }
}

/// Why two sides' capacities were not compared.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NotComparable {
    /// One side is a capacity search and the other is not.
    NotBothSearches,
    /// The baseline's search found no rate that met the SLO: there is nothing to hold the new
    /// side to.
    BaselineFoundNoGoodRate,
    /// The rates are in different units.
    UnitsDiffer,
    /// The searches judged different SLOs: a different question.
    SlosDiffer,
}

/// What the capacity rule made of two sides.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CapacityOutcome {
    /// Improved, unchanged or regressed.
    Judged(MetricVerdict),
    NotComparable(NotComparable),
}

/// The capacity row of a comparison: present when at least one side is a capacity search.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct CapacityComparison {
    /// `None`: that side is not a capacity search.
    pub base: Option<SearchSide>,
    pub new: Option<SearchSide>,
    /// The throughput tolerance the rule applied (a fraction).
    pub tolerance: f64,
    pub outcome: CapacityOutcome,
}

impl CapacityComparison {
    /// The rule's verdict; "n/a" when not comparable.
    pub fn verdict(&self) -> MetricVerdict {
        match self.outcome {
            CapacityOutcome::Judged(v) => v,
            CapacityOutcome::NotComparable(_) => MetricVerdict::NotMeasured,
        }
    }
}

/// Compares the sides' searches, one entry per run (`None` for a run that is not a search);
/// `None` when neither side is a search.
pub(super) fn compare_capacity(
    base: &[Option<&SearchFigures>],
    new: &[Option<&SearchFigures>],
    tolerance: f64,
) -> Option<CapacityComparison> {
    let (b, n) = (SearchSide::of(base), SearchSide::of(new));
    let outcome = match (&b, &n) {
        (None, None) => return None,
        (Some(b), Some(n)) => judge_capacity(b, n, tolerance),
        _ => CapacityOutcome::NotComparable(NotComparable::NotBothSearches),
    };
    Some(CapacityComparison {
        base: b,
        new: n,
        tolerance,
        outcome,
    })
}

/// The rule (see the module docs) for two searches.
fn judge_capacity(base: &SearchSide, new: &SearchSide, t: f64) -> CapacityOutcome {
    let not = CapacityOutcome::NotComparable;
    if base.unit != new.unit {
        return not(NotComparable::UnitsDiffer);
    }
    if base.slo != new.slo {
        return not(NotComparable::SlosDiffer);
    }
    let Some(base_good) = base.good else {
        return not(NotComparable::BaselineFoundNoGoodRate);
    };
    // `None` bad: nothing broke up to the new search's maximum, so no breaking rate was proved.
    let regressed = new.bad.is_some_and(|bad| bad <= base_good * (1.0 - t));
    // `None` baseline bad: the baseline never broke, so no new rate can be shown to exceed it.
    let improved = matches!((new.good, base.bad), (Some(g), Some(b)) if g >= b * (1.0 + t));
    CapacityOutcome::Judged(if regressed {
        MetricVerdict::Regressed
    } else if improved {
        MetricVerdict::Improved
    } else {
        MetricVerdict::Unchanged
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture's search: capacity 12.75M tx/s, good 12.75M, bad 13M, p99 <= 5 ms.
    fn fixture() -> SearchFigures {
        SearchFigures::of(&results::fixture::capacity_search()).expect("the fixture is a search")
    }

    /// `fixture` with another bracket (the capacity follows the good end).
    fn bracket(good: Option<f64>, bad: Option<f64>) -> SearchFigures {
        SearchFigures {
            capacity: good,
            good,
            bad,
            ..fixture()
        }
    }

    fn outcome(base: &SearchFigures, new: &SearchFigures) -> CapacityOutcome {
        compare_capacity(&[Some(base)], &[Some(new)], 0.10)
            .expect("both are searches")
            .outcome
    }

    const REGRESSED: CapacityOutcome = CapacityOutcome::Judged(MetricVerdict::Regressed);
    const UNCHANGED: CapacityOutcome = CapacityOutcome::Judged(MetricVerdict::Unchanged);
    const IMPROVED: CapacityOutcome = CapacityOutcome::Judged(MetricVerdict::Improved);

    #[test]
    fn the_fixture_reads_as_its_bracket() {
        let f = fixture();
        assert_eq!(f.unit, "tx/s");
        assert_eq!(
            (f.capacity, f.good, f.bad),
            (Some(12.75e6), Some(12.75e6), Some(13e6))
        );
        assert_eq!(f.slo.percentile, 99.0);
        assert_eq!(SearchFigures::of(&results::fixture::sample()), None);
        // A ramp has a capacity result but no search.
        assert_eq!(SearchFigures::of(&results::fixture::http_goose()), None);
    }

    #[test]
    fn a_new_bad_rate_the_baseline_sustained_beyond_tolerance_is_a_regression() {
        let base = fixture(); // good 12.75M: the edge is 12.75M x 0.9 = 11.475M
        assert_eq!(
            outcome(&base, &bracket(Some(11e6), Some(11.4e6))),
            REGRESSED
        );
        assert_eq!(
            outcome(&base, &bracket(Some(11e6), Some(11.475e6))),
            REGRESSED,
            "at the edge: the rule's <= includes it"
        );
        assert_eq!(
            outcome(&base, &bracket(Some(11.2e6), Some(11.5e6))),
            UNCHANGED,
            "broke below the baseline's good rate, but within the tolerance"
        );
        assert_eq!(outcome(&base, &fixture()), UNCHANGED);
    }

    #[test]
    fn a_new_good_rate_beyond_the_baselines_bad_rate_is_an_improvement() {
        let base = fixture(); // bad 13M: the edge is 14.3M
        assert_eq!(
            outcome(&base, &bracket(Some(14.4e6), Some(14.6e6))),
            IMPROVED
        );
        assert_eq!(
            outcome(&base, &bracket(Some(14.2e6), Some(14.6e6))),
            UNCHANGED
        );
        // A baseline that never broke cannot be beaten.
        let never = bracket(Some(40e6), None);
        assert_eq!(outcome(&never, &bracket(Some(40e6), None)), UNCHANGED);
    }

    #[test]
    fn nothing_broke_in_the_new_search_is_never_a_regression() {
        // Its maximum (10M) is below the baseline's good rate, yet no breaking rate was proved.
        let mut new = bracket(Some(10e6), None);
        new.max = 10e6;
        assert_eq!(outcome(&fixture(), &new), UNCHANGED);
        // Above the baseline's bad rate beyond the tolerance, it is an improvement.
        assert_eq!(outcome(&fixture(), &bracket(Some(40e6), None)), IMPROVED);
    }

    #[test]
    fn different_questions_and_no_good_baseline_are_not_comparable() {
        let not = CapacityOutcome::NotComparable;
        let mut p999 = bracket(Some(1e6), Some(2e6));
        p999.slo.percentile = 99.9;
        assert_eq!(outcome(&fixture(), &p999), not(NotComparable::SlosDiffer));
        let mut limit = fixture();
        limit.slo.max_latency_us = 10_000.0;
        assert_eq!(outcome(&fixture(), &limit), not(NotComparable::SlosDiffer));
        let mut errors = fixture();
        errors.slo.max_error_rate = None;
        assert_eq!(outcome(&fixture(), &errors), not(NotComparable::SlosDiffer));
        let mut ops = fixture();
        ops.unit = "ops/s".into();
        assert_eq!(outcome(&fixture(), &ops), not(NotComparable::UnitsDiffer));
        let below_start = bracket(None, Some(2e6));
        assert_eq!(
            outcome(&below_start, &fixture()),
            not(NotComparable::BaselineFoundNoGoodRate)
        );
    }

    #[test]
    fn one_search_is_said_and_none_is_nothing() {
        let f = fixture();
        let c = compare_capacity(&[Some(&f)], &[None], 0.1).unwrap();
        assert_eq!(
            c.outcome,
            CapacityOutcome::NotComparable(NotComparable::NotBothSearches)
        );
        assert!(c.base.is_some() && c.new.is_none());
        assert_eq!(c.verdict(), MetricVerdict::NotMeasured);
        assert_eq!(compare_capacity(&[None], &[None, None], 0.1), None);
    }

    #[test]
    fn repeats_hold_every_run_to_the_rule() {
        let base = [bracket(Some(12e6), Some(12.5e6)), fixture()];
        fn refs(s: &[SearchFigures]) -> Vec<Option<&SearchFigures>> {
            s.iter().map(Some).collect()
        }
        let side = SearchSide::of(&refs(&base)).unwrap();
        assert_eq!((side.good, side.bad), (Some(12e6), Some(13e6)));
        assert_eq!(
            side.capacity,
            Some(12.375e6),
            "the median of the capacities"
        );
        // One new repeat broke at 10.7M (<= 12M x 0.9 = 10.8M), the other only at 11M: not
        // every repeat proved the regression.
        let new = [
            bracket(Some(10.5e6), Some(10.7e6)),
            bracket(Some(10.8e6), Some(11e6)),
        ];
        let c = compare_capacity(&refs(&base), &refs(&new), 0.1).unwrap();
        assert_eq!(c.outcome, UNCHANGED);
        let new = [
            bracket(Some(10.5e6), Some(10.7e6)),
            bracket(Some(10e6), Some(10.6e6)),
        ];
        let c = compare_capacity(&refs(&base), &refs(&new), 0.1).unwrap();
        assert_eq!(c.outcome, REGRESSED);
        // A repeat where nothing broke: the side proved no breaking rate.
        let new = [
            bracket(Some(10.5e6), Some(10.7e6)),
            bracket(Some(40e6), None),
        ];
        let side = SearchSide::of(&refs(&new)).unwrap();
        assert_eq!(side.bad, None);
    }
}
