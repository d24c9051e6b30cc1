//! `harness run`: one scenario from plan to report.
//!
//! Steps, each a function: load and scale the plan; prepare the output directory and the
//! interval log; build the target; start the workers and collect on this thread until the plan
//! ends (or Ctrl-C, or a capacity break); audit the engine; assemble the [`RunResult`]; write
//! `results.json` and the reports; print the criteria table; map the verdict to an exit code.

use crate::collector::{Acc, CapacityCheck, Collected, Collector};
use crate::criteria::{self, Measured};
use crate::environment;
use crate::http::{HttpError, HttpTarget};
use crate::inprocess::InProcess;
use crate::mock::Mock;
use crate::progress::Progress;
use crate::sampler::Sampler;
use crate::timeline::{SpanKind, Timeline};
use crate::worker::ErrorKind;
use crate::worker::Shared;
use anyhow::{bail, Context, Result};
use hdrhistogram::serialization::V2DeflateSerializer;
use results::{
    AuditResult, CapacityResult, DriverInfo, Files, LoadModel, ProcessResources, Resources,
    RunResult, ScenarioInfo, StagePlan, StageResult, Status, Summary, Verdict,
};
use scenario::{Driver, Load, Plan, RateUnit};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Exit codes, as documented in the README.
pub mod exit {
    pub const PASS: u8 = 0;
    pub const FAIL: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const ABORTED: u8 = 3;
}

/// Set by the Ctrl-C handler; polled by the collector.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C (SIGINT/SIGTERM) handler once per process. The first signal asks the run
/// to stop, drain and write its partial report; a second one exits at once.
pub fn install_interrupt_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\ninterrupted: stopping the load, writing a partial report (Ctrl-C again to exit now)");
        });
    });
}

/// Options of `harness run` after parsing.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub scenario: PathBuf,
    /// Output directory root (default: the scenario's `output.dir`, usually `reports`).
    pub out: Option<PathBuf>,
    pub duration_scale: Option<f64>,
    pub quiet: bool,
    pub allow_remote: bool,
    /// Write only results.json and the interval log (no rendered reports).
    pub no_reports: bool,
    /// Sample the process with pprof during the steady state (in-process targets), besides
    /// the scenario's `output.profile`.
    pub profile: bool,
    /// Run one execution segment (`--segment i/n`) and synchronize its start with the others.
    pub segment: Option<crate::segment::SegmentRun>,
    /// `--driver`: run through this load generator instead of the scenario's `driver`.
    pub driver: Option<Driver>,
}

/// What a finished run produced.
pub struct RunOutcome {
    pub result: RunResult,
    pub dir: PathBuf,
    pub exit: u8,
}

/// Runs a scenario end to end and returns the exit code to use.
pub fn run(opts: &RunOptions) -> Result<ExitCode> {
    let plan = match scenario::load(&opts.scenario) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(exit::USAGE));
        }
    };
    let plan = match opts.duration_scale {
        Some(f) if !scenario::valid_scale(f) => {
            eprintln!("error: --duration-scale must be a finite number above 0, got {f}");
            return Ok(ExitCode::from(exit::USAGE));
        }
        Some(f) => plan.scaled(f),
        None => plan,
    };
    let outcome = match execute(&plan, opts) {
        Ok(o) => o,
        Err(e) => match e.downcast_ref::<HttpError>() {
            Some(h) if h.is_usage() => {
                eprintln!("error: {h}");
                return Ok(ExitCode::from(exit::USAGE));
            }
            _ => return Err(e),
        },
    };
    println!("{}", report::text_summary(&outcome.result));
    println!("results: {}", outcome.dir.join("results.json").display());
    Ok(ExitCode::from(outcome.exit))
}

/// What a run drives.
pub enum Driven {
    InProcess(InProcess),
    /// A target of exactly known latency, for testing the harness itself.
    Mock(Mock),
    /// An HTTP service, already running or spawned by the harness (boxed: it is much larger
    /// than the other variants and built once per run).
    Http(Box<HttpTarget>),
}

impl Driven {
    fn workers(&self) -> u32 {
        match self {
            Driven::InProcess(t) => t.workers(),
            Driven::Mock(m) => m.workers,
            Driven::Http(t) => t.workers(),
        }
    }
}

