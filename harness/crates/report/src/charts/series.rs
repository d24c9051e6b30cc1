//! Drawing series: a line with its markers and a legend entry that shows both, a line broken
//! where the series has no value (so a gap is not drawn as a ramp), markers alone (filled or
//! hollow, for points judged apart from their line), and the legend box itself.

use plotters::coord::types::RangedCoordf64;
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters_backend::{BackendCoord, DrawingErrorKind};

use super::frame::Plot;
use super::style::{font, tag, Look, Marker, DASHED};

/// A chart's plotting area: time (or another f64) across, `Y` up.
pub(super) type Plane<'a, DB, Y> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>;

/// Draw a line series with its markers and a legend entry that shows both. An empty `name`
/// continues a named series (a broken line) without a second legend entry.
pub(super) fn line<'a, DB, Y>(
    chart: &mut Plane<'a, DB, Y>,
    name: &str,
    points: &[(f64, f64)],
    l: Look,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    draw_runs(chart, name, &[points], l)
}

/// Draw a series with gaps: one polyline per run of points (see [`runs`]), one legend entry,
/// and markers spaced over all the points as on an unbroken line.
pub(super) fn broken_line<'a, DB, Y>(
    chart: &mut Plane<'a, DB, Y>,
    name: &str,
    runs: &[Vec<(f64, f64)>],
    l: Look,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    let runs: Vec<&[(f64, f64)]> = runs.iter().map(Vec::as_slice).collect();
    draw_runs(chart, name, &runs, l)
}

/// A series' points split where an item has no value (`point` gives None): a line through
/// the runs breaks there instead of joining the points either side, which would draw a stall
/// or a missing sample as a ramp. No run is empty.
pub(super) fn runs<T>(
    items: impl IntoIterator<Item = T>,
    point: impl Fn(T) -> Option<(f64, f64)>,
) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut open = false;
    for item in items {
        match point(item) {
            Some(p) if open => out.last_mut().expect("an open run exists").push(p),
            Some(p) => {
                out.push(vec![p]);
                open = true;
            }
            None => open = false,
        }
    }
    out
}

fn draw_runs<'a, DB, Y>(
    chart: &mut Plane<'a, DB, Y>,
    name: &str,
    runs: &[&[(f64, f64)]],
    l: Look,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    lines(chart, name, runs, l)?;
    markers(chart, &marked(runs), l, Fill::Solid)
}

/// The lines of a series without its markers: one polyline per run, one legend entry (which
/// shows the marker). For charts that mark each point by what it was (a capacity search's
/// good and bad probes) with [`markers`].
pub(super) fn lines<'a, DB, Y>(
    chart: &mut Plane<'a, DB, Y>,
    name: &str,
    runs: &[&[(f64, f64)]],
    l: Look,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    let mut named = name.is_empty();
    for run in runs.iter().filter(|r| !r.is_empty()) {
        polyline(chart, if named { "" } else { name }, run, l)?;
        named = true;
    }
    Ok(())
}

/// Whether a marker is filled, or drawn as an outline on white (a point that is not like
/// the others: a bad probe).
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Fill {
    Solid,
    Hollow,
}

/// One polyline, with a legend entry unless `name` is empty.
fn polyline<'a, DB, Y>(
    chart: &mut Plane<'a, DB, Y>,
    name: &str,
    points: &[(f64, f64)],
    l: Look,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    // Dashed series are drawn as one solid polyline in a tag colour; `finish_svg` turns the
    // tag into the real colour plus an SVG dash array. plotters' own DashedLineSeries emits
    // one element per dash, which made a 30-minute run's chart 2 MB and its dashes vanish
    // on noisy data.
    let stroke = match l.dash {
        None => l.color,
        Some(_) => {
            debug_assert!(
                DASHED
                    .iter()
                    .any(|d| d.color == l.color && d.dash == l.dash),
                "dashed look missing from DASHED"
            );
            tag(l.color)
        }
    };
    let series = chart
        .draw_series(LineSeries::new(
            points.iter().copied(),
            stroke.stroke_width(l.width),
        ))
        .plot()?;
    if !name.is_empty() {
        series.label(name).legend(move |(x, y)| LegendGlyph {
            at: (x, y),
            look: l,
        });
    }
    Ok(())
}

/// The points that get a marker: at most ~40 over all runs, so long runs stay readable, and
/// every run of one point, which has no line to show it.
fn marked(runs: &[&[(f64, f64)]]) -> Vec<(f64, f64)> {
    let total: usize = runs.iter().map(|r| r.len()).sum();
    let step = total.div_ceil(40).max(1);
    let mut k = 0;
    let mut out = Vec::new();
    for run in runs {
        for p in *run {
            if k % step == 0 || run.len() == 1 {
                out.push(*p);
            }
            k += 1;
        }
    }
    out
}

