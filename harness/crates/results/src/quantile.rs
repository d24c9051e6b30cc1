//! How sure a percentile is: a 95 % distribution-free interval from the order statistics.
//!
//! A p99 read from n samples is the sample at rank ⌈0.99·n⌉. Which rank the true p99 falls at is
//! binomial(n, q), so the samples at ranks n·q ∓ 1.96·√(n·q·(1−q)) bracket the true percentile
//! with ~95 % probability whatever the latency distribution is (the normal approximation to the
//! binomial; Conover, *Practical Nonparametric Statistics*, §3.2). The bounds are read from the
//! same HDR histogram as the percentile itself, so they carry the histogram's precision and
//! nothing else.
//!
//! It is a *sampling* interval: it assumes independent samples. Latencies under a stall are
//! correlated (one 2 s stall delays every request queued behind it), so the interval says how
//! much the figure would move from sampling alone, not from the run's own bad luck.
//!
//! Below 10 expected samples above the percentile (n·(1−q) < 10: a p99 from fewer than 1,000
//! samples, a p99.9 from fewer than 10,000) the normal approximation does not hold and the
//! upper rank runs past the largest sample: such a percentile is reported as "insufficient
//! samples", not as a number ([`Quantile::is_sufficient`] is that one rule).

use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The normal quantile for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// Expected samples above a percentile below which it is not reported.
const MIN_TAIL_SAMPLES: f64 = 10.0;

/// One of the percentiles every summary reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantile {
    P50,
    P90,
    P99,
    P999,
}

impl Quantile {
    /// Every reported percentile, in increasing order.
    pub const ALL: [Quantile; 4] = [Quantile::P50, Quantile::P90, Quantile::P99, Quantile::P999];

    /// The quantile as a fraction (0.99).
    pub fn q(self) -> f64 {
        match self {
            Quantile::P50 => 0.50,
            Quantile::P90 => 0.90,
            Quantile::P99 => 0.99,
            Quantile::P999 => 0.999,
        }
    }

    /// How reports name it: "p99.9".
    pub fn label(self) -> &'static str {
        match self {
            Quantile::P50 => "p50",
            Quantile::P90 => "p90",
            Quantile::P99 => "p99",
            Quantile::P999 => "p99.9",
        }
    }

    /// Whether `n` samples are enough to report this percentile: at least 10 expected above
    /// it. Computed in integers (n·(1−q) ≥ 10 ⇔ n·(1000 − 1000·q) ≥ 10,000) so that exactly
    /// 1,000 samples are enough for a p99, which 1000 × (1 − 0.99) in floating point is not.
    pub fn is_sufficient(self, n: u64) -> bool {
        sufficient_at(self.q(), n)
    }

    /// The 1-based ranks among `n` sorted samples whose values bound the 95 % interval:
    /// ⌊n·q − z·s⌋ and ⌈n·q + z·s⌉ with s = √(n·q·(1−q)), kept within 1..=n.
    pub fn ranks(self, n: u64) -> (u64, u64) {
        ranks_at(self.q(), n)
    }
}

/// A 95 % sampling interval, microseconds.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, JsonSchema)]
pub struct Bounds {
    pub lo: f64,
    pub hi: f64,
}

impl Bounds {
    /// Whether the interval lies wholly on one side of `limit`, i.e. a comparison with it is
    /// not down to sampling: `hi <= limit` or `lo > limit`.
    pub fn decides(&self, limit: f64) -> bool {
        self.hi <= limit || self.lo > limit
    }
}

/// The 95 % sampling interval of each reported percentile; `None` where there were too few
/// samples to report it ([`Quantile::is_sufficient`]).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Default, JsonSchema)]
pub struct PercentileIntervals {
    pub p50: Option<Bounds>,
    pub p90: Option<Bounds>,
    pub p99: Option<Bounds>,
    pub p999: Option<Bounds>,
}

impl PercentileIntervals {
    /// The interval of one percentile.
    pub fn get(&self, q: Quantile) -> Option<Bounds> {
        match q {
            Quantile::P50 => self.p50,
            Quantile::P90 => self.p90,
            Quantile::P99 => self.p99,
            Quantile::P999 => self.p999,
        }
    }

    /// Every interval of a histogram recorded in nanoseconds, in microseconds. One pass over
    /// the histogram's buckets for all eight ranks (a 1 s interval's histogram is summarised
    /// once per interval; a 30-minute run has 1,800 of them).
    pub fn from_histogram(h: &Histogram<u64>) -> PercentileIntervals {
        let n = h.len();
        let mut wanted: Vec<u64> = Quantile::ALL
            .iter()
            .flat_map(|q| {
                let (lo, hi) = q.ranks(n);
                [lo, hi]
            })
            .collect();
        wanted.sort_unstable();
        let values = values_at_ranks(h, &wanted);
        let at = |rank: u64| {
            let i = wanted.partition_point(|&r| r < rank);
            values[i] as f64 / 1_000.0
        };
        let bounds = |q: Quantile| {
            q.is_sufficient(n).then(|| {
                let (lo, hi) = q.ranks(n);
                Bounds {
                    lo: at(lo),
                    hi: at(hi),
                }
            })
        };
        PercentileIntervals {
            p50: bounds(Quantile::P50),
            p90: bounds(Quantile::P90),
            p99: bounds(Quantile::P99),
            p999: bounds(Quantile::P999),
        }
    }
}

