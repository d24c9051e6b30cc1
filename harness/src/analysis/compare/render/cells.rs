//! The words and numbers of a comparison, decided once for every format: a row's cells, the
//! headline and how a side is described.

use crate::analysis::compare::{Comparison, MetricRow, SideInfo, Slack, Unit, LATENCY_FLOOR_US};
use report::doc::Align;
use report::fmt;
use std::fmt::Write as _;

/// Column headers and alignment (figures right, words left), in the order of
/// [`RowText::cells`].
pub(super) const COLUMNS: [(&str, Align); 7] = [
    ("Metric", Align::Left),
    ("Baseline (median)", Align::Right),
    ("New (median)", Align::Right),
    ("Change", Align::Right),
    ("Tolerance", Align::Right),
    ("Spread (base / new)", Align::Right),
    ("Verdict", Align::Left),
];

/// One metric row as text.
pub(super) struct RowText {
    pub label: String,
    pub base: String,
    pub new: String,
    pub change: String,
    pub tolerance: String,
    pub spread: String,
    pub verdict: &'static str,
}

impl RowText {
    pub fn of(r: &MetricRow) -> RowText {
        let (base, new) = match &r.judgement {
            Some(j) => (
                with_interval(value(r.unit, j.base_median), r.base_ci95),
                with_interval(value(r.unit, j.new_median), r.new_ci95),
            ),
            None => ("n/a".to_string(), "n/a".to_string()),
        };
        RowText {
            label: r.label.clone(),
            base,
            new,
            change: change(r),
            tolerance: tolerance(r),
            spread: spread(r),
            verdict: r.verdict().as_str(),
        }
    }

    /// The cells in the order of [`COLUMNS`].
    pub fn cells(&self) -> [&str; 7] {
        [
            &self.label,
            &self.base,
            &self.new,
            &self.change,
            &self.tolerance,
            &self.spread,
            self.verdict,
        ]
    }

    /// The whole row in one sentence (JUnit).
    pub fn sentence(&self) -> String {
        format!(
            "{}: baseline {}, new {}, change {}, tolerance {}, spread {}: {}",
            self.label, self.base, self.new, self.change, self.tolerance, self.spread, self.verdict
        )
    }
}

/// A metric's value in its unit, through the one number formatter (`report::fmt`).
fn value(unit: Unit, v: f64) -> String {
    match unit {
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

/// A one-run side's percentile with its sampling interval in brackets, as the run report
/// writes it: "1.91 s (1.88–1.94 s)".
fn with_interval(value: String, ci: Option<results::Bounds>) -> String {
    match ci {
        Some(b) => format!("{value} ({})", fmt::latency_range_us(b.lo, b.hi)),
        None => value,
    }
}

/// The new median against the baseline's: relative ("+8 %", "-4.5 %") or, for an absolute
/// tolerance, in percentage points ("+0.05 pp").
fn change(r: &MetricRow) -> String {
    let Some(j) = &r.judgement else {
        return "n/a".to_string();
    };
    match r.slack {
        Slack::Absolute(_) => format!("{} pp", signed((j.new_median - j.base_median) * 100.0)),
        Slack::Relative(_) if j.base_median == 0.0 => {
            if j.new_median == 0.0 {
                "+0 %".to_string()
            } else {
                "n/a (base 0)".to_string()
            }
        }
        Slack::Relative(_) => format!(
            "{} %",
            signed((j.new_median - j.base_median) / j.base_median * 100.0)
        ),
    }
}

/// The tolerance, and for latencies the floor under which no change counts.
fn tolerance(r: &MetricRow) -> String {
    let t = match r.slack {
        Slack::Relative(t) => fmt::pct(t * 100.0),
        Slack::Absolute(a) => format!("{} pp", fmt::sig3(a * 100.0)),
    };
    if r.unit == Unit::Micros {
        format!("{t} (≥ {})", fmt::latency_us(LATENCY_FLOOR_US))
    } else {
        t
    }
}

/// Half the min-max range of each side's repeats, relative to its median.
fn spread(r: &MetricRow) -> String {
    let Some(j) = &r.judgement else {
        return "n/a".to_string();
    };
    let one = |lo: f64, hi: f64, m: f64| match r.slack {
        Slack::Absolute(_) => format!("±{} pp", fmt::sig3((hi - lo) / 2.0 * 100.0)),
        Slack::Relative(_) if m == 0.0 => "±0 %".to_string(),
        Slack::Relative(_) => format!("±{}", fmt::pct((hi - lo) / 2.0 / m.abs() * 100.0)),
    };
    format!(
        "{} / {}",
        one(j.base_min, j.base_max, j.base_median),
        one(j.new_min, j.new_max, j.new_median)
    )
}

/// A change with its sign, in `report::fmt`'s three significant digits: "+8", "-4.5", "+0"
/// (a change that rounds to zero is never "-0"). `report::fmt` has no signed percentage; this
/// only adds the sign to [`fmt::sig3`].
fn signed(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let magnitude = fmt::sig3(v.abs());
    if v < 0.0 && magnitude != "0" {
        format!("-{magnitude}")
    } else {
        format!("+{magnitude}")
    }
}

/// "Comparison: checkout — REGRESSION in p99": the first line of every format.
pub(super) fn title(c: &Comparison) -> String {
    format!("Comparison: {} — {}", c.scenario, headline(c))
}

/// "no regression", or "REGRESSION in tps, p99".
fn headline(c: &Comparison) -> String {
    let regressed: Vec<&str> = c.regressions().map(|r| r.key.as_str()).collect();
    if regressed.is_empty() {
        "no regression".to_string()
    } else {
        format!("REGRESSION in {}", regressed.join(", "))
    }
}

/// "runs/base [driver native, 3 runs] (note)".
pub(super) fn describe(s: &SideInfo) -> String {
    let mut out = format!(
        "{} [driver {}, {} run{}]",
        s.origin,
        s.driver,
        s.runs,
        if s.runs == 1 { "" } else { "s" }
    );
    if let Some(n) = &s.note {
        let _ = write!(out, " ({n})");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_are_kept_and_zero_is_never_negative() {
        assert_eq!(signed(7.984), "+7.98");
        assert_eq!(signed(-4.0), "-4");
        assert_eq!(signed(-0.0001), "+0");
        assert_eq!(signed(90.0), "+90");
        assert_eq!(signed(f64::NAN), "n/a");
    }
}
