//! One probe of a capacity search: a plan that holds one rate (a settle stage excluded from
//! the judgement, then the judged time), run on the search's target through the run's own
//! pipeline (shared state, collector, workers, assembly, the one verdict), then judged against
//! the SLO.
//!
//! The probe's own verdict only ever says "invalid" (its generator was late, by the dispatch
//! rule every run follows) or "aborted": whether the rate is good is the SLO's question,
//! answered by [`judge`].

use crate::analysis::verdict::{self, Facts};
use crate::drivers::Driver;
use crate::load::capacity::ProbeWatch;
use crate::load::errors::ErrorKind;
use crate::plan::Prepared;
use crate::run::{assemble, RunOptions};
use crate::targets::Target;
use anyhow::Result;
use report::fmt;
use results::{Bounds, Probe, ProbeOutcome, ProbePhase, RunResult, Status};
use scenario::{Capacity, Load, Plan, Ramp, Search, Stage};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Seconds a probe must be clearly bad, after settling, to end early (the rule).
const END_EARLY_AFTER_S: f64 = 3.0;

/// The achieved rate may fall this far short of the offered one and still be good.
const ACHIEVED_SHORTFALL: f64 = 0.01;

/// Which probe to run.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub index: u32,
    pub phase: ProbePhase,
    pub rate: f64,
    /// The judged time: `probe`, or `confirm` for a confirmation.
    pub hold: Duration,
    /// This probe repeats an unsure one: its outcome stands, unsure or not.
    pub repeat: bool,
}

/// A probe that ran: its result (assembled, its verdict only invalid or aborted or not
/// judged), the SLO percentile over the judged time, and where it sat on the search's clock.
pub struct Ran {
    pub spec: Spec,
    pub result: RunResult,
    pub slo_us: f64,
    pub slo_ci: Option<Bounds>,
    pub ended_early: bool,
    /// The probe's t = 0, seconds from the search's start.
    pub origin_s: f64,
    /// Transactions the engine committed in the whole probe (settle included), and requests
    /// whose fate is unknown (timed out, connection lost): the target's end-of-run audit
    /// compares the search's sum with the engine's count.
    pub committed_all: u64,
    pub uncertain: u64,
}

/// The probe's plan: the scenario's, its stages replaced by a settle stage (a warm-up) and the
/// held stage at `spec.rate`. The first probe also runs the scenario's warm-up stages.
pub fn plan_for(base: &Plan, search: &Search, spec: &Spec, first: bool) -> Plan {
    let mut plan = base.clone();
    let held = |name: String, duration: Duration, warmup: bool| Stage {
        name,
        duration,
        load: Load::Open {
            rate: Ramp {
                from: spec.rate,
                to: spec.rate,
            },
            unit: search.unit,
        },
        warmup,
    };
    let mut stages: Vec<Stage> = if first {
        base.stages.clone()
    } else {
        Vec::new()
    };
    if !search.settle.is_zero() {
        stages.push(held(
            format!("probe {} settle", spec.index),
            search.settle,
            true,
        ));
    }
    stages.push(held(format!("probe {}", spec.index), spec.hold, false));
    plan.warmup = stages.iter().filter(|s| s.warmup).map(|s| s.duration).sum();
    plan.stages = stages;
    plan.capacity = None;
    plan
}

/// Runs one probe on `target` (left running), its interval log in `dir`.
pub fn run(
    plan: Plan,
    cap: &Capacity,
    opts: &RunOptions,
    target: &Target,
    spec: Spec,
    (dir, search_start): (&Path, Instant),
) -> Result<Ran> {
    let prepared = Prepared::whole(plan);
    let plan = &prepared.plan;
    let driver = match target.own_workers() {
        Some(workers) => Driver::Threads { workers },
        None => Driver::for_plan(plan)?,
    };
    let started_at = crate::observe::environment::now_rfc3339();
    let shared = super::super::shared(plan, target, &opts.cancel);
    let origin_s = shared
        .start
        .saturating_duration_since(search_start)
        .as_secs_f64();
    let hlog = dir.join(format!("probe-{:02}.hlog", spec.index));
    let mut collector = super::super::collector(&prepared, opts, &shared, target, &hlog)?;
    collector.probe = Some(ProbeWatch {
        quantile: cap.percentile / 100.0,
        max_ns: cap.max_latency.as_nanos() as u64,
        max_error_rate: cap.max_error_rate,
        end_after_s: END_EARLY_AFTER_S,
        bad_s: 0.0,
        ended_early: false,
    });
    let collected = super::super::load(&driver, target, &shared, collector)?;
    shared.stop.store(true, Ordering::Relaxed);
    let mut result = assemble::assemble(&assemble::Parts {
        plan,
        shared: &shared,
        collected: &collected,
        target,
        driver: &driver,
        started_at,
    });
    result.files.hlog = hlog.file_name().map(|n| n.to_string_lossy().into_owned());
    let facts = Facts {
        interval_s: shared.interval.as_secs_f64(),
        invalid: Vec::new(),
        aborted: opts.cancel.is_cancelled().then(|| {
            opts.cancel
                .reason()
                .map_or_else(|| "interrupted".to_string(), str::to_string)
        }),
    };
    verdict::judge(&mut result, &plan.criteria, &facts);
    let steady = &collected.steady.hist;
    let q = cap.percentile / 100.0;
    Ok(Ran {
        spec,
        slo_us: steady.value_at_quantile(q) as f64 / 1_000.0,
        slo_ci: results::interval_at(steady, q),
        ended_early: collected.probe.is_some_and(|w| w.ended_early),
        result,
        origin_s,
        committed_all: collected.whole.committed_tx,
        uncertain: collected.whole.errors[ErrorKind::Timeout as usize]
            + collected.whole.errors[ErrorKind::Io as usize],
    })
}

