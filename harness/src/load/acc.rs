//! [`Acc`]: counters plus a histogram, what any slice of a run (an interval, a stage, the steady
//! state, the whole run, one request template) adds up to. Workers' shipments (and template
//! tallies) are added in; figures are read out.

use crate::load::counts::Counts;
use crate::load::histogram::new_histogram;
use crate::load::shipment::Shipment;
use crate::load::templates::TemplateTally;
use hdrhistogram::Histogram;
use results::Percentiles;

/// Counters plus a histogram: what any slice of the run adds up to.
pub struct Acc {
    /// Successful operations' latency; the failed ones' apart; open-model dispatch lag.
    pub hist: Histogram<u64>,
    pub hist_failed: Histogram<u64>,
    pub lag: Histogram<u64>,
    /// New connections' connect and TLS handshake times (HTTP only).
    pub connect: Histogram<u64>,
    pub tls_handshake: Histogram<u64>,
    pub counts: Counts,
    /// A request template's failures by check (template tallies only).
    pub checks: Vec<u64>,
}

impl Default for Acc {
    fn default() -> Self {
        Acc {
            hist: new_histogram(),
            hist_failed: new_histogram(),
            lag: new_histogram(),
            connect: new_histogram(),
            tls_handshake: new_histogram(),
            counts: Counts::default(),
            checks: Vec::new(),
        }
    }
}

impl Acc {
    pub fn add(&mut self, s: &Shipment) {
        // Both histograms auto-resize, so adding cannot fail for range reasons.
        let _ = self.hist.add(&s.hist);
        let _ = self.hist_failed.add(&s.hist_failed);
        let _ = self.lag.add(&s.lag);
        if let Some(h) = &s.connect {
            let _ = self.connect.add(h);
        }
        if let Some(h) = &s.tls_handshake {
            let _ = self.tls_handshake.add(h);
        }
        self.counts.add(&s.counts);
    }

    /// Adds a worker's tally of one request template: its counts and success latency (a
    /// template's failed-operation latency, lag and connection times are not kept apart).
    pub fn add_template(&mut self, t: &TemplateTally) {
        let _ = self.hist.add(&t.hist);
        self.counts.add(&t.counts);
        for (i, &n) in t.checks.iter().enumerate() {
            crate::load::templates::add_check(&mut self.checks, i, n);
        }
    }

    /// Dispatch lag over `late_after_ns` (to the histogram's 3 significant digits).
    pub fn late_ops(&self, late_after_ns: u64) -> u64 {
        self.lag.len() - self.lag.count_between(0, late_after_ns)
    }

    /// One interval's dispatch lag; `None` when no open-model operation was sent in it.
    pub fn interval_dispatch(&self, late_after_ns: u64) -> Option<results::IntervalDispatch> {
        let us = |ns: u64| ns as f64 / 1e3;
        (!self.lag.is_empty()).then(|| results::IntervalDispatch {
            ops: self.lag.len(),
            late_ops: self.late_ops(late_after_ns),
            lag_p99_us: us(self.lag.value_at_quantile(0.99)),
            lag_max_us: us(self.lag.max()),
        })
    }

    /// The failures counted whole, as results.json's summary holds them.
    pub fn failures(&self) -> results::Failures {
        results::Failures {
            failed_ops: self.counts.failed_ops,
            failed_tx: self.counts.failed_tx,
            op_error_rate: self.counts.op_error_rate(),
            tx_error_rate: self.counts.tx_error_rate(),
            latency_failed_us: (!self.hist_failed.is_empty())
                .then(|| Percentiles::from_histogram(&self.hist_failed)),
            // Sampled per run, not per slice: the assembler adds them (`load::answers`).
            answers: Vec::new(),
        }
    }

    /// Connect and TLS handshake percentiles, each absent when nothing was recorded.
    pub fn connections(&self) -> (Option<Percentiles>, Option<Percentiles>) {
        let of = |h: &Histogram<u64>| (!h.is_empty()).then(|| Percentiles::from_histogram(h));
        (of(&self.connect), of(&self.tls_handshake))
    }

    pub fn percentiles(&self) -> Percentiles {
        Percentiles::from_histogram(&self.hist)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::errors::{ErrorKind, OpOutcome};
    use crate::load::templates::TemplateTally;

    #[test]
    fn template_tallies_add_up_to_figures_like_any_slice() {
        let mut acc = Acc::default();
        for _ in 0..2 {
            // Two workers' tallies of one template: 3 requests each, one a 503.
            let mut t = TemplateTally::default();
            t.record(1_000, &OpOutcome::default());
            t.record(2_000, &OpOutcome::default());
            t.record(9_000, &OpOutcome::failure(ErrorKind::Status5xx, 0));
            acc.add_template(&t);
        }
        assert_eq!(
            (acc.counts.ops, acc.counts.failed_ops, acc.hist.len()),
            (6, 2, 4)
        );
        assert_eq!(acc.counts.errors_by_kind()["status_5xx"], 2);
        // No transactions carried: the rate is per request, whatever the target counts.
        assert!((acc.counts.error_rate(true) - 2.0 / 6.0).abs() < 1e-12);
        assert!(acc.percentiles().max < 3.0, "{:?}", acc.percentiles());
    }
}
