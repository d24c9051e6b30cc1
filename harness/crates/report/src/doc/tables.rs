//! The run report's tables: criteria, planned stages, results by stage, errors, resources,
//! audit checks, profile frames and merged segments.
//!
//! Kept apart from the section order ([`super::build`]) because each table is a small
//! formatting decision of its own (which columns, which row is the total, what is muted).

use results::{
    AuditResult, MergedSegments, Percentiles, ProcessResources, ProfileInfo, Quantile, RunResult,
    Summary,
};

use super::build::throughput_basis;
use super::{Align, Cell, Table, Tone};
use crate::fmt;

/// The criteria table as teams write it by hand.
pub fn criteria_table(r: &RunResult) -> Table {
    let mut t = Table::new(&[
        ("Criterion", Align::Left),
        ("Target", Align::Right),
        ("Measured", Align::Right),
        ("Status", Align::Left),
    ]);
    for c in &r.criteria {
        t.row(vec![
            Cell::plain(&c.label),
            Cell::plain(&c.target),
            Cell::plain(&c.measured),
            Cell::criterion(c),
        ]);
    }
    t
}

/// The stages as planned: model, load, duration and whether they count.
pub(super) fn planned_stages(r: &RunResult) -> Table {
    let mut t = Table::new(&[
        ("#", Align::Right),
        ("Stage", Align::Left),
        ("Model", Align::Left),
        ("Load", Align::Right),
        ("Duration", Align::Right),
        ("Counts", Align::Left),
    ]);
    for (i, p) in r.scenario.stages_planned.iter().enumerate() {
        t.row(vec![
            Cell::plain((i + 1).to_string()),
            Cell::plain(&p.name),
            Cell::plain(match p.model {
                results::LoadModel::Closed => "closed",
                results::LoadModel::Open => "open",
            }),
            Cell::plain(fmt::load(p.from, p.to, &p.unit)),
            Cell::plain(match p.operations {
                // A fixed-work stage: its work, and the limit it had for it.
                Some(n) => format!(
                    "{} ops (limit {})",
                    fmt::count(n),
                    fmt::duration_s(p.duration_s)
                ),
                None => fmt::duration_s(p.duration_s),
            }),
            if p.warmup {
                Cell::tone("warm-up (excluded)", Tone::Muted)
            } else {
                Cell::plain("steady state")
            },
        ]);
    }
    t
}

/// The figures of one row of the results-by-stage table.
struct StageFigures<'a> {
    time: String,
    throughput: f64,
    ops_per_s: f64,
    latency: &'a Percentiles,
    errors: u64,
    error_rate: f64,
}

fn stage_row(name: Cell, f: StageFigures<'_>, tone: Tone) -> Vec<Cell> {
    let l = f.latency;
    vec![
        name,
        Cell::tone(f.time, tone),
        Cell::tone(fmt::si(f.throughput), tone),
        Cell::tone(fmt::si(f.ops_per_s), tone),
        Cell::tone(fmt::percentile_cell(l, Quantile::P50), tone),
        Cell::tone(fmt::percentile_cell(l, Quantile::P90), tone),
        Cell::tone(fmt::percentile_cell(l, Quantile::P99), tone),
        Cell::tone(fmt::percentile_cell(l, Quantile::P999), tone),
        Cell::tone(fmt::latency_us(l.max), tone),
        Cell::tone(errors_text(f.errors, f.error_rate), tone),
    ]
}

/// An errors cell: the count with its share of operations ("12 (0.01 %)"), or "0".
pub(super) fn errors_text(errors: u64, error_rate: f64) -> String {
    if errors == 0 {
        "0".to_string()
    } else {
        format!("{} ({})", fmt::count(errors), fmt::fraction_pct(error_rate))
    }
}

