//! The RSS slope of a soak: a least-squares line through (time, RSS) after warm-up, in bytes
//! per hour.
//!
//! Why a fit and not "end minus start": a difference rests on two samples, and RSS has
//! transient peaks (a buffer grown for one burst, then returned), so one peak in the last
//! sample reads as growth; the fit weighs every sample after warm-up, and one sample of n
//! moves it by about 6/n of what it moves the difference. k6's most reported problem (grafana/k6#763, #1068, #4670) is a
//! generator whose memory grows a few MiB per hour, which only a long soak and a slope show.

/// Fewest samples, and shortest span, a slope is fitted over: below them one allocator step
/// dominates the line: a 1 MiB step inside a 10-second fit reads as 360 MiB per hour.
pub const MIN_SAMPLES: usize = 30;
pub const MIN_SPAN_S: f64 = 60.0;

/// The least-squares slope of `(t_s, rss_bytes)`, bytes per hour; `None` with fewer than
/// [`MIN_SAMPLES`] points or a span under [`MIN_SPAN_S`].
pub fn rss_slope_per_hour(points: &[(f64, u64)]) -> Option<f64> {
    let span = points.last()?.0 - points.first()?.0;
    if points.len() < MIN_SAMPLES || span < MIN_SPAN_S {
        return None;
    }
    let n = points.len() as f64;
    let mean_t = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_r = points.iter().map(|p| p.1 as f64).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for &(t, r) in points {
        let dt = t - mean_t;
        sxy += dt * (r as f64 - mean_r);
        sxx += dt * dt;
    }
    (sxx > 0.0).then(|| sxy / sxx * 3600.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_climb_is_its_rate_per_hour() {
        // 1 KiB per second is 3,686,400 bytes per hour, whatever the starting size.
        let pts: Vec<(f64, u64)> = (0..120)
            .map(|i| (i as f64, (50 << 20) + i * 1024))
            .collect();
        let s = rss_slope_per_hour(&pts).unwrap();
        assert!((s - 3_686_400.0).abs() < 1e-3, "{s}");
    }

    #[test]
    fn a_peak_in_the_last_sample_weighs_one_sample() {
        // Flat at 40 MiB, 4 MiB more in the last of 120 samples only: end minus start says
        // 4 MiB over two minutes; the fit gives that sample its share, 6(n-1)/(n(n+1)) of it.
        let pts: Vec<(f64, u64)> = (0..120u64)
            .map(|i| (i as f64, (40 << 20) + if i == 119 { 4 << 20 } else { 0 }))
            .collect();
        let s = rss_slope_per_hour(&pts).unwrap();
        let naive = (4u64 << 20) as f64 / 119.0 * 3600.0;
        assert!(
            (s / naive - 6.0 * 119.0 / (120.0 * 121.0)).abs() < 1e-9,
            "fit {s}, naive {naive}"
        );
    }

    #[test]
    fn flat_is_zero_and_short_runs_have_no_slope() {
        let flat: Vec<(f64, u64)> = (0..61).map(|i| (i as f64, 7 << 20)).collect();
        assert_eq!(rss_slope_per_hour(&flat), Some(0.0));
        assert_eq!(rss_slope_per_hour(&flat[..20]), None);
        let quick: Vec<(f64, u64)> = (0..100).map(|i| (i as f64 * 0.5, 7 << 20)).collect();
        assert_eq!(rss_slope_per_hour(&quick), None, "49.5 s is under a minute");
        assert_eq!(rss_slope_per_hour(&[]), None);
    }
}
