//! `harness run`: one prepared plan, from target to written result.
//!
//! [`execute`] is a short list of steps, each a function: choose the driver, prepare the
//! target, then [`execute_on`]: wait for the other segments, open the output directory and the
//! interval log, start the profiler and the workers, collect on this thread until the plan ends
//! (or the run is cancelled, or a capacity break), finish the target (engine audit, stop a
//! spawned server), assemble the [`RunResult`], judge it ([`crate::analysis::verdict`]) and
//! write it; with `--metrics-addr`, the run's totals are served live meanwhile ([`live`]).

pub(crate) mod assemble;
pub mod baseline_bin;
pub mod calibration;
pub mod counted;
pub mod live;
pub(crate) mod output;
pub mod remote_write;
pub mod repeat;
pub(crate) mod search;
pub mod sync;

use crate::analysis::verdict::{self, Facts};
use crate::cancel::Cancel;
use crate::drivers::Driver;
use crate::exit::Exit;
use crate::load::collector::{Collected, Collector};
use crate::load::errors::ErrorKind;
use crate::load::live::Live;
use crate::load::progress::Progress;
use crate::load::timeline::Timeline;
use crate::load::worker::Shared;
use crate::observe::environment;
use crate::observe::profile::{ProfileTarget, Profiler, Window};
use crate::observe::sampler::{process_cpu_seconds, Sampler};
use crate::plan::Prepared;
use crate::targets::http::HttpTarget;
use crate::targets::inprocess::InProcess;
use crate::targets::Target;
use anyhow::{bail, Context, Result};
use hdrhistogram::serialization::V2DeflateSerializer;
use results::{ProfileInfo, RunResult};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use sync::{SegmentRun, StartSync};

/// How to run a prepared plan (what does not change the plan itself).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Output directory root (default: the scenario's `output.dir`, usually `reports`).
    pub out: Option<PathBuf>,
    pub quiet: bool,
    pub allow_remote: bool,
    /// Write only results.json and the interval log (no rendered reports).
    pub no_reports: bool,
    /// Sample the process with pprof during the steady state (in-process targets), besides
    /// the scenario's `output.profile`.
    pub profile: bool,
    /// How an execution segment starts and ends with the others.
    pub start: StartSync,
    /// Cancelled on Ctrl-C, or aborted with a reason by a worker (a data feeder ran out): the
    /// run stops, drains and writes what it measured, marked aborted.
    pub cancel: Cancel,
    /// `--metrics-addr`: serve live metrics while the run goes (a capacity search's probe by
    /// probe).
    pub metrics: Option<live::LiveOptions>,
    /// The calibration the latency limits are held against (`--calibration`,
    /// `use_calibration`; not for capacity searches), or why none was found.
    pub calibration: Option<calibration::CalibrationUse>,
    /// `--count-instructions`: run under valgrind's callgrind in a child process and add the
    /// instruction count to the result ([`counted`]).
    pub count_instructions: bool,
    /// Write into exactly this (existing) directory instead of a new one under `out`: the
    /// counted run's child, whose directory the parent made.
    pub into: Option<PathBuf>,
}

/// What a finished run produced.
pub struct RunOutcome {
    pub result: RunResult,
    pub dir: PathBuf,
    pub exit: Exit,
    /// What could not be written (an incomplete interval log, a report that failed): told to
    /// the user, and the exit code is then 5.
    pub write_problems: Vec<String>,
}

impl RunOutcome {
    /// A run whose result was written to `dir`: its exit code is its verdict's, or an internal
    /// error (5) when something could not be written.
    pub(crate) fn written(result: RunResult, dir: PathBuf, write_problems: Vec<String>) -> Self {
        let exit = if write_problems.is_empty() {
            Exit::of(result.verdict.status)
        } else {
            Exit::Internal
        };
        RunOutcome {
            result,
            dir,
            exit,
            write_problems,
        }
    }
}

/// Runs a prepared plan against the target it names.
pub fn execute(prepared: &Prepared, opts: &RunOptions) -> Result<RunOutcome> {
    if opts.count_instructions {
        return counted::execute(prepared, opts);
    }
    let plan = &prepared.plan;
    let driver = Driver::for_plan(plan)?;
    let target = if plan.target.is_http() {
        // Refuses non-loopback targets (HttpError::Remote, exit 2) before any connection.
        let mut t = HttpTarget::prepare(plan, opts.allow_remote)?;
        if let Some(s) = &prepared.segment {
            t.share_engine(Some(s.senders(t.accounts_total())));
            t.segment_feeds(plan, s.segment.index, s.segment.count);
        }
        Target::Http(Box::new(t))
    } else {
        Target::InProcess(InProcess::new(&plan.workload, driver.workers())?)
    };
    if plan.capacity.as_ref().is_some_and(|c| c.search().is_some()) {
        return search::run(prepared, opts, target);
    }
    run_on(prepared, opts, driver, target)
}

