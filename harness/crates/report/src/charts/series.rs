//! Drawing series: a line with its markers and a legend entry that shows both, and the legend
//! box itself.

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
    if points.is_empty() {
        return Ok(());
    }
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
    markers(chart, points, l)
}

/// Markers on at most ~40 points, so long runs stay readable.
fn markers<'a, DB, Y>(
    chart: &mut Plane<'a, DB, Y>,
    points: &[(f64, f64)],
    l: Look,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    let step = points.len().div_ceil(40).max(1);
    let marked: Vec<(f64, f64)> = points.iter().copied().step_by(step).collect();
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
