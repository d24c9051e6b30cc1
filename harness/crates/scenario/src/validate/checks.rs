//! `check = [...]` and `extract = [...]` of a request template: what an answer must show, and
//! what is taken from it into the connection's variables.
//!
//! Each entry names exactly one kind (`body_contains`, `json` or `header` for a check; `json`,
//! `header` or `regex` for an extraction), so a table that names two is refused rather than
//! one silently winning. Everything the run would otherwise trip over is settled here: JSON
//! pointers are RFC 6901, header names are tokens (stored lower-case, as the run compares
//! them), a regex compiles with the engine the run uses and has at most one capture group, and
//! an extracted variable's name can be written `{{name}}` without meaning something else.

use std::collections::BTreeSet;
use std::ops::Range;

use toml::Value;

use super::data::Loaded;
use super::url::is_header_name;
use super::values::{describe, Ctx};
use super::Result;
use crate::plan::{Check, Extract, ExtractFrom, TEMPLATE_PLACEHOLDERS};
use crate::raw::{RawCheck, RawExtract, S};
use crate::template::is_identifier;

/// Template `i`'s checks; `method` tells whether answers have a body to check.
pub(super) fn checks(cx: &Ctx, i: usize, method: &str, raw: &[S<RawCheck>]) -> Result<Vec<Check>> {
    let mut out = Vec::with_capacity(raw.len());
    for (j, entry) in raw.iter().enumerate() {
        let field = format!("requests[{i}].check[{j}]");
        let c = entry.get_ref();
        let kinds = [
            ("body_contains", c.body_contains.as_ref()),
            ("json", c.json.as_ref()),
            ("header", c.header.as_ref()),
        ];
        let (kind, value) = one_of(cx, entry.span(), &field, "check", kinds)?;
        let text = value.get_ref();
        let key = |k: &str| format!("{field}.{k}");
        let check = match kind {
            "body_contains" => {
                if let Some(e) = &c.equals {
                    return Err(cx.err(
                        e.span(),
                        key("equals"),
                        "`equals` goes with `json` or `header` checks; body_contains is itself the text to find",
                    ));
                }
                if text.is_empty() {
                    return Err(cx.err(value.span(), key(kind), "must not be empty"));
                }
                Check::BodyContains(text.clone())
            }
            "json" => Check::Json {
                pointer: pointer(cx, value, &key(kind))?,
                equals: c
                    .equals
                    .as_ref()
                    .map(|e| json_value(cx, e, &key("equals")))
                    .transpose()?,
            },
            _ => Check::Header {
                name: header_name(cx, value, &key(kind))?,
                equals: c
                    .equals
                    .as_ref()
                    .map(|e| header_value(cx, e, &key("equals")))
                    .transpose()?,
            },
        };
        no_body_on_head(cx, method, kind != "header", value.span(), &key(kind))?;
        out.push(check);
    }
    Ok(out)
}

/// Template `i`'s extractions. A variable may not shadow a placeholder or a data source's
/// name, nor be set twice by one template (which value would win?); several templates may set
/// it (each answer updates the connection's value).
pub(super) fn extracts(
    cx: &Ctx,
    i: usize,
    method: &str,
    raw: &[S<RawExtract>],
    data: &[Loaded],
) -> Result<Vec<Extract>> {
    let mut vars = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (j, entry) in raw.iter().enumerate() {
        let field = format!("requests[{i}].extract[{j}]");
        let e = entry.get_ref();
        let var = var_name(cx, &e.var, &format!("{field}.var"), data, &mut vars)?;
        let kinds = [
            ("json", e.json.as_ref()),
            ("header", e.header.as_ref()),
            ("regex", e.regex.as_ref()),
        ];
        let (kind, value) = one_of(cx, entry.span(), &field, "extraction", kinds)?;
        let key = format!("{field}.{kind}");
        let from = match kind {
            "json" => ExtractFrom::Json(pointer(cx, value, &key)?),
            "header" => ExtractFrom::Header(header_name(cx, value, &key)?),
            _ => ExtractFrom::Regex(regex(cx, value, &key)?),
        };
        no_body_on_head(cx, method, kind != "header", value.span(), &key)?;
        out.push(Extract { var, from });
    }
    Ok(out)
}

/// A variable name `{{name}}` can only mean this: no placeholder's, no data source's, and not
/// already set by this template (`vars`).
fn var_name(
    cx: &Ctx,
    raw: &S<String>,
    field: &str,
    data: &[Loaded],
    vars: &mut BTreeSet<String>,
) -> Result<String> {
    let var = raw.get_ref();
    let why = if !is_identifier(var) {
        format!("expected a variable name from [A-Za-z_][A-Za-z0-9_]*, found {var:?}")
    } else if TEMPLATE_PLACEHOLDERS.contains(&var.as_str()) {
        format!("{var:?} is a built-in placeholder ({{{{{var}}}}}); choose another name")
    } else if data.iter().any(|l| l.source.name == *var) {
        format!(
            "{var:?} is the name of a [[data]] source ({{{{{var}.column}}}}); choose another name"
        )
    } else if !vars.insert(var.clone()) {
        format!("this template already extracts {var:?}")
    } else {
        return Ok(var.clone());
    };
    Err(cx.err(raw.span(), field, why))
}