/// [`Quantile::is_sufficient`] for any quantile `q` in (0, 1): in parts per million, so a
/// p99.95 is exact too (and exactly 1,000 samples suffice for a p99).
fn sufficient_at(q: f64, n: u64) -> bool {
    let ppm_above = 1_000_000 - (q * 1_000_000.0).round() as u64;
    n.saturating_mul(ppm_above) >= (MIN_TAIL_SAMPLES as u64) * 1_000_000
}

/// [`Quantile::ranks`] for any quantile `q` in (0, 1).
fn ranks_at(q: f64, n: u64) -> (u64, u64) {
    let nf = n as f64;
    let half = Z95 * (nf * q * (1.0 - q)).sqrt();
    let lo = (nf * q - half).floor().max(1.0) as u64;
    let hi = (nf * q + half).ceil().min(nf) as u64;
    (lo.min(n), hi.max(lo.min(n)))
}

/// The 95 % interval of any quantile `q` in (0, 1) of a histogram recorded in nanoseconds, in
/// microseconds, by the same rule as the reported percentiles' (a capacity search judges
/// whatever percentile its SLO names); `None` when the samples do not suffice.
pub fn interval_at(h: &Histogram<u64>, q: f64) -> Option<Bounds> {
    let n = h.len();
    if !sufficient_at(q, n) {
        return None;
    }
    let (lo, hi) = ranks_at(q, n);
    let values = values_at_ranks(h, &[lo, hi]);
    Some(Bounds {
        lo: values[0] as f64 / 1_000.0,
        hi: values[1] as f64 / 1_000.0,
    })
}

/// The value at each 1-based rank of `ranks` (sorted), as `value_at_quantile` reports values:
/// the highest value equivalent to the bucket the rank falls in.
fn values_at_ranks(h: &Histogram<u64>, ranks: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(ranks.len());
    let mut seen = 0u64;
    let mut next = ranks.iter().peekable();
    for v in h.iter_recorded() {
        seen += v.count_since_last_iteration();
        while let Some(&&r) = next.peek() {
            if r > seen {
                break;
            }
            out.push(v.value_iterated_to());
            next.next();
        }
    }
    // Ranks past the last sample (none, since ranks stay within 1..=n) read the maximum.
    out.resize(ranks.len(), h.max());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_for_too_few_samples() {
        assert!(!Quantile::P99.is_sufficient(999));
        assert!(Quantile::P99.is_sufficient(1_000));
        assert!(!Quantile::P999.is_sufficient(9_999));
        assert!(Quantile::P999.is_sufficient(10_000));
        assert!(Quantile::P50.is_sufficient(20));
        assert!(!Quantile::P50.is_sufficient(19));
        assert!(!Quantile::P90.is_sufficient(0));
    }

    #[test]
    fn ranks_as_the_formula_gives_them() {
        // n = 1,000, q = 0.99: 990 ∓ 1.96·√9.9 = 990 ∓ 6.17.
        assert_eq!(Quantile::P99.ranks(1_000), (983, 997));
        // n = 10,000, q = 0.5: 5,000 ∓ 98.
        assert_eq!(Quantile::P50.ranks(10_000), (4_902, 5_098));
        // Kept within the samples.
        assert_eq!(Quantile::P999.ranks(10), (9, 10));
        assert_eq!(Quantile::P50.ranks(1), (1, 1));
        assert_eq!(Quantile::P50.ranks(0), (0, 0));
    }

    #[test]
    fn any_quantile_has_the_reported_percentiles_interval() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for v in 1..=20_000u64 {
            h.record(v * 1_000).unwrap();
        }
        let all = PercentileIntervals::from_histogram(&h);
        assert_eq!(interval_at(&h, 0.99), all.p99);
        assert_eq!(interval_at(&h, 0.999), all.p999);
        let p95 = interval_at(&h, 0.95).expect("20,000 samples suffice");
        assert!(p95.lo < 19_000.0 && p95.hi > 19_000.0, "{p95:?}");
        // 9,999 samples: 9.999 expected above a p99.9, fewer than the 10 the rule asks.
        h.reset();
        for v in 1..=9_999u64 {
            h.record(v).unwrap();
        }
        assert_eq!(interval_at(&h, 0.999), None);
        assert!(interval_at(&h, 0.99).is_some());
    }

    #[test]
    fn decides_only_when_the_limit_is_outside() {
        let b = Bounds { lo: 4.0, hi: 6.0 };
        assert!(b.decides(6.0), "hi at the limit: the limit holds");
        assert!(b.decides(3.9));
        assert!(!b.decides(4.0));
        assert!(!b.decides(5.0));
    }
}
