//! `[capacity] mode = "search"`: the highest rate that meets the SLO, found by held probes.
//!
//! Each probe is a constant-rate run through the run's own pipeline ([`probe`]) on one target
//! kept up for the whole search (a spawned server is started once, and finished once at the
//! end, when its committed count is compared with ours). Which rate comes next is [`steps`]'s
//! pure decision; this module runs probes until it says done or a limit is hit (`max_probes`,
//! `max_time`, a probe whose generator could not keep up, Ctrl-C), then [`combine`] makes the
//! one result: every probe's stages and intervals on the search's clock, the confirming
//! probe's summary, and the search's answer, judged by the one verdict.

mod combine;
mod probe;
mod steps;

use crate::analysis::verdict::{self, Facts};
use crate::load::live::Live;
use crate::plan::Prepared;
use crate::run::{output, RunOptions, RunOutcome};
use crate::targets::Target;
use anyhow::{Context, Result};
use probe::{Ran, Spec};
use results::{Probe, ProbeOutcome, ProbePhase, SearchEnd};
use scenario::{Capacity, Plan, RateUnit, Search};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use steps::{Next, Steps};

/// What the search has run so far.
struct Progress {
    steps: Steps,
    runs: Vec<Ran>,
    probes: Vec<Probe>,
}

/// What does not change during a search.
struct Ctx<'a> {
    plan: &'a Plan,
    cap: &'a Capacity,
    search: &'a Search,
    opts: &'a RunOptions,
    target: &'a Target,
    dir: &'a Path,
    start: Instant,
    /// The rates' unit, and transactions per operation when it counts transactions.
    unit: &'static str,
    per_op: f64,
    /// `--metrics-addr`/`--remote-write`: the search's live metrics, probe after probe.
    live: Option<&'a Arc<Live>>,
}

/// Runs the search a prepared plan's `[capacity]` describes, on `target`.
pub fn run(prepared: &Prepared, opts: &RunOptions, mut target: Target) -> Result<RunOutcome> {
    let plan = &prepared.plan;
    let cap = plan
        .capacity
        .as_ref()
        .context("a search needs [capacity]")?;
    let search = cap.search().context("[capacity] is not a search")?;
    if opts.profile || plan.output.profile {
        eprintln!("note: a capacity search is not profiled (each probe is too short to sample; profile a run at the found rate)");
    }
    let started_at = crate::observe::environment::now_rfc3339();
    let root = opts.out.clone().unwrap_or_else(|| plan.output.dir.clone());
    let dir: PathBuf = output::run_dir(&root, &plan.name, &started_at, None)?;
    let endpoint = super::start_live(prepared, opts)?;
    let (unit, per_op) = match search.unit {
        RateUnit::TxPerSec => ("tx/s", plan.tx_per_op()),
        RateUnit::OpsPerSec => ("ops/s", 1.0),
    };
    let cx = Ctx {
        plan,
        cap,
        search,
        opts,
        target: &target,
        dir: &dir,
        start: Instant::now(),
        unit,
        per_op,
        live: endpoint.as_ref().map(|e| &e.live),
    };
    let mut p = Progress {
        steps: Steps::new(search.start, search.max, search.growth, search.precision),
        runs: Vec::new(),
        probes: Vec::new(),
    };
    let end = search_until_done(&cx, &mut p)?;
    let wall_s = cx.start.elapsed().as_secs_f64();
    let committed: u64 = p.runs.iter().map(|r| r.committed_all).sum();
    let uncertain: u64 = p.runs.iter().map(|r| r.uncertain).sum();
    target.finish(committed, uncertain);
    let parts = combine::Parts {
        cap,
        search,
        unit,
        started_at,
        end,
        wall_s,
        audit: target.audit(),
    };
    let mut result = combine::combine(&parts, &p.runs, p.probes, &p.steps)?;
    let facts = Facts {
        interval_s: plan.output.interval.as_secs_f64(),
        invalid: Vec::new(),
        aborted: (end == SearchEnd::Aborted).then(|| {
            opts.cancel.reason().map_or_else(
                || "interrupted: the search's figures cover the probes that ran".to_string(),
                str::to_string,
            )
        }),
    };
    verdict::judge(&mut result, &plan.criteria, &facts);
    let write_problems = output::write(&result, &dir, opts.no_reports)?;
    if let (Some(e), Some(m)) = (endpoint, &opts.metrics) {
        e.finish(m.linger, opts.quiet, || opts.cancel.is_cancelled());
    }
    Ok(RunOutcome::written(result, dir, write_problems))
}