/// The one key of `kinds` an entry sets (`what` is "check" or "extraction").
fn one_of<'a>(
    cx: &Ctx,
    span: Range<usize>,
    field: &str,
    what: &str,
    kinds: [(&'static str, Option<&'a S<String>>); 3],
) -> Result<(&'static str, &'a S<String>)> {
    let names = format!("`{}`, `{}` or `{}`", kinds[0].0, kinds[1].0, kinds[2].0);
    let mut set = kinds.iter().filter_map(|(k, v)| v.map(|v| (*k, v)));
    let Some(first) = set.next() else {
        let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        return Err(cx.err(
            span,
            field,
            format!("{article} {what} needs exactly one of {names}"),
        ));
    };
    match set.next() {
        None => Ok(first),
        Some((second, v)) => Err(cx.err(
            v.span(),
            format!("{field}.{second}"),
            format!(
                "set exactly one of {names} per {what}, found both `{}` and `{second}`",
                first.0
            ),
        )),
    }
}

/// An RFC 6901 JSON pointer: "" (the whole document) or "/"-separated tokens in which `~` is
/// only ever `~0` or `~1`.
fn pointer(cx: &Ctx, v: &S<String>, field: &str) -> Result<String> {
    let p = v.get_ref();
    if !p.is_empty() && !p.starts_with('/') {
        return Err(cx.err(
            v.span(),
            field,
            format!("expected a JSON pointer (RFC 6901) such as \"/status\" or \"/items/0/id\" (\"\" is the whole body), found {p:?}"),
        ));
    }
    let mut rest = p.as_str();
    while let Some(t) = rest.find('~') {
        rest = &rest[t + 1..];
        if !rest.starts_with(['0', '1']) {
            return Err(cx.err(
                v.span(),
                field,
                format!("in a JSON pointer \"~\" must be followed by 0 or 1 (\"~0\" is \"~\", \"~1\" is \"/\"), found {p:?}"),
            ));
        }
    }
    Ok(p.clone())
}

/// A header name, lower-cased (the run compares names in lower case).
fn header_name(cx: &Ctx, v: &S<String>, field: &str) -> Result<String> {
    if !is_header_name(v.get_ref()) {
        return Err(cx.err(
            v.span(),
            field,
            format!("{:?} is not a valid header name", v.get_ref()),
        ));
    }
    Ok(v.get_ref().to_ascii_lowercase())
}

/// A `json` check's `equals`: a TOML scalar as the JSON value it is compared with.
fn json_value(cx: &Ctx, v: &S<Value>, field: &str) -> Result<serde_json::Value> {
    const EXPECT: &str = "a string, integer, float or boolean to compare with";
    match v.get_ref() {
        Value::String(s) => Ok(serde_json::Value::String(s.clone())),
        Value::Integer(i) => Ok(serde_json::Value::from(*i)),
        Value::Boolean(b) => Ok(serde_json::Value::Bool(*b)),
        // JSON has no NaN or infinity, so no answer could ever equal one.
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .ok_or_else(|| cx.expected(v, field, "a finite float (JSON has no NaN or infinity)")),
        _ => Err(cx.expected(v, field, EXPECT)),
    }
}

/// A `header` check's `equals`: a string.
fn header_value(cx: &Ctx, v: &S<Value>, field: &str) -> Result<String> {
    match v.get_ref() {
        Value::String(s) => Ok(s.clone()),
        other => Err(cx.err(
            v.span(),
            field,
            format!(
                "expected a string (a header value), found {}",
                describe(other)
            ),
        )),
    }
}

/// A pattern that compiles, with at most one capture group (the value).
fn regex(cx: &Ctx, v: &S<String>, field: &str) -> Result<String> {
    let re = regex::Regex::new(v.get_ref())
        .map_err(|e| cx.err(v.span(), field, format!("does not compile: {e}")))?;
    // captures_len counts the implicit group 0, the whole match.
    let groups = re.captures_len() - 1;
    if groups > 1 {
        return Err(cx.err(
            v.span(),
            field,
            format!("has {groups} capture groups, so which one is the value is unclear: keep one around the value and make the others non-capturing, (?:...)"),
        ));
    }
    Ok(v.get_ref().clone())
}

/// An answer to HEAD has no body, so a check or extraction that reads one could never pass.
fn no_body_on_head(
    cx: &Ctx,
    method: &str,
    reads_body: bool,
    span: Range<usize>,
    field: &str,
) -> Result<()> {
    if method == "HEAD" && reads_body {
        return Err(cx.err(
            span,
            field,
            "an answer to HEAD has no body to read; use a header check or another method",
        ));
    }
    Ok(())
}