/// Runs a prepared plan against a given target (the mock, in tests) with the driver the plan
/// asks for, or the threads driver sized by the target's own workers.
pub fn execute_on(prepared: &Prepared, opts: &RunOptions, target: Target) -> Result<RunOutcome> {
    let driver = match target.own_workers() {
        Some(workers) => Driver::Threads { workers },
        None => Driver::for_plan(&prepared.plan)?,
    };
    if prepared
        .plan
        .capacity
        .as_ref()
        .is_some_and(|c| c.search().is_some())
    {
        return search::run(prepared, opts, target);
    }
    run_on(prepared, opts, driver, target)
}

fn run_on(
    prepared: &Prepared,
    opts: &RunOptions,
    driver: Driver,
    mut target: Target,
) -> Result<RunOutcome> {
    let plan = &prepared.plan;
    let segment = prepared
        .segment
        .map(|s| SegmentRun::new(s.segment, opts.start.clone()));
    if let Some(s) = &segment {
        // The target is ready; start stage 0 together with the other segments.
        s.wait_for_start()?;
    }
    let started_at = environment::now_rfc3339();
    let root = opts.out.clone().unwrap_or_else(|| plan.output.dir.clone());
    let dir = match &opts.into {
        Some(dir) => dir.clone(),
        None => output::run_dir(
            &root,
            &plan.name,
            &started_at,
            segment
                .as_ref()
                .map(|s| format!("segment-{}-of-{}", s.segment.index, s.segment.count)),
        )?,
    };
    let cpu_before = process_cpu_seconds();
    let clock_origin = SystemTime::now();
    let shared = shared(plan, &target, opts);
    let mut collector = collector(prepared, opts, &shared, &target, &dir.join("latency.hlog"))?;
    let endpoint = start_live(prepared, opts)?;
    collector.live = endpoint.as_ref().map(|e| e.live.stages(live_stages(plan)));
    let profiler = (opts.profile || plan.output.profile)
        .then(|| start_profiler(prepared, &root, &dir, &shared, &target));
    let collected = load(&driver, &target, &shared, collector)?;
    // The profiler stops at the plan's end or on stop; make sure it sees a stop either way.
    shared.stop.store(true, Ordering::Relaxed);
    let profile = profiler.and_then(finish_profiler);
    finish_target(
        &mut target,
        segment.as_ref(),
        opts,
        &collected,
        &shared,
        clock_origin,
    );
    let mut result = assemble::assemble(&assemble::Parts {
        plan,
        shared: &shared,
        collected: &collected,
        target: &target,
        driver: &driver,
        started_at,
    });
    result.resources.tx_per_cpu_s = tx_per_cpu_s(&result, cpu_before, process_cpu_seconds());
    if let Some(s) = &segment {
        let share = prepared.segment.map_or(1.0, |p| p.share);
        result.segment = Some(sync::tag(s, share, &target, clock_origin));
    }
    if let Some(p) = profile {
        result.files.flamegraph = Some(p.flamegraph.clone());
        result.profile = Some(p);
    }
    judge(&mut result, prepared, opts, &collected, &shared);
    let mut write_problems: Vec<String> = collected
        .hlog_error
        .iter()
        .map(|e| format!("writing {} failed: {e}", dir.join("latency.hlog").display()))
        .chain(collected.spool_error.iter().cloned())
        .collect();
    write_problems.extend(output::write(&result, &dir, opts.no_reports)?);
    if let (Some(e), Some(m)) = (endpoint, &opts.metrics) {
        e.finish(m.linger, opts.quiet, || opts.cancel.is_cancelled());
    }
    Ok(RunOutcome::written(result, dir, write_problems))
}

/// The live metrics endpoint, when `--metrics-addr` or `--remote-write` asks for one; a run
/// then feeds it its stages ([`live_stages`]), a capacity search each probe's.
pub(crate) fn start_live(prepared: &Prepared, opts: &RunOptions) -> Result<Option<live::Endpoint>> {
    let Some(m) = &opts.metrics else {
        return Ok(None);
    };
    let plan = &prepared.plan;
    let segment = prepared.segment.map_or_else(String::new, |s| {
        format!("{}/{}", s.segment.index, s.segment.count)
    });
    // The names of the templates the workers tally apart (none: no template series).
    let templates = if plan.target.is_http() && crate::load::templates::tracked(plan) > 0 {
        plan.requests.iter().map(|t| t.name.clone()).collect()
    } else {
        Vec::new()
    };
    let live = Arc::new(Live::new(&plan.name, segment, templates));
    let e = live::Endpoint::start(m, opts.allow_remote, live)?;
    if !opts.quiet {
        if let Some(addr) = e.addr {
            eprintln!("live metrics: http://{addr}/metrics");
        }
        if let Some(rw) = &m.remote_write {
            eprintln!(
                "live metrics: remote-write to {} every {} s",
                rw.url,
                rw.interval.as_secs_f64()
            );
        }
    }
    Ok(Some(e))
}