/// Worker threads a plan needs: the most any closed stage asks for, and at least one per core
/// for open stages.
pub fn workers_for(timeline: &Timeline) -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
    timeline
        .max_closed_workers()
        .max(if timeline.has_open() { cores.max(2) } else { 1 })
}

/// Runs an already loaded plan against the target the plan names.
pub fn execute(plan: &Plan, opts: &RunOptions) -> Result<RunOutcome> {
    let overridden;
    let plan = match opts.driver {
        Some(d) if d != plan.driver => {
            overridden = Plan {
                driver: d,
                ..plan.clone()
            };
            &overridden
        }
        _ => plan,
    };
    if plan.driver == Driver::Goose {
        // The file's `driver = "goose"` was validated with the scenario; `--driver goose` was
        // not. Refused as a usage error (exit 2), before any server is spawned.
        crate::goose::check(plan).map_err(HttpError::from)?;
    }
    // An execution segment runs its share of the plan (see segment.rs).
    let mut opts = opts.clone();
    let seg_plan = opts.segment.as_mut().map(|s| {
        let (p, share) = crate::segment::plan_for(plan, s.segment);
        s.share = share;
        p
    });
    let (plan, opts) = (seg_plan.as_ref().unwrap_or(plan), &opts);
    if plan.target.is_http() {
        // Refuses non-loopback targets (HttpError::Remote, exit 2) before any connection.
        let mut target = HttpTarget::prepare(plan, opts.allow_remote)?;
        if let Some(s) = &opts.segment {
            target.restrict_to_segment(s.segment)?;
        }
        return execute_with(plan, opts, Driven::Http(Box::new(target)));
    }
    let workers = workers_for(&Timeline::new(plan));
    let target = InProcess::new(&plan.workload, workers)?;
    execute_with(plan, opts, Driven::InProcess(target))
}

