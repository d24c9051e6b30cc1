//! Where completed operations are recorded: one [`Recorder`] per generator thread, shared by
//! the workers that thread runs.
//!
//! Why one per thread and not one per worker: HDR histograms of their own made the generator's
//! memory grow with its connections, and every record a cache miss. Measured before this
//! module (2026-12-01, release build, GET health against `engine serve` on the 2-core VM, one
//! worker per connection): peak RSS 46 MiB at 64 connections, 525 MiB at 1,000 and 2.3 GiB at
//! 4,000, about half a MiB a connection (three histograms of ~170 KB per worker and slice,
//! twice while a slice is shipped); and `perf annotate` put 94.5 % of
//! `Histogram::record_n_inner`'s samples on the load of the bucket it increments. The HTTP
//! driver's workers on one thread now share one recorder through an uncontended mutex (they
//! never run at once); in-process and goose workers each keep their own, as before.
//!
//! Slices: an operation goes to the open slice of its (interval, stage). Completion times are
//! only roughly in order across a thread's connections (kernel arrival stamps), so when an
//! operation opens a newer interval every slice of an older interval is shipped, and a
//! straggler of an interval already shipped gets a slice of its own, shipped at once (the
//! collector counts it in its stage and in the run like any late slice). Each slice lists the
//! workers that recorded into it: the collector's count of active workers. What is left ships,
//! with the template tallies, when the last worker lets go of the recorder (its drop), so a
//! worker that ends early, panics or is cancelled loses nothing.

use crate::load::errors::OpOutcome;
use crate::load::histogram::new_histogram;
use crate::load::shipment::Shipment;
use crate::load::template_live::TemplateSlices;
use crate::load::templates::TemplateTally;
use crate::load::timeline::Timeline;
use crossbeam_channel::Sender;
use hdrhistogram::Histogram;
use std::sync::{Arc, Mutex, MutexGuard};

/// One operation, as a worker hands it in.
pub struct Op<'a> {
    pub worker: u32,
    pub interval: u64,
    pub stage: usize,
    pub ns: u64,
    pub outcome: &'a OpOutcome,
    /// Open-model dispatch lag, nanoseconds.
    pub lag: Option<u64>,
    /// The new connection's connect and TLS handshake times, nanoseconds.
    pub conn: Option<(u64, Option<u64>)>,
    /// Whether this worker already recorded into the slice of (interval, stage).
    pub seen: bool,
}

/// An open slice: what ships, whether it counts in the steady state (only asked when
/// templates are tallied), and its per-template live figures.
struct Open {
    s: Shipment,
    steady: bool,
    live: TemplateSlices,
}

/// The recording of one generator thread's workers. See the module docs.
pub struct Recorder {
    tx: Sender<Shipment>,
    /// Whose slices count in the steady state: the run's timeline and interval (seconds).
    timeline: Arc<Timeline>,
    interval_s: f64,
    /// Open slices, oldest first: one most of the time, two at a stage change.
    open: Vec<Open>,
    /// The newest interval recorded into or flushed past.
    newest: u64,
    /// One tally per request template when the run keeps them (else empty).
    templates: Vec<TemplateTally>,
    /// Templates tallied, and whether per slice too (the run serves live metrics).
    live_templates: (usize, bool),
    /// Setup requests' live figures while no slice is open; the next slice starts with them.
    template_live: TemplateSlices,
    /// Gives setup requests' live figures their HDR buckets when no slice is open.
    shape: Histogram<u64>,
}

/// A recorder several workers share.
pub type SharedRecorder = Arc<Mutex<Recorder>>;

impl Recorder {
    /// A recorder of a run with `timeline` and intervals of `interval_s` seconds that tallies
    /// `templates` request templates (0: none), also per slice when `live`.
    pub fn new(
        timeline: Arc<Timeline>,
        interval_s: f64,
        (templates, live): (usize, bool),
        tx: Sender<Shipment>,
    ) -> Recorder {
        Recorder {
            templates: (0..templates).map(|_| TemplateTally::default()).collect(),
            template_live: TemplateSlices::new(templates, live),
            live_templates: (templates, live),
            timeline,
            interval_s,
            tx,
            open: Vec::new(),
            newest: 0,
            shape: new_histogram(),
        }
    }

    pub fn shared(self) -> SharedRecorder {
        Arc::new(Mutex::new(self))
    }

