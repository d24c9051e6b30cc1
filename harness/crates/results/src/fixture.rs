//! Fixed, realistic results for tests: renderer snapshots, compare/merge tests, examples.
//!
//! [`sample`] is an in-process engine run of three stages (a 5 s warm-up, a 1→4 worker ramp,
//! a 15 s sustain with one stall) with 1 s intervals, criteria that pass, fail and were not
//! measured, rejections by kind, an audit, a profile and resource figures. Everything is
//! computed from a fixed pseudo-random sequence, so it is identical on every machine and run;
//! the stage and summary figures are aggregated from the same synthetic samples as the
//! intervals, so they agree with each other as a real run's would.
//!
//! Edge-case variants: [`no_intervals`], [`aborted`], [`http_goose`], [`https_native`], and
//! [`http_templates`] (per-template figures with a setup template), [`capacity_search`] (a
//! converged search of eleven probes).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::*;

/// Deterministic xorshift64*: no dependency, same numbers everywhere.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn new_hist() -> Histogram<u64> {
    // 1 ns .. 60 s, 3 significant digits: what the harness records with. The bounds are
    // constants, so construction cannot fail.
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("constant bounds are valid")
}

/// Planned stage for an interval time, and the load asked for at that time.
fn plan_at(plans: &[StagePlan], t_end: f64) -> (usize, f64) {
    let mut start = 0.0;
    for (i, p) in plans.iter().enumerate() {
        let end = start + p.duration_s;
        if t_end <= end + 1e-9 {
            let frac = ((t_end - start) / p.duration_s).clamp(0.0, 1.0);
            let load = p.from + (p.to - p.from) * frac;
            // Closed model: whole workers; stepped ramps round up at each step.
            return (i, load.ceil());
        }
        start = end;
    }
    (plans.len() - 1, plans.last().map_or(0.0, |p| p.to))
}

fn percentiles_of(h: &Histogram<u64>) -> Percentiles {
    Percentiles::from_histogram(h)
}

struct Acc {
    committed: u64,
    ops: u64,
    errors: u64,
    by_kind: BTreeMap<String, u64>,
    hist: Histogram<u64>,
    dur: f64,
}

impl Acc {
    fn new() -> Acc {
        Acc {
            committed: 0,
            ops: 0,
            errors: 0,
            by_kind: BTreeMap::new(),
            hist: new_hist(),
            dur: 0.0,
        }
    }
    fn add(&mut self, rec: &IntervalRecord, h: &Histogram<u64>) {
        self.committed += rec.committed;
        self.ops += rec.ops;
        self.errors += rec.errors;
        for (k, v) in &rec.errors_by_kind {
            *self.by_kind.entry(k.clone()).or_default() += v;
        }
        // Same bounds on both sides: adding cannot fail.
        self.hist.add(h).expect("same histogram bounds");
        self.dur += rec.dur_s;
    }
    fn rate(&self, n: u64) -> f64 {
        if self.dur > 0.0 {
            n as f64 / self.dur
        } else {
            0.0
        }
    }
    fn error_rate(&self) -> f64 {
        if self.ops > 0 {
            self.errors as f64 / self.ops as f64
        } else {
            0.0
        }
    }
}

const MIB: u64 = 1024 * 1024;
const BATCH: u64 = 1024;
/// One interval with a GC-like stall: lower TPS, fat tail.
const STALL_AT: u32 = 22;
const RSS_BASE: u64 = 40 * MIB;
const FLAMEGRAPH: &str = "../../../flamegraphs/transfer-sustain-20261123T155600Z.svg";

/// A realistic, fixed in-process run (see the module docs).
pub fn sample() -> RunResult {
    let plans = stage_plans();
    let run = simulate(&plans);
    let stages = stage_results(&plans, &run.per_stage);
    let summary = summary_of(&run.steady);
    let res = resource_figures(&plans, &run.intervals);
    let criteria = [speed_criteria(&summary), resource_criteria(&res)].concat();
    let verdict = verdict_of(&criteria);
    let histogram = Some(encode_histogram(&run.steady.hist).expect("fixture histogram encodes"));
    let percentiles = percentile_points(&run.steady.hist);
    let audit = audit_of(&run.intervals);
    RunResult {
        schema_version: SCHEMA_VERSION,
        scenario: scenario_info(plans),
        environment: environment(),
        driver: DriverInfo {
            name: "native".into(),
            latency_resolution_ns: 1,
            latency_basis: "service time".into(),
            batch_size: Some(BATCH),
            notes: vec![
                "closed model: latency is the service time of one batch of 1024 transfers".into(),
            ],
            tls: None,
        },
        verdict,
        summary,
        stages,
        templates: Vec::new(),
        intervals: run.intervals,
        resources: Resources {
            cores: 2,
            same_process: true,
            cpu_pct_basis: "percent of all cores (100 = every core busy)".into(),
            target: res.process.clone(),
            harness: res.process,
            rss_growth_bytes: res.growth,
            startup_s: None,
            tx_per_cpu_s: None,
            noise: None,
        },
        audit: Some(audit),
        criteria,
        histogram,
        histogram_failed: None,
        percentiles,
        profile: Some(profile()),
        instructions: None,
        capacity: None,
        segment: None,
        files: Files {
            hlog: Some("latency.hlog".into()),
            flamegraph: Some(FLAMEGRAPH.into()),
        },
    }
}

