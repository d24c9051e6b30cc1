//! `harness merge`: the results of a run's execution segments combined into one [`RunResult`].
//!
//! Each segment (`harness run --segment i/n`, see [`crate::plan::segment`]) wrote its own
//! `results.json`. Merging sums what adds up (committed transactions, operations, errors, rates
//! per interval, planned load), merges the steady-state HDR histograms by addition (lossless:
//! the merged histogram is the one a single recorder of every sample would hold), keeps
//! resources per instance (they belong to different machines), and re-evaluates the scenario's
//! criteria on the merged figures with the verdict `harness run` uses ([`crate::analysis::verdict`]).
//!
//! Intervals are aligned on wall-clock boundaries: each segment records the wall-clock time of
//! its t = 0, and an interval of segment j ending at `t_s` lands in the merged interval whose
//! end is nearest to `origin_j + t_s`. Per-interval latency percentiles come from the sum of the
//! segments' interval histograms, read from each segment's `latency.hlog` (exact; the merged
//! intervals are written as the merged run's own `latency.hlog`); when a segment's log is
//! missing, the intervals it recorded fall back to the worst segment's percentiles (an upper
//! bound). Per-stage percentiles likewise come from the sum of the segments' stage histograms
//! (results from before those were kept: the worst segment's); the whole-run percentiles come
//! from the exact merged histogram. Request templates are combined by name, their percentiles
//! likewise from the sum of their histograms ([`templates`]).
//!
//! Inputs are checked first: no capacity search (a search is one run of many probes, each
//! judged alone, and is never run in segments: `--segment` refuses it), same scenario (name,
//! file hash, duration scale), same segment count, no segment twice, none missing unless
//! allowed (the verdict is then `invalid` and its reasons name the missing segments).
//!
//! Here: reading inputs, checking them and the whole merge; [`parts`] builds each part of the
//! merged result, [`intervals`] the merged intervals and `latency.hlog`, [`templates`] the
//! per-template figures, [`audit`] the audit.

mod audit;
mod intervals;
mod parts;
mod templates;

use crate::analysis::verdict::{self, Facts};
use crate::exit::Exit;
use anyhow::{Context, Result};
use audit::merge_audit;
pub(crate) use intervals::read_hlog;
pub use intervals::MergedHlog;
use intervals::{interval_histograms, merge_intervals, write_hlog};
use parts::{
    merge_note, merge_stages, merged_environment, merged_histogram, merged_resources,
    merged_scenario, merged_segment_info, merged_summary, merged_tls,
};
use results::{RunResult, SegmentInfo, Status, Verdict};
use scenario::Criteria;
use std::path::{Path, PathBuf};
use std::time::Duration;
use templates::merge_templates;

/// Why segment results cannot be merged; every message names the files involved.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no results to merge (give results.json files or directories holding them)")]
    NoInputs,
    #[error("{file} is a capacity search; searches are not run in segments and cannot be merged")]
    CapacitySearch { file: PathBuf },
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

fn scenario_id(r: &RunResult) -> String {
    format!(
        "scenario {:?} (sha256 {}, duration scale {})",
        r.scenario.name,
        &r.scenario.sha256[..r.scenario.sha256.len().min(12)],
        r.scenario.duration_scale
    )
}

/// One input: the file it came from, the result and its segment tag.
pub(super) type Seg<'a> = (&'a Path, &'a RunResult, &'a SegmentInfo);

/// Checks the inputs and returns them sorted by segment index, with the missing indexes.
fn check(
    inputs: &[(PathBuf, RunResult)],
    allow_missing: bool,
) -> Result<(Vec<Seg<'_>>, Vec<u32>), MergeError> {
    let mut segs = Vec::with_capacity(inputs.len());
    for (f, r) in inputs {
        // Before the segment check: a search carries no segment, and "not a segment" would
        // suggest running it with --segment, which a search refuses.
        if r.capacity.as_ref().is_some_and(|c| c.search.is_some()) {
            return Err(MergeError::CapacitySearch { file: f.clone() });
        }
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
            "max_rss_slope" => c.max_rss_slope = Some(v as u64),
            "max_cpu" => c.max_cpu_pct = Some(v),
            "max_startup" => c.max_startup = d(v),
            _ => {}
        }
    }
    c
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
    let hist = merged_histogram(&segs, |r| r.histogram.as_ref())?;
    let failed = merged_histogram(&segs, |r| r.histogram_failed.as_ref())?;
    let summary = merged_summary(&segs, [hist.as_ref(), failed.as_ref()]);
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
    driver.tls = merged_tls(&segs);
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
        templates: merge_templates(&segs),
        intervals,
        resources: merged_resources(&segs),
        audit,
        criteria: Vec::new(),
        histogram: hist
            .as_ref()
            .and_then(|h| results::encode_histogram(h).ok()),
        histogram_failed: failed
            .as_ref()
            .and_then(|h| results::encode_histogram(h).ok()),
        percentiles: hist
            .as_ref()
            .map(results::percentile_points)
            .unwrap_or_default(),
        profile: None,
        instructions: None,
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
