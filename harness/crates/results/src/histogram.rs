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

/// Decode what [`encode_histogram`] wrote (also accepts uncompressed V2). The input may be
/// hostile (a results.json or latency.hlog handed to `harness merge`): see [`bounded_v2`].
pub fn decode_histogram(s: &str) -> Result<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s.trim())?;
    let v2 = bounded_v2(&bytes)?;
    Deserializer::new()
        .deserialize(&mut &v2[..])
        .map_err(|e| ResultsError::HistogramDecode(format!("{e:?}")))
}

/// HdrHistogram's V2 cookies (the word-size bit 0x10 set), plain and deflated.
const V2_COOKIE: u32 = 0x1c84_9313;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;
/// Cookie, payload length, normalizing offset, digits, lowest, highest, ratio.
const V2_HEADER: usize = 40;
/// Most inflated bytes one histogram may take. Ours have 3 digits; at that precision even the
/// widest range (1 ns to 2^63) has 55,296 counts of at most 9 bytes each: under 500 KiB.
const MAX_INFLATED: u64 = 4 << 20;
/// Most significant digits accepted: ours use 3. Five (hdrhistogram's limit) over the widest
/// range means 6.3M counts, 50 MB allocated per histogram before a count is read.
const MAX_DIGITS: u32 = 3;

/// The plain V2 bytes of an encoded histogram, refused before hdrhistogram allocates anything
/// when they could not be what we write: hdrhistogram sizes a buffer by the header's payload
/// length (up to 4 GiB; the `hlog` fuzz target peaked at 2,020 MB) and a counts array by its
/// range and digits. A deflated histogram is inflated here with a cap, so the payload length
/// can be checked against the bytes actually present.
fn bounded_v2(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    use std::io::Read as _;
    let bad = |why: String| ResultsError::HistogramDecode(why);
    let v2 = match be_u32(bytes, 0) {
        Some(V2_COOKIE) => std::borrow::Cow::Borrowed(bytes),
        Some(V2_COMPRESSED_COOKIE) => {
            let len = be_u32(bytes, 4).ok_or_else(|| bad("truncated header".into()))? as usize;
            let body = bytes.get(8..).unwrap_or_default();
            let body = &body[..len.min(body.len())];
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(body)
                .take(MAX_INFLATED + 1)
                .read_to_end(&mut out)
                .map_err(|e| bad(format!("inflating: {e}")))?;
            if out.len() as u64 > MAX_INFLATED {
                return Err(bad(format!("inflates past {MAX_INFLATED} bytes")));
            }
            std::borrow::Cow::Owned(out)
        }
        _ => return Err(bad("not an HdrHistogram V2 histogram".into())),
    };
    let (Some(payload), Some(digits)) = (be_u32(&v2, 4), be_u32(&v2, 12)) else {
        return Err(bad("truncated header".into()));
    };
    let present = v2.len().saturating_sub(V2_HEADER);
    if payload as usize > present {
        return Err(bad(format!(
            "header declares {payload} bytes of counts, {present} present"
        )));
    }
    if digits > MAX_DIGITS {
        return Err(bad(format!(
            "{digits} significant digits (at most {MAX_DIGITS} accepted)"
        )));
    }
    Ok(v2)
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
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

    /// A plain V2 header: payload length, digits, range; no counts follow.
    fn header(payload: u32, digits: u32, high: u64) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(V2_COOKIE.to_be_bytes());
        b.extend(payload.to_be_bytes());
        b.extend(0u32.to_be_bytes());
        b.extend(digits.to_be_bytes());
        b.extend(1u64.to_be_bytes());
        b.extend(high.to_be_bytes());
        b.extend(1.0f64.to_be_bytes());
        b
    }

    fn deflated(plain: &[u8]) -> String {
        use std::io::Write as _;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(plain).unwrap();
        let body = z.finish().unwrap();
        let mut b = V2_COMPRESSED_COOKIE.to_be_bytes().to_vec();
        b.extend((body.len() as u32).to_be_bytes());
        b.extend(body);
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    fn decode_error(s: &str) -> String {
        match decode_histogram(s) {
            Err(ResultsError::HistogramDecode(why)) => why,
            other => panic!("expected a decode error, got {other:?}"),
        }
    }

    #[test]
    fn a_header_is_checked_before_anything_is_allocated() {
        // What the `hlog` fuzz target found: 40 bytes declaring 2 GiB of counts made
        // hdrhistogram allocate them (2,020 MB peak) before reading. Both encodings refuse it.
        let huge = header(2 << 30, 3, 60_000_000_000);
        let plain = base64::engine::general_purpose::STANDARD.encode(&huge);
        assert_eq!(
            decode_error(&plain),
            "header declares 2147483648 bytes of counts, 0 present"
        );
        assert_eq!(decode_error(&deflated(&huge)), decode_error(&plain));
        // Five digits over the widest range: a 50 MB counts array for nothing.
        let wide = deflated(&header(0, 5, u64::MAX / 2));
        assert_eq!(
            decode_error(&wide),
            "5 significant digits (at most 3 accepted)"
        );
        // A deflate bomb: 8 MiB of zeros behind a valid header stops at the cap.
        let mut bomb = header(8 << 20, 3, 60_000_000_000);
        bomb.resize(bomb.len() + (8 << 20), 0);
        assert_eq!(
            decode_error(&deflated(&bomb)),
            "inflates past 4194304 bytes"
        );
    }

    #[test]
    fn our_widest_histogram_inflates_well_under_the_cap() {
        // Every count distinct and large: the most bytes our own encoding can take.
        // The load's histograms auto-resize at 3 digits: the widest range they could reach.
        let widest = Histogram::<u64>::new_with_bounds(1, u64::MAX / 2, 3).unwrap();
        assert!(
            widest.distinct_values() as u64 * 9 < MAX_INFLATED,
            "{}",
            widest.distinct_values()
        );
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for v in (1..60_000_000_000u64).step_by(2_000_000) {
            h.record_n(v, 1 << 40).unwrap();
        }
        let back = decode_histogram(&encode_histogram(&h).unwrap()).unwrap();
        assert_eq!(back, h);
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
