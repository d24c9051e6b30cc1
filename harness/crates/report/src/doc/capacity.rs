//! The "Capacity" section: what a capacity ramp or a capacity search found.
//!
//! A ramp is three facts (the bound, the highest rate that met it, the first that broke it).
//! A search is many constant-rate runs in one, and its answer is only as good as the steps
//! that led to it, so its section gives the answer first (capacity, SLO, bracket, how the
//! search ended) and then every probe with the figure that judged it. The phrases the other
//! formats repeat (the capacity, the SLO, the bracket, what the summary figures are) are
//! made here once, so the text summary, JUnit and the chart say them the same way.

use results::{
    CapacityResult, CapacitySearch, Probe, ProbeOutcome, ProbePhase, Quantile, RunResult,
    SearchEnd, Slo,
};

use super::tables::errors_text;
use super::{Align, Block, Cell, Table, Tone};
use crate::fmt;

/// The result's capacity search with the capacity result holding it (whose unit its rates
/// are in); `None` for a ramp or a run without capacity figures.
pub fn capacity_search(r: &RunResult) -> Option<(&CapacityResult, &CapacitySearch)> {
    let c = r.capacity.as_ref()?;
    c.search.as_ref().map(|s| (c, s))
}

/// The section's blocks; nothing when the run measured no capacity.
pub(super) fn capacity(r: &RunResult) -> Vec<Block> {
    match (&r.capacity, capacity_search(r)) {
        (_, Some((c, s))) => search(c, s),
        (Some(c), None) => ramp(c),
        (None, None) => Vec::new(),
    }
}

/// A capacity ramp: the rate was raised until a criterion broke.
fn ramp(c: &CapacityResult) -> Vec<Block> {
    vec![
        Block::Heading("Capacity".into()),
        Block::Pairs(vec![
            ("Bounded by".into(), c.criterion.clone()),
            (
                "Highest rate that met it".into(),
                c.max_rate_met
                    .map_or("none".into(), |v| fmt::rate(v, &c.unit)),
            ),
            (
                "First rate that broke it".into(),
                c.first_rate_broken
                    .map_or("none (never broken)".into(), |v| fmt::rate(v, &c.unit)),
            ),
        ]),
    ]
}

fn search(c: &CapacityResult, s: &CapacitySearch) -> Vec<Block> {
    vec![
        Block::Heading("Capacity".into()),
        Block::Pairs(headline(c, s)),
        Block::Table(probes_table(c, s)),
        Block::Note(format!(
            "Probes in the order run, each a constant offered rate held for {} after {} of \
             settling (a confirmation for {}). Achieved: the rate that completed over the judged \
             time. In brackets: the SLO percentile's 95 % sampling interval; a probe whose \
             interval straddles the limit is unsure and is run again at the same rate, and the \
             repeat's outcome stands. CPU: mean over the probe, percent of one core (n/a when \
             the target runs in the harness process). The latency-throughput chart under Charts \
             draws these probes.",
            fmt::duration_s(s.settings.probe_s),
            fmt::duration_s(s.settings.settle_s),
            fmt::duration_s(s.settings.confirm_s),
        )),
    ]
}

fn headline(c: &CapacityResult, s: &CapacitySearch) -> Vec<(String, String)> {
    let set = |v: f64| fmt::set_rate(v, &c.unit);
    vec![
        ("Capacity".into(), capacity_figure(c, s)),
        ("SLO".into(), slo_text(&s.slo)),
        ("Bracket".into(), bracket_text(c, s)),
        ("Ended".into(), ended_text(s)),
        (
            "Probes".into(),
            format!("{} of at most {}", s.probes.len(), s.settings.max_probes),
        ),
        (
            "Search range".into(),
            format!(
                "{} to {}, ×{} per step while growing",
                set(s.settings.start),
                set(s.settings.max),
                fmt::sig3(s.settings.growth)
            ),
        ),
        ("Wall time".into(), fmt::duration_s(s.wall_s)),
    ]
}

/// The capacity in a few words: "12.75M tx/s", "above max (40M tx/s)", "below start (2M
/// tx/s)" or "not confirmed".
pub fn capacity_figure(c: &CapacityResult, s: &CapacitySearch) -> String {
    let set = |v: f64| fmt::set_rate(v, &c.unit);
    match s.capacity {
        _ if s.above_max => format!("above max ({})", set(s.settings.max)),
        Some(v) => set(v),
        None if s.ended == SearchEnd::BelowStart => {
            format!("below start ({})", set(s.settings.start))
        }
        None => "not confirmed".into(),
    }
}

/// The SLO as a bound: "p99 ≤ 5.00 ms, errors ≤ 0.1 %".
pub fn slo_text(slo: &Slo) -> String {
    let mut t = slo_latency_text(slo);
    if let Some(e) = slo.max_error_rate {
        t.push_str(&format!(", errors ≤ {}", fmt::fraction_pct(e)));
    }
    t
}

