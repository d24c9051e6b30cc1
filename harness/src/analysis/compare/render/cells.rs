//! The words and numbers of a comparison, decided once for every format: a row's cells (a
//! metric's or the capacity searches'), the headline, the notes, the rules and how a side is
//! described.

use crate::analysis::compare::{
    CapacityComparison, CapacityOutcome, Comparison, MetricRow, NotComparable, SearchSide,
    SideInfo, SideNoise, Slack, Test, Unit, CAPACITY_RULE, LATENCY_FLOOR_US, RULE,
};
use report::doc::{slo_text, Align};
use report::fmt;
use std::fmt::Write as _;

/// Column headers and alignment (figures right, words left), in the order of
/// [`RowText::cells`].
pub(super) const COLUMNS: [(&str, Align); 8] = [
    ("Metric", Align::Left),
    ("Baseline (median)", Align::Right),
    ("New (median)", Align::Right),
    ("Change", Align::Right),
    ("Tolerance", Align::Right),
    ("Spread (base / new)", Align::Right),
    ("Test", Align::Left),
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
    /// Which test decided whether the change is beyond the noise: "rank p=0.004", "range",
    /// "tolerance".
    pub test: String,
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
            test: test(r),
            verdict: r.verdict().as_str(),
        }
    }

    /// The capacity row: each side's capacity with its bracket, the change of the capacities,
    /// the throughput tolerance the rule applied; no spread (the brackets say how sure each
    /// search is).
    pub fn capacity(c: &CapacityComparison) -> RowText {
        let change = match (c.base.as_ref(), c.new.as_ref()) {
            (
                Some(SearchSide {
                    capacity: Some(b), ..
                }),
                Some(SearchSide {
                    capacity: Some(n), ..
                }),
            ) => relative_change(*b, *n),
            _ => "n/a".to_string(),
        };
        RowText {
            label: "Capacity".to_string(),
            base: search(c.base.as_ref()),
            new: search(c.new.as_ref()),
            change,
            tolerance: fmt::pct(c.tolerance * 100.0),
            spread: "n/a".to_string(),
            test: "bracket".to_string(),
            verdict: match c.outcome {
                CapacityOutcome::Judged(v) => v.as_str(),
                CapacityOutcome::NotComparable(_) => "not comparable",
            },
        }
    }

    /// The cells in the order of [`COLUMNS`].
    pub fn cells(&self) -> [&str; 8] {
        [
            &self.label,
            &self.base,
            &self.new,
            &self.change,
            &self.tolerance,
            &self.spread,
            &self.test,
            self.verdict,
        ]
    }

    /// The whole row in one sentence (JUnit).
    pub fn sentence(&self) -> String {
        format!(
            "{}: baseline {}, new {}, change {}, tolerance {}, spread {}, test {}: {}",
            self.label,
            self.base,
            self.new,
            self.change,
            self.tolerance,
            self.spread,
            self.test,
            self.verdict
        )
    }
}

/// A metric's value in its unit, through the one number formatter (`report::fmt`).
pub fn value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::TxPerS => fmt::rate(v, "tx/s"),
        Unit::TxPerCpuS => fmt::rate(v, "tx/CPU-s"),
        Unit::OpsPerS => fmt::rate(v, "ops/s"),
        Unit::Micros => fmt::latency_us(v),
        Unit::Fraction => fmt::fraction_pct(v),
        Unit::Bytes => fmt::bytes_f64(v),
        Unit::Percent => fmt::pct(v),
        Unit::CpuSecondsPerMillion => format!("{} CPU-s/1M ops", fmt::sig3(v)),
        Unit::Instructions => fmt::instructions(v),
    }
}

