//! SVG charts of a run, drawn with plotters into strings.
//!
//! Every chart is a standalone SVG (written to `charts/*.svg`, inlined in the HTML, embedded as
//! vectors in the PDF). Text is measured with the bundled DejaVu font (plotters' `ab_glyph`
//! feature), never a system font: [`ensure_fonts`] registers it, without which plotters cannot
//! draw text at all. Series differ by dash pattern and marker as well as colour, so a grey
//! printout still tells them apart. Warm-up is shaded and stage boundaries are marked, because
//! most surprises in a load test sit at a stage change.

use std::sync::OnceLock;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters_backend::{BackendCoord, DrawingErrorKind};
use results::RunResult;

use crate::{doc, fmt, ReportError};

/// One rendered chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File name under `charts/`, e.g. "throughput.svg".
    pub file: &'static str,
    /// Short title (also drawn in the chart).
    pub title: String,
    /// One sentence saying how to read it.
    pub caption: String,
    /// Names of the series drawn (as in the legend).
    pub series: Vec<String>,
    /// The SVG document.
    pub svg: String,
}

/// Pixel size of every chart (the PDF scales it to the text width).
pub const WIDTH: u32 = 900;
pub const HEIGHT: u32 = 400;

/// Register DejaVu Sans as plotters' "sans-serif" (once per process).
pub fn ensure_fonts() -> Result<(), ReportError> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "DejaVu Sans (regular)".to_string())?;
        plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold())
            .map_err(|_| "DejaVu Sans (bold)".to_string())
    })
    .clone()
    .map_err(ReportError::Font)
}

// Okabe-Ito palette: distinguishable with the common colour-vision deficiencies.
const BLUE: RGBColor = RGBColor(0, 114, 178);
const ORANGE: RGBColor = RGBColor(230, 159, 0);
const VERMILLION: RGBColor = RGBColor(213, 94, 0);
const GREEN: RGBColor = RGBColor(0, 158, 115);
const PURPLE: RGBColor = RGBColor(204, 121, 167);
const DARK: RGBColor = RGBColor(60, 60, 60);
const GRID: RGBColor = RGBColor(225, 225, 225);
const SHADE: RGBColor = RGBColor(238, 238, 238);

#[derive(Clone, Copy)]
enum Marker {
    None,
    Circle,
    Triangle,
    Square,
    Cross,
}

#[derive(Clone, Copy)]
struct Look {
    color: RGBColor,
    width: u32,
    /// (dash, gap) in pixels; None = solid.
    dash: Option<(i32, i32)>,
    marker: Marker,
}

const fn look(color: RGBColor, width: u32, dash: Option<(i32, i32)>, marker: Marker) -> Look {
    Look {
        color,
        width,
        dash,
        marker,
    }
}

/// A latency series: name, field of the percentiles, look.
type Pick = (&'static str, fn(&results::Percentiles) -> f64, Look);
/// A series ready to draw: name, points, look.
type Series = (String, Vec<(f64, f64)>, Look);

const L_THROUGHPUT: Look = look(BLUE, 2, None, Marker::Circle);
const L_TARGET: Look = look(VERMILLION, 2, Some((10, 6)), Marker::None);
const L_P50: Look = look(BLUE, 2, None, Marker::Circle);
const L_P99: Look = look(ORANGE, 2, Some((9, 5)), Marker::Triangle);
const L_P999: Look = look(GREEN, 2, Some((3, 4)), Marker::Square);
const L_MAX: Look = look(DARK, 1, None, Marker::Cross);
const L_TARGET_CPU: Look = look(BLUE, 2, None, Marker::Circle);
const L_HARNESS_CPU: Look = look(ORANGE, 2, Some((9, 5)), Marker::Triangle);
const L_TARGET_RSS: Look = look(GREEN, 2, None, Marker::Square);
const L_HARNESS_RSS: Look = look(PURPLE, 2, Some((3, 4)), Marker::Cross);
const L_PLANNED: Look = look(DARK, 2, Some((8, 5)), Marker::None);
const L_ACHIEVED: Look = look(BLUE, 2, None, Marker::Circle);
const L_BACKLOG: Look = look(PURPLE, 1, Some((3, 4)), Marker::Cross);
const STAGE_LINE: Look = look(RGBColor(150, 150, 150), 1, Some((4, 4)), Marker::None);

/// Every dashed look; one dash pattern per colour, since the colour carries the pattern
/// through the SVG (see `finish_svg`).
const DASHED: [Look; 8] = [
    L_TARGET,
    L_P99,
    L_P999,
    L_HARNESS_CPU,
    L_HARNESS_RSS,
    L_PLANNED,
    L_BACKLOG,
    STAGE_LINE,
];

/// The stand-in colour a dashed series is drawn with until `finish_svg`.
fn tag(c: RGBColor) -> RGBColor {
    RGBColor(c.0, c.1, c.2 ^ 1)
}

fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// Replace tag colours with the real colour and an SVG dash array.
fn finish_svg(svg: String) -> String {
    let mut out = svg;
    for l in DASHED {
        if let Some((d, g)) = l.dash {
            out = out.replace(
                &format!("stroke=\"{}\"", hex(tag(l.color))),
                &format!("stroke=\"{}\" stroke-dasharray=\"{d} {g}\"", hex(l.color)),
            );
        }
    }
    out
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Ctx<'a, Y> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, Y>>;

fn chart_err(chart: &'static str) -> impl Fn(String) -> ReportError {
    move |message| ReportError::Chart { chart, message }
}

/// Map any plotters error into a string (its error types are generic over the backend).
trait Plot<T> {
    fn plot(self) -> Result<T, String>;
}
impl<T, E: std::fmt::Debug> Plot<T> for Result<T, E> {
    fn plot(self) -> Result<T, String> {
        self.map_err(|e| format!("{e:?}"))
    }
}

fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&DARK)
}

