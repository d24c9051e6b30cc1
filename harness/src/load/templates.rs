//! Per-template tallies of HTTP runs: each `[[requests]]` template's operations, errors and
//! success latency, with the setup templates (sent once per new connection) counted apart.
//!
//! Why a tally of its own rather than a dimension of the shipments: the figures are
//! whole-phase only (results.json has no per-template interval series), so each recorder
//! keeps one small [`TemplateTally`] per template for its whole life and hands them in once,
//! with its last shipment (when the last of its workers drops it). Per-interval template
//! histograms would cost an allocation per template, recorder and interval for figures nobody
//! reads by interval. The
//! price: a worker thread that panics loses its tallies, and such a run is an internal error
//! anyway.
//!
//! What counts: a timed template's operations in the steady state only (the slices the
//! collector adds to the summary, decided per slice exactly as it does), so the template rows
//! add up to the summary; a setup template's over the whole run, warm-up included (connections
//! mostly open then), and in no other figure.
//!
//! Off unless the plan has more than one template or any setup template ([`tracked`]):
//! in-process runs and single-template HTTP runs allocate nothing for it and pay one branch
//! on a `false` per operation.

use crate::load::counts::Counts;
use crate::load::errors::OpOutcome;
use crate::load::histogram::new_histogram;
use hdrhistogram::Histogram;
use scenario::Plan;

/// One template's counts over one worker's run (timed: its steady-state slices; setup: all).
pub struct TemplateTally {
    /// Latency of the successful operations, nanoseconds.
    pub hist: Histogram<u64>,
    pub counts: Counts,
    /// Failures by check (index = `OpOutcome::check` - 1); empty while none failed.
    pub checks: Vec<u64>,
}

impl Default for TemplateTally {
    fn default() -> Self {
        TemplateTally {
            hist: new_histogram(),
            counts: Counts::default(),
            checks: Vec::new(),
        }
    }
}

impl TemplateTally {
    /// Counts one operation that took `ns` and ended in `outcome`; only successes enter the
    /// histogram, as in the shipments.
    #[inline]
    pub fn record(&mut self, ns: u64, outcome: &OpOutcome) {
        if !outcome.failed {
            // Auto-resizing: recording only fails beyond u64 range.
            let _ = self.hist.record(ns.max(1));
        }
        self.counts.record(outcome);
        if let Some(i) = usize::from(outcome.check).checked_sub(1) {
            add_check(&mut self.checks, i, 1);
        }
    }
}

/// How many templates a run against an HTTP target tallies: all of the plan's when it has
/// more than one or any setup template, else none (one template's figures are the run's).
pub fn tracked(plan: &Plan) -> usize {
    let r = &plan.requests;
    if r.len() > 1 || r.iter().any(|t| t.setup) {
        r.len()
    } else {
        0
    }
}

/// Adds `n` failures of check `i` to `counts`, growing it as needed.
pub fn add_check(counts: &mut Vec<u64>, i: usize, n: u64) {
    if counts.len() <= i {
        counts.resize(i + 1, 0);
    }
    counts[i] += n;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::errors::ErrorKind;

    #[test]
    fn a_tally_counts_failures_apart_from_the_success_latency() {
        let mut t = TemplateTally::default();
        t.record(2_000, &OpOutcome::default());
        let mut tx = OpOutcome {
            submitted_tx: 8,
            committed_tx: 6,
            ..OpOutcome::default()
        };
        tx.errors[ErrorKind::RejectedBadNonce as usize] = 2;
        t.record(3_000, &tx);
        t.record(9_000_000, &OpOutcome::failure(ErrorKind::Timeout, 4));
        assert_eq!(
            (t.counts.ops, t.counts.failed_ops, t.counts.failed_tx),
            (3, 1, 4)
        );
        assert_eq!((t.counts.submitted_tx, t.counts.committed_tx), (12, 6));
        assert_eq!(t.counts.errors[ErrorKind::RejectedBadNonce as usize], 2);
        assert_eq!(t.counts.errors[ErrorKind::Timeout as usize], 1);
        // The timeout's 9 ms is not a success's latency.
        assert_eq!(t.hist.len(), 2);
        assert!(t.hist.max() < 4_000);
    }

    #[test]
    fn only_several_templates_or_a_setup_one_are_tallied() {
        let plan = |requests: &str| {
            let src = format!(
                "[scenario]\nname = \"t\"\n[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:9\"\n\
                 {requests}[[stages]]\nduration = \"1s\"\nworkers = 1\n"
            );
            scenario::parse(&src, std::path::Path::new("t.toml")).unwrap()
        };
        let one = "[[requests]]\nname = \"a\"\npath = \"/a\"\n";
        let two = format!("{one}[[requests]]\nname = \"b\"\npath = \"/b\"\n");
        assert_eq!(tracked(&plan(one)), 0);
        assert_eq!(tracked(&plan(&two)), 2);
        let mut setup = plan(one);
        setup.requests[0].setup = true;
        assert_eq!(tracked(&setup), 1);
    }
}
