//! CPU and memory over time: CPU of the target and the harness in the upper panel, with the
//! CPU other processes used (and the steal, when there was any) and the intervals in which the
//! machine was busy with other work shaded, so a slow stretch can be told from a busy machine;
//! their resident memory in the lower one.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use results::{IntervalRecord, RunResult};

use super::frame::{self, nice_max, stage_marks, x_range, Frame, Plot};
use super::series::{broken_line, legend, runs, Plane};
use super::style::{
    font, Look, L_HARNESS_CPU, L_HARNESS_RSS, L_OTHER_CPU, L_STEAL, L_TARGET_CPU, L_TARGET_RSS,
    NOISE_SHADE,
};
use super::{Chart, HEIGHT};
use crate::{doc, fmt};

/// A named series with its runs of points and look; one without points is left out.
type Line<'a> = (&'a str, &'a [Vec<(f64, f64)>], Look);

pub(super) fn resources(r: &RunResult) -> Result<Chart, String> {
    // CPU is a rate: whole intervals only (RSS too, so both panels end at the same point).
    let full = doc::full_intervals(r);
    let s = Series::of(r, &full);
    let cpu = [
        (s.names.0, &s.cpu_t[..], L_TARGET_CPU),
        ("harness CPU", &s.cpu_h[..], L_HARNESS_CPU),
        ("other processes' CPU", &s.other[..], L_OTHER_CPU),
        ("CPU steal", &s.steal[..], L_STEAL),
    ];
    let rss = [
        (s.names.1, &s.rss_t[..], L_TARGET_RSS),
        ("harness RSS", &s.rss_h[..], L_HARNESS_RSS),
    ];
    let busy = busy_intervals(r, &full);
    let title = "CPU and memory".to_string();
    let mut series = Vec::new();
    let svg = frame::svg(|root| {
        let root = root.titled(&title, font(22)).plot()?;
        let (top, bottom) = root.split_vertically(HEIGHT as i32 / 2 - 14);
        // The CPU axis always reaches 100 % (the basis's full scale), higher if the data does.
        let cpu_max = top_of(&cpu).max(100.0) * 1.05;
        let mut chart = panel(r, &top, "CPU (%)", false, cpu_max)?;
        shade(&mut chart, &busy, cpu_max)?;
        stage_marks(&mut chart, r, 0.0, cpu_max)?;
        draw_lines(&mut chart, &cpu, &mut series)?;
        let rss_max = nice_max(top_of(&rss));
        let mut chart = panel(r, &bottom, "RSS (MiB)", true, rss_max)?;
        draw_lines(&mut chart, &rss, &mut series)
    })?;
    Ok(Chart {
        file: "resources.svg".to_string(),
        title,
        caption: caption(
            r,
            &[&cpu[..], &rss[..]].concat(),
            !busy.is_empty(),
            !s.other.is_empty(),
        ),
        series,
        svg,
    })
}

/// The chart's series, each split where its figure was not sampled.
struct Series {
    /// The target's CPU and RSS names (in-process: the harness is the target).
    names: (&'static str, &'static str),
    cpu_t: Vec<Vec<(f64, f64)>>,
    cpu_h: Vec<Vec<(f64, f64)>>,
    other: Vec<Vec<(f64, f64)>>,
    steal: Vec<Vec<(f64, f64)>>,
    rss_t: Vec<Vec<(f64, f64)>>,
    rss_h: Vec<Vec<(f64, f64)>>,
}