/// The three planned stages: a 5 s warm-up, a 1→4 worker ramp, a 15 s sustain.
fn stage_plans() -> Vec<StagePlan> {
    let closed = |name: &str, duration_s: f64, warmup: bool, from: f64, to: f64| StagePlan {
        name: name.into(),
        duration_s,
        warmup,
        model: LoadModel::Closed,
        unit: "workers".into(),
        from,
        to,
        operations: None,
    };
    vec![
        closed("warm-up", 5.0, true, 2.0, 2.0),
        closed("ramp", 10.0, false, 1.0, 4.0),
        closed("sustain", 15.0, false, 4.0, 4.0),
    ]
}

/// The synthetic run: every interval, and the same samples aggregated per stage and over
/// the steady state.
struct Simulated {
    intervals: Vec<IntervalRecord>,
    per_stage: Vec<Acc>,
    steady: Acc,
}

fn simulate(plans: &[StagePlan]) -> Simulated {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut run = Simulated {
        intervals: Vec::new(),
        per_stage: plans.iter().map(|_| Acc::new()).collect(),
        steady: Acc::new(),
    };
    for i in 1..=30u32 {
        let (rec, h) = interval(&mut rng, plans, i);
        run.per_stage[rec.stage].add(&rec, &h);
        if !plans[rec.stage].warmup {
            run.steady.add(&rec, &h);
        }
        run.intervals.push(rec);
    }
    run
}

/// Interval `i` (1-based, one second long) and its latency histogram. The order of the
/// random draws is part of the fixture: changing it changes every figure.
fn interval(rng: &mut Rng, plans: &[StagePlan], i: u32) -> (IntervalRecord, Histogram<u64>) {
    let t = f64::from(i);
    let (stage, planned) = plan_at(plans, t);
    let workers = planned;
    // Two cores: throughput saturates at two busy workers; more only adds queueing.
    let busy = workers.min(2.0);
    let jitter = 0.97 + 0.06 * rng.unit();
    let mut tps = 4_550_000.0 * busy * jitter;
    if i <= 2 {
        tps *= 0.75 + 0.1 * f64::from(i); // cold caches at the very start
    }
    if i == STALL_AT {
        tps *= 0.68;
    }
    let committed = tps.round() as u64;
    let ops = committed.div_ceil(BATCH);
    // Mean service time per batch grows with queueing once workers exceed cores.
    let mean_ns = BATCH as f64 / (tps / workers) * 1e9;
    let h = latency_samples(rng, mean_ns, i == STALL_AT);
    let by_kind = errors_by_kind(rng, i);
    let errors = by_kind.values().sum();
    let cpu = (busy / 2.0) * (88.0 + 8.0 * rng.unit());
    let rss = RSS_BASE
        + (140.0 * MIB as f64 * (t / 5.0).min(1.0)) as u64
        + (t - 5.0).max(0.0) as u64 * MIB
        + (rng.unit() * 3.0 * MIB as f64) as u64;
    let rss = if i == STALL_AT { rss + 12 * MIB } else { rss };
    // 2000 synthetic samples stand in for every operation; the count reports the real
    // number of operations, as a real run's histogram would.
    let mut lat = percentiles_of(&h);
    lat.count = ops;
    let rec = IntervalRecord {
        t_s: t,
        dur_s: 1.0,
        stage,
        planned,
        achieved_load: workers,
        committed,
        committed_tps: committed as f64,
        ops,
        ops_per_s: ops as f64,
        errors,
        errors_by_kind: by_kind,
        latency_us: lat,
        backlog: 0,
        target_cpu_pct: Some(round1(cpu)),
        target_rss_bytes: Some(rss),
        harness_cpu_pct: Some(round1(cpu)),
        harness_rss_bytes: Some(rss),
        machine_cpu_pct: None,
        cpu_per_core_pct: Vec::new(),
        harness_busiest_thread_pct: Some(round1((cpu * 1.6).min(100.0))),
        harness_busiest_thread_wait_pct: Some(round1(cpu / 20.0)),
        dispatch: None,
        other_cpu_pct: None,
        steal_pct: None,
    };
    (rec, h)
}

