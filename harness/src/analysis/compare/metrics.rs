//! The metrics a comparison has, one [`MetricSpec`] each, and the row each one becomes.
//!
//! Throughput is committed TPS, or ops/s for a target that commits nothing (a plain HTTP
//! service). Runs made by `harness run --repeat` also carry committed transactions per
//! CPU-second of the process (tolerance 25 %, `--tolerance tps_per_cpu=...`): on a shared
//! 2-core machine another job taking a core halves the TPS of a healthy engine, but not its work
//! per CPU-second, while an engine at half speed halves both. A plain results.json does not have
//! it ("n/a"). When both sides have it, the CPU average is shown as "info" and not judged: in a
//! closed-model run it is the CPU the machine had to spare, not a cost; the same holds whenever
//! every run on both sides is closed-model (it is judged for open-model, fixed-rate runs, where
//! the work is fixed and more CPU means more cost). What the load generator cost (HTTP runs) is
//! shown so two drivers can be weighed, never judged: it is not the system under test. Nor is
//! how busy each side's machine was with other work (other processes' CPU and steal, issue 25):
//! "info" rows when both sides measured it, left out otherwise.

use super::rule::{judge, Better, Judgement, MetricVerdict, Slack, LATENCY_FLOOR_US};
use super::{Figures, Side, Tolerances};
use results::{Bounds, Quantile};
use serde::{Deserialize, Serialize};

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
    /// Instructions per committed transaction (or per operation).
    Instructions,
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
    /// Latency percentiles of a side made of one run: that run's 95 % sampling interval, shown
    /// in the table and not judged (several runs have their spread instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_ci95: Option<Bounds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_ci95: Option<Bounds>,
}

impl MetricRow {
    pub fn verdict(&self) -> MetricVerdict {
        self.judgement
            .as_ref()
            .map_or(MetricVerdict::NotMeasured, |j| j.verdict)
    }
}

/// How a metric's judgement counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The rule decides.
    Judged,
    /// The CPU average: judged unless [`cpu_is_judged`] says it only shows spare CPU.
    CpuAverage,
    /// The load generator's cost: "info" when both sides measured it, left out otherwise.
    Generator,
    /// The machine's other work: like [`Role::Generator`] (shown, never judged).
    Noise,
    /// The instruction count: judged when a side has it, left out when neither does.
    Counted,
}

/// What one metric is: its key and label, how to read it from [`Figures`], its unit, which
/// direction is better and how much it may move.
struct MetricSpec {
    key: &'static str,
    label: &'static str,
    unit: Unit,
    better: Better,
    slack: Slack,
    get: fn(&Figures) -> Option<f64>,
    role: Role,
    /// Latency percentiles: which one, for its sampling interval.
    quantile: Option<Quantile>,
}

impl MetricSpec {
    /// The row of this metric: both sides' samples judged by the rule, then its role applied.
    /// `None` for a generator figure that a side lacks (in-process runs have none).
    fn row(&self, base: &Side, new: &Side, judged: Judged) -> Option<MetricRow> {
        let samples = |s: &Side| s.runs.iter().filter_map(self.get).collect::<Vec<_>>();
        // At the scale of a few µs the clock and the scheduler decide, not the code.
        let floor = if self.unit == Unit::Micros {
            LATENCY_FLOOR_US
        } else {
            0.0
        };
        let mut judgement = judge(
            &samples(base),
            &samples(new),
            self.better,
            self.slack,
            floor,
        );
        let info = match self.role {
            // Under valgrind, times and memory are valgrind's; the error rate still counts.
            Role::Judged => judged.under_valgrind && self.key != "error_rate",
            Role::CpuAverage => !judged.cpu || judged.under_valgrind,
            Role::Generator | Role::Noise if judgement.is_none() => return None,
            Role::Generator | Role::Noise => true,
            Role::Counted if [base, new].iter().all(|s| !counted(s)) => return None,
            Role::Counted => false,
        };
        if let Some(j) = judgement.as_mut().filter(|_| info) {
            j.verdict = MetricVerdict::Info;
        }
        Some(MetricRow {
            key: self.key.to_string(),
            label: self.label.to_string(),
            unit: self.unit,
            better: self.better,
            slack: self.slack,
            judgement,
            base_ci95: self.interval(base),
            new_ci95: self.interval(new),
        })
    }

