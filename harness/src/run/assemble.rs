//! Assembling the [`RunResult`] from what the collector measured, the target and the driver.
//!
//! Pure bookkeeping: no verdict is taken here (that is [`crate::analysis::verdict`]'s, shared
//! with `harness merge`), nothing is written, and every figure comes from the collector's
//! accumulators or the samples it took. Stages and request templates are summed up alike
//! ([`summarize`]).

use crate::drivers::Driver;
use crate::load::acc::Acc;
use crate::load::capacity::{CapacityCheck, StageUnit};
use crate::load::collector::Collected;
use crate::load::timeline::{SpanKind, Timeline};
use crate::load::worker::Shared;
use crate::observe::environment;
use crate::observe::sampler::ProcSample;
use crate::targets::Target;
use results::{
    CapacityResult, Dispatch, Files, LoadModel, Noise, Percentiles, ProcessResources, Resources,
    RunResult, ScenarioInfo, StagePlan, StageResult, Status, Summary, TemplateFigures, Verdict,
};
use scenario::{Load, Plan, RateUnit};

/// Everything a result is assembled from.
pub struct Parts<'a> {
    pub plan: &'a Plan,
    pub shared: &'a Shared,
    pub collected: &'a Collected,
    pub target: &'a Target,
    pub driver: &'a Driver,
    pub started_at: String,
}

/// The whole record of a run, without its verdict (status pass, no criteria yet).
pub fn assemble(p: &Parts<'_>) -> RunResult {
    let end_s = p
        .shared
        .elapsed(p.collected.end)
        .min(p.shared.timeline.total);
    let per_tx = p.target.per_tx_errors(p.plan);
    let audit = p.target.audit();
    let mut env = environment::capture(p.started_at.clone());
    env.finished_at = environment::now_rfc3339();
    RunResult {
        schema_version: results::SCHEMA_VERSION,
        scenario: scenario_info(p),
        environment: env,
        driver: p.driver.info(p.plan, p.target),
        verdict: Verdict {
            status: Status::Pass,
            reasons: Vec::new(),
        },
        summary: steady_summary(p, end_s, per_tx),
        stages: stages(p, end_s, per_tx),
        templates: templates(p, end_s, per_tx),
        intervals: p.collected.intervals.clone(),
        resources: resources(p),
        audit,
        criteria: Vec::new(),
        histogram: results::encode_histogram(&p.collected.steady.hist).ok(),
        histogram_failed: encoded(&p.collected.steady.hist_failed),
        percentiles: results::percentile_points(&p.collected.steady.hist),
        profile: None,
        instructions: None,
        capacity: p.collected.capacity.as_ref().map(capacity_result),
        segment: None,
        files: Files {
            hlog: Some("latency.hlog".to_string()),
            flamegraph: None,
        },
    }
}

/// The steady state's figures, with what the plan offered over the same window and how late
/// the generator sent it.
fn steady_summary(p: &Parts<'_>, end_s: f64, per_tx: bool) -> Summary {
    let interval = p.shared.interval.as_secs_f64();
    let tl = &p.shared.timeline;
    let seconds = tl.steady_seconds(end_s, interval);
    let mut s = summarize(&p.collected.steady, seconds, per_tx);
    // Sampled from the whole run, like the connections below (`load::answers`).
    let names: Vec<String> = p.plan.requests.iter().map(|t| t.name.clone()).collect();
    s.failures.answers = p.shared.answers.list(&names);
    // Connections open mostly at the start, in the warm-up: their times cover the whole run.
    (s.connect_us, s.tls_handshake_us) = p.collected.whole.connections();
    s.offered_tps = offered_tps(p.plan, tl, end_s, interval);
    let offered_ops = tl.steady_offered_ops(end_s, interval);
    s.dispatch = dispatch(
        &p.collected.steady,
        &p.plan.criteria.dispatch,
        offered_ops,
        seconds,
    );
    s
}

