//! One figure of a scenario over many runs (`harness history`): each run's value joined in
//! run order, its 95 % sampling interval as an error bar where it has one, the baseline's band
//! shaded, and the runs the comparison rule calls regressions ringed in red.
//!
//! Why a chart of its own: the run charts are over seconds of one run; here the x axis is the
//! runs themselves (oldest first, labelled by commit), and what matters is whether a point
//! left the band, not its shape. The y axis starts at zero so a 5 % move looks like 5 %.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::frame::{self, nice_max, Frame, Plot};
use super::series::{legend, line, markers, Fill, Plane};
use super::style::{BAND_SHADE, L_REGRESSED, L_RUNS};
use super::Chart;
use crate::ReportError;

/// Labels on the x axis at most; plotters spaces them over the runs.
const MAX_LABELS: usize = 16;

/// One figure over runs, in the unit of its axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    /// File name under `charts/`, unique in its page.
    pub file: String,
    pub title: String,
    /// The y axis: what and in which unit, e.g. "p99 latency (µs)".
    pub y_desc: String,
    pub caption: String,
    /// The runs, oldest first.
    pub points: Vec<TrendPoint>,
    /// The baseline's band: its [min, max] widened by the tolerance.
    pub band: Option<(f64, f64)>,
}

/// One run's value.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    /// Its x-axis label (a short commit).
    pub label: String,
    pub value: f64,
    /// Its 95 % sampling interval, when it has one.
    pub interval: Option<(f64, f64)>,
    /// The comparison rule called this run's value a regression against the baseline.
    pub regressed: bool,
}

/// Draws a [`Trend`].
pub fn trend(t: &Trend) -> Result<Chart, ReportError> {
    super::ensure_fonts()?;
    let svg = draw(t).map_err(|message| ReportError::Chart {
        chart: "history",
        message,
    })?;
    let mut series = vec!["runs".to_string()];
    if t.band.is_some() {
        series.push("baseline band".to_string());
    }
    if t.points.iter().any(|p| p.regressed) {
        series.push("regression".to_string());
    }
    Ok(Chart {
        file: t.file.clone(),
        title: t.title.clone(),
        caption: t.caption.clone(),
        series,
        svg,
    })
}

fn draw(t: &Trend) -> Result<String, String> {
    let n = t.points.len().max(1);
    let xy: Vec<(f64, f64)> = t
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| ((i + 1) as f64, p.value))
        .collect();
    let top = nice_max(
        t.points
            .iter()
            .flat_map(|p| [Some(p.value), p.interval.map(|i| i.1)])
            .flatten()
            .chain(t.band.map(|b| b.1))
            .fold(0.0, f64::max),
    );
    let x_label = |x: &f64| run_label(&t.points, *x);
    let y_label = |v: &f64| crate::fmt::sig3(*v);
    frame::svg(|root| {
        let mut chart = Frame {
            x_desc: Some("run, oldest first (commit)"),
            x_label: &x_label,
            y_label: &y_label,
            x_labels: Some(n.min(MAX_LABELS)),
            ..Frame::chart(&t.title, t.y_desc.clone())
        }
        .draw(root, (0.5, n as f64 + 0.5), 0.0..top)?;
        if let Some((lo, hi)) = t.band {
            let (lo, hi) = (lo.clamp(0.0, top), hi.clamp(0.0, top));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.5, lo), (n as f64 + 0.5, hi)],
                    BAND_SHADE.filled(),
                )))
                .plot()?
                .label("baseline band")
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 24, y + 5)], BAND_SHADE.filled())
                });
        }
        error_bars(&mut chart, t, &xy)?;
        line(&mut chart, "runs", &xy, L_RUNS)?;
        let bad: Vec<(f64, f64)> = t
            .points
            .iter()
            .zip(&xy)
            .filter(|(p, _)| p.regressed)
            .map(|(_, xy)| *xy)
            .collect();
        if !bad.is_empty() {
            markers(&mut chart, &bad, L_REGRESSED, Fill::Hollow)?;
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .plot()?
                .label("regression")
                .legend(|(x, y)| Circle::new((x + 12, y), 4, L_REGRESSED.color.stroke_width(2)));
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    })
}

/// Each run's sampling interval: a vertical line with a short cap at either end.
fn error_bars<'a, DB: DrawingBackend + 'a>(
    chart: &mut Plane<'a, DB, RangedCoordf64>,
    t: &Trend,
    xy: &[(f64, f64)],
) -> Result<(), String> {
    let style = L_RUNS.color.stroke_width(1);
    for (p, (x, _)) in t.points.iter().zip(xy) {
        let Some((lo, hi)) = p.interval else {
            continue;
        };
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(*x, lo), (*x, hi)],
                style,
            )))
            .plot()?;
        let cap =
            |y: f64| EmptyElement::at((*x, y)) + PathElement::new(vec![(-4, 0), (4, 0)], style);
        chart.draw_series([cap(lo), cap(hi)]).plot()?;
    }
    Ok(())
}

/// The label of the run at `x` (1-based), or nothing between runs.
fn run_label(points: &[TrendPoint], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-6 || i < 1.0 {
        return String::new();
    }
    points
        .get(i as usize - 1)
        .map(|p| p.label.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(label: &str, value: f64, regressed: bool) -> TrendPoint {
        TrendPoint {
            label: label.to_string(),
            value,
            interval: Some((value * 0.9, value * 1.1)),
            regressed,
        }
    }

    #[test]
    fn a_trend_draws_its_runs_band_and_regressions() {
        let t = Trend {
            file: "history-p99.svg".to_string(),
            title: "p99 latency".to_string(),
            y_desc: "p99 latency (µs)".to_string(),
            caption: "c".to_string(),
            points: vec![
                point("abc1234", 100.0, false),
                point("def5678", 104.0, false),
                point("0badc0d", 190.0, true),
            ],
            band: Some((60.0, 160.0)),
        };
        let c = trend(&t).unwrap();
        assert_eq!(c.series, ["runs", "baseline band", "regression"]);
        for label in ["abc1234", "def5678", "0badc0d", "p99 latency (µs)"] {
            assert!(c.svg.contains(label), "{label} missing");
        }
        let ring = super::super::style::hex(L_REGRESSED.color);
        assert!(c.svg.contains(&ring), "the regression is ringed");
        let band = super::super::style::hex(BAND_SHADE);
        assert!(c.svg.contains(&band), "the band is shaded");
        let quiet = Trend {
            points: vec![point("abc1234", 100.0, false)],
            band: None,
            ..t
        };
        let c = trend(&quiet).unwrap();
        assert_eq!(c.series, ["runs"]);
        assert!(!c.svg.contains(&ring));
    }

    #[test]
    fn labels_only_on_whole_runs() {
        let pts = [point("a", 1.0, false), point("b", 1.0, false)];
        assert_eq!(run_label(&pts, 1.0), "a");
        assert_eq!(run_label(&pts, 2.0), "b");
        assert_eq!(run_label(&pts, 1.5), "");
        assert_eq!(run_label(&pts, 3.0), "");
        assert_eq!(run_label(&pts, 0.0), "");
    }
}
