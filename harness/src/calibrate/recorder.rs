//! The recorder's own cost: what recording one latency, and reading the clock for it, costs.
//!
//! Why: every operation the harness times reads the clock twice and records one value into an
//! HDR histogram; at millions of operations per second that is the generator's own overhead,
//! and a latency figure of the same order is partly the harness. Recorded as the workers record
//! (`load::histogram::new_histogram`, `record(ns.max(1))`), over values spread like latencies
//! (1 µs to ~16 ms, from a fixed pseudo-random sequence), so the histogram's buckets are
//! touched as in a run rather than one hot counter.

use super::record::Recorder;
use crate::load::histogram::new_histogram;
use std::hint::black_box;
use std::time::Instant;

/// Records `n` values; the mean cost per value, nanoseconds.
pub fn record_cost(n: u64) -> Recorder {
    let mut h = new_histogram();
    // xorshift64: cheap next to a record, and the same sequence every time.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        1_000 + (x & ((1 << 24) - 1))
    };
    // One pass to size the histogram as a run's second interval would find it.
    for _ in 0..1_000 {
        let _ = h.record(next());
    }
    let start = Instant::now();
    for _ in 0..n {
        // Auto-resizing: only a value beyond u64 range fails.
        let _ = h.record(black_box(next()).max(1));
    }
    let ns = start.elapsed().as_nanos() as f64;
    black_box(&h);
    Recorder {
        values: n,
        ns_per_value: ns / n.max(1) as f64,
    }
}

/// The mean cost of one `Instant::now()` over `n` reads, nanoseconds.
pub fn clock_read_ns(n: u64) -> f64 {
    let start = Instant::now();
    let mut last = start;
    for _ in 0..n {
        last = black_box(Instant::now());
    }
    last.duration_since(start).as_nanos() as f64 / n.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_counted_per_value() {
        let r = record_cost(10_000);
        assert_eq!(r.values, 10_000);
        assert!(r.ns_per_value > 0.0);
        assert!(clock_read_ns(1_000) > 0.0);
    }
}