/// 2000 batch service times around `mean_ns`, with a 1 % and a 0.1 % tail, and one 38 ms
/// stall in the stalled interval.
fn latency_samples(rng: &mut Rng, mean_ns: f64, stalled: bool) -> Histogram<u64> {
    let mut h = new_hist();
    for s in 0..2_000u32 {
        let u = rng.unit();
        let mut v = mean_ns * (0.55 + 0.9 * u);
        if s % 100 == 7 {
            v *= 2.0 + 2.0 * rng.unit();
        }
        if s % 1000 == 501 {
            v *= 6.0 + 4.0 * rng.unit();
        }
        if stalled && s == 1234 {
            v = 38_000_000.0; // 38 ms stall
        }
        h.record(v.round().max(1.0) as u64)
            .expect("value within bounds");
    }
    h
}

/// Rejections in interval `i`: a few insufficient funds, a bad nonce every 7th second,
/// timeouts in the stall.
fn errors_by_kind(rng: &mut Rng, i: u32) -> BTreeMap<String, u64> {
    let mut by_kind = BTreeMap::new();
    let insufficient = (rng.unit() * 4.0) as u64;
    let bad_nonce = if i.is_multiple_of(7) { 1 } else { 0 };
    if insufficient > 0 {
        by_kind.insert("insufficient_funds".to_string(), insufficient);
    }
    if bad_nonce > 0 {
        by_kind.insert("bad_nonce".to_string(), bad_nonce);
    }
    if i == STALL_AT {
        by_kind.insert("timeout".to_string(), 3);
    }
    by_kind
}

fn stage_results(plans: &[StagePlan], per_stage: &[Acc]) -> Vec<StageResult> {
    let mut start = 0.0;
    plans
        .iter()
        .zip(per_stage)
        .enumerate()
        .map(|(index, (p, a))| {
            let end = start + p.duration_s;
            let mut lat = percentiles_of(&a.hist);
            lat.count = a.ops;
            let s = StageResult {
                index,
                name: p.name.clone(),
                warmup: p.warmup,
                start_s: start,
                end_s: end,
                committed: a.committed,
                committed_tps: a.rate(a.committed),
                ops: a.ops,
                ops_per_s: a.rate(a.ops),
                errors: a.errors,
                error_rate: a.error_rate(),
                errors_by_kind: a.by_kind.clone(),
                latency_us: lat,
                histogram: None,
            };
            start = end;
            s
        })
        .collect()
}

fn summary_of(steady: &Acc) -> Summary {
    let mut steady_lat = percentiles_of(&steady.hist);
    steady_lat.count = steady.ops;
    Summary {
        duration_s: steady.dur,
        committed: steady.committed,
        committed_tps: steady.rate(steady.committed),
        ops: steady.ops,
        ops_per_s: steady.rate(steady.ops),
        errors: steady.errors,
        error_rate: steady.error_rate(),
        errors_by_kind: steady.by_kind.clone(),
        latency_us: steady_lat,
        failures: Failures {
            tx_error_rate: Some(steady.error_rate()),
            ..Failures::default()
        },
        dispatch: None,
        // Closed-model stages: the load is what the workers achieved, nothing was offered.
        offered_tps: None,
        connect_us: None,
        tls_handshake_us: None,
    }
}

/// The process's resources (target and harness are one process in-process) and the figures
/// the resource criteria judge.
struct ResourceFigures {
    process: ProcessResources,
    growth: Option<i64>,
    cpu_avg: f64,
    rss_peak: Option<u64>,
}