/// Draw a line series with its markers and a legend entry that shows both.
fn line<'a, Y>(
    chart: &mut Ctx<'a, Y>,
    name: &str,
    points: &[(f64, f64)],
    l: Look,
) -> Result<(), String>
where
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
    // An unnamed series continues a named one (a broken line): one legend entry only.
    if !name.is_empty() {
        series.label(name).legend(move |(x, y)| LegendGlyph {
            at: (x, y),
            look: l,
        });
    }
    // Markers on at most ~40 points, so long runs stay readable.
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

/// Shade warm-up stages and mark stage boundaries with their names.
fn stage_marks<'a, Y>(
    chart: &mut Ctx<'a, Y>,
    r: &RunResult,
    y_lo: f64,
    y_hi: f64,
) -> Result<(), String>
where
    Y: Ranged<ValueType = f64>,
{
    let bounds = stage_bounds(r);
    for (name, start, end, warmup) in &bounds {
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
        let label = if *warmup && !name.to_lowercase().contains("warm") {
            format!("{name} (warm-up)")
        } else {
            name.clone()
        };
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((*start, y_hi))
                    + Text::new(label, (4, 4), font(13).color(&RGBColor(100, 100, 100))),
            ))
            .plot()?;
    }
    Ok(())
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

fn x_range(r: &RunResult) -> (f64, f64) {
    let end = r
        .intervals
        .iter()
        .map(|i| i.t_s)
        .fold(0.0, f64::max)
        .max(r.stages.iter().map(|s| s.end_s).fold(0.0, f64::max));
    (0.0, if end > 0.0 { end } else { 1.0 })
}

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        1.0
    } else {
        v * 1.15
    }
}

fn legend<'a, Y>(chart: &mut Ctx<'a, Y>, pos: SeriesLabelPosition) -> Result<(), String>
where
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

fn new_root(svg: &mut String) -> Result<Area<'_>, String> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).plot()?;
    Ok(root)
}

/// Render every chart the result has data for, in report order.
pub fn render_charts(r: &RunResult) -> Result<Vec<Chart>, ReportError> {
    ensure_fonts()?;
    let mut out = Vec::new();
    if !r.intervals.is_empty() {
        out.push(throughput(r).map_err(chart_err("throughput"))?);
        out.push(latency_over_time(r).map_err(chart_err("latency"))?);
    }
    if r.percentiles.iter().any(|p| p.percentile < 100.0) {
        out.push(distribution(r).map_err(chart_err("distribution"))?);
    }
    if r.intervals.iter().any(|i| {
        i.target_cpu_pct.is_some()
            || i.harness_cpu_pct.is_some()
            || i.target_rss_bytes.is_some()
            || i.harness_rss_bytes.is_some()
    }) {
        out.push(resources(r).map_err(chart_err("resources"))?);
    }
    if !r.intervals.is_empty() {
        out.push(load(r).map_err(chart_err("load"))?);
    }
    Ok(out)
}

