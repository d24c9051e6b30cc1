//! Latency charts: percentiles per interval over time (log scale), and the steady state's
//! latency at each percentile (HdrHistogram style).

use plotters::prelude::*;
use results::{IntervalRecord, Quantile, RunResult};

use super::frame::{self, stage_marks, x_range, Frame};
use super::series::{broken_line, legend, line, runs};
use super::style::{Look, L_MAX, L_P50, L_P99, L_P999};
use super::Chart;
use crate::{doc, fmt};

/// A latency series: name, the percentile (None: the maximum), look.
type Pick = (&'static str, Option<Quantile>, Look);
/// A series ready to draw: name, runs of points (broken where nothing completed), look.
type Series = (String, Vec<Vec<(f64, f64)>>, Look);

/// Unit for a latency axis: ms when the values reach a millisecond.
pub(super) fn latency_unit(max_us: f64) -> (&'static str, f64) {
    if max_us >= 1_000.0 {
        ("ms", 1_000.0)
    } else {
        ("µs", 1.0)
    }
}

pub(super) fn latency_over_time(r: &RunResult) -> Result<Chart, String> {
    // Whole intervals only: a partial last interval's percentiles rest on a sample or two.
    let full = doc::full_intervals(r);
    let max_us = full.iter().map(|i| i.latency_us.max).fold(0.0, f64::max);
    let (unit, div) = latency_unit(max_us);
    let series = percentile_series(&full, div);
    let (lo, hi) = log_range(
        series
            .iter()
            .flat_map(|s| s.1.iter().flatten().map(|p| p.1)),
    );
    let band = p99_band(&full, div);
    let title = "Latency percentiles per interval".to_string();
    let gaps = if full.iter().any(|i| i.latency_us.count == 0) {
        "; gaps are intervals in which nothing completed"
    } else {
        ""
    };
    let notes = format!("{gaps}{}{}", band_note(&band), too_few_note(&full));
    let svg = frame::svg(|root| {
        let y = (lo..hi).log_scale().with_key_points(log_ticks(lo, hi));
        let mut chart = Frame::chart(&title, format!("latency ({unit}, log scale)")).draw(
            root,
            x_range(r),
            y,
        )?;
        stage_marks(&mut chart, r, lo, hi)?;
        for stretch in &band {
            let outline = stretch.iter().map(|p| (p.0, p.1));
            let back = stretch.iter().rev().map(|p| (p.0, p.2));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    outline.chain(back).collect::<Vec<_>>(),
                    L_P99.color.mix(0.18).filled(),
                )))
                .map_err(|e| e.to_string())?;
        }
        for (name, runs, l) in &series {
            broken_line(&mut chart, name, runs, *l)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    })?;
    Ok(Chart {
        file: "latency.svg".to_string(),
        title,
        caption: frame::caption(
            r,
            format!(
                "Latency in each interval (log scale); basis: {}{}.",
                r.driver.latency_basis, notes
            ),
        ),
        // A percentile with too few samples in every interval is not drawn, nor in the legend.
        series: series
            .into_iter()
            .filter(|s| !s.1.is_empty())
            .map(|s| s.0)
            .collect(),
        svg,
    })
}

/// p50, p99, p99.9 and max of each interval, divided by `div` (the axis unit).
fn percentile_series(intervals: &[&IntervalRecord], div: f64) -> Vec<Series> {
    let pick: [Pick; 4] = [
        ("p50", Some(Quantile::P50), L_P50),
        ("p99", Some(Quantile::P99), L_P99),
        ("p99.9", Some(Quantile::P999), L_P999),
        ("max", None, L_MAX),
    ];
    // An interval in which nothing completed has no latency: the line breaks there, since
    // joining its neighbours would draw a stall as a ramp. (Zero, which a log axis cannot
    // show, breaks it too.) A percentile with too few samples under it is not a figure
    // (the reports say "insufficient samples"), so its line breaks there as well.
    pick.iter()
        .map(|(name, q, l)| {
            let pts = runs(intervals, |i| {
                let p = &i.latency_us;
                let (v, known) = match q {
                    Some(q) => (p.value(*q), p.is_sufficient(*q)),
                    None => (p.max, p.count > 0),
                };
                (known && v > 0.0).then_some((i.t_s, v / div))
            });
            (name.to_string(), pts, *l)
        })
        .collect()
}

/// Stretches of consecutive intervals with a p99 sampling interval: (t, lo, hi) in the axis
/// unit, shaded behind the p99 line.
fn p99_band(intervals: &[&IntervalRecord], div: f64) -> Vec<Vec<(f64, f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64, f64)>> = Vec::new();
    let mut open = false;
    for i in intervals {
        match i.latency_us.interval(Quantile::P99).filter(|b| b.lo > 0.0) {
            Some(b) => {
                let p = (i.t_s, b.lo / div, b.hi / div);
                if open {
                    out.last_mut().expect("an open stretch").push(p);
                } else {
                    out.push(vec![p]);
                }
                open = true;
            }
            None => open = false,
        }
    }
    out
}

