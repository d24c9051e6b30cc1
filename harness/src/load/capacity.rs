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