fn resource_figures(plans: &[StagePlan], intervals: &[IntervalRecord]) -> ResourceFigures {
    let cpu_steady: Vec<f64> = intervals
        .iter()
        .filter(|r| !plans[r.stage].warmup)
        .filter_map(|r| r.target_cpu_pct)
        .collect();
    let cpu_avg = round1(cpu_steady.iter().sum::<f64>() / cpu_steady.len() as f64);
    let cpu_peak = cpu_steady.iter().copied().fold(0.0, f64::max);
    let rss_all: Vec<u64> = intervals
        .iter()
        .filter_map(|r| r.target_rss_bytes)
        .collect();
    let rss_after_warmup = intervals[4].target_rss_bytes;
    let rss_end = rss_all.last().copied();
    let rss_peak = rss_all.iter().copied().max();
    let process = ProcessResources {
        pid: Some(48_213),
        cpu_avg_pct: Some(cpu_avg),
        cpu_peak_pct: Some(cpu_peak),
        cpu_seconds: Some(round1(cpu_steady.iter().sum::<f64>() / 100.0 * 2.0)),
        rss_start: Some(RSS_BASE),
        rss_after_warmup,
        rss_peak,
        rss_end,
        rss_slope_per_h: crate::rss_slope_per_hour(
            &intervals
                .iter()
                .skip(4)
                .filter_map(|r| Some((r.t_s, r.target_rss_bytes?)))
                .collect::<Vec<_>>(),
        ),
        busiest_thread_peak_pct: intervals
            .iter()
            .skip(4)
            .filter_map(|r| r.harness_busiest_thread_pct)
            .reduce(f64::max),
        busiest_thread_wait_peak_pct: intervals
            .iter()
            .skip(4)
            .filter_map(|r| r.harness_busiest_thread_wait_pct)
            .reduce(f64::max),
    };
    let growth = match (rss_end, rss_after_warmup) {
        (Some(e), Some(w)) => Some(e as i64 - w as i64),
        _ => None,
    };
    ResourceFigures {
        process,
        growth,
        cpu_avg,
        rss_peak,
    }
}

/// Throughput, latency and error criteria: one passes, one fails.
fn speed_criteria(summary: &Summary) -> Vec<CriterionResult> {
    let tps = summary.committed_tps;
    let p50_us = summary.latency_us.p50;
    let p99_us = summary.latency_us.p99;
    let error_rate = summary.error_rate;
    vec![
        crit(
            "min_tps",
            "Throughput (committed)",
            "≥ 8.51M tx/s",
            format!("{:.2}M tx/s", tps / 1e6),
            8_510_000.0,
            Some(tps),
            "tx/s",
            tps >= 8_510_000.0,
        ),
        crit(
            "max_p50",
            "p50 latency",
            "≤ 1 ms",
            format!("{:.2} ms", p50_us / 1e3),
            1000.0,
            Some(p50_us),
            "us",
            p50_us <= 1000.0,
        ),
        crit(
            "max_p99",
            "p99 latency",
            "≤ 0.75 ms",
            format!("{:.2} ms", p99_us / 1e3),
            750.0,
            Some(p99_us),
            "us",
            p99_us <= 750.0,
        ),
        crit(
            "max_error_rate",
            "Error rate",
            "≤ 0.01 %",
            format!("{:.4} %", error_rate * 100.0),
            0.0001,
            Some(error_rate),
            "fraction",
            error_rate <= 0.0001,
        ),
    ]
}

/// Memory, CPU and startup criteria; startup is not measured in-process.
fn resource_criteria(res: &ResourceFigures) -> Vec<CriterionResult> {
    let (rss_peak, growth, cpu_avg) = (res.rss_peak, res.growth, res.cpu_avg);
    vec![
        crit(
            "max_memory",
            "Peak memory (RSS)",
            "≤ 256 MiB",
            format!("{} MiB", rss_peak.unwrap_or(0) / MIB),
            256.0 * MIB as f64,
            rss_peak.map(|v| v as f64),
            "bytes",
            rss_peak.unwrap_or(0) <= 256 * MIB,
        ),
        crit(
            "max_memory_growth",
            "Memory growth after warm-up",
            "≤ 100 MiB",
            format!("{} MiB", growth.unwrap_or(0) / MIB as i64),
            100.0 * MIB as f64,
            growth.map(|v| v as f64),
            "bytes",
            growth.unwrap_or(0) <= 100 * MIB as i64,
        ),
        crit(
            "max_cpu",
            "CPU (average)",
            "≤ 60 %",
            format!("{cpu_avg:.1} %"),
            60.0,
            Some(cpu_avg),
            "%",
            cpu_avg <= 60.0,
        ),
        CriterionResult {
            name: "max_startup".into(),
            label: "Startup time".into(),
            target: "≤ 1 s".into(),
            measured: "n/a".into(),
            target_value: 1.0,
            measured_value: None,
            unit: "s".into(),
            status: CriterionStatus::NotMeasured,
            significant: None,
        },
    ]
}

/// Fail with one reason per failed criterion, else pass.
fn verdict_of(criteria: &[CriterionResult]) -> Verdict {
    let reasons: Vec<String> = criteria
        .iter()
        .filter(|c| c.status == CriterionStatus::Fail)
        .map(|c| format!("{}: measured {}, target {}", c.label, c.measured, c.target))
        .collect();
    let status = if reasons.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    };
    Verdict { status, reasons }
}

