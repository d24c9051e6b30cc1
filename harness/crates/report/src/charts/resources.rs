//! CPU and memory over time: CPU of the target and the harness in the upper panel, their
//! resident memory in the lower one.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use results::{IntervalRecord, RunResult};

use super::frame::{self, nice_max, stage_marks, x_range, Frame, Plot};
use super::series::{broken_line, legend, runs, Plane};
use super::style::{font, Look, L_HARNESS_CPU, L_HARNESS_RSS, L_TARGET_CPU, L_TARGET_RSS};
use super::{Chart, HEIGHT};
use crate::doc;

/// A named series with its runs of points and look; one without points is left out.
type Line<'a> = (&'a str, &'a [Vec<(f64, f64)>], Look);

pub(super) fn resources(r: &RunResult) -> Result<Chart, String> {
    // In-process runs: the harness is the target, so its own lines would repeat the target's.
    let same = r.resources.same_process;
    // CPU is a rate: whole intervals only (RSS too, so both panels end at the same point).
    let full = doc::full_intervals(r);
    // An interval without a sample (a process not sampled then) breaks the line: joining
    // its neighbours would draw a figure nobody measured.
    let get = |f: fn(&IntervalRecord) -> Option<f64>| -> Vec<Vec<(f64, f64)>> {
        runs(&full, |i| f(i).map(|v| (i.t_s, v)))
    };
    let cpu_t = get(|i| i.target_cpu_pct);
    let cpu_h = if same {
        vec![]
    } else {
        get(|i| i.harness_cpu_pct)
    };
    let rss_t = get(|i| i.target_rss_bytes.map(mib));
    let rss_h = if same {
        vec![]
    } else {
        get(|i| i.harness_rss_bytes.map(mib))
    };
    let (tname_cpu, tname_rss) = if same {
        ("CPU (target = harness)", "RSS (target = harness)")
    } else {
        ("target CPU", "target RSS")
    };
    let cpu = [
        (tname_cpu, &cpu_t[..], L_TARGET_CPU),
        ("harness CPU", &cpu_h[..], L_HARNESS_CPU),
    ];
    let rss = [
        (tname_rss, &rss_t[..], L_TARGET_RSS),
        ("harness RSS", &rss_h[..], L_HARNESS_RSS),
    ];
    let title = "CPU and memory".to_string();
    let mut series = Vec::new();
    let svg = frame::svg(|root| {
        let root = root.titled(&title, font(22)).plot()?;
        let (top, bottom) = root.split_vertically(HEIGHT as i32 / 2 - 14);
        // The CPU axis always reaches 100 % (the basis's full scale), higher if the data does.
        let cpu_max = cpu_t
            .iter()
            .chain(&cpu_h)
            .flatten()
            .map(|p| p.1)
            .fold(100.0, f64::max)
            * 1.05;
        let mut chart = panel(r, &top, "CPU (%)", false, cpu_max)?;
        stage_marks(&mut chart, r, 0.0, cpu_max)?;
        draw_lines(&mut chart, &cpu, &mut series)?;
        let rss_max = nice_max(
            rss_t
                .iter()
                .chain(&rss_h)
                .flatten()
                .map(|p| p.1)
                .fold(0.0, f64::max),
        );
        let mut chart = panel(r, &bottom, "RSS (MiB)", true, rss_max)?;
        draw_lines(&mut chart, &rss, &mut series)
    })?;
    Ok(Chart {
        file: "resources.svg".to_string(),
        title,
        caption: caption(r, &[cpu, rss].concat()),
        series,
        svg,
    })
}

/// What the chart shows, and whether a line was broken because a figure was not sampled.
fn caption(r: &RunResult, lines: &[Line<'_>]) -> String {
    let gaps = if lines.iter().any(|l| l.1.len() > 1) {
        " Gaps: intervals in which that figure was not sampled."
    } else {
        ""
    };
    frame::caption(
        r,
        format!(
            "CPU per interval, in {}; resident memory (RSS) below.{gaps}",
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
