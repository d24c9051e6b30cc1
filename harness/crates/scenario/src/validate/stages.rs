//! `[[stages]]`: the load over time, each stage a duration and exactly one of `workers`
//! (closed model), `rate` (open model, operations/s) or `tps` (open model, transactions/s),
//! constant or ramped `{ from, to }`. The last stage may be a fixed amount of work instead
//! (`operations = N`, `duration` its limit), so the same work is measured every run: what an
//! instruction count needs.
//!
//! Also the one cross-section rule about what a stage counts: `tps` needs operations whose
//! transaction count is known ([`check_tps_stages`]).

use std::collections::BTreeSet;

use toml::Value;

use super::values::{describe, Ctx};
use super::Result;
use crate::plan::{Body, Load, Ramp, RateUnit, RequestTemplate, Stage, Target};
use crate::raw::{RawStage, S};

const MAX_WORKERS: f64 = 100_000.0;

/// The stages, at least one unless `searching` (a capacity search runs its own probes).
pub(super) fn stages(cx: &Ctx, raw: &[S<RawStage>], searching: bool) -> Result<Vec<Stage>> {
    if raw.is_empty() && !searching {
        return Err(cx.err_nowhere("stages", "at least one [[stages]] entry is required"));
    }
    let mut names = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, st) in raw.iter().enumerate() {
        let s = st.get_ref();
        let at = |key: &str| format!("stages[{i}].{key}");
        let name = match &s.name {
            Some(n) if n.get_ref().trim().is_empty() => {
                return Err(cx.err(n.span(), at("name"), "must not be empty"));
            }
            Some(n) => n.get_ref().clone(),
            None => format!("stage-{}", i + 1),
        };
        if !names.insert(name.clone()) {
            let span = s.name.as_ref().map_or(st.span(), |n| n.span());
            return Err(cx.err(span, at("name"), format!("duplicate stage name {name:?}")));
        }
        let load = load(cx, i, st)?;
        let operations = operations(cx, i, raw.len(), st, &load)?;
        let duration = match (&s.duration, operations) {
            (Some(d), _) => cx.positive_duration(d, &at("duration"))?,
            (None, Some(_)) => FIXED_WORK_LIMIT,
            (None, None) => {
                return Err(cx.err(
                    st.span(),
                    at("duration"),
                    "a stage needs `duration` (or `operations = N` for a fixed amount of work)",
                ));
            }
        };
        out.push(Stage {
            name,
            duration,
            operations,
            load,
            warmup: s.warmup.as_ref().is_some_and(|w| *w.get_ref()),
        });
    }
    Ok(out)
}

/// How long a fixed-work stage without a `duration` may take (k6's `maxDuration` default).
pub const FIXED_WORK_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Stage `i`'s `operations = N`: a closed-model, non-warm-up last stage only, since the run ends
/// when its work is done (a fixed-work stage in the middle would move every later stage).
fn operations(
    cx: &Ctx,
    i: usize,
    count: usize,
    st: &S<RawStage>,
    load: &Load,
) -> Result<Option<u64>> {
    let s = st.get_ref();
    let Some(v) = &s.operations else {
        return Ok(None);
    };
    let field = format!("stages[{i}].operations");
    let why = if i + 1 != count {
        Some("only the last stage can be a fixed amount of work: the run ends when it is done")
    } else if load.is_open() {
        Some("a fixed amount of work needs a closed-model stage (`workers`): an arrival rate already fixes the work by time")
    } else if s.warmup.as_ref().is_some_and(|w| *w.get_ref()) {
        Some("a warm-up stage cannot be a fixed amount of work: the measured stage must follow it")
    } else {
        None
    };
    if let Some(why) = why {
        return Err(cx.err(v.span(), field, why));
    }
    let n = *v.get_ref();
    if !(1..=MAX_OPERATIONS).contains(&n) {
        return Err(cx.err(
            v.span(),
            field,
            format!("must be from 1 to {MAX_OPERATIONS}, found {n}"),
        ));
    }
    Ok(Some(n))
}

const MAX_OPERATIONS: u64 = 1_000_000_000_000;

/// Stage `i`'s load: exactly one of `workers`, `rate` or `tps`.
fn load(cx: &Ctx, i: usize, st: &S<RawStage>) -> Result<Load> {
    let s = st.get_ref();
    let at = |key: &str| format!("stages[{i}].{key}");
    let given: Vec<(&str, &S<Value>)> =
        [("workers", &s.workers), ("rate", &s.rate), ("tps", &s.tps)]
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
            .collect();
    Ok(match given.as_slice() {
        [] => {
            return Err(cx.err(st.span(), at("workers"), "a stage needs exactly one of `workers` (closed model), `rate` or `tps` (open model)"));
        }
        [("workers", v)] => Load::Closed {
            workers: worker_ramp(cx, v, &at("workers"))?,
        },
        [("rate", v)] => Load::Open {
            rate: rate_ramp(cx, v, &at("rate"))?,
            unit: RateUnit::OpsPerSec,
        },
        [(_, v)] => Load::Open {
            rate: rate_ramp(cx, v, &at("tps"))?,
            unit: RateUnit::TxPerSec,
        },
        [(first, _), (second, v), ..] => {
            return Err(cx.err(v.span(), at(second), format!("set exactly one of `workers`, `rate` or `tps` per stage, found both `{first}` and `{second}`")));
        }
    })
}

