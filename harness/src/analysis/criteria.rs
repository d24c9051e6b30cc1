//! Criteria: the scenario's pass/fail table, evaluated once from measured figures.
//!
//! Every criterion compares one steady-state figure against its bound. A figure that could not
//! be measured (CPU of a remote target, startup of an in-process engine) is `not_measured`,
//! which never passes silently: it is listed as such in every report.

use report::fmt;
use results::{CriterionResult, CriterionStatus};
use scenario::Criteria;
use std::time::Duration;

/// The measured figures criteria are evaluated against.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Measured {
    pub committed_tps: Option<f64>,
    pub min_interval_tps: Option<f64>,
    /// Microseconds.
    pub p50_us: Option<f64>,
    pub p90_us: Option<f64>,
    pub p99_us: Option<f64>,
    pub p999_us: Option<f64>,
    pub error_rate: Option<f64>,
    pub rss_peak: Option<u64>,
    pub rss_growth: Option<i64>,
    pub cpu_avg_pct: Option<f64>,
    pub startup: Option<Duration>,
}

enum Bound {
    AtLeast,
    AtMost,
}

struct Spec<'a> {
    name: &'a str,
    label: &'a str,
    bound: Bound,
    target: f64,
    measured: Option<f64>,
    unit: &'a str,
    show: fn(f64) -> String,
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn show_tps(v: f64) -> String {
    fmt::rate(v, "tx/s")
}

/// An error rate held in percent (as its criterion is), shown so small rates stay readable.
fn show_error_pct(v: f64) -> String {
    fmt::fraction_pct(v / 100.0)
}

/// Evaluates every criterion the scenario sets, in a fixed order.
pub fn evaluate(c: &Criteria, m: &Measured) -> Vec<CriterionResult> {
    let specs = [
        c.min_tps.map(|t| Spec {
            name: "min_tps",
            label: "Throughput (steady-state average)",
            bound: Bound::AtLeast,
            target: t,
            measured: m.committed_tps,
            unit: "tx/s",
            show: show_tps,
        }),
        c.min_interval_tps.map(|t| Spec {
            name: "min_interval_tps",
            label: "Throughput (lowest interval)",
            bound: Bound::AtLeast,
            target: t,
            measured: m.min_interval_tps,
            unit: "tx/s",
            show: show_tps,
        }),
        c.max_p50.map(|t| Spec {
            name: "max_p50",
            label: "Latency p50",
            bound: Bound::AtMost,
            target: us(t),
            measured: m.p50_us,
            unit: "us",
            show: fmt::latency_us,
        }),
        c.max_p90.map(|t| Spec {
            name: "max_p90",
            label: "Latency p90",
            bound: Bound::AtMost,
            target: us(t),
            measured: m.p90_us,
            unit: "us",
            show: fmt::latency_us,
        }),
        c.max_p99.map(|t| Spec {
            name: "max_p99",
            label: "Latency p99",
            bound: Bound::AtMost,
            target: us(t),
            measured: m.p99_us,
            unit: "us",
            show: fmt::latency_us,
        }),
        c.max_p999.map(|t| Spec {
            name: "max_p999",
            label: "Latency p99.9",
            bound: Bound::AtMost,
            target: us(t),
            measured: m.p999_us,
            unit: "us",
            show: fmt::latency_us,
        }),
        c.max_error_rate.map(|t| Spec {
            name: "max_error_rate",
            label: "Error rate",
            bound: Bound::AtMost,
            target: t * 100.0,
            measured: m.error_rate.map(|e| e * 100.0),
            unit: "%",
            show: show_error_pct,
        }),
        c.max_rss.map(|t| Spec {
            name: "max_rss",
            label: "Memory (peak RSS)",
            bound: Bound::AtMost,
            target: t as f64,
            measured: m.rss_peak.map(|v| v as f64),
            unit: "bytes",
            show: fmt::bytes_f64,
        }),
        c.max_rss_growth.map(|t| Spec {
            name: "max_rss_growth",
            label: "Memory growth after warm-up",
            bound: Bound::AtMost,
            target: t as f64,
            measured: m.rss_growth.map(|v| v as f64),
            unit: "bytes",
            show: fmt::bytes_f64,
        }),
        c.max_cpu_pct.map(|t| Spec {
            name: "max_cpu",
            label: "CPU (average, % of all cores)",
            bound: Bound::AtMost,
            target: t,
            measured: m.cpu_avg_pct,
            unit: "%",
            show: fmt::pct,
        }),
        c.max_startup.map(|t| Spec {
            name: "max_startup",
            label: "Startup to first healthy answer",
            bound: Bound::AtMost,
            target: us(t),
            measured: m.startup.map(us),
            unit: "us",
            show: fmt::latency_us,
        }),
    ];
    specs
        .into_iter()
        .flatten()
        .map(|s| {
            let status = match s.measured {
                None => CriterionStatus::NotMeasured,
                Some(v) => {
                    let ok = match s.bound {
                        Bound::AtLeast => v >= s.target,
                        Bound::AtMost => v <= s.target,
                    };
                    if ok {
                        CriterionStatus::Pass
                    } else {
                        CriterionStatus::Fail
                    }
                }
            };
            let op = match s.bound {
                Bound::AtLeast => "≥",
                Bound::AtMost => "≤",
            };
            let target = (s.show)(s.target);
            let mut measured = s.measured.map_or_else(|| "n/a".to_string(), s.show);
            if measured == target && status == CriterionStatus::Fail {
                // Rounding hides the difference ("8.51M" against "8.51M"): show the exact figure.
                if let Some(v) = s.measured {
                    measured = format!("{measured} ({v:.6} {})", s.unit);
                }
            }
            CriterionResult {
                name: s.name.to_string(),
                label: s.label.to_string(),
                target: format!("{op} {target}"),
                measured,
                target_value: s.target,
                measured_value: s.measured,
                unit: s.unit.to_string(),
                status,
            }
        })
        .collect()
}

/// The verdict of a run that was neither invalid nor aborted: pass unless a criterion failed or
/// no operation completed in the steady state; each failure is added to `reasons`.
pub fn pass_or_fail(
    criteria: &[CriterionResult],
    has_steady_ops: bool,
    reasons: &mut Vec<String>,
) -> results::Status {
    for cr in criteria
        .iter()
        .filter(|c| c.status == CriterionStatus::Fail)
    {
        reasons.push(format!(
            "{}: measured {}, target {}",
            cr.label, cr.measured, cr.target
        ));
    }
    if !has_steady_ops {
        reasons.push("no operation completed in the steady state".to_string());
    }
    if reasons.is_empty() {
        results::Status::Pass
    } else {
        results::Status::Fail
    }
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
            p99_us: Some(5000.0),
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
            ..Criteria::default()
        };
        let m = Measured {
            rss_peak: Some(300 << 20),
            error_rate: Some(0.000265),
            cpu_avg_pct: Some(91.54),
            p99_us: Some(812.4),
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
        assert_eq!(by("max_p99"), ("≤ 1.23 ms", "812 µs"));
    }
}
