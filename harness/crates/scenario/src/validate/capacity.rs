//! `[capacity]`: the capacity search's bound (a latency percentile and its limit).
//!
//! The search raises an open-model arrival rate until the bound breaks, so it needs at least
//! one open-model stage to raise.

use super::values::Ctx;
use super::Result;
use crate::plan::{Capacity, Stage};
use crate::raw::{RawCapacity, S};

pub(super) fn capacity(
    cx: &Ctx,
    raw: Option<&S<RawCapacity>>,
    stages: &[Stage],
) -> Result<Option<Capacity>> {
    let Some(raw) = raw else { return Ok(None) };
    if !stages.iter().any(|s| s.load.is_open()) {
        return Err(cx.err(raw.span(), "capacity", "[capacity] needs open-model stages (`rate` or `tps`): the search raises the arrival rate until latency breaks"));
    }
    let r = raw.get_ref();
    let p = *r.percentile.get_ref();
    if !(p > 0.0 && p < 100.0) {
        return Err(cx.err(
            r.percentile.span(),
            "capacity.percentile",
            format!("must be between 0 and 100 exclusive (e.g. 99.0), found {p}"),
        ));
    }
    Ok(Some(Capacity {
        percentile: p,
        max_latency: cx.positive_duration(&r.max_latency, "capacity.max_latency")?,
        stop_on_break: r.stop_on_break.as_ref().is_none_or(|b| *b.get_ref()),
    }))
}