fn throughput(r: &RunResult) -> Result<Chart, String> {
    let (unit, committed) = doc::throughput_basis(r);
    let pts: Vec<(f64, f64)> = r
        .intervals
        .iter()
        .map(|i| {
            (
                i.t_s,
                if committed {
                    i.committed_tps
                } else {
                    i.ops_per_s
                },
            )
        })
        .collect();
    let target = r.scenario.target_tps.filter(|_| committed);
    let y_max = nice_max(
        pts.iter()
            .map(|p| p.1)
            .fold(target.unwrap_or(0.0), f64::max),
    );
    let (x0, x1) = x_range(r);
    let series_name = if committed {
        "committed tx/s".to_string()
    } else {
        "operations/s".to_string()
    };
    let title = "Throughput per interval".to_string();
    let mut series = vec![series_name.clone()];
    let mut svg = String::new();
    {
        let root = new_root(&mut svg)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&title, font(22))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, 0.0..y_max)
            .plot()?;
        chart
            .configure_mesh()
            .x_desc("time since start (s)")
            .x_label_formatter(&|v| fmt::sig3(*v))
            .y_desc(format!("throughput ({unit})"))
            .y_label_formatter(&|v| fmt::si(*v))
            .max_light_lines(0)
            .bold_line_style(GRID)
            .label_style(font(14))
            .axis_desc_style(font(15))
            .draw()
            .plot()?;
        stage_marks(&mut chart, r, 0.0, y_max)?;
        line(&mut chart, &series_name, &pts, L_THROUGHPUT)?;
        if let Some(t) = target {
            let name = format!("target {}", fmt::rate(t, "tx/s"));
            line(&mut chart, &name, &[(x0, t), (x1, t)], L_TARGET)?;
            series.push(name);
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        root.present().plot()?;
    }
    Ok(Chart {
        file: "throughput.svg",
        title,
        caption: format!(
            "{} in each interval; the dashed line is the target. Shaded: warm-up (not judged).",
            if committed {
                "Committed transactions per second"
            } else {
                "Operations per second"
            }
        ),
        series,
        svg: finish_svg(svg),
    })
}

/// Unit for a latency axis: ms when the values reach a millisecond.
fn latency_unit(max_us: f64) -> (&'static str, f64) {
    if max_us >= 1_000.0 {
        ("ms", 1_000.0)
    } else {
        ("µs", 1.0)
    }
}

