//! `harness compare`: is the new run slower than the baseline, or just noisy?
//!
//! CI gating needs a verdict that does not flap on a shared machine, so a change is called a
//! regression only when it is beyond both the tolerance and the noise the runs themselves
//! showed (in the spirit of criterion's noise threshold):
//!
//! **Rule.** For each metric take the median of each side's runs (repeats). A change is a
//! *regression* only if (1) the new median is worse than the baseline median by more than the
//! metric's tolerance AND (2) it is outside the noise both sides' repeats showed: the new
//! side's whole range `[min, max]` (so its median too) lies beyond the baseline's range
//! widened by the tolerance (`[min·(1−t), max·(1+t)]`; for the error rate `[min−t, max+t]`, `t`
//! in absolute fraction points). With single runs both ranges are points, so the tolerance
//! alone decides. A real slowdown moves every repeat; a neighbour stealing the CPU during one
//! repeat moves that one only. An *improvement* is the mirror image. Latency changes smaller than
//! [`LATENCY_FLOOR_US`] (20 µs) are never a verdict either way: at that scale the clock and the
//! scheduler, not the code, decide. A metric one side did not measure is "n/a" and never fails.
//!
//! Default tolerances ([`Tolerances::default`]): throughput 10 %, p50 and p99 25 %, p99.9 50 %,
//! error rate +0.1 percentage points (absolute: a relative change of a near-zero rate means
//! nothing), peak RSS 20 %, CPU average 25 %. A scenario's `[criteria.tolerance]` overrides
//! them (its `error_rate` is read as an absolute fraction, 0.001 = 0.1 pp).
//!
//! Runs made by `harness run --repeat` also carry committed transactions per CPU-second of the
//! process (tolerance 25 %, `--tolerance tps_per_cpu=...`): on a shared 2-core machine another
//! job taking a core halves the TPS of a healthy engine, but not its work per CPU-second, while
//! an engine at half speed halves both. A plain results.json does not have it ("n/a"). When
//! both sides have it, the CPU average is shown as "info" and not judged: in a closed-model run
//! it is the CPU the machine had to spare, not a cost; the same holds whenever every run on
//! both sides is closed-model (it is judged for open-model, fixed-rate runs, where the work is
//! fixed and more CPU means more cost).
//!
//! Each side ([`Side`]) is a `results.json`, a directory of them (repeats, found recursively)
//! or a saved [`Baseline`] (`baselines/NAME.json`). Sides of different scenarios (name or
//! SHA-256 of the scenario file) are refused unless the caller allows it, because comparing
//! them would blame the code for a change in the benchmark. The analysis ([`compare`]) is kept
//! apart from the renderers ([`render_text`], [`render_markdown`], [`render_junit`]), which only
//! read a [`Comparison`].

use crate::exit::Exit;
use report::fmt;
use results::{ResultsError, RunResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Latency changes below this many microseconds are never a regression or an improvement.
pub const LATENCY_FLOOR_US: f64 = 20.0;

/// Version of the baseline file layout; readers reject any other.
pub const BASELINE_VERSION: u32 = 1;

/// The rule, one paragraph, as printed under every comparison.
pub const RULE: &str = "Rule: a metric regressed only if its new median is worse than the baseline median by more \
than the tolerance AND every new repeat lies outside the baseline's [min, max] over its repeats widened by the \
tolerance (single runs: the tolerance alone); improvements likewise. Latency changes under 20 µs are ignored. \
Error rate tolerance is absolute (percentage points).";

/// Errors of loading or comparing results; each names the file, name or flag at fault.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Results(#[from] ResultsError),
    #[error("parsing baseline {path}: {source}")]
    BaselineParse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{path}: baseline_version {found} is not supported (this harness reads version {expected})"
    )]
    BaselineVersion {
        path: PathBuf,
        found: u64,
        expected: u32,
    },
    #[error("{what:?} is neither a results.json, a directory of them, nor a baseline (looked for {tried})")]
    NotFound { what: String, tried: String },
    #[error("{path}: no results.json found in this directory")]
    EmptyDir { path: PathBuf },
    #[error("{path}: mixes runs of different scenarios ({first} and {other}); one side must be repeats of one scenario")]
    MixedRuns {
        path: PathBuf,
        first: String,
        other: String,
    },
    #[error("different scenarios: base {base} is scenario {base_id} but new {new} is scenario {new_id}; compare runs of one scenario file (or pass --allow-scenario-change)")]
    ScenarioMismatch {
        base: String,
        base_id: String,
        new: String,
        new_id: String,
    },
    #[error("tolerance {spec:?}: {reason}")]
    BadTolerance { spec: String, reason: String },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("serializing baseline {path}: {source}")]
    Serialize {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

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
        })
    }
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

/// Which scenario a run belongs to: the name and the SHA-256 of the scenario file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ScenarioId {
    pub name: String,
    pub sha256: String,
}

impl std::fmt::Display for ScenarioId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let short = self.sha256.get(..12).unwrap_or(&self.sha256);
        write!(f, "{:?} (sha256 {short})", self.name)
    }
}

/// A saved baseline: the figures of N repeats of one scenario, written by
/// `harness run --repeat N --save-baseline NAME`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Baseline {
    pub baseline_version: u32,
    pub name: String,
    pub scenario: ScenarioId,
    /// Scenario file as given when the baseline was made.
    pub scenario_file: String,
    pub duration_scale: f64,
    /// Driver of the runs ("native", "goose").
    pub driver: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub git_commit: Option<String>,
    /// Where it was measured: CPU model and core count, for whoever wonders why it moved.
    pub machine: String,
    pub runs: Vec<Figures>,
    pub median: Figures,
}

impl Baseline {
    /// A baseline from finished runs of one scenario and their figures (`figures[i]` of
    /// `runs[i]`, usually [`Figures::of`] plus what the gate measured; `runs` must not be empty).
    pub fn from_runs(
        name: &str,
        runs: &[RunResult],
        figures: Vec<Figures>,
        created_at: String,
    ) -> Result<Baseline, CompareError> {
        let first = runs.first().ok_or_else(|| CompareError::NotFound {
            what: name.to_string(),
            tried: "no runs to make a baseline from".to_string(),
        })?;
        // Non-empty was checked above, so there is a median.
        let median = Figures::median_of(&figures).ok_or_else(|| CompareError::NotFound {
            what: name.to_string(),
            tried: "no runs to make a baseline from".to_string(),
        })?;
        let env = &first.environment;
        Ok(Baseline {
            baseline_version: BASELINE_VERSION,
            name: name.to_string(),
            scenario: ScenarioId {
                name: first.scenario.name.clone(),
                sha256: first.scenario.sha256.clone(),
            },
            scenario_file: first.scenario.file.clone(),
            duration_scale: first.scenario.duration_scale,
            driver: first.driver.name.clone(),
            created_at,
            git_commit: env.git_commit.clone(),
            machine: format!("{} ({} cores)", env.cpu_model, env.cores),
            runs: figures,
            median,
        })
    }

