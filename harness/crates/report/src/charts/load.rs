//! Planned and achieved load per interval: one panel per unit the stages count load in
//! (workers, operations per second), with the open model's backlog where it applies.

use plotters::coord::Shift;
use plotters::prelude::*;
use results::{IntervalRecord, LoadModel, RunResult};

use super::frame::{self, nice_max, si_label, stage_marks, x_range, Frame, Plot};
use super::series::{legend, line};
use super::style::{font, L_ACHIEVED, L_BACKLOG, L_PLANNED};
use super::Chart;
use crate::doc;

const BACKLOG: &str = "backlog (ops due, not started)";

/// Unit of the load an interval asked for: its stage's plan unit.
fn interval_unit<'r>(r: &'r RunResult, i: &IntervalRecord) -> &'r str {
    r.scenario
        .stages_planned
        .get(i.stage)
        .map_or("load", |p| p.unit.as_str())
}

/// Whether a panel's unit is an open-model stage's arrival rate, where a backlog can build (by
/// the stages' load model, not by the unit's name).
fn is_rate(r: &RunResult, unit: &str) -> bool {
    r.scenario
        .stages_planned
        .iter()
        .any(|p| p.unit == unit && p.model == LoadModel::Open)
}

pub(super) fn load(r: &RunResult) -> Result<Chart, String> {
    // Achieved load is a rate in open-model stages: whole intervals only.
    let full = doc::full_intervals(r);
    // Stages may count load in different units (workers, then ops/s): one panel per unit,
    // sharing the time axis, so neither flattens the other.
    let mut units: Vec<&str> = Vec::new();
    for i in &full {
        let u = interval_unit(r, i);
        if !units.contains(&u) {
            units.push(u);
        }
    }
    let has_backlog = full.iter().any(|i| i.backlog > 0);
    let title = "Planned and achieved load".to_string();
    let mut series = vec!["planned".to_string(), "achieved".to_string()];
    if has_backlog && units.iter().any(|u| is_rate(r, u)) {
        series.push(BACKLOG.to_string());
    }
    let svg = frame::svg(|root| {
        let root = root.titled(&title, font(22)).plot()?;
        let panels = root.split_evenly((units.len().max(1), 1));
        // The backlog (operations due but not started) belongs with the first rate panel.
        let backlog_panel = units.iter().position(|u| is_rate(r, u));
        for (n, (unit, area)) in units.iter().zip(&panels).enumerate() {
            let last = n + 1 == units.len();
            let backlog_here = has_backlog && backlog_panel == Some(n);
            load_panel(r, &full, area, unit, last, backlog_here)?;
        }
        Ok(())
    })?;
    Ok(Chart {
        file: "load.svg".to_string(),
        title,
        caption: frame::caption(
            r,
            format!(
                "Load asked for (dashed) and achieved (solid) per interval, in {}.",
                units.join(" / ")
            ),
        ),
        series,
        svg,
    })
}

/// One unit's panel over the intervals drawn (`full`): planned load as steps, achieved load
/// as points, the backlog if asked.
fn load_panel<DB: DrawingBackend>(
    r: &RunResult,
    full: &[&IntervalRecord],
    area: &DrawingArea<DB, Shift>,
    unit: &str,
    lowest: bool,
    backlog_here: bool,
) -> Result<(), String> {
    let mine: Vec<&IntervalRecord> = full
        .iter()
        .copied()
        .filter(|i| interval_unit(r, i) == unit)
        .collect();
    let runs = load_runs(&mine);
    let backlog: Vec<(f64, f64)> = if backlog_here {
        full.iter().map(|i| (i.t_s, i.backlog as f64)).collect()
    } else {
        Vec::new()
    };
    let y_max = nice_max(
        mine.iter()
            .flat_map(|i| [i.planned, i.achieved_load])
            .chain(backlog.iter().map(|p| p.1))
            .fold(0.0, f64::max),
    );
    let mut chart = Frame {
        y_label: &si_label,
        y_labels: Some(6),
        ..Frame::panel(format!("load ({unit})"), lowest)
    }
    .draw(area, x_range(r), 0.0..y_max)?;
    stage_marks(&mut chart, r, 0.0, y_max)?;
    for (k, run) in runs.iter().enumerate() {
        // Legend entries once per panel.
        let (pn, an) = if k == 0 {
            ("planned", "achieved")
        } else {
            ("", "")
        };
        line(&mut chart, pn, &run.planned, L_PLANNED)?;
        line(&mut chart, an, &run.achieved, L_ACHIEVED)?;
    }
    if !backlog.is_empty() {
        line(&mut chart, BACKLOG, &backlog, L_BACKLOG)?;
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}

/// One stretch of contiguous intervals of a unit: planned load as steps (a level over each
/// interval), achieved load as one point per interval.
#[derive(Default)]
struct Run {
    planned: Vec<(f64, f64)>,
    achieved: Vec<(f64, f64)>,
}

/// One unit's intervals as runs: a gap between this unit's stages breaks the lines.
fn load_runs(mine: &[&IntervalRecord]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut prev_end: Option<f64> = None;
    for i in mine {
        let start = i.t_s - i.dur_s;
        if prev_end.is_none_or(|e| (start - e).abs() > i.dur_s * 0.5) {
            runs.push(Run::default());
        }
        if let Some(run) = runs.last_mut() {
            run.planned.push((start, i.planned));
            run.planned.push((i.t_s, i.planned));
            run.achieved.push((i.t_s, i.achieved_load));
        }
        prev_end = Some(i.t_s);
    }
    runs
}
