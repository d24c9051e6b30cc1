//! Merged intervals: the segments' interval records aligned on wall-clock boundaries and summed,
//! their `latency.hlog` interval histograms added (exact percentiles), and the merged run's own
//! `latency.hlog`.

use super::parts::{add_counts, worst_percentiles};
use super::Seg;
use anyhow::{Context, Result};
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry,
};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;
use results::{IntervalRecord, Percentiles, RunResult};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

/// One segment's interval histograms: (interval end in seconds since its t = 0, histogram).
pub(super) type IntervalHists = Vec<(f64, Histogram<u64>)>;
/// The merged run's interval histograms, for its `latency.hlog`.
pub struct MergedHlog {
    /// Wall-clock time (Unix seconds) of the merged run's t = 0.
    pub base_unix_s: f64,
    /// (start s, duration s, histogram) of each merged interval that recorded anything.
    pub intervals: Vec<(f64, f64, Histogram<u64>)>,
}

/// A segment's per-interval latency histograms from its `latency.hlog`. `None` when the result
/// names no log or it cannot be read in full.
pub(super) fn interval_histograms(file: &Path, r: &RunResult) -> Option<IntervalHists> {
    let name = r.files.hlog.as_deref()?;
    let bytes = std::fs::read(file.parent()?.join(name)).ok()?;
    read_hlog(&bytes)
}

/// The interval histograms of an interval log's bytes: `None` unless every entry decodes.
/// Apart from the file read so the fuzz target `hlog` (crate::fuzzing) drives it.
pub(crate) fn read_hlog(bytes: &[u8]) -> Option<IntervalHists> {
    let mut out = Vec::new();
    for entry in IntervalLogIterator::new(bytes) {
        if let LogEntry::Interval(i) = entry.ok()? {
            let h = results::decode_histogram(i.encoded_histogram()).ok()?;
            out.push(((i.start_timestamp() + i.duration()).as_secs_f64(), h));
        }
    }
    Some(out)
}

pub(super) fn write_hlog(path: &Path, m: &MergedHlog) -> Result<()> {
    let mut file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let base = std::time::UNIX_EPOCH + Duration::from_secs_f64(m.base_unix_s.max(0.0));
    let mut ser = V2DeflateSerializer::new();
    let mut w = IntervalLogWriterBuilder::new()
        .add_comment("harness merge: the segments' interval histograms, summed")
        .with_start_time(base)
        .with_base_time(base)
        .with_max_value_divisor(1_000_000.0)
        .begin_log_with(&mut file, &mut ser)
        .with_context(|| format!("writing {}", path.display()))?;
    for (start, dur, h) in &m.intervals {
        w.write_histogram(
            h,
            Duration::from_secs_f64(start.max(0.0)),
            Duration::from_secs_f64(*dur),
            None,
        )
        .map_err(|e| anyhow::anyhow!("writing {}: {e:?}", path.display()))?;
    }
    Ok(())
}