/// The rate that completed over the judged time, in the search's unit.
fn achieved(ran: &Ran, per_op: f64) -> f64 {
    ran.result.summary.ops_per_s * per_op
}

/// Good, bad, unsure (to be repeated), invalid or aborted, and why in words.
pub fn judge(ran: &Ran, cap: &Capacity, per_op: f64, unit: &str) -> (ProbeOutcome, String) {
    let r = &ran.result;
    match r.verdict.status {
        Status::Aborted => return (ProbeOutcome::Aborted, r.verdict.reasons.join("; ")),
        Status::Invalid => return (ProbeOutcome::Invalid, r.verdict.reasons.join("; ")),
        _ => {}
    }
    let limit_us = cap.max_latency.as_secs_f64() * 1e6;
    let p = format!("p{}", cap.percentile);
    let slo = format!("{p} {}", fmt::latency_us(ran.slo_us));
    if r.summary.ops == 0 {
        return (ProbeOutcome::Bad, "nothing completed".to_string());
    }
    if ran.ended_early {
        return (
            ProbeOutcome::Bad,
            format!(
                "{slo}, errors {}: clearly bad for {END_EARLY_AFTER_S:.0} s after settling, ended early",
                fmt::fraction_pct(r.summary.error_rate)
            ),
        );
    }
    if let Some(max) = cap.max_error_rate.filter(|m| r.summary.error_rate > *m) {
        let why = format!(
            "errors {} > {}",
            fmt::fraction_pct(r.summary.error_rate),
            fmt::fraction_pct(max)
        );
        return (ProbeOutcome::Bad, why);
    }
    let got = achieved(ran, per_op);
    if got < ran.spec.rate * (1.0 - ACHIEVED_SHORTFALL) {
        let why = format!(
            "achieved {} of {} offered ({}): the target did not keep up",
            fmt::rate(got, unit),
            fmt::rate(ran.spec.rate, unit),
            fmt::fraction_pct(got / ran.spec.rate)
        );
        return (ProbeOutcome::Bad, why);
    }
    let limit = fmt::latency_us(limit_us);
    if let Some(b) = ran
        .slo_ci
        .filter(|b| !b.decides(limit_us) && !ran.spec.repeat)
    {
        let why = format!(
            "{slo}, 95 % interval {}-{} straddles {limit}: repeated",
            fmt::latency_us(b.lo),
            fmt::latency_us(b.hi)
        );
        return (ProbeOutcome::Unsure, why);
    }
    if ran.slo_us > limit_us {
        (ProbeOutcome::Bad, format!("{slo} > {limit}"))
    } else {
        (ProbeOutcome::Good, format!("{slo} <= {limit}"))
    }
}

/// The probe's row in the result.
pub fn figures(ran: &Ran, outcome: ProbeOutcome, why: String, per_op: f64) -> Probe {
    let r = &ran.result;
    let s = &r.summary;
    let judged_from = r.scenario.warmup_s.unwrap_or(0.0);
    Probe {
        index: ran.spec.index,
        phase: ran.spec.phase,
        offered: ran.spec.rate,
        achieved: achieved(ran, per_op),
        committed_tps: s.committed_tps,
        start_s: ran.origin_s + judged_from,
        duration_s: s.duration_s,
        latency_us: s.latency_us.clone(),
        slo_latency_us: ran.slo_us,
        slo_latency_ci95: ran.slo_ci,
        ops: s.ops,
        errors: s.errors,
        error_rate: s.error_rate,
        errors_by_kind: s.errors_by_kind.clone(),
        late_fraction: s.dispatch.as_ref().map(|d| d.late_fraction()),
        target_cpu_pct: r
            .resources
            .target
            .cpu_avg_pct
            .filter(|_| !r.resources.same_process),
        harness_cpu_pct: r.resources.harness.cpu_avg_pct,
        outcome,
        why,
        ended_early: ran.ended_early,
    }
}