    /// Reads a baseline file, rejecting other layout versions with a message naming the file.
    pub fn read(path: &Path) -> Result<Baseline, CompareError> {
        let bytes = std::fs::read(path).map_err(|source| CompareError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_slice(&bytes, path)
    }

    fn from_slice(bytes: &[u8], path: &Path) -> Result<Baseline, CompareError> {
        let parse = |source| CompareError::BaselineParse {
            path: path.to_owned(),
            source,
        };
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(parse)?;
        match v.get("baseline_version").and_then(|v| v.as_u64()) {
            Some(found) if found != u64::from(BASELINE_VERSION) => {
                return Err(CompareError::BaselineVersion {
                    path: path.to_owned(),
                    found,
                    expected: BASELINE_VERSION,
                })
            }
            _ => {}
        }
        serde_json::from_value(v).map_err(parse)
    }

    /// Writes the baseline as pretty JSON (creating the directory).
    pub fn write(&self, path: &Path) -> Result<(), CompareError> {
        let werr = |source| CompareError::Write {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(werr)?;
        }
        let mut json =
            serde_json::to_string_pretty(self).map_err(|source| CompareError::Serialize {
                path: path.to_owned(),
                source,
            })?;
        json.push('\n');
        std::fs::write(path, json).map_err(werr)
    }
}

/// One side of a comparison: the runs and what they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Side {
    /// How the user named it (path or baseline name).
    pub origin: String,
    pub scenario: ScenarioId,
    /// Driver name(s) of the runs, e.g. "native".
    pub driver: String,
    pub runs: Vec<Figures>,
    /// "baseline gate, 2026-11-23T17:00:00Z, commit abc" when loaded from a baseline.
    pub note: Option<String>,
    /// The scenario file the runs were made from, as recorded (for its tolerances).
    pub scenario_file: Option<String>,
}

impl Side {
    /// A side from runs in memory (`origin` names them in messages).
    pub fn from_results(origin: &str, runs: &[RunResult]) -> Result<Side, CompareError> {
        let figures = runs.iter().map(Figures::of).collect();
        Self::from_runs(origin, runs, figures)
    }

    /// A side from runs in memory and their figures (`figures[i]` of `runs[i]`).
    pub fn from_runs(
        origin: &str,
        runs: &[RunResult],
        figures: Vec<Figures>,
    ) -> Result<Side, CompareError> {
        let first = runs.first().ok_or_else(|| CompareError::EmptyDir {
            path: PathBuf::from(origin),
        })?;
        let id = |r: &RunResult| ScenarioId {
            name: r.scenario.name.clone(),
            sha256: r.scenario.sha256.clone(),
        };
        let scenario = id(first);
        let mut drivers: Vec<String> = Vec::new();
        for r in runs {
            if id(r) != scenario {
                return Err(CompareError::MixedRuns {
                    path: PathBuf::from(origin),
                    first: scenario.to_string(),
                    other: id(r).to_string(),
                });
            }
            if !drivers.contains(&r.driver.name) {
                drivers.push(r.driver.name.clone());
            }
        }
        let aborted = runs
            .iter()
            .filter(|r| r.verdict.status == results::Status::Aborted)
            .count();
        Ok(Side {
            origin: origin.to_string(),
            scenario,
            driver: drivers.join("+"),
            runs: figures,
            note: (aborted > 0).then(|| format!("{aborted} run(s) aborted: partial figures")),
            scenario_file: Some(first.scenario.file.clone()),
        })
    }

    /// A side from a saved baseline.
    pub fn from_baseline(origin: &str, b: &Baseline) -> Side {
        Side {
            origin: origin.to_string(),
            scenario: b.scenario.clone(),
            driver: b.driver.clone(),
            runs: b.runs.clone(),
            note: Some(format!(
                "baseline {:?} of {}{}, {}",
                b.name,
                b.created_at,
                b.git_commit
                    .as_deref()
                    .map(|c| format!(", commit {c}"))
                    .unwrap_or_default(),
                b.machine
            )),
            scenario_file: Some(b.scenario_file.clone()),
        }
    }

    /// Loads a side named on the command line: a `results.json`, a baseline file, a directory
    /// of `results.json` files (searched recursively; symlinks such as `latest` are not
    /// followed, so no run counts twice), or the name of a baseline in `baseline_dir`.
    pub fn load(spec: &str, baseline_dir: &Path) -> Result<Side, CompareError> {
        let p = Path::new(spec);
        if p.is_dir() {
            let mut files = Vec::new();
            find_results(p, &mut files).map_err(|source| CompareError::Io {
                path: p.to_owned(),
                source,
            })?;
            if files.is_empty() {
                return Err(CompareError::EmptyDir { path: p.to_owned() });
            }
            files.sort();
            let runs = files
                .iter()
                .map(RunResult::read)
                .collect::<Result<Vec<_>, _>>()?;
            return Side::from_results(spec, &runs);
        }
        if p.is_file() {
            return Self::load_file(spec, p);
        }
        let named = baseline_dir.join(format!("{spec}.json"));
        let is_name = !spec.contains(['/', '\\']) && !spec.ends_with(".json");
        if is_name && named.is_file() {
            return Self::load_file(spec, &named);
        }
        let tried = if is_name {
            format!("a file or directory {spec:?}, and {}", named.display())
        } else {
            format!("a file or directory {spec:?}")
        };
        Err(CompareError::NotFound {
            what: spec.to_string(),
            tried,
        })
    }

