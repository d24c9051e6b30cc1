//! What every chart shares: the SVG document it is drawn into, the plotting frame with its
//! axes and grid, the time axis range and the stage marks.
//!
//! Each chart module only decides its data, ranges and series; the look of axes, grid, labels
//! and captions is set here once, so the charts cannot drift apart.

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use results::RunResult;

use super::series::{line, Plane};
use super::style::{finish_svg, font, GRID, LATE_SHADE, SHADE, STAGE_LINE};
use super::{HEIGHT, WIDTH};
use crate::{doc, fmt};

/// Map any plotters error into a string (its error types are generic over the backend).
pub(super) trait Plot<T> {
    fn plot(self) -> Result<T, String>;
}
impl<T, E: std::fmt::Debug> Plot<T> for Result<T, E> {
    fn plot(self) -> Result<T, String> {
        self.map_err(|e| format!("{e:?}"))
    }
}

/// The x axis of every chart over time.
pub(super) const TIME_AXIS: &str = "time since start (s)";

/// Draw one chart into an SVG string: a white canvas of the chart size, `draw` on it, then
/// the dashed series turned into SVG dashes.
pub(super) fn svg(
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).plot()?;
        draw(&root)?;
        root.present().plot()?;
    }
    Ok(finish_svg(svg))
}

/// Axis labels with 3 significant digits.
pub(super) fn sig3_label(v: &f64) -> String {
    fmt::sig3(*v)
}

/// Axis labels with k/M/G suffixes.
pub(super) fn si_label(v: &f64) -> String {
    fmt::si(*v)
}

/// The plotting frame of a chart, or of one panel of a chart: margins, axes, grid, labels.
pub(super) struct Frame<'f> {
    /// The chart's title above it; a panel has none (its chart's title is over all panels).
    pub(super) title: Option<&'f str>,
    /// The x axis description; only the lowest panel of a chart has one.
    pub(super) x_desc: Option<&'f str>,
    pub(super) y_desc: String,
    pub(super) x_label: &'f dyn Fn(&f64) -> String,
    pub(super) y_label: &'f dyn Fn(&f64) -> String,
    /// How many labels an axis gets; None leaves plotters' default.
    pub(super) x_labels: Option<usize>,
    pub(super) y_labels: Option<usize>,
    /// Room on the right beyond the usual margin (for a last x label that would be cut).
    pub(super) margin_right: Option<u32>,
}

impl<'f> Frame<'f> {
    /// A whole chart over time, titled.
    pub(super) fn chart(title: &'f str, y_desc: impl Into<String>) -> Frame<'f> {
        Frame::over_time(Some(title), Some(TIME_AXIS), y_desc.into())
    }

    /// One of several panels over time stacked under one title; the lowest names the axis.
    pub(super) fn panel(y_desc: impl Into<String>, lowest: bool) -> Frame<'f> {
        Frame::over_time(None, lowest.then_some(TIME_AXIS), y_desc.into())
    }

    fn over_time(title: Option<&'f str>, x_desc: Option<&'f str>, y_desc: String) -> Frame<'f> {
        Frame {
            title,
            x_desc,
            y_desc,
            x_label: &sig3_label,
            y_label: &sig3_label,
            x_labels: None,
            y_labels: None,
            margin_right: None,
        }
    }

    /// Build the frame on `area` over `x` and `y`, and draw its axes and grid.
    pub(super) fn draw<'a, DB, Y>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
        (x0, x1): (f64, f64),
        y: Y,
    ) -> Result<Plane<'a, DB, Y::CoordDescType>, String>
    where
        DB: DrawingBackend + 'a,
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let mut builder = ChartBuilder::on(area);
        match self.title {
            Some(title) => builder
                .caption(title, font(22))
                .margin(12)
                .x_label_area_size(44),
            None => builder
                .margin(8)
                .x_label_area_size(if self.x_desc.is_some() { 40 } else { 24 }),
        };
        if let Some(m) = self.margin_right {
            builder.margin_right(m);
        }
        let mut chart = builder
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, y)
            .plot()?;
        self.mesh(&mut chart)?;
        Ok(chart)
    }

    fn mesh<'a, DB, Y>(&self, chart: &mut Plane<'a, DB, Y>) -> Result<(), String>
    where
        DB: DrawingBackend + 'a,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        // Panels share one chart's height between them: their text is a size smaller.
        let (label, desc) = if self.title.is_some() {
            (14, 15)
        } else {
            (13, 14)
        };
        let mut mesh = chart.configure_mesh();
        if let Some(d) = self.x_desc {
            mesh.x_desc(d);
        }
        mesh.y_desc(self.y_desc.as_str())
            .x_label_formatter(self.x_label)
            .y_label_formatter(self.y_label)
            .max_light_lines(0)
            .bold_line_style(GRID)
            .label_style(font(label))
            .axis_desc_style(font(desc));
        if let Some(n) = self.x_labels {
            mesh.x_labels(n);
        }
        if let Some(n) = self.y_labels {
            mesh.y_labels(n);
        }
        mesh.draw().plot()
    }
}

