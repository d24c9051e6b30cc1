//! [`Shipment`]: what a recorder hands the collector for one (interval, stage) slice of its
//! workers' operations: [`Counts`] and histograms (its own module so that the recorder, the
//! collector and the accumulators need not import the worker loop for it).

use crate::load::counts::Counts;
use crate::load::histogram::new_histogram;
use crate::load::template_live::OpCounts;
use crate::load::templates::TemplateTally;
use hdrhistogram::Histogram;

/// Counters and histograms for one (interval, stage) slice of one recorder's workers
/// (see the recorder module).
pub struct Shipment {
    /// The workers that recorded into the slice (the collector counts the active ones).
    pub workers: Vec<u32>,
    pub interval: u64,
    pub stage: usize,
    /// Latency of the successful operations, nanoseconds.
    pub hist: Histogram<u64>,
    /// Latency of the failed operations, kept apart (like Gatling's OK/KO split) so that a
    /// dead target's instant refusals do not pass for fast answers.
    pub hist_failed: Histogram<u64>,
    /// Dispatch lag of open-model operations, nanoseconds (see [`WorkerCore::next`]).
    pub lag: Histogram<u64>,
    /// Time to connect and to complete the TLS handshake of each new connection, nanoseconds
    /// (HTTP only). Created on the first connection of the slice: most slices open none, and
    /// an empty histogram per worker and interval would be allocated for nothing.
    pub connect: Option<Histogram<u64>>,
    pub tls_handshake: Option<Histogram<u64>>,
    pub counts: Counts,
    /// The worker's per-template tallies, by template index: only on its last shipment, and
    /// only when the run tallies templates (empty otherwise; an empty Vec allocates nothing).
    pub templates: Vec<TemplateTally>,
    /// The slice's per-template figures for the live metrics, by template index: only when
    /// the run serves them and a template recorded something in the slice.
    pub template_live: Vec<OpCounts>,
}

impl Shipment {
    /// An empty shipment whose histogram starts with `like`'s range (the previous interval's),
    /// so recording does not grow it again value by value: auto-resizing from scratch every
    /// interval cost an HTTP worker ~4 % of its CPU in reallocations (perf).
    pub(crate) fn new(interval: u64, stage: usize, like: Option<&Shipment>) -> Shipment {
        let fresh = |h: Option<&Histogram<u64>>| h.map_or_else(new_histogram, Histogram::new_from);
        Shipment {
            workers: Vec::new(),
            interval,
            stage,
            hist: fresh(like.map(|s| &s.hist)),
            hist_failed: fresh(like.map(|s| &s.hist_failed)),
            lag: fresh(like.map(|s| &s.lag)),
            connect: None,
            tls_handshake: None,
            counts: Counts::default(),
            templates: Vec::new(),
            template_live: Vec::new(),
        }
    }
}