/// A passing audit whose counts agree with the intervals.
fn audit_of(intervals: &[IntervalRecord]) -> AuditResult {
    let total_supply: u128 = 1_000_000 * 1_000_000_000_000;
    let rejected_total = |kind: &str| -> u64 {
        intervals
            .iter()
            .map(|r| r.errors_by_kind.get(kind).copied().unwrap_or(0))
            .sum()
    };
    let mut rejected = BTreeMap::new();
    for kind in ["insufficient_funds", "bad_nonce"] {
        rejected.insert(kind.to_string(), rejected_total(kind));
    }
    let all_committed: u64 = intervals.iter().map(|r| r.committed).sum();
    AuditResult {
        ok: true,
        total_supply_expected: total_supply,
        total_supply_actual: total_supply,
        committed_transfers: all_committed,
        nonce_advances: all_committed,
        ledger_height: all_committed.div_ceil(BATCH),
        ledger_total_tx: all_committed,
        ledger_consistent: true,
        rejected_by_reason: rejected,
        problems: vec![],
    }
}

fn scenario_info(plans: Vec<StagePlan>) -> ScenarioInfo {
    ScenarioInfo {
        name: "transfer-sustain".into(),
        file: "scenarios/transfer-sustain.toml".into(),
        sha256: "3f6c2a9d0e41b7c58a1d92e4f07b6c3a5d8e1f2049b3c7a6e5d4c3b2a1908f7e".into(),
        description: Some(
            "In-process engine, 1M accounts (uniform), batches of 1024 transfers; \
             ramp the workers, then hold for the sustained-throughput claim."
                .into(),
        ),
        duration_scale: 1.0,
        target_kind: "in-process".into(),
        target: "engine (in-process, 1,000,000 accounts)".into(),
        target_tps: Some(8_510_000.0),
        stages_planned: plans,
        warmup_s: None,
    }
}

fn environment() -> Environment {
    Environment {
        os: "Debian GNU/Linux 13 (trixie)".into(),
        kernel: Some("6.12.48-1-cloud-amd64".into()),
        cpu_model: "AMD EPYC 9R14 96-Core Processor".into(),
        cores: 2,
        memory_bytes: 24 * 1024 * MIB,
        hostname: Some("bench-01".into()),
        rustc: Some("rustc 1.95.0 (59807616e 2026-04-14)".into()),
        harness_version: "0.1.0".into(),
        git_commit: Some("bed0122".into()),
        started_at: "2026-11-23T15:56:00Z".into(),
        finished_at: "2026-11-23T15:56:31Z".into(),
    }
}

fn profile() -> ProfileInfo {
    ProfileInfo {
        flamegraph: FLAMEGRAPH.into(),
        frequency_hz: 99,
        samples: 2_941,
        top_frames: vec![
            frame("engine::shard::Shard::apply_batch", 41.3),
            frame("engine::ledger::Ledger::commit_batch", 12.8),
            frame("blake3::portable::compress_in_place", 9.6),
            frame("harness::driver::worker_loop", 6.2),
            frame("crossbeam_queue::array_queue::ArrayQueue<T>::push", 4.9),
            frame("hdrhistogram::Histogram<T>::record", 1.7),
        ],
    }
}

/// An aborted run: stopped by Ctrl-C 3 s into the ramp; criteria not judged, no profile.
pub fn aborted() -> RunResult {
    let mut r = sample();
    r.intervals.truncate(8);
    r.stages.truncate(2);
    if let Some(s) = r.stages.get_mut(1) {
        s.end_s = 8.0;
    }
    r.verdict = Verdict {
        status: Status::Aborted,
        reasons: vec!["interrupted (SIGINT) at 8.0 s, during stage \"ramp\"".into()],
    };
    for c in &mut r.criteria {
        c.status = CriterionStatus::NotMeasured;
        c.measured = "n/a".into();
        c.measured_value = None;
    }
    r.profile = None;
    r.files.flamegraph = None;
    r.environment.finished_at = "2026-11-23T15:56:08Z".into();
    r
}

/// A run with no intervals, no audit, no histogram, no profile and no resources measured
/// (e.g. an external HTTP target that failed its health check at once).
pub fn no_intervals() -> RunResult {
    let mut r = sample();
    r.intervals.clear();
    r.stages.clear();
    r.audit = None;
    r.histogram = None;
    r.percentiles.clear();
    r.profile = None;
    r.files = Files::default();
    r.scenario.target_kind = "http".into();
    r.scenario.target = "http://127.0.0.1:8080".into();
    r.resources = Resources {
        cores: 2,
        same_process: false,
        cpu_pct_basis: "percent of all cores (100 = every core busy)".into(),
        target: ProcessResources::default(),
        harness: ProcessResources::default(),
        rss_growth_bytes: None,
        startup_s: None,
        tx_per_cpu_s: None,
        noise: None,
    };
    r.summary = Summary {
        duration_s: 0.0,
        committed: 0,
        committed_tps: 0.0,
        ops: 0,
        ops_per_s: 0.0,
        errors: 0,
        error_rate: 0.0,
        errors_by_kind: BTreeMap::new(),
        latency_us: Percentiles::default(),
        failures: Failures::default(),
        dispatch: None,
        offered_tps: None,
        connect_us: None,
        tls_handshake_us: None,
    };
    for c in &mut r.criteria {
        c.status = CriterionStatus::NotMeasured;
        c.measured = "n/a".into();
        c.measured_value = None;
    }
    r.verdict = Verdict {
        status: Status::Invalid,
        reasons: vec!["target http://127.0.0.1:8080 failed its health check".into()],
    };
    r
}