/// The time axis: from 0 to the end of the last interval or stage.
pub(super) fn x_range(r: &RunResult) -> (f64, f64) {
    let end = r
        .intervals
        .iter()
        .map(|i| i.t_s)
        .fold(0.0, f64::max)
        .max(r.stages.iter().map(|s| s.end_s).fold(0.0, f64::max));
    (0.0, if end > 0.0 { end } else { 1.0 })
}

/// A per-interval chart's caption, with the sentence saying which intervals were too short
/// to draw (`doc::full_intervals` left them out) when there are any.
pub(super) fn caption(r: &RunResult, text: String) -> String {
    match doc::short_intervals_note(r) {
        Some(note) => format!("{text} {note}"),
        None => text,
    }
}

/// The top of a linear y axis: headroom above the data, so the legend stays off the lines.
pub(super) fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        1.0
    } else {
        v * 1.15
    }
}

/// Shade warm-up stages and the intervals where the load generator was late, and mark stage
/// boundaries with their names.
pub(super) fn stage_marks<'a, DB, Y>(
    chart: &mut Plane<'a, DB, Y>,
    r: &RunResult,
    y_lo: f64,
    y_hi: f64,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    let late = late_intervals(r);
    chart
        .draw_series(
            late.iter()
                .map(|&(a, b)| Rectangle::new([(a, y_lo), (b, y_hi)], LATE_SHADE.filled())),
        )
        .plot()?;
    let bounds = stage_bounds(r);
    let labels: Vec<String> = bounds
        .iter()
        .map(|(name, _, _, warmup)| {
            if *warmup && !name.to_lowercase().contains("warm") {
                format!("{name} (warm-up)")
            } else {
                name.clone()
            }
        })
        .collect();
    let spans: Vec<(i32, i32)> = bounds
        .iter()
        .zip(&labels)
        .map(|((_, start, _, _), l)| (chart.backend_coord(&(*start, y_hi)).0, label_px(l)))
        .collect();
    let rows = label_rows(&spans, LABEL_ROWS);
    for (((_, start, end, warmup), label), row) in bounds.iter().zip(labels).zip(rows) {
        if *warmup {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(*start, y_lo), (*end, y_hi)],
                    SHADE.filled(),
                )))
                .plot()?;
        }
        if *start > 0.0 {
            line(chart, "", &[(*start, y_lo), (*start, y_hi)], STAGE_LINE)?;
        }
        let Some(row) = row else { continue };
        let y = 4 + 16 * row as i32;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((*start, y_hi))
                    + Text::new(label, (4, y), font(13).color(&RGBColor(100, 100, 100))),
            ))
            .plot()?;
    }
    Ok(())
}

/// Rows of stage names under a chart's top edge.
const LABEL_ROWS: usize = 3;

/// A stage name's width in pixels at the 13 px label font: about 7 px a character (the
/// widest of the sans fonts the SVG may be shown in), plus the 4 px offset and a gap.
fn label_px(label: &str) -> i32 {
    label.chars().count() as i32 * 7 + 10
}

/// The row each stage name goes in, given each name's (start, width) in pixels: the first
/// row in which the previous name has ended, so a short stage's name drops below its
/// neighbour's instead of printing over it ("warmup" and "sustain-1" did on a 30-minute
/// run). None when every row is taken: that name is left off the chart (the stage table of
/// every report still has it).
fn label_rows(spans: &[(i32, i32)], rows: usize) -> Vec<Option<usize>> {
    let mut ends = vec![i32::MIN; rows];
    spans
        .iter()
        .map(|&(start, width)| {
            let row = ends.iter().position(|&end| end <= start)?;
            ends[row] = start + width;
            Some(row)
        })
        .collect()
}

/// (start, end) of each interval in which the generator sent too many operations late.
pub(super) fn late_intervals(r: &RunResult) -> Vec<(f64, f64)> {
    let Some(d) = &r.summary.dispatch else {
        return Vec::new();
    };
    r.intervals
        .iter()
        .filter(|i| i.dispatch.as_ref().is_some_and(|x| d.interval_is_late(x)))
        .map(|i| (i.t_s - i.dur_s, i.t_s))
        .collect()
}

/// (name, start, end, warm-up) of each stage as run, falling back to the plan.
fn stage_bounds(r: &RunResult) -> Vec<(String, f64, f64, bool)> {
    if !r.stages.is_empty() {
        return r
            .stages
            .iter()
            .map(|s| (s.name.clone(), s.start_s, s.end_s, s.warmup))
            .collect();
    }
    let mut t = 0.0;
    r.scenario
        .stages_planned
        .iter()
        .map(|p| {
            let s = (p.name.clone(), t, t + p.duration_s, p.warmup);
            t += p.duration_s;
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_stage_names_drop_to_the_next_row() {
        // A 30 s warm-up before 30 minutes: 13 px of the 804 px plotting width.
        let spans = [(0, 80), (13, 70), (100, 70), (200, 70)];
        assert_eq!(
            label_rows(&spans, 3),
            vec![Some(0), Some(1), Some(0), Some(0)]
        );
        // Four names at one spot: the fourth has no row left.
        let crowded = [(0, 50), (1, 50), (2, 50), (3, 50)];
        assert_eq!(
            label_rows(&crowded, 3),
            vec![Some(0), Some(1), Some(2), None]
        );
    }
}
