//! SVG charts of a run, drawn with plotters into strings.
//!
//! Every chart is a standalone SVG (written to `charts/*.svg`, inlined in the HTML, embedded as
//! vectors in the PDF). Text is measured with the bundled DejaVu font (plotters' `ab_glyph`
//! feature), never a system font: [`ensure_fonts`] registers it, without which plotters cannot
//! draw text at all. Warm-up is shaded and stage boundaries are marked, because most surprises
//! in a load test sit at a stage change. A capacity search adds its latency-throughput curve.
//!
//! One module per chart (or pair of related charts); what they share is in `frame` (the SVG
//! document, axes and grid, stage marks), `series` (lines, markers, legend) and `style`
//! (palette, dashes, markers). [`trend`] draws one figure over many runs for `harness history`.

use std::sync::OnceLock;

use plotters::style::FontStyle;
use results::RunResult;

use crate::ReportError;

mod capacity;
mod frame;
#[cfg(test)]
mod interval_tests;
mod latency;
mod load;
mod resources;
mod series;
mod style;
mod throughput;
mod trend;

pub use trend::{trend, Trend, TrendPoint};

/// One rendered chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File name under `charts/`, e.g. "throughput.svg".
    pub file: String,
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

fn chart_err(chart: &'static str) -> impl Fn(String) -> ReportError {
    move |message| ReportError::Chart { chart, message }
}

/// Render every chart the result has data for, in report order.
pub fn render_charts(r: &RunResult) -> Result<Vec<Chart>, ReportError> {
    ensure_fonts()?;
    let mut out = Vec::new();
    // A search was run for its latency-throughput curve: it leads the charts.
    if let Some((c, s)) = crate::doc::capacity_search(r) {
        out.push(capacity::capacity(c, s).map_err(chart_err("capacity"))?);
    }
    if !r.intervals.is_empty() {
        out.push(throughput::throughput(r).map_err(chart_err("throughput"))?);
        out.push(latency::latency_over_time(r).map_err(chart_err("latency"))?);
    }
    if r.percentiles.iter().any(|p| p.percentile < 100.0) {
        out.push(latency::distribution(r).map_err(chart_err("distribution"))?);
    }
    // The same intervals the resources chart draws (see `doc::full_intervals`).
    if crate::doc::full_intervals(r).iter().any(|i| {
        i.target_cpu_pct.is_some()
            || i.harness_cpu_pct.is_some()
            || i.other_cpu_pct.is_some()
            || i.target_rss_bytes.is_some()
            || i.harness_rss_bytes.is_some()
    }) {
        out.push(resources::resources(r).map_err(chart_err("resources"))?);
    }
    if !r.intervals.is_empty() {
        out.push(load::load(r).map_err(chart_err("load"))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::style::{hex, tag, DASHED};
    use super::*;

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