    /// The recorder, whoever panicked while holding it (what it holds is still counts).
    #[inline]
    pub fn lock(r: &SharedRecorder) -> MutexGuard<'_, Recorder> {
        r.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a completed operation.
    #[inline]
    pub fn record(&mut self, op: Op<'_>) {
        let i = self.slot(op.interval, op.stage);
        let Open { s, steady, live } = &mut self.open[i];
        if !op.seen || s.workers.is_empty() {
            s.workers.push(op.worker);
        }
        let (ns, outcome) = (op.ns, op.outcome);
        // Auto-resizing: recording only fails on a value beyond u64 range, which cannot happen.
        if outcome.failed {
            let _ = s.hist_failed.record(ns.max(1));
        } else {
            let _ = s.hist.record(ns.max(1));
        }
        if let Some(lag) = op.lag {
            let _ = s.lag.record(lag);
        }
        if let Some((connect, handshake)) = op.conn {
            let _ = s.connect.get_or_insert_with(new_histogram).record(connect);
            if let Some(h) = handshake {
                let _ = s.tls_handshake.get_or_insert_with(new_histogram).record(h);
            }
        }
        s.counts.record(outcome);
        // False whenever templates are not tallied: one branch for in-process runs.
        if *steady {
            if let Some(t) = self.templates.get_mut(usize::from(outcome.template)) {
                t.record(ns, outcome);
            }
        }
        if live.is_on() {
            live.record(usize::from(outcome.template), ns, outcome, &s.hist);
        }
        if op.interval < self.newest {
            self.ship_at(i);
        }
    }

    /// Records a setup operation (a setup template's request, sent once on a new connection
    /// before its timed requests) that took `ns`: counted in its template's tally only, whatever
    /// the slice, and never in the shipments, so in no summary, stage or interval figure.
    #[inline]
    pub fn record_setup(&mut self, template: usize, ns: u64, outcome: &OpOutcome) {
        if let Some(t) = self.templates.get_mut(template) {
            t.record(ns, outcome);
        }
        match self.open.last_mut() {
            Some(o) => o.live.record(template, ns, outcome, &o.s.hist),
            None => self
                .template_live
                .record(template, ns, outcome, &self.shape),
        }
    }

    /// Whether anything is held that the collector waits for: a slice of an interval before
    /// `now_interval` (an idle thread hands it in once its interval is over).
    pub fn flush_stale(&mut self, now_interval: u64) {
        if self.open.iter().any(|o| o.s.interval < now_interval) {
            self.newest = self.newest.max(now_interval);
            self.ship_older(now_interval);
        }
    }

    /// The index of the open slice of (interval, stage), opened (sized like the newest one,
    /// so recording does not grow it again value by value) if there is none; a newer interval
    /// ships every older slice first.
    #[inline]
    fn slot(&mut self, interval: u64, stage: usize) -> usize {
        if let Some(i) = self
            .open
            .iter()
            .rposition(|o| o.s.interval == interval && o.s.stage == stage)
        {
            return i;
        }
        let slice = Shipment::new(interval, stage, self.open.last().map(|o| &o.s));
        let steady = !self.templates.is_empty()
            && self
                .timeline
                .slice_is_steady(interval, stage, self.interval_s);
        let (n, on) = self.live_templates;
        let live = std::mem::replace(&mut self.template_live, TemplateSlices::new(n, on));
        self.open.push(Open {
            s: slice,
            steady,
            live,
        });
        if interval > self.newest {
            self.newest = interval;
            self.ship_older(interval);
        }
        self.open.len() - 1
    }

    /// Ships every open slice of an interval before `interval`.
    fn ship_older(&mut self, interval: u64) {
        while let Some(i) = self.open.iter().position(|o| o.s.interval < interval) {
            self.ship_at(i);
        }
    }

    fn ship_at(&mut self, i: usize) {
        let Open {
            mut s, mut live, ..
        } = self.open.remove(i);
        s.template_live = live.take();
        self.send(s);
    }

    /// Hands a slice to the collector: one with operations, template tallies or live template
    /// figures (a slice may hold only setup requests' live figures, the last only tallies).
    fn send(&self, s: Shipment) {
        if s.counts.ops > 0 || !s.templates.is_empty() || !s.template_live.is_empty() {
            // The collector outlives the workers; a send error means it is gone, and then
            // nothing is left to record into.
            let _ = self.tx.send(s);
        }
    }
}

