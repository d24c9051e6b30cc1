//! [`Acc`]: counters plus a histogram, what any slice of a run (an interval, a stage, the steady
//! state, the whole run) adds up to. Workers' shipments are added in; figures are read out.

use crate::load::errors::ErrorKind;
use crate::load::worker::{new_histogram, Shipment};
use hdrhistogram::Histogram;
use results::Percentiles;
use std::collections::BTreeMap;

/// Counters plus a histogram: what any slice of the run adds up to.
pub struct Acc {
    pub hist: Histogram<u64>,
    pub ops: u64,
    pub failed_ops: u64,
    pub submitted_tx: u64,
    pub committed_tx: u64,
    pub errors: [u64; ErrorKind::COUNT],
}

impl Default for Acc {
    fn default() -> Self {
        Acc {
            hist: new_histogram(),
            ops: 0,
            failed_ops: 0,
            submitted_tx: 0,
            committed_tx: 0,
            errors: [0; ErrorKind::COUNT],
        }
    }
}

impl Acc {
    pub fn add(&mut self, s: &Shipment) {
        // Both histograms auto-resize, so adding cannot fail for range reasons.
        let _ = self.hist.add(&s.hist);
        self.ops += s.ops;
        self.failed_ops += s.failed_ops;
        self.submitted_tx += s.submitted_tx;
        self.committed_tx += s.committed_tx;
        for (a, b) in self.errors.iter_mut().zip(&s.errors) {
            *a += b;
        }
    }

    pub fn errors_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    pub fn errors_by_kind(&self) -> BTreeMap<String, u64> {
        ErrorKind::ALL
            .iter()
            .zip(&self.errors)
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (k.as_str().to_string(), *n))
            .collect()
    }

    /// Errors relative to what they are counted against: transactions for in-process runs
    /// (each rejected transfer is an error), operations otherwise (each failed request).
    pub fn error_rate(&self, per_tx: bool) -> f64 {
        let base = if per_tx { self.submitted_tx } else { self.ops };
        if base == 0 {
            0.0
        } else {
            self.errors_total() as f64 / base as f64
        }
    }

    pub fn percentiles(&self) -> Percentiles {
        Percentiles::from_histogram(&self.hist)
    }
}
