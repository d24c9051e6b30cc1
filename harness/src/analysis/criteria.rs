//! Criteria: the scenario's pass/fail table, evaluated once from measured figures.
//!
//! Every criterion compares one steady-state figure against its bound. A figure that could not
//! be measured (CPU of a remote target, startup of an in-process engine) is `not_measured`,
//! which never passes silently: it is listed as such in every report.
//!
//! Throughput is judged against the plan in whole operations: a run offering 8.51M tx/s in
//! batches of 1,024 cannot commit exactly 8.51M per second (that is 8,310.55 batches), so each
//! window it is counted in may fall short of the exact plan by the fractional operation at its
//! boundary. A throughput criterion therefore passes within one operation's transactions of
//! the plan ([`Allowance`]), and says so in its measured figure when that is what passed it.
//!
//! A latency criterion is judged on the percentile's point figure, and states that figure's
//! 95 % sampling interval: where the interval straddles the limit (or the samples were too
//! few to have one) the outcome could flip on a rerun from sampling alone, and the result says
//! "not significant" (`significant: false`) next to pass or fail.

use report::fmt;
use results::{CriterionResult, CriterionStatus, Percentiles, Quantile};
use scenario::Criteria;
use std::time::Duration;

/// How many transactions a throughput figure may lack against the exact plan, and over how
/// many seconds it was counted: whole operations cannot land exactly on a fractional plan.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Allowance {
    /// Operations allowed: one per load generator (each cuts a fraction at the boundary).
    pub ops: u64,
    /// Transactions one operation carries.
    pub tx_per_op: f64,
    /// Seconds the figure was counted over.
    pub seconds: f64,
}

impl Allowance {
    /// The allowance as a rate: transactions over the window, tx/s (0 over no window).
    pub fn per_s(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ops as f64 * self.tx_per_op / self.seconds
        } else {
            0.0
        }
    }

    /// "within one operation (1,024 tx) of the plan".
    fn words(&self) -> String {
        let tx = fmt::count((self.ops as f64 * self.tx_per_op).round() as u64);
        match self.ops {
            1 => format!("within one operation ({tx} tx) of the plan"),
            n => format!("within {n} operations ({tx} tx) of the plan"),
        }
    }
}

/// The measured figures criteria are evaluated against.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Measured {
    pub committed_tps: Option<f64>,
    /// How far `committed_tps` may fall below the target (the steady window's allowance).
    pub committed_allowance: Allowance,
    pub min_interval_tps: Option<f64>,
    /// How far `min_interval_tps` may fall below the target (that interval's allowance).
    pub min_interval_allowance: Allowance,
    /// The steady state's latency percentiles (None without operations).
    pub latency: Option<Percentiles>,
    pub error_rate: Option<f64>,
    pub rss_peak: Option<u64>,
    pub rss_growth: Option<i64>,
    /// Bytes per hour: the larger of the target's and the harness's RSS slope.
    pub rss_slope: Option<f64>,
    pub cpu_avg_pct: Option<f64>,
    pub startup: Option<Duration>,
}

/// Which side of its target a figure must stay on.
#[derive(Clone, Copy)]
enum Bound {
    AtLeast,
    AtMost,
}

/// What a criterion's figure is counted in: how it is shown (through `report::fmt`, like every
/// report) and the unit results.json records with its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    TxPerS,
    Micros,
    /// A value already in percent (an error rate or a CPU share).
    Percent,
    Bytes,
    BytesPerHour,
}

impl Unit {
    /// The unit as results.json's `criteria[].unit` records it.
    fn as_str(self) -> &'static str {
        match self {
            Unit::TxPerS => "tx/s",
            Unit::Micros => "us",
            Unit::Percent => "%",
            Unit::Bytes => "bytes",
            Unit::BytesPerHour => "bytes/h",
        }
    }

    fn show(self, v: f64) -> String {
        match self {
            Unit::TxPerS => fmt::rate(v, "tx/s"),
            Unit::Micros => fmt::latency_us(v),
            // Small error rates keep three significant digits ("0.0265 %").
            Unit::Percent => fmt::fraction_pct(v / 100.0),
            Unit::Bytes => fmt::bytes_f64(v),
            Unit::BytesPerHour => fmt::bytes_per_hour(v),
        }
    }
}

