//! Throughput per interval, with the scenario's target as a dashed line.

use plotters::prelude::SeriesLabelPosition;
use results::RunResult;

use super::frame::{self, nice_max, si_label, stage_marks, x_range, Frame};
use super::series::{legend, line};
use super::style::{L_TARGET, L_THROUGHPUT};
use super::Chart;
use crate::{doc, fmt};

pub(super) fn throughput(r: &RunResult) -> Result<Chart, String> {
    let (unit, committed) = doc::throughput_basis(r);
    // Whole intervals only: a partial last interval's rate over a few ms reads as a drop.
    let pts: Vec<(f64, f64)> = doc::full_intervals(r)
        .into_iter()
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
    let svg = frame::svg(|root| {
        let mut chart = Frame {
            y_label: &si_label,
            ..Frame::chart(&title, format!("throughput ({unit})"))
        }
        .draw(root, (x0, x1), 0.0..y_max)?;
        stage_marks(&mut chart, r, 0.0, y_max)?;
        line(&mut chart, &series_name, &pts, L_THROUGHPUT)?;
        if let Some(t) = target {
            let name = format!("target {}", fmt::rate(t, "tx/s"));
            line(&mut chart, &name, &[(x0, t), (x1, t)], L_TARGET)?;
            series.push(name);
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    })?;
    let caption = format!(
        "{} in each interval; the dashed line is the target. Shaded: warm-up (not judged){}.",
        if committed {
            "Committed transactions per second"
        } else {
            "Operations per second"
        },
        if frame::late_intervals(r).is_empty() {
            ""
        } else {
            "; red: the load generator sent operations late (its figures, not the target's)"
        }
    );
    Ok(Chart {
        file: "throughput.svg".to_string(),
        title,
        caption: frame::caption(r, caption),
        series,
        svg,
    })
}
