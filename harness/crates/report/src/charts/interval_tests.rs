//! Tests of how the per-interval charts treat intervals that cannot be drawn as they are: a
//! run's last, partial interval (a rate over ~1 ms is discretisation, not throughput) and
//! intervals with no value (nothing completed, CPU not sampled), which must break a line rather
//! than be bridged by it.
//!
//! They read the SVGs: a series is found by its stroke colour (its look's colour; dashed ones
//! carry it too once `finish_svg` has run), one `<polyline>` per unbroken stretch.

use results::{IntervalRecord, Percentiles, RunResult};

use super::style::{hex, Look, L_ACHIEVED, L_P50, L_P99, L_TARGET_CPU, L_THROUGHPUT};
use super::{render_charts, Chart};

/// The sample run with a partial last interval, as the harness writes it when the run ends
/// 1 ms into a new interval: one batch in 1 ms reads as 1.02M tx/s.
fn with_partial_last() -> RunResult {
    let mut r = results::fixture::sample();
    let mut last = r
        .intervals
        .last()
        .expect("the sample has intervals")
        .clone();
    last.t_s += 0.001;
    last.dur_s = 0.001;
    last.committed = 1024;
    last.committed_tps = 1_024_000.0;
    last.ops = 1;
    last.ops_per_s = 1_000.0;
    last.achieved_load = 1.0;
    last.latency_us.count = 1;
    r.intervals.push(last);
    r
}

fn chart<'c>(charts: &'c [Chart], file: &str) -> &'c Chart {
    charts
        .iter()
        .find(|c| c.file == file)
        .unwrap_or_else(|| panic!("{file} not rendered"))
}

/// The number of points of each polyline drawn in `look`'s colour, in document order.
fn polylines(svg: &str, look: Look) -> Vec<usize> {
    let doc = roxmltree::Document::parse(svg).expect("chart SVG parses");
    let colour = hex(look.color);
    doc.descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some(colour.as_str()))
        .map(|n| {
            n.attribute("points")
                .unwrap_or("")
                .split_whitespace()
                .count()
        })
        .collect()
}

#[test]
fn a_partial_last_interval_is_not_drawn_and_captions_say_so() {
    let r = with_partial_last();
    let full = r.intervals.len() - 1;
    let charts = render_charts(&r).unwrap();
    for (file, look) in [
        ("throughput.svg", L_THROUGHPUT),
        ("latency.svg", L_P50),
        ("resources.svg", L_TARGET_CPU),
        ("load.svg", L_ACHIEVED),
    ] {
        let c = chart(&charts, file);
        let drawn: usize = polylines(&c.svg, look).iter().sum();
        assert_eq!(drawn, full, "{file}: the 1 ms interval was drawn");
        assert!(
            c.caption
                .contains("The last 1 ms interval is not drawn: too short"),
            "{file}: {}",
            c.caption
        );
    }
    // The sample's intervals are all whole: nothing to say there.
    let sample = render_charts(&results::fixture::sample()).unwrap();
    assert!(sample.iter().all(|c| !c.caption.contains("not drawn")));
}

/// Intervals 11 and 12 of the sample (in the ramp) completed nothing.
fn with_stall() -> RunResult {
    let mut r = results::fixture::sample();
    for i in &mut r.intervals[10..12] {
        *i = IntervalRecord {
            committed: 0,
            committed_tps: 0.0,
            ops: 0,
            ops_per_s: 0.0,
            latency_us: Percentiles::default(),
            ..i.clone()
        };
    }
    r
}

#[test]
fn latency_lines_break_where_nothing_completed() {
    let r = with_stall();
    let charts = render_charts(&r).unwrap();
    let lat = chart(&charts, "latency.svg");
    // 30 intervals, 2 empty: 10 before the stall, 18 after, for every percentile.
    for look in [L_P50, L_P99] {
        assert_eq!(polylines(&lat.svg, look), [10, 18], "{}", hex(look.color));
    }
    assert!(
        lat.caption
            .contains("gaps are intervals in which nothing completed"),
        "{}",
        lat.caption
    );
    let sample = render_charts(&results::fixture::sample()).unwrap();
    assert!(!chart(&sample, "latency.svg").caption.contains("gaps"));
}

#[test]
fn cpu_lines_break_where_cpu_was_not_sampled() {
    let mut r = results::fixture::sample();
    r.intervals[10].target_cpu_pct = None;
    let charts = render_charts(&r).unwrap();
    let res = chart(&charts, "resources.svg");
    assert_eq!(polylines(&res.svg, L_TARGET_CPU), [10, 19]);
    assert!(res
        .caption
        .contains("Gaps: intervals in which that figure was not sampled."));
    let sample = render_charts(&results::fixture::sample()).unwrap();
    assert!(!chart(&sample, "resources.svg").caption.contains("Gaps"));
}

/// A run whose machine was busy in its 3rd and 4th intervals: other processes' CPU is drawn
/// beside ours, and exactly those intervals are shaded (the rule of `results::interval_is_busy`).
#[test]
fn busy_intervals_are_shaded_and_other_processes_cpu_is_drawn() {
    use super::style::{L_OTHER_CPU, NOISE_SHADE};
    let mut r = results::fixture::sample();
    for (k, i) in r.intervals.iter_mut().enumerate() {
        i.other_cpu_pct = Some(if k == 2 || k == 3 { 40.0 } else { 1.0 });
        i.steal_pct = Some(0.0);
    }
    r.resources.noise = results::Noise::of(&r.intervals, 2);
    let charts = render_charts(&r).unwrap();
    let res = chart(&charts, "resources.svg");
    assert!(
        res.series.iter().any(|s| s == "other processes' CPU"),
        "{:?}",
        res.series
    );
    assert!(
        !res.series.iter().any(|s| s == "CPU steal"),
        "no steal, no line"
    );
    assert!(res.svg.contains(&hex(L_OTHER_CPU.color)));
    let shade = format!("fill=\"{}\"", hex(NOISE_SHADE));
    assert_eq!(res.svg.matches(&shade).count(), 2, "two busy intervals");
    assert!(res.caption.contains("Yellow bands"), "{}", res.caption);
    // A quiet run: nothing shaded, and the caption says nothing of bands.
    let quiet = results::fixture::sample();
    let res = render_charts(&quiet).unwrap();
    let res = chart(&res, "resources.svg");
    assert!(!res.svg.contains(&shade) && !res.caption.contains("Yellow"));
}
