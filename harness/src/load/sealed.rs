//! A finished stage's accumulator kept small: its histograms in their V2 encoding until the
//! run is over.
//!
//! Why: every stage keeps full-resolution histograms of its own (its percentiles in
//! results.json), and one holding milliseconds at 3 significant digits is ~130 KiB of counts
//! (auto-resized to the largest value seen). Held live, the harness grew by a stage's worth at
//! every stage start: the one-hour soak of twelve 5-minute stages measured +2.6 MiB/h, in steps
//! at each stage start and flat within stages (after the interval records went to the spool).
//! Sealed, a finished stage takes a few KiB (runs of empty counts encode to a few bytes), the
//! allocator hands its freed counts to the next stage's, and memory no longer grows with the
//! number of stages run. A slice that arrives after its stage was sealed (a stalled worker)
//! goes into small fresh histograms, which [`unseal`] adds to the decoded ones.

use crate::load::acc::Acc;
use crate::load::histogram::new_histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;

/// A sealed stage's histograms, encoded.
pub struct Sealed {
    hists: [Vec<u8>; 5],
}

fn hists(acc: &mut Acc) -> [&mut Histogram<u64>; 5] {
    [
        &mut acc.hist,
        &mut acc.hist_failed,
        &mut acc.lag,
        &mut acc.connect,
        &mut acc.tls_handshake,
    ]
}

/// Encodes `acc`'s histograms and leaves fresh empty ones in their place (its counters stay).
/// `None`, and `acc` unchanged, when one cannot be encoded: it then stays live.
pub fn seal(acc: &mut Acc) -> Option<Sealed> {
    let mut ser = V2Serializer::new();
    let mut out: [Vec<u8>; 5] = Default::default();
    for (h, buf) in hists(acc).into_iter().zip(out.iter_mut()) {
        ser.serialize(h, buf).ok()?;
    }
    for h in hists(acc) {
        *h = new_histogram();
    }
    Some(Sealed { hists: out })
}

/// Decodes a sealed stage's histograms back into `acc`, adding what arrived since it was
/// sealed. An error names the histogram that could not be decoded (it is then missing from
/// the stage's figures, and the run says so).
pub fn unseal(acc: &mut Acc, sealed: Sealed) -> Result<(), String> {
    const NAMES: [&str; 5] = [
        "latency",
        "failed latency",
        "dispatch lag",
        "connect",
        "TLS",
    ];
    let mut de = Deserializer::new();
    for ((h, bytes), name) in hists(acc).into_iter().zip(sealed.hists).zip(NAMES) {
        let mut whole: Histogram<u64> = de
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| format!("a finished stage's {name} histogram: {e:?}"))?;
        whole.auto(true);
        whole
            .add(&*h)
            .map_err(|e| format!("a finished stage's {name} histogram: {e:?}"))?;
        *h = whole;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_keeps_every_count_and_takes_a_fraction_of_the_memory() {
        let mut acc = Acc::default();
        let mut reference = new_histogram();
        for v in (1..=200_000u64).map(|i| i * 97 % 5_000_000 + 1_000) {
            acc.hist.record(v).unwrap();
            reference.record(v).unwrap();
        }
        acc.lag.record(20_000).unwrap();
        acc.connect.record(150_000).unwrap();
        acc.counts.ops = 200_000;
        let live_bytes = acc.hist.distinct_values() * 8;

        let sealed = seal(&mut acc).unwrap();
        let encoded: usize = sealed.hists.iter().map(Vec::len).sum();
        assert!(
            encoded * 4 < live_bytes,
            "{encoded} bytes encoded against {live_bytes} live"
        );
        assert_eq!(
            (acc.hist.len(), acc.counts.ops),
            (0, 200_000),
            "counters stay"
        );
        // A late slice after the seal.
        acc.hist.record(7_000_000).unwrap();
        reference.record(7_000_000).unwrap();

        unseal(&mut acc, sealed).unwrap();
        assert!(
            acc.hist == reference,
            "every count back, the late one added"
        );
        assert_eq!((acc.lag.len(), acc.connect.len()), (1, 1));
        assert_eq!(acc.lag.max(), acc.lag.highest_equivalent(20_000));
    }

    #[test]
    fn a_broken_encoding_is_an_error_naming_the_histogram() {
        let mut acc = Acc::default();
        let mut sealed = seal(&mut acc).unwrap();
        sealed.hists[2] = vec![1, 2, 3];
        let e = unseal(&mut acc, sealed).unwrap_err();
        assert!(e.contains("dispatch lag"), "{e}");
    }
}
