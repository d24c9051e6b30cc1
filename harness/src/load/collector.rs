//! The collector: merges the workers' shipments into interval records as the run goes.
//!
//! Each interval is finalized a little after its wall-clock end (a grace period lets workers
//! hand in their last slice): its histograms are merged, its percentiles computed, its
//! histogram appended to the HdrHistogram interval log on disk (so a crash or Ctrl-C loses
//! nothing already measured), resources sampled, live progress shown and, for capacity runs,
//! the latency bound checked. Intervals with no completed operation still get a record: a stall
//! must show as a gap, not vanish. A slice that arrives after its interval was finalized still
//! counts in its stage and in the whole-run figures.

use crate::cancel::Cancel;
use crate::load::progress::Progress;
use crate::load::timeline::SpanKind;
use crate::load::worker::{new_histogram, ErrorKind, Shared, Shipment};
use crate::observe::sampler::{ProcSample, Sampler};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use hdrhistogram::serialization::interval_log::{IntervalLogWriter, IntervalLogWriterBuilder};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;
use results::{IntervalRecord, Percentiles};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

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

/// What a stage's planned load is counted in, so that the achieved load of each interval is
/// reported in the same unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StageUnit {
    /// Closed model: active workers.
    Workers,
    /// Open model at `rate = ...`: operations per second.
    OpsPerS,
    /// Open model at `tps = ...`: transactions per second, `tx_per_op` to an operation.
    TxPerS { tx_per_op: f64 },
}

impl StageUnit {
    /// The factor from operations per second to this unit.
    fn per_op(self) -> f64 {
        match self {
            StageUnit::TxPerS { tx_per_op } => tx_per_op,
            StageUnit::Workers | StageUnit::OpsPerS => 1.0,
        }
    }
}

/// Capacity-search settings, resolved.
pub struct CapacityCheck {
    pub quantile: f64,
    pub max_ns: u64,
    pub stop_on_break: bool,
    pub label: String,
    pub unit: String,
    pub max_rate_met: Option<f64>,
    pub first_rate_broken: Option<f64>,
}

/// What the collector hands back when the workers are done.
pub struct Collected {
    pub intervals: Vec<IntervalRecord>,
    pub stages: Vec<Acc>,
    pub steady: Acc,
    pub whole: Acc,
    /// Worker slices that arrived after their interval had been finalized.
    pub late: u64,
    pub samples: Vec<(f64, Option<ProcSample>, Option<ProcSample>)>,
    pub capacity: Option<CapacityCheck>,
    pub end: Instant,
    /// Why `latency.hlog` is incomplete, when it is.
    pub hlog_error: Option<String>,
}

pub struct Collector {
    pub shared: Arc<Shared>,
    pub sampler: Sampler,
    pub progress: Progress,
    pub hlog: Option<(File, V2DeflateSerializer)>,
    pub per_tx_errors: bool,
    /// The unit of each stage's planned load.
    pub stage_units: Vec<StageUnit>,
    pub capacity: Option<CapacityCheck>,
    /// Cancelled on Ctrl-C: stop the workers and close what was measured.
    pub cancel: Cancel,
    /// The first failure writing the interval log (`None` to start with): the run goes on (its
    /// figures are in memory and go to results.json), and the user is told the log is
    /// incomplete.
    pub hlog_error: Option<String>,
}