impl Series {
    fn of(r: &RunResult, full: &[&IntervalRecord]) -> Series {
        // In-process runs: the harness is the target, so its own lines would repeat the target's.
        let same = r.resources.same_process;
        // An interval without a sample (a process not sampled then) breaks the line: joining
        // its neighbours would draw a figure nobody measured.
        let get = |f: fn(&IntervalRecord) -> Option<f64>| -> Vec<Vec<(f64, f64)>> {
            runs(full, |i| f(i).map(|v| (i.t_s, v)))
        };
        let unless_same = |f| if same { vec![] } else { get(f) };
        // Steal is drawn only when there was some: a line along 0 says nothing a caption can't.
        let steal = get(|i| i.steal_pct);
        let any_steal = steal.iter().flatten().any(|p| p.1 > 0.0);
        Series {
            names: if same {
                ("CPU (target = harness)", "RSS (target = harness)")
            } else {
                ("target CPU", "target RSS")
            },
            cpu_t: get(|i| i.target_cpu_pct),
            cpu_h: unless_same(|i| i.harness_cpu_pct),
            other: get(|i| i.other_cpu_pct),
            steal: if any_steal { steal } else { vec![] },
            rss_t: get(|i| i.target_rss_bytes.map(mib)),
            rss_h: unless_same(|i| i.harness_rss_bytes.map(mib)),
        }
    }
}

/// The highest point of any line (0 without points).
fn top_of(lines: &[Line<'_>]) -> f64 {
    lines
        .iter()
        .flat_map(|l| l.1.iter().flatten())
        .map(|p| p.1)
        .fold(0.0, f64::max)
}

/// (start, end) of each drawn interval in which other processes were over the busy threshold
/// (the rule is `results::interval_is_busy`, the same as the reports' warning's).
fn busy_intervals(r: &RunResult, full: &[&IntervalRecord]) -> Vec<(f64, f64)> {
    let Some(cpus) = r.resources.noise.as_ref().map(|n| n.cpus) else {
        return Vec::new();
    };
    full.iter()
        .filter(|i| results::interval_is_busy(i, cpus))
        .map(|i| (i.t_s - i.dur_s, i.t_s))
        .collect()
}

/// Shade the busy intervals from 0 to `y_hi`.
fn shade<'a, DB: DrawingBackend + 'a>(
    chart: &mut Plane<'a, DB, RangedCoordf64>,
    busy: &[(f64, f64)],
    y_hi: f64,
) -> Result<(), String> {
    chart
        .draw_series(
            busy.iter()
                .map(|&(a, b)| Rectangle::new([(a, 0.0), (b, y_hi)], NOISE_SHADE.filled())),
        )
        .plot()?;
    Ok(())
}

/// What the chart shows, whether a line was broken because a figure was not sampled, and what
/// the yellow bands are.
fn caption(r: &RunResult, lines: &[Line<'_>], busy: bool, other: bool) -> String {
    let gaps = if lines.iter().any(|l| l.1.len() > 1) {
        " Gaps: intervals in which that figure was not sampled."
    } else {
        ""
    };
    let bands = if busy {
        format!(
            " Yellow bands: intervals in which other processes used more than {} of one core \
             (the threshold of the busy-machine warning).",
            fmt::pct(results::BUSY_CORE_PCT)
        )
    } else {
        String::new()
    };
    let others = if other {
        ", ours and other processes' (the machine's busy CPU from /proc/stat minus ours)"
    } else {
        ""
    };
    frame::caption(
        r,
        format!(
            "CPU per interval, in {}{others}; resident memory (RSS) below.{gaps}{bands}",
            r.resources.cpu_pct_basis
        ),
    )
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// One panel over the run's time axis, from 0 to `y_max`.
fn panel<'a, DB: DrawingBackend>(
    r: &RunResult,
    area: &'a DrawingArea<DB, Shift>,
    y_desc: &str,
    lowest: bool,
    y_max: f64,
) -> Result<Plane<'a, DB, RangedCoordf64>, String> {
    Frame {
        y_labels: Some(5),
        ..Frame::panel(y_desc, lowest)
    }
    .draw(area, x_range(r), 0.0..y_max)
}

/// The lines that have points, named in the legend (and in `series`, for the report).
fn draw_lines<'a, DB: DrawingBackend + 'a>(
    chart: &mut Plane<'a, DB, RangedCoordf64>,
    lines: &[Line<'_>],
    series: &mut Vec<String>,
) -> Result<(), String> {
    for (name, runs, look) in lines {
        if !runs.is_empty() {
            broken_line(chart, name, runs, *look)?;
            series.push(name.to_string());
        }
    }
    legend(chart, SeriesLabelPosition::LowerRight)
}
