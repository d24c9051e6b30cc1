//! The one result of a capacity search, made from its probes' results.
//!
//! Every probe's stages and intervals go in, moved onto the search's clock (a probe's t = 0 is
//! when it started), so the timeline charts show the whole search as the staircase it was.
//! The summary, CPU figures, templates and histogram are one probe's: the confirmation that
//! held (the capacity's evidence), else the invalid probe (the reason there is no answer), else
//! the last probe. Memory is the whole search's: RSS at the first probe's start, the highest
//! peak of any probe, and at the last probe's end (a leak shows across probes, not within the
//! confirmation alone). The verdict is left to the one verdict (see `crate::analysis::capacity`).

use super::probe::Ran;
use super::steps::Steps;
use anyhow::{bail, Result};
use results::{
    AuditResult, CapacityResult, CapacitySearch, Probe, ProbeOutcome, ProbePhase, ProcessResources,
    Resources, RunResult, SearchEnd, SearchSettings, Slo,
};
use scenario::{Capacity, Search};

/// What the search knows besides its probes.
pub struct Parts<'a> {
    pub cap: &'a Capacity,
    pub search: &'a Search,
    pub unit: &'static str,
    pub started_at: String,
    pub end: SearchEnd,
    pub wall_s: f64,
    /// The engine's audit after the whole search.
    pub audit: Option<AuditResult>,
}

/// The search's result. `runs` and `probes` are in the order run (one probe per run).
pub fn combine(
    p: &Parts<'_>,
    runs: &[Ran],
    probes: Vec<Probe>,
    steps: &Steps,
) -> Result<RunResult> {
    let rep = representative(&probes, p.end);
    // Validation keeps `max_time` at least one probe long, so the first probe always runs.
    let Some(ran) = rep.and_then(|i| runs.get(i)) else {
        bail!("the capacity search ended before its first probe ran");
    };
    let mut r = ran.result.clone();
    on_search_clock(&mut r, runs);
    whole_search_memory(&mut r.resources, runs);
    r.environment.started_at = p.started_at.clone();
    r.environment.finished_at = crate::observe::environment::now_rfc3339();
    r.audit = p.audit.clone();
    r.criteria = Vec::new();
    r.capacity = Some(capacity(p, probes, steps));
    Ok(r)
}

/// Which probe's figures stand for the search (see the module header).
fn representative(probes: &[Probe], end: SearchEnd) -> Option<usize> {
    let last_where = |f: &dyn Fn(&Probe) -> bool| probes.iter().rposition(f);
    match end {
        SearchEnd::Converged | SearchEnd::AboveMax => {
            last_where(&|q| q.phase == ProbePhase::Confirm && q.outcome == ProbeOutcome::Good)
        }
        SearchEnd::GeneratorLimit => last_where(&|q| q.outcome == ProbeOutcome::Invalid),
        _ => None,
    }
    .or_else(|| probes.len().checked_sub(1))
}

/// RSS over the whole search, for the target and the harness alike (see the module header).
fn whole_search_memory(res: &mut Resources, runs: &[Ran]) {
    let (Some(first), Some(last)) = (runs.first(), runs.last()) else {
        return;
    };
    for (target, p) in [(true, &mut res.target), (false, &mut res.harness)] {
        p.rss_start = side(first, target).rss_start;
        p.rss_end = side(last, target).rss_end;
        p.rss_peak = runs
            .iter()
            .filter_map(|ran| side(ran, target).rss_peak)
            .max();
    }
    res.rss_growth_bytes = None;
}

/// A probe's target or harness process figures.
fn side(ran: &Ran, target: bool) -> &ProcessResources {
    let r = &ran.result.resources;
    if target {
        &r.target
    } else {
        &r.harness
    }
}

/// Every probe's stages and intervals, moved onto the search's clock and numbered in order.
fn on_search_clock(r: &mut RunResult, runs: &[Ran]) {
    r.stages.clear();
    r.intervals.clear();
    r.scenario.stages_planned.clear();
    for ran in runs {
        let first_stage = r.stages.len();
        let shift = ran.origin_s;
        for s in &ran.result.stages {
            let mut s = s.clone();
            s.index = r.stages.len();
            s.start_s += shift;
            s.end_s += shift;
            r.stages.push(s);
        }
        for i in &ran.result.intervals {
            let mut i = i.clone();
            i.t_s += shift;
            i.stage += first_stage;
            r.intervals.push(i);
        }
        r.scenario
            .stages_planned
            .extend(ran.result.scenario.stages_planned.iter().cloned());
    }
    // Each probe settles in its own warm-up stage; there is no single warm-up to exclude.
    r.scenario.warmup_s = None;
}

fn capacity(p: &Parts<'_>, probes: Vec<Probe>, steps: &Steps) -> CapacityResult {
    let s = p.search;
    let confirmed = matches!(p.end, SearchEnd::Converged | SearchEnd::AboveMax);
    let mut criterion = format!(
        "p{} <= {}",
        p.cap.percentile,
        scenario::units::format_duration(p.cap.max_latency)
    );
    if let Some(e) = p.cap.max_error_rate {
        criterion.push_str(&format!(", errors <= {}", report::fmt::fraction_pct(e)));
    }
    CapacityResult {
        criterion,
        unit: p.unit.to_string(),
        max_rate_met: steps.good(),
        first_rate_broken: steps.bad(),
        search: Some(CapacitySearch {
            capacity: confirmed.then(|| steps.good()).flatten(),
            above_max: p.end == SearchEnd::AboveMax,
            slo: Slo {
                percentile: p.cap.percentile,
                max_latency_us: p.cap.max_latency.as_secs_f64() * 1e6,
                max_error_rate: p.cap.max_error_rate,
            },
            settings: SearchSettings {
                start: s.start,
                max: s.max,
                growth: s.growth,
                precision: s.precision,
                probe_s: s.probe.as_secs_f64(),
                settle_s: s.settle.as_secs_f64(),
                confirm_s: s.confirm.as_secs_f64(),
                max_probes: s.max_probes,
                max_time_s: s.max_time.as_secs_f64(),
            },
            ended: p.end,
            probes,
            wall_s: p.wall_s,
        }),
    }
}
