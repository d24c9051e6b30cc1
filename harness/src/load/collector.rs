//! The collector: merges the workers' shipments into interval records as the run goes.
//!
//! Each interval is finalized a little after its wall-clock end (a grace period lets workers
//! hand in their last slice): its histograms are merged, its percentiles computed, its
//! histogram appended to the interval log on disk ([`hlog`]), resources sampled, live progress
//! shown, the live metrics fed ([`crate::load::live`]) and, for capacity runs, the latency bound checked ([`capacity`]). Intervals with no
//! completed operation still get a record: a stall must show as a gap, not vanish. A slice that
//! arrives after its interval was finalized still counts in its stage and in the whole-run
//! figures. Workers' per-template tallies arrive once, with their last shipment, and are only
//! summed.

use crate::load::acc::Acc;
use crate::load::capacity::{CapacityCheck, ProbeWatch, StageUnit};
use crate::load::hlog::{self, Writer};
use crate::load::live::Feed;
use crate::load::progress::Progress;
use crate::load::sealed::{self, Sealed};
use crate::load::shipment::Shipment;
use crate::load::spool::Spool;
use crate::load::timeline::SpanKind;
use crate::load::worker::Shared;
use crate::observe::sampler::{ProcSample, Sampler};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use hdrhistogram::serialization::V2DeflateSerializer;
use results::IntervalRecord;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// One resource sample: seconds since the start, the target's and the harness's.
pub type Sample = (f64, Option<ProcSample>, Option<ProcSample>);

/// What the collector hands back when the workers are done.
pub struct Collected {
    pub intervals: Vec<IntervalRecord>,
    pub stages: Vec<Acc>,
    pub steady: Acc,
    pub whole: Acc,
    /// Each request template's figures, by template index, when the run tallies them
    /// ([`crate::load::templates`]); empty otherwise.
    pub templates: Vec<Acc>,
    /// Worker slices that arrived after their interval had been finalized.
    pub late: u64,
    pub samples: Vec<Sample>,
    pub capacity: Option<CapacityCheck>,
    /// A capacity-search probe's watch, and whether it ended the probe early.
    pub probe: Option<ProbeWatch>,
    pub end: Instant,
    /// Why `latency.hlog` is incomplete, when it is.
    pub hlog_error: Option<String>,
    /// Why the spooled time series ([`spool`](crate::load::spool)) is incomplete, when it is.
    pub spool_error: Option<String>,
    /// CPUs `/proc/stat` counted: the basis of the intervals' other-process CPU and steal
    /// (`None` off Linux).
    pub machine_cpus: Option<usize>,
}

pub struct Collector {
    pub shared: Arc<Shared>,
    pub sampler: Sampler,
    pub progress: Progress,
    pub hlog: Option<(File, V2DeflateSerializer)>,
    pub per_tx_errors: bool,
    /// A dispatch lag over this many nanoseconds makes an operation late.
    pub late_after_ns: u64,
    /// In-process runs: the target is the harness process.
    pub target_is_harness: bool,
    /// Each stage's unit (the planned load's, and the achieved load's).
    pub stage_units: Vec<StageUnit>,
    pub capacity: Option<CapacityCheck>,
    /// A capacity-search probe: ends the probe early when it is clearly bad.
    pub probe: Option<ProbeWatch>,
    /// The first failure writing the interval log (`None` to start with): the run goes on (its
    /// figures are in memory and go to results.json), and the user is told the log is
    /// incomplete.
    pub hlog_error: Option<String>,
    /// `--metrics-addr`: each finalized interval is added to the live totals it serves.
    pub live: Option<Feed>,
}

/// What the run adds up to while it goes.
struct Tally {
    stages: Vec<Acc>,
    /// Each stage's histograms once it is over ([`sealed`]): memory then stays flat however
    /// many stages run.
    sealed: Vec<Seal>,
    steady: Acc,
    whole: Acc,
    templates: Vec<Acc>,
    /// Intervals not finalized yet: their slices, and the workers that shipped them.
    open: BTreeMap<u64, (Acc, BTreeSet<u32>)>,
    next_final: u64,
    late: u64,
    /// On disk while the run goes: held in memory they grew the harness ~6 MiB an hour.
    intervals: Spool<IntervalRecord>,
    samples: Spool<Sample>,
}

