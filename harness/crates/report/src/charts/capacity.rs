//! A capacity search as a latency-throughput curve: each probe's latency against the rate it
//! achieved, the SLO across it, and the knee (the capacity) with the bracket the search
//! narrowed to.
//!
//! Why a chart of its own: the search's answer is one number, but whether the knee is sharp
//! (latency climbs steeply just past the capacity) or gradual (any rate near it is a
//! judgement call) shows only on the curve. The charts over time cannot show it: there, each
//! probe is a flat stretch.

use plotters::prelude::*;
use results::{CapacityResult, CapacitySearch, Probe, ProbeOutcome, Quantile};

use super::frame::{self, nice_max, si_label, Frame, Plot};
use super::latency::{latency_unit, log_range, log_ticks};
use super::series::{legend, line, lines, markers, runs, Fill, Plane};
use super::style::{
    Look, Marker, BRACKET_SHADE, L_CAPACITY, L_P50, L_P99, L_P999, L_SLO_OTHER, L_TARGET,
};
use super::Chart;
use crate::{doc, fmt};

/// One latency figure across the probes, ready to draw.
struct Curve {
    name: String,
    look: Look,
    /// The probes it joins, by achieved rate (broken where a probe has no figure).
    joined: Vec<Vec<(f64, f64)>>,
    /// Every probe's point with its outcome, markers only.
    points: Vec<((f64, f64), ProbeOutcome)>,
}

/// The marks that say where the search ended up, in axis units.
struct Marks {
    /// The SLO's latency limit and its legend name.
    slo: (f64, String),
    /// The capacity's rate and its legend name.
    capacity: Option<(f64, String)>,
    /// The last good and the first bad rate.
    bracket: Option<(f64, f64)>,
}

pub(super) fn capacity(c: &CapacityResult, s: &CapacitySearch) -> Result<Chart, String> {
    let mut probes: Vec<&Probe> = s.probes.iter().collect();
    // A stable sort: a rate probed twice keeps the order run, and both points are drawn.
    probes.sort_by(|a, b| a.achieved.total_cmp(&b.achieved));
    let max_us = probes.iter().map(|p| p.latency_us.max).fold(0.0, f64::max);
    let (unit, div) = latency_unit(max_us.max(s.slo.max_latency_us));
    let curves = curves(&probes, s, div);
    let marks = marks(c, s, div);
    let (lo, hi) = log_range(
        curves
            .iter()
            .flat_map(|k| k.points.iter().map(|p| p.0 .1))
            .chain([marks.slo.0]),
    );
    let x_max = nice_max(
        probes
            .iter()
            .map(|p| p.achieved)
            .chain(marks.capacity.as_ref().map(|m| m.0))
            .chain(marks.bracket.map(|b| b.1))
            .fold(0.0, f64::max),
    );
    let title = "Latency against achieved rate".to_string();
    let x_desc = format!("achieved rate ({})", c.unit);
    let svg = frame::svg(|root| {
        let y = (lo..hi).log_scale().with_key_points(log_ticks(lo, hi));
        let mut chart = Frame {
            x_desc: Some(&x_desc),
            x_label: &si_label,
            ..Frame::chart(&title, format!("latency ({unit}, log scale)"))
        }
        .draw(root, (0.0, x_max), y)?;
        if let Some((g, b)) = marks.bracket {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(g, lo), (b, hi)],
                    BRACKET_SHADE.filled(),
                )))
                .plot()?;
        }
        let (slo, slo_name) = &marks.slo;
        line(
            &mut chart,
            slo_name,
            &[(0.0, *slo), (x_max, *slo)],
            L_TARGET,
        )?;
        if let Some((cap, name)) = &marks.capacity {
            line(&mut chart, name, &[(*cap, lo), (*cap, hi)], L_CAPACITY)?;
        }
        for k in &curves {
            draw_curve(&mut chart, k)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })?;
    let mut series: Vec<String> = curves
        .iter()
        .filter(|k| !k.points.is_empty())
        .map(|k| k.name.clone())
        .collect();
    series.push(marks.slo.1.clone());
    series.extend(marks.capacity.as_ref().map(|m| m.1.clone()));
    Ok(Chart {
        file: "capacity.svg".to_string(),
        title,
        caption: caption(c, s),
        series,
        svg,
    })
}