fn band_note(band: &[Vec<(f64, f64, f64)>]) -> &'static str {
    if band.is_empty() {
        ""
    } else {
        "; the shaded band is each interval's p99 95 % sampling interval"
    }
}

/// Which percentiles were left out of some intervals for too few samples, said once.
fn too_few_note(intervals: &[&IntervalRecord]) -> String {
    let short: Vec<&str> = [Quantile::P50, Quantile::P99, Quantile::P999]
        .into_iter()
        .filter(|q| {
            intervals
                .iter()
                .any(|i| i.latency_us.count > 0 && !i.latency_us.is_sufficient(*q))
        })
        .map(Quantile::label)
        .collect();
    if short.is_empty() {
        String::new()
    } else {
        format!(
            "; {} left out where an interval had too few operations for it (under 10 expected \
             above it)",
            short.join(", ")
        )
    }
}

/// The log axis range for `values` (positive), with headroom above the data (a quarter of
/// the log range) that keeps the legend off the lines.
pub(super) fn log_range(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo.is_finite() && hi > 0.0 {
        let lo = lo / 1.3;
        let span = (hi * 1.1 / lo).log10();
        (lo, lo * 10f64.powf(span / 0.75))
    } else {
        (0.1, 10.0)
    }
}

/// Tick values for a log axis: 1-2-5 in each decade, or only powers of ten when that would
/// crowd the axis (plotters' own log ticks can leave a whole decade unlabelled).
pub(super) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut all = Vec::new();
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade <= hi {
        for m in [1.0, 2.0, 5.0] {
            let v = decade * m;
            if v >= lo && v <= hi {
                all.push(v);
            }
        }
        decade *= 10.0;
    }
    if all.len() > 10 {
        all.retain(|v| (v.log10() - v.log10().round()).abs() < 1e-9);
    }
    all
}

/// x position of a percentile on the HdrHistogram axis: log10(1 / (1 - p)).
fn nines(p: f64) -> f64 {
    (1.0 / (1.0 - p / 100.0)).log10()
}

/// Label of a whole number of nines on the percentile axis: 0 %, 90 %, 99 %, 99.9 %, ...
fn nines_label(x: &f64) -> String {
    let k = x.round();
    if (x - k).abs() > 1e-6 {
        return String::new();
    }
    match k as i32 {
        0 => "0 %".into(),
        1 => "90 %".into(),
        n => format!("99.{} %", "9".repeat((n - 2) as usize)).replace("99. %", "99 %"),
    }
}

pub(super) fn distribution(r: &RunResult) -> Result<Chart, String> {
    // Zero (an empty histogram's percentiles) has no place on a log axis.
    let pts_us: Vec<(f64, f64)> = r
        .percentiles
        .iter()
        .filter(|p| p.percentile < 100.0 && p.latency_us > 0.0)
        .map(|p| (nines(p.percentile), p.latency_us))
        .collect();
    let max_us = r
        .percentiles
        .iter()
        .map(|p| p.latency_us)
        .fold(0.0, f64::max);
    let shown_max = pts_us.iter().map(|p| p.1).fold(0.0, f64::max);
    let (unit, div) = latency_unit(shown_max);
    let pts: Vec<(f64, f64)> = pts_us.iter().map(|(x, y)| (*x, y / div)).collect();
    let x_max = pts.iter().map(|p| p.0).fold(0.0, f64::max).ceil().max(2.0);
    // A log y axis: on the 30-minute sustained run a linear one drew a 40 µs body under a
    // 24 ms maximum as a flat line at zero; on a log axis body and tail both read.
    let (lo, hi) = log_range(pts.iter().map(|p| p.1));
    let name = "steady state".to_string();
    let title = "Latency by percentile".to_string();
    let svg = frame::svg(|root| {
        let y = (lo..hi).log_scale().with_key_points(log_ticks(lo, hi));
        let mut chart = Frame {
            x_desc: Some("percentile (log scale of 1/(1-p))"),
            x_label: &nines_label,
            x_labels: Some(x_max as usize + 1),
            margin_right: Some(36),
            ..Frame::chart(&title, format!("latency ({unit}, log scale)"))
        }
        .draw(root, (0.0, x_max), y)?;
        line(&mut chart, &name, &pts, L_P50)?;
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })?;
    Ok(Chart {
        file: "distribution.svg".to_string(),
        title,
        caption: format!(
            "Steady-state latency at each percentile (HdrHistogram style, log scale). Maximum: {}.",
            fmt::latency_us(max_us)
        ),
        series: vec![name],
        svg,
    })
}
