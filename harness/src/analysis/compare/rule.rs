//! The comparison rule: is a metric's change a regression, an improvement, or noise?
//!
//! CI gating needs a verdict that does not flap on a shared machine, so a change is called a
//! regression only when it is beyond both the tolerance and the noise the runs themselves
//! showed (in the spirit of criterion's noise threshold):
//!
//! **Rule.** For each metric take the median of each side's runs (repeats). A change is a
//! *regression* only if (1) the new median is worse than the baseline median by more than the
//! metric's tolerance AND (2) it is outside the noise both sides' repeats showed: the new
//! side's whole range `[min, max]` (so its median too) lies beyond the baseline's range
//! widened by the tolerance (`[min·(1−t), max·(1+t)]`; for the error rate `[min−t, max+t]`, `t`
//! in absolute fraction points). With single runs both ranges are points, so the tolerance
//! alone decides. A real slowdown moves every repeat; a neighbour stealing the CPU during one
//! repeat moves that one only. An *improvement* is the mirror image. Latency changes smaller than
//! [`LATENCY_FLOOR_US`] (20 µs) are never a verdict either way: at that scale the clock and the
//! scheduler, not the code, decide. A metric one side did not measure is "n/a" and never fails.
//!
//! [`judge`] is the rule as a pure function of two lists of samples; [`RULE`] is the same rule
//! in one paragraph, printed under every comparison.

use serde::{Deserialize, Serialize};

/// Latency changes below this many microseconds are never a regression or an improvement.
pub const LATENCY_FLOOR_US: f64 = 20.0;

/// The rule, one paragraph, as printed under every comparison.
pub const RULE: &str = "Rule: a metric regressed only if its new median is worse than the baseline median by more \
than the tolerance AND every new repeat lies outside the baseline's [min, max] over its repeats widened by the \
tolerance (single runs: the tolerance alone); improvements likewise. Latency changes under 20 µs are ignored. \
Error rate tolerance is absolute (percentage points). In brackets: a single run's 95 % sampling \
interval of a latency percentile, shown and not judged.";

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
    let range = |xs: &[f64]| {
        xs.iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                (lo.min(x), hi.max(x))
            })
    };
    let (bmin, bmax) = range(base);
    let (nmin, nmax) = range(new);
    let widen = |lo: f64, hi: f64| match slack {
        Slack::Relative(t) => (lo * (1.0 - t), hi * (1.0 + t)),
        Slack::Absolute(a) => (lo - a, hi + a),
    };
    // Beyond the tolerance measured from the median...
    let (tol_lo, tol_hi) = widen(b, b);
    // ...and outside the observed noise widened by the tolerance.
    let band = widen(bmin, bmax);
    let verdict = if (n - b).abs() < floor {
        MetricVerdict::Unchanged
    } else {
        // The new median beyond the tolerance, and the new range clear of the widened band
        // (nmin <= n <= nmax, so the median is outside it too).
        let (worse, better_) = match better {
            Better::Higher => (n < tol_lo && nmax < band.0, n > tol_hi && nmin > band.1),
            Better::Lower => (n > tol_hi && nmin > band.1, n < tol_lo && nmax < band.0),
        };
        if worse {
            MetricVerdict::Regressed
        } else if better_ {
            MetricVerdict::Improved
        } else {
            MetricVerdict::Unchanged
        }
    };
    Some(Judgement {
        base_median: b,
        new_median: n,
        base_min: bmin,
        base_max: bmax,
        new_min: nmin,
        new_max: nmax,
        band,
        verdict,
    })
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
    }

    #[test]
    fn repeats_widen_the_band_by_the_observed_spread() {
        // Median 100, but one baseline run was at 80: a new median of 85 is 15 % worse than
        // the median yet inside the noise widened by 10 % (72..), so it is not a regression.
        let j = judge(
            &[80.0, 100.0, 105.0],
            &[85.0, 84.0, 86.0],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert_eq!(j.base_median, 100.0);
        assert_eq!(j.new_median, 85.0);
        assert!((j.band.0 - 72.0).abs() < 1e-9 && (j.band.1 - 115.5).abs() < 1e-9);
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
        // Below the widened band: regression.
        let j = judge(
            &[80.0, 100.0, 105.0],
            &[70.0, 71.0, 60.0],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert_eq!(j.verdict, MetricVerdict::Regressed);
        // One new repeat inside the band (a neighbour stole the CPU from the others): noise.
        let j = judge(
            &[100.0, 100.0, 100.0],
            &[50.0, 50.0, 95.0],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
        assert_eq!((j.new_min, j.new_max), (50.0, 95.0));
        // Every new repeat beyond the band: a regression, whatever the spread.
        let j = judge(
            &[100.0, 100.0, 100.0],
            &[50.0, 60.0, 89.0],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert_eq!(j.verdict, MetricVerdict::Regressed);
        // Tail latency with one repeat spared by the scheduler (measured shape: 69, 255, 254 µs
        // against 63..71 µs, tolerance 60 %): not a regression.
        let j = judge(
            &[71.0, 66.0, 63.0],
            &[69.0, 255.0, 254.0],
            Better::Lower,
            Slack::Relative(0.6),
            LATENCY_FLOOR_US,
        )
        .unwrap();
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
