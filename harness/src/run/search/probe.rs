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
use crate::load::live::Live;
use crate::plan::Prepared;
use crate::run::{assemble, RunOptions};
use crate::targets::Target;
use anyhow::Result;
use report::fmt;
use results::{Bounds, Probe, ProbeOutcome, ProbePhase, RunResult, Status};
use scenario::{Capacity, Load, Plan, Ramp, Search, Stage};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Seconds a probe must be clearly bad, after settling, to end early (the rule).
const END_EARLY_AFTER_S: f64 = 3.0;

/// The achieved rate may fall this far short of the offered one and still be good.
const ACHIEVED_SHORTFALL: f64 = 0.01;

/// A generator whose busiest thread was busier than this, or waited for a core longer than
/// this share of the time, may have caused its own lag (see `broke_despite_the_generator`).
const MAX_BUSY_PCT: f64 = 90.0;
const MAX_WAIT_PCT: f64 = 10.0;

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
        operations: None,
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

/// Where a probe runs within its search.
pub struct Within<'a> {
    /// The search's directory: the probe's interval log goes there.
    pub dir: &'a Path,
    /// When the search started (the probe's stages are placed on its clock).
    pub start: Instant,
    /// The search's live metrics, which get the probe's stages as it starts.
    pub live: Option<&'a Arc<Live>>,
}

/// Runs one probe on `target` (left running).
pub fn run(
    plan: Plan,
    cap: &Capacity,
    opts: &RunOptions,
    target: &Target,
    spec: Spec,
    within: &Within<'_>,
) -> Result<Ran> {
    let (dir, search_start) = (within.dir, within.start);
    let prepared = Prepared::whole(plan);
    let plan = &prepared.plan;
    let driver = match target.own_workers() {
        Some(workers) => Driver::Threads { workers },
        None => Driver::for_plan(plan)?,
    };
    let started_at = crate::observe::environment::now_rfc3339();
    let shared = super::super::shared(plan, target, opts);
    let origin_s = shared
        .start
        .saturating_duration_since(search_start)
        .as_secs_f64();
    let hlog = dir.join(format!("probe-{:02}.hlog", spec.index));
    let mut collector = super::super::collector(&prepared, opts, &shared, target, &hlog)?;
    collector.live = within
        .live
        .map(|l| l.stages(super::super::live_stages(plan)));
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
        committed_all: collected.whole.counts.committed_tx,
        uncertain: collected.whole.counts.errors[ErrorKind::Timeout as usize]
            + collected.whole.counts.errors[ErrorKind::Io as usize],
    })
}

/// The rate that completed over the judged time, in the search's unit.
fn achieved(ran: &Ran, per_op: f64) -> f64 {
    ran.result.summary.ops_per_s * per_op
}