/// A side's search, its capacity then its bracket, rates as the run report sets them out
/// (`fmt::set_rate`: a bisected bracket such as 12.75M/13M needs its fourth digit):
/// "12.75M tx/s (good 12.75M tx/s, bad 13M tx/s)"; "not a search" for a side that is not one.
fn search(s: Option<&SearchSide>) -> String {
    let Some(s) = s else {
        return "not a search".to_string();
    };
    let set = |v: f64| fmt::set_rate(v, &s.unit);
    let capacity = s.capacity.map_or_else(|| "not confirmed".to_string(), set);
    let bracket = match (s.good, s.bad) {
        (Some(g), Some(b)) => format!("good {}, bad {}", set(g), set(b)),
        (Some(g), None) => format!("good {}; none broke up to {}", set(g), set(s.max)),
        (None, Some(b)) => format!("no good rate; bad {}", set(b)),
        (None, None) => "no probe was judged".to_string(),
    };
    format!("{capacity} ({bracket})")
}

/// A one-run side's percentile with its sampling interval in brackets, as the run report
/// writes it: "1.91 s (1.88–1.94 s)".
pub fn with_interval(value: String, ci: Option<results::Bounds>) -> String {
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
        Slack::Relative(_) => relative_change(j.base_median, j.new_median),
    }
}

/// "+8 %", "-4.5 %"; a change from 0 has no relative size.
fn relative_change(base: f64, new: f64) -> String {
    if base == 0.0 {
        if new == 0.0 {
            "+0 %".to_string()
        } else {
            "n/a (base 0)".to_string()
        }
    } else {
        format!("{} %", signed((new - base) / base * 100.0))
    }
}