/// Runs a plan against a given target: the library entry point tests use.
pub fn execute_with(plan: &Plan, opts: &RunOptions, mut target: Driven) -> Result<RunOutcome> {
    install_interrupt_handler();
    if let Some(s) = &opts.segment {
        // The target is ready; start stage 0 together with the other segments.
        s.wait_for_start()?;
    }
    let started_at = environment::now_rfc3339();
    let dir = output_dir(plan, opts, &started_at)?;
    let timeline = Timeline::new(plan);
    let clock_origin = std::time::SystemTime::now();
    let shared = Arc::new(Shared::new(timeline, plan.output.interval));
    let (tx, rx) = crossbeam_channel::unbounded();
    let hlog_path = dir.join("latency.hlog");
    let hlog = std::fs::File::create(&hlog_path)
        .with_context(|| format!("creating {}", hlog_path.display()))?;
    let stage_units = stage_units(plan);
    let collector = Collector {
        shared: Arc::clone(&shared),
        // A spawned server is sampled as the target; otherwise only the harness is.
        sampler: Sampler::new(match &target {
            Driven::Http(t) => t.pid(),
            _ => None,
        }),
        progress: Progress::new(
            opts.quiet,
            shared.timeline.total,
            plan.stages.iter().map(|s| s.name.clone()).collect(),
        ),
        hlog: Some((hlog, V2DeflateSerializer::new())),
        per_tx_errors: match &target {
            Driven::InProcess(_) => true,
            Driven::Mock(_) => false,
            // Rejected transfers are counted per transfer when requests carry them.
            Driven::Http(_) => plan.tx_per_op() > 0.0,
        },
        stage_units,
        capacity: capacity_check(plan),
        interrupted: &INTERRUPTED,
    };
    INTERRUPTED.store(false, Ordering::SeqCst);
    let profiler = (opts.profile || plan.output.profile).then(|| {
        let stamp = dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let root = opts.out.clone().unwrap_or_else(|| plan.output.dir.clone());
        let shared_copy = root.parent().map(|p| {
            p.join("flamegraphs")
                .join(format!("{}-{stamp}.svg", plan.name))
        });
        let files = crate::profile::ProfileTarget {
            in_run_dir: dir.join("flamegraph.svg"),
            shared_copy,
        };
        match &target {
            Driven::Http(t) => crate::profile::Profiler::start_remote(
                Arc::clone(&shared),
                plan.output.profile_hz,
                files,
                t.endpoint.addrs[0],
                t.endpoint.authority.clone(),
                t.endpoint.base_path.clone(),
            ),
            _ => {
                crate::profile::Profiler::start(Arc::clone(&shared), plan.output.profile_hz, files)
            }
        }
    });
    let handles = match &target {
        Driven::InProcess(t) => t.spawn(&shared, &tx)?,
        Driven::Mock(m) => m.spawn(&shared, &tx)?,
        Driven::Http(t) => t.spawn(&shared, &tx)?,
    };
    drop(tx);
    let collected = collector.run(rx);
    for h in handles {
        if h.join().is_err() {
            bail!("a worker thread panicked; the run's figures are incomplete");
        }
    }
    // The profiler stops at the plan's end or on stop; make sure it sees a stop either way.
    shared.stop.store(true, Ordering::Relaxed);
    let profile = match profiler.map(crate::profile::Profiler::finish) {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            eprintln!("warning: profiling failed: {e:#}");
            None
        }
        None => None,
    };
    if let Driven::Http(t) = &mut target {
        // A segment reads the shared engine only when every segment is done sending (not
        // after Ctrl-C: then it just reports what it has).
        let interrupted = INTERRUPTED.load(Ordering::SeqCst);
        if let Some(note) = opts
            .segment
            .as_ref()
            .filter(|_| !interrupted)
            .and_then(|s| {
                s.wait_for_end(
                    clock_origin + std::time::Duration::from_secs_f64(shared.timeline.total),
                )
            })
        {
            eprintln!("warning: {note}");
        }
        // Compares the engine's committed count with ours, audits it, stops a spawned server.
        let w = &collected.whole;
        let uncertain = w.errors[ErrorKind::Timeout as usize] + w.errors[ErrorKind::Io as usize];
        t.finish(w.committed_tx, uncertain);
    }
    let aborted = INTERRUPTED.load(Ordering::SeqCst);
    let mut result = assemble(plan, &shared, &collected, &target, aborted, started_at);
    if let Some(s) = &opts.segment {
        result.segment = Some(crate::segment::tag(s, &target, clock_origin));
    }
    if let Some(p) = profile {
        result.files.flamegraph = Some(p.flamegraph.clone());
        result.profile = Some(p);
    }
    result
        .write(dir.join("results.json"))
        .with_context(|| format!("writing results.json in {}", dir.display()))?;
    if !opts.no_reports {
        if let Err(e) = report::render_all(&result, &dir) {
            eprintln!("warning: rendering reports failed: {e}");
        }
    }
    let exit = match result.verdict.status {
        Status::Pass => exit::PASS,
        Status::Fail | Status::Invalid => exit::FAIL,
        Status::Aborted => exit::ABORTED,
    };
    Ok(RunOutcome { result, dir, exit })
}

/// `reports/<scenario>/<UTC timestamp>/`, plus a `latest` link beside it.
fn output_dir(plan: &Plan, opts: &RunOptions, started_at: &str) -> Result<PathBuf> {
    let root = opts.out.clone().unwrap_or_else(|| plan.output.dir.clone());
    let scenario_dir = root.join(&plan.name);
    let mut stamp = started_at.replace(':', "-");
    if let Some(s) = &opts.segment {
        // Segments start in the same second: each needs its own directory.
        stamp = format!("{stamp}-segment-{}-of-{}", s.segment.index, s.segment.count);
    }
    let mut dir = scenario_dir.join(&stamp);
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = scenario_dir.join(format!("{stamp}-{n}"));
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        let latest = scenario_dir.join("latest");
        let _ = std::fs::remove_file(&latest);
        if let Some(name) = dir.file_name() {
            let _ = std::os::unix::fs::symlink(name, &latest);
        }
    }
    Ok(dir)
}

/// Each stage's unit and the factor from ops/s to it.
fn stage_units(plan: &Plan) -> Vec<(String, f64)> {
    plan.stages
        .iter()
        .map(|s| match &s.load {
            Load::Closed { .. } => ("workers".to_string(), 1.0),
            Load::Open {
                unit: RateUnit::TxPerSec,
                ..
            } => ("tx/s".to_string(), plan.tx_per_op()),
            Load::Open { .. } => ("ops/s".to_string(), 1.0),
        })
        .collect()
}