/// The SLO's latency bound alone: "p99 ≤ 5.00 ms".
pub fn slo_latency_text(slo: &Slo) -> String {
    format!(
        "{} ≤ {}",
        percentile_label(slo.percentile),
        fmt::latency_us(slo.max_latency_us)
    )
}

/// The last good and the first bad rate: "good 12.75M tx/s, bad 13M tx/s (1.96 % apart;
/// precision 2 %)".
pub fn bracket_text(c: &CapacityResult, s: &CapacitySearch) -> String {
    let set = |v: f64| fmt::set_rate(v, &c.unit);
    match (c.max_rate_met, c.first_rate_broken) {
        (Some(g), Some(b)) if g > 0.0 => format!(
            "good {}, bad {} ({} apart; precision {})",
            set(g),
            set(b),
            fmt::fraction_pct((b - g) / g),
            fmt::fraction_pct(s.settings.precision)
        ),
        (Some(g), Some(b)) => format!("good {}, bad {}", set(g), set(b)),
        (Some(g), None) => format!("good {}; no rate broke the SLO", set(g)),
        (None, Some(b)) => format!("no good rate; bad {}", set(b)),
        (None, None) => "no probe was judged".into(),
    }
}

/// Why the search ended, in words.
fn ended_text(s: &CapacitySearch) -> String {
    match s.ended {
        SearchEnd::Converged => "converged: the bracket narrowed to the precision and the best \
                                 good rate held for the confirmation"
            .into(),
        SearchEnd::AboveMax => {
            "above max: nothing broke the SLO up to the search's max, which held for the \
             confirmation"
                .into()
        }
        SearchEnd::BelowStart => {
            "below start: even the start rate broke the SLO, so the capacity is below the \
             search's range"
                .into()
        }
        SearchEnd::GeneratorLimit => "generator limit: the load generator could not keep up \
                                      with a probe, so no capacity can be claimed"
            .into(),
        SearchEnd::MaxProbes => format!(
            "max probes: {} probes ran before the search converged",
            s.settings.max_probes
        ),
        SearchEnd::MaxTime => format!(
            "max time: {} passed before the search converged",
            fmt::duration_s(s.settings.max_time_s)
        ),
        SearchEnd::Aborted => "aborted: interrupted before the search ended".into(),
    }
}

/// One line for the terminal: the capacity with its SLO, bracket and how the search ended.
pub fn capacity_line(r: &RunResult) -> Option<String> {
    let (c, s) = capacity_search(r)?;
    Some(format!(
        "Capacity: {} at {}; bracket {}; {} after {} probes.",
        capacity_figure(c, s),
        slo_text(&s.slo),
        bracket_text(c, s),
        ended_name(s.ended),
        s.probes.len()
    ))
}

/// Why a search ended, in two words: "converged", "max probes".
pub fn ended_name(e: SearchEnd) -> String {
    e.as_str().replace('_', " ")
}

/// What the run's summary figures describe, leading the steady-state sentence: "Steady
/// state", or with a search the confirming probe, whose figures the summary holds.
pub fn summary_label(r: &RunResult) -> String {
    let Some((c, s)) = capacity_search(r) else {
        return "Steady state".into();
    };
    let confirming = s
        .probes
        .iter()
        .rev()
        .find(|p| p.phase == ProbePhase::Confirm && p.outcome == ProbeOutcome::Good)
        .filter(|_| s.capacity.is_some());
    match confirming {
        Some(p) => format!(
            "Confirming probe #{} at {}",
            p.index,
            fmt::set_rate(p.offered, &c.unit)
        ),
        None => "Capacity search, no capacity confirmed".into(),
    }
}

/// The verdict section's note on a search: whose figures the summary sentence gives.
pub(super) fn summary_note(r: &RunResult) -> Option<Block> {
    let (_, s) = capacity_search(r)?;
    Some(Block::Note(if s.capacity.is_some() {
        "A capacity search: the summary figures above are the confirming probe's, the \
         capacity held for the confirmation time. Every probe is under Capacity."
            .into()
    } else {
        "A capacity search that confirmed no capacity: the summary figures above are not a \
         capacity's. Every probe is under Capacity."
            .into()
    }))
}

/// A latency figure shown for each probe: p50, p99 and p99.9, with the SLO's percentile
/// among them (or added, when it is another).
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeLatency {
    /// "p99".
    pub label: String,
    /// The percentile in the probe's summary; `None` for an SLO percentile it does not list.
    pub quantile: Option<Quantile>,
    /// The SLO's percentile: read from the probe's SLO figure, with its interval.
    pub slo: bool,
}

