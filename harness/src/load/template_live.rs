//! Per-template figures for the live metrics (`--metrics-addr`, `--remote-write`): each
//! request template's operations, failures, transactions, errors by kind and latency buckets,
//! shipped with every slice so a dashboard can tell which endpoint slowed down while the run
//! goes.
//!
//! Why not the whole-phase tallies (`load::templates`): those hold a full HDR
//! histogram per template and are handed in once, at the end. Here each worker fills, per
//! template, four counters, the error kinds and the 75 fixed live buckets ([`Buckets`], ~800
//! bytes) value by value, and hands them in with each slice: one small allocation per worker
//! and interval, and only when the run serves live metrics and tallies templates. A value
//! goes to the bucket of its HDR bucket's highest equivalent, exactly as the stage's
//! histogram is bucketed, so a stage's per-template series add up to its series bucket by
//! bucket (unit-tested with the live totals).
//!
//! What counts: every operation of a timed template in the stage it ran in (warm-up
//! included, as the stage series), and a setup template's requests in the stage current when
//! they were sent; failed operations enter the counters, never the latency buckets.

use crate::load::buckets::Buckets;
use crate::load::counts::Counts;
use crate::load::errors::OpOutcome;
use hdrhistogram::Histogram;

/// One template's figures over one slice (or, added up, a stage); the live metrics keep each
/// stage's totals in the same shape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpCounts {
    pub counts: Counts,
    /// Latency of the successful operations.
    pub latency: Buckets,
}

impl OpCounts {
    /// Counts one operation that took `ns` and ended in `outcome`; `like` is the histogram the
    /// same value is recorded in (for its HDR bucket).
    #[inline]
    pub fn record(&mut self, ns: u64, outcome: &OpOutcome, like: &Histogram<u64>) {
        if !outcome.failed {
            self.latency.record(ns.max(1), like);
        }
        self.counts.record(outcome);
    }

    /// Adds another slice of the same template.
    pub fn add(&mut self, o: &OpCounts) {
        self.counts.add(&o.counts);
        self.latency.add(&o.latency);
    }
}

/// A worker's per-template slices while it records one: empty (and never touched) unless the
/// run serves live metrics and tallies templates.
#[derive(Default)]
pub struct TemplateSlices(Vec<OpCounts>);

impl TemplateSlices {
    /// `n` templates when `live`, else none.
    pub fn new(n: usize, live: bool) -> TemplateSlices {
        TemplateSlices(if live {
            vec![OpCounts::default(); n]
        } else {
            Vec::new()
        })
    }

    /// Whether anything is kept: one branch on the hot path of runs that keep nothing.
    #[inline]
    pub fn is_on(&self) -> bool {
        !self.0.is_empty()
    }

    #[inline]
    pub fn record(&mut self, template: usize, ns: u64, outcome: &OpOutcome, like: &Histogram<u64>) {
        if let Some(t) = self.0.get_mut(template) {
            t.record(ns, outcome, like);
        }
    }

    /// The slice's figures, leaving zeros for the next one; empty when nothing was recorded
    /// (so an idle slice ships nothing for templates).
    pub fn take(&mut self) -> Vec<OpCounts> {
        if self.0.iter().all(|t| t.counts.ops == 0) {
            return Vec::new();
        }
        let fresh = vec![OpCounts::default(); self.0.len()];
        std::mem::replace(&mut self.0, fresh)
    }
}
