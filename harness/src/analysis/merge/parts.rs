//! The merged result's parts, each from every segment's: the whole-run histogram and summary,
//! stages, scenario, environment, resources (the worst instance's) and the segment tag.

use super::{MergeError, Seg};
use hdrhistogram::Histogram;
use results::{
    Dispatch, Failures, InstanceResult, MergedSegments, Percentiles, ProcessResources, Resources,
    RunResult, SegmentInfo, StageResult, Summary, TlsInfo,
};
use std::collections::BTreeMap;
/// Sets the counters a [`StageResult`] and a [`Summary`] share (same field names) in `into` to
/// the sum of `parts`' (whatever `into` held before). Every segment runs the same request mix,
/// so an error rate counted against transactions is proportional to one counted against
/// operations: rates are weighted by ops.
macro_rules! sum_counts {
    ($into:expr, $parts:expr) => {{
        let into = &mut $into;
        into.committed = 0;
        into.committed_tps = 0.0;
        into.ops = 0;
        into.ops_per_s = 0.0;
        into.errors = 0;
        into.error_rate = 0.0;
        into.errors_by_kind = BTreeMap::new();
        let mut weighted_rate = 0.0;
        for s in $parts {
            into.committed += s.committed;
            into.committed_tps += s.committed_tps;
            into.ops += s.ops;
            into.ops_per_s += s.ops_per_s;
            into.errors += s.errors;
            weighted_rate += s.error_rate * s.ops as f64;
            add_counts(&mut into.errors_by_kind, &s.errors_by_kind);
        }
        if into.ops > 0 {
            into.error_rate = weighted_rate / into.ops as f64;
        }
    }};
}

/// Sums two maps of counts by key.
pub(super) fn add_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

/// Worst-case percentiles of several summaries: counts add, the mean is count-weighted, each
/// percentile is the largest (an upper bound of the merged value; exact for `max`).
pub(super) fn worst_percentiles<'a>(ps: impl Iterator<Item = &'a Percentiles>) -> Percentiles {
    let mut out = Percentiles::default();
    let mut weighted_mean = 0.0;
    for p in ps {
        out.count += p.count;
        weighted_mean += p.mean * p.count as f64;
        out.p50 = out.p50.max(p.p50);
        out.p90 = out.p90.max(p.p90);
        out.p99 = out.p99.max(p.p99);
        out.p999 = out.p999.max(p.p999);
        out.max = out.max.max(p.max);
    }
    if out.count > 0 {
        out.mean = weighted_mean / out.count as f64;
    }
    out
}

