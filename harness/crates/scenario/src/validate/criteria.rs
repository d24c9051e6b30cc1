//! `[criteria]`: the thresholds a run is judged on, and the per-metric tolerances a comparison
//! against a baseline allows.
//!
//! Every threshold is optional; `late_dispatch` and `max_late_dispatch` adjust the rule that
//! calls a run with a late generator invalid, which applies with its defaults (1 ms, 1 %)
//! even when `[criteria]` is absent; `use_calibration = true` holds the latency limits against
//! the newest calibration of the machine (the harness finds and applies it); `max_startup` is refused on targets the harness does not start,
//! where there is no startup to time.

use std::collections::BTreeMap;

use toml::Value;

use super::values::Ctx;
use super::Result;
use crate::plan::{max_tolerance, Criteria, Target, TOLERANCE_KEYS};
use crate::raw::{RawCriteria, S};

pub(super) fn criteria(
    cx: &Ctx,
    raw: Option<&S<RawCriteria>>,
    target: &Target,
) -> Result<Criteria> {
    let mut c = Criteria::default();
    let Some(raw) = raw else { return Ok(c) };
    let r = raw.get_ref();
    let lat = |v: &Option<S<Value>>, key: &str| {
        v.as_ref()
            .map(|v| cx.positive_duration(v, &format!("criteria.{key}")))
            .transpose()
    };
    let rate = |v: &Option<S<Value>>, key: &str| {
        v.as_ref()
            .map(|v| cx.rate(v, &format!("criteria.{key}")))
            .transpose()
    };
    let fraction = |v: &Option<S<Value>>, key: &str| {
        v.as_ref()
            .map(|v| cx.fraction(v, &format!("criteria.{key}")))
            .transpose()
    };
    let size = |v: &Option<S<Value>>, key: &str| {
        v.as_ref()
            .map(|v| cx.size(v, &format!("criteria.{key}")))
            .transpose()
    };
    c.min_tps = rate(&r.min_tps, "min_tps")?;
    c.min_interval_tps = rate(&r.min_interval_tps, "min_interval_tps")?;
    c.max_p50 = lat(&r.max_p50, "max_p50")?;
    c.max_p90 = lat(&r.max_p90, "max_p90")?;
    c.max_p99 = lat(&r.max_p99, "max_p99")?;
    c.max_p999 = lat(&r.max_p999, "max_p999")?;
    c.max_error_rate = fraction(&r.max_error_rate, "max_error_rate")?;
    c.max_rss = size(&r.max_rss, "max_rss")?;
    c.max_rss_growth = size(&r.max_rss_growth, "max_rss_growth")?;
    c.max_rss_slope = r
        .max_rss_slope
        .as_ref()
        .map(|v| cx.size_per_hour(v, "criteria.max_rss_slope"))
        .transpose()?;
    c.max_cpu_pct = fraction(&r.max_cpu, "max_cpu")?.map(|f| f * 100.0);
    if let Some(v) = &r.max_startup {
        if !matches!(target, Target::Spawn { .. }) {
            return Err(cx.err(
                v.span(),
                "criteria.max_startup",
                "only meaningful for spawn targets (it times start to first healthy answer)",
            ));
        }
        c.max_startup = Some(cx.positive_duration(v, "criteria.max_startup")?);
    }
    if let Some(d) = lat(&r.late_dispatch, "late_dispatch")? {
        c.dispatch.late_after = d;
    }
    if let Some(f) = fraction(&r.max_late_dispatch, "max_late_dispatch")? {
        c.dispatch.max_late_fraction = f;
    }
    if let Some(v) = &r.use_calibration {
        c.use_calibration = match v.get_ref() {
            Value::Boolean(b) => *b,
            _ => return Err(cx.expected(v, "criteria.use_calibration", "true or false")),
        };
    }
    c.tolerances = tolerances(cx, r)?;
    Ok(c)
}

/// `[criteria.tolerance]`: a relative tolerance per metric of [`TOLERANCE_KEYS`], from 0 to
/// [`max_tolerance`] (1, or 10 for a metric where lower is better).
fn tolerances(cx: &Ctx, r: &RawCriteria) -> Result<BTreeMap<String, f64>> {
    let mut tolerances = BTreeMap::new();
    for (k, v) in &r.tolerance {
        let key = k.get_ref();
        let field = format!("criteria.tolerance.{key}");
        if !TOLERANCE_KEYS.contains(&key.as_str()) {
            return Err(cx.err(
                k.span(),
                field,
                format!(
                    "unknown metric {key:?}; expected one of {}",
                    TOLERANCE_KEYS.join(", ")
                ),
            ));
        }
        tolerances.insert(
            key.clone(),
            cx.fraction_upto(v, &field, max_tolerance(key))?,
        );
    }
    Ok(tolerances)
}

/// A capacity search judges every probe by `[capacity]`, and its answer is a rate, not a pass:
/// a criterion would judge no single run, so only the dispatch rule (which makes a probe
/// invalid) and the tolerances (which `harness compare` reads) may be set.
pub(super) fn search_criteria(cx: &Ctx, raw: Option<&S<RawCriteria>>) -> Result<()> {
    let Some(raw) = raw else { return Ok(()) };
    let r = raw.get_ref();
    let judged = [
        ("min_tps", &r.min_tps),
        ("min_interval_tps", &r.min_interval_tps),
        ("max_p50", &r.max_p50),
        ("max_p90", &r.max_p90),
        ("max_p99", &r.max_p99),
        ("max_p999", &r.max_p999),
        ("max_error_rate", &r.max_error_rate),
        ("max_rss", &r.max_rss),
        ("max_rss_growth", &r.max_rss_growth),
        ("max_rss_slope", &r.max_rss_slope),
        ("max_cpu", &r.max_cpu),
        ("max_startup", &r.max_startup),
        ("use_calibration", &r.use_calibration),
    ];
    match judged.into_iter().find_map(|(k, v)| v.as_ref().map(|v| (k, v.span()))) {
        None => Ok(()),
        Some((key, span)) => Err(cx.err(
            span,
            format!("criteria.{key}"),
            "a capacity search judges each probe by [capacity] (percentile, max_latency, max_error_rate); [criteria] may only set late_dispatch, max_late_dispatch and tolerances",
        )),
    }
}