impl ProbeLatency {
    /// This figure of `p`, microseconds; `None` when too few samples to report it.
    pub fn value(&self, p: &Probe) -> Option<f64> {
        match self.quantile {
            _ if self.slo => Some(p.slo_latency_us),
            Some(q) => p.latency_us.is_sufficient(q).then(|| p.latency_us.value(q)),
            None => None,
        }
    }
}

/// The latency figures of every probe, by increasing percentile.
pub fn probe_latencies(slo: &Slo) -> Vec<ProbeLatency> {
    let slo_q = quantile_of(slo.percentile);
    let mut out: Vec<ProbeLatency> = [Quantile::P50, Quantile::P99, Quantile::P999]
        .into_iter()
        .map(|q| ProbeLatency {
            label: q.label().into(),
            quantile: Some(q),
            slo: slo_q == Some(q),
        })
        .collect();
    if !out.iter().any(|l| l.slo) {
        let at = out
            .iter()
            .position(|l| l.quantile.is_some_and(|q| q.q() * 100.0 > slo.percentile))
            .unwrap_or(out.len());
        out.insert(
            at,
            ProbeLatency {
                label: percentile_label(slo.percentile),
                quantile: slo_q,
                slo: true,
            },
        );
    }
    out
}

/// The reported percentile that `percentile` (e.g. 99.0) is, if any.
fn quantile_of(percentile: f64) -> Option<Quantile> {
    Quantile::ALL
        .into_iter()
        .find(|q| (q.q() * 100.0 - percentile).abs() < 1e-9)
}

/// "p99", "p99.9", "p95": a percentile as the reports name it.
fn percentile_label(percentile: f64) -> String {
    match quantile_of(percentile) {
        Some(q) => q.label().into(),
        // f64's Display is the shortest form that reads back: 95 → "95", 99.99 → "99.99".
        None => format!("p{percentile}"),
    }
}

fn probes_table(c: &CapacityResult, s: &CapacitySearch) -> Table {
    let lats = probe_latencies(&s.slo);
    let heads: Vec<String> = lats
        .iter()
        .map(|l| {
            if l.slo {
                format!("{} (SLO)", l.label)
            } else {
                l.label.clone()
            }
        })
        .collect();
    let mut cols: Vec<(&str, Align)> = vec![
        ("#", Align::Right),
        ("Phase", Align::Left),
        ("Offered", Align::Right),
        ("Achieved", Align::Right),
    ];
    cols.extend(heads.iter().map(|h| (h.as_str(), Align::Right)));
    cols.extend([
        ("Errors", Align::Right),
        ("CPU target / generator", Align::Right),
        ("Outcome", Align::Left),
        ("Why", Align::Left),
    ]);
    let mut t = Table::new(&cols);
    for p in &s.probes {
        t.row(probe_row(c, p, &lats));
    }
    t
}

fn probe_row(c: &CapacityResult, p: &Probe, lats: &[ProbeLatency]) -> Vec<Cell> {
    let cpu = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), fmt::pct);
    let mut row = vec![
        Cell::plain(p.index.to_string()),
        Cell::plain(phase_name(p.phase)),
        Cell::plain(fmt::set_rate(p.offered, &c.unit)),
        Cell::plain(fmt::rate(p.achieved, &c.unit)),
    ];
    row.extend(lats.iter().map(|l| {
        Cell::plain(match l.quantile {
            _ if l.slo => fmt::latency_ci(p.slo_latency_us, p.slo_latency_ci95),
            Some(q) => fmt::percentile_figure(&p.latency_us, q),
            None => "n/a".into(),
        })
    }));
    row.extend([
        Cell::plain(errors_text(p.errors, p.error_rate)),
        // One column for both: the table is wide, and the two are read together (which side
        // was busy).
        Cell::plain(format!(
            "{} / {}",
            cpu(p.target_cpu_pct),
            cpu(p.harness_cpu_pct)
        )),
        outcome_cell(p),
        Cell::plain(&p.why),
    ]);
    row
}

fn phase_name(p: ProbePhase) -> &'static str {
    match p {
        ProbePhase::Grow => "grow",
        ProbePhase::Bisect => "bisect",
        ProbePhase::Confirm => "confirm",
    }
}

/// The probe's judgement as a status cell, marked when it ended early.
fn outcome_cell(p: &Probe) -> Cell {
    let (label, tone) = match p.outcome {
        ProbeOutcome::Good => ("✓ good", Tone::Good),
        ProbeOutcome::Bad => ("✗ bad", Tone::Bad),
        ProbeOutcome::Unsure => ("? unsure", Tone::Muted),
        ProbeOutcome::Invalid => ("✗ invalid", Tone::Bad),
        ProbeOutcome::Aborted => ("– aborted", Tone::Muted),
    };
    if p.ended_early {
        Cell::tone(format!("{label}, ended early"), tone)
    } else {
        Cell::tone(label, tone)
    }
}