/// p50, p99, p99.9 (and the SLO's percentile if it is another) over the probes sorted by
/// achieved rate, in the axis unit (`div`).
fn curves(probes: &[&Probe], s: &CapacitySearch, div: f64) -> Vec<Curve> {
    doc::probe_latencies(&s.slo)
        .into_iter()
        .map(|l| {
            let point = |p: &Probe| {
                l.value(p)
                    .filter(|v| *v > 0.0)
                    .map(|v| (p.achieved, v / div))
            };
            // An invalid probe's figures are the generator's, an aborted one's partial: they
            // are marked, but the curve of the target's latency does not pass through them.
            let joined = runs(probes.iter().filter(|p| judged(p.outcome)), |p| point(p));
            let points = probes
                .iter()
                .filter_map(|p| point(p).map(|xy| (xy, p.outcome)))
                .collect();
            Curve {
                name: l.label.clone(),
                look: look_of(l.quantile),
                joined,
                points,
            }
        })
        .collect()
}

/// Whether a probe's figures describe the target at its rate.
fn judged(o: ProbeOutcome) -> bool {
    matches!(
        o,
        ProbeOutcome::Good | ProbeOutcome::Bad | ProbeOutcome::Unsure
    )
}

/// The look of a percentile's curve: as in the latency chart over time, so p99 reads the same
/// in both; another percentile (an SLO's p95) gets a colour of its own.
fn look_of(q: Option<Quantile>) -> Look {
    match q {
        Some(Quantile::P50) => L_P50,
        Some(Quantile::P99) => L_P99,
        Some(Quantile::P999) => L_P999,
        _ => L_SLO_OTHER,
    }
}

/// A curve's lines, then its markers: filled for good probes, hollow for bad or unsure ones,
/// a cross for invalid or aborted ones.
fn draw_curve<'a, DB, Y>(chart: &mut Plane<'a, DB, Y>, k: &Curve) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    let joined: Vec<&[(f64, f64)]> = k.joined.iter().map(Vec::as_slice).collect();
    lines(chart, &k.name, &joined, k.look)?;
    let with = |keep: fn(ProbeOutcome) -> bool| -> Vec<(f64, f64)> {
        k.points
            .iter()
            .filter(|(_, o)| keep(*o))
            .map(|(p, _)| *p)
            .collect()
    };
    let cross = Look {
        marker: Marker::Cross,
        ..k.look
    };
    markers(
        chart,
        &with(|o| o == ProbeOutcome::Good),
        k.look,
        Fill::Solid,
    )?;
    markers(
        chart,
        &with(|o| matches!(o, ProbeOutcome::Bad | ProbeOutcome::Unsure)),
        k.look,
        Fill::Hollow,
    )?;
    markers(chart, &with(|o| !judged(o)), cross, Fill::Solid)
}

fn marks(c: &CapacityResult, s: &CapacitySearch, div: f64) -> Marks {
    Marks {
        slo: (
            s.slo.max_latency_us / div,
            format!("SLO {}", doc::slo_latency_text(&s.slo)),
        ),
        capacity: s
            .capacity
            .map(|v| (v, format!("capacity {}", doc::capacity_figure(c, s)))),
        bracket: c.max_rate_met.zip(c.first_rate_broken),
    }
}

fn caption(c: &CapacityResult, s: &CapacitySearch) -> String {
    let mut t = format!(
        "Each probe's latency against the rate it achieved (log scale), joined in order of \
         rate. Filled markers: good probes; hollow: bad or unsure (run again); crosses: \
         invalid or aborted, not joined (their figures are the generator's, or partial). \
         Dashed: the SLO, {}.",
        doc::slo_latency_text(&s.slo)
    );
    if s.capacity.is_some() {
        t.push_str(&format!(
            " Vertical line: the capacity, {}.",
            doc::capacity_figure(c, s)
        ));
    } else {
        t.push_str(&format!(
            " No capacity was confirmed (the search ended: {}).",
            doc::ended_name(s.ended)
        ));
    }
    if let (Some(g), Some(b)) = (c.max_rate_met, c.first_rate_broken) {
        t.push_str(&format!(
            " Shaded: the bracket between the last good ({}) and the first bad ({}) offered rate.",
            fmt::set_rate(g, &c.unit),
            fmt::set_rate(b, &c.unit)
        ));
    }
    t
}
