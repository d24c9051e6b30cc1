//! The percentile sampling intervals, checked against brute force: the bounds read from the
//! HDR histogram are the sorted samples at the order-statistic ranks (to the histogram's
//! precision), and over many runs the interval covers the true percentile ~95 % of the time.

use hdrhistogram::Histogram;
use proptest::prelude::*;
use results::{Percentiles, Quantile};

fn histogram(samples: &[u64]) -> Histogram<u64> {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
    for &s in samples {
        h.record(s).unwrap();
    }
    h
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Each bound is the sorted samples' value at its rank, as the histogram stores it, and the
    /// point figure lies inside its interval.
    #[test]
    fn bounds_are_the_order_statistics(
        samples in prop::collection::vec(1u64..5_000_000_000, 1..3_000),
    ) {
        let h = histogram(&samples);
        let p = Percentiles::from_histogram(&h);
        let mut sorted = samples.clone();
        sorted.sort_unstable();
        let n = sorted.len() as u64;
        for q in Quantile::ALL {
            let Some(b) = p.interval(q) else {
                prop_assert!(!q.is_sufficient(n), "{} missing with n = {n}", q.label());
                continue;
            };
            prop_assert!(q.is_sufficient(n));
            let (lo, hi) = q.ranks(n);
            let at = |rank: u64| h.highest_equivalent(sorted[rank as usize - 1]) as f64 / 1e3;
            prop_assert_eq!(b.lo, at(lo), "{} lower bound, rank {} of {}", q.label(), lo, n);
            prop_assert_eq!(b.hi, at(hi), "{} upper bound, rank {} of {}", q.label(), hi, n);
            let v = p.value(q);
            prop_assert!(b.lo <= v && v <= b.hi, "{} {v} outside {b:?}", q.label());
        }
    }
}

/// Exponential samples with mean 1 ms: the true p99 is ln(100) ms. Of 400 runs of 2,000
/// samples each, the 95 % interval must cover it in 90-99 % of them (binomial spread at 400
/// runs is ±1.1 %; an interval of ±1 standard error instead of ±1.96 would cover ~68 %).
#[test]
fn the_interval_covers_the_true_percentile_about_95_percent_of_the_time() {
    let mut rng = fastrand::Rng::with_seed(17);
    let truth_us = 100f64.ln() * 1_000.0;
    let runs = 400;
    let mut covered = 0;
    for _ in 0..runs {
        let samples: Vec<u64> = (0..2_000)
            .map(|_| (-(1.0 - rng.f64()).ln() * 1e6).max(1.0) as u64)
            .collect();
        let b = Percentiles::from_histogram(&histogram(&samples))
            .interval(Quantile::P99)
            .expect("2,000 samples suffice for a p99");
        if b.lo <= truth_us && truth_us <= b.hi {
            covered += 1;
        }
    }
    let share = covered as f64 / runs as f64;
    eprintln!("p99 95 % interval covered the true p99 in {covered} of {runs} runs");
    assert!((0.90..=0.99).contains(&share), "coverage {share}");
}

/// "insufficient samples": a p99 from 999 samples has no interval, from 1,000 it has one.
#[test]
fn too_few_samples_give_no_interval() {
    let few: Vec<u64> = (1..=999).map(|v| v * 1_000).collect();
    let p = Percentiles::from_histogram(&histogram(&few));
    assert!(p.interval(Quantile::P99).is_none());
    assert!(p.interval(Quantile::P90).is_some());
    assert!(!p.is_sufficient(Quantile::P99));
    let enough: Vec<u64> = (1..=1_000).map(|v| v * 1_000).collect();
    let p = Percentiles::from_histogram(&histogram(&enough));
    let b = p.interval(Quantile::P99).unwrap();
    // Ranks 983 and 997 of 1..=1000 µs, to the histogram's three significant digits.
    assert!(
        (b.lo - 983.0).abs() < 0.5 && (b.hi - 997.0).abs() < 0.5,
        "{b:?}"
    );
    assert!(p.interval(Quantile::P999).is_none());
}