/// The sample as if driven over HTTP by goose: millisecond resolution, open-model segment
/// 1 of 2, and a capacity search result (exercises every optional section).
pub fn http_goose() -> RunResult {
    let mut r = sample();
    r.scenario.target_kind = "http".into();
    r.scenario.target = "http://127.0.0.1:8080/api/v11/transactions".into();
    r.driver = DriverInfo {
        name: "goose".into(),
        latency_resolution_ns: 1_000_000,
        latency_basis: "service time".into(),
        batch_size: Some(BATCH),
        notes: vec!["goose records whole milliseconds of time to first byte".into()],
        tls: None,
    };
    r.audit = None;
    r.resources.same_process = false;
    r.capacity = Some(CapacityResult {
        criterion: "max_p99".into(),
        unit: "tx/s".into(),
        max_rate_met: Some(8_000_000.0),
        first_rate_broken: Some(9_000_000.0),
        search: None,
    });
    r.segment = Some(SegmentInfo::new(0, 2));
    r
}

/// The sample as if driven by the native client over https with `insecure = true`: connect
/// and TLS handshake times, resumed handshakes, and one kind of TLS failure.
pub fn https_native() -> RunResult {
    let mut r = sample();
    r.scenario.target_kind = "http".into();
    r.scenario.target = "https://127.0.0.1:8443/api/v11/transactions".into();
    r.audit = None;
    r.resources.same_process = false;
    let mut connect = Histogram::<u64>::new(3).expect("3 significant digits");
    let mut handshake = Histogram::<u64>::new(3).expect("3 significant digits");
    for i in 0..64u64 {
        connect.record(40_000 + 1_000 * i).expect("in range");
        handshake.record(300_000 + 20_000 * i).expect("in range");
    }
    r.summary.connect_us = Some(Percentiles::from_histogram(&connect));
    r.summary.tls_handshake_us = Some(Percentiles::from_histogram(&handshake));
    r.driver.tls = Some(TlsInfo {
        insecure: true,
        ca_file: None,
        system_roots: 0,
        server_name: "127.0.0.1".into(),
        client_cert: None,
        versions: vec!["1.2".into(), "1.3".into()],
        alpn: vec!["http/1.1".into()],
        resumption: true,
        handshakes: 64,
        resumed: 48,
        by_version: [("1.3".to_string(), 64)].into(),
        errors: vec![TlsError {
            message: "TLS handshake with 127.0.0.1 failed: received fatal alert: HandshakeFailure"
                .into(),
            count: 3,
        }],
    });
    r
}

/// The sample as an HTTP run of the native driver with two timed request templates (a
/// transfer batch carrying the steady state's errors, and a fast health check) and a setup
/// template sent once per connection, two of whose 64 sends were refused.
pub fn http_templates() -> RunResult {
    let mut r = sample();
    r.scenario.target_kind = "http".into();
    r.scenario.target = "http://127.0.0.1:8080".into();
    r.audit = None;
    r.resources.same_process = false;
    let s = &r.summary;
    let transfer_ops = s.ops / 4 * 3;
    let health_ops = s.ops - transfer_ops;
    let per_s = |n: u64| n as f64 / s.duration_s;
    r.templates = vec![
        template("transfer", false, transfer_ops, (600_000, 40_000)),
        template("health", false, health_ops, (90_000, 2_000)),
        template("login", true, 64, (1_500_000, 50_000)),
    ];
    let t = &mut r.templates;
    t[0].ops_per_s = Some(per_s(transfer_ops));
    // Every steady-state error was a transfer's.
    t[0].errors = s.errors;
    t[0].error_rate = s.error_rate * s.ops as f64 / transfer_ops as f64;
    t[0].errors_by_kind = s.errors_by_kind.clone();
    t[1].ops_per_s = Some(per_s(health_ops));
    t[2].errors = 2;
    t[2].error_rate = 2.0 / 64.0;
    t[2].errors_by_kind = [("status_4xx".to_string(), 2)].into();
    // What those two refused logins said (sampled), and a transfer refused with a long page.
    r.summary.failures.answers = vec![
        FailedAnswer {
            kind: "status_4xx".into(),
            template: Some("login".into()),
            status: 401,
            body: r#"{"error":"bad password <for user-7>"}"#.into(),
            truncated: false,
            sampled: 2,
            first_at_s: 0.8,
        },
        FailedAnswer {
            kind: "status_5xx".into(),
            template: Some("transfer".into()),
            status: 503,
            body: String::new(),
            truncated: true,
            sampled: 1,
            first_at_s: 12.5,
        },
    ];
    r
}