impl Drop for Recorder {
    /// Ships whatever is left, the template tallies with the last slice.
    fn drop(&mut self) {
        let (mut last, mut live) = match self.open.pop() {
            Some(o) => (o.s, o.live),
            None => (
                Shipment::new(self.newest, 0, None),
                std::mem::take(&mut self.template_live),
            ),
        };
        self.ship_older(u64::MAX);
        last.template_live = live.take();
        last.templates = std::mem::take(&mut self.templates);
        self.send(last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::errors::ErrorKind;
    use crate::load::worker::Shared;

    fn shared(templates: usize) -> Arc<Shared> {
        let src = "[scenario]\nname = \"r\"\n[target]\nkind = \"in-process\"\n\
            [[stages]]\nduration = \"1s\"\nworkers = 2\nwarmup = true\n\
            [[stages]]\nduration = \"2s\"\nworkers = 2\n";
        let plan = scenario::parse(src, std::path::Path::new("r.toml")).unwrap();
        let sh = Shared::new(
            Timeline::new(&plan),
            std::time::Duration::from_secs(1),
            crate::cancel::Cancel::new(),
        );
        Arc::new(sh.tallying_templates(templates, false))
    }

    fn op(worker: u32, interval: u64, stage: usize, ns: u64, outcome: &OpOutcome) -> Op<'_> {
        Op {
            worker,
            interval,
            stage,
            ns,
            outcome,
            lag: None,
            conn: None,
            seen: false,
        }
    }

    #[test]
    fn workers_sharing_a_recorder_ship_one_slice_per_interval_and_stragglers_apart() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut r = shared(0).recorder(tx);
        let ok = OpOutcome::default();
        // Two workers in interval 1 (stage 1), then worker 1 opens interval 2: interval 1 ships.
        r.record(op(0, 1, 1, 1_000, &ok));
        r.record(op(1, 1, 1, 2_000, &ok));
        r.record(Op {
            seen: true,
            ..op(0, 1, 1, 3_000, &ok)
        });
        assert!(
            rx.try_recv().is_err(),
            "nothing ships while the interval is open"
        );
        r.record(op(1, 2, 1, 4_000, &ok));
        let first = rx.try_recv().expect("interval 1 shipped");
        assert_eq!(
            (first.interval, first.counts.ops, first.hist.len()),
            (1, 3, 3)
        );
        assert_eq!(first.workers, [0, 1]);
        // Worker 0's answer of interval 1 read after that: a slice of its own, shipped at once.
        r.record(Op {
            seen: true,
            ..op(0, 1, 1, 5_000, &ok)
        });
        let straggler = rx.try_recv().expect("the straggler shipped at once");
        assert_eq!((straggler.interval, straggler.counts.ops), (1, 1));
        assert_eq!(straggler.workers, [0], "a fresh slice lists its worker");
        // A failure in interval 2, then an idle flush at interval 3 ships interval 2.
        let failed = OpOutcome::failure(ErrorKind::Timeout, 8);
        r.record(op(0, 2, 1, 6_000, &failed));
        r.flush_stale(2);
        assert!(rx.try_recv().is_err(), "interval 2 is still current");
        r.flush_stale(3);
        let second = rx.try_recv().expect("flushed once its interval was over");
        assert_eq!(
            (second.interval, second.counts.ops, second.counts.failed_ops),
            (2, 2, 1)
        );
        assert_eq!(
            (
                second.hist.len(),
                second.hist_failed.len(),
                second.counts.failed_tx
            ),
            (1, 1, 8)
        );
        // After a flush, interval 2 is a straggler too; the drop ships nothing more.
        r.record(op(1, 2, 1, 7_000, &ok));
        assert_eq!(rx.try_recv().map(|s| s.interval).ok(), Some(2));
        drop(r);
        assert!(
            rx.try_recv().is_err(),
            "no templates, nothing open: nothing to ship"
        );
    }

    #[test]
    fn two_stages_in_one_interval_stay_apart_and_the_tallies_come_with_the_last_slice() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let sh = shared(1);
        let mut r = sh.recorder(tx);
        let ok = OpOutcome::default();
        // Interval 1 holds late warm-up answers (stage 0) interleaved with stage 1's.
        r.record(op(0, 1, 0, 1_000, &ok));
        r.record(op(1, 1, 1, 2_000, &ok));
        r.record(Op {
            seen: true,
            ..op(0, 1, 0, 3_000, &ok)
        });
        r.record(op(0, 2, 1, 4_000, &ok));
        let shipped: Vec<(u64, usize, u64)> = rx
            .try_iter()
            .map(|s| (s.interval, s.stage, s.counts.ops))
            .collect();
        assert_eq!(shipped, [(1, 0, 2), (1, 1, 1)]);
        drop(r);
        let last = rx.try_recv().expect("the last slice, with the tallies");
        assert_eq!((last.interval, last.counts.ops), (2, 1));
        // Only steady-state slices enter the template's tally, never the warm-up's.
        let steady = |i, st| sh.timeline.slice_is_steady(i, st, 1.0);
        assert!(!steady(1, 0) && steady(2, 1));
        assert_eq!(last.templates.len(), 1);
        assert_eq!(last.templates[0].counts.ops, 1 + u64::from(steady(1, 1)));
    }
}
