//! [`Acc`]: counters plus a histogram, what any slice of a run (an interval, a stage, the steady
//! state, the whole run, one request template) adds up to. Workers' shipments (and template
//! tallies) are added in; figures are read out.

use crate::load::errors::ErrorKind;
use crate::load::histogram::new_histogram;
use crate::load::shipment::Shipment;
use crate::load::templates::TemplateTally;
use hdrhistogram::Histogram;
use results::Percentiles;
use std::collections::BTreeMap;

/// Counters plus a histogram: what any slice of the run adds up to.
pub struct Acc {
    /// Successful operations' latency; the failed ones' apart; open-model dispatch lag.
    pub hist: Histogram<u64>,
    pub hist_failed: Histogram<u64>,
    pub lag: Histogram<u64>,
    /// New connections' connect and TLS handshake times (HTTP only).
    pub connect: Histogram<u64>,
    pub tls_handshake: Histogram<u64>,
    pub ops: u64,
    pub failed_ops: u64,
    pub failed_tx: u64,
    pub submitted_tx: u64,
    pub committed_tx: u64,
    pub errors: [u64; ErrorKind::COUNT],
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
            ops: 0,
            failed_ops: 0,
            failed_tx: 0,
            submitted_tx: 0,
            committed_tx: 0,
            errors: [0; ErrorKind::COUNT],
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
        self.ops += s.ops;
        self.failed_ops += s.failed_ops;
        self.failed_tx += s.failed_tx;
        self.submitted_tx += s.submitted_tx;
        self.committed_tx += s.committed_tx;
        for (a, b) in self.errors.iter_mut().zip(&s.errors) {
            *a += b;
        }
    }

    /// Adds a worker's tally of one request template: its counts and success latency (a
    /// template's failed-operation latency, lag and connection times are not kept apart).
    pub fn add_template(&mut self, t: &TemplateTally) {
        let _ = self.hist.add(&t.hist);
        self.ops += t.ops;
        self.failed_ops += t.failed_ops;
        self.failed_tx += t.failed_tx;
        self.submitted_tx += t.submitted_tx;
        self.committed_tx += t.committed_tx;
        for (a, b) in self.errors.iter_mut().zip(&t.errors) {
            *a += b;
        }
        for (i, &n) in t.checks.iter().enumerate() {
            crate::load::templates::add_check(&mut self.checks, i, n);
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

    /// The error rate criteria judge: transactions for targets that count them (a rejected
    /// transfer is one failed transaction, a failed batch request all of its transactions),
    /// operations otherwise (each failed request).
    pub fn error_rate(&self, per_tx: bool) -> f64 {
        match self.tx_error_rate() {
            Some(r) if per_tx => r,
            _ => self.op_error_rate(),
        }
    }

    /// failed_ops / ops (0 when nothing ran).
    pub fn op_error_rate(&self) -> f64 {
        ratio(self.failed_ops, self.ops)
    }

    /// (failed_tx + rejected transfers) / submitted transactions; `None` when no operation
    /// carried transactions.
    pub fn tx_error_rate(&self) -> Option<f64> {
        let rejected: u64 = ErrorKind::ALL
            .iter()
            .zip(&self.errors)
            .filter(|(k, _)| k.is_rejection())
            .map(|(_, n)| n)
            .sum();
        (self.submitted_tx > 0)
            .then(|| ratio(self.failed_tx + rejected, self.submitted_tx).min(1.0))
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
            failed_ops: self.failed_ops,
            failed_tx: self.failed_tx,
            op_error_rate: self.op_error_rate(),
            tx_error_rate: self.tx_error_rate(),
            latency_failed_us: (!self.hist_failed.is_empty())
                .then(|| Percentiles::from_histogram(&self.hist_failed)),
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

fn ratio(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::errors::OpOutcome;
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
        assert_eq!((acc.ops, acc.failed_ops, acc.hist.len()), (6, 2, 4));
        assert_eq!(acc.errors_by_kind()["status_5xx"], 2);
        // No transactions carried: the rate is per request, whatever the target counts.
        assert!((acc.error_rate(true) - 2.0 / 6.0).abs() < 1e-12);
        assert!(acc.percentiles().max < 3.0, "{:?}", acc.percentiles());
    }
}
