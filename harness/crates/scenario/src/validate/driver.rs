//! `driver = "goose"` in a file: the plan-level driver check ([`crate::check_driver`]'s rules,
//! run once, in [`crate::driver`]) with each problem pointed at the field it concerns.
//!
//! The pure check names plan items (a stage index, a request name); here they become file
//! positions and field paths (`stages[1].rate`, `http.http2`, `requests[0].method`), worded
//! for someone editing the file rather than passing a command-line override.
//! The refusals of issue 19's features (data, variables, setup, checks, extractions) are in
//! [`flow_error`], to keep [`locate`] to the connection and stage rules.

use std::ops::Range;

use super::values::Ctx;
use super::Result;
use crate::driver::{DriverError, DriverInputs};
use crate::error::ScenarioError;
use crate::plan::{Load, RateUnit};
use crate::raw::RawScenarioFile;

/// Runs the driver check on `inputs`, the plan so far of the file `raw`.
pub(super) fn check(cx: &Ctx, raw: &RawScenarioFile, inputs: &DriverInputs) -> Result<()> {
    crate::driver::check(inputs).map_err(|e| locate(cx, raw, inputs, e))
}

fn locate(cx: &Ctx, raw: &RawScenarioFile, inputs: &DriverInputs, e: DriverError) -> ScenarioError {
    match e {
        DriverError::NotHttp { .. } => {
            let span = raw
                .scenario
                .get_ref()
                .driver
                .as_ref()
                .map_or(0..0, |d| d.span());
            cx.err(
                span,
                "scenario.driver",
                "driver = \"goose\" needs an http or spawn target: goose drives HTTP services only",
            )
        }
        DriverError::Http2 => {
            let span = raw.http.as_ref().map_or(0..0, |h| {
                h.get_ref().http2.as_ref().map_or(h.span(), |b| b.span())
            });
            cx.err(
                span,
                "http.http2",
                "driver = \"goose\" speaks HTTP/1.1 only (its client is built here without HTTP/2): set http2 = false or use driver = \"native\"",
            )
        }
        DriverError::Tls { key } => {
            let span = tls_key_span(raw, key);
            cx.err(
                span,
                format!("http.tls.{key}"),
                "driver = \"goose\" cannot honour this: goose's own client (reqwest) reaches https targets with the system's roots, SNI from the URL, TLS 1.2 and 1.3 and session resumption only; remove the key or use driver = \"native\"",
            )
        }
        DriverError::ConnectionReuse { max_requests } => reuse_error(cx, raw, max_requests),
        DriverError::Pipeline { .. } => {
            let span = raw.http.as_ref().map_or(0..0, |h| {
                h.get_ref().pipeline.as_ref().map_or(h.span(), |p| p.span())
            });
            cx.err(
                span,
                "http.pipeline",
                "driver = \"goose\" sends one request at a time per user and cannot pipeline: set pipeline = 1 or use driver = \"native\"",
            )
        }
        DriverError::Method { name, method } => {
            let i = template_index(inputs, &name);
            let span = raw.requests.get(i).map_or(0..0, |r| {
                r.get_ref().method.as_ref().map_or(r.span(), |m| m.span())
            });
            cx.err(
                span,
                format!("requests[{i}].method"),
                format!("driver = \"goose\" cannot send {method} requests: goose sends only GET, POST, PUT, PATCH, DELETE and HEAD"),
            )
        }
        DriverError::Data { .. }
        | DriverError::Setup { .. }
        | DriverError::Variable { .. }
        | DriverError::Check { .. }
        | DriverError::Extract { .. } => flow_error(cx, raw, inputs, e),
        DriverError::Search => search_error(cx, raw),
        DriverError::NoStages => cx.err_nowhere(
            "stages",
            "driver = \"goose\" needs at least one [[stages]] entry",
        ),
        DriverError::FixedWork { index, .. } | DriverError::OpenStage { index, .. } => stage_error(
            cx,
            raw,
            inputs,
            index,
            matches!(e, DriverError::FixedWork { .. }),
        ),
    }
}

/// goose asked for a stage it cannot run: an arrival rate (the error points at `rate` or
/// `tps`) or, when `fixed`, a fixed amount of work (at `operations`).
fn stage_error(
    cx: &Ctx,
    raw: &RawScenarioFile,
    inputs: &DriverInputs,
    index: usize,
    fixed: bool,
) -> ScenarioError {
    if fixed {
        let stage = &raw.stages[index];
        let span = stage
            .get_ref()
            .operations
            .as_ref()
            .map_or(stage.span(), |v| v.span());
        return cx.err(
            span,
            format!("stages[{index}].operations"),
            "driver = \"goose\" cannot run a fixed amount of work: goose's users run for a time and cannot share a count; remove operations or use driver = \"native\"",
        );
    }
    let (key, span) = open_stage_key(raw, inputs, index);
    cx.err(
        span,
        format!("stages[{index}].{key}"),
        "driver = \"goose\" supports only closed-model stages (`workers`): goose has no arrival-rate model, so a rate could not be honoured",
    )
}

/// goose asked to run a capacity search: the error points at `mode = "search"`.
fn search_error(cx: &Ctx, raw: &RawScenarioFile) -> ScenarioError {
    let span = raw
        .capacity
        .as_ref()
        .and_then(|c| c.get_ref().mode.as_ref().map(|m| m.span()))
        .unwrap_or(0..0);
    cx.err(
        span,
        "capacity.mode",
        "driver = \"goose\" cannot run a capacity search: each probe holds an arrival rate, and goose has no arrival-rate model; use driver = \"native\"",
    )
}