/// A `{ from = .., to = .. }` table's two values, or one value for both ends.
fn ramp_ends<'v>(
    cx: &Ctx,
    v: &'v S<Value>,
    field: &str,
    expect: &str,
) -> Result<(&'v Value, &'v Value)> {
    match v.get_ref() {
        Value::Table(t) => {
            if let Some(extra) = t
                .keys()
                .find(|k| k.as_str() != "from" && k.as_str() != "to")
            {
                return Err(cx.err(
                    v.span(),
                    format!("{field}.{extra}"),
                    "unknown key; a ramp has only `from` and `to`",
                ));
            }
            match (t.get("from"), t.get("to")) {
                (Some(f), Some(to)) => Ok((f, to)),
                _ => Err(cx.err(
                    v.span(),
                    field,
                    format!("expected {expect}; a ramp needs both `from` and `to`"),
                )),
            }
        }
        other => Ok((other, other)),
    }
}

fn worker_ramp(cx: &Ctx, v: &S<Value>, field: &str) -> Result<Ramp> {
    const EXPECT: &str = "a worker count such as 8 or a ramp { from = 1, to = 50 }";
    let (from, to) = ramp_ends(cx, v, field, EXPECT)?;
    let count = |x: &Value| -> Result<f64> {
        match x {
            Value::Integer(i) if (1..=MAX_WORKERS as i64).contains(i) => Ok(*i as f64),
            Value::Integer(i) => Err(cx.err(
                v.span(),
                field,
                format!("worker counts must be from 1 to {MAX_WORKERS}, found {i}"),
            )),
            other => Err(cx.err(
                v.span(),
                field,
                format!("expected {EXPECT}, found {}", describe(other)),
            )),
        }
    };
    Ok(Ramp {
        from: count(from)?,
        to: count(to)?,
    })
}

fn rate_ramp(cx: &Ctx, v: &S<Value>, field: &str) -> Result<Ramp> {
    const EXPECT: &str = "a rate such as \"10k/s\" or a ramp { from = \"1M/s\", to = \"40M/s\" }";
    let (from, to) = ramp_ends(cx, v, field, EXPECT)?;
    // Re-wrap each end with the ramp's span so the scalar parser can point at it.
    let one = |x: &Value| -> Result<f64> {
        if matches!(x, Value::Table(_) | Value::Array(_)) {
            return Err(cx.err(
                v.span(),
                field,
                format!("expected {EXPECT}, found {}", describe(x)),
            ));
        }
        cx.rate(&S::new(v.span(), x.clone()), field)
    };
    Ok(Ramp {
        from: one(from)?,
        to: one(to)?,
    })
}

/// `tps` means transactions per second, so each operation must carry a known number of them.
pub(super) fn check_tps_stages(
    cx: &Ctx,
    raw: &[S<RawStage>],
    stages: &[Stage],
    target: &Target,
    requests: &[RequestTemplate],
) -> Result<()> {
    if !target.is_http() {
        return Ok(());
    }
    let Some((j, req)) = requests
        .iter()
        .enumerate()
        // Setup templates are not drawn by weight, so they carry none of the stage's rate.
        .find(|(_, r)| !r.setup && r.body != Body::BinaryBatch)
    else {
        return Ok(());
    };
    let tps_stage = stages.iter().position(|stage| {
        matches!(
            stage.load,
            Load::Open {
                unit: RateUnit::TxPerSec,
                ..
            }
        )
    });
    let Some(i) = tps_stage else { return Ok(()) };
    let span = raw[i]
        .get_ref()
        .tps
        .as_ref()
        .map_or(raw[i].span(), |t| t.span());
    let body = match &req.body {
        Body::None => "none",
        Body::Template(_) => "a template",
        Body::JsonTransfer => "json-transfer",
        Body::BinaryBatch => "binary-batch",
    };
    Err(cx.err(
        span,
        format!("stages[{i}].tps"),
        format!(
            "an open-model `tps` stage needs an in-process target or requests with body = \"binary-batch\", but requests[{j}] ({:?}, {} {}) has body {body}; use `rate` for requests per second",
            req.name, req.method, req.path
        ),
    ))
}
