//! The "Load generator" section: whether the instrument kept up with its own schedule.
//!
//! A load tester that falls behind still reports figures, and they read as the target's. This
//! section says how late the generator sent its open-model operations (dispatch lag, kept apart
//! from waiting for a busy connection), the rate it offered against the rate it sent, and how
//! busy its process and busiest thread were, so a reader can tell "the target is slow" from
//! "the generator was starved".

use results::{Dispatch, Quantile, RunResult};

use super::Block;
use crate::fmt;

/// The section's blocks.
pub(super) fn generator(r: &RunResult) -> Vec<Block> {
    let mut b = vec![Block::Heading("Load generator".into())];
    let h = &r.resources.harness;
    let mut pairs = Vec::new();
    match &r.summary.dispatch {
        Some(d) => {
            b.push(Block::Paragraph(dispatch_sentence(d)));
            pairs.extend(dispatch_pairs(d));
        }
        None => b.push(Block::Paragraph(
            "No open-model operations in the steady state (closed model or goose): there is \
             no schedule to fall behind, so only the generator's CPU is reported."
                .into(),
        )),
    }
    let opt = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), fmt::pct);
    pairs.push((
        "Harness CPU (average / peak, all cores)".into(),
        format!("{} / {}", opt(h.cpu_avg_pct), opt(h.cpu_peak_pct)),
    ));
    pairs.push((
        "Busiest harness thread (peak, one core)".into(),
        opt(h.busiest_thread_peak_pct),
    ));
    if let Some(w) = h.busiest_thread_wait_peak_pct {
        pairs.push((
            "Busiest thread waiting for a core (peak share of an interval)".into(),
            fmt::pct(w),
        ));
    }
    b.push(Block::Pairs(pairs));
    if r.summary.dispatch.is_some() {
        b.push(Block::Note(
            "Dispatch lag = send time − max(intended start, the moment the worker's connection \
             became free): the generator's own lateness. Waiting for a busy connection is the \
             target's doing and is inside the latency figures (measured from the intended \
             start). Intervals in which the share of late operations exceeded the limit are \
             shaded red in the charts."
                .into(),
        ));
    }
    b
}

/// Kept up or not, in one sentence.
fn dispatch_sentence(d: &Dispatch) -> String {
    let head = format!(
        "The generator sent {} of {} steady open-model operations more than {} late ({}; \
         the limit is {})",
        fmt::count(d.late_ops),
        fmt::count(d.ops),
        fmt::latency_us(d.late_after_us),
        fmt::fraction_pct(d.late_fraction()),
        fmt::fraction_pct(d.max_late_fraction),
    );
    if d.is_late() {
        format!("{head}: it was the bottleneck, so the run is invalid.")
    } else if d.too_few_to_judge() {
        format!(
            "{head}: over the share, but on fewer than {} late operations, too few to call the \
             generator the bottleneck.",
            Dispatch::MIN_LATE_OPS
        )
    } else {
        format!("{head}: it kept up with its schedule.")
    }
}

fn dispatch_pairs(d: &Dispatch) -> Vec<(String, String)> {
    let l = &d.lag_us;
    vec![
        (
            "Offered / achieved rate".into(),
            format!(
                "{} / {}",
                fmt::rate(d.offered_ops_per_s, "ops/s"),
                fmt::rate(d.achieved_ops_per_s, "ops/s")
            ),
        ),
        (
            "Dispatch lag p50 / p99 / max".into(),
            format!(
                "{} / {} / {}",
                fmt::percentile_cell(l, Quantile::P50),
                fmt::percentile_cell(l, Quantile::P99),
                fmt::latency_us(l.max)
            ),
        ),
    ]
}