/// Template `name`'s index: validation made request names unique, so the name finds it.
fn template_index(inputs: &DriverInputs, name: &str) -> usize {
    inputs
        .requests
        .iter()
        .position(|r| r.name == name)
        .unwrap_or(0)
}

/// goose asked for a feeder, a setup template, a variable in a path or header, a check or an
/// extraction: the error points at the key that asks.
fn flow_error(
    cx: &Ctx,
    raw: &RawScenarioFile,
    inputs: &DriverInputs,
    e: DriverError,
) -> ScenarioError {
    let template = |name: &str| {
        let i = template_index(inputs, name);
        (
            i,
            raw.requests.get(i).map_or(0..0, |r| r.span()),
            raw.requests.get(i),
        )
    };
    let (span, field, why) = match &e {
        DriverError::Data { .. } => {
            let span = raw.data.first().map_or(0..0, |d| d.span());
            let why = "cannot feed [[data]] rows: goose's users draw no rows from data files here; remove [[data]] and its variables";
            (span, "data[0]".to_string(), why)
        }
        DriverError::Setup { name } => {
            let (i, whole, r) = template(name);
            let span = r
                .and_then(|r| r.get_ref().setup.as_ref())
                .map_or(whole, |s| s.span());
            let why = "runs no per-connection setup templates; remove setup";
            (span, format!("requests[{i}].setup"), why)
        }
        DriverError::Variable { name, key } => {
            let (i, whole, _) = template(name);
            let (span, field) = variable_key(raw, i, key);
            let why = "sends paths and header values as written, without {{ }} variables; remove the variable";
            (span.unwrap_or(whole), format!("requests[{i}].{field}"), why)
        }
        DriverError::Check { name } => {
            let (i, whole, r) = template(name);
            let span = r
                .and_then(|r| r.get_ref().check.first())
                .map_or(whole, |c| c.span());
            let why = "judges an answer by its status alone; remove check";
            (span, format!("requests[{i}].check"), why)
        }
        DriverError::Extract { name } => {
            let (i, whole, r) = template(name);
            let span = r
                .and_then(|r| r.get_ref().extract.first())
                .map_or(whole, |x| x.span());
            let why = "keeps no variables between requests; remove extract";
            (span, format!("requests[{i}].extract"), why)
        }
        _ => unreachable!("locate passes only the flow refusals"),
    };
    cx.err(
        span,
        field,
        format!("driver = \"goose\" {why} or use driver = \"native\""),
    )
}

/// Where template `i`'s variable in `key` ("path" or "headers") is written: the path, or the
/// first header value holding one (its field `headers.<name>`).
fn variable_key(raw: &RawScenarioFile, i: usize, key: &str) -> (Option<Range<usize>>, String) {
    let Some(r) = raw.requests.get(i).map(|r| r.get_ref()) else {
        return (None, key.to_string());
    };
    if key == "path" {
        return (Some(r.path.span()), "path".to_string());
    }
    let header = r
        .headers
        .iter()
        .find(|(_, v)| crate::template::vars(v.get_ref()).next().is_some());
    match header {
        Some((k, v)) => (Some(v.span()), format!("headers.{}", k.get_ref())),
        None => (None, "headers".to_string()),
    }
}

/// Where `[http.tls]`'s `key` is written (the table's span if the key has none).
fn tls_key_span(raw: &RawScenarioFile, key: &str) -> Range<usize> {
    let Some(tls) = raw.http.as_ref().and_then(|h| h.get_ref().tls.as_ref()) else {
        return 0..0;
    };
    let t = tls.get_ref();
    let span = match key {
        "ca_file" => t.ca_file.as_ref().map(|v| v.span()),
        "insecure" => t.insecure.as_ref().map(|v| v.span()),
        "server_name" => t.server_name.as_ref().map(|v| v.span()),
        "client_cert" => t.client_cert.as_ref().map(|v| v.span()),
        "versions" => t.versions.as_ref().map(|v| v.span()),
        "resumption" => t.resumption.as_ref().map(|v| v.span()),
        _ => None,
    };
    span.unwrap_or(tls.span())
}

/// goose asked to close connections: the error points at the key the file used
/// (`max_requests_per_connection`, else `connection = "close"`).
fn reuse_error(cx: &Ctx, raw: &RawScenarioFile, max_requests: u32) -> ScenarioError {
    let http = raw.http.as_ref().map(|h| h.get_ref());
    let limit = http.and_then(|h| h.max_requests_per_connection.as_ref());
    let (key, span) = match limit {
        Some(m) => ("max_requests_per_connection", m.span()),
        None => {
            let mode = http.and_then(|h| h.connection.as_ref());
            ("connection", mode.map_or(0..0, |c| c.span()))
        }
    };
    let what = if max_requests == 1 {
        "open a new connection per request".to_string()
    } else {
        format!("close a connection after {max_requests} requests")
    };
    cx.err(
        span,
        format!("http.{key}"),
        format!("driver = \"goose\" cannot {what}: goose's client keeps every connection alive; remove the key or use driver = \"native\""),
    )
}

/// The key (`rate` or `tps`) that makes stage `index` open-model, and its span (the stage's
/// when the key has none).
fn open_stage_key(
    raw: &RawScenarioFile,
    inputs: &DriverInputs,
    index: usize,
) -> (&'static str, Range<usize>) {
    let stage = &raw.stages[index];
    let s = stage.get_ref();
    let (key, value) = match inputs.stages[index].load {
        Load::Open {
            unit: RateUnit::TxPerSec,
            ..
        } => ("tps", &s.tps),
        _ => ("rate", &s.rate),
    };
    (key, value.as_ref().map_or(stage.span(), |v| v.span()))
}