/// A plan's stages as the live metrics name them, with their units.
pub(crate) fn live_stages(plan: &scenario::Plan) -> Vec<(String, &'static str)> {
    let units = assemble::stage_units(plan);
    plan.stages
        .iter()
        .zip(units)
        .map(|(s, u)| (s.name.clone(), u.as_str()))
        .collect()
}

/// What the run's workers share: the plan's timeline, and (HTTP targets) how many request
/// templates they tally apart, per slice too when the run serves live metrics.
pub(crate) fn shared(plan: &scenario::Plan, target: &Target, opts: &RunOptions) -> Arc<Shared> {
    let templates = match target {
        Target::Http(_) => crate::load::templates::tracked(plan),
        _ => 0,
    };
    let shared = Shared::new(
        Timeline::new(plan),
        plan.output.interval,
        opts.cancel.clone(),
    );
    Arc::new(shared.tallying_templates(templates, opts.metrics.is_some()))
}

/// The collector for this run, with the interval log opened at `hlog_path`.
pub(crate) fn collector(
    prepared: &Prepared,
    opts: &RunOptions,
    shared: &Arc<Shared>,
    target: &Target,
    hlog_path: &std::path::Path,
) -> Result<Collector> {
    let plan = &prepared.plan;
    let hlog = std::fs::File::create(hlog_path)
        .with_context(|| format!("creating {}", hlog_path.display()))?;
    Ok(Collector {
        shared: Arc::clone(shared),
        // A spawned server is sampled as the target; otherwise only the harness is.
        sampler: Sampler::new(target.pid()),
        progress: Progress::new(
            opts.quiet,
            shared.timeline.total,
            plan.stages.iter().map(|s| s.name.clone()).collect(),
        ),
        hlog: Some((hlog, V2DeflateSerializer::new())),
        per_tx_errors: target.per_tx_errors(plan),
        late_after_ns: plan.criteria.dispatch.late_after.as_nanos() as u64,
        target_is_harness: target.same_process(),
        stage_units: assemble::stage_units(plan),
        capacity: assemble::capacity_check(plan),
        probe: None,
        hlog_error: None,
        live: None,
    })
}

/// Starts the workers and collects on this thread until they are done. A worker that panicked
/// is an internal error: the figures are incomplete.
pub(crate) fn load(
    driver: &Driver,
    target: &Target,
    shared: &Arc<Shared>,
    collector: Collector,
) -> Result<Collected> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let handles = driver.start(target, shared, &tx)?;
    drop(tx);
    let collected = collector.run(rx);
    for h in handles {
        if h.join().is_err() {
            bail!("a worker thread panicked; the run's figures are incomplete");
        }
    }
    Ok(collected)
}

/// The steady-state profiler: pprof in this process, or the engine server's profile endpoint.
fn start_profiler(
    prepared: &Prepared,
    root: &std::path::Path,
    dir: &std::path::Path,
    shared: &Arc<Shared>,
    target: &Target,
) -> Profiler {
    let plan = &prepared.plan;
    let stamp = dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let files = ProfileTarget {
        in_run_dir: dir.join("flamegraph.svg"),
        shared_copy: root.parent().map(|p| {
            p.join("flamegraphs")
                .join(format!("{}-{stamp}.svg", plan.name))
        }),
    };
    let sh = Arc::clone(shared);
    let window = Window {
        start: shared.start,
        from_s: shared.timeline.warmup,
        to_s: shared.timeline.total,
        stopped: Box::new(move || sh.stop.load(Ordering::Relaxed)),
    };
    match target {
        Target::Http(t) => Profiler::start_remote(
            window,
            plan.output.profile_hz,
            files,
            t.control_dialer(),
            t.endpoint.authority.clone(),
            t.endpoint.base_path.clone(),
        ),
        _ => Profiler::start(window, plan.output.profile_hz, files),
    }
}

/// A profile is a bonus: failing to take one is said, and the run goes on.
fn finish_profiler(p: Profiler) -> Option<ProfileInfo> {
    match p.finish() {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("warning: profiling failed: {e:#}");
            None
        }
    }
}