/// A marker in the look's shape on each of `marked`, without a line (a scatter).
pub(super) fn markers<'a, DB, Y>(
    chart: &mut Plane<'a, DB, Y>,
    marked: &[(f64, f64)],
    l: Look,
    fill: Fill,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    if fill == Fill::Hollow {
        return hollow_markers(chart, marked, l);
    }
    match l.marker {
        Marker::None => {}
        Marker::Circle => {
            chart
                .draw_series(marked.iter().map(|p| Circle::new(*p, 3, l.color.filled())))
                .plot()?;
        }
        Marker::Triangle => {
            chart
                .draw_series(
                    marked
                        .iter()
                        .map(|p| TriangleMarker::new(*p, 4, l.color.filled())),
                )
                .plot()?;
        }
        Marker::Square => {
            chart
                .draw_series(marked.iter().map(|p| {
                    EmptyElement::at(*p) + Rectangle::new([(-3, -3), (3, 3)], l.color.filled())
                }))
                .plot()?;
        }
        Marker::Cross => {
            chart
                .draw_series(
                    marked
                        .iter()
                        .map(|p| Cross::new(*p, 4, l.color.stroke_width(2))),
                )
                .plot()?;
        }
    }
    Ok(())
}

/// Outlined markers: the shape filled white (so the line under it does not show through),
/// then its outline in the series' colour. A cross has no inside and is drawn as it is.
fn hollow_markers<'a, DB, Y>(
    chart: &mut Plane<'a, DB, Y>,
    marked: &[(f64, f64)],
    l: Look,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    let (inside, outline) = (WHITE.filled(), l.color.stroke_width(2));
    match l.marker {
        Marker::None => Ok(()),
        Marker::Cross => markers(chart, marked, l, Fill::Solid),
        Marker::Circle => chart
            .draw_series(marked.iter().map(|p| {
                EmptyElement::at(*p)
                    + Circle::new((0, 0), 4, inside)
                    + Circle::new((0, 0), 4, outline)
            }))
            .plot()
            .map(|_| ()),
        Marker::Triangle => {
            let corners = vec![(0, -5), (-5, 4), (5, 4), (0, -5)];
            chart
                .draw_series(marked.iter().map(|p| {
                    EmptyElement::at(*p)
                        + Polygon::new(corners.clone(), inside)
                        + PathElement::new(corners.clone(), outline)
                }))
                .plot()
                .map(|_| ())
        }
        Marker::Square => chart
            .draw_series(marked.iter().map(|p| {
                EmptyElement::at(*p)
                    + Rectangle::new([(-4, -4), (4, 4)], inside)
                    + Rectangle::new([(-4, -4), (4, 4)], outline)
            }))
            .plot()
            .map(|_| ()),
    }
}

/// The legend box, in a corner where the data usually is not.
pub(super) fn legend<'a, DB, Y>(
    chart: &mut Plane<'a, DB, Y>,
    pos: SeriesLabelPosition,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .label_font(font(14))
        .margin(8)
        .legend_area_size(30)
        .draw()
        .plot()
}

/// A legend entry: a short stretch of the line (dashed if the series is) with its marker.
struct LegendGlyph {
    at: (i32, i32),
    look: Look,
}

impl<'a> PointCollection<'a, (i32, i32)> for &'a LegendGlyph {
    type Point = &'a (i32, i32);
    type IntoIter = std::iter::Once<&'a (i32, i32)>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<DB: DrawingBackend> Drawable<DB> for LegendGlyph {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut pos: I,
        backend: &mut DB,
        _parent_dim: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = pos.next() else {
            return Ok(());
        };
        let l = self.look;
        let stroke = l.color.stroke_width(l.width);
        let segments: &[(i32, i32)] = match l.dash {
            None => &[(0, 24)],
            Some(_) => &[(0, 7), (10, 14), (17, 24)],
        };
        for (a, b) in segments {
            backend.draw_line((x + a, y), (x + b, y), &stroke)?;
        }
        let (cx, fill) = (x + 12, l.color.filled());
        match l.marker {
            Marker::None => {}
            Marker::Circle => backend.draw_circle((cx, y), 3, &fill, true)?,
            Marker::Triangle => {
                backend.fill_polygon(vec![(cx, y - 4), (cx - 4, y + 3), (cx + 4, y + 3)], &fill)?
            }
            Marker::Square => backend.draw_rect((cx - 3, y - 3), (cx + 3, y + 3), &fill, true)?,
            Marker::Cross => {
                let s = l.color.stroke_width(2);
                backend.draw_line((cx - 3, y - 3), (cx + 3, y + 3), &s)?;
                backend.draw_line((cx - 3, y + 3), (cx + 3, y - 3), &s)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
        runs(values.iter().enumerate(), |(k, v)| v.map(|v| (k as f64, v)))
    }

    #[test]
    fn runs_break_at_missing_values_and_are_never_empty() {
        let (a, b) = (Some(1.0), None);
        assert_eq!(
            split(&[a, a, b, b, a]),
            [vec![(0.0, 1.0), (1.0, 1.0)], vec![(4.0, 1.0)]]
        );
        assert_eq!(split(&[b, a, b]), [vec![(1.0, 1.0)]]);
        assert!(split(&[b, b]).is_empty());
        assert!(split(&[]).is_empty());
    }

    #[test]
    fn markers_are_spaced_over_all_runs_and_lone_points_keep_theirs() {
        let long: Vec<(f64, f64)> = (0..80).map(|k| (f64::from(k), 1.0)).collect();
        let lone = [(90.0, 1.0)];
        let m = marked(&[&long[..40], &lone, &long[40..]]);
        // 81 points: every third, plus the lone one (index 40, not a multiple of 3).
        assert_eq!(m.len(), 28);
        assert!(m.contains(&(90.0, 1.0)));
        assert_eq!(marked(&[&long]).len(), 40);
    }
}
