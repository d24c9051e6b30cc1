//! Histogram encoding for `results.json` and the percentile distribution for charts.
//!
//! The steady-state histogram travels inside the JSON as HdrHistogram's V2 deflate format,
//! base64 (standard alphabet): the same bytes other HdrHistogram tools read, and lossless to
//! merge across segments (`harness merge`).

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use crate::{PercentilePoint, Result, ResultsError};

/// Percentiles (0..=100) reported in the distribution, log-spaced towards the tail as
/// HdrHistogram's percentile output is: each "nine" gets the same number of points.
pub const PERCENTILE_LADDER: &[f64] = &[
    0.0, 10.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 70.0, 75.0, 80.0, 85.0, 90.0, 92.5, 95.0,
    96.875, 97.5, 98.4375, 99.0, 99.25, 99.5, 99.75, 99.9, 99.925, 99.95, 99.975, 99.99, 99.9925,
    99.995, 99.9975, 99.999, 99.99925, 99.9995, 99.99975, 99.9999, 100.0,
];

/// Encode as HdrHistogram V2 deflate, then base64 (standard alphabet).
pub fn encode_histogram(h: &Histogram<u64>) -> Result<String> {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .map_err(|e| ResultsError::HistogramEncode(format!("{e:?}")))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(buf))
}

/// Decode what [`encode_histogram`] wrote (also accepts uncompressed V2).
pub fn decode_histogram(s: &str) -> Result<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s.trim())?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| ResultsError::HistogramDecode(format!("{e:?}")))
}

/// The latency distribution (µs) at [`PERCENTILE_LADDER`] points, stopping where the sample
/// count can no longer resolve the tail (a percentile p needs about 1/(1-p) samples), then
/// always ending with 100 (the maximum). Empty histogram: no points.
pub fn percentile_points(h: &Histogram<u64>) -> Vec<PercentilePoint> {
    if h.is_empty() {
        return Vec::new();
    }
    let n = h.len() as f64;
    let mut out: Vec<PercentilePoint> = PERCENTILE_LADDER
        .iter()
        .copied()
        .filter(|&p| p < 100.0 && 1.0 / (1.0 - p / 100.0) <= n.max(1.0))
        .map(|p| PercentilePoint {
            percentile: p,
            latency_us: value_at_percentile(h, p),
        })
        .collect();
    out.push(PercentilePoint {
        percentile: 100.0,
        latency_us: h.max() as f64 / 1_000.0,
    });
    out
}

fn value_at_percentile(h: &Histogram<u64>, p: f64) -> f64 {
    let ns = if p <= 0.0 {
        h.min()
    } else {
        h.value_at_quantile(p / 100.0)
    };
    ns as f64 / 1_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_hist() -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for i in 0..100_000u64 {
            h.record(20_000 + (i % 997) * 131).unwrap();
        }
        h.record(50_000_000).unwrap();
        h
    }

    #[test]
    fn encode_decode_round_trip_is_lossless() {
        let h = sample_hist();
        let s = encode_histogram(&h).unwrap();
        let back = decode_histogram(&s).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.len(), h.len());
        assert_eq!(back.max(), h.max());
    }

    #[test]
    fn decode_rejects_garbage() {
        assert!(matches!(
            decode_histogram("not base64!"),
            Err(ResultsError::HistogramBase64(_))
        ));
        assert!(matches!(
            decode_histogram("aGVsbG8gd29ybGQ="),
            Err(ResultsError::HistogramDecode(_))
        ));
    }

    #[test]
    fn ladder_is_increasing_and_points_monotone() {
        assert!(PERCENTILE_LADDER.windows(2).all(|w| w[0] < w[1]));
        let pts = percentile_points(&sample_hist());
        assert!(pts.windows(2).all(|w| w[0].latency_us <= w[1].latency_us));
        assert_eq!(pts.first().unwrap().percentile, 0.0);
        let last = pts.last().unwrap();
        assert_eq!(last.percentile, 100.0);
        assert!((last.latency_us - 50_000.0).abs() < 50.0);
        // 100 001 samples resolve 99.999 but not 99.9999.
        assert!(pts.iter().any(|p| p.percentile == 99.999));
        assert!(!pts.iter().any(|p| p.percentile == 99.9999));
        assert!(percentile_points(&Histogram::<u64>::new(3).unwrap()).is_empty());
    }
}