fn latency_over_time(r: &RunResult) -> Result<Chart, String> {
    let max_us = r
        .intervals
        .iter()
        .map(|i| i.latency_us.max)
        .fold(0.0, f64::max);
    let (unit, div) = latency_unit(max_us);
    let pick: [Pick; 4] = [
        ("p50", |p| p.p50, L_P50),
        ("p99", |p| p.p99, L_P99),
        ("p99.9", |p| p.p999, L_P999),
        ("max", |p| p.max, L_MAX),
    ];
    // Log axis: zero (empty interval) cannot be drawn, so such points are left out.
    let series: Vec<Series> = pick
        .iter()
        .map(|(name, f, l)| {
            let pts = r
                .intervals
                .iter()
                .filter(|i| i.latency_us.count > 0 && f(&i.latency_us) > 0.0)
                .map(|i| (i.t_s, f(&i.latency_us) / div))
                .collect();
            (name.to_string(), pts, *l)
        })
        .collect();
    let all = series.iter().flat_map(|s| s.1.iter().map(|p| p.1));
    let (lo, hi) = all.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() && hi > 0.0 {
        // Headroom above the data (a quarter of the log range) keeps the legend off the lines.
        let lo = lo / 1.3;
        let span = (hi * 1.1 / lo).log10();
        (lo, lo * 10f64.powf(span / 0.75))
    } else {
        (0.1, 10.0)
    };
    let (x0, x1) = x_range(r);
    let title = "Latency percentiles per interval".to_string();
    let mut svg = String::new();
    {
        let root = new_root(&mut svg)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&title, font(22))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(
                x0..x1,
                (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
            )
            .plot()?;
        chart
            .configure_mesh()
            .x_desc("time since start (s)")
            .x_label_formatter(&|v| fmt::sig3(*v))
            .y_desc(format!("latency ({unit}, log scale)"))
            .y_label_formatter(&|v| fmt::sig3(*v))
            .max_light_lines(0)
            .bold_line_style(GRID)
            .label_style(font(14))
            .axis_desc_style(font(15))
            .draw()
            .plot()?;
        stage_marks(&mut chart, r, lo, hi)?;
        for (name, pts, l) in &series {
            line(&mut chart, name, pts, *l)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().plot()?;
    }
    Ok(Chart {
        file: "latency.svg",
        title,
        caption: format!(
            "Latency in each interval (log scale); basis: {}.",
            r.driver.latency_basis
        ),
        series: series.into_iter().map(|s| s.0).collect(),
        svg: finish_svg(svg),
    })
}

/// Tick values for a log axis: 1-2-5 in each decade, or only powers of ten when that would
/// crowd the axis (plotters' own log ticks can leave a whole decade unlabelled).
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
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

fn distribution(r: &RunResult) -> Result<Chart, String> {
    let pts_us: Vec<(f64, f64)> = r
        .percentiles
        .iter()
        .filter(|p| p.percentile < 100.0)
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
    let y_max = nice_max(shown_max / div);
    let name = "steady state".to_string();
    let title = "Latency by percentile".to_string();
    let mut svg = String::new();
    {
        let root = new_root(&mut svg)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&title, font(22))
            .margin(12)
            .margin_right(36)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .plot()?;
        let label = |x: &f64| -> String {
            let k = x.round();
            if (x - k).abs() > 1e-6 {
                return String::new();
            }
            match k as i32 {
                0 => "0 %".into(),
                1 => "90 %".into(),
                n => format!("99.{} %", "9".repeat((n - 2) as usize)).replace("99. %", "99 %"),
            }
        };
        chart
            .configure_mesh()
            .x_desc("percentile (log scale of 1/(1-p))")
            .y_desc(format!("latency ({unit})"))
            .x_labels(x_max as usize + 1)
            .x_label_formatter(&label)
            .y_label_formatter(&|v| fmt::sig3(*v))
            .max_light_lines(0)
            .bold_line_style(GRID)
            .label_style(font(14))
            .axis_desc_style(font(15))
            .draw()
            .plot()?;
        line(&mut chart, &name, &pts, L_P50)?;
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        root.present().plot()?;
    }
    Ok(Chart {
        file: "distribution.svg",
        title,
        caption: format!(
            "Steady-state latency at each percentile (HdrHistogram style). Maximum: {}.",
            fmt::latency_us(max_us)
        ),
        series: vec![name],
        svg: finish_svg(svg),
    })
}