/// Transactions per second the plan offered over the steady window (the summary's: what ran
/// of it, up to `end_s`): the open-model operations due in it times the transactions each
/// carries, exact fractions included, so `committed_tps` reads against the plan itself.
/// `None` when a steady stage is closed-model (its load is what the workers achieve) or the
/// operations carry no transactions.
pub fn offered_tps(plan: &Plan, tl: &Timeline, end_s: f64, interval: f64) -> Option<f64> {
    let tx_per_op = plan.tx_per_op();
    let seconds = tl.steady_seconds(end_s, interval);
    let closed = tl.spans.iter().enumerate().any(|(i, span)| {
        tl.steady_from(i, interval).is_some() && matches!(span.kind, SpanKind::Closed { .. })
    });
    if tx_per_op <= 0.0 || seconds <= 0.0 || closed {
        return None;
    }
    Some(tl.steady_offered_ops(end_s, interval) * tx_per_op / seconds)
}

fn scenario_info(p: &Parts<'_>) -> ScenarioInfo {
    let plan = p.plan;
    ScenarioInfo {
        name: plan.name.clone(),
        file: plan.file.display().to_string(),
        sha256: plan.sha256.clone(),
        description: plan.description.clone(),
        duration_scale: plan.duration_scale,
        target_kind: p.target.kind().to_string(),
        target: p.target.describe(plan),
        target_tps: plan.criteria.min_tps,
        stages_planned: stage_plans(plan),
        warmup_s: Some(plan.warmup.as_secs_f64()),
    }
}

fn stages(p: &Parts<'_>, end_s: f64, per_tx: bool) -> Vec<StageResult> {
    p.shared
        .timeline
        .spans
        .iter()
        .enumerate()
        .map(|(i, span)| {
            let acc = &p.collected.stages[i];
            let start = span.start;
            let end = (span.start + span.duration).min(end_s).max(start);
            let s = summarize(acc, end - start, per_tx);
            StageResult {
                index: i,
                name: p.plan.stages[i].name.clone(),
                warmup: span.warmup,
                start_s: start,
                end_s: end,
                committed: s.committed,
                committed_tps: s.committed_tps,
                ops: s.ops,
                ops_per_s: s.ops_per_s,
                errors: s.errors,
                error_rate: s.error_rate,
                errors_by_kind: s.errors_by_kind,
                latency_us: s.latency_us,
                histogram: encoded(&acc.hist),
            }
        })
        .collect()
}

/// Each request template's figures when the run tallied them (timed ones over the steady
/// state, so their ops add up to the summary's; setup ones over the whole run, without a
/// rate: see [`crate::load::templates`]); none otherwise.
fn templates(p: &Parts<'_>, end_s: f64, per_tx: bool) -> Vec<TemplateFigures> {
    if p.shared.templates == 0 {
        return Vec::new();
    }
    let seconds = p
        .shared
        .timeline
        .steady_seconds(end_s, p.shared.interval.as_secs_f64());
    let none = Acc::default();
    p.plan
        .requests
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let acc = p.collected.templates.get(i).unwrap_or(&none);
            let s = summarize(acc, seconds, per_tx);
            TemplateFigures {
                name: t.name.clone(),
                setup: t.setup,
                ops: s.ops,
                ops_per_s: (!t.setup).then_some(s.ops_per_s),
                errors: s.errors,
                error_rate: s.error_rate,
                errors_by_kind: s.errors_by_kind,
                latency_us: s.latency_us,
                checks_failed: checks_failed(t, &acc.checks, p.plan.http.max_body),
                histogram: encoded(&acc.hist),
            }
        })
        .collect()
}

/// Template `t`'s failed checks by name (from their counts by index).
fn checks_failed(
    t: &scenario::RequestTemplate,
    counts: &[u64],
    max_body: u64,
) -> std::collections::BTreeMap<String, u64> {
    let labels = crate::targets::http::inspect::labels(t, max_body);
    counts
        .iter()
        .zip(labels)
        .filter(|(&n, _)| n > 0)
        .map(|(&n, label)| (label, n))
        .collect()
}

/// A histogram for results.json, when it holds anything.
fn encoded(h: &hdrhistogram::Histogram<u64>) -> Option<String> {
    if h.is_empty() {
        None
    } else {
        results::encode_histogram(h).ok()
    }
}