    fn load_file(spec: &str, path: &Path) -> Result<Side, CompareError> {
        let bytes = std::fs::read(path).map_err(|source| CompareError::Io {
            path: path.to_owned(),
            source,
        })?;
        let is_baseline = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .is_some_and(|v| v.get("baseline_version").is_some());
        if is_baseline {
            let b = Baseline::from_slice(&bytes, path)?;
            Ok(Side::from_baseline(spec, &b))
        } else {
            let r = RunResult::from_json_slice(&bytes, path)?;
            Side::from_results(spec, std::slice::from_ref(&r))
        }
    }
}

fn find_results(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            find_results(&entry.path(), out)?;
        } else if kind.is_file() && entry.file_name() == "results.json" {
            out.push(entry.path());
        }
    }
    Ok(())
}

/// Allowed change per metric. Relative (0.10 = 10 %) except `error_rate`, which is an absolute
/// difference of the error fraction (0.001 = 0.1 percentage points).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    pub tps: f64,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub error_rate: f64,
    pub rss: f64,
    pub cpu: f64,
    /// Committed transactions per CPU-second. Not a scenario key (the scenario format has a
    /// fixed list); set with `--tolerance tps_per_cpu=...`.
    #[serde(default = "default_tps_per_cpu")]
    pub tps_per_cpu: f64,
}

fn default_tps_per_cpu() -> f64 {
    0.25
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            tps: 0.10,
            p50: 0.25,
            p99: 0.25,
            p999: 0.50,
            error_rate: 0.001,
            rss: 0.20,
            cpu: 0.25,
            tps_per_cpu: default_tps_per_cpu(),
        }
    }
}

impl Tolerances {
    /// Defaults overridden by a scenario's `[criteria.tolerance]` (already validated to
    /// `0..=1` by the scenario crate; `p90` is accepted there but not compared here).
    pub fn from_scenario(map: &BTreeMap<String, f64>) -> Tolerances {
        let mut t = Tolerances::default();
        for (k, v) in map {
            // Keys were validated against scenario::TOLERANCE_KEYS; the rest cannot occur.
            let _ = t.set(k, *v);
        }
        t
    }

    /// Sets one tolerance by its scenario key.
    pub fn set(&mut self, key: &str, value: f64) -> Result<(), CompareError> {
        let bad = |reason: &str| CompareError::BadTolerance {
            spec: format!("{key}={value}"),
            reason: reason.to_string(),
        };
        if !(0.0..=1.0).contains(&value) {
            return Err(bad("expected a number in 0..=1 (0.10 = 10 %)"));
        }
        match key {
            "tps" => self.tps = value,
            "p50" => self.p50 = value,
            "p90" => {}
            "p99" => self.p99 = value,
            "p999" => self.p999 = value,
            "error_rate" => self.error_rate = value,
            "rss" => self.rss = value,
            "cpu" => self.cpu = value,
            "tps_per_cpu" => self.tps_per_cpu = value,
            _ => {
                return Err(bad(
                    "unknown metric (tps tps_per_cpu p50 p99 p999 error_rate rss cpu)",
                ))
            }
        }
        Ok(())
    }

    /// Applies a `KEY=VALUE` flag (e.g. `--tolerance tps=0.2`).
    pub fn apply_spec(&mut self, spec: &str) -> Result<(), CompareError> {
        let (k, v) = spec
            .split_once('=')
            .ok_or_else(|| CompareError::BadTolerance {
                spec: spec.to_string(),
                reason: "expected KEY=VALUE, e.g. tps=0.2".to_string(),
            })?;
        let v: f64 = v.trim().parse().map_err(|_| CompareError::BadTolerance {
            spec: spec.to_string(),
            reason: "the value is not a number".to_string(),
        })?;
        self.set(k.trim(), v)
    }
}

/// Which direction is better for a metric.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// How a tolerance widens the baseline's range.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Slack {
    /// Fraction of the value.
    Relative(f64),
    /// Same unit as the value.
    Absolute(f64),
}

/// The outcome for one metric.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MetricVerdict {
    Improved,
    Unchanged,
    Regressed,
    /// One side did not measure it.
    NotMeasured,
    /// Shown, not judged: the CPU average when both sides carry TPS per CPU-second (see
    /// [`compare`]).
    Info,
}

impl MetricVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricVerdict::Improved => "improved",
            MetricVerdict::Unchanged => "unchanged",
            MetricVerdict::Regressed => "REGRESSED",
            MetricVerdict::NotMeasured => "n/a",
            MetricVerdict::Info => "info",
        }
    }
}

/// The samples of one metric on both sides and what the rule makes of them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Judgement {
    pub base_median: f64,
    pub new_median: f64,
    pub base_min: f64,
    pub base_max: f64,
    pub new_min: f64,
    pub new_max: f64,
    /// Noise band: the baseline's [min, max] widened by the tolerance.
    pub band: (f64, f64),
    pub verdict: MetricVerdict,
}

/// Median (mean of the middle two for an even count); `None` for no samples.
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Applies the rule (see the module docs) to one metric's samples. `floor` is an absolute
/// change below which nothing is a verdict (0 for none). `None` if a side has no samples.
pub fn judge(
    base: &[f64],
    new: &[f64],
    better: Better,
    slack: Slack,
    floor: f64,
) -> Option<Judgement> {
    let b = median(base)?;
    let n = median(new)?;
    let range = |xs: &[f64]| {
        xs.iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                (lo.min(x), hi.max(x))
            })
    };
    let (bmin, bmax) = range(base);
    let (nmin, nmax) = range(new);
    let widen = |lo: f64, hi: f64| match slack {
        Slack::Relative(t) => (lo * (1.0 - t), hi * (1.0 + t)),
        Slack::Absolute(a) => (lo - a, hi + a),
    };
    // Beyond the tolerance measured from the median...
    let (tol_lo, tol_hi) = widen(b, b);
    // ...and outside the observed noise widened by the tolerance.
    let band = widen(bmin, bmax);
    let verdict = if (n - b).abs() < floor {
        MetricVerdict::Unchanged
    } else {
        // The new median beyond the tolerance, and the new range clear of the widened band
        // (nmin <= n <= nmax, so the median is outside it too).
        let (worse, better_) = match better {
            Better::Higher => (n < tol_lo && nmax < band.0, n > tol_hi && nmin > band.1),
            Better::Lower => (n > tol_hi && nmin > band.1, n < tol_lo && nmax < band.0),
        };
        if worse {
            MetricVerdict::Regressed
        } else if better_ {
            MetricVerdict::Improved
        } else {
            MetricVerdict::Unchanged
        }
    };
    Some(Judgement {
        base_median: b,
        new_median: n,
        base_min: bmin,
        base_max: bmax,
        new_min: nmin,
        new_max: nmax,
        band,
        verdict,
    })
}