/// A template's figures without errors: `ops` successes whose latency spreads evenly over
/// `base` to `base + 100 * step` nanoseconds.
fn template(name: &str, setup: bool, ops: u64, (base, step): (u64, u64)) -> TemplateFigures {
    let mut h = new_hist();
    for i in 0..ops {
        h.record(base + step * (i % 1_000) / 10).expect("in range");
    }
    TemplateFigures {
        name: name.into(),
        setup,
        ops,
        ops_per_s: None,
        errors: 0,
        error_rate: 0.0,
        errors_by_kind: BTreeMap::new(),
        latency_us: Percentiles::from_histogram(&h),
        checks_failed: BTreeMap::new(),
        histogram: encode_histogram(&h).ok(),
    }
}

#[allow(clippy::too_many_arguments)]
fn crit(
    name: &str,
    label: &str,
    target: &str,
    measured: String,
    target_value: f64,
    measured_value: Option<f64>,
    unit: &str,
    pass: bool,
) -> CriterionResult {
    CriterionResult {
        name: name.into(),
        label: label.into(),
        target: target.into(),
        measured,
        target_value,
        measured_value,
        unit: unit.into(),
        status: if pass {
            CriterionStatus::Pass
        } else {
            CriterionStatus::Fail
        },
        significant: None,
    }
}

