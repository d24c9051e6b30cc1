//! The figures of one run that the gate compares, and their medians over repeats.
//!
//! [`Figures::of`] reads them from a results.json's steady state; a saved baseline stores them
//! as they are, so a baseline needs no results.json to be compared with.

use super::capacity::SearchFigures;
use super::rule::median;
use results::RunResult;
use serde::{Deserialize, Serialize};

/// The figures of one run that the gate compares.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Figures {
    pub committed_tps: f64,
    pub ops_per_s: f64,
    /// Fraction (0.001 = 0.1 %).
    pub error_rate: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub rss_peak_bytes: Option<u64>,
    pub cpu_avg_pct: Option<f64>,
    /// Committed transactions per CPU-second of the harness process over the whole run
    /// (results.json's `resources.tx_per_cpu_s`; `None` for results written before it was
    /// recorded). Throughput that a busy shared machine cannot fake: another job taking a
    /// core halves the TPS but not the work done per CPU-second.
    #[serde(default)]
    pub tx_per_cpu_s: Option<f64>,
    /// Every measured (non-warm-up) stage is closed-model: workers as fast as the CPU allows,
    /// so the CPU average says how much CPU the machine had to spare, not what the work cost.
    #[serde(default)]
    pub closed_model: bool,
    /// CPU-seconds the load generator (the harness process) spent per million operations over
    /// the whole run, when it ran apart from the target (HTTP): what driving the load cost,
    /// which is what tells two drivers apart. Shown, not judged.
    #[serde(default)]
    pub generator_cpu_s_per_m_ops: Option<f64>,
    /// Peak RSS of the load generator when it ran apart from the target. Shown, not judged.
    #[serde(default)]
    pub generator_rss_peak_bytes: Option<u64>,
    /// The steady state's latency percentiles with their sampling intervals, shown next to a
    /// single run's figures (never judged: the CI-gate issue owns the rule). Absent in
    /// baselines saved before it was recorded and in medians of several runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<results::Percentiles>,
    /// What the run's capacity search found, when it was one. Kept per run, never as a median:
    /// the capacity rule reads each run's bracket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<SearchFigures>,
    /// How busy the machine was with other work during the run (results.json's
    /// `resources.noise`): shown beside the figures and noted when a regression coincides
    /// with a busy machine, never judged. Absent off Linux and in older baselines and results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<results::Noise>,
    /// The instructions callgrind counted (`harness run --count-instructions`), with the
    /// functions that executed them. When a side has them, its times were measured under
    /// valgrind and are shown, not judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<results::Instructions>,
}

impl Figures {
    /// The gate's figures of a run (its steady state).
    pub fn of(r: &RunResult) -> Figures {
        let s = &r.summary;
        Figures {
            committed_tps: s.committed_tps,
            ops_per_s: s.ops_per_s,
            error_rate: s.error_rate,
            p50_us: s.latency_us.p50,
            p99_us: s.latency_us.p99,
            p999_us: s.latency_us.p999,
            rss_peak_bytes: r.resources.target.rss_peak,
            cpu_avg_pct: r.resources.target.cpu_avg_pct,
            tx_per_cpu_s: r.resources.tx_per_cpu_s,
            closed_model: r
                .scenario
                .stages_planned
                .iter()
                .filter(|s| !s.warmup)
                .all(|s| s.model == results::LoadModel::Closed),
            generator_cpu_s_per_m_ops: generator_cost(r),
            generator_rss_peak_bytes: (!r.resources.same_process)
                .then_some(r.resources.harness.rss_peak)
                .flatten(),
            latency_us: Some(s.latency_us.clone()),
            capacity: SearchFigures::of(r),
            noise: r.resources.noise.clone(),
            instructions: r.instructions.clone(),
        }
    }

    /// Per-metric medians of several runs (`None` where no run measured the metric).
    pub fn median_of(runs: &[Figures]) -> Option<Figures> {
        if runs.is_empty() {
            return None;
        }
        let m = |f: fn(&Figures) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
        let rss: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.rss_peak_bytes.map(|b| b as f64))
            .collect();
        let cpu: Vec<f64> = runs.iter().filter_map(|r| r.cpu_avg_pct).collect();
        let eff: Vec<f64> = runs.iter().filter_map(|r| r.tx_per_cpu_s).collect();
        let gen_cpu: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.generator_cpu_s_per_m_ops)
            .collect();
        let gen_rss: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.generator_rss_peak_bytes.map(|b| b as f64))
            .collect();
        Some(Figures {
            committed_tps: m(|r| r.committed_tps)?,
            ops_per_s: m(|r| r.ops_per_s)?,
            error_rate: m(|r| r.error_rate)?,
            p50_us: m(|r| r.p50_us)?,
            p99_us: m(|r| r.p99_us)?,
            p999_us: m(|r| r.p999_us)?,
            rss_peak_bytes: median(&rss).map(|v| v.round() as u64),
            cpu_avg_pct: median(&cpu),
            tx_per_cpu_s: median(&eff),
            closed_model: runs.iter().all(|r| r.closed_model),
            generator_cpu_s_per_m_ops: median(&gen_cpu),
            generator_rss_peak_bytes: median(&gen_rss).map(|v| v.round() as u64),
            // One run's interval says something about that run; a median of several has none.
            latency_us: match runs {
                [one] => one.latency_us.clone(),
                _ => None,
            },
            // A bracket has no median; a saved baseline keeps each run's in `runs`.
            capacity: match runs {
                [one] => one.capacity.clone(),
                _ => None,
            },
            // Noise has no median that means anything: the busiest run's, the one a reader
            // should know about (each run's is in `runs`).
            noise: busiest(runs.iter().filter_map(|r| r.noise.as_ref())).cloned(),
            instructions: median_count(runs).cloned(),
        })
    }
}

/// The count of the run whose count per unit of work is the (lower) median: a real count,
/// functions and all, rather than an average of several.
pub(super) fn median_count(runs: &[Figures]) -> Option<&results::Instructions> {
    let mut counted: Vec<&results::Instructions> = runs
        .iter()
        .filter_map(|r| r.instructions.as_ref())
        .collect();
    counted.sort_by(|a, b| per_unit(a).total_cmp(&per_unit(b)));
    counted.get(counted.len().saturating_sub(1) / 2).copied()
}

/// Instructions per committed transaction, or per operation when nothing was committed.
pub fn per_unit(i: &results::Instructions) -> f64 {
    i.per_tx.unwrap_or(i.per_op)
}

/// The noise of the run whose machine was busiest (highest average of other processes' CPU).
pub(super) fn busiest<'a>(
    noise: impl Iterator<Item = &'a results::Noise>,
) -> Option<&'a results::Noise> {
    noise.max_by(|a, b| a.other_cpu_avg_pct.total_cmp(&b.other_cpu_avg_pct))
}

/// The harness's CPU-seconds per million operations of the whole run (warm-up included, as the
/// CPU time is), for a generator that ran apart from its target.
fn generator_cost(r: &RunResult) -> Option<f64> {
    if r.resources.same_process {
        return None;
    }
    let ops: u64 = r.stages.iter().map(|s| s.ops).sum();
    let cpu = r.resources.harness.cpu_seconds?;
    (ops > 0).then(|| cpu / ops as f64 * 1e6)
}