    /// A one-run side's sampling interval of this metric's percentile.
    fn interval(&self, side: &Side) -> Option<Bounds> {
        match side.runs.as_slice() {
            [one] => one.latency_us.as_ref()?.interval(self.quantile?),
            _ => None,
        }
    }
}

/// Which rows the rule judges besides the always-judged ones.
#[derive(Clone, Copy)]
struct Judged {
    /// The CPU average ([`cpu_is_judged`]).
    cpu: bool,
    /// A side ran under valgrind (it has an instruction count): its times are valgrind's, so
    /// only the count and the error rate are judged.
    under_valgrind: bool,
}

/// The rows of a comparison, in table order.
pub(super) fn rows(base: &Side, new: &Side, tol: &Tolerances) -> Vec<MetricRow> {
    let committing = is_committing(base, new);
    let judged = Judged {
        cpu: cpu_is_judged(base, new),
        under_valgrind: counted(base) || counted(new),
    };
    std::iter::once(instructions(tol, committing))
        .chain(throughput_and_latency(tol, committing))
        .chain(resources(tol))
        .chain(noise(tol))
        .filter_map(|spec| spec.row(base, new, judged))
        .collect()
}

/// Whether any run of the side was counted under valgrind.
fn counted(s: &Side) -> bool {
    s.runs.iter().any(|r| r.instructions.is_some())
}

/// Instructions per committed transaction (per operation for a target that commits none).
fn instructions(tol: &Tolerances, committing: bool) -> MetricSpec {
    let (label, get): (_, fn(&Figures) -> Option<f64>) = if committing {
        ("Instructions per committed tx", |f| {
            f.instructions.as_ref().and_then(|i| i.per_tx)
        })
    } else {
        ("Instructions per operation", |f| {
            f.instructions.as_ref().map(|i| i.per_op)
        })
    };
    MetricSpec {
        role: Role::Counted,
        ..spec(
            "instructions",
            label,
            Unit::Instructions,
            Better::Lower,
            Slack::Relative(tol.instructions),
            get,
        )
    }
}

/// Whether either side committed transactions; if not (plain HTTP services), throughput is
/// compared in ops/s.
fn is_committing(base: &Side, new: &Side) -> bool {
    base.runs
        .iter()
        .chain(&new.runs)
        .any(|r| r.committed_tps > 0.0)
}

/// With TPS per CPU-second on both sides, the CPU average is shown but not judged: in a
/// closed-model run it measures how much CPU the machine had to spare (measured: 25 % of the
/// cores on a busy machine, far more on an idle one, same binary), and the cost per transaction
/// it stands for is judged by TPS per CPU-second. Likewise when every run on both sides is
/// closed-model.
fn cpu_is_judged(base: &Side, new: &Side) -> bool {
    let mut all = base.runs.iter().chain(&new.runs);
    let efficiency_known = all.clone().all(|r| r.tx_per_cpu_s.is_some());
    let all_closed = all.all(|r| r.closed_model);
    !(efficiency_known || all_closed)
}

fn spec(
    key: &'static str,
    label: &'static str,
    unit: Unit,
    better: Better,
    slack: Slack,
    get: fn(&Figures) -> Option<f64>,
) -> MetricSpec {
    MetricSpec {
        key,
        label,
        unit,
        better,
        slack,
        get,
        role: Role::Judged,
        quantile: None,
    }
}

