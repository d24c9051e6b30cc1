//! `[capacity]`: the bound (a latency percentile and its limit, optionally an error rate) and
//! how the highest rate within it is found: a linear ramp of the stages (`mode = "ramp"`, the
//! default, so older scenarios keep their meaning) or a search of held probes
//! (`mode = "search"`).
//!
//! A ramp raises an open-model arrival rate through the stages, so it needs one. A search runs
//! its own probes, so its stages may only warm up (checked where the stages are, see
//! `search_stages`), and its keys make no sense for a ramp (and `stop_on_break` none for a
//! search): a key of the other mode is an error, not silently ignored.

use std::time::Duration;

use super::values::Ctx;
use super::Result;
use crate::plan::{Body, Capacity, CapacityMode, RateUnit, RequestTemplate, Search, Stage, Target};
use crate::raw::{RawCapacity, RawHeader, RawStage, S};
use crate::units::format_duration;
use toml::Value;

pub(super) fn capacity(
    cx: &Ctx,
    raw: Option<&S<RawCapacity>>,
    stages: &[Stage],
    unit: RateUnit,
) -> Result<Option<Capacity>> {
    let Some(raw) = raw else { return Ok(None) };
    let r = raw.get_ref();
    let p = *r.percentile.get_ref();
    if !(p > 0.0 && p < 100.0) {
        return Err(cx.err(
            r.percentile.span(),
            "capacity.percentile",
            format!("must be between 0 and 100 exclusive (e.g. 99.0), found {p}"),
        ));
    }
    let mode = match r.mode.as_ref().map(|m| (m.get_ref().as_str(), m.span())) {
        None | Some(("ramp", _)) => ramp(cx, raw, stages)?,
        Some(("search", _)) => CapacityMode::Search(search(cx, r, unit)?),
        Some((other, span)) => {
            return Err(cx.err(
                span,
                "capacity.mode",
                format!("expected \"ramp\" or \"search\", found {other:?}"),
            ))
        }
    };
    Ok(Some(Capacity {
        percentile: p,
        max_latency: cx.positive_duration(&r.max_latency, "capacity.max_latency")?,
        max_error_rate: r
            .max_error_rate
            .as_ref()
            .map(|v| cx.fraction(v, "capacity.max_error_rate"))
            .transpose()?,
        mode,
    }))
}

/// `mode = "ramp"`: the stages must raise an open-model rate, and no search key is set.
fn ramp(cx: &Ctx, raw: &S<RawCapacity>, stages: &[Stage]) -> Result<CapacityMode> {
    let r = raw.get_ref();
    let search_keys = [
        ("start", r.start.as_ref().map(S::span)),
        ("max", r.max.as_ref().map(S::span)),
        ("growth", r.growth.as_ref().map(S::span)),
        ("precision", r.precision.as_ref().map(S::span)),
        ("probe", r.probe.as_ref().map(S::span)),
        ("settle", r.settle.as_ref().map(S::span)),
        ("confirm", r.confirm.as_ref().map(S::span)),
        ("max_probes", r.max_probes.as_ref().map(S::span)),
        ("max_time", r.max_time.as_ref().map(S::span)),
    ];
    if let Some((key, Some(span))) = search_keys.into_iter().find(|(_, s)| s.is_some()) {
        return Err(cx.err(
            span,
            format!("capacity.{key}"),
            "is a search setting: add mode = \"search\" to [capacity], or remove it (a ramp's rates are its stages')",
        ));
    }
    if !stages.iter().any(|s| s.load.is_open()) {
        return Err(cx.err(raw.span(), "capacity", "[capacity] needs open-model stages (`rate` or `tps`): the ramp raises the arrival rate until latency breaks (or use mode = \"search\")"));
    }
    Ok(CapacityMode::Ramp {
        stop_on_break: r.stop_on_break.as_ref().is_none_or(|b| *b.get_ref()),
    })
}