fn resources(p: &Parts<'_>) -> Resources {
    let warmup = p.shared.timeline.warmup;
    let samples = &p.collected.samples;
    let harness_samples: Vec<_> = samples.iter().map(|(t, _, h)| (*t, *h)).collect();
    let mut harness = process_resources(&harness_samples, warmup, Some(std::process::id()));
    let steady = || p.collected.intervals.iter().filter(|r| r.t_s > warmup);
    harness.busiest_thread_peak_pct = steady()
        .filter_map(|r| r.harness_busiest_thread_pct)
        .reduce(f64::max);
    harness.busiest_thread_wait_peak_pct = steady()
        .filter_map(|r| r.harness_busiest_thread_wait_pct)
        .reduce(f64::max);
    let target = if p.target.same_process() {
        // In-process: the engine and the load generator are one process.
        harness.clone()
    } else {
        let target_samples: Vec<_> = samples.iter().map(|(t, s, _)| (*t, *s)).collect();
        process_resources(&target_samples, warmup, p.target.pid())
    };
    let rss_growth = match (target.rss_end, target.rss_after_warmup) {
        (Some(e), Some(w)) => Some(e as i64 - w as i64),
        _ => None,
    };
    Resources {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        same_process: p.target.same_process(),
        cpu_pct_basis: "percent of all cores (100 = every core busy)".to_string(),
        target,
        harness,
        rss_growth_bytes: rss_growth,
        startup_s: p.target.startup().map(|d| d.as_secs_f64()),
        tx_per_cpu_s: None,
        noise: noise(p),
    }
}

/// The machine's other work over the steady state (every interval when the run never left
/// its warm-up), as for the process CPU figures; `None` off Linux.
fn noise(p: &Parts<'_>) -> Option<Noise> {
    let cpus = p.collected.machine_cpus?;
    let warmup = p.shared.timeline.warmup;
    let all = &p.collected.intervals;
    let steady = Noise::of(all.iter().filter(|r| r.t_s > warmup), cpus);
    steady.or_else(|| Noise::of(all, cpus))
}

fn capacity_result(cap: &CapacityCheck) -> CapacityResult {
    CapacityResult {
        criterion: cap.label.clone(),
        unit: cap.unit.as_str().to_string(),
        max_rate_met: cap.max_rate_met,
        first_rate_broken: cap.first_rate_broken,
        search: None,
    }
}

/// Each stage's unit.
pub fn stage_units(plan: &Plan) -> Vec<StageUnit> {
    plan.stages
        .iter()
        .map(|s| stage_unit(plan, &s.load))
        .collect()
}

fn stage_unit(plan: &Plan, load: &Load) -> StageUnit {
    match load {
        Load::Closed { .. } => StageUnit::Workers,
        Load::Open {
            unit: RateUnit::TxPerSec,
            ..
        } => StageUnit::TxPerSec {
            tx_per_op: plan.tx_per_op(),
        },
        Load::Open { .. } => StageUnit::OpsPerSec,
    }
}

/// The capacity search's latency bound, when the plan has one, in the first open stage's
/// unit.
pub fn capacity_check(plan: &Plan) -> Option<CapacityCheck> {
    let c = plan.capacity.as_ref()?;
    let scenario::CapacityMode::Ramp { stop_on_break } = c.mode else {
        return None;
    };
    let unit = plan
        .stages
        .iter()
        .map(|s| stage_unit(plan, &s.load))
        .find(|u| *u != StageUnit::Workers)
        .unwrap_or(StageUnit::OpsPerSec);
    Some(CapacityCheck {
        quantile: c.percentile / 100.0,
        max_ns: c.max_latency.as_nanos() as u64,
        stop_on_break,
        label: format!(
            "p{} <= {}",
            c.percentile,
            scenario::units::format_duration(c.max_latency)
        ),
        unit,
        max_rate_met: None,
        first_rate_broken: None,
    })
}

