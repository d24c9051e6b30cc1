//! [`Counts`]: the counters every slice of a run keeps (operations, failures, transactions,
//! errors by kind), and the error rates read from them.
//!
//! Why one struct: a recorder's slice, a template's tally, its live figures and every sum the
//! collector keeps held the same six counters, and each operation's update was written three
//! times (recorder, template tally, live template figures) and each sum twice: one place to
//! get "a failed batch counts all of its transactions" right.

use crate::load::errors::{ErrorKind, OpOutcome};
use std::collections::BTreeMap;

/// Operations, failures, transactions and errors by kind over some slice of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    pub ops: u64,
    pub failed_ops: u64,
    /// Transactions carried by the failed operations (a failed batch request fails them all).
    pub failed_tx: u64,
    /// Transactions carried by all operations, and those the target committed.
    pub submitted_tx: u64,
    pub committed_tx: u64,
    pub errors: [u64; ErrorKind::COUNT],
}

impl Counts {
    /// Counts one operation that ended in `o`.
    #[inline]
    pub fn record(&mut self, o: &OpOutcome) {
        self.ops += 1;
        self.failed_ops += u64::from(o.failed);
        if o.failed {
            self.failed_tx += o.submitted_tx;
        }
        self.submitted_tx += o.submitted_tx;
        self.committed_tx += o.committed_tx;
        for (acc, &e) in self.errors.iter_mut().zip(&o.errors) {
            *acc += u64::from(e);
        }
    }

    /// Adds another slice's counts.
    pub fn add(&mut self, c: &Counts) {
        self.ops += c.ops;
        self.failed_ops += c.failed_ops;
        self.failed_tx += c.failed_tx;
        self.submitted_tx += c.submitted_tx;
        self.committed_tx += c.committed_tx;
        for (a, b) in self.errors.iter_mut().zip(&c.errors) {
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

    #[test]
    fn a_failed_batch_counts_every_transaction_it_carried() {
        let mut c = Counts::default();
        c.record(&OpOutcome {
            submitted_tx: 8,
            committed_tx: 6,
            ..OpOutcome::default()
        });
        c.record(&OpOutcome::failure(ErrorKind::Timeout, 8));
        let mut rejected = OpOutcome {
            submitted_tx: 4,
            committed_tx: 3,
            ..OpOutcome::default()
        };
        rejected.errors[ErrorKind::RejectedBadNonce as usize] = 1;
        c.record(&rejected);
        assert_eq!((c.ops, c.failed_ops, c.failed_tx), (3, 1, 8));
        assert_eq!(
            (c.submitted_tx, c.committed_tx, c.errors_total()),
            (20, 9, 2)
        );
        // 8 failed with their request and one rejected, of 20.
        assert_eq!(c.tx_error_rate(), Some(9.0 / 20.0));
        assert!((c.error_rate(false) - 1.0 / 3.0).abs() < 1e-12);
        let mut twice = c;
        twice.add(&c);
        assert_eq!(
            (twice.ops, twice.failed_tx, twice.errors_total()),
            (6, 16, 4)
        );
        assert_eq!(twice.errors_by_kind()["timeout"], 2);
        assert_eq!(twice.tx_error_rate(), c.tx_error_rate());
    }
}