/// `mode = "search"`: `start` and `max` required, the rest defaulted as the issue fixed them.
fn search(cx: &Ctx, r: &RawCapacity, unit: RateUnit) -> Result<Search> {
    if let Some(b) = &r.stop_on_break {
        return Err(cx.err(
            b.span(),
            "capacity.stop_on_break",
            "is a ramp setting: a search always stops each probe on its own (remove it)",
        ));
    }
    let required = |v: &Option<S<Value>>, key: &str| -> Result<f64> {
        match v {
            Some(v) => cx.rate(v, &format!("capacity.{key}")),
            None => Err(cx.err_nowhere(
                format!("capacity.{key}"),
                format!("a search needs `{key}` (a rate such as \"1M/s\")"),
            )),
        }
    };
    let start = required(&r.start, "start")?;
    let max = required(&r.max, "max")?;
    if max < start {
        let span = r.max.as_ref().map_or(0..0, S::span);
        return Err(cx.err(
            span,
            "capacity.max",
            format!("must be at least `start` ({start}), found {max}"),
        ));
    }
    let growth = r.growth.as_ref().map_or(Ok(2.0), |g| {
        let v = *g.get_ref();
        if v > 1.0 && v <= 100.0 {
            Ok(v)
        } else {
            Err(cx.err(
                g.span(),
                "capacity.growth",
                format!("must be above 1 and at most 100 (each growing probe's rate is the last one's times it), found {v}"),
            ))
        }
    })?;
    let s = Search {
        start,
        max,
        unit,
        growth,
        precision: precision(cx, r)?,
        probe: duration_or(cx, &r.probe, "probe", 20, true)?,
        settle: duration_or(cx, &r.settle, "settle", 5, false)?,
        confirm: duration_or(cx, &r.confirm, "confirm", 60, true)?,
        max_probes: r
            .max_probes
            .as_ref()
            .map_or(Ok(20), |n| cx.u32_in(n, "capacity.max_probes", 2, 1000))?,
        max_time: duration_or(cx, &r.max_time, "max_time", 15 * 60, true)?,
    };
    if s.max_time < s.settle + s.probe {
        return Err(cx.err(
            r.max_time.as_ref().map_or(0..0, S::span),
            "capacity.max_time",
            format!(
                "must leave time for at least one probe (settle + probe = {})",
                format_duration(s.settle + s.probe)
            ),
        ));
    }
    Ok(s)
}

/// `precision`: how close the bracket's ends must come, a fraction above 0 and at most 0.5.
fn precision(cx: &Ctx, r: &RawCapacity) -> Result<f64> {
    let Some(v) = &r.precision else {
        return Ok(0.02);
    };
    let f = cx.fraction(v, "capacity.precision")?;
    if f <= 0.0 || f > 0.5 {
        return Err(cx.err(
            v.span(),
            "capacity.precision",
            format!("must be above 0 and at most 50 % (e.g. \"2%\"), found {f}"),
        ));
    }
    Ok(f)
}

fn duration_or(
    cx: &Ctx,
    v: &Option<S<Value>>,
    key: &str,
    default_s: u64,
    positive: bool,
) -> Result<Duration> {
    let field = format!("capacity.{key}");
    match v {
        None => Ok(Duration::from_secs(default_s)),
        Some(v) if positive => cx.positive_duration(v, &field),
        Some(v) => cx.duration(v, &field),
    }
}

/// What a search's `start` and `max` count: transactions when every operation carries a known
/// number of them (in process; over HTTP, when every drawn request is a binary batch, the
/// rule `tps` stages follow), otherwise operations.
pub(super) fn search_unit(target: &Target, requests: &[RequestTemplate]) -> RateUnit {
    let batches = requests
        .iter()
        .filter(|r| !r.setup)
        .all(|r| r.body == Body::BinaryBatch);
    if !target.is_http() || batches {
        RateUnit::TxPerSec
    } else {
        RateUnit::OpsPerSec
    }
}

/// A search runs its own probes: its stages may only warm the target up before the first one,
/// and `[scenario] warmup` has nothing to apply to (each probe settles on its own).
pub(super) fn search_stages(
    cx: &Ctx,
    raw: &[S<RawStage>],
    stages: &[Stage],
    header: &RawHeader,
) -> Result<()> {
    if let Some(w) = &header.warmup {
        return Err(cx.err(
            w.span(),
            "scenario.warmup",
            "a capacity search settles each probe (`settle` in [capacity]); warm the target with warm-up stages instead",
        ));
    }
    match stages.iter().position(|s| !s.warmup) {
        None => Ok(()),
        Some(i) => Err(cx.err(
            raw[i].span(),
            format!("stages[{i}]"),
            "a capacity search (mode = \"search\") runs its own probes: its [[stages]] may only be warm-up stages (warmup = true), run once before the first probe",
        )),
    }
}