/// Units the renderers format values in.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    TxPerS,
    TxPerCpuS,
    OpsPerS,
    Micros,
    Fraction,
    Bytes,
    Percent,
    CpuSecondsPerMillion,
}

impl Unit {
    fn format(self, v: f64) -> String {
        match self {
            Unit::TxPerS => fmt::rate(v, "tx/s"),
            Unit::TxPerCpuS => fmt::rate(v, "tx/CPU-s"),
            Unit::OpsPerS => fmt::rate(v, "ops/s"),
            Unit::Micros => fmt::latency_us(v),
            Unit::Fraction => fmt::fraction_pct(v),
            Unit::Bytes => fmt::bytes_f64(v),
            Unit::Percent => fmt::pct(v),
            Unit::CpuSecondsPerMillion => format!("{} CPU-s/1M ops", fmt::sig3(v)),
        }
    }
}

/// One row of the comparison.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// Machine name: "tps", "p50", "p99", "p999", "error_rate", "rss", "cpu".
    pub key: String,
    pub label: String,
    pub unit: Unit,
    pub better: Better,
    pub slack: Slack,
    /// `None` when a side did not measure the metric.
    pub judgement: Option<Judgement>,
}

impl MetricRow {
    pub fn verdict(&self) -> MetricVerdict {
        self.judgement
            .as_ref()
            .map_or(MetricVerdict::NotMeasured, |j| j.verdict)
    }

    fn fmt_value(&self, v: f64) -> String {
        self.unit.format(v)
    }

    fn change(&self) -> String {
        let Some(j) = &self.judgement else {
            return "n/a".to_string();
        };
        match self.slack {
            Slack::Absolute(_) => format!("{:+.3} pp", (j.new_median - j.base_median) * 100.0),
            Slack::Relative(_) if j.base_median == 0.0 => {
                if j.new_median == 0.0 {
                    "+0.0 %".to_string()
                } else {
                    "n/a (base 0)".to_string()
                }
            }
            Slack::Relative(_) => format!(
                "{:+.1} %",
                (j.new_median - j.base_median) / j.base_median * 100.0
            ),
        }
    }

    fn tolerance(&self) -> String {
        let t = match self.slack {
            Slack::Relative(t) => format!("{:.0} %", t * 100.0),
            Slack::Absolute(a) => format!("{:.2} pp", a * 100.0),
        };
        if self.unit == Unit::Micros {
            format!("{t} (≥ {LATENCY_FLOOR_US:.0} µs)")
        } else {
            t
        }
    }

    /// Half the min-max range of each side's repeats, relative to its median.
    fn spread(&self) -> String {
        let Some(j) = &self.judgement else {
            return "n/a".to_string();
        };
        let one = |lo: f64, hi: f64, m: f64| match self.slack {
            Slack::Absolute(_) => format!("±{:.3} pp", (hi - lo) / 2.0 * 100.0),
            Slack::Relative(_) if m == 0.0 => "±0 %".to_string(),
            Slack::Relative(_) => format!("±{:.1} %", (hi - lo) / 2.0 / m.abs() * 100.0),
        };
        format!(
            "{} / {}",
            one(j.base_min, j.base_max, j.base_median),
            one(j.new_min, j.new_max, j.new_median)
        )
    }

    fn cells(&self) -> [String; 7] {
        let (b, n) = match &self.judgement {
            Some(j) => (self.fmt_value(j.base_median), self.fmt_value(j.new_median)),
            None => ("n/a".to_string(), "n/a".to_string()),
        };
        [
            self.label.clone(),
            b,
            n,
            self.change(),
            self.tolerance(),
            self.spread(),
            self.verdict().as_str().to_string(),
        ]
    }
}

/// What one side was, for the header of every output.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SideInfo {
    pub origin: String,
    pub scenario: ScenarioId,
    pub driver: String,
    pub runs: usize,
    pub note: Option<String>,
}

impl SideInfo {
    fn of(s: &Side) -> SideInfo {
        SideInfo {
            origin: s.origin.clone(),
            scenario: s.scenario.clone(),
            driver: s.driver.clone(),
            runs: s.runs.len(),
            note: s.note.clone(),
        }
    }

    fn describe(&self) -> String {
        let mut s = format!(
            "{} [driver {}, {} run{}]",
            self.origin,
            self.driver,
            self.runs,
            if self.runs == 1 { "" } else { "s" }
        );
        if let Some(n) = &self.note {
            let _ = write!(s, " ({n})");
        }
        s
    }
}

/// A finished comparison: what the renderers read.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Comparison {
    pub scenario: String,
    pub base: SideInfo,
    pub new: SideInfo,
    pub tolerances: Tolerances,
    /// Set when the sides' scenarios differ and that was allowed.
    pub scenario_changed: Option<String>,
    /// Set when the sides ran through different drivers (e.g. native vs goose): allowed, and
    /// said, because the differences then measure the load generators as much as the target.
    #[serde(default)]
    pub drivers_differ: Option<String>,
    pub rows: Vec<MetricRow>,
}

impl Comparison {
    pub fn regressions(&self) -> impl Iterator<Item = &MetricRow> {
        self.rows
            .iter()
            .filter(|r| r.verdict() == MetricVerdict::Regressed)
    }

    pub fn has_regression(&self) -> bool {
        self.regressions().next().is_some()
    }

    /// Fail (1) on any regression, else pass (0).
    pub fn exit(&self) -> Exit {
        if self.has_regression() {
            Exit::Fail
        } else {
            Exit::Pass
        }
    }

    fn headline(&self) -> String {
        let regressed: Vec<&str> = self.regressions().map(|r| r.key.as_str()).collect();
        if regressed.is_empty() {
            "no regression".to_string()
        } else {
            format!("REGRESSION in {}", regressed.join(", "))
        }
    }
}

/// Options of [`compare`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CompareOptions {
    /// Compare sides of different scenarios (e.g. the same file with a changed
    /// `workload.synthetic_cost`) instead of refusing.
    pub allow_scenario_change: bool,
}

