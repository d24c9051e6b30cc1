//! `[[requests]]`: the HTTP request templates an http or spawn target is driven with.
//!
//! Each template is checked on its own (unique name, a method we send, a path, header names and
//! values that cannot break the request line, a body kind, expected statuses, a weight or
//! `setup = true`, checks and extractions), so an error names the template by index and key:
//! `requests[2].headers.accept`. Variables in the path, header values and body template are
//! [`super::variables`]'s to check; checks and extractions are [`super::checks`]'s. Across
//! templates: names are unique, a variable may be one that a later template extracts (flows
//! run per connection, not in file order), and at least one template is drawn by weight.

use std::collections::BTreeSet;

use toml::Value;

use super::checks;
use super::data::Loaded;
use super::url::{check_template_path, is_header_name};
use super::values::{describe, Ctx};
use super::variables::{Known, Place, Text};
use super::Result;
use crate::plan::{Body, RequestTemplate, Target};
use crate::raw::{RawRequest, RawTarget, S};

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];

pub(super) fn requests(
    cx: &Ctx,
    raw: &[S<RawRequest>],
    raw_target: &S<RawTarget>,
    target: &Target,
    data: &[Loaded],
) -> Result<Vec<RequestTemplate>> {
    if !target.is_http() {
        if let Some(first) = raw.first() {
            return Err(cx.err(first.span(), "requests[0]", "[[requests]] are only for http and spawn targets; an in-process target drives the engine directly"));
        }
        return Ok(Vec::new());
    }
    if raw.is_empty() {
        return Err(cx.err(
            raw_target.get_ref().kind.span(),
            "requests",
            "an http or spawn target needs at least one [[requests]] entry",
        ));
    }
    // Every template's extracted variables, as written: a template may use one that a later
    // template sets, and a malformed name is still reported at its own template, in order.
    let vars: BTreeSet<String> = raw
        .iter()
        .flat_map(|r| r.get_ref().extract.iter())
        .map(|e| e.get_ref().var.get_ref().clone())
        .collect();
    let known = Known { data, vars: &vars };
    let mut names = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, req) in raw.iter().enumerate() {
        out.push(request(cx, i, req, &mut names, &known)?);
    }
    if out.iter().all(|r| r.setup) {
        let last = raw.len() - 1;
        let span = raw[last]
            .get_ref()
            .setup
            .as_ref()
            .map_or(raw[last].span(), |s| s.span());
        return Err(cx.err(
            span,
            format!("requests[{last}].setup"),
            "every template has setup = true, so none is drawn to make the load: at least one must be a regular template",
        ));
    }
    Ok(out)
}

/// Template `i`; `names` holds the names of the templates before it.
fn request(
    cx: &Ctx,
    i: usize,
    req: &S<RawRequest>,
    names: &mut BTreeSet<String>,
    known: &Known,
) -> Result<RequestTemplate> {
    let r = req.get_ref();
    let at = |key: &str| format!("requests[{i}].{key}");
    let name = name(cx, i, req, names)?;
    let method = match &r.method {
        Some(m) => method(cx, m, &at("method"))?,
        None => "GET".to_string(),
    };
    let path = r.path.get_ref();
    let field = at("path");
    let literal = known.check(
        cx,
        &Text {
            text: path,
            place: Place::Path,
            span: r.path.span(),
            field: &field,
        },
    )?;
    check_template_path(path, &literal).map_err(|why| cx.err(r.path.span(), field, why))?;
    let headers = headers(cx, r, i, known)?;
    let body = match &r.body {
        Some(b) => body(cx, b, &at("body"), known)?,
        None => Body::None,
    };
    if body != Body::None && (method == "GET" || method == "HEAD") {
        let span = r.body.as_ref().map_or(req.span(), |b| b.span());
        return Err(cx.err(
            span,
            at("body"),
            format!("a {method} request cannot carry a body; use POST or PUT"),
        ));
    }
    let expect_status = match &r.expect_status {
        Some(v) => statuses(cx, v, &at("expect_status"))?,
        None => vec![200],
    };
    let (weight, setup) = weight(cx, r, i)?;
    Ok(RequestTemplate {
        name,
        method: method.clone(),
        path: path.clone(),
        headers,
        body,
        expect_status,
        weight,
        setup,
        checks: checks::checks(cx, i, &method, &r.check)?,
        extract: checks::extracts(cx, i, &method, &r.extract, known.data)?,
    })
}

/// Template `i`'s name, given or `request-N`; `names` holds the names before it.
fn name(cx: &Ctx, i: usize, req: &S<RawRequest>, names: &mut BTreeSet<String>) -> Result<String> {
    let r = req.get_ref();
    let field = format!("requests[{i}].name");
    let name = match &r.name {
        Some(n) if n.get_ref().trim().is_empty() => {
            return Err(cx.err(n.span(), field, "must not be empty"));
        }
        Some(n) => n.get_ref().clone(),
        None => format!("request-{}", i + 1),
    };
    if !names.insert(name.clone()) {
        let span = r.name.as_ref().map_or(req.span(), |n| n.span());
        return Err(cx.err(span, field, format!("duplicate request name {name:?}")));
    }
    Ok(name)
}

/// `weight` (default 1) and `setup`: a setup template is never drawn, so it has no weight
/// (0 in the plan, which keeps it out of any weighted draw).
fn weight(cx: &Ctx, r: &RawRequest, i: usize) -> Result<(u32, bool)> {
    let setup = r.setup.as_ref().is_some_and(|s| *s.get_ref());
    let field = format!("requests[{i}].weight");
    match &r.weight {
        Some(w) if setup => Err(cx.err(
            w.span(),
            field,
            "a setup template is not drawn by weight (it runs once on each new connection, before the connection's first timed request): remove weight or setup",
        )),
        Some(w) => Ok((cx.u32_in(w, &field, 1, 1_000_000)?, false)),
        None => Ok((u32::from(!setup), setup)),
    }
}