/// The tolerance, and for latencies the floor under which no change counts.
pub fn tolerance(r: &MetricRow) -> String {
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

/// Which test of the rule decided: "rank p=0.004" (the rank test and its one-sided p-value),
/// "range" (too few repeats for it), "tolerance" (one run a side).
fn test(r: &MetricRow) -> String {
    let Some(j) = &r.judgement else {
        return "n/a".to_string();
    };
    match (j.test, j.p_value) {
        (Test::RankTest, Some(p)) => format!("rank p={}", p_value(p)),
        (t, _) => t.as_str().to_string(),
    }
}

/// A p-value to two significant digits ("0.05", "0.004", "0.00029", "1"); below 0.0001
/// "<0.0001", which no decision needs finer.
fn p_value(p: f64) -> String {
    if p < 1e-4 {
        return "<0.0001".to_string();
    }
    let decimals = (1 - p.log10().floor() as i32).max(1) as usize;
    let s = format!("{p:.decimals$}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
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

/// "no regression", or "REGRESSION in tps, p99, capacity".
fn headline(c: &Comparison) -> String {
    let capacity = c.capacity_regressed().then_some("capacity");
    let regressed: Vec<&str> = c
        .regressions()
        .map(|r| r.key.as_str())
        .chain(capacity)
        .collect();
    if regressed.is_empty() {
        "no regression".to_string()
    } else {
        format!("REGRESSION in {}", regressed.join(", "))
    }
}

/// The notes under the sides, in every format: a change of scenario or driver, why the
/// capacities were not compared, and a regression on a busy machine.
pub(super) fn notes(c: &Comparison) -> Vec<String> {
    let capacity = c.capacity.as_ref().and_then(capacity_note);
    c.scenario_changed
        .iter()
        .chain(&c.drivers_differ)
        .cloned()
        .chain(capacity)
        .chain(noise_note(c))
        .chain(functions_note(c))
        .collect()
}

/// "instructions per unit by function, largest changes: f 270 → 300 (+30); ...", when both
/// sides were counted and some function moved.
fn functions_note(c: &Comparison) -> Option<String> {
    let side = |v: Option<f64>| v.map_or("(not in its top list)".to_string(), fmt::sig3);
    let parts: Vec<String> = c
        .functions
        .iter()
        .map(|f| {
            format!(
                "{} {} → {} ({})",
                f.name,
                side(f.base),
                side(f.new),
                signed(f.delta())
            )
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "own instructions per unit of work by function, largest changes: {}",
            parts.join("; ")
        )
    })
}

/// "REGRESSION in p99 coincides with a busy machine: ..." when something regressed and either
/// side's machine was noisy by `results::Noise`'s rule (the one every report's warning uses);
/// the verdict stands, the note says what else moved.
pub(super) fn noise_note(c: &Comparison) -> Option<String> {
    if !c.has_regression() {
        return None;
    }
    let sides = [("baseline", &c.base_noise), ("new side", &c.new_noise)];
    let noisy: Vec<String> = sides
        .iter()
        .filter_map(|(name, n)| {
            n.as_ref()
                .filter(|n| n.is_noisy())
                .map(|n| side_noise(name, n))
        })
        .collect();
    (!noisy.is_empty()).then(|| {
        format!(
            "{} coincides with a busy machine: other processes used {}; rerun on a quiet \
             machine before blaming the code",
            headline(c),
            noisy.join(" and ")
        )
    })
}

/// "48 % of the machine on average on the new side (steal up to 3 %; 1 of 3 runs noisy)".
fn side_noise(name: &str, n: &SideNoise) -> String {
    let b = &n.busiest;
    let mut s = format!(
        "{} of the machine on average on the {name}",
        fmt::pct(b.other_cpu_avg_pct)
    );
    let mut extra = Vec::new();
    if b.has_steal() {
        extra.push(format!("steal up to {}", fmt::pct(b.steal_peak_pct)));
    }
    if n.measured > 1 {
        extra.push(format!("{} of {} runs noisy", n.noisy_runs, n.measured));
    }
    if !extra.is_empty() {
        let _ = write!(s, " ({})", extra.join("; "));
    }
    s
}

/// Why two sides' capacities were not compared, in words; `None` when they were.
pub(super) fn capacity_note(c: &CapacityComparison) -> Option<String> {
    let CapacityOutcome::NotComparable(why) = c.outcome else {
        return None;
    };
    let (base, new) = (c.base.as_ref(), c.new.as_ref());
    Some(match (why, base, new) {
        (NotComparable::NotBothSearches, Some(_), None) => {
            "capacity not compared: only the baseline is a capacity search".to_string()
        }
        (NotComparable::NotBothSearches, _, _) => {
            "capacity not compared: only the new side is a capacity search".to_string()
        }
        (NotComparable::BaselineFoundNoGoodRate, _, _) => {
            "capacity not comparable: the baseline found no good rate".to_string()
        }
        (NotComparable::UnitsDiffer, Some(b), Some(n)) => format!(
            "capacity not comparable: the rates are in different units (baseline {}, new {})",
            b.unit, n.unit
        ),
        (NotComparable::SlosDiffer, Some(b), Some(n)) => format!(
            "capacity not comparable: the SLOs differ (baseline {}; new {}): a different SLO asks a different question",
            slo_text(&b.slo),
            slo_text(&n.slo)
        ),
        // Units and SLOs are only compared when both sides are searches.
        (NotComparable::UnitsDiffer | NotComparable::SlosDiffer, _, _) => {
            "capacity not comparable".to_string()
        }
    })
}

/// The rules printed under a comparison: the metric rule, and the capacity rule when there is
/// a capacity row.
pub(super) fn rules(c: &Comparison) -> Vec<&'static str> {
    let capacity = c.capacity.is_some().then_some(CAPACITY_RULE);
    std::iter::once(RULE).chain(capacity).collect()
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
    fn p_values_have_two_significant_digits() {
        assert_eq!(p_value(0.05), "0.05");
        assert_eq!(p_value(1.0 / 252.0), "0.004");
        assert_eq!(p_value(1.0 / 3432.0), "0.00029");
        assert_eq!(p_value(918.0 / 3432.0), "0.27");
        assert_eq!(p_value(1.0), "1");
        assert_eq!(p_value(1e-6), "<0.0001");
    }

    #[test]
    fn signs_are_kept_and_zero_is_never_negative() {
        assert_eq!(signed(7.984), "+7.98");
        assert_eq!(signed(-4.0), "-4");
        assert_eq!(signed(-0.0001), "+0");
        assert_eq!(signed(90.0), "+90");
        assert_eq!(signed(f64::NAN), "n/a");
    }
}