/// Compares `new` against `base` metric by metric.
pub fn compare(
    base: &Side,
    new: &Side,
    tol: &Tolerances,
    opts: CompareOptions,
) -> Result<Comparison, CompareError> {
    let scenario_changed = if base.scenario != new.scenario {
        if !opts.allow_scenario_change {
            return Err(CompareError::ScenarioMismatch {
                base: base.origin.clone(),
                base_id: base.scenario.to_string(),
                new: new.origin.clone(),
                new_id: new.scenario.to_string(),
            });
        }
        Some(format!(
            "scenario changed: base {} vs new {}",
            base.scenario, new.scenario
        ))
    } else {
        None
    };
    let col = |s: &Side, f: &dyn Fn(&Figures) -> Option<f64>| -> Vec<f64> {
        s.runs.iter().filter_map(f).collect()
    };
    // Non-committing targets (plain HTTP services) have no committed TPS: use ops/s.
    let committing = base.runs.iter().any(|r| r.committed_tps > 0.0)
        || new.runs.iter().any(|r| r.committed_tps > 0.0);
    type Get = fn(&Figures) -> Option<f64>;
    let tps: (Get, &str, Unit) = if committing {
        (|f| Some(f.committed_tps), "Committed TPS", Unit::TxPerS)
    } else {
        (|f| Some(f.ops_per_s), "Throughput (ops/s)", Unit::OpsPerS)
    };
    let specs: [(&str, &str, Unit, Better, Slack, f64, Get); 10] = [
        (
            "tps",
            tps.1,
            tps.2,
            Better::Higher,
            Slack::Relative(tol.tps),
            0.0,
            tps.0,
        ),
        (
            "tps_per_cpu",
            "TPS per CPU-second",
            Unit::TxPerCpuS,
            Better::Higher,
            Slack::Relative(tol.tps_per_cpu),
            0.0,
            |f| f.tx_per_cpu_s,
        ),
        (
            "p50",
            "p50 latency",
            Unit::Micros,
            Better::Lower,
            Slack::Relative(tol.p50),
            LATENCY_FLOOR_US,
            |f| Some(f.p50_us),
        ),
        (
            "p99",
            "p99 latency",
            Unit::Micros,
            Better::Lower,
            Slack::Relative(tol.p99),
            LATENCY_FLOOR_US,
            |f| Some(f.p99_us),
        ),
        (
            "p999",
            "p99.9 latency",
            Unit::Micros,
            Better::Lower,
            Slack::Relative(tol.p999),
            LATENCY_FLOOR_US,
            |f| Some(f.p999_us),
        ),
        (
            "error_rate",
            "Error rate",
            Unit::Fraction,
            Better::Lower,
            Slack::Absolute(tol.error_rate),
            0.0,
            |f| Some(f.error_rate),
        ),
        (
            "rss",
            "Peak RSS",
            Unit::Bytes,
            Better::Lower,
            Slack::Relative(tol.rss),
            0.0,
            |f| f.rss_peak_bytes.map(|b| b as f64),
        ),
        (
            "cpu",
            "CPU average",
            Unit::Percent,
            Better::Lower,
            Slack::Relative(tol.cpu),
            0.0,
            |f| f.cpu_avg_pct,
        ),
        (
            "generator_cpu",
            "Load generator CPU-s per 1M ops",
            Unit::CpuSecondsPerMillion,
            Better::Lower,
            Slack::Relative(tol.cpu),
            0.0,
            |f| f.generator_cpu_s_per_m_ops,
        ),
        (
            "generator_rss",
            "Load generator peak RSS",
            Unit::Bytes,
            Better::Lower,
            Slack::Relative(tol.rss),
            0.0,
            |f| f.generator_rss_peak_bytes.map(|b| b as f64),
        ),
    ];
    // With TPS per CPU-second on both sides, the CPU average is shown but not judged: in a
    // closed-model run it measures how much CPU the machine had to spare (measured: 25 % of the
    // cores on a busy machine, far more on an idle one, same binary), and the cost per
    // transaction it stands for is judged by TPS per CPU-second.
    // Likewise when every run on both sides is closed-model.
    let efficiency_known = base.runs.iter().all(|r| r.tx_per_cpu_s.is_some())
        && new.runs.iter().all(|r| r.tx_per_cpu_s.is_some());
    let all_closed = base.runs.iter().chain(&new.runs).all(|r| r.closed_model);
    let mut rows: Vec<MetricRow> = specs
        .into_iter()
        .map(|(key, label, unit, better, slack, floor, get)| MetricRow {
            key: key.to_string(),
            label: label.to_string(),
            unit,
            better,
            slack,
            judgement: judge(&col(base, &get), &col(new, &get), better, slack, floor),
        })
        .collect();
    // What the load generator cost is shown so that two drivers can be weighed, but it is not
    // the system under test: never a regression. Rows nobody measured (in-process runs, where
    // generator and target are one process) are left out.
    rows.retain(|r| !r.key.starts_with("generator_") || r.judgement.is_some());
    for r in rows.iter_mut().filter(|r| r.key.starts_with("generator_")) {
        if let Some(j) = r.judgement.as_mut() {
            j.verdict = MetricVerdict::Info;
        }
    }
    if efficiency_known || all_closed {
        for r in rows.iter_mut().filter(|r| r.key == "cpu") {
            if let Some(j) = r.judgement.as_mut() {
                j.verdict = MetricVerdict::Info;
            }
        }
    }
    Ok(Comparison {
        scenario: new.scenario.name.clone(),
        base: SideInfo::of(base),
        new: SideInfo::of(new),
        tolerances: *tol,
        scenario_changed,
        drivers_differ: (base.driver != new.driver).then(|| {
            format!(
                "drivers differ (base {}, new {}): the changes measure the load generators as much as the target",
                base.driver, new.driver
            )
        }),
        rows,
    })
}

const HEADERS: [&str; 7] = [
    "Metric",
    "Baseline (median)",
    "New (median)",
    "Change",
    "Tolerance",
    "Spread (base / new)",
    "Verdict",
];