/// One criterion the scenario sets, with the figure it is judged on.
struct Spec {
    name: &'static str,
    label: &'static str,
    bound: Bound,
    target: f64,
    measured: Option<f64>,
    unit: Unit,
    /// Throughput only: how far below the target still passes.
    allowance: Option<Allowance>,
    /// Latency percentiles only: the distribution the figure was read from.
    sampled: Option<(Quantile, Percentiles)>,
}

impl Spec {
    /// A throughput floor, judged within `allowance` of the target.
    fn at_least(
        name: &'static str,
        label: &'static str,
        target: f64,
        measured: Option<f64>,
        allowance: Allowance,
    ) -> Spec {
        Spec {
            name,
            label,
            bound: Bound::AtLeast,
            target,
            measured,
            unit: Unit::TxPerS,
            allowance: Some(allowance),
            sampled: None,
        }
    }

    fn at_most(
        name: &'static str,
        label: &'static str,
        unit: Unit,
        target: f64,
        measured: Option<f64>,
    ) -> Spec {
        Spec {
            name,
            label,
            bound: Bound::AtMost,
            target,
            measured,
            unit,
            allowance: None,
            sampled: None,
        }
    }

    /// A percentile's ceiling, judged on its point figure with its sampling interval stated.
    fn percentile(
        name: &'static str,
        label: &'static str,
        limit: Duration,
        q: Quantile,
        p: Option<&Percentiles>,
    ) -> Spec {
        Spec {
            sampled: p.map(|p| (q, p.clone())),
            ..Spec::at_most(name, label, Unit::Micros, us(limit), p.map(|p| p.value(q)))
        }
    }

    /// Whether sampling alone could not flip the outcome: None for figures that are not
    /// sampled percentiles; false where the interval straddles the limit or the samples were
    /// too few to have one.
    fn significant(&self) -> Option<bool> {
        let (q, p) = self.sampled.as_ref()?;
        Some(p.interval(*q).is_some_and(|b| b.decides(self.target)))
    }

    /// The lowest figure that passes an at-least bound: the target less the allowance.
    fn floor(&self) -> f64 {
        self.target - self.allowance.map_or(0.0, |a| a.per_s())
    }

    fn status(&self) -> CriterionStatus {
        match (self.measured, self.bound) {
            (None, _) => CriterionStatus::NotMeasured,
            (Some(v), Bound::AtLeast) if v >= self.floor() => CriterionStatus::Pass,
            (Some(v), Bound::AtMost) if v <= self.target => CriterionStatus::Pass,
            (Some(_), _) => CriterionStatus::Fail,
        }
    }

