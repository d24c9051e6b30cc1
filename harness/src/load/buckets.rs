//! The live metrics' fixed latency buckets: one log-linear layout ([`BOUNDS_NS`]: ten buckets
//! a decade, the R10 series, from 1 µs to 60 s) for every histogram the harness exposes, and
//! the per-bucket counts ([`Buckets`]) that the collector adds slice by slice and workers fill
//! value by value for per-template series.
//!
//! A module of its own because both sides use it, and the worker (whose shipments the live
//! totals read) must not depend on the live totals. The layout is fine enough that
//! `histogram_quantile(0.99, ...)` over a run lands in the same bucket as results.json's p99
//! (below 10 s a bucket spans at most 28 % of its lower bound).

use hdrhistogram::Histogram;

/// Bucket upper bounds, nanoseconds: 1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8 (R10) times
/// each power of ten from 1 µs to 1 s, then 10, 20, 30, 60 s. The +Inf bucket follows. Integers,
/// so a value's bucket is exact and each bound prints as its decimal ("0.00125").
pub const BOUNDS_NS: [u64; 74] = bounds();

const fn bounds() -> [u64; 74] {
    const R10: [u64; 10] = [1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000];
    let mut out = [0; 74];
    let mut decade = 0;
    let mut scale = 1;
    while decade < 7 {
        let mut i = 0;
        while i < 10 {
            out[decade * 10 + i] = R10[i] * scale;
            i += 1;
        }
        scale *= 10;
        decade += 1;
    }
    out[70] = 10_000_000_000;
    out[71] = 20_000_000_000;
    out[72] = 30_000_000_000;
    out[73] = 60_000_000_000;
    out
}

/// [`BOUNDS_NS`] in seconds, as the exposition prints them.
pub fn bounds_s() -> Vec<f64> {
    BOUNDS_NS.iter().map(|&ns| ns as f64 / 1e9).collect()
}

/// The bucket of a value of `ns` nanoseconds: the first bound at or above it (the last index
/// for values past 60 s).
#[inline]
pub fn index(ns: u64) -> usize {
    BOUNDS_NS.partition_point(|&b| b < ns)
}

/// Counts per bucket (not cumulative), the last for values past 60 s, and the sum in seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Buckets {
    pub counts: [u64; BOUNDS_NS.len() + 1],
    pub sum_s: f64,
}

impl Buckets {
    /// An HDR histogram of nanoseconds in these buckets: each recorded value (its HDR bucket's
    /// highest equivalent, as the percentiles use) goes to the first bound at or above it.
    pub fn of(h: &Histogram<u64>) -> Buckets {
        let mut counts = [0; BOUNDS_NS.len() + 1];
        for v in h.iter_recorded() {
            counts[index(v.value_iterated_to())] += v.count_at_value();
        }
        Buckets {
            counts,
            sum_s: h.mean() * h.len() as f64 / 1e9,
        }
    }

    /// Adds a histogram's buckets: the same counts as bucketing the merged histogram, since
    /// every slice's histogram has the same HDR buckets.
    pub fn add_histogram(&mut self, h: &Histogram<u64>) {
        self.add(&Buckets::of(h));
    }

    /// Adds another set of counts.
    pub fn add(&mut self, b: &Buckets) {
        for (a, n) in self.counts.iter_mut().zip(b.counts) {
            *a += n;
        }
        self.sum_s += b.sum_s;
    }

    /// Records one value of `ns` nanoseconds as `like` records it: in its HDR bucket's highest
    /// equivalent value, so these counts equal [`Buckets::of`] a histogram holding the same
    /// values (the per-template series add up to the stage's, bucket by bucket).
    #[inline]
    pub fn record(&mut self, ns: u64, like: &Histogram<u64>) {
        self.counts[index(like.highest_equivalent(ns))] += 1;
        self.sum_s += ns as f64 / 1e9;
    }
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets {
            counts: [0; BOUNDS_NS.len() + 1],
            sum_s: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::histogram::new_histogram;

    #[test]
    fn bounds_rise_from_a_microsecond_to_a_minute() {
        let s = bounds_s();
        assert_eq!(
            (s[0], s[30], s[31], s[70], s[73]),
            (1e-6, 1e-3, 0.00125, 10.0, 60.0)
        );
        assert_eq!(s[31].to_string(), "0.00125");
        // Within the R10 decades a bucket spans at most 28 % of its lower bound.
        assert!(BOUNDS_NS[..70].windows(2).all(|w| w[1] * 100 <= w[0] * 128));
    }

    #[test]
    fn values_recorded_one_by_one_bucket_as_their_histogram_does() {
        // Values on and around bounds, where an HDR bucket's highest equivalent can cross one.
        let values = [
            1,
            999,
            1_000,
            1_001,
            1_249,
            1_250,
            1_251,
            999_999,
            1_000_000,
            1_000_500,
            1_250_100,
            8_000_000_001,
            59_999_999_999,
            61_000_000_000,
        ];
        let mut h = new_histogram();
        let mut one_by_one = Buckets::default();
        for ns in values {
            let _ = h.record(ns);
            one_by_one.record(ns, &h);
        }
        assert_eq!(one_by_one.counts, Buckets::of(&h).counts);
        assert_eq!(one_by_one.counts.iter().sum::<u64>(), values.len() as u64);
        // 59.999... s is past 60 s once in its HDR bucket (as the percentiles read it): +Inf.
        assert_eq!(one_by_one.counts[BOUNDS_NS.len()], 2);
    }
}