/// A latency percentile's spec.
fn percentile(
    key: &'static str,
    label: &'static str,
    q: Quantile,
    slack: f64,
    get: fn(&Figures) -> Option<f64>,
) -> MetricSpec {
    MetricSpec {
        quantile: Some(q),
        ..spec(
            key,
            label,
            Unit::Micros,
            Better::Lower,
            Slack::Relative(slack),
            get,
        )
    }
}

/// Throughput, work per CPU-second, latency and errors: what the system under test did.
fn throughput_and_latency(tol: &Tolerances, committing: bool) -> [MetricSpec; 6] {
    use Better::{Higher, Lower};
    use Slack::Relative;
    let tps = if committing {
        spec(
            "tps",
            "Committed TPS",
            Unit::TxPerS,
            Higher,
            Relative(tol.tps),
            |f| Some(f.committed_tps),
        )
    } else {
        spec(
            "tps",
            "Throughput (ops/s)",
            Unit::OpsPerS,
            Higher,
            Relative(tol.tps),
            |f| Some(f.ops_per_s),
        )
    };
    [
        tps,
        spec(
            "tps_per_cpu",
            "TPS per CPU-second",
            Unit::TxPerCpuS,
            Higher,
            Relative(tol.tps_per_cpu),
            |f| f.tx_per_cpu_s,
        ),
        percentile("p50", "p50 latency", Quantile::P50, tol.p50, |f| {
            Some(f.p50_us)
        }),
        percentile("p99", "p99 latency", Quantile::P99, tol.p99, |f| {
            Some(f.p99_us)
        }),
        percentile("p999", "p99.9 latency", Quantile::P999, tol.p999, |f| {
            Some(f.p999_us)
        }),
        spec(
            "error_rate",
            "Error rate",
            Unit::Fraction,
            Lower,
            Slack::Absolute(tol.error_rate),
            |f| Some(f.error_rate),
        ),
    ]
}

/// How busy each side's machine was with other work: the average of other processes' CPU and
/// the peak steal, the figures the warning's rule reads (`results::Noise`). Info rows only:
/// they say why a figure moved, they are not the system under test.
fn noise(tol: &Tolerances) -> [MetricSpec; 2] {
    let noise = |s: MetricSpec| MetricSpec {
        role: Role::Noise,
        ..s
    };
    let slack = Slack::Relative(tol.cpu);
    [
        noise(spec(
            "other_cpu",
            "Other processes' CPU (average)",
            Unit::Percent,
            Better::Lower,
            slack,
            |f| f.noise.as_ref().map(|n| n.other_cpu_avg_pct),
        )),
        noise(spec(
            "steal",
            "CPU steal (peak)",
            Unit::Percent,
            Better::Lower,
            slack,
            |f| f.noise.as_ref().map(|n| n.steal_peak_pct),
        )),
    ]
}

/// Memory and CPU of the target, then what the load generator cost.
fn resources(tol: &Tolerances) -> [MetricSpec; 4] {
    let (rss, cpu) = (Slack::Relative(tol.rss), Slack::Relative(tol.cpu));
    let generator = |s: MetricSpec| MetricSpec {
        role: Role::Generator,
        ..s
    };
    [
        spec("rss", "Peak RSS", Unit::Bytes, Better::Lower, rss, |f| {
            f.rss_peak_bytes.map(|b| b as f64)
        }),
        MetricSpec {
            role: Role::CpuAverage,
            ..spec(
                "cpu",
                "CPU average",
                Unit::Percent,
                Better::Lower,
                cpu,
                |f| f.cpu_avg_pct,
            )
        },
        generator(spec(
            "generator_cpu",
            "Load generator CPU-s per 1M ops",
            Unit::CpuSecondsPerMillion,
            Better::Lower,
            cpu,
            |f| f.generator_cpu_s_per_m_ops,
        )),
        generator(spec(
            "generator_rss",
            "Load generator peak RSS",
            Unit::Bytes,
            Better::Lower,
            rss,
            |f| f.generator_rss_peak_bytes.map(|b| b as f64),
        )),
    ]
}