fn frame(name: &str, self_pct: f64) -> FrameShare {
    FrameShare {
        name: name.into(),
        self_pct,
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// (phase, offered M tx/s, achieved share, p50 ms, p99 ms, p99.9 ms, errors, outcome, early):
/// the search fixture's table of literals (a named row type, for clippy's type_complexity).
type SearchRow = (ProbePhase, f64, f64, f64, f64, f64, u64, ProbeOutcome, bool);

/// A converged capacity search over HTTP: grown from 2M tx/s by doubling until 16M broke p99
/// 5 ms, bisected (one probe unsure, repeated), confirmed at 12.75M. The summary is the
/// confirming probe's (the sample's figures stand in for it).
pub fn capacity_search() -> RunResult {
    let mut r = sample();
    r.scenario.target_kind = "spawn".into();
    r.scenario.target = "http://127.0.0.1:41234 (spawned: engine serve)".into();
    r.audit = None;
    r.resources.same_process = false;
    use ProbeOutcome::{Bad, Good, Unsure};
    use ProbePhase::{Bisect, Confirm, Grow};
    let rows: [SearchRow; 11] = [
        (Grow, 2.0, 1.0, 0.21, 0.62, 0.9, 0, Good, false),
        (Grow, 4.0, 1.0, 0.24, 0.81, 1.2, 0, Good, false),
        (Grow, 8.0, 0.999, 0.31, 1.6, 2.4, 0, Good, false),
        (Grow, 16.0, 0.93, 4.1, 61.0, 88.0, 0, Bad, true),
        (Bisect, 12.0, 0.998, 0.42, 1.8, 3.1, 0, Good, false),
        (Bisect, 14.0, 0.97, 1.9, 7.4, 12.0, 0, Bad, false),
        (Bisect, 13.0, 0.995, 0.8, 4.96, 7.9, 0, Unsure, false),
        (Bisect, 13.0, 0.99, 0.9, 5.31, 8.2, 0, Bad, false),
        (Bisect, 12.5, 0.998, 0.6, 2.9, 4.4, 0, Good, false),
        (Bisect, 12.75, 0.997, 0.7, 3.6, 5.2, 0, Good, false),
        (Confirm, 12.75, 0.997, 0.7, 3.7, 5.6, 0, Good, false),
    ];
    let mut t = 10.0;
    let probes = rows
        .iter()
        .enumerate()
        .map(|(i, row)| search_probe(i as u32 + 1, row, &mut t))
        .collect();
    r.capacity = Some(CapacityResult {
        criterion: "p99 <= 5 ms".into(),
        unit: "tx/s".into(),
        max_rate_met: Some(12_750_000.0),
        first_rate_broken: Some(13_000_000.0),
        search: Some(CapacitySearch {
            capacity: Some(12_750_000.0),
            above_max: false,
            slo: Slo {
                percentile: 99.0,
                max_latency_us: 5_000.0,
                max_error_rate: Some(0.001),
            },
            settings: SearchSettings {
                start: 2e6,
                max: 40e6,
                growth: 2.0,
                precision: 0.02,
                probe_s: 20.0,
                settle_s: 5.0,
                confirm_s: 60.0,
                max_probes: 20,
                max_time_s: 900.0,
            },
            ended: SearchEnd::Converged,
            probes,
            wall_s: t,
        }),
    });
    // A search sets no criteria: the verdict is its answer.
    r.criteria = Vec::new();
    r.verdict = Verdict {
        status: Status::Pass,
        reasons: vec![
            "capacity 12.75M tx/s at p99 <= 5 ms (good 12.75M, bad 13.0M), confirmed for 60 s"
                .into(),
        ],
    };
    r
}

/// Probe `index` of the search fixture from its table row; `t` is the search's clock, moved on
/// by the probe's 5 s settle and its judged time.
fn search_probe(index: u32, row: &SearchRow, t: &mut f64) -> Probe {
    let &(phase, m, share, p50, p99, p999, errors, outcome, early) = row;
    let duration_s = match (phase, early) {
        (_, true) => 3.0,
        (ProbePhase::Confirm, _) => 60.0,
        _ => 20.0,
    };
    let start_s = *t + 5.0;
    *t = start_s + duration_s;
    let offered = m * 1e6;
    let ops = (offered * share * duration_s / BATCH as f64) as u64;
    let ms = |v: f64| v * 1e3;
    let ci = |v: f64| {
        Some(Bounds {
            lo: ms(v) * 0.985,
            hi: ms(v) * 1.02,
        })
    };
    let p90 = p50 + (p99 - p50) * 0.4;
    Probe {
        index,
        phase,
        offered,
        achieved: offered * share,
        committed_tps: offered * share,
        start_s,
        duration_s,
        latency_us: Percentiles {
            count: ops,
            mean: ms(p50) * 1.2,
            p50: ms(p50),
            p90: ms(p90),
            p99: ms(p99),
            p999: ms(p999),
            max: ms(p999) * 1.5,
            ci95: Some(PercentileIntervals {
                p50: ci(p50),
                p90: ci(p90),
                p99: ci(p99),
                p999: ci(p999),
            }),
        },
        slo_latency_us: ms(p99),
        slo_latency_ci95: match outcome {
            ProbeOutcome::Unsure => Some(Bounds {
                lo: 4_880.0,
                hi: 5_060.0,
            }),
            _ => ci(p99),
        },
        ops,
        errors,
        error_rate: 0.0,
        errors_by_kind: BTreeMap::new(),
        late_fraction: Some(0.0),
        target_cpu_pct: Some(round1(m * 6.1)),
        harness_cpu_pct: Some(round1(m * 3.4)),
        outcome,
        why: match outcome {
            ProbeOutcome::Good => format!("p99 {p99:.2} ms <= 5 ms"),
            ProbeOutcome::Unsure => {
                "p99 4.96 ms, 95 % interval 4.88-5.06 ms straddles 5 ms: repeated".into()
            }
            _ if early => format!("p99 {p99:.1} ms > 50 ms (10x the limit) for 3 s: ended early"),
            _ => format!("p99 {p99:.2} ms > 5 ms"),
        },
        ended_early: early,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_deterministic_and_shaped_as_documented() {
        let a = sample();
        assert_eq!(a, sample());
        assert_eq!(a.stages.len(), 3);
        assert_eq!(a.intervals.len(), 30);
        assert!(a.stages[0].warmup && !a.stages[2].warmup);
        let statuses: Vec<_> = a.criteria.iter().map(|c| c.status).collect();
        for s in [
            CriterionStatus::Pass,
            CriterionStatus::Fail,
            CriterionStatus::NotMeasured,
        ] {
            assert!(statuses.contains(&s), "fixture lacks a {s:?} criterion");
        }
        assert_eq!(a.verdict.status, Status::Fail);
        assert!(a.summary.errors_by_kind.len() >= 2);
        assert!(a.audit.as_ref().is_some_and(|x| x.ok));
        // Steady state = the two non-warm-up stages.
        assert_eq!(
            a.summary.committed,
            a.stages[1].committed + a.stages[2].committed
        );
        assert!(
            a.summary.committed_tps > 8.51e6,
            "{}",
            a.summary.committed_tps
        );
        let h = a.decode_histogram().unwrap().unwrap();
        assert_eq!(h.len(), 25 * 2000);
    }
}