/// A method we send, upper-cased.
fn method(cx: &Ctx, m: &S<String>, field: &str) -> Result<String> {
    let upper = m.get_ref().to_ascii_uppercase();
    if !METHODS.contains(&upper.as_str()) {
        return Err(cx.err(
            m.span(),
            field,
            format!(
                "expected one of GET, POST, PUT, DELETE, PATCH, HEAD, found {:?}",
                m.get_ref()
            ),
        ));
    }
    Ok(upper)
}

/// Request `i`'s headers, names lower-cased: a name is an HTTP token, a value has no control
/// characters but tab (a newline would end the header early), its variables' included.
fn headers(cx: &Ctx, r: &RawRequest, i: usize, known: &Known) -> Result<Vec<(String, String)>> {
    let mut headers = Vec::with_capacity(r.headers.len());
    for (k, v) in &r.headers {
        let key = k.get_ref();
        let field = format!("requests[{i}].headers.{key}");
        if !is_header_name(key) {
            return Err(cx.err(
                k.span(),
                field,
                format!("{key:?} is not a valid header name"),
            ));
        }
        if key.eq_ignore_ascii_case("connection") {
            // One way to say it: a template's own `connection: close` would make a pipelined
            // connection fail every request after the first, behind the client's back.
            return Err(cx.err(
                k.span(),
                field,
                "the client decides when connections close: set [http] connection = \"close\" or max_requests_per_connection instead of a connection header",
            ));
        }
        if v.get_ref().chars().any(|c| c.is_control() && c != '\t') {
            return Err(cx.err(
                v.span(),
                field,
                "a header value must not contain control characters (such as a newline)",
            ));
        }
        let text = Text {
            text: v.get_ref(),
            place: Place::Header,
            span: v.span(),
            field: &field,
        };
        known.check(cx, &text)?;
        headers.push((key.to_ascii_lowercase(), v.get_ref().clone()));
    }
    Ok(headers)
}

fn body(cx: &Ctx, v: &S<Value>, field: &str, known: &Known) -> Result<Body> {
    const EXPECT: &str =
        "\"none\", \"json-transfer\", \"binary-batch\" or a table { template = \"...\" }";
    match v.get_ref() {
        Value::String(s) => match s.as_str() {
            "none" => Ok(Body::None),
            "json-transfer" => Ok(Body::JsonTransfer),
            "binary-batch" => Ok(Body::BinaryBatch),
            _ => Err(cx.expected(v, field, EXPECT)),
        },
        Value::Table(t) => {
            if let Some(extra) = t.keys().find(|k| k.as_str() != "template") {
                return Err(cx.err(
                    v.span(),
                    format!("{field}.{extra}"),
                    "unknown key; a body table has only `template`",
                ));
            }
            match t.get("template") {
                Some(Value::String(s)) => {
                    let text = Text {
                        text: s,
                        place: Place::Body,
                        span: v.span(),
                        field: &format!("{field}.template"),
                    };
                    known.check(cx, &text)?;
                    Ok(Body::Template(s.clone()))
                }
                Some(other) => Err(cx.err(
                    v.span(),
                    format!("{field}.template"),
                    format!("expected a string, found {}", describe(other)),
                )),
                None => Err(cx.err(
                    v.span(),
                    format!("{field}.template"),
                    "missing: a body table needs template = \"...\"",
                )),
            }
        }
        _ => Err(cx.expected(v, field, EXPECT)),
    }
}

fn statuses(cx: &Ctx, v: &S<Value>, field: &str) -> Result<Vec<u16>> {
    const EXPECT: &str = "an HTTP status code (100-599) or a list of them";
    let one = |x: &Value| match x {
        Value::Integer(i) if (100..=599).contains(i) => Some(*i as u16),
        _ => None,
    };
    match v.get_ref() {
        Value::Array(items) if !items.is_empty() => {
            let mut out = Vec::with_capacity(items.len());
            for x in items {
                out.push(one(x).ok_or_else(|| {
                    cx.err(
                        v.span(),
                        field,
                        format!("expected {EXPECT}, found {}", describe(x)),
                    )
                })?);
            }
            Ok(out)
        }
        other => one(other)
            .map(|s| vec![s])
            .ok_or_else(|| cx.expected(v, field, EXPECT)),
    }
}

/// A pipelined connection writes each request before the answers ahead of it arrive, so no
/// answer could set a variable for a later request: `extract` and `setup` need `pipeline = 1`.
pub(super) fn check_pipelined_flows(
    cx: &Ctx,
    raw: &[S<RawRequest>],
    http: &crate::plan::HttpOptions,
) -> Result<()> {
    if http.pipeline <= 1 {
        return Ok(());
    }
    for (i, req) in raw.iter().enumerate() {
        let r = req.get_ref();
        let (span, key) = match (r.extract.first(), &r.setup) {
            (Some(e), _) => (e.span(), "extract"),
            (None, Some(s)) if *s.get_ref() => (s.span(), "setup"),
            _ => continue,
        };
        return Err(cx.err(
            span,
            format!("requests[{i}].{key}"),
            format!(
                "[http] pipeline = {} writes each request before the answers ahead of it arrive, so no answer can set a variable for it: drop {key} or set pipeline = 1",
                http.pipeline
            ),
        ));
    }
    Ok(())
}