    fn result(&self) -> CriterionResult {
        let status = self.status();
        let op = match self.bound {
            Bound::AtLeast => "≥",
            Bound::AtMost => "≤",
        };
        let target = self.unit.show(self.target);
        let mut measured = match (&self.sampled, self.measured) {
            (Some((q, p)), Some(_)) => fmt::percentile(p, *q),
            (_, v) => v.map_or_else(|| "n/a".to_string(), |v| self.unit.show(v)),
        };
        if let (Some(v), CriterionStatus::Fail) = (self.measured, status) {
            if measured == target {
                // Rounding hides the difference ("8.51M" against "8.51M"): show the exact figure.
                measured = format!("{measured} ({v:.6} {})", self.unit.as_str());
            }
        }
        if let (Some(v), Some(a), CriterionStatus::Pass) = (self.measured, self.allowance, status) {
            if v < self.target {
                // Passed on the allowance, not on the exact plan: say so.
                measured = format!("{measured}, {}", a.words());
            }
        }
        CriterionResult {
            name: self.name.to_string(),
            label: self.label.to_string(),
            target: format!("{op} {target}"),
            measured,
            target_value: self.target,
            measured_value: self.measured,
            unit: self.unit.as_str().to_string(),
            status,
            significant: self.significant(),
        }
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Evaluates every criterion the scenario sets, in a fixed order.
pub fn evaluate(c: &Criteria, m: &Measured) -> Vec<CriterionResult> {
    throughput_and_latency(c, m)
        .into_iter()
        .chain(errors_and_resources(c, m))
        .flatten()
        .map(|s| s.result())
        .collect()
}

fn throughput_and_latency(c: &Criteria, m: &Measured) -> [Option<Spec>; 6] {
    let latency = |name, label, bound: Option<Duration>, q| {
        bound.map(|t| Spec::percentile(name, label, t, q, m.latency.as_ref()))
    };
    [
        c.min_tps.map(|t| {
            let label = "Throughput (steady-state average)";
            Spec::at_least("min_tps", label, t, m.committed_tps, m.committed_allowance)
        }),
        c.min_interval_tps.map(|t| {
            let label = "Throughput (lowest interval)";
            let (v, a) = (m.min_interval_tps, m.min_interval_allowance);
            Spec::at_least("min_interval_tps", label, t, v, a)
        }),
        latency("max_p50", "Latency p50", c.max_p50, Quantile::P50),
        latency("max_p90", "Latency p90", c.max_p90, Quantile::P90),
        latency("max_p99", "Latency p99", c.max_p99, Quantile::P99),
        latency("max_p999", "Latency p99.9", c.max_p999, Quantile::P999),
    ]
}

fn errors_and_resources(c: &Criteria, m: &Measured) -> [Option<Spec>; 6] {
    let bytes = |v: Option<u64>| v.map(|v| v as f64);
    [
        c.max_error_rate.map(|t| {
            let measured = m.error_rate.map(|e| e * 100.0);
            Spec::at_most(
                "max_error_rate",
                "Error rate",
                Unit::Percent,
                t * 100.0,
                measured,
            )
        }),
        c.max_rss.map(|t| {
            let label = "Memory (peak RSS)";
            Spec::at_most("max_rss", label, Unit::Bytes, t as f64, bytes(m.rss_peak))
        }),
        c.max_rss_growth.map(|t| {
            let label = "Memory growth after warm-up";
            let measured = m.rss_growth.map(|v| v as f64);
            Spec::at_most("max_rss_growth", label, Unit::Bytes, t as f64, measured)
        }),
        c.max_rss_slope.map(|t| {
            let label = "Memory slope after warm-up (least squares, larger process)";
            let u = Unit::BytesPerHour;
            Spec::at_most("max_rss_slope", label, u, t as f64, m.rss_slope)
        }),
        c.max_cpu_pct.map(|t| {
            let label = "CPU (average, % of all cores)";
            Spec::at_most("max_cpu", label, Unit::Percent, t, m.cpu_avg_pct)
        }),
        c.max_startup.map(|t| {
            let label = "Startup to first healthy answer";
            Spec::at_most("max_startup", label, Unit::Micros, us(t), m.startup.map(us))
        }),
    ]
}

/// One reason per criterion that failed, as the verdict lists them.
pub fn failures(criteria: &[CriterionResult]) -> Vec<String> {
    criteria
        .iter()
        .filter(|c| c.status == CriterionStatus::Fail)
        .map(|c| {
            let note = report::doc::significance(c);
            format!(
                "{}: measured {}, target {}{note}",
                c.label, c.measured, c.target
            )
        })
        .collect()
}

/// Whether any criterion was judged at all: a table of criteria none of which could be
/// measured judges nothing, like no table.
pub fn any_judged(criteria: &[CriterionResult]) -> bool {
    criteria
        .iter()
        .any(|c| c.status != CriterionStatus::NotMeasured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_not_measured() {
        let c = Criteria {
            min_tps: Some(8.51e6),
            max_p99: Some(Duration::from_millis(5)),
            max_cpu_pct: Some(60.0),
            max_error_rate: Some(0.0001),
            ..Criteria::default()
        };
        let m = Measured {
            committed_tps: Some(8.5e6),
            latency: Some(p99_of(5_000.0)),
            error_rate: Some(0.0),
            ..Measured::default()
        };
        let r = evaluate(&c, &m);
        let by = |n: &str| r.iter().find(|c| c.name == n).unwrap().status;
        assert_eq!(by("min_tps"), CriterionStatus::Fail);
        assert_eq!(
            by("max_p99"),
            CriterionStatus::Pass,
            "the bound itself passes"
        );
        assert_eq!(by("max_cpu"), CriterionStatus::NotMeasured);
        assert_eq!(by("max_error_rate"), CriterionStatus::Pass);
        assert_eq!(r[0].target, "≥ 8.51M tx/s");
        assert_eq!(r[0].measured, "8.5M tx/s");
        let close = evaluate(
            &c,
            &Measured {
                committed_tps: Some(8_509_712.0),
                ..m
            },
        );
        assert_eq!(close[0].status, CriterionStatus::Fail);
        assert_eq!(
            close[0].measured, "8.51M tx/s (8509712.000000 tx/s)",
            "rounding must not hide a miss"
        );
    }

    #[test]
    fn figures_read_as_in_every_report() {
        let c = Criteria {
            max_rss: Some(256 << 20),
            max_error_rate: Some(0.0001),
            max_cpu_pct: Some(60.0),
            max_p99: Some(Duration::from_micros(1_234)),
            max_rss_slope: Some(1 << 20),
            ..Criteria::default()
        };
        let m = Measured {
            rss_peak: Some(300 << 20),
            rss_slope: Some(1.5 * 1048576.0),
            error_rate: Some(0.000265),
            cpu_avg_pct: Some(91.54),
            latency: Some(p99_of(812.4)),
            ..Measured::default()
        };
        let r = evaluate(&c, &m);
        let by = |n: &str| {
            let c = r.iter().find(|c| c.name == n).unwrap();
            (c.target.as_str(), c.measured.as_str())
        };
        assert_eq!(by("max_rss"), ("≤ 256 MiB", "300 MiB"));
        assert_eq!(by("max_error_rate"), ("≤ 0.01 %", "0.0265 %"));
        assert_eq!(by("max_cpu"), ("≤ 60 %", "91.5 %"));
        assert_eq!(by("max_rss_slope"), ("≤ +1.00 MiB/h", "+1.50 MiB/h"));
        assert_eq!(by("max_p99"), ("≤ 1.23 ms", "812 µs"));
    }

    /// Percentiles whose p99 is `us` (no interval recorded, enough samples).
    fn p99_of(us: f64) -> Percentiles {
        Percentiles {
            count: 1_000_000,
            p99: us,
            ..Percentiles::default()
        }
    }

    /// 1..=n µs, one sample each.
    fn uniform(n: u64) -> Percentiles {
        let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        for v in 1..=n {
            h.record(v * 1_000).unwrap();
        }
        Percentiles::from_histogram(&h)
    }

    #[test]
    fn a_percentile_whose_interval_straddles_the_limit_is_not_significant() {
        // p99 of 1..=10,000 µs is 9.9 ms, its 95 % interval ranks 9,880..9,920.
        let p = uniform(10_000);
        let judge = |limit_us: u64, p: &Percentiles| {
            let c = Criteria {
                max_p99: Some(Duration::from_micros(limit_us)),
                ..Criteria::default()
            };
            let m = Measured {
                latency: Some(p.clone()),
                ..Measured::default()
            };
            let r = evaluate(&c, &m).remove(0);
            (r.status, r.significant)
        };
        use CriterionStatus::{Fail, Pass};
        assert_eq!(judge(9_950, &p), (Pass, Some(true)));
        assert_eq!(judge(9_910, &p), (Pass, Some(false)));
        assert_eq!(judge(9_890, &p), (Fail, Some(false)));
        assert_eq!(judge(9_800, &p), (Fail, Some(true)));
        let failed = evaluate(
            &Criteria {
                max_p99: Some(Duration::from_micros(9_890)),
                ..Criteria::default()
            },
            &Measured {
                latency: Some(p.clone()),
                ..Measured::default()
            },
        );
        assert_eq!(
            failed[0].measured,
            "9.90 ms (95 % CI 9.89–9.92 ms, n = 10,000)"
        );
        assert_eq!(
            failures(&failed),
            ["Latency p99: measured 9.90 ms (95 % CI 9.89–9.92 ms, n = 10,000), target ≤ 9.89 ms, \
              not significant"]
        );
        // Too few samples for a p99: judged on the figure, never significant, shown as such.
        let few = uniform(500);
        assert_eq!(judge(10_000, &few), (Pass, Some(false)));
        let r = evaluate(
            &Criteria {
                max_p99: Some(Duration::from_millis(10)),
                ..Criteria::default()
            },
            &Measured {
                latency: Some(few),
                ..Measured::default()
            },
        );
        assert_eq!(r[0].measured, "insufficient samples (n = 500)");
        // Figures that are not sampled percentiles carry no significance.
        let t = evaluate(
            &Criteria {
                min_tps: Some(1e6),
                ..Criteria::default()
            },
            &Measured {
                committed_tps: Some(2e6),
                ..Measured::default()
            },
        );
        assert_eq!(t[0].significant, None);
    }
}
