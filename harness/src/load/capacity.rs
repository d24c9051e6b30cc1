//! The capacity sink: during a ramp of the arrival rate, the highest planned rate whose
//! interval met the latency bound and the first that broke it (optionally stopping the run
//! there).

use hdrhistogram::Histogram;

/// Each stage's unit: what its planned load and achieved load are counted in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StageUnit {
    /// Closed model: concurrent workers.
    Workers,
    /// Open model, rate in operations per second.
    OpsPerSec,
    /// Open model, rate in transactions per second (`tx_per_op` transactions per operation).
    TxPerSec { tx_per_op: f64 },
}

impl StageUnit {
    /// The name results.json uses.
    pub fn as_str(self) -> &'static str {
        match self {
            StageUnit::Workers => "workers",
            StageUnit::OpsPerSec => "ops/s",
            StageUnit::TxPerSec { .. } => "tx/s",
        }
    }

    /// The factor from operations per second to this unit (1 for workers).
    pub fn per_op(self) -> f64 {
        match self {
            StageUnit::TxPerSec { tx_per_op } => tx_per_op,
            StageUnit::Workers | StageUnit::OpsPerSec => 1.0,
        }
    }
}

/// Capacity-search settings, resolved, and what the search found so far.
pub struct CapacityCheck {
    pub quantile: f64,
    pub max_ns: u64,
    pub stop_on_break: bool,
    pub label: String,
    pub unit: StageUnit,
    pub max_rate_met: Option<f64>,
    pub first_rate_broken: Option<f64>,
}

impl CapacityCheck {
    /// Judges one steady open-model interval at `planned` load. Returns true when the run
    /// should stop (the bound broke and `stop_on_break` is set).
    pub fn observe(&mut self, planned: f64, hist: &Histogram<u64>) -> bool {
        if self.first_rate_broken.is_some() {
            return false;
        }
        if hist.value_at_quantile(self.quantile) <= self.max_ns {
            self.max_rate_met = Some(self.max_rate_met.map_or(planned, |m| m.max(planned)));
            false
        } else {
            self.first_rate_broken = Some(planned);
            self.stop_on_break
        }
    }
}

/// A capacity-search probe's early end: a probe that is clearly bad (its percentile over ten
/// times the limit, or its error rate over the limit, or nothing completing while operations
/// were due) for three seconds after settling ends there. Waiting out the rest of a 20 s
/// probe at a rate the target cannot serve would only grow the queue the next probe inherits.
pub struct ProbeWatch {
    pub quantile: f64,
    pub max_ns: u64,
    pub max_error_rate: Option<f64>,
    /// How long a probe must be clearly bad to end early, seconds.
    pub end_after_s: f64,
    /// Seconds clearly bad in a row so far.
    pub bad_s: f64,
    pub ended_early: bool,
}

/// How many times the limit a percentile must be to be "clearly" bad.
const CLEARLY_BAD: u64 = 10;

impl ProbeWatch {
    /// Judges one settled interval of `dur_s` seconds in which `due` operations were planned
    /// and `error_rate` of what completed failed (the rate the probe is judged by). Returns
    /// true when the probe should end now.
    pub fn observe(
        &mut self,
        dur_s: f64,
        due: f64,
        hist: &Histogram<u64>,
        error_rate: f64,
    ) -> bool {
        let ops = hist.len();
        let clearly_bad = if ops == 0 {
            // A stall: ten operations were due and none completed.
            due >= 10.0
        } else {
            let slow = hist.value_at_quantile(self.quantile) > self.max_ns * CLEARLY_BAD;
            let failing = self.max_error_rate.is_some_and(|max| error_rate > max);
            slow || failing
        };
        self.bad_s = if clearly_bad { self.bad_s + dur_s } else { 0.0 };
        if self.bad_s >= self.end_after_s - 1e-9 {
            self.ended_early = true;
        }
        self.ended_early
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(value_ns: u64, n: u64) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        h.record_n(value_ns, n).unwrap();
        h
    }

    fn watch() -> ProbeWatch {
        ProbeWatch {
            quantile: 0.99,
            max_ns: 5_000_000,
            max_error_rate: Some(0.01),
            end_after_s: 3.0,
            bad_s: 0.0,
            ended_early: false,
        }
    }

    #[test]
    fn three_clearly_bad_seconds_in_a_row_end_a_probe() {
        let mut w = watch();
        assert!(!w.observe(1.0, 100.0, &hist(60_000_000, 100), 0.0));
        assert!(!w.observe(1.0, 100.0, &hist(60_000_000, 100), 0.0));
        // Merely over the limit (not 10x) breaks the run of clearly bad seconds.
        assert!(!w.observe(1.0, 100.0, &hist(20_000_000, 100), 0.0));
        assert!(!w.observe(1.0, 100.0, &hist(60_000_000, 100), 0.0));
        assert!(!w.observe(1.0, 100.0, &hist(1_000, 100), 0.5)); // errors over 1 %
        assert!(w.observe(1.0, 100.0, &hist(1_000, 0), 0.0)); // a stall
        assert!(w.ended_early);
    }

    #[test]
    fn a_quiet_interval_at_a_low_rate_is_not_a_stall() {
        let mut w = watch();
        for _ in 0..5 {
            assert!(!w.observe(1.0, 2.0, &hist(1_000, 0), 0.0));
        }
    }
}