fn capacity_check(plan: &Plan) -> Option<CapacityCheck> {
    plan.capacity.as_ref().map(|c| {
        let unit = plan
            .stages
            .iter()
            .find_map(|s| match &s.load {
                Load::Open {
                    unit: RateUnit::TxPerSec,
                    ..
                } => Some("tx/s"),
                Load::Open { .. } => Some("ops/s"),
                Load::Closed { .. } => None,
            })
            .unwrap_or("ops/s");
        CapacityCheck {
            quantile: c.percentile / 100.0,
            max_ns: c.max_latency.as_nanos() as u64,
            stop_on_break: c.stop_on_break,
            label: format!(
                "p{} <= {}",
                c.percentile,
                scenario::units::format_duration(c.max_latency)
            ),
            unit: unit.to_string(),
            max_rate_met: None,
            first_rate_broken: None,
        }
    })
}

fn stage_plans(plan: &Plan) -> Vec<StagePlan> {
    plan.stages
        .iter()
        .map(|s| {
            let (model, unit, from, to) = match &s.load {
                Load::Closed { workers } => {
                    (LoadModel::Closed, "workers", workers.from, workers.to)
                }
                Load::Open { rate, unit } => (
                    LoadModel::Open,
                    match unit {
                        RateUnit::TxPerSec => "tx/s",
                        RateUnit::OpsPerSec => "ops/s",
                    },
                    rate.from,
                    rate.to,
                ),
            };
            StagePlan {
                name: s.name.clone(),
                duration_s: s.duration.as_secs_f64(),
                warmup: s.warmup,
                model,
                unit: unit.to_string(),
                from,
                to,
            }
        })
        .collect()
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
        committed: acc.committed_tx,
        committed_tps: per_s(acc.committed_tx),
        ops: acc.ops,
        ops_per_s: per_s(acc.ops),
        errors: acc.errors_total(),
        error_rate: acc.error_rate(per_tx),
        errors_by_kind: acc.errors_by_kind(),
        latency_us: acc.percentiles(),
    }
}

fn process_resources(
    samples: &[(f64, Option<crate::sampler::ProcSample>)],
    warmup: f64,
    pid: Option<u32>,
) -> ProcessResources {
    let present: Vec<(f64, crate::sampler::ProcSample)> = samples
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
    }
}