/// Plain text: an aligned table for terminals and CI logs.
pub fn render_text(c: &Comparison) -> String {
    let rows: Vec<[String; 7]> = c.rows.iter().map(MetricRow::cells).collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - cell.chars().count();
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(cell);
            s.push_str(&" ".repeat(pad));
        }
        s.trim_end().to_string()
    };
    let mut out = String::new();
    let _ = writeln!(out, "Comparison: {} — {}", c.scenario, c.headline());
    let _ = writeln!(out, "  base: {}", c.base.describe());
    let _ = writeln!(out, "  new:  {}", c.new.describe());
    for s in c.scenario_changed.iter().chain(&c.drivers_differ) {
        let _ = writeln!(out, "  note: {s}");
    }
    out.push('\n');
    let _ = writeln!(out, "{}", line(&HEADERS.map(str::to_string)));
    for r in &rows {
        let _ = writeln!(out, "{}", line(r));
    }
    out.push('\n');
    let _ = writeln!(out, "{RULE}");
    out
}

/// Markdown: the same table for a PR comment or a job summary.
pub fn render_markdown(c: &Comparison) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Comparison: {}: {}\n",
        esc(&c.scenario),
        c.headline()
    );
    let _ = writeln!(out, "- **Baseline:** {}", esc(&c.base.describe()));
    let _ = writeln!(out, "- **New:** {}", esc(&c.new.describe()));
    for s in c.scenario_changed.iter().chain(&c.drivers_differ) {
        let _ = writeln!(out, "- **Note:** {}", esc(s));
    }
    out.push('\n');
    let _ = writeln!(out, "| {} |", HEADERS.join(" | "));
    let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|---|");
    for r in &c.rows {
        let mut cells = r.cells().map(|s| esc(&s));
        if r.verdict() == MetricVerdict::Regressed {
            cells[6] = format!("**{}**", cells[6]);
        }
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    let _ = writeln!(out, "\n{RULE}");
    out
}

/// HTML: one self-contained page (no network, no script) with the same table; a regression is
/// bold and marked in words as well as colour, so it survives grey printing.
pub fn render_html(c: &Comparison) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Comparison</title>\n<style>\
         body{font-family:'DejaVu Sans',sans-serif;margin:2em;color:#222}\
         table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}\
         td:first-child,th:first-child,td:last-child{text-align:left}\
         .regressed{font-weight:bold;background:#fbe3e3}.improved{background:#e5f4e5}\
         .rule{max-width:60em;font-size:90%;color:#444}</style></head><body>\n",
    );
    let _ = writeln!(
        out,
        "<h1>Comparison: {}: {}</h1>",
        xml_esc(&c.scenario),
        xml_esc(&c.headline())
    );
    let _ = writeln!(
        out,
        "<ul><li><b>Baseline:</b> {}</li><li><b>New:</b> {}</li>",
        xml_esc(&c.base.describe()),
        xml_esc(&c.new.describe())
    );
    for s in c.scenario_changed.iter().chain(&c.drivers_differ) {
        let _ = writeln!(out, "<li><b>Note:</b> {}</li>", xml_esc(s));
    }
    out.push_str("</ul>\n<table>\n<tr>");
    for h in HEADERS {
        let _ = write!(out, "<th>{}</th>", xml_esc(h));
    }
    out.push_str("</tr>\n");
    for r in &c.rows {
        let class = match r.verdict() {
            MetricVerdict::Regressed => " class=\"regressed\"",
            MetricVerdict::Improved => " class=\"improved\"",
            _ => "",
        };
        let _ = write!(out, "<tr{class}>");
        for cell in r.cells() {
            let _ = write!(out, "<td>{}</td>", xml_esc(&cell));
        }
        out.push_str("</tr>\n");
    }
    let _ = writeln!(
        out,
        "</table>\n<p class=\"rule\">{}</p>\n</body></html>",
        xml_esc(RULE)
    );
    out
}

fn xml_esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot hold other control characters at all.
            ch if (ch as u32) < 0x20 && !matches!(ch, '\t' | '\n' | '\r') => out.push('?'),
            ch => out.push(ch),
        }
    }
    out
}

/// JUnit XML: one testcase per metric, a `<failure>` for a regression, `<skipped>` for a
/// metric one side did not measure.
pub fn render_junit(c: &Comparison) -> String {
    let suite = format!("compare.{}", c.scenario);
    let failures = c.regressions().count();
    let skipped = c
        .rows
        .iter()
        .filter(|r| r.verdict() == MetricVerdict::NotMeasured)
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"harness compare\" tests=\"{n}\" failures=\"{failures}\">\n  <testsuite name=\"{s}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
        n = c.rows.len(),
        s = xml_esc(&suite)
    );
    let _ = writeln!(out, "    <properties>");
    for (k, v) in [
        ("base", c.base.describe()),
        ("new", c.new.describe()),
        ("rule", RULE.to_string()),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{k}\" value=\"{}\"/>",
            xml_esc(&v)
        );
    }
    let _ = writeln!(out, "    </properties>");
    for r in &c.rows {
        let [label, b, n, change, tol, spread, verdict] = r.cells();
        let detail = format!(
            "{label}: baseline {b}, new {n}, change {change}, tolerance {tol}, spread {spread}: {verdict}"
        );
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">",
            xml_esc(&suite),
            xml_esc(&r.key)
        );
        match r.verdict() {
            MetricVerdict::Regressed => {
                let _ = write!(
                    out,
                    "\n      <failure type=\"regression\" message=\"{}\">{}\n{}</failure>\n    ",
                    xml_esc(&format!("{label} regressed: {change} (tolerance {tol})")),
                    xml_esc(&detail),
                    xml_esc(RULE)
                );
            }
            MetricVerdict::NotMeasured => {
                let _ = write!(
                    out,
                    "\n      <skipped message=\"{}\"/>\n    ",
                    xml_esc(&format!("{label}: not measured on one side"))
                );
            }
            MetricVerdict::Improved | MetricVerdict::Unchanged | MetricVerdict::Info => {
                let _ = write!(
                    out,
                    "\n      <system-out>{}</system-out>\n    ",
                    xml_esc(&detail)
                );
            }
        }
        let _ = writeln!(out, "</testcase>");
    }
    let _ = writeln!(out, "  </testsuite>\n</testsuites>");
    out
}

/// Output formats of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareFormat {
    Text,
    Markdown,
    Html,
    Junit,
}