pub(super) fn merge_stages(segs: &[Seg<'_>]) -> Vec<StageResult> {
    let (_, r0, _) = segs[0];
    r0.stages
        .iter()
        .map(|s0| {
            let all: Vec<&StageResult> = segs
                .iter()
                .filter_map(|(_, r, _)| r.stages.iter().find(|s| s.index == s0.index))
                .collect();
            let sum = exact_sum(all.iter().map(|s| (s.histogram.as_ref(), s.ops)));
            let mut m = StageResult {
                latency_us: match &sum {
                    Some(h) => Percentiles::from_histogram(h),
                    None => worst_percentiles(all.iter().map(|s| &s.latency_us)),
                },
                histogram: sum.as_ref().and_then(|h| results::encode_histogram(h).ok()),
                start_s: all.iter().map(|s| s.start_s).fold(f64::INFINITY, f64::min),
                end_s: all.iter().map(|s| s.end_s).fold(0.0, f64::max),
                ..s0.clone()
            };
            sum_counts!(m, all.iter());
            m
        })
        .collect()
}

/// The sum of several segments' histograms of one part of the run (a stage, a template),
/// given with the part's operations: exact when every segment that ran an operation of it kept
/// a histogram that reads, else `None` (the caller takes the worst segment's percentiles).
pub(super) fn exact_sum<'a>(
    parts: impl Iterator<Item = (Option<&'a String>, u64)>,
) -> Option<Histogram<u64>> {
    let mut sum: Option<Histogram<u64>> = None;
    let mut exact = true;
    for (encoded, ops) in parts {
        match encoded.map(|e| results::decode_histogram(e)) {
            Some(Ok(h)) => match sum.as_mut() {
                Some(m) => exact &= m.add(&h).is_ok(),
                None => {
                    // Segments' histograms may cover different ranges: let the sum grow.
                    let mut h = h;
                    h.auto(true);
                    sum = Some(h);
                }
            },
            Some(Err(_)) => exact = false,
            None => exact &= ops == 0,
        }
    }
    sum.filter(|_| exact)
}

/// The worst instance's figure of each kind (peaks and averages: the largest; CPU seconds:
/// the sum), for criteria that bound every machine.
pub(super) fn worst_resources<'a>(
    ps: impl Iterator<Item = &'a ProcessResources>,
) -> ProcessResources {
    let max_f = crate::analysis::verdict::larger;
    let max_u = |a: Option<u64>, b: Option<u64>| a.max(b);
    ps.fold(ProcessResources::default(), |acc, p| ProcessResources {
        pid: None,
        cpu_avg_pct: max_f(acc.cpu_avg_pct, p.cpu_avg_pct),
        cpu_peak_pct: max_f(acc.cpu_peak_pct, p.cpu_peak_pct),
        cpu_seconds: match (acc.cpu_seconds, p.cpu_seconds) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        },
        rss_start: max_u(acc.rss_start, p.rss_start),
        rss_after_warmup: max_u(acc.rss_after_warmup, p.rss_after_warmup),
        rss_peak: max_u(acc.rss_peak, p.rss_peak),
        rss_end: max_u(acc.rss_end, p.rss_end),
        rss_slope_per_h: max_f(acc.rss_slope_per_h, p.rss_slope_per_h),
        busiest_thread_peak_pct: max_f(acc.busiest_thread_peak_pct, p.busiest_thread_peak_pct),
        busiest_thread_wait_peak_pct: max_f(
            acc.busiest_thread_wait_peak_pct,
            p.busiest_thread_wait_peak_pct,
        ),
    })
}

