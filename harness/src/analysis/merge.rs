//! `harness merge`: the results of a run's execution segments combined into one [`RunResult`].
//!
//! Each segment (`harness run --segment i/n`, see [`crate::plan::segment`]) wrote its own
//! `results.json`. Merging sums what adds up (committed transactions, operations, errors, rates
//! per interval, planned load), merges the steady-state HDR histograms by addition (lossless:
//! the merged histogram is the one a single recorder of every sample would hold), keeps
//! resources per instance (they belong to different machines), and re-evaluates the scenario's
//! criteria on the merged figures with the same code `harness run` uses ([`crate::analysis::criteria`]).
//!
//! Intervals are aligned on wall-clock boundaries: each segment records the wall-clock time of
//! its t = 0, and an interval of segment j ending at `t_s` lands in the merged interval whose
//! end is nearest to `origin_j + t_s`. Per-interval latency percentiles come from the sum of the
//! segments' interval histograms, read from each segment's `latency.hlog` (exact; the merged
//! intervals are written as the merged run's own `latency.hlog`); when a segment's log is
//! missing, the intervals it recorded fall back to the worst segment's percentiles (an upper
//! bound). Per-stage percentiles likewise come from the sum of the segments' stage histograms
//! (results from before those were kept: the worst segment's); the whole-run percentiles come
//! from the exact merged histogram.
//!
//! Inputs are checked first: same scenario (name, file hash, duration scale), same segment
//! count, no segment twice, none missing unless allowed (the verdict is then `invalid` and its
//! reasons name the missing segments).

use crate::analysis::verdict::{self, Facts};
use crate::exit::Exit;
use anyhow::{Context, Result};
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry,
};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;
use results::{
    AuditResult, InstanceResult, IntervalRecord, MergedSegments, Percentiles, ProcessResources,
    Resources, RunResult, SegmentInfo, StageResult, Status, Summary, Verdict,
};
use scenario::Criteria;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why segment results cannot be merged; every message names the files involved.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no results to merge (give results.json files or directories holding them)")]
    NoInputs,
    #[error("{file}: not an execution segment (run with --segment i/n); nothing to merge it with")]
    NotASegment { file: PathBuf },
    #[error("{file}: already a merged result; merge the segments' own results.json files")]
    AlreadyMerged { file: PathBuf },
    #[error("different scenarios: {a} ran {a_what} but {b} ran {b_what}")]
    DifferentScenarios {
        a: PathBuf,
        a_what: String,
        b: PathBuf,
        b_what: String,
    },
    #[error("different segment counts: {a} is a segment of {a_count} but {b} of {b_count}")]
    DifferentCounts {
        a: PathBuf,
        a_count: u32,
        b: PathBuf,
        b_count: u32,
    },
    #[error("segment {index} of {count} given twice (overlapping segments): {a} and {b}")]
    Duplicate {
        index: u32,
        count: u32,
        a: PathBuf,
        b: PathBuf,
    },
    #[error("segments {missing:?} of {count} are missing (0-based); pass --allow-missing to merge the others anyway")]
    Missing { missing: Vec<u32>, count: u32 },
    #[error("{file}: its steady-state histogram cannot be read: {why}")]
    Histogram { file: PathBuf, why: String },
}

/// Options of `harness merge`.
#[derive(Clone, Debug, Default)]
pub struct MergeOptions {
    /// results.json files, or directories searched (recursively) for them.
    pub inputs: Vec<PathBuf>,
    /// Where the merged results.json and reports go (default
    /// `reports/<scenario>/<timestamp>-merged`).
    pub out: Option<PathBuf>,
    pub allow_missing: bool,
    pub no_reports: bool,
}

/// Finds the results to merge: files as given, directories searched for `results.json`
/// (symbolic links such as `latest` are skipped so no run is read twice; merged results found
/// in directories are skipped so a merge can be repeated in place).
pub fn collect_inputs(inputs: &[PathBuf]) -> Result<Vec<(PathBuf, RunResult)>> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("reading directory {}", dir.display()))?
            .collect::<std::io::Result<_>>()
            .with_context(|| format!("reading directory {}", dir.display()))?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p)
                .with_context(|| format!("reading {}", p.display()))?;
            if meta.is_dir() {
                walk(&p, found)?;
            } else if meta.is_file() && e.file_name() == "results.json" {
                found.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found = Vec::new();
            walk(input, &mut found)?;
            for f in found {
                let r = RunResult::read(&f)?;
                if r.segment.as_ref().is_some_and(|s| s.merged.is_some()) {
                    continue;
                }
                out.push((f, r));
            }
        } else {
            let r = RunResult::read(input)?;
            out.push((input.clone(), r));
        }
    }
    Ok(out)
}