impl CompareFormat {
    pub fn from_name(s: &str) -> Option<CompareFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "txt" => Some(CompareFormat::Text),
            "markdown" | "md" => Some(CompareFormat::Markdown),
            "html" => Some(CompareFormat::Html),
            "junit" | "xml" => Some(CompareFormat::Junit),
            _ => None,
        }
    }

    /// File name when written to a directory.
    pub fn file_name(self) -> &'static str {
        match self {
            CompareFormat::Text => "comparison.txt",
            CompareFormat::Markdown => "comparison.md",
            CompareFormat::Html => "comparison.html",
            CompareFormat::Junit => "comparison.junit.xml",
        }
    }

    pub fn render(self, c: &Comparison) -> String {
        match self {
            CompareFormat::Text => render_text(c),
            CompareFormat::Markdown => render_markdown(c),
            CompareFormat::Html => render_html(c),
            CompareFormat::Junit => render_junit(c),
        }
    }
}

/// Writes the given formats of a comparison into `dir`; returns the paths written.
pub fn write_outputs(
    c: &Comparison,
    dir: &Path,
    formats: &[CompareFormat],
) -> Result<Vec<PathBuf>, CompareError> {
    std::fs::create_dir_all(dir).map_err(|source| CompareError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Vec::new();
    for f in formats {
        let path = dir.join(f.file_name());
        std::fs::write(&path, f.render(c)).map_err(|source| CompareError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REL10: Slack = Slack::Relative(0.10);

    #[test]
    fn medians_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
    }

    #[test]
    fn single_runs_use_the_tolerance_alone() {
        let v = |n: f64| {
            judge(&[100.0], &[n], Better::Higher, REL10, 0.0)
                .unwrap()
                .verdict
        };
        assert_eq!(v(91.0), MetricVerdict::Unchanged);
        assert_eq!(
            v(90.0),
            MetricVerdict::Unchanged,
            "exactly at the edge is not beyond it"
        );
        assert_eq!(v(89.9), MetricVerdict::Regressed);
        assert_eq!(v(110.0), MetricVerdict::Unchanged);
        assert_eq!(v(110.1), MetricVerdict::Improved);
        let l = |n: f64| {
            judge(&[100.0], &[n], Better::Lower, REL10, 0.0)
                .unwrap()
                .verdict
        };
        assert_eq!(l(110.1), MetricVerdict::Regressed);
        assert_eq!(l(89.9), MetricVerdict::Improved);
        assert_eq!(l(105.0), MetricVerdict::Unchanged);
    }

    #[test]
    fn repeats_widen_the_band_by_the_observed_spread() {
        // Median 100, but one baseline run was at 80: a new median of 85 is 15 % worse than
        // the median yet inside the noise widened by 10 % (72..), so it is not a regression.
        let j = judge(
            &[80.0, 100.0, 105.0],
            &[85.0, 84.0, 86.0],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert_eq!(j.base_median, 100.0);
        assert_eq!(j.new_median, 85.0);
        assert!((j.band.0 - 72.0).abs() < 1e-9 && (j.band.1 - 115.5).abs() < 1e-9);
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
        // Below the widened band: regression.
        let j = judge(
            &[80.0, 100.0, 105.0],
            &[70.0, 71.0, 60.0],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert_eq!(j.verdict, MetricVerdict::Regressed);
        // One new repeat inside the band (a neighbour stole the CPU from the others): noise.
        let j = judge(
            &[100.0, 100.0, 100.0],
            &[50.0, 50.0, 95.0],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
        assert_eq!((j.new_min, j.new_max), (50.0, 95.0));
        // Every new repeat beyond the band: a regression, whatever the spread.
        let j = judge(
            &[100.0, 100.0, 100.0],
            &[50.0, 60.0, 89.0],
            Better::Higher,
            REL10,
            0.0,
        )
        .unwrap();
        assert_eq!(j.verdict, MetricVerdict::Regressed);
        // Tail latency with one repeat spared by the scheduler (measured shape: 69, 255, 254 µs
        // against 63..71 µs, tolerance 60 %): not a regression.
        let j = judge(
            &[71.0, 66.0, 63.0],
            &[69.0, 255.0, 254.0],
            Better::Lower,
            Slack::Relative(0.6),
            LATENCY_FLOOR_US,
        )
        .unwrap();
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
    }

    #[test]
    fn both_conditions_are_needed() {
        // Tight baseline, new median outside the band but within tolerance of the median is
        // impossible for relative slack (band contains the tolerance interval), so check the
        // other way round: beyond tolerance of the median but inside the noise band.
        let j = judge(&[50.0, 100.0], &[60.0], Better::Higher, REL10, 0.0).unwrap();
        assert_eq!(j.base_median, 75.0);
        assert!(
            j.new_median < j.base_median * 0.9,
            "beyond the tolerance of the median"
        );
        assert_eq!(
            j.verdict,
            MetricVerdict::Unchanged,
            "but inside the noise band"
        );
    }

    #[test]
    fn latency_floor_ignores_tiny_changes() {
        // +100 % but only 15 µs: ignored.
        let j = judge(&[15.0], &[30.0], Better::Lower, Slack::Relative(0.25), 20.0).unwrap();
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
        // +100 % and 25 µs: a regression.
        let j = judge(&[25.0], &[50.0], Better::Lower, Slack::Relative(0.25), 20.0).unwrap();
        assert_eq!(j.verdict, MetricVerdict::Regressed);
        // The floor applies to improvements too.
        let j = judge(&[30.0], &[12.0], Better::Lower, Slack::Relative(0.25), 20.0).unwrap();
        assert_eq!(j.verdict, MetricVerdict::Unchanged);
    }

    #[test]
    fn error_rate_tolerance_is_absolute() {
        let s = Slack::Absolute(0.001);
        let v = |b: f64, n: f64| judge(&[b], &[n], Better::Lower, s, 0.0).unwrap().verdict;
        assert_eq!(v(0.0, 0.0009), MetricVerdict::Unchanged);
        assert_eq!(v(0.0, 0.0011), MetricVerdict::Regressed);
        assert_eq!(v(0.0005, 0.0), MetricVerdict::Unchanged);
        assert_eq!(v(0.01, 0.0), MetricVerdict::Improved);
    }

    #[test]
    fn a_metric_missing_on_one_side_is_not_measured() {
        assert!(judge(&[], &[1.0], Better::Lower, REL10, 0.0).is_none());
    }

    #[test]
    fn tolerances_from_scenario_and_flags() {
        let mut m = BTreeMap::new();
        m.insert("tps".to_string(), 0.35);
        m.insert("p90".to_string(), 0.5);
        let mut t = Tolerances::from_scenario(&m);
        assert_eq!(t.tps, 0.35);
        assert_eq!(t.p99, 0.25);
        t.apply_spec("p99=0.6").unwrap();
        assert_eq!(t.p99, 0.6);
        let e = t.apply_spec("latency=0.1").unwrap_err().to_string();
        assert!(
            e.contains("latency=0.1") && e.contains("unknown metric"),
            "{e}"
        );
        assert!(t.apply_spec("tps").is_err());
        assert!(t.apply_spec("tps=2").is_err());
    }

    fn figures(tps: f64, p99: f64) -> Figures {
        Figures {
            committed_tps: tps,
            ops_per_s: tps / 1024.0,
            error_rate: 0.0,
            p50_us: p99 / 2.0,
            p99_us: p99,
            p999_us: p99 * 2.0,
            rss_peak_bytes: Some(100 << 20),
            cpu_avg_pct: None,
            tx_per_cpu_s: None,
            closed_model: false,
            generator_cpu_s_per_m_ops: None,
            generator_rss_peak_bytes: None,
        }
    }

    fn side(name: &str, sha: &str, runs: Vec<Figures>) -> Side {
        Side {
            origin: format!("{name}-{sha}"),
            scenario: ScenarioId {
                name: name.to_string(),
                sha256: sha.to_string(),
            },
            driver: "native".to_string(),
            runs,
            note: None,
            scenario_file: None,
        }
    }

    #[test]
    fn compare_flags_regressions_and_renders_them() {
        let base = side(
            "s",
            "aa",
            vec![figures(1e6, 1000.0), figures(1.05e6, 1100.0)],
        );
        let new = side("s", "aa", vec![figures(0.5e6, 2500.0)]);
        let c = compare(
            &base,
            &new,
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        let verdict = |k: &str| c.rows.iter().find(|r| r.key == k).unwrap().verdict();
        assert_eq!(verdict("tps"), MetricVerdict::Regressed);
        assert_eq!(verdict("p99"), MetricVerdict::Regressed);
        assert_eq!(verdict("rss"), MetricVerdict::Unchanged);
        assert_eq!(verdict("cpu"), MetricVerdict::NotMeasured);
        assert_eq!(c.exit(), Exit::Fail);
        let text = render_text(&c);
        assert!(text.contains("REGRESSION in tps"), "{text}");
        assert!(text.contains("driver native"), "{text}");
        assert!(text.contains("Rule:"), "{text}");
        let md = render_markdown(&c);
        assert!(
            md.contains("| Committed TPS |") && md.contains("**REGRESSED**"),
            "{md}"
        );
        let html = render_html(&c);
        assert!(html.contains("<td>Committed TPS</td>"), "{html}");
        assert!(
            html.contains("class=\"regressed\"") && html.contains("REGRESSED"),
            "{html}"
        );
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "self-contained"
        );
        let back = compare(
            &new,
            &base,
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        assert_eq!(back.exit(), Exit::Pass);
    }

    #[test]
    fn different_scenarios_are_refused_unless_allowed() {
        let base = side("s", "aa", vec![figures(1e6, 1000.0)]);
        let new = side("s", "bb", vec![figures(1e6, 1000.0)]);
        let e = compare(
            &base,
            &new,
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("different scenarios") && e.contains("sha256 bb"),
            "{e}"
        );
        let c = compare(
            &base,
            &new,
            &Tolerances::default(),
            CompareOptions {
                allow_scenario_change: true,
            },
        )
        .unwrap();
        assert!(c.scenario_changed.is_some());
    }

    #[test]
    fn cpu_average_is_info_when_tps_per_cpu_is_known() {
        let with = |tps: f64, cpu: f64| {
            let mut f = figures(tps, 1000.0);
            f.cpu_avg_pct = Some(cpu);
            f.tx_per_cpu_s = Some(3e7);
            f
        };
        let c = compare(
            &side("s", "aa", vec![with(1e6, 25.0)]),
            &side("s", "aa", vec![with(1e6, 90.0)]),
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        let cpu = c.rows.iter().find(|r| r.key == "cpu").unwrap();
        assert_eq!(cpu.verdict(), MetricVerdict::Info);
        assert_eq!(c.exit(), Exit::Pass);
        // Without it, the same CPU change is a regression.
        let mut a = with(1e6, 25.0);
        let mut b = with(1e6, 90.0);
        a.tx_per_cpu_s = None;
        b.tx_per_cpu_s = None;
        let c = compare(
            &side("s", "aa", vec![a]),
            &side("s", "aa", vec![b]),
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        assert_eq!(c.exit(), Exit::Fail);
    }

    #[test]
    fn non_committing_runs_compare_ops_per_second() {
        let mut f = figures(0.0, 1000.0);
        f.ops_per_s = 5000.0;
        let mut g = f.clone();
        g.ops_per_s = 2000.0;
        let c = compare(
            &side("h", "aa", vec![f]),
            &side("h", "aa", vec![g]),
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        assert_eq!(c.rows[0].label, "Throughput (ops/s)");
        assert_eq!(c.rows[0].verdict(), MetricVerdict::Regressed);
    }

    #[test]
    fn baseline_round_trips_and_rejects_other_versions() {
        let dir = tempfile::tempdir().unwrap();
        let b = Baseline {
            baseline_version: BASELINE_VERSION,
            name: "x".into(),
            scenario: ScenarioId {
                name: "s".into(),
                sha256: "aa".into(),
            },
            scenario_file: "s.toml".into(),
            duration_scale: 1.0,
            driver: "native".into(),
            created_at: "2026-11-23T00:00:00Z".into(),
            git_commit: None,
            machine: "cpu (2 cores)".into(),
            runs: vec![figures(1e6, 1000.0)],
            median: figures(1e6, 1000.0),
        };
        let p = dir.path().join("sub/x.json");
        b.write(&p).unwrap();
        assert_eq!(Baseline::read(&p).unwrap(), b);
        let side = Side::load("x", &dir.path().join("sub")).unwrap();
        assert_eq!(side.runs.len(), 1);
        let text = std::fs::read_to_string(&p)
            .unwrap()
            .replace("\"baseline_version\": 1", "\"baseline_version\": 9");
        std::fs::write(&p, text).unwrap();
        let e = Side::load(p.to_str().unwrap(), dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("baseline_version 9") && e.contains("x.json"),
            "{e}"
        );
        let e = Side::load("nope", dir.path()).unwrap_err().to_string();
        assert!(e.contains("nope.json"), "{e}");
    }
}