fn audit_result(a: &engine::AuditReport) -> AuditResult {
    AuditResult {
        ok: a.ok,
        total_supply_expected: a.total_supply_expected,
        total_supply_actual: a.total_supply_actual,
        committed_transfers: a.committed_transfers,
        nonce_advances: a.nonce_advances,
        ledger_height: a.ledger_height,
        ledger_total_tx: a.ledger_total_tx,
        ledger_consistent: a.problems.iter().all(|p| !p.contains("block")),
        rejected_by_reason: engine::RejectReason::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), a.rejected[*r as usize]))
            .collect(),
        problems: a.problems.clone(),
    }
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    plan: &Plan,
    shared: &Shared,
    c: &Collected,
    target: &Driven,
    aborted: bool,
    started_at: String,
) -> RunResult {
    let tl = &shared.timeline;
    let end_s = shared.elapsed(c.end).min(tl.total);
    let (audit, per_tx, startup, target_name) = match target {
        Driven::InProcess(t) => (
            Some(audit_result(&t.engine.audit())),
            true,
            Some(t.startup),
            format!(
                "engine ({}, {} accounts, {} shards)",
                t.engine.design().as_str(),
                plan.workload.accounts,
                t.engine.shards()
            ),
        ),
        Driven::Mock(m) => (
            None,
            false,
            None,
            format!("mock ({:?} per operation)", m.latency),
        ),
        Driven::Http(t) => (
            t.end.as_ref().and_then(|e| e.audit.clone()),
            plan.tx_per_op() > 0.0,
            t.startup,
            t.describe(),
        ),
    };
    let audit_ok = audit.as_ref().is_none_or(|a| a.ok);

    let stages = tl
        .spans
        .iter()
        .enumerate()
        .map(|(i, span)| {
            let acc = &c.stages[i];
            let start = span.start;
            let end = (span.start + span.duration).min(end_s).max(start);
            let s = summarize(acc, end - start, per_tx);
            StageResult {
                index: i,
                name: plan.stages[i].name.clone(),
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
                histogram: if acc.hist.is_empty() {
                    None
                } else {
                    results::encode_histogram(&acc.hist).ok()
                },
            }
        })
        .collect();

    let summary = summarize(
        &c.steady,
        tl.steady_seconds(end_s, shared.interval.as_secs_f64()),
        per_tx,
    );
    let harness_samples: Vec<_> = c.samples.iter().map(|(t, _, h)| (*t, *h)).collect();
    let harness_res = process_resources(&harness_samples, tl.warmup, Some(std::process::id()));
    let target_res = match target {
        Driven::Http(t) => {
            let target_samples: Vec<_> = c.samples.iter().map(|(t, s, _)| (*t, *s)).collect();
            process_resources(&target_samples, tl.warmup, t.pid())
        }
        // In-process: the engine and the load generator are one process.
        Driven::InProcess(_) | Driven::Mock(_) => harness_res.clone(),
    };
    let rss_growth = match (target_res.rss_end, target_res.rss_after_warmup) {
        (Some(e), Some(w)) => Some(e as i64 - w as i64),
        _ => None,
    };
    let full_interval = shared.interval.as_secs_f64() * 0.9;
    let min_interval_tps = c
        .intervals
        .iter()
        .filter(|r| r.dur_s >= full_interval && tl.is_steady(r.t_s - r.dur_s / 2.0))
        .map(|r| r.committed_tps)
        .reduce(f64::min);
    let has_steady_ops = c.steady.ops > 0;
    let measured = Measured {
        committed_tps: has_steady_ops.then_some(summary.committed_tps),
        min_interval_tps,
        p50_us: has_steady_ops.then_some(summary.latency_us.p50),
        p90_us: has_steady_ops.then_some(summary.latency_us.p90),
        p99_us: has_steady_ops.then_some(summary.latency_us.p99),
        p999_us: has_steady_ops.then_some(summary.latency_us.p999),
        error_rate: has_steady_ops.then_some(summary.error_rate),
        rss_peak: target_res.rss_peak,
        rss_growth,
        cpu_avg_pct: target_res.cpu_avg_pct,
        startup,
    };
    let criteria = criteria::evaluate(&plan.criteria, &measured);

    let mut reasons = Vec::new();
    let status = if !audit_ok {
        reasons
            .push("engine audit failed: no throughput verdict is given for this run".to_string());
        if let Some(a) = &audit {
            reasons.extend(a.problems.iter().map(|p| format!("audit: {p}")));
        }
        Status::Invalid
    } else if aborted {
        reasons.push(format!(
            "interrupted after {end_s:.1} s of {:.1} s planned; figures cover what ran",
            tl.total
        ));
        Status::Aborted
    } else {
        crate::criteria::pass_or_fail(&criteria, has_steady_ops, &mut reasons)
    };
    if c.late > 0 {
        reasons.push(format!(
            "{} worker slices arrived after their interval closed (counted in stage and run totals)",
            c.late
        ));
    }
    if let Some(cap) = &c.capacity {
        if plan.capacity.as_ref().is_some_and(|p| p.stop_on_break)
            && cap.first_rate_broken.is_some()
        {
            reasons.push(
                "capacity search stopped at the first interval that broke the latency bound"
                    .to_string(),
            );
        }
    }

    let mut env = environment::capture(started_at);
    env.finished_at = environment::now_rfc3339();
    let open = tl
        .spans
        .iter()
        .any(|s| matches!(s.kind, SpanKind::Open { .. }));
    let closed = tl
        .spans
        .iter()
        .any(|s| matches!(s.kind, SpanKind::Closed { .. }));
    let percentiles = results::percentile_points(&c.steady.hist);
    RunResult {
        schema_version: results::SCHEMA_VERSION,
        scenario: ScenarioInfo {
            name: plan.name.clone(),
            file: plan.file.display().to_string(),
            sha256: plan.sha256.clone(),
            description: plan.description.clone(),
            duration_scale: plan.duration_scale,
            target_kind: match target {
                Driven::Http(t) => t.kind().to_string(),
                Driven::InProcess(_) | Driven::Mock(_) => "in-process".to_string(),
            },
            target: target_name,
            target_tps: plan.criteria.min_tps,
            stages_planned: stage_plans(plan),
        },
        environment: env,
        driver: match target {
            Driven::Http(t) if t.driver() == Driver::Goose => DriverInfo {
                name: "goose".to_string(),
                latency_resolution_ns: crate::goose::LATENCY_RESOLUTION_NS,
                latency_basis: "service time to first byte (goose's own timing)".to_string(),
                // A request is a batch only when it carries a binary batch.
                batch_size: plan
                    .requests
                    .iter()
                    .any(|r| matches!(r.body, scenario::Body::BinaryBatch))
                    .then_some(u64::from(plan.workload.batch_size)),
                notes: t.notes(),
            },
            _ => DriverInfo {
            name: "native".to_string(),
            latency_resolution_ns: 1,
            latency_basis: match (open, closed) {
                (true, false) => "intended start (coordinated-omission corrected)".to_string(),
                (false, _) => "service time".to_string(),
                (true, true) => "open stages: intended start (coordinated-omission corrected); closed stages: service time".to_string(),
            },
            batch_size: Some(u64::from(plan.workload.batch_size)),
            notes: match target {
                Driven::Http(t) => t.notes(),
                Driven::InProcess(_) | Driven::Mock(_) => vec![
                format!(
                    "in-process: {} worker threads apply batches of {} transfers; one operation = one batch; latency is per batch",
                    target.workers(),
                    plan.workload.batch_size
                ),
                "errors are transfers the engine rejected, by reason; error rate = rejected / submitted transfers".to_string(),
                "resources: the target is the harness process itself (engine and load generator together)".to_string(),
                match startup {
                    Some(d) => format!("startup = engine genesis build time ({:.1} ms)", d.as_secs_f64() * 1e3),
                    None => "startup not measured for this target".to_string(),
                },
            ],
            },
        },
        },
        verdict: Verdict { status, reasons },
        summary,
        stages,
        intervals: c.intervals.clone(),
        resources: Resources {
            cores: env_cores(),
            same_process: !matches!(target, Driven::Http(_)),
            cpu_pct_basis: "percent of all cores (100 = every core busy)".to_string(),
            target: target_res,
            harness: harness_res,
            rss_growth_bytes: rss_growth,
        },
        audit,
        criteria,
        histogram: results::encode_histogram(&c.steady.hist).ok(),
        percentiles,
        profile: None,
        capacity: c.capacity.as_ref().map(|cap| CapacityResult {
            criterion: cap.label.clone(),
            unit: cap.unit.clone(),
            max_rate_met: cap.max_rate_met,
            first_rate_broken: cap.first_rate_broken,
        }),
        segment: None,
        files: Files {
            hlog: Some("latency.hlog".to_string()),
            flamegraph: None,
        },
    }
}

fn env_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Checks scenarios without running them; prints one line per file.
pub fn validate(files: &[PathBuf]) -> ExitCode {
    let mut bad = 0;
    for f in files {
        match scenario::load(f) {
            Ok(plan) => println!(
                "ok: {} ({} stages, {})",
                f.display(),
                plan.stages.len(),
                scenario::units::format_duration(plan.total_duration())
            ),
            Err(e) => {
                bad += 1;
                eprintln!("error: {e}");
            }
        }
    }
    ExitCode::from(if bad == 0 { exit::PASS } else { exit::USAGE })
}

/// Re-renders reports from a saved results.json.
pub fn rerender(
    results_json: &Path,
    out: Option<&Path>,
    formats: &[report::Format],
) -> Result<ExitCode> {
    let result = RunResult::read(results_json)?;
    let dir = out
        .map(Path::to_path_buf)
        .or_else(|| results_json.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let written = if formats.is_empty() {
        report::render_all(&result, &dir)?
    } else {
        report::render(&result, formats, &dir)?
    };
    for p in written {
        println!("{}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