/// Good, bad, unsure (to be repeated), invalid or aborted, and why in words.
pub fn judge(ran: &Ran, cap: &Capacity, per_op: f64, unit: &str) -> (ProbeOutcome, String) {
    let r = &ran.result;
    let limit_us = cap.max_latency.as_secs_f64() * 1e6;
    let p = format!("p{}", cap.percentile);
    let slo = format!("{p} {}", fmt::latency_us(ran.slo_us));
    match r.verdict.status {
        Status::Aborted => return (ProbeOutcome::Aborted, r.verdict.reasons.join("; ")),
        Status::Invalid => {
            return match broke_despite_the_generator(ran, &slo, limit_us) {
                Some(lag) => (ProbeOutcome::Bad, lag),
                None => (ProbeOutcome::Invalid, r.verdict.reasons.join("; ")),
            }
        }
        _ => {}
    }
    if r.summary.ops == 0 {
        // Nothing to judge the dispatch rule on; a generator without its CPU may simply not
        // have sent (tests/capacity.rs, starved while a fuzzer held the other core).
        return if had_its_cpu(r) {
            (ProbeOutcome::Bad, "nothing completed".to_string())
        } else {
            (
                ProbeOutcome::Invalid,
                "nothing completed, and the generator did not have its CPU (its busiest thread 90 % busy or more, or waiting for a core 10 % of the time or more)".to_string(),
            )
        };
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
            fmt::set_rate(ran.spec.rate, unit),
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

/// A late generator makes a probe invalid, except when the target broke the SLO by more than
/// the generator could have caused. Each operation's latency runs from its intended start: it
/// is the generator's lag plus the time its connection was busy (the target's time, when the
/// generator had the CPU to read answers as they came) plus the target's own; less the largest
/// lag, the percentile is still over the limit, so with a generator that was never late it
/// would have been over too. On one machine this is the overloaded probe: the server takes
/// the cores and the generator slips a few milliseconds while the latency runs into seconds.
///
/// Only when the generator had its CPU: its busiest thread under 90 % busy and waiting for a
/// core under 10 % of the time. A starved generator reads answers late, so its connections
/// stay busy for its own sake (tests/capacity.rs: one generator thread on a core three busy
/// loops share waited 75 % of the time, lagged at most 51 ms, and measured a p99 of 846 ms
/// against an idle engine). Never when the engine's audit failed.
fn broke_despite_the_generator(ran: &Ran, slo: &str, limit_us: f64) -> Option<String> {
    let r = &ran.result;
    if !had_its_cpu(r) || r.audit.as_ref().is_some_and(|a| !a.ok) {
        return None;
    }
    let d = r.summary.dispatch.as_ref()?;
    let lag_max = d.lag_us.max;
    (ran.slo_us - lag_max > limit_us).then(|| {
        format!(
            "{slo} > {} even less the generator's largest lag ({}; it started {} of operations late)",
            fmt::latency_us(limit_us),
            fmt::latency_us(lag_max),
            fmt::fraction_pct(d.late_fraction())
        )
    })
}

/// Whether the generator had its CPU: its busiest thread under 90 % busy and waiting for a
/// core under 10 % of the time.
fn had_its_cpu(r: &RunResult) -> bool {
    let h = &r.resources.harness;
    h.busiest_thread_peak_pct.is_some_and(|b| b < MAX_BUSY_PCT)
        && h.busiest_thread_wait_peak_pct
            .is_some_and(|w| w < MAX_WAIT_PCT)
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

#[cfg(test)]
mod tests {
    use super::*;
    use results::Dispatch;

    const LIMIT_MS: u64 = 5;

    fn cap() -> Capacity {
        Capacity {
            percentile: 99.0,
            max_latency: Duration::from_millis(LIMIT_MS),
            max_error_rate: Some(0.001),
            mode: scenario::CapacityMode::Search(Search {
                start: 1e3,
                max: 1e4,
                unit: scenario::RateUnit::OpsPerSec,
                growth: 2.0,
                precision: 0.02,
                probe: Duration::from_secs(20),
                settle: Duration::from_secs(5),
                confirm: Duration::from_secs(60),
                max_probes: 20,
                max_time: Duration::from_secs(900),
            }),
        }
    }

    /// A probe at 1,000 ops/s that achieved `ops_per_s`, its p99 `p99_us` with `ci`.
    fn ran(ops_per_s: f64, p99_us: f64, ci: Option<(f64, f64)>) -> Ran {
        let mut result = results::fixture::sample();
        result.verdict.status = Status::NotJudged;
        result.summary.ops = 20_000;
        result.summary.ops_per_s = ops_per_s;
        result.summary.error_rate = 0.0;
        result.audit = None;
        Ran {
            spec: Spec {
                index: 1,
                phase: ProbePhase::Grow,
                rate: 1_000.0,
                hold: Duration::from_secs(20),
                repeat: false,
            },
            result,
            slo_us: p99_us,
            slo_ci: ci.map(|(lo, hi)| Bounds { lo, hi }),
            ended_early: false,
            origin_s: 0.0,
            committed_all: 0,
            uncertain: 0,
        }
    }

    fn judged(r: &Ran) -> ProbeOutcome {
        judge(r, &cap(), 1.0, "ops/s").0
    }

    #[test]
    fn good_bad_and_unsure_by_the_percentile_and_its_interval() {
        assert_eq!(
            judged(&ran(1_000.0, 4_000.0, Some((3_900.0, 4_100.0)))),
            ProbeOutcome::Good
        );
        assert_eq!(
            judged(&ran(1_000.0, 6_000.0, Some((5_900.0, 6_100.0)))),
            ProbeOutcome::Bad
        );
        let mut unsure = ran(1_000.0, 4_950.0, Some((4_900.0, 5_050.0)));
        assert_eq!(judged(&unsure), ProbeOutcome::Unsure);
        // The repeat's outcome stands, by the point figure.
        unsure.spec.repeat = true;
        assert_eq!(judged(&unsure), ProbeOutcome::Good);
        unsure.slo_us = 5_010.0;
        assert_eq!(judged(&unsure), ProbeOutcome::Bad);
        // Too few samples for an interval: the point figure decides.
        assert_eq!(judged(&ran(1_000.0, 4_990.0, None)), ProbeOutcome::Good);
    }

    #[test]
    fn a_short_rate_or_errors_over_the_limit_are_bad_whatever_the_latency() {
        let (o, why) = judge(&ran(985.0, 100.0, None), &cap(), 1.0, "ops/s");
        assert_eq!(o, ProbeOutcome::Bad);
        assert!(why.contains("did not keep up"), "{why}");
        assert_eq!(
            judged(&ran(991.0, 100.0, None)),
            ProbeOutcome::Good,
            "within 1 %"
        );
        let mut errors = ran(1_000.0, 100.0, None);
        errors.result.summary.error_rate = 0.002;
        assert_eq!(judged(&errors), ProbeOutcome::Bad);
        let mut early = ran(1_000.0, 100_000.0, None);
        early.ended_early = true;
        assert!(judge(&early, &cap(), 1.0, "ops/s")
            .1
            .contains("ended early"));
    }

    #[test]
    fn a_late_generator_is_invalid_unless_the_target_broke_by_more_than_its_lag() {
        let late = |p99_us: f64, lag_max_us: f64| {
            let mut r = ran(1_000.0, p99_us, None);
            r.result.verdict.status = Status::Invalid;
            r.result.verdict.reasons = vec!["the load generator started 3 % ...".into()];
            let mut d = Dispatch {
                late_after_us: 1_000.0,
                max_late_fraction: 0.01,
                ops: 20_000,
                late_ops: 600,
                ..Dispatch::default()
            };
            d.lag_us.max = lag_max_us;
            r.result.summary.dispatch = Some(d);
            r.result.resources.harness.busiest_thread_peak_pct = Some(35.0);
            r.result.resources.harness.busiest_thread_wait_peak_pct = Some(2.0);
            r
        };
        assert_eq!(judged(&late(4_000.0, 3_000.0)), ProbeOutcome::Invalid);
        assert_eq!(
            judged(&late(9_000.0, 6_000.0)),
            ProbeOutcome::Invalid,
            "9 - 6 < 5 ms"
        );
        let (o, why) = judge(&late(1_100_000.0, 6_000.0), &cap(), 1.0, "ops/s");
        assert_eq!(o, ProbeOutcome::Bad, "1.1 s is not the generator's 6 ms");
        assert!(
            why.contains("even less the generator's largest lag"),
            "{why}"
        );
        let mut audit_failed = late(1_100_000.0, 6_000.0);
        audit_failed.result.audit = results::fixture::sample().audit.map(|mut a| {
            a.ok = false;
            a
        });
        assert_eq!(judged(&audit_failed), ProbeOutcome::Invalid);
        // A starved generator reads answers late: its connections stay busy for its own sake.
        let mut starved = late(1_100_000.0, 6_000.0);
        starved
            .result
            .resources
            .harness
            .busiest_thread_wait_peak_pct = Some(75.0);
        assert_eq!(judged(&starved), ProbeOutcome::Invalid);
        let mut saturated = late(1_100_000.0, 6_000.0);
        saturated.result.resources.harness.busiest_thread_peak_pct = Some(97.0);
        assert_eq!(judged(&saturated), ProbeOutcome::Invalid);
        let mut unknown = late(1_100_000.0, 6_000.0);
        unknown
            .result
            .resources
            .harness
            .busiest_thread_wait_peak_pct = None;
        assert_eq!(
            judged(&unknown),
            ProbeOutcome::Invalid,
            "not known to have had its CPU"
        );
    }
}