fn resources(r: &RunResult) -> Result<Chart, String> {
    let same = r.resources.same_process;
    let get = |f: fn(&results::IntervalRecord) -> Option<f64>| -> Vec<(f64, f64)> {
        r.intervals
            .iter()
            .filter_map(|i| f(i).map(|v| (i.t_s, v)))
            .collect()
    };
    let mib = 1024.0 * 1024.0;
    let cpu_t = get(|i| i.target_cpu_pct);
    let cpu_h = if same {
        vec![]
    } else {
        get(|i| i.harness_cpu_pct)
    };
    let rss_t = get(|i| i.target_rss_bytes.map(|b| b as f64 / (1024.0 * 1024.0)));
    let rss_h = if same {
        vec![]
    } else {
        get(|i| i.harness_rss_bytes.map(|b| b as f64 / (1024.0 * 1024.0)))
    };
    let _ = mib;
    let (tname_cpu, tname_rss) = if same {
        ("CPU (target = harness)", "RSS (target = harness)")
    } else {
        ("target CPU", "target RSS")
    };
    let cpu_max = cpu_t
        .iter()
        .chain(&cpu_h)
        .map(|p| p.1)
        .fold(100.0, f64::max)
        * 1.05;
    let rss_max = nice_max(rss_t.iter().chain(&rss_h).map(|p| p.1).fold(0.0, f64::max));
    let (x0, x1) = x_range(r);
    let title = "CPU and memory".to_string();
    let mut series = Vec::new();
    let mut svg = String::new();
    {
        let root = new_root(&mut svg)?;
        let root = root.titled(&title, font(22)).plot()?;
        let (top, bottom) = root.split_vertically(HEIGHT as i32 / 2 - 14);
        let (t_look, h_look) = (L_TARGET_CPU, L_HARNESS_CPU);
        {
            let mut chart = ChartBuilder::on(&top)
                .margin(8)
                .x_label_area_size(24)
                .y_label_area_size(72)
                .build_cartesian_2d(x0..x1, 0.0..cpu_max)
                .plot()?;
            chart
                .configure_mesh()
                .y_desc("CPU (%)")
                .y_label_formatter(&|v| fmt::sig3(*v))
                .x_label_formatter(&|v| fmt::sig3(*v))
                .max_light_lines(0)
                .bold_line_style(GRID)
                .label_style(font(13))
                .axis_desc_style(font(14))
                .y_labels(5)
                .draw()
                .plot()?;
            stage_marks(&mut chart, r, 0.0, cpu_max)?;
            if !cpu_t.is_empty() {
                line(&mut chart, tname_cpu, &cpu_t, t_look)?;
                series.push(tname_cpu.to_string());
            }
            if !cpu_h.is_empty() {
                line(&mut chart, "harness CPU", &cpu_h, h_look)?;
                series.push("harness CPU".to_string());
            }
            legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        {
            let mut chart = ChartBuilder::on(&bottom)
                .margin(8)
                .x_label_area_size(40)
                .y_label_area_size(72)
                .build_cartesian_2d(x0..x1, 0.0..rss_max)
                .plot()?;
            chart
                .configure_mesh()
                .x_desc("time since start (s)")
                .x_label_formatter(&|v| fmt::sig3(*v))
                .y_desc("RSS (MiB)")
                .y_label_formatter(&|v| fmt::sig3(*v))
                .max_light_lines(0)
                .bold_line_style(GRID)
                .label_style(font(13))
                .axis_desc_style(font(14))
                .y_labels(5)
                .draw()
                .plot()?;
            let (r_t, r_h) = (L_TARGET_RSS, L_HARNESS_RSS);
            if !rss_t.is_empty() {
                line(&mut chart, tname_rss, &rss_t, r_t)?;
                series.push(tname_rss.to_string());
            }
            if !rss_h.is_empty() {
                line(&mut chart, "harness RSS", &rss_h, r_h)?;
                series.push("harness RSS".to_string());
            }
            legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        root.present().plot()?;
    }
    Ok(Chart {
        file: "resources.svg",
        title,
        caption: format!(
            "CPU per interval, in {}; resident memory (RSS) below.",
            r.resources.cpu_pct_basis
        ),
        series,
        svg: finish_svg(svg),
    })
}

/// Unit of the load an interval asked for: its stage's plan unit.
fn interval_unit<'r>(r: &'r RunResult, i: &results::IntervalRecord) -> &'r str {
    r.scenario
        .stages_planned
        .get(i.stage)
        .map_or("load", |p| p.unit.as_str())
}

fn load(r: &RunResult) -> Result<Chart, String> {
    // Stages may count load in different units (workers, then ops/s): one panel per unit,
    // sharing the time axis, so neither flattens the other.
    let mut units: Vec<&str> = Vec::new();
    for i in &r.intervals {
        let u = interval_unit(r, i);
        if !units.contains(&u) {
            units.push(u);
        }
    }
    let has_backlog = r.intervals.iter().any(|i| i.backlog > 0);
    let (x0, x1) = x_range(r);
    let title = "Planned and achieved load".to_string();
    let mut series = vec!["planned".to_string(), "achieved".to_string()];
    if has_backlog && units.iter().any(|u| *u != "workers") {
        series.push(BACKLOG.to_string());
    }
    let mut svg = String::new();
    {
        let root = new_root(&mut svg)?;
        let root = root.titled(&title, font(22)).plot()?;
        let panels = root.split_evenly((units.len().max(1), 1));
        // The backlog (operations due but not started) belongs with the first rate panel.
        let backlog_panel = units.iter().position(|u| *u != "workers");
        for (n, (unit, area)) in units.iter().zip(&panels).enumerate() {
            let last = n + 1 == units.len();
            let backlog_here = has_backlog && backlog_panel == Some(n);
            load_panel(r, area, unit, (x0, x1), last, backlog_here)?;
        }
        root.present().plot()?;
    }
    Ok(Chart {
        file: "load.svg",
        title,
        caption: format!(
            "Load asked for (dashed) and achieved (solid) per interval, in {}.",
            units.join(" / ")
        ),
        series,
        svg: finish_svg(svg),
    })
}