/// `harness merge`: reads, merges, writes results.json, the merged interval log and the
/// reports, prints the summary and returns the merged verdict's exit code. Inputs that cannot
/// be merged are a [`MergeError`] (exit 2); a log or report that cannot be written is told to
/// the user and exits 5 once everything else was written.
pub fn run(opts: &MergeOptions) -> Result<Exit> {
    let inputs = collect_inputs(&opts.inputs)?;
    let (mut merged, hlog) = merge_with_intervals(&inputs, opts.allow_missing)?;
    let dir = match &opts.out {
        Some(d) => d.clone(),
        None => PathBuf::from("reports")
            .join(&merged.scenario.name)
            .join(format!(
                "{}-merged",
                crate::observe::environment::now_rfc3339().replace(':', "-")
            )),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut problems = Vec::new();
    if let Some(hlog) = hlog {
        let path = dir.join("latency.hlog");
        match write_hlog(&path, &hlog) {
            Ok(()) => merged.files.hlog = Some("latency.hlog".to_string()),
            Err(e) => problems.push(format!("writing {} failed: {e:#}", path.display())),
        }
    }
    merged
        .write(dir.join("results.json"))
        .with_context(|| format!("writing results.json in {}", dir.display()))?;
    if !opts.no_reports {
        if let Err(e) = report::render_all(&merged, &dir) {
            problems.push(format!(
                "rendering the reports in {} failed: {e}",
                dir.display()
            ));
        }
    }
    println!("{}", report::text_summary(&merged));
    println!("results: {}", dir.join("results.json").display());
    for p in &problems {
        eprintln!("error: {p}");
    }
    Ok(if problems.is_empty() {
        Exit::of(merged.verdict.status)
    } else {
        Exit::Internal
    })
}

/// Adds the counters a [`StageResult`] and a [`Summary`] share (same field names) from `parts`
/// into `into`. Every segment runs the same request mix, so an error rate counted against
/// transactions is proportional to one counted against operations: rates are weighted by ops.
macro_rules! sum_counts {
    ($into:expr, $parts:expr) => {{
        let into = &mut $into;
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

fn scenario_id(r: &RunResult) -> String {
    format!(
        "scenario {:?} (sha256 {}, duration scale {})",
        r.scenario.name,
        &r.scenario.sha256[..r.scenario.sha256.len().min(12)],
        r.scenario.duration_scale
    )
}

/// One input: the file it came from, the result and its segment tag.
type Seg<'a> = (&'a Path, &'a RunResult, &'a SegmentInfo);

/// Checks the inputs and returns them sorted by segment index, with the missing indexes.
fn check(
    inputs: &[(PathBuf, RunResult)],
    allow_missing: bool,
) -> Result<(Vec<Seg<'_>>, Vec<u32>), MergeError> {
    let mut segs = Vec::with_capacity(inputs.len());
    for (f, r) in inputs {
        match &r.segment {
            None => return Err(MergeError::NotASegment { file: f.clone() }),
            Some(s) if s.merged.is_some() => {
                return Err(MergeError::AlreadyMerged { file: f.clone() })
            }
            Some(s) => segs.push((f.as_path(), r, s)),
        }
    }
    let Some(&(f0, r0, s0)) = segs.first() else {
        return Err(MergeError::NoInputs);
    };
    for &(f, r, s) in &segs[1..] {
        if r.scenario.name != r0.scenario.name
            || r.scenario.sha256 != r0.scenario.sha256
            || r.scenario.duration_scale != r0.scenario.duration_scale
        {
            return Err(MergeError::DifferentScenarios {
                a: f0.to_path_buf(),
                a_what: scenario_id(r0),
                b: f.to_path_buf(),
                b_what: scenario_id(r),
            });
        }
        if s.count != s0.count {
            return Err(MergeError::DifferentCounts {
                a: f0.to_path_buf(),
                a_count: s0.count,
                b: f.to_path_buf(),
                b_count: s.count,
            });
        }
    }
    segs.sort_by_key(|(_, _, s)| s.index);
    for w in segs.windows(2) {
        if w[0].2.index == w[1].2.index {
            return Err(MergeError::Duplicate {
                index: w[0].2.index,
                count: s0.count,
                a: w[0].0.to_path_buf(),
                b: w[1].0.to_path_buf(),
            });
        }
    }
    let missing: Vec<u32> = (0..s0.count)
        .filter(|i| !segs.iter().any(|(_, _, s)| s.index == *i))
        .collect();
    if !missing.is_empty() && !allow_missing {
        return Err(MergeError::Missing {
            missing,
            count: s0.count,
        });
    }
    Ok((segs, missing))
}

/// Sums two maps of counts by key.
fn add_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

/// Worst-case percentiles of several summaries: counts add, the mean is count-weighted, each
/// percentile is the largest (an upper bound of the merged value; exact for `max`).
fn worst_percentiles<'a>(ps: impl Iterator<Item = &'a Percentiles>) -> Percentiles {
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

/// The merged run's interval histograms, for its `latency.hlog`.
pub struct MergedHlog {
    /// Wall-clock time (Unix seconds) of the merged run's t = 0.
    pub base_unix_s: f64,
    /// (start s, duration s, histogram) of each merged interval that recorded anything.
    pub intervals: Vec<(f64, f64, Histogram<u64>)>,
}

/// One segment's interval histograms: (interval end in seconds since its t = 0, histogram).
type IntervalHists = Vec<(f64, Histogram<u64>)>;

/// A segment's per-interval latency histograms from its `latency.hlog`. `None` when the result
/// names no log or it cannot be read in full.
fn interval_histograms(file: &Path, r: &RunResult) -> Option<IntervalHists> {
    let name = r.files.hlog.as_deref()?;
    let bytes = std::fs::read(file.parent()?.join(name)).ok()?;
    let mut out = Vec::new();
    for entry in IntervalLogIterator::new(&bytes) {
        if let LogEntry::Interval(i) = entry.ok()? {
            let h = results::decode_histogram(i.encoded_histogram()).ok()?;
            out.push(((i.start_timestamp() + i.duration()).as_secs_f64(), h));
        }
    }
    Some(out)
}

fn write_hlog(path: &Path, m: &MergedHlog) -> Result<()> {
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
fn merge_interval(t_s: f64, recs: &[&IntervalRecord], latency_us: Percentiles) -> IntervalRecord {
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
    }
    m
}

fn merge_intervals(
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

fn merge_stages(segs: &[Seg<'_>]) -> Vec<StageResult> {
    let (_, r0, _) = segs[0];
    r0.stages
        .iter()
        .map(|s0| {
            let all: Vec<&StageResult> = segs
                .iter()
                .filter_map(|(_, r, _)| r.stages.iter().find(|s| s.index == s0.index))
                .collect();
            // Exact when every segment that ran the stage kept its histogram.
            let mut sum: Option<Histogram<u64>> = None;
            let mut exact = true;
            for s in &all {
                match s.histogram.as_deref().map(results::decode_histogram) {
                    Some(Ok(h)) => match sum.as_mut() {
                        Some(m) => exact &= m.add(&h).is_ok(),
                        None => {
                            let mut h = h;
                            h.auto(true);
                            sum = Some(h);
                        }
                    },
                    Some(Err(_)) => exact = false,
                    None => exact &= s.ops == 0,
                }
            }
            let sum = sum.filter(|_| exact);
            let mut m = StageResult {
                latency_us: match &sum {
                    Some(h) => Percentiles::from_histogram(h),
                    None => worst_percentiles(all.iter().map(|s| &s.latency_us)),
                },
                histogram: sum.as_ref().and_then(|h| results::encode_histogram(h).ok()),
                start_s: all.iter().map(|s| s.start_s).fold(f64::INFINITY, f64::min),
                end_s: all.iter().map(|s| s.end_s).fold(0.0, f64::max),
                committed: 0,
                committed_tps: 0.0,
                ops: 0,
                ops_per_s: 0.0,
                errors: 0,
                error_rate: 0.0,
                errors_by_kind: BTreeMap::new(),
                ..s0.clone()
            };
            sum_counts!(m, all.iter());
            m
        })
        .collect()
}

/// The worst instance's figure of each kind (peaks and averages: the largest; CPU seconds:
/// the sum), for criteria that bound every machine.
fn worst_resources<'a>(ps: impl Iterator<Item = &'a ProcessResources>) -> ProcessResources {
    let max_f = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
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
    })
}

/// The scenario's criteria as the segments recorded them, throughput targets scaled back from
/// a segment's share to `share` of the whole plan.
fn criteria_of(r: &RunResult, seg_share: f64, share: f64) -> Criteria {
    let mut c = Criteria::default();
    let d = |us: f64| Some(Duration::from_secs_f64((us / 1e6).max(0.0)));
    for cr in &r.criteria {
        let v = cr.target_value;
        match cr.name.as_str() {
            "min_tps" => c.min_tps = Some(v / seg_share * share),
            "min_interval_tps" => c.min_interval_tps = Some(v / seg_share * share),
            "max_p50" => c.max_p50 = d(v),
            "max_p90" => c.max_p90 = d(v),
            "max_p99" => c.max_p99 = d(v),
            "max_p999" => c.max_p999 = d(v),
            "max_error_rate" => c.max_error_rate = Some(v / 100.0),
            "max_rss" => c.max_rss = Some(v as u64),
            "max_rss_growth" => c.max_rss_growth = Some(v as u64),
            "max_cpu" => c.max_cpu_pct = Some(v),
            "max_startup" => c.max_startup = d(v),
            _ => {}
        }
    }
    c
}

/// The engine audit of a merged run. In-process segments each audited their own engine: all
/// must pass and the counts add. HTTP segments share one engine: the audit of the segment that
/// read it last stands, and the engine's committed count over the whole run must equal the
/// segments' sum.
fn merge_audit(
    segs: &[Seg<'_>],
    committed: u64,
    complete: bool,
    notes: &mut Vec<String>,
) -> Option<AuditResult> {
    let audits: Vec<(&RunResult, &SegmentInfo, &AuditResult)> = segs
        .iter()
        .filter_map(|(_, r, s)| r.audit.as_ref().map(|a| (*r, *s, a)))
        .collect();
    let first = audits.first()?;
    if first.0.scenario.target_kind == "in-process" {
        let mut m = first.2.clone();
        for (_, s, a) in &audits[1..] {
            m.ok &= a.ok;
            m.total_supply_expected += a.total_supply_expected;
            m.total_supply_actual += a.total_supply_actual;
            m.committed_transfers += a.committed_transfers;
            m.nonce_advances += a.nonce_advances;
            m.ledger_height += a.ledger_height;
            m.ledger_total_tx += a.ledger_total_tx;
            m.ledger_consistent &= a.ledger_consistent;
            add_counts(&mut m.rejected_by_reason, &a.rejected_by_reason);
            m.problems.extend(
                a.problems
                    .iter()
                    .map(|p| format!("segment {}: {p}", s.index)),
            );
        }
        return Some(m);
    }
    let (_, _, last) = audits
        .iter()
        .max_by_key(|(_, s, _)| s.engine_committed_after.unwrap_or(0))?;
    let mut m = (*last).clone();
    let before = segs
        .iter()
        .map(|(_, _, s)| s.engine_committed_before)
        .collect::<Option<Vec<u64>>>();
    let after = segs
        .iter()
        .map(|(_, _, s)| s.engine_committed_after)
        .collect::<Option<Vec<u64>>>();
    match (before, after) {
        (Some(b), Some(a)) if complete => {
            let max_after = a.iter().max().copied().unwrap_or(0);
            let engine = max_after.saturating_sub(b.iter().min().copied().unwrap_or(0));
            if engine == committed {
                notes.push(format!(
                    "engine stats agree: the engine committed {engine} transfers during the run, the segments' sum"
                ));
            } else {
                m.ok = false;
                m.problems.push(format!(
                    "the engine committed {engine} transfers during the run but the segments counted {committed} in their answers"
                ));
            }
        }
        (Some(_), Some(_)) => notes.push(
            "segments are missing: the engine's committed count is not compared with the merged sum"
                .to_string(),
        ),
        _ => notes.push(
            "not every segment recorded the engine's committed counts: not compared".to_string(),
        ),
    }
    Some(m)
}

/// Merges checked segment results into one. `inputs` pairs each result with the file it came
/// from (for error messages and the per-instance list).
pub fn merge(
    inputs: &[(PathBuf, RunResult)],
    allow_missing: bool,
) -> Result<RunResult, MergeError> {
    merge_with_intervals(inputs, allow_missing).map(|(r, _)| r)
}

/// [`merge`], plus the merged interval histograms for a `latency.hlog` (`None` unless every
/// segment's log was read).
pub fn merge_with_intervals(
    inputs: &[(PathBuf, RunResult)],
    allow_missing: bool,
) -> Result<(RunResult, Option<MergedHlog>), MergeError> {
    let (segs, missing) = check(inputs, allow_missing)?;
    let (_, r0, s0) = segs[0];
    let count = s0.count;
    let share: f64 = segs.iter().map(|(_, _, s)| s.share).sum();
    let hist = merged_histogram(&segs)?;
    let summary = merged_summary(&segs, hist.as_ref());
    let hists: Vec<_> = segs
        .iter()
        .map(|(f, r, _)| interval_histograms(f, r))
        .collect();
    let (intervals, interval, hlog) = merge_intervals(&segs, &hists);
    let exact = hists.iter().all(Option::is_some);
    let stages = merge_stages(&segs);
    let mut notes = r0.driver.notes.clone();
    notes.push(merge_note(&segs, count, exact, &stages));
    // The engine counts warm-up too: compare with every stage's commits, not the steady state's.
    let committed_all: u64 = stages.iter().map(|s| s.committed).sum();
    let audit = merge_audit(&segs, committed_all, missing.is_empty(), &mut notes);
    let mut driver = r0.driver.clone();
    driver.notes = notes;
    let mut result = RunResult {
        schema_version: results::SCHEMA_VERSION,
        scenario: merged_scenario(&segs, share),
        environment: merged_environment(&segs),
        driver,
        verdict: Verdict {
            status: Status::Pass,
            reasons: Vec::new(),
        },
        summary,
        stages,
        intervals,
        resources: merged_resources(&segs),
        audit,
        criteria: Vec::new(),
        histogram: hist
            .as_ref()
            .and_then(|h| results::encode_histogram(h).ok()),
        percentiles: hist
            .as_ref()
            .map(results::percentile_points)
            .unwrap_or_default(),
        profile: None,
        capacity: None,
        segment: Some(merged_segment_info(&segs, &missing, share)),
        files: results::Files::default(),
    };
    verdict::judge(
        &mut result,
        &criteria_of(r0, s0.share, share),
        &merge_facts(&segs, &missing, count, share, interval),
    );
    Ok((result, exact.then_some(hlog)))
}

/// Whole-run latency: the exact sum of the segments' histograms.
fn merged_histogram(segs: &[Seg<'_>]) -> Result<Option<Histogram<u64>>, MergeError> {
    let mut hist: Option<Histogram<u64>> = None;
    for (f, r, _) in segs {
        let Some(decoded) = r.decode_histogram() else {
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

/// Counts and rates summed; the run as long as the longest segment's steady state.
fn merged_summary(segs: &[Seg<'_>], hist: Option<&Histogram<u64>>) -> Summary {
    let mut summary = Summary {
        duration_s: segs
            .iter()
            .map(|(_, r, _)| r.summary.duration_s)
            .fold(0.0, f64::max),
        committed: 0,
        committed_tps: 0.0,
        ops: 0,
        ops_per_s: 0.0,
        errors: 0,
        error_rate: 0.0,
        errors_by_kind: BTreeMap::new(),
        latency_us: hist.map(Percentiles::from_histogram).unwrap_or_default(),
    };
    sum_counts!(summary, segs.iter().map(|(_, r, _)| &r.summary));
    summary
}

/// The driver note that says what was merged and how exact each figure is.
fn merge_note(segs: &[Seg<'_>], count: u32, exact: bool, stages: &[StageResult]) -> String {
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
fn merged_scenario(segs: &[Seg<'_>], share: f64) -> results::ScenarioInfo {
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
fn merged_environment(segs: &[Seg<'_>]) -> results::Environment {
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
fn merged_resources(segs: &[Seg<'_>]) -> Resources {
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
    }
}

/// The merged run's segment tag: the whole share, the shared engine's counts, every instance.
fn merged_segment_info(segs: &[Seg<'_>], missing: &[u32], share: f64) -> SegmentInfo {
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

/// How the merge ended, for the verdict: segments missing make it invalid, a segment that was
/// interrupted makes it aborted.
fn merge_facts(segs: &[Seg<'_>], missing: &[u32], count: u32, share: f64, interval: f64) -> Facts {
    let present: Vec<u32> = segs.iter().map(|(_, _, s)| s.index).collect();
    Facts {
        interval_s: interval,
        invalid: if missing.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "segments {missing:?} of {count} are missing: these figures cover only segments {present:?} (share {share:.3} of the plan; throughput targets scaled to it)"
            )]
        },
        aborted: segs
            .iter()
            .find(|(_, r, _)| r.verdict.status == Status::Aborted)
            .map(|(_, _, s)| {
                format!(
                    "segment {} was interrupted; figures cover what ran",
                    s.index
                )
            }),
    }
}

/// A segment's startup from its criteria table, for results written before `startup_s` was.
fn recorded_startup_s(r: &RunResult) -> Option<f64> {
    r.criteria
        .iter()
        .find(|c| c.name == "max_startup")
        .and_then(|c| c.measured_value)
        .map(|us| us / 1e6)
}
