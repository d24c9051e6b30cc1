//! The comparison rule: is a metric's change a regression, an improvement, or noise?
//!
//! CI gating needs a verdict that does not flap on a shared machine, so a change is called a
//! regression only when it is beyond both the tolerance and the noise the runs themselves
//! showed (in the spirit of criterion's noise threshold):
//!
//! **Rule.** For each metric take the median of each side's runs (repeats). A change is a
//! *regression* only if (1) the new median is worse than the baseline median by more than the
//! metric's tolerance (for the error rate, `t` in absolute fraction points) AND (2) an exact
//! one-sided Mann-Whitney U (Wilcoxon rank-sum) test on the two sides' repeats says the new
//! side is worse with `p <= 0.05` ([`super::stats`]). The tolerance is the smallest change worth
//! failing for; the rank test says whether the repeats show a shift at all, using every repeat
//! rather than the extremes, so more repeats mean more power. An *improvement* is the mirror
//! image.
//!
//! **Too few repeats.** When the two sample counts cannot reach `p <= 0.05` at all (the
//! smallest p of `m` against `n` runs is `1/C(m+n, n)`: 1 vs up to 18, 2 vs 2, 3 or 4), condition
//! (2) falls back to the range rule used before: the new side's whole range `[min, max]` lies
//! beyond the baseline's range widened by the tolerance (`[min·(1−t), max·(1+t)]`, or
//! `[min−t, max+t]` for the error rate). With single runs both ranges are points, so the
//! tolerance alone decides. [`Judgement::test`] says which of the three decided, and
//! [`Judgement::p_value`] holds the rank test's p-value when it was used.
//!
//! Latency changes smaller than [`LATENCY_FLOOR_US`] (20 µs) are never a verdict either way: at
//! that scale the clock and the scheduler, not the code, decide. A metric one side did not
//! measure is "n/a" and never fails.
//!
//! [`judge`] is the rule as a pure function of two lists of samples; [`RULE`] is the same rule
//! in one paragraph, printed under every comparison.

use super::stats::{can_reach, passes, rank_test};
use serde::{Deserialize, Serialize};

/// Latency changes below this many microseconds are never a regression or an improvement.
pub const LATENCY_FLOOR_US: f64 = 20.0;

/// The rule, one paragraph, as printed under every comparison.
pub const RULE: &str = "Rule: a metric regressed only if its new median is worse than the baseline median by more \
than the tolerance AND an exact one-sided Mann-Whitney U (rank-sum) test on the two sides' repeats says it is worse \
with p <= 0.05; improvements likewise. Where the repeat counts cannot reach p <= 0.05 (e.g. 2 vs 3), every new \
repeat must lie outside the baseline's [min, max] widened by the tolerance instead (single runs: the tolerance \
alone); the Test column says which decided. Latency changes under 20 µs are ignored. Error rate tolerance is \
absolute (percentage points). In brackets: a single run's 95 % sampling interval of a latency percentile, shown \
and not judged.";

/// Which direction is better for a metric.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// How a tolerance widens the baseline's range.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Slack {
    /// Fraction of the value.
    Relative(f64),
    /// Same unit as the value.
    Absolute(f64),
}

/// The outcome for one metric.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MetricVerdict {
    Improved,
    Unchanged,
    Regressed,
    /// One side did not measure it.
    NotMeasured,
    /// Shown, not judged: what the load generator cost, and the CPU average when it only says
    /// how much CPU was spare (see [`super::compare`]).
    Info,
}

impl MetricVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricVerdict::Improved => "improved",
            MetricVerdict::Unchanged => "unchanged",
            MetricVerdict::Regressed => "REGRESSED",
            MetricVerdict::NotMeasured => "n/a",
            MetricVerdict::Info => "info",
        }
    }
}