impl Collector {
    /// Runs until every worker has dropped its sender.
    pub fn run(mut self, rx: Receiver<Shipment>) -> Collected {
        let sh = Arc::clone(&self.shared);
        let n_stages = sh.timeline.spans.len();
        let mut stages: Vec<Acc> = (0..n_stages).map(|_| Acc::default()).collect();
        let mut steady = Acc::default();
        let mut whole = Acc::default();
        let mut open: BTreeMap<u64, (Acc, BTreeSet<u32>)> = BTreeMap::new();
        let mut next_final = 0u64;
        let mut late = 0u64;
        let mut intervals = Vec::new();
        let mut samples = Vec::new();
        let grace = (sh.interval / 5).min(Duration::from_millis(200));

        let mut hlog_file = self.hlog.take();
        let start_wall = SystemTime::now() - sh.start.elapsed();
        let mut hlog: Option<IntervalLogWriter<'_, '_, File, V2DeflateSerializer>> =
            match hlog_file.as_mut().map(|(file, ser)| {
                IntervalLogWriterBuilder::new()
                    .add_comment("latency in nanoseconds; written by harness as the run goes")
                    .with_start_time(start_wall)
                    .with_base_time(start_wall)
                    .with_max_value_divisor(1_000_000.0)
                    .begin_log_with(file, ser)
            }) {
                Some(Ok(w)) => Some(w),
                Some(Err(e)) => {
                    self.hlog_error = Some(format!("starting the log: {e}"));
                    None
                }
                None => None,
            };

        loop {
            let deadline = sh.start + sh.interval * (next_final as u32 + 1) + grace;
            if self.cancel.is_cancelled() {
                sh.stop.store(true, Ordering::Relaxed);
            }
            // Wake at least every 50 ms to notice an interrupt.
            let poll = deadline.min(Instant::now() + Duration::from_millis(50));
            match rx.recv_deadline(poll) {
                Ok(s) => {
                    let steady_slice = self.is_steady(s.interval, s.stage);
                    if let Some(st) = stages.get_mut(s.stage) {
                        st.add(&s);
                    }
                    if steady_slice {
                        steady.add(&s);
                    }
                    whole.add(&s);
                    if s.interval < next_final {
                        late += 1;
                    } else {
                        let e = open.entry(s.interval).or_default();
                        e.0.add(&s);
                        e.1.insert(s.worker);
                    }
                }
                Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(RecvTimeoutError::Timeout) => {
                    let (acc, workers) = open.remove(&next_final).unwrap_or_default();
                    let rec = self.finalize(
                        next_final,
                        None,
                        &acc,
                        workers.len(),
                        &mut hlog,
                        &mut samples,
                    );
                    intervals.push(rec);
                    next_final += 1;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        // The workers are gone: close the intervals that are left, the last one partial.
        let end = Instant::now();
        let last = sh.interval_of(end);
        while next_final <= last {
            let (acc, workers) = open.remove(&next_final).unwrap_or_default();
            let partial = (next_final == last).then_some(end);
            if partial.is_some()
                && acc.ops == 0
                && sh.elapsed(end) - next_final as f64 * sh.interval.as_secs_f64() < 0.05
            {
                break;
            }
            let rec = self.finalize(
                next_final,
                partial,
                &acc,
                workers.len(),
                &mut hlog,
                &mut samples,
            );
            intervals.push(rec);
            next_final += 1;
        }
        drop(hlog);
        self.progress.finish();
        Collected {
            intervals,
            stages,
            steady,
            whole,
            late,
            samples,
            capacity: self.capacity,
            end,
            hlog_error: self.hlog_error,
        }
    }

    fn is_steady(&self, interval: u64, stage: usize) -> bool {
        self.shared
            .timeline
            .slice_is_steady(interval, stage, self.shared.interval.as_secs_f64())
    }

    fn finalize(
        &mut self,
        index: u64,
        partial_end: Option<Instant>,
        acc: &Acc,
        active_workers: usize,
        hlog: &mut Option<IntervalLogWriter<'_, '_, File, V2DeflateSerializer>>,
        samples: &mut Vec<(f64, Option<ProcSample>, Option<ProcSample>)>,
    ) -> IntervalRecord {
        let sh = &*self.shared;
        let step = sh.interval.as_secs_f64();
        let t0 = index as f64 * step;
        let t_end = match partial_end {
            Some(end) => sh.elapsed(end).max(t0 + 1e-3),
            None => t0 + step,
        };
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
            .unwrap_or(StageUnit::OpsPerS);
        let is_closed = matches!(
            sh.timeline.spans.get(stage).map(|s| &s.kind),
            Some(SpanKind::Closed { .. })
        );
        let planned = sh.timeline.planned_at(mid) * if is_closed { 1.0 } else { unit.per_op() };
        let ops_per_s = acc.ops as f64 / dur;
        let committed_tps = acc.committed_tx as f64 / dur;
        let achieved_load = if is_closed {
            active_workers as f64
        } else if matches!(unit, StageUnit::TxPerS { .. }) {
            acc.submitted_tx as f64 / dur
        } else {
            ops_per_s
        };
        let backlog = if is_closed {
            0
        } else {
            let due = sh.timeline.ops_due(t_end).floor() as u64;
            due.saturating_sub(sh.next_op.load(Ordering::Relaxed))
        };

        let (target, harness) = self.sampler.sample();
        let (machine_cpu_pct, cpu_per_core_pct) = self.sampler.cores();
        samples.push((t_end, target, harness));
        let target_proc = if self.sampler.separate_target() {
            target
        } else {
            harness
        };

        if let Some(w) = hlog.as_mut() {
            if !acc.hist.is_empty() {
                if let Err(e) = w.write_histogram(
                    &acc.hist,
                    Duration::from_secs_f64(t0),
                    Duration::from_secs_f64(dur),
                    None,
                ) {
                    self.hlog_error
                        .get_or_insert_with(|| format!("interval {index} and maybe later: {e:?}"));
                }
            }
        }

        let latency = acc.percentiles();
        if let Some(cap) = self.capacity.as_mut() {
            let steady = sh.timeline.slice_is_steady(index, stage, step);
            if steady && !is_closed && acc.ops > 0 && cap.first_rate_broken.is_none() {
                let q = acc.hist.value_at_quantile(cap.quantile);
                if q <= cap.max_ns {
                    cap.max_rate_met =
                        Some(cap.max_rate_met.map_or(planned, |m: f64| m.max(planned)));
                } else {
                    cap.first_rate_broken = Some(planned);
                    if cap.stop_on_break {
                        sh.stop.store(true, Ordering::Relaxed);
                    }
                }
            }
        }

        let rec = IntervalRecord {
            t_s: t_end,
            dur_s: dur,
            stage,
            planned,
            achieved_load,
            committed: acc.committed_tx,
            committed_tps,
            ops: acc.ops,
            ops_per_s,
            errors: acc.errors_total(),
            errors_by_kind: acc.errors_by_kind(),
            latency_us: latency,
            backlog,
            target_cpu_pct: target_proc.map(|p| p.cpu_pct),
            target_rss_bytes: target_proc.map(|p| p.rss_bytes),
            harness_cpu_pct: harness.map(|p| p.cpu_pct),
            harness_rss_bytes: harness.map(|p| p.rss_bytes),
            machine_cpu_pct,
            cpu_per_core_pct,
        };
        self.progress
            .interval(&rec, sh.timeline.total, self.per_tx_errors);
        rec
    }
}