/// Whole-run latency: the exact sum of the segments' histograms, the one `pick` chooses
/// (successful or failed operations').
pub(super) fn merged_histogram(
    segs: &[Seg<'_>],
    pick: fn(&RunResult) -> Option<&String>,
) -> Result<Option<Histogram<u64>>, MergeError> {
    let mut hist: Option<Histogram<u64>> = None;
    for (f, r, _) in segs {
        let Some(decoded) = pick(r).map(|s| results::decode_histogram(s)) else {
            continue;
        };
        let h = decoded.map_err(|e| MergeError::Histogram {
            file: f.to_path_buf(),
            why: e.to_string(),
        })?;
        match hist.as_mut() {
            None => {
                // Segments' histograms may cover different ranges (each grew to its own max):
                // let the sum grow too.
                let mut h = h;
                h.auto(true);
                hist = Some(h);
            }
            Some(m) => m.add(&h).map_err(|e| MergeError::Histogram {
                file: f.to_path_buf(),
                why: format!("{e:?}"),
            })?,
        }
    }
    Ok(hist)
}

/// Counts and rates (offered included) summed; the run as long as the longest segment's
/// steady state. `hists`: the summed histograms of the successful and the failed operations.
pub(super) fn merged_summary(segs: &[Seg<'_>], hists: [Option<&Histogram<u64>>; 2]) -> Summary {
    let mut summary = Summary {
        duration_s: segs
            .iter()
            .map(|(_, r, _)| r.summary.duration_s)
            .fold(0.0, f64::max),
        latency_us: hists[0]
            .map(Percentiles::from_histogram)
            .unwrap_or_default(),
        ..segs[0].1.summary.clone()
    };
    sum_counts!(summary, segs.iter().map(|(_, r, _)| &r.summary));
    summary.failures = merged_failures(segs, summary.ops, hists[1]);
    summary.dispatch = merged_dispatch(segs);
    // No connection histograms travel in results.json: the worst segment's, as for the lag.
    let worst = |f: fn(&Summary) -> Option<&Percentiles>| {
        let parts: Vec<&Percentiles> = segs.iter().filter_map(|(_, r, _)| f(&r.summary)).collect();
        (!parts.is_empty()).then(|| worst_percentiles(parts.into_iter()))
    };
    summary.connect_us = worst(|s| s.connect_us.as_ref());
    summary.tls_handshake_us = worst(|s| s.tls_handshake_us.as_ref());
    // Each segment offered its share of the plan: the shares add up, when every one is known.
    summary.offered_tps = segs.iter().map(|(_, r, _)| r.summary.offered_tps).sum();
    summary
}

/// Failed operations and transactions summed; the transaction error rate weighted by
/// operations, like `error_rate` (every segment runs the same mix).
fn merged_failures(segs: &[Seg<'_>], ops: u64, failed: Option<&Histogram<u64>>) -> Failures {
    let all = || segs.iter().map(|(_, r, _)| &r.summary);
    let failed_ops: u64 = all().map(|s| s.failures.failed_ops).sum();
    let weight = |s: &Summary| s.ops as f64 / ops.max(1) as f64;
    Failures {
        failed_ops,
        failed_tx: all().map(|s| s.failures.failed_tx).sum(),
        op_error_rate: failed_ops as f64 / ops.max(1) as f64,
        tx_error_rate: all()
            .map(|s| s.failures.tx_error_rate.map(|r| r * weight(s)))
            .sum(),
        latency_failed_us: failed.map(Percentiles::from_histogram),
        answers: crate::load::answers::merge(all().map(|s| s.failures.answers.clone())),
    }
}

/// Dispatch counts and rates summed, the lag's percentiles the worst segment's (upper
/// bounds); `None` when no segment dispatched open-model operations.
fn merged_dispatch(segs: &[Seg<'_>]) -> Option<Dispatch> {
    let parts: Vec<&Dispatch> = segs
        .iter()
        .filter_map(|(_, r, _)| r.summary.dispatch.as_ref())
        .collect();
    let first = (*parts.first()?).clone();
    Some(Dispatch {
        ops: parts.iter().map(|d| d.ops).sum(),
        late_ops: parts.iter().map(|d| d.late_ops).sum(),
        lag_us: worst_percentiles(parts.iter().map(|d| &d.lag_us)),
        offered_ops_per_s: parts.iter().map(|d| d.offered_ops_per_s).sum(),
        achieved_ops_per_s: parts.iter().map(|d| d.achieved_ops_per_s).sum(),
        ..first
    })
}

/// Every segment's TLS figures added up (the set-up is the same scenario's); the first
/// messages seen anywhere, with their counts summed.
pub(super) fn merged_tls(segs: &[Seg<'_>]) -> Option<TlsInfo> {
    let mut parts = segs.iter().filter_map(|(_, r, _)| r.driver.tls.as_ref());
    let mut out = parts.next()?.clone();
    for t in parts {
        out.handshakes += t.handshakes;
        out.resumed += t.resumed;
        add_counts(&mut out.by_version, &t.by_version);
        for e in &t.errors {
            match out.errors.iter_mut().find(|o| o.message == e.message) {
                Some(o) => o.count += e.count,
                None => out.errors.push(e.clone()),
            }
        }
    }
    Some(out)
}

/// The driver note that says what was merged and how exact each figure is.
pub(super) fn merge_note(
    segs: &[Seg<'_>],
    count: u32,
    exact: bool,
    stages: &[StageResult],
) -> String {
    format!(
        "merged from segments {:?} of {count} by harness merge: counts and rates summed, histograms added; whole-run percentiles are exact; {}; {}",
        segs.iter().map(|(_, _, s)| s.index).collect::<Vec<_>>(),
        if exact {
            "per-interval percentiles are exact (the segments' latency.hlog intervals, summed)"
        } else {
            "per-interval percentiles are the worst segment's (upper bounds) where a segment's latency.hlog was missing"
        },
        if stages.iter().all(|s| s.histogram.is_some() || s.ops == 0) {
            "per-stage percentiles are exact (the segments' stage histograms, summed)"
        } else {
            "per-stage percentiles are the worst segment's (upper bounds) where a segment kept no stage histogram"
        }
    )
}

/// The first segment's scenario with the whole plan's loads and throughput target.
pub(super) fn merged_scenario(segs: &[Seg<'_>], share: f64) -> results::ScenarioInfo {
    let (_, r0, s0) = segs[0];
    let mut scenario = r0.scenario.clone();
    scenario.target_tps = scenario.target_tps.map(|t| t / s0.share * share);
    for (k, p) in scenario.stages_planned.iter_mut().enumerate() {
        let parts = segs
            .iter()
            .filter_map(|(_, r, _)| r.scenario.stages_planned.get(k));
        let (from, to) = parts.fold((0.0, 0.0), |(f, t), s| (f + s.from, t + s.to));
        p.from = from;
        p.to = to;
    }
    scenario
}

/// The first segment's environment, from the earliest start to the latest finish.
pub(super) fn merged_environment(segs: &[Seg<'_>]) -> results::Environment {
    let mut environment = segs[0].1.environment.clone();
    environment.started_at = segs
        .iter()
        .map(|(_, r, _)| r.environment.started_at.clone())
        .min()
        .unwrap_or_default();
    environment.finished_at = segs
        .iter()
        .map(|(_, r, _)| r.environment.finished_at.clone())
        .max()
        .unwrap_or_default();
    environment
}

/// Resources: the worst instance's figures (each instance's own are in the segment info).
pub(super) fn merged_resources(segs: &[Seg<'_>]) -> Resources {
    let r0 = segs[0].1;
    Resources {
        cores: segs.iter().map(|(_, r, _)| r.resources.cores).sum(),
        same_process: r0.resources.same_process,
        cpu_pct_basis: format!(
            "{}; merged: the worst instance's figure (each instance's own under segment.merged.instances)",
            r0.resources.cpu_pct_basis
        ),
        target: worst_resources(segs.iter().map(|(_, r, _)| &r.resources.target)),
        harness: worst_resources(segs.iter().map(|(_, r, _)| &r.resources.harness)),
        rss_growth_bytes: segs
            .iter()
            .filter_map(|(_, r, _)| r.resources.rss_growth_bytes)
            .max(),
        startup_s: segs
            .iter()
            .filter_map(|(_, r, _)| r.resources.startup_s.or_else(|| recorded_startup_s(r)))
            .reduce(f64::max),
        // Each segment's work per CPU-second is its own process's; their sum means nothing.
        tx_per_cpu_s: None,
        // The busiest machine's, like the other resources: a warning on any instance holds
        // for the merged figures.
        noise: segs
            .iter()
            .filter_map(|(_, r, _)| r.resources.noise.clone())
            .max_by(|a, b| a.other_cpu_avg_pct.total_cmp(&b.other_cpu_avg_pct)),
    }
}

/// The merged run's segment tag: the whole share, the shared engine's counts, every instance.
pub(super) fn merged_segment_info(segs: &[Seg<'_>], missing: &[u32], share: f64) -> SegmentInfo {
    let s0 = segs[0].2;
    let mut info = SegmentInfo::new(s0.index, s0.count);
    info.share = share;
    info.clock_origin_unix_s = segs
        .iter()
        .filter_map(|(_, _, s)| s.clock_origin_unix_s)
        .reduce(f64::min);
    info.start = s0.start.clone();
    info.engine_committed_before = segs
        .iter()
        .filter_map(|(_, _, s)| s.engine_committed_before)
        .min();
    info.engine_committed_after = segs
        .iter()
        .filter_map(|(_, _, s)| s.engine_committed_after)
        .max();
    let instances = segs
        .iter()
        .map(|(f, r, s)| InstanceResult {
            segment: s.index,
            file: f.display().to_string(),
            hostname: r.environment.hostname.clone(),
            status: r.verdict.status,
            committed: r.summary.committed,
            committed_tps: r.summary.committed_tps,
            p99_us: r.summary.latency_us.p99,
            errors: r.summary.errors,
            resources: r.resources.clone(),
        })
        .collect();
    info.merged = Some(MergedSegments {
        present: segs.iter().map(|(_, _, s)| s.index).collect(),
        missing: missing.to_vec(),
        instances,
    });
    info
}

/// A segment's startup from its criteria table, for results written before `startup_s` was.
pub(super) fn recorded_startup_s(r: &RunResult) -> Option<f64> {
    r.criteria
        .iter()
        .find(|c| c.name == "max_startup")
        .and_then(|c| c.measured_value)
        .map(|us| us / 1e6)
}