/// After the load: a segment waits for the others before reading the shared engine (not after
/// Ctrl-C: then it just reports what it has); the target compares the engine's committed count
/// with ours, audits it and stops a spawned server.
fn finish_target(
    target: &mut Target,
    segment: Option<&SegmentRun>,
    opts: &RunOptions,
    collected: &Collected,
    shared: &Shared,
    clock_origin: SystemTime,
) {
    if !matches!(target, Target::Http(_)) {
        return;
    }
    if let Some(s) = segment.filter(|_| !opts.cancel.is_cancelled()) {
        let planned_end = clock_origin + Duration::from_secs_f64(shared.timeline.total);
        if let Some(note) = s.wait_for_end(planned_end) {
            eprintln!("warning: {note}");
        }
    }
    let w = &collected.whole.counts;
    let uncertain = w.errors[ErrorKind::Timeout as usize] + w.errors[ErrorKind::Io as usize];
    target.finish(w.committed_tx, uncertain);
}

/// The verdict ([`verdict::judge`]), then the notes only a live run knows.
fn judge(
    result: &mut RunResult,
    prepared: &Prepared,
    opts: &RunOptions,
    c: &Collected,
    shared: &Shared,
) {
    let tl = &shared.timeline;
    let end_s = shared.elapsed(c.end).min(tl.total);
    let held = opts
        .calibration
        .as_ref()
        .map(|u| u.hold(&prepared.plan.criteria, &result.scenario.target_kind))
        .unwrap_or_default();
    let facts = Facts {
        interval_s: shared.interval.as_secs_f64(),
        invalid: held.invalid,
        aborted: opts
            .cancel
            .is_cancelled()
            .then(|| match opts.cancel.reason() {
                Some(why) => why.to_string(),
                None => format!(
                    "interrupted after {end_s:.1} s of {:.1} s planned; figures cover what ran",
                    tl.total
                ),
            }),
    };
    verdict::judge(result, &prepared.plan.criteria, &facts);
    let reasons = &mut result.verdict.reasons;
    reasons.extend(held.note.map(|n| format!("note: {n}")));
    if c.late > 0 {
        reasons.push(format!(
            "{} worker slices arrived after their interval closed (counted in stage and run totals)",
            c.late
        ));
    }
    let stop_on_break = prepared.plan.capacity.as_ref().is_some_and(|p| {
        matches!(
            p.mode,
            scenario::CapacityMode::Ramp {
                stop_on_break: true
            }
        )
    });
    if stop_on_break
        && c.capacity
            .as_ref()
            .is_some_and(|k| k.first_rate_broken.is_some())
    {
        reasons.push(
            "capacity search stopped at the first interval that broke the latency bound"
                .to_string(),
        );
    }
}

/// Committed transactions of the whole run (warm-up included, since the CPU time is the whole
/// run's) per CPU-second the process spent on it.
fn tx_per_cpu_s(r: &RunResult, before: Option<f64>, after: Option<f64>) -> Option<f64> {
    let cpu = after? - before?;
    let committed: u64 = r.stages.iter().map(|s| s.committed).sum();
    (cpu > 0.0 && committed > 0).then(|| committed as f64 / cpu)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::threads;
    use crate::targets::mock::Mock;
    use std::path::Path;

    /// A disk that fills mid-run: the interval log's failure is kept and told, not dropped.
    #[test]
    fn an_interval_log_that_cannot_be_written_is_reported() {
        let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
            return; // not Linux: nothing to simulate a full disk with
        };
        let toml = "[scenario]\nname = \"full\"\n[target]\nkind = \"in-process\"\n[output]\ninterval = \"100ms\"\n[[stages]]\nduration = \"300ms\"\nworkers = 1\n";
        let plan = scenario::parse(toml, Path::new("full.toml")).unwrap();
        let shared = Arc::new(Shared::new(
            Timeline::new(&plan),
            plan.output.interval,
            Cancel::new(),
        ));
        let collector = Collector {
            shared: Arc::clone(&shared),
            sampler: Sampler::new(None),
            progress: Progress::new(true, shared.timeline.total, vec!["s".into()]),
            hlog: Some((full, V2DeflateSerializer::new())),
            per_tx_errors: false,
            late_after_ns: 1_000_000,
            target_is_harness: false,
            stage_units: assemble::stage_units(&plan),
            capacity: None,
            probe: None,
            hlog_error: None,
            live: None,
        };
        let (tx, rx) = crossbeam_channel::unbounded();
        let mock = Mock {
            latency: Duration::from_millis(1),
            stall: None,
            workers: 1,
        };
        let handles = threads::spawn_mock(&mock, &shared, &tx).unwrap();
        drop(tx);
        let collected = collector.run(rx);
        for h in handles {
            h.join().unwrap();
        }
        assert!(collected.whole.counts.ops > 0);
        let e = collected
            .hlog_error
            .expect("the failed writes are reported");
        assert!(!e.is_empty());
    }
}