/// Which test decided condition (2) of the rule: is the change beyond the repeats' noise?
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// The exact one-sided rank-sum test, `p <= 0.05`.
    RankTest,
    /// Too few repeats for the rank test: the new range clear of the widened baseline range.
    /// (Comparisons written before the rank test were all judged so.)
    #[default]
    Range,
    /// One run a side: the tolerance alone.
    Tolerance,
}

impl Test {
    pub fn as_str(self) -> &'static str {
        match self {
            Test::RankTest => "rank test",
            Test::Range => "range",
            Test::Tolerance => "tolerance",
        }
    }
}

/// The samples of one metric on both sides and what the rule makes of them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Judgement {
    pub base_median: f64,
    pub new_median: f64,
    pub base_min: f64,
    pub base_max: f64,
    pub new_min: f64,
    pub new_max: f64,
    /// Noise band: the baseline's [min, max] widened by the tolerance.
    pub band: (f64, f64),
    /// Which test decided whether the change is beyond the noise.
    #[serde(default)]
    pub test: Test,
    /// With [`Test::RankTest`]: the one-sided p-value in the direction the median moved (that
    /// the new side is worse when its median is worse or equal, better when it is better).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    pub verdict: MetricVerdict,
}

/// Median (mean of the middle two for an even count); `None` for no samples.
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Applies the rule (see the module docs) to one metric's samples. `floor` is an absolute
/// change below which nothing is a verdict (0 for none). `None` if a side has no samples.
pub fn judge(
    base: &[f64],
    new: &[f64],
    better: Better,
    slack: Slack,
    floor: f64,
) -> Option<Judgement> {
    let b = median(base)?;
    let n = median(new)?;
    let finite = |xs: &[f64]| {
        xs.iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect::<Vec<_>>()
    };
    let (base, new) = (finite(base), finite(new));
    let range = |xs: &[f64]| {
        xs.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            })
    };
    let (bmin, bmax) = range(&base);
    let (nmin, nmax) = range(&new);
    let widen = |lo: f64, hi: f64| match slack {
        Slack::Relative(t) => (lo * (1.0 - t), hi * (1.0 + t)),
        Slack::Absolute(a) => (lo - a, hi + a),
    };
    // Condition (1): the new median beyond the tolerance measured from the baseline median.
    let (tol_lo, tol_hi) = widen(b, b);
    let (median_worse, median_better) = match better {
        Better::Higher => (n < tol_lo, n > tol_hi),
        Better::Lower => (n > tol_hi, n < tol_lo),
    };
    // Condition (2): beyond the noise, by the rank test when the counts allow it.
    let band = widen(bmin, bmax);
    let noise = beyond_noise(&base, &new, better, band, (nmin, nmax), (b, n));
    let verdict = if (n - b).abs() < floor {
        MetricVerdict::Unchanged
    } else if median_worse && noise.worse {
        MetricVerdict::Regressed
    } else if median_better && noise.better {
        MetricVerdict::Improved
    } else {
        MetricVerdict::Unchanged
    };
    Some(Judgement {
        base_median: b,
        new_median: n,
        base_min: bmin,
        base_max: bmax,
        new_min: nmin,
        new_max: nmax,
        band,
        test: noise.test,
        p_value: noise.p_value,
        verdict,
    })
}

/// Condition (2) of the rule in each direction, and how it was decided.
struct Noise {
    worse: bool,
    better: bool,
    test: Test,
    p_value: Option<f64>,
}