/// Interval records of every segment, aligned on wall-clock boundaries of the earliest origin;
/// `hists` are the segments' interval histograms ([`interval_histograms`]), in `segs` order.
/// The segments' records of one wall-clock interval (ending at `t_s`) as one record.
pub(super) fn merge_interval(
    t_s: f64,
    recs: &[&IntervalRecord],
    latency_us: Percentiles,
) -> IntervalRecord {
    let mut m = IntervalRecord {
        t_s,
        dur_s: recs.iter().map(|r| r.dur_s).fold(0.0, f64::max),
        stage: recs[0].stage,
        planned: 0.0,
        achieved_load: 0.0,
        committed: 0,
        committed_tps: 0.0,
        ops: 0,
        ops_per_s: 0.0,
        errors: 0,
        errors_by_kind: BTreeMap::new(),
        latency_us,
        backlog: 0,
        target_cpu_pct: None,
        target_rss_bytes: None,
        harness_cpu_pct: None,
        harness_rss_bytes: None,
        machine_cpu_pct: None,
        cpu_per_core_pct: Vec::new(),
        harness_busiest_thread_pct: None,
        harness_busiest_thread_wait_pct: None,
        dispatch: None,
        // Each segment's machine is its own: a sum or a maximum would describe none of them
        // (each instance's steady figures are under segment.merged.instances).
        other_cpu_pct: None,
        steal_pct: None,
    };
    for r in recs {
        // Rates add, each over the part of the merged interval it covers: a segment's
        // few-millisecond tail interval must not add its whole-second rate.
        let w = if m.dur_s > 0.0 {
            (r.dur_s / m.dur_s).min(1.0)
        } else {
            1.0
        };
        m.planned += r.planned * w;
        m.achieved_load += r.achieved_load * w;
        m.committed += r.committed;
        m.committed_tps += r.committed_tps * w;
        m.ops += r.ops;
        m.ops_per_s += r.ops_per_s * w;
        m.errors += r.errors;
        add_counts(&mut m.errors_by_kind, &r.errors_by_kind);
        m.backlog += r.backlog;
        if let Some(d) = &r.dispatch {
            let into = m.dispatch.get_or_insert_with(Default::default);
            into.ops += d.ops;
            into.late_ops += d.late_ops;
            into.lag_p99_us = into.lag_p99_us.max(d.lag_p99_us);
            into.lag_max_us = into.lag_max_us.max(d.lag_max_us);
        }
        let max = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        m.harness_busiest_thread_pct =
            max(m.harness_busiest_thread_pct, r.harness_busiest_thread_pct);
        m.harness_busiest_thread_wait_pct = max(
            m.harness_busiest_thread_wait_pct,
            r.harness_busiest_thread_wait_pct,
        );
    }
    m
}

pub(super) fn merge_intervals(
    segs: &[Seg<'_>],
    hists: &[Option<IntervalHists>],
) -> (Vec<IntervalRecord>, f64, MergedHlog) {
    let interval = segs
        .iter()
        .flat_map(|(_, r, _)| r.intervals.iter().map(|i| i.dur_s))
        .fold(0.0_f64, f64::max);
    let base = segs
        .iter()
        .filter_map(|(_, _, s)| s.clock_origin_unix_s)
        .fold(f64::INFINITY, f64::min);
    let key = |t: f64| {
        if interval > 0.0 {
            (t / interval).round() as i64
        } else {
            0
        }
    };
    let mut buckets: BTreeMap<i64, Vec<&IntervalRecord>> = BTreeMap::new();
    // Summed interval histograms, and the intervals some segment recorded without a log.
    let mut sums: BTreeMap<i64, Histogram<u64>> = BTreeMap::new();
    let mut unlogged: BTreeSet<i64> = BTreeSet::new();
    for ((_, r, s), hs) in segs.iter().zip(hists) {
        let offset = match s.clock_origin_unix_s {
            Some(o) if base.is_finite() => o - base,
            _ => 0.0,
        };
        for rec in &r.intervals {
            let k = key(offset + rec.t_s);
            buckets.entry(k).or_default().push(rec);
            if hs.is_none() && rec.ops > 0 {
                unlogged.insert(k);
            }
        }
        for (end, h) in hs.iter().flatten() {
            let sum = sums.entry(key(offset + end)).or_insert_with(|| {
                let mut z = Histogram::new_from(h);
                z.auto(true);
                z
            });
            // Auto-resizing: adding cannot fail on range.
            let _ = sum.add(h);
        }
    }
    let merged = buckets
        .into_iter()
        .map(|(k, recs)| {
            let latency = match sums.get(&k) {
                Some(h) if !unlogged.contains(&k) => Percentiles::from_histogram(h),
                _ => worst_percentiles(recs.iter().map(|r| &r.latency_us)),
            };
            merge_interval(k as f64 * interval, &recs, latency)
        })
        .collect::<Vec<_>>();
    // The merged log, when every segment had one.
    let intervals = if hists.iter().all(Option::is_some) {
        merged
            .iter()
            .filter_map(|m| {
                let h = sums.get(&key(m.t_s))?;
                Some((m.t_s - m.dur_s, m.dur_s, h.clone()))
            })
            .collect()
    } else {
        Vec::new()
    };
    let hlog = MergedHlog {
        base_unix_s: if base.is_finite() { base } else { 0.0 },
        intervals,
    };
    (merged, interval, hlog)
}
