//! Timer precision: asked to wait 10 µs ... 10 ms, how much longer each way of waiting the
//! harness uses really takes.
//!
//! Why: an open-model schedule is only as precise as the wait before each operation. The
//! in-process workers wait with `precise_sleep` (a kernel sleep with 1 ns timer slack, the last
//! 15 µs spun); the HTTP driver's leader waits on a timerfd rounded up to the pacer's 250 µs
//! quantum, and its followers (and the leader off Linux) on tokio's timer, which rounds up to a
//! whole millisecond. Each is measured as the runs call it, on a thread of its own whose timer
//! slack is cut like a worker's. The pacer and tokio waits are each driven by one `block_on`
//! of a current-thread runtime, as a generator thread drives them (entering the runtime per
//! wait adds about a microsecond, well under the figures it sits in).

use super::record::TimerFigures;
use crate::drivers::http_native::pacer::Pacer;
use crate::load::histogram::new_histogram;
use crate::load::worker::{coarsened, precise_sleep, tighten_timer_slack};
use crate::targets::http::current_thread_rt;
use anyhow::{Context, Result};
use std::time::{Duration, Instant};

/// The waits asked for: the span of lags a latency criterion cares about.
pub const REQUESTED: [Duration; 4] = [
    Duration::from_micros(10),
    Duration::from_micros(100),
    Duration::from_millis(1),
    Duration::from_millis(10),
];

/// How long each (kind, requested wait) may sample, and how many samples at most.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub per_size: Duration,
    pub max_samples: u64,
}

/// Samples at least this many waits of every size, whatever the budget (20 waits of 10 ms
/// are 0.2 s): fewer would make p99 the maximum of a handful.
const MIN_SAMPLES: u64 = 20;

/// Measures every kind of wait at every requested length. `coarse` rounds each wait up to
/// whole quanta first, as `Shared::coarse_timer` does for a run's workers (tests only).
pub fn measure(budget: Budget, coarse: Option<Duration>) -> Result<Vec<TimerFigures>> {
    std::thread::Builder::new()
        .name("calibrate-timers".into())
        .spawn(move || on_this_thread(budget, coarse))
        .context("spawning the timer thread")?
        .join()
        .map_err(|_| anyhow::anyhow!("the timer measurement panicked"))?
}

fn on_this_thread(budget: Budget, coarse: Option<Duration>) -> Result<Vec<TimerFigures>> {
    tighten_timer_slack();
    let mut out = Vec::new();
    for d in REQUESTED {
        out.push(sample("thread", d, budget, |d| {
            precise_sleep(coarsened(d, coarse))
        }));
    }
    let rt = current_thread_rt()?;
    // The pacer's timerfd registers with the runtime it is created in.
    let pacer = {
        let _inside = rt.enter();
        Pacer::new()
    };
    for d in REQUESTED {
        out.push(sample("pacer", d, budget, |d| {
            rt.block_on(pacer.wait(coarsened(d, coarse), true));
        }));
    }
    for d in REQUESTED {
        out.push(sample("tokio", d, budget, |d| {
            // Created inside the runtime: a tokio sleep registers with its timer when made.
            rt.block_on(async { tokio::time::sleep(coarsened(d, coarse)).await });
        }));
    }
    Ok(out)
}

/// Waits `d` with `wait` until the budget's time or count runs out (at least
/// [`MIN_SAMPLES`] times); the overshoot's p50, p99 and maximum.
fn sample(kind: &str, d: Duration, budget: Budget, mut wait: impl FnMut(Duration)) -> TimerFigures {
    let mut h = new_histogram();
    let time = budget.per_size.max(d * MIN_SAMPLES as u32);
    let start = Instant::now();
    while h.len() < budget.max_samples.max(MIN_SAMPLES)
        && (h.len() < MIN_SAMPLES || start.elapsed() < time)
    {
        let t0 = Instant::now();
        wait(d);
        let over = t0.elapsed().saturating_sub(d);
        // Auto-resizing: only a value beyond u64 range fails, which a wait cannot reach.
        let _ = h.record((over.as_nanos() as u64).max(1));
    }
    let us = |ns: u64| ns as f64 / 1e3;
    TimerFigures {
        kind: kind.to_string(),
        requested_us: d.as_secs_f64() * 1e6,
        samples: h.len(),
        overshoot_p50_us: us(h.value_at_quantile(0.5)),
        overshoot_p99_us: us(h.value_at_quantile(0.99)),
        overshoot_max_us: us(h.max()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A timer coarsened to 2 ms makes every wait end on a 2 ms boundary: a 10 µs wait
    /// overshoots by ~1.99 ms at the median, whichever way of waiting. A lower bound only: a
    /// wait can never end early, so the test cannot pass by the machine being slow, and fails
    /// if the quantum did not reach the waits.
    #[test]
    fn a_coarse_timer_shows_as_about_one_quantum_more_overshoot() {
        let _spin = crate::observe::SPIN_TESTS
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let q = Duration::from_millis(2);
        let budget = Budget {
            per_size: Duration::from_millis(40),
            max_samples: 40,
        };
        let fine = measure(budget, None).unwrap();
        let coarse = measure(budget, Some(q)).unwrap();
        assert_eq!(fine.len(), 12);
        for (f, c) in fine.iter().zip(&coarse) {
            assert_eq!((&f.kind, f.requested_us), (&c.kind, c.requested_us));
            assert!(c.samples >= MIN_SAMPLES, "{c:?}");
            // 10 µs and 100 µs round up to 2 ms, 1 ms to 2 ms, 10 ms stays 10 ms.
            let rounded = coarsened(Duration::from_secs_f64(c.requested_us / 1e6), Some(q));
            let extra_us = (rounded.as_secs_f64() - c.requested_us / 1e6) * 1e6;
            assert!(
                c.overshoot_p50_us >= extra_us * 0.99,
                "{} {} µs: p50 {} µs, the quantum adds {extra_us} µs",
                c.kind,
                c.requested_us,
                c.overshoot_p50_us
            );
            assert!(f.overshoot_p50_us >= 0.0 && f.overshoot_p99_us >= f.overshoot_p50_us);
        }
        let p50 = |v: &[TimerFigures], kind: &str| {
            v.iter()
                .find(|t| t.kind == kind && t.requested_us == 10.0)
                .unwrap()
                .overshoot_p50_us
        };
        // About one quantum worse: more than 1.9 ms (asserted above per size), and not several.
        for kind in ["thread", "pacer", "tokio"] {
            let worse = p50(&coarse, kind) - p50(&fine, kind);
            assert!(worse > 900.0 && worse < 6_000.0, "{kind}: {worse} µs worse");
        }
    }
}