/// Each stage as run, then the steady state as a total row.
pub(super) fn stage_results(r: &RunResult) -> Table {
    let mut t = Table::new(&[
        ("Stage", Align::Left),
        ("Time", Align::Right),
        ("TPS", Align::Right),
        ("ops/s", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        ("p99.9", Align::Right),
        ("max", Align::Right),
        ("Errors", Align::Right),
    ]);
    let (_, committed) = throughput_basis(r);
    let tput = |committed_tps: f64, ops_per_s: f64| {
        if committed {
            committed_tps
        } else {
            ops_per_s
        }
    };
    for s in &r.stages {
        let figures = StageFigures {
            time: format!("{:.0}–{:.0} s", s.start_s, s.end_s),
            throughput: tput(s.committed_tps, s.ops_per_s),
            ops_per_s: s.ops_per_s,
            latency: &s.latency_us,
            errors: s.errors,
            error_rate: s.error_rate,
        };
        t.row(stage_row(stage_name(s), figures, Tone::Plain));
    }
    let s: &Summary = &r.summary;
    let figures = StageFigures {
        time: fmt::duration_s(s.duration_s),
        throughput: tput(s.committed_tps, s.ops_per_s),
        ops_per_s: s.ops_per_s,
        latency: &s.latency_us,
        errors: s.errors,
        error_rate: s.error_rate,
    };
    t.row(stage_row(
        Cell::tone("steady state", Tone::Total),
        figures,
        Tone::Total,
    ));
    if !committed {
        // Without commits the throughput column would repeat ops/s.
        t.columns.remove(2);
        for row in &mut t.rows {
            row.remove(2);
        }
    }
    t
}

/// A stage's name, muted and marked when it is a warm-up (unless its name says so already).
fn stage_name(s: &results::StageResult) -> Cell {
    if !s.warmup {
        Cell::plain(&s.name)
    } else if s.name.to_lowercase().contains("warm") {
        Cell::tone(&s.name, Tone::Muted)
    } else {
        Cell::tone(format!("{} (warm-up)", s.name), Tone::Muted)
    }
}

/// Errors by kind, most frequent first, with their share of operations and a total row.
pub(super) fn errors_by_kind(r: &RunResult) -> Table {
    let mut t = Table::new(&[
        ("Kind", Align::Left),
        ("Count", Align::Right),
        ("Share of operations", Align::Right),
    ]);
    let mut kinds: Vec<_> = r.summary.errors_by_kind.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (k, n) in kinds {
        t.row(vec![
            Cell::plain(k),
            Cell::plain(fmt::count(*n)),
            Cell::plain(share(*n, r.summary.ops)),
        ]);
    }
    t.row(vec![
        Cell::tone("total", Tone::Total),
        Cell::tone(fmt::count(r.summary.errors), Tone::Total),
        Cell::tone(fmt::fraction_pct(r.summary.error_rate), Tone::Total),
    ]);
    t
}

fn share(n: u64, total: u64) -> String {
    if total == 0 {
        "n/a".into()
    } else {
        fmt::fraction_pct(n as f64 / total as f64)
    }
}

/// CPU and memory of the target and the harness side by side.
pub(super) fn resources(r: &RunResult) -> Table {
    let mut t = Table::new(&[
        ("Measure", Align::Left),
        ("Target", Align::Right),
        ("Harness", Align::Right),
    ]);
    let (tg, h) = (&r.resources.target, &r.resources.harness);
    let opt_pct = |v: Option<f64>| v.map_or("n/a".into(), fmt::pct);
    let opt_b = |v: Option<u64>| v.map_or("n/a".into(), fmt::bytes);
    let opt_slope = |v: Option<f64>| v.map_or("n/a".into(), fmt::bytes_per_hour);
    let opt_s = |v: Option<f64>| v.map_or("n/a".into(), |s| format!("{} s", fmt::sig3(s)));
    let rows: Vec<(&str, String, String)> = vec![
        (
            "CPU average",
            opt_pct(tg.cpu_avg_pct),
            opt_pct(h.cpu_avg_pct),
        ),
        (
            "CPU peak",
            opt_pct(tg.cpu_peak_pct),
            opt_pct(h.cpu_peak_pct),
        ),
        ("CPU time", opt_s(tg.cpu_seconds), opt_s(h.cpu_seconds)),
        ("RSS at start", opt_b(tg.rss_start), opt_b(h.rss_start)),
        (
            "RSS after warm-up",
            opt_b(tg.rss_after_warmup),
            opt_b(h.rss_after_warmup),
        ),
        ("RSS peak", opt_b(tg.rss_peak), opt_b(h.rss_peak)),
        ("RSS at end", opt_b(tg.rss_end), opt_b(h.rss_end)),
        ("RSS growth (end − after warm-up)", growth(tg), growth(h)),
        (
            "RSS slope after warm-up (least squares)",
            opt_slope(tg.rss_slope_per_h),
            opt_slope(h.rss_slope_per_h),
        ),
    ];
    for (m, a, b) in rows {
        t.row(vec![Cell::plain(m), Cell::plain(a), Cell::plain(b)]);
    }
    t
}

fn growth(p: &ProcessResources) -> String {
    match (p.rss_end, p.rss_after_warmup) {
        (Some(e), Some(w)) => fmt::bytes_signed(e as i64 - w as i64),
        _ => "n/a".into(),
    }
}

/// The engine's invariants, expected against actual.
pub(super) fn audit_checks(a: &AuditResult) -> Table {
    let mut t = Table::new(&[
        ("Check", Align::Left),
        ("Expected", Align::Right),
        ("Actual", Align::Right),
        ("Status", Align::Left),
    ]);
    let ok = |b: bool| {
        if b {
            Cell::tone("✓ ok", Tone::Good)
        } else {
            Cell::tone("✗ FAILED", Tone::Bad)
        }
    };
    t.row(vec![
        Cell::plain("Total supply conserved"),
        Cell::plain(fmt::count_u128(a.total_supply_expected)),
        Cell::plain(fmt::count_u128(a.total_supply_actual)),
        ok(a.total_supply_expected == a.total_supply_actual),
    ]);
    t.row(vec![
        Cell::plain("Committed transfers = nonce advances"),
        Cell::plain(fmt::count(a.committed_transfers)),
        Cell::plain(fmt::count(a.nonce_advances)),
        ok(a.committed_transfers == a.nonce_advances),
    ]);
    t.row(vec![
        Cell::plain("Ledger transactions = committed"),
        Cell::plain(fmt::count(a.committed_transfers)),
        Cell::plain(fmt::count(a.ledger_total_tx)),
        ok(a.ledger_total_tx == a.committed_transfers),
    ]);
    t.row(vec![
        Cell::plain("Ledger hash chain"),
        Cell::plain(format!("height {}", fmt::count(a.ledger_height))),
        Cell::plain(if a.ledger_consistent {
            "consistent"
        } else {
            "broken"
        }),
        ok(a.ledger_consistent),
    ]);
    t
}

/// The functions with the most self time in the profile.
pub(super) fn profile_frames(p: &ProfileInfo) -> Table {
    let mut t = Table::new(&[("Frame (self time)", Align::Left), ("Self", Align::Right)]);
    for f in &p.top_frames {
        t.row(vec![
            Cell::plain(&f.name),
            Cell::plain(fmt::pct(f.self_pct)),
        ]);
    }
    t
}

/// Each merged segment's own headline figures and the harness's resources on its machine.
pub(super) fn segment_instances(m: &MergedSegments) -> Table {
    let mut t = Table::new(&[
        ("Segment", Align::Right),
        ("Host", Align::Left),
        ("Status", Align::Left),
        ("Committed tx/s", Align::Right),
        ("p99", Align::Right),
        ("Errors", Align::Right),
        ("Harness CPU avg", Align::Right),
        ("Harness RSS peak", Align::Right),
    ]);
    for i in &m.instances {
        t.row(vec![
            Cell::plain(i.segment.to_string()),
            Cell::plain(i.hostname.clone().unwrap_or_default()),
            Cell::plain(i.status.as_str()),
            Cell::plain(fmt::rate(i.committed_tps, "tx/s")),
            Cell::plain(fmt::latency_us(i.p99_us)),
            Cell::plain(fmt::count(i.errors)),
            Cell::plain(
                i.resources
                    .harness
                    .cpu_avg_pct
                    .map_or_else(|| "n/a".to_string(), fmt::pct),
            ),
            Cell::plain(
                i.resources
                    .harness
                    .rss_peak
                    .map_or_else(|| "n/a".to_string(), fmt::bytes),
            ),
        ]);
    }
    t
}
