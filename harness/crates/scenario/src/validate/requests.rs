//! `[[requests]]`: the HTTP request templates an http or spawn target is driven with.
//!
//! Each template is checked on its own (unique name, a method we send, a path, header names and
//! values that cannot break the request line, a body kind, expected statuses, a weight), so an
//! error names the template by index and key: `requests[2].headers.accept`.

use std::collections::BTreeSet;

use toml::Value;

use super::url::check_path;
use super::values::{describe, Ctx};
use super::Result;
use crate::plan::{Body, RequestTemplate, Target, TEMPLATE_PLACEHOLDERS};
use crate::raw::{RawRequest, RawTarget, S};

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];

pub(super) fn requests(
    cx: &Ctx,
    raw: &[S<RawRequest>],
    raw_target: &S<RawTarget>,
    target: &Target,
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
    let mut names = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, req) in raw.iter().enumerate() {
        out.push(request(cx, i, req, &mut names)?);
    }
    Ok(out)
}

/// Template `i`; `names` holds the names of the templates before it.
fn request(
    cx: &Ctx,
    i: usize,
    req: &S<RawRequest>,
    names: &mut BTreeSet<String>,
) -> Result<RequestTemplate> {
    let r = req.get_ref();
    let at = |key: &str| format!("requests[{i}].{key}");
    let name = match &r.name {
        Some(n) if n.get_ref().trim().is_empty() => {
            return Err(cx.err(n.span(), at("name"), "must not be empty"));
        }
        Some(n) => n.get_ref().clone(),
        None => format!("request-{}", i + 1),
    };
    if !names.insert(name.clone()) {
        let span = r.name.as_ref().map_or(req.span(), |n| n.span());
        return Err(cx.err(span, at("name"), format!("duplicate request name {name:?}")));
    }
    let method = match &r.method {
        Some(m) => method(cx, m, &at("method"))?,
        None => "GET".to_string(),
    };
    check_path(r.path.get_ref()).map_err(|why| cx.err(r.path.span(), at("path"), why))?;
    let headers = headers(cx, r, i)?;
    let body = match &r.body {
        Some(b) => body(cx, b, &at("body"))?,
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
    let weight = match &r.weight {
        Some(w) => cx.u32_in(w, &at("weight"), 1, 1_000_000)?,
        None => 1,
    };
    Ok(RequestTemplate {
        name,
        method,
        path: r.path.get_ref().clone(),
        headers,
        body,
        expect_status,
        weight,
        setup: false,
        checks: Vec::new(),
        extract: Vec::new(),
    })
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
/// characters but tab (a newline would end the header early).
fn headers(cx: &Ctx, r: &RawRequest, i: usize) -> Result<Vec<(String, String)>> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    let mut headers = Vec::with_capacity(r.headers.len());
    for (k, v) in &r.headers {
        let key = k.get_ref();
        let field = format!("requests[{i}].headers.{key}");
        if key.is_empty() || !key.bytes().all(tchar) {
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
        headers.push((key.to_ascii_lowercase(), v.get_ref().clone()));
    }
    Ok(headers)
}

fn body(cx: &Ctx, v: &S<Value>, field: &str) -> Result<Body> {
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
                    check_template(s)
                        .map_err(|why| cx.err(v.span(), format!("{field}.template"), why))?;
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

/// Every `{{name}}` in a template must be a known placeholder.
fn check_template(s: &str) -> std::result::Result<(), String> {
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or("unclosed \"{{\" in template")?;
        let name = after[..close].trim();
        if !TEMPLATE_PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder {{{{{name}}}}}; known: {}",
                TEMPLATE_PLACEHOLDERS
                    .map(|p| format!("{{{{{p}}}}}"))
                    .join(" ")
            ));
        }
        rest = &after[close + 2..];
    }
    Ok(())
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