/// Where a stage's histograms are.
enum Seal {
    Live,
    Sealed(Sealed),
    /// Encoding failed: kept live.
    Kept,
}

/// One interval's load: its stage, what was planned and achieved, the open-model backlog.
struct Load {
    stage: usize,
    planned: f64,
    achieved: f64,
    backlog: u64,
    closed: bool,
}

impl Collector {
    /// Runs until every worker has dropped its sender.
    pub fn run(mut self, rx: Receiver<Shipment>) -> Collected {
        let sh = Arc::clone(&self.shared);
        let mut t = Tally {
            stages: (0..sh.timeline.spans.len())
                .map(|_| Acc::default())
                .collect(),
            sealed: (0..sh.timeline.spans.len()).map(|_| Seal::Live).collect(),
            steady: Acc::default(),
            whole: Acc::default(),
            templates: (0..sh.templates).map(|_| Acc::default()).collect(),
            open: BTreeMap::new(),
            next_final: 0,
            late: 0,
            intervals: Spool::new(),
            samples: Spool::new(),
        };
        let grace = (sh.interval / 5).min(Duration::from_millis(200));
        let mut file = self.hlog.take();
        let start_wall = SystemTime::now() - sh.start.elapsed();
        let mut log = file
            .as_mut()
            .and_then(|(f, ser)| match hlog::open(f, ser, start_wall) {
                Ok(w) => Some(w),
                Err(e) => {
                    self.hlog_error = Some(e);
                    None
                }
            });
        loop {
            let deadline = sh.start + sh.interval * (t.next_final as u32 + 1) + grace;
            // Ctrl-C or a worker's abort (`Shared::cancel`): stop the workers, close what was
            // measured.
            if sh.cancel.is_cancelled() {
                sh.stop.store(true, Ordering::Relaxed);
            }
            // Wake at least every 50 ms to notice a cancellation.
            let poll = deadline.min(Instant::now() + Duration::from_millis(50));
            match rx.recv_deadline(poll) {
                Ok(s) => self.receive(&mut t, &s),
                Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(RecvTimeoutError::Timeout) => self.close_next(&mut t, None, &mut log),
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let end = Instant::now();
        self.close_rest(&mut t, end, &mut log);
        drop(log);
        self.progress.finish();
        let e0 = unseal_all(&mut t);
        let (intervals, e1) = t.intervals.into_vec();
        let (samples, e2) = t.samples.into_vec();
        Collected {
            intervals,
            stages: t.stages,
            steady: t.steady,
            whole: t.whole,
            templates: t.templates,
            late: t.late,
            samples,
            capacity: self.capacity,
            probe: self.probe,
            end,
            hlog_error: self.hlog_error,
            spool_error: e0.or(e1).or(e2),
            machine_cpus: self.sampler.machine_cpus(),
        }
    }

    /// Adds a worker's slice to its stage, the steady state, the whole run and its interval,
    /// and its template tallies (last shipment only) to the templates' figures.
    fn receive(&self, t: &mut Tally, s: &Shipment) {
        for (acc, tally) in t.templates.iter_mut().zip(&s.templates) {
            acc.add_template(tally);
        }
        if let Some(live) = &self.live {
            live.add(s);
        }
        if s.counts.ops == 0 {
            // A last shipment that only hands in the template tallies, or a slice of setup
            // requests only (their figures are in the templates' alone).
            return;
        }
        if let Some(st) = t.stages.get_mut(s.stage) {
            st.add(s);
        }
        if self.is_steady(s.interval, s.stage) {
            t.steady.add(s);
        }
        t.whole.add(s);
        if s.interval < t.next_final {
            t.late += 1;
        } else {
            let e = t.open.entry(s.interval).or_default();
            e.0.add(s);
            e.1.extend(&s.workers);
        }
    }

    /// Finalizes the next interval (`partial_end`: the run ended inside it).
    fn close_next(
        &mut self,
        t: &mut Tally,
        partial_end: Option<Instant>,
        log: &mut Option<Writer<'_>>,
    ) {
        let (acc, workers) = t.open.remove(&t.next_final).unwrap_or_default();
        let rec = self.finalize(
            t.next_final,
            partial_end,
            &acc,
            workers.len(),
            log,
            &mut t.samples,
        );
        t.intervals.push(rec);
        t.next_final += 1;
        self.seal_finished(t);
    }

    /// Seals each stage that ended two intervals before the last finalized one: its workers
    /// have shipped their last slices of it by then (a stalled worker's later slice still
    /// counts, see [`sealed`]).
    fn seal_finished(&self, t: &mut Tally) {
        let step = self.shared.interval.as_secs_f64();
        let done_s = t.next_final as f64 * step;
        let spans = &self.shared.timeline.spans;
        for ((span, acc), seal) in spans.iter().zip(&mut t.stages).zip(&mut t.sealed) {
            if matches!(seal, Seal::Live) && span.start + span.duration + 2.0 * step <= done_s {
                *seal = sealed::seal(acc).map_or(Seal::Kept, Seal::Sealed);
            }
        }
    }

    /// The workers are gone: closes the intervals that are left, the last one partial (and
    /// left out when nothing happened in its first 50 ms).
    fn close_rest(&mut self, t: &mut Tally, end: Instant, log: &mut Option<Writer<'_>>) {
        let sh = Arc::clone(&self.shared);
        let last = sh.interval_of(end);
        while t.next_final <= last {
            let partial = (t.next_final == last).then_some(end);
            let empty = t
                .open
                .get(&t.next_final)
                .is_none_or(|(a, _)| a.counts.ops == 0);
            let since = sh.elapsed(end) - t.next_final as f64 * sh.interval.as_secs_f64();
            if partial.is_some() && empty && since < 0.05 {
                break;
            }
            self.close_next(t, partial, log);
        }
    }

    fn is_steady(&self, interval: u64, stage: usize) -> bool {
        self.shared
            .timeline
            .slice_is_steady(interval, stage, self.shared.interval.as_secs_f64())
    }

    /// The stage of an interval (by its middle) and its planned and achieved load.
    fn load(&self, t0: f64, t_end: f64, acc: &Acc, active_workers: usize) -> Load {
        let sh = &*self.shared;
        let dur = t_end - t0;
        let mid = (t0 + t_end) / 2.0;
        let stage = sh
            .timeline
            .stage_at(mid.min(sh.timeline.total - 1e-9))
            .map_or(sh.timeline.spans.len().saturating_sub(1), |(i, _)| i);
        let unit = self
            .stage_units
            .get(stage)
            .copied()
            .unwrap_or(StageUnit::OpsPerSec);
        let closed = matches!(
            sh.timeline.spans.get(stage).map(|s| &s.kind),
            Some(SpanKind::Closed { .. })
        );
        let planned = sh.timeline.planned_at(mid) * if closed { 1.0 } else { unit.per_op() };
        let achieved = match unit {
            _ if closed => active_workers as f64,
            StageUnit::TxPerSec { .. } => acc.counts.submitted_tx as f64 / dur,
            _ => acc.counts.ops as f64 / dur,
        };
        let backlog = if closed {
            0
        } else {
            let due = sh.timeline.ops_due(t_end).floor() as u64;
            due.saturating_sub(sh.next_op.load(Ordering::Relaxed))
        };
        Load {
            stage,
            planned,
            achieved,
            backlog,
            closed,
        }
    }

    fn finalize(
        &mut self,
        index: u64,
        partial_end: Option<Instant>,
        acc: &Acc,
        active_workers: usize,
        log: &mut Option<Writer<'_>>,
        samples: &mut Spool<Sample>,
    ) -> IntervalRecord {
        let sh = Arc::clone(&self.shared);
        let step = sh.interval.as_secs_f64();
        let t0 = index as f64 * step;
        let t_end = match partial_end {
            Some(end) => sh.elapsed(end).max(t0 + 1e-3),
            None => t0 + step,
        };
        let dur = t_end - t0;
        let load = self.load(t0, t_end, acc, active_workers);
        let (target, harness) = self.sampler.sample();
        let (machine_cpu_pct, cpu_per_core_pct) = self.sampler.cores();
        let busiest = self.sampler.busiest_thread();
        let other = self.sampler.other_work(target, harness);
        samples.push((t_end, target, harness));
        // The target's figures: its own process when sampled, the harness's when they are one
        // process (in-process), none for a server we did not start (not ours to see).
        let target_proc = if self.sampler.separate_target() {
            target
        } else if self.target_is_harness {
            harness
        } else {
            None
        };
        if let Some(Err(e)) = log.as_mut().map(|w| hlog::append(w, &acc.hist, t0, dur)) {
            self.hlog_error
                .get_or_insert_with(|| format!("interval {index} and maybe later: {e}"));
        }
        self.check_capacity(index, &load, acc);
        self.watch_probe(index, &load, acc, dur);
        let rec = IntervalRecord {
            t_s: t_end,
            dur_s: dur,
            stage: load.stage,
            planned: load.planned,
            achieved_load: load.achieved,
            committed: acc.counts.committed_tx,
            committed_tps: acc.counts.committed_tx as f64 / dur,
            ops: acc.counts.ops,
            ops_per_s: acc.counts.ops as f64 / dur,
            errors: acc.counts.errors_total(),
            errors_by_kind: acc.counts.errors_by_kind(),
            latency_us: acc.percentiles(),
            backlog: load.backlog,
            target_cpu_pct: target_proc.map(|p| p.cpu_pct),
            target_rss_bytes: target_proc.map(|p| p.rss_bytes),
            harness_cpu_pct: harness.map(|p| p.cpu_pct),
            harness_rss_bytes: harness.map(|p| p.rss_bytes),
            machine_cpu_pct,
            cpu_per_core_pct,
            harness_busiest_thread_pct: busiest.map(|b| b.busy_pct),
            harness_busiest_thread_wait_pct: busiest.and_then(|b| b.wait_pct),
            dispatch: acc.interval_dispatch(self.late_after_ns),
            other_cpu_pct: other.map(|o| o.other_cpu_pct),
            steal_pct: other.map(|o| o.steal_pct),
        };
        self.progress
            .interval(&rec, sh.timeline.total, self.per_tx_errors);
        if let Some(live) = &self.live {
            live.interval(&rec);
        }
        rec
    }

    /// Capacity runs: judges a steady open-model interval that did something.
    fn check_capacity(&mut self, index: u64, load: &Load, acc: &Acc) {
        let steady = self.is_steady(index, load.stage);
        let Some(cap) = self.capacity.as_mut() else {
            return;
        };
        if steady && !load.closed && acc.counts.ops > 0 && cap.observe(load.planned, &acc.hist) {
            self.shared.stop.store(true, Ordering::Relaxed);
        }
    }

    /// Capacity-search probes: watches each settled interval for a clearly bad probe.
    fn watch_probe(&mut self, index: u64, load: &Load, acc: &Acc, dur: f64) {
        let steady = self.is_steady(index, load.stage);
        let Some(w) = self.probe.as_mut() else {
            return;
        };
        let per_op = self.stage_units.get(load.stage).map_or(1.0, |u| u.per_op());
        let due = load.planned / per_op * dur;
        if steady
            && w.observe(
                dur,
                due,
                &acc.hist,
                acc.counts.error_rate(self.per_tx_errors),
            )
        {
            self.shared.stop.store(true, Ordering::Relaxed);
        }
    }
}

/// The sealed stages' histograms decoded back; the first failure, for the run to report.
fn unseal_all(t: &mut Tally) -> Option<String> {
    let mut error = None;
    for (acc, seal) in t.stages.iter_mut().zip(&mut t.sealed) {
        if let Seal::Sealed(s) = std::mem::replace(seal, Seal::Live) {
            if let Err(e) = sealed::unseal(acc, s) {
                error.get_or_insert(e);
            }
        }
    }
    error
}