const BACKLOG: &str = "backlog (ops due, not started)";

fn load_panel(
    r: &RunResult,
    area: &Area<'_>,
    unit: &str,
    (x0, x1): (f64, f64),
    x_axis_title: bool,
    backlog_here: bool,
) -> Result<(), String> {
    let mine: Vec<&results::IntervalRecord> = r
        .intervals
        .iter()
        .filter(|i| interval_unit(r, i) == unit)
        .collect();
    // Planned load is piecewise: steps over each interval. A gap between this unit's stages
    // breaks the line (drawn as separate runs).
    let mut planned_runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut achieved_runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut prev_end: Option<f64> = None;
    for i in &mine {
        let start = i.t_s - i.dur_s;
        if prev_end.is_none_or(|e| (start - e).abs() > i.dur_s * 0.5) {
            planned_runs.push(Vec::new());
            achieved_runs.push(Vec::new());
        }
        if let (Some(p), Some(a)) = (planned_runs.last_mut(), achieved_runs.last_mut()) {
            p.push((start, i.planned));
            p.push((i.t_s, i.planned));
            a.push((i.t_s, i.achieved_load));
        }
        prev_end = Some(i.t_s);
    }
    let backlog: Vec<(f64, f64)> = if backlog_here {
        r.intervals
            .iter()
            .map(|i| (i.t_s, i.backlog as f64))
            .collect()
    } else {
        Vec::new()
    };
    let y_max = nice_max(
        mine.iter()
            .flat_map(|i| [i.planned, i.achieved_load])
            .chain(backlog.iter().map(|p| p.1))
            .fold(0.0, f64::max),
    );
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .x_label_area_size(if x_axis_title { 40 } else { 24 })
        .y_label_area_size(72)
        .build_cartesian_2d(x0..x1, 0.0..y_max)
        .plot()?;
    let mut mesh = chart.configure_mesh();
    mesh.y_desc(format!("load ({unit})"))
        .x_label_formatter(&|v| fmt::sig3(*v))
        .y_label_formatter(&|v| fmt::si(*v))
        .max_light_lines(0)
        .bold_line_style(GRID)
        .label_style(font(13))
        .axis_desc_style(font(14))
        .y_labels(6);
    if x_axis_title {
        mesh.x_desc("time since start (s)");
    }
    mesh.draw().plot()?;
    stage_marks(&mut chart, r, 0.0, y_max)?;
    let (planned_look, achieved_look) = (L_PLANNED, L_ACHIEVED);
    for (k, (p, a)) in planned_runs.iter().zip(&achieved_runs).enumerate() {
        // Legend entries once per panel.
        let (pn, an) = if k == 0 {
            ("planned", "achieved")
        } else {
            ("", "")
        };
        line(&mut chart, pn, p, planned_look)?;
        line(&mut chart, an, a, achieved_look)?;
    }
    if !backlog.is_empty() {
        line(&mut chart, BACKLOG, &backlog, L_BACKLOG)?;
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_tags_are_unambiguous() {
        let palette = [
            BLUE, ORANGE, VERMILLION, GREEN, PURPLE, DARK, GRID, SHADE, WHITE, BLACK,
        ];
        for a in DASHED {
            assert!(a.dash.is_some());
            for b in DASHED {
                if a.color == b.color {
                    assert_eq!(a.dash, b.dash, "one dash pattern per colour");
                }
            }
            assert!(
                !palette.contains(&tag(a.color)),
                "tag of {:?} is a real colour",
                hex(a.color)
            );
        }
    }

    #[test]
    fn long_runs_stay_small_and_dashed() {
        let mut r = results::fixture::sample();
        let base = r.intervals.clone();
        r.intervals = (0..1800)
            .map(|k| {
                let mut i = base[k % base.len()].clone();
                i.t_s = (k + 1) as f64;
                i
            })
            .collect();
        let charts = render_charts(&r).unwrap();
        for c in &charts {
            assert!(c.svg.len() < 200_000, "{} is {} bytes", c.file, c.svg.len());
            for l in DASHED {
                assert!(
                    !c.svg.contains(&hex(tag(l.color))),
                    "{} kept a tag colour",
                    c.file
                );
            }
        }
        let latency = charts.iter().find(|c| c.file == "latency.svg").unwrap();
        assert!(latency.svg.contains("stroke-dasharray=\"9 5\""));
    }
}