fn stage_plans(plan: &Plan) -> Vec<StagePlan> {
    plan.stages
        .iter()
        .map(|s| {
            let (model, from, to) = match &s.load {
                Load::Closed { workers } => (LoadModel::Closed, workers.from, workers.to),
                Load::Open { rate, .. } => (LoadModel::Open, rate.from, rate.to),
            };
            let unit = stage_unit(plan, &s.load).as_str();
            StagePlan {
                name: s.name.clone(),
                duration_s: s.duration.as_secs_f64(),
                warmup: s.warmup,
                model,
                unit: unit.to_string(),
                from,
                to,
                operations: s.operations,
            }
        })
        .collect()
}

/// How late the generator sent the steady open-model operations; `None` when there were none
/// (closed-model and goose runs).
fn dispatch(
    acc: &Acc,
    rule: &scenario::DispatchRule,
    offered_ops: f64,
    seconds: f64,
) -> Option<Dispatch> {
    let per_s = |n: f64| if seconds > 0.0 { n / seconds } else { 0.0 };
    let late_after_ns = rule.late_after.as_nanos() as u64;
    (!acc.lag.is_empty()).then(|| Dispatch {
        late_after_us: late_after_ns as f64 / 1e3,
        max_late_fraction: rule.max_late_fraction,
        ops: acc.lag.len(),
        late_ops: acc.late_ops(late_after_ns),
        lag_us: Percentiles::from_histogram(&acc.lag),
        offered_ops_per_s: per_s(offered_ops),
        achieved_ops_per_s: per_s(acc.lag.len() as f64),
    })
}

fn summarize(acc: &Acc, seconds: f64, per_tx: bool) -> Summary {
    let per_s = |n: u64| {
        if seconds > 0.0 {
            n as f64 / seconds
        } else {
            0.0
        }
    };
    Summary {
        duration_s: seconds,
        committed: acc.counts.committed_tx,
        committed_tps: per_s(acc.counts.committed_tx),
        ops: acc.counts.ops,
        ops_per_s: per_s(acc.counts.ops),
        errors: acc.counts.errors_total(),
        error_rate: acc.counts.error_rate(per_tx),
        errors_by_kind: acc.counts.errors_by_kind(),
        latency_us: acc.percentiles(),
        failures: acc.failures(),
        dispatch: None,
        offered_tps: None,
        connect_us: None,
        tls_handshake_us: None,
    }
}

fn process_resources(
    samples: &[(f64, Option<ProcSample>)],
    warmup: f64,
    pid: Option<u32>,
) -> ProcessResources {
    let present: Vec<(f64, ProcSample)> = samples
        .iter()
        .filter_map(|(t, s)| s.map(|s| (*t, s)))
        .collect();
    let steady: Vec<f64> = present
        .iter()
        .filter(|(t, _)| *t > warmup)
        .map(|(_, s)| s.cpu_pct)
        .collect();
    let cpu = if steady.is_empty() {
        present.iter().map(|(_, s)| s.cpu_pct).collect::<Vec<_>>()
    } else {
        steady
    };
    ProcessResources {
        pid,
        cpu_avg_pct: (!cpu.is_empty()).then(|| cpu.iter().sum::<f64>() / cpu.len() as f64),
        cpu_peak_pct: cpu.iter().copied().reduce(f64::max),
        cpu_seconds: present.last().map(|(_, s)| s.cpu_seconds),
        rss_start: present.first().map(|(_, s)| s.rss_bytes),
        rss_after_warmup: present
            .iter()
            .find(|(t, _)| *t >= warmup)
            .map(|(_, s)| s.rss_bytes),
        rss_peak: present.iter().map(|(_, s)| s.rss_bytes).max(),
        rss_end: present.last().map(|(_, s)| s.rss_bytes),
        rss_slope_per_h: results::rss_slope_per_hour(&rss_after(&present, warmup)),
        busiest_thread_peak_pct: None,
        busiest_thread_wait_peak_pct: None,
    }
}

/// The (time, RSS) points of the steady state, the ones a soak's slope is fitted over.
fn rss_after(present: &[(f64, ProcSample)], warmup: f64) -> Vec<(f64, u64)> {
    present
        .iter()
        .filter(|(t, _)| *t > warmup)
        .map(|(t, s)| (*t, s.rss_bytes))
        .collect()
}