/// Probes until the steps say done or a limit ends the search; returns why it ended.
fn search_until_done(cx: &Ctx<'_>, p: &mut Progress) -> Result<SearchEnd> {
    loop {
        if p.probes.len() >= cx.search.max_probes as usize {
            return Ok(SearchEnd::MaxProbes);
        }
        let (rate, phase) = match p.steps.next() {
            Next::Done(end) => return Ok(end),
            Next::Probe { rate, phase } => (rate, phase),
        };
        let hold = if phase == ProbePhase::Confirm {
            cx.search.confirm
        } else {
            cx.search.probe
        };
        let needs = cx.start.elapsed() + cx.search.settle + hold;
        if needs > cx.search.max_time {
            return Ok(SearchEnd::MaxTime);
        }
        let spec = Spec {
            index: p.probes.len() as u32 + 1,
            phase,
            rate,
            hold,
            repeat: false,
        };
        match probe_judged(cx, p, spec)? {
            ProbeOutcome::Good => p.steps.record(rate, phase, true),
            ProbeOutcome::Bad => p.steps.record(rate, phase, false),
            ProbeOutcome::Invalid => return Ok(SearchEnd::GeneratorLimit),
            ProbeOutcome::Aborted => return Ok(SearchEnd::Aborted),
            ProbeOutcome::Unsure => {
                if p.probes.len() >= cx.search.max_probes as usize {
                    return Ok(SearchEnd::MaxProbes);
                }
                let again = Spec {
                    index: spec.index + 1,
                    repeat: true,
                    ..spec
                };
                // The repeat's outcome stands (judged by the point estimate if unsure again).
                match probe_judged(cx, p, again)? {
                    ProbeOutcome::Good => p.steps.record(rate, phase, true),
                    ProbeOutcome::Invalid => return Ok(SearchEnd::GeneratorLimit),
                    ProbeOutcome::Aborted => return Ok(SearchEnd::Aborted),
                    _ => p.steps.record(rate, phase, false),
                }
            }
        }
    }
}

/// Runs one probe, judges it, tells the user, and keeps it.
fn probe_judged(cx: &Ctx<'_>, p: &mut Progress, spec: Spec) -> Result<ProbeOutcome> {
    let plan = probe::plan_for(cx.plan, cx.search, &spec, p.runs.is_empty());
    if !cx.opts.quiet {
        eprintln!(
            "capacity probe {} ({}{}): {} for {} after {} settling",
            spec.index,
            phase_name(spec.phase),
            if spec.repeat { ", repeated" } else { "" },
            report::fmt::set_rate(spec.rate, cx.unit),
            report::fmt::duration_s(spec.hold.as_secs_f64()),
            report::fmt::duration_s(cx.search.settle.as_secs_f64()),
        );
    }
    let within = probe::Within {
        dir: cx.dir,
        start: cx.start,
        live: cx.live,
    };
    let ran = probe::run(plan, cx.cap, cx.opts, cx.target, spec, &within)?;
    let (outcome, why) = probe::judge(&ran, cx.cap, cx.per_op, cx.unit);
    if !cx.opts.quiet {
        eprintln!("capacity probe {}: {}: {why}", spec.index, outcome.as_str());
    }
    p.probes.push(probe::figures(&ran, outcome, why, cx.per_op));
    p.runs.push(ran);
    Ok(outcome)
}

fn phase_name(phase: ProbePhase) -> &'static str {
    match phase {
        ProbePhase::Grow => "grow",
        ProbePhase::Bisect => "bisect",
        ProbePhase::Confirm => "confirm",
    }
}