/// Whether the new samples are worse / better than the baseline's beyond their noise: the rank
/// test when the sample counts can reach `p <= 0.05`, else the new range clear of the widened
/// baseline `band` (single runs: the band is the tolerance around the one baseline value).
/// `medians` are (base, new).
fn beyond_noise(
    base: &[f64],
    new: &[f64],
    better: Better,
    band: (f64, f64),
    (nmin, nmax): (f64, f64),
    (b, n): (f64, f64),
) -> Noise {
    let rank = rank_test(base, new).filter(|_| can_reach(base.len(), new.len()));
    if let Some(t) = rank {
        let (p_worse, p_better) = match better {
            Better::Higher => (t.p_less, t.p_greater),
            Better::Lower => (t.p_greater, t.p_less),
        };
        let moved_better = match better {
            Better::Higher => n > b,
            Better::Lower => n < b,
        };
        return Noise {
            worse: passes(p_worse),
            better: passes(p_better),
            test: Test::RankTest,
            p_value: Some(if moved_better { p_better } else { p_worse }),
        };
    }
    // The new range (so its median too, nmin <= n <= nmax) clear of the widened band.
    let (worse, better_) = match better {
        Better::Higher => (nmax < band.0, nmin > band.1),
        Better::Lower => (nmin > band.1, nmax < band.0),
    };
    let single = base.len() == 1 && new.len() == 1;
    Noise {
        worse,
        better: better_,
        test: if single { Test::Tolerance } else { Test::Range },
        p_value: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REL10: Slack = Slack::Relative(0.10);

    #[test]
    fn medians_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
    }

    #[test]
    fn single_runs_use_the_tolerance_alone() {
        let v = |n: f64| {
            judge(&[100.0], &[n], Better::Higher, REL10, 0.0)
                .unwrap()
                .verdict
        };
        assert_eq!(v(91.0), MetricVerdict::Unchanged);
        assert_eq!(
            v(90.0),
            MetricVerdict::Unchanged,
            "exactly at the edge is not beyond it"
        );
        assert_eq!(v(89.9), MetricVerdict::Regressed);
        assert_eq!(v(110.0), MetricVerdict::Unchanged);
        assert_eq!(v(110.1), MetricVerdict::Improved);
        let l = |n: f64| {
            judge(&[100.0], &[n], Better::Lower, REL10, 0.0)
                .unwrap()
                .verdict
        };
        assert_eq!(l(110.1), MetricVerdict::Regressed);
        assert_eq!(l(89.9), MetricVerdict::Improved);
        assert_eq!(l(105.0), MetricVerdict::Unchanged);
        let j = judge(&[100.0], &[80.0], Better::Higher, REL10, 0.0).unwrap();
        assert_eq!((j.test, j.p_value), (Test::Tolerance, None));
    }

    /// 5 vs 5, every new repeat below every baseline repeat: p = 1/252 by the rank test, and
    /// the median 20 % down against a 10 % tolerance: a regression, with the p-value kept.
    #[test]
    fn a_shifted_pair_regresses_by_the_rank_test() {
        let j = judge(
            &[100.0, 102.0, 98.0, 101.0, 99.0],
            &[80.0, 82.0, 78.0, 81.0, 79.0],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert_eq!(j.verdict, MetricVerdict::Regressed);
        assert_eq!(j.test, Test::RankTest);
        assert!((j.p_value.unwrap() - 1.0 / 252.0).abs() < 1e-12, "{j:?}");
        // The mirror image (lower is better, the same numbers read as latencies): improved,
        // with the p-value of the direction the median moved.
        let j = judge(
            &[100.0, 102.0, 98.0, 101.0, 99.0],
            &[80.0, 82.0, 78.0, 81.0, 79.0],
            Better::Lower,
            REL10,
            0.0,
        )
        .unwrap();
        assert_eq!(j.verdict, MetricVerdict::Improved);
        assert!((j.p_value.unwrap() - 1.0 / 252.0).abs() < 1e-12, "{j:?}");
    }

    /// The gate's shape, 7 vs 7 on a noisy machine: the new median 15 % down (beyond the 10 %
    /// tolerance), but the repeats overlap the baseline's (two baseline repeats slowed by a
    /// neighbour, two new ones spared): the rank test finds no shift (p = 918/3432 ≈ 0.27), so nothing
    /// regressed. The old range rule agreed here only because the band was wide; the rank test
    /// says why.
    #[test]
    fn a_noisy_overlapping_pair_does_not_regress() {
        let base = [100.0, 104.0, 97.0, 70.0, 101.0, 68.0, 99.0];
        let new = [85.0, 83.0, 98.0, 86.0, 102.0, 80.0, 84.0];
        let j = judge(&base, &new, Better::Higher, REL10, 0.0).unwrap();
        assert!(
            j.new_median < j.base_median * 0.9,
            "condition (1) holds: {j:?}"
        );
        assert_eq!(j.test, Test::RankTest);
        let p = j.p_value.unwrap();
        assert!((p - 918.0 / 3432.0).abs() < 1e-12, "{p}");
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
        // Shift every new repeat below every baseline one and the same median change regresses.
        let new = [65.0, 60.0, 62.0, 64.0, 66.0, 61.0, 63.0];
        let j = judge(&base, &new, Better::Higher, REL10, 0.0).unwrap();
        assert_eq!(j.verdict, MetricVerdict::Regressed);
        assert!((j.p_value.unwrap() - 1.0 / 3432.0).abs() < 1e-12, "{j:?}");
    }

    /// A significant shift smaller than the tolerance is not worth failing for.
    #[test]
    fn a_significant_shift_within_tolerance_is_unchanged() {
        let j = judge(
            &[100.0, 100.5, 101.0, 99.5, 100.2],
            &[95.0, 95.5, 96.0, 94.5, 95.2],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert!((j.p_value.unwrap() - 1.0 / 252.0).abs() < 1e-12);
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
    }

    /// Tied repeats (an error rate of 0 on most runs) take mid-ranks: base {0, 0, 0, 0.001},
    /// new {0.003, 0.004, 0.005, 0.006}: every new value above every baseline one, p = 1/70.
    /// All zeros on both sides: p = 1, unchanged.
    #[test]
    fn ties_are_ranked_by_mid_ranks() {
        let s = Slack::Absolute(0.001);
        let j = judge(
            &[0.0, 0.0, 0.0, 0.001],
            &[0.003, 0.004, 0.005, 0.006],
            Better::Lower,
            s,
            0.0,
        )
        .unwrap();
        assert_eq!(j.verdict, MetricVerdict::Regressed);
        assert!((j.p_value.unwrap() - 1.0 / 70.0).abs() < 1e-12, "{j:?}");
        // A tie across the sides: base {1, 2, 2}, new {2, 3, 3} has p = 3/20 (stats' test).
        let j = judge(
            &[1.0, 2.0, 2.0],
            &[2.0, 3.0, 3.0],
            Better::Lower,
            REL10,
            0.0,
        )
        .unwrap();
        assert!((j.p_value.unwrap() - 3.0 / 20.0).abs() < 1e-12, "{j:?}");
        assert_eq!(j.verdict, MetricVerdict::Unchanged, "+50 % but p = 0.15");
        let j = judge(&[0.0; 5], &[0.0; 5], Better::Lower, s, 0.0).unwrap();
        assert_eq!(
            (j.verdict, j.p_value),
            (MetricVerdict::Unchanged, Some(1.0))
        );
    }

    /// Counts that cannot reach p <= 0.05 (2 vs 3: at best 1/10) fall back to the range rule:
    /// the new range clear of the baseline's widened by the tolerance.
    #[test]
    fn too_few_repeats_fall_back_to_the_range_rule() {
        // Median 100, one baseline run at 80: a new median of 85 is 15 % worse than the median
        // yet inside the range widened by 10 % (72..), so it is not a regression.
        let j = judge(
            &[80.0, 100.0],
            &[85.0, 84.0, 86.0],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert_eq!((j.test, j.p_value), (Test::Range, None));
        assert!((j.band.0 - 72.0).abs() < 1e-9 && (j.band.1 - 110.0).abs() < 1e-9);
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
        // Below the widened band: regression.
        let j = judge(
            &[80.0, 100.0],
            &[70.0, 71.0, 60.0],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert_eq!((j.test, j.verdict), (Test::Range, MetricVerdict::Regressed));
        // One new repeat inside the band: noise, as before.
        let j = judge(
            &[100.0, 100.0],
            &[50.0, 50.0, 95.0],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
        assert_eq!((j.new_min, j.new_max), (50.0, 95.0));
    }

    /// 3 vs 3 reaches p = 1/20 = 0.05 exactly, so the rank test decides there. Adapted from the
    /// range rule's test (the rule changed): the baseline {80, 100, 105} against {84, 85, 86}
    /// overlaps (p = 7/20), unchanged as before; {50, 50, 95} against a steady 100 was "one repeat
    /// spared by the scheduler" for the range rule, but every new repeat is below every
    /// baseline repeat, which is what the rank test counts as a shift: now a regression.
    #[test]
    fn three_repeats_a_side_use_the_rank_test() {
        let j = judge(
            &[80.0, 100.0, 105.0],
            &[85.0, 84.0, 86.0],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert_eq!(j.test, Test::RankTest);
        assert!((j.p_value.unwrap() - 7.0 / 20.0).abs() < 1e-12, "{j:?}");
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
        let j = judge(
            &[100.0, 100.0, 100.0],
            &[50.0, 50.0, 95.0],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert!((j.p_value.unwrap() - 0.05).abs() < 1e-12, "{j:?}");
        assert_eq!(j.verdict, MetricVerdict::Regressed);
        // Tail latency with one repeat spared by the scheduler (measured shape: 69, 255, 254 µs
        // against 63..71 µs, tolerance 60 %): 69 beats one baseline repeat, p = 2/20, noise.
        let j = judge(
            &[71.0, 66.0, 63.0],
            &[69.0, 255.0, 254.0],
            Better::Lower,
            Slack::Relative(0.6),
            LATENCY_FLOOR_US,
        )
        .unwrap();
        assert!((j.p_value.unwrap() - 0.1).abs() < 1e-12, "{j:?}");
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
    }

    #[test]
    fn both_conditions_are_needed() {
        // Tight baseline, new median outside the band but within tolerance of the median is
        // impossible for relative slack (band contains the tolerance interval), so check the
        // other way round: beyond tolerance of the median but inside the noise band.
        let j = judge(&[50.0, 100.0], &[60.0], Better::Higher, REL10, 0.0).unwrap();
        assert_eq!(j.base_median, 75.0);
        assert!(
            j.new_median < j.base_median * 0.9,
            "beyond the tolerance of the median"
        );
        assert_eq!(
            j.verdict,
            MetricVerdict::Unchanged,
            "but inside the noise band"
        );
    }

    #[test]
    fn latency_floor_ignores_tiny_changes() {
        // +100 % but only 15 µs: ignored.
        let j = judge(&[15.0], &[30.0], Better::Lower, Slack::Relative(0.25), 20.0).unwrap();
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
        // +100 % and 25 µs: a regression.
        let j = judge(&[25.0], &[50.0], Better::Lower, Slack::Relative(0.25), 20.0).unwrap();
        assert_eq!(j.verdict, MetricVerdict::Regressed);
        // The floor applies to improvements too.
        let j = judge(&[30.0], &[12.0], Better::Lower, Slack::Relative(0.25), 20.0).unwrap();
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
    }

    #[test]
    fn error_rate_tolerance_is_absolute() {
        let s = Slack::Absolute(0.001);
        let v = |b: f64, n: f64| judge(&[b], &[n], Better::Lower, s, 0.0).unwrap().verdict;
        assert_eq!(v(0.0, 0.0009), MetricVerdict::Unchanged);
        assert_eq!(v(0.0, 0.0011), MetricVerdict::Regressed);
        assert_eq!(v(0.0005, 0.0), MetricVerdict::Unchanged);
        assert_eq!(v(0.01, 0.0), MetricVerdict::Improved);
    }

    #[test]
    fn a_metric_missing_on_one_side_is_not_measured() {
        assert!(judge(&[], &[1.0], Better::Lower, REL10, 0.0).is_none());
    }
}
