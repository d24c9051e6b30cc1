//! Validation: raw structs in, one immutable [`Plan`] out, or the first problem found.
//!
//! Checks run in file order (scenario, target, workload, http, requests, stages, criteria,
//! capacity, output) and then across sections, so the error a user sees first is the one
//! nearest the top of the file. Each check names the field by its path and points at the span
//! `serde_spanned` kept for it.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use toml::Value;

use crate::error::{ErrorKind, ScenarioError};
use crate::plan::*;
use crate::raw::*;
use crate::units::{self, format_duration, UnitError};

type Result<T> = std::result::Result<T, ScenarioError>;

const EXPECT_DURATION: &str = "a duration such as \"5m\" or \"500ms\"";
const EXPECT_RATE: &str = "a rate such as \"10k/s\" or \"8.51M/s\", or a number";
const EXPECT_SIZE: &str = "a size such as \"256MiB\" or \"100MB\", or a whole number of bytes";
const EXPECT_FRACTION: &str = "a percentage such as \"0.01%\" or a fraction from 0 to 1";
const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];
const MAX_WORKERS: f64 = 100_000.0;
const MAX_BATCH: u64 = 1_048_576;
const DEFAULT_HEALTH_PATH: &str = "/api/v11/health";

/// Where errors point: the file name for messages and its text for line/column.
struct Ctx<'a> {
    file: &'a Path,
    src: &'a str,
}

impl Ctx<'_> {
    fn err(
        &self,
        span: Range<usize>,
        field: impl Into<String>,
        msg: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::at(
            ErrorKind::Invalid,
            self.file,
            self.src,
            Some(span),
            Some(field.into()),
            msg.into(),
        )
    }

    fn err_nowhere(&self, field: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
        ScenarioError::at(
            ErrorKind::Invalid,
            self.file,
            self.src,
            None,
            Some(field.into()),
            msg.into(),
        )
    }

    /// "expected X, found Y" at `v`.
    fn expected(&self, v: &S<Value>, field: &str, what: &str) -> ScenarioError {
        self.err(
            v.span(),
            field,
            format!("expected {what}, found {}", describe(v.get_ref())),
        )
    }

    fn unit_err(&self, v: &S<Value>, field: &str, what: &str, e: UnitError) -> ScenarioError {
        let suffix = match e {
            UnitError::Syntax => "",
            UnitError::Overflow => " (too large)",
        };
        self.err(
            v.span(),
            field,
            format!("expected {what}, found {}{suffix}", describe(v.get_ref())),
        )
    }

    fn duration(&self, v: &S<Value>, field: &str) -> Result<Duration> {
        match v.get_ref() {
            Value::String(s) => {
                units::parse_duration(s).map_err(|e| self.unit_err(v, field, EXPECT_DURATION, e))
            }
            _ => Err(self.expected(v, field, EXPECT_DURATION)),
        }
    }

    fn positive_duration(&self, v: &S<Value>, field: &str) -> Result<Duration> {
        let d = self.duration(v, field)?;
        if d.is_zero() {
            return Err(self.err(v.span(), field, "must be greater than zero"));
        }
        Ok(d)
    }

    /// A rate per second, finite and > 0.
    fn rate(&self, v: &S<Value>, field: &str) -> Result<f64> {
        let r = match v.get_ref() {
            Value::String(s) => {
                units::parse_rate(s).map_err(|e| self.unit_err(v, field, EXPECT_RATE, e))?
            }
            Value::Integer(i) => *i as f64,
            Value::Float(f) if f.is_finite() => *f,
            _ => return Err(self.expected(v, field, EXPECT_RATE)),
        };
        if r <= 0.0 {
            return Err(self.err(
                v.span(),
                field,
                format!("must be greater than zero, found {}", describe(v.get_ref())),
            ));
        }
        Ok(r)
    }

    fn size(&self, v: &S<Value>, field: &str) -> Result<u64> {
        match v.get_ref() {
            Value::String(s) => {
                units::parse_size(s).map_err(|e| self.unit_err(v, field, EXPECT_SIZE, e))
            }
            Value::Integer(i) => {
                u64::try_from(*i).map_err(|_| self.expected(v, field, EXPECT_SIZE))
            }
            _ => Err(self.expected(v, field, EXPECT_SIZE)),
        }
    }

    /// A fraction in 0..=1 given as "0.01%" or a number.
    fn fraction(&self, v: &S<Value>, field: &str) -> Result<f64> {
        let f = match v.get_ref() {
            Value::String(s) => {
                units::parse_percent(s).map_err(|e| self.unit_err(v, field, EXPECT_FRACTION, e))?
            }
            Value::Integer(i) => *i as f64,
            Value::Float(f) => *f,
            _ => return Err(self.expected(v, field, EXPECT_FRACTION)),
        };
        if !(0.0..=1.0).contains(&f) {
            return Err(self.err(
                v.span(),
                field,
                format!(
                    "must be between 0 and 1 (0% to 100%), found {}",
                    describe(v.get_ref())
                ),
            ));
        }
        Ok(f)
    }

    fn u32_in(&self, v: &S<u64>, field: &str, min: u64, max: u64) -> Result<u32> {
        let n = *v.get_ref();
        if n < min || n > max {
            return Err(self.err(
                v.span(),
                field,
                format!("must be from {min} to {max}, found {n}"),
            ));
        }
        u32::try_from(n).map_err(|_| {
            self.err(
                v.span(),
                field,
                format!("must be at most {}, found {n}", u32::MAX),
            )
        })
    }
}

/// A short description of a TOML value for "found ..." messages.
fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Integer(i) => format!("integer {i}"),
        Value::Float(f) => format!("float {f}"),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::Datetime(d) => format!("datetime {d}"),
        Value::Array(_) => "an array".into(),
        Value::Table(_) => "a table".into(),
    }
}

/// Validates a deserialized scenario into a plan.
pub(crate) fn plan(raw: RawScenarioFile, src: &str, file: &Path) -> Result<Plan> {
    let cx = Ctx { file, src };
    let header = raw.scenario.get_ref();

    let name = header.name.get_ref().clone();
    if name.is_empty()
        || name.len() > 100
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(cx.err(
            header.name.span(),
            "scenario.name",
            format!("expected 1 to 100 characters from [A-Za-z0-9_-] (it names report directories), found {name:?}"),
        ));
    }
    let description = header.description.as_ref().map(|d| d.get_ref().clone());
    let driver = match header.driver.as_ref().map(|d| *d.get_ref()) {
        None | Some(RawDriver::Native) => Driver::Native,
        Some(RawDriver::Goose) => Driver::Goose,
    };
    let scenario_warmup = header
        .warmup
        .as_ref()
        .map(|w| cx.duration(w, "scenario.warmup"))
        .transpose()?;

    let target = target(&cx, &raw.target)?;
    let workload = workload(&cx, raw.workload.as_ref())?;
    let http = http_options(&cx, raw.http.as_ref(), &target)?;
    let requests = requests(&cx, &raw.requests, &raw.target, &target)?;
    let stages = stages(&cx, &raw.stages)?;

    // Cross-section rules.
    check_tps_stages(&cx, &raw.stages, &stages, &target, &requests)?;
    if driver == Driver::Goose {
        check_goose(&cx, header, &raw.stages, &stages, &target)?;
    }
    let total: Duration = stages.iter().map(|s| s.duration).sum();
    let warmup = warmup(&cx, header, &raw.stages, &stages, scenario_warmup, total)?;
    let criteria = criteria(&cx, raw.criteria.as_ref(), &target)?;
    let capacity = capacity(&cx, raw.capacity.as_ref(), &stages)?;
    let output = output(&cx, raw.output.as_ref())?;

    Ok(Plan {
        name,
        description,
        file: file.to_path_buf(),
        sha256: sha256_hex(src.as_bytes()),
        driver,
        target,
        workload,
        http,
        requests,
        stages,
        warmup,
        criteria,
        capacity,
        output,
        duration_scale: 1.0,
    })
}

/// Lower-case hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn target(cx: &Ctx, raw: &S<RawTarget>) -> Result<Target> {
    let t = raw.get_ref();
    let kind = *t.kind.get_ref();
    let kind_name = match kind {
        RawTargetKind::InProcess => "in-process",
        RawTargetKind::Http => "http",
        RawTargetKind::Spawn => "spawn",
    };
    let only = |present: Option<Range<usize>>, key: &str, allowed: &str| -> Result<()> {
        match present {
            Some(span) => Err(cx.err(
                span,
                format!("target.{key}"),
                format!("only allowed with {allowed}, but target.kind = {kind_name:?}"),
            )),
            None => Ok(()),
        }
    };
    let allow_remote = t.allow_remote.as_ref().is_some_and(|a| *a.get_ref());
    // Fields that only a spawn target may set, checked for the other kinds.
    let spawn_only = || -> Result<()> {
        only(
            t.command.as_ref().map(|v| v.span()),
            "command",
            "kind = \"spawn\"",
        )?;
        only(
            t.health_path.as_ref().map(|v| v.span()),
            "health_path",
            "kind = \"spawn\"",
        )?;
        only(
            t.startup_timeout.as_ref().map(|v| v.span()),
            "startup_timeout",
            "kind = \"spawn\"",
        )
    };
    match kind {
        RawTargetKind::InProcess => {
            only(t.url.as_ref().map(|v| v.span()), "url", "kind = \"http\"")?;
            spawn_only()?;
            only(
                t.allow_remote.as_ref().map(|v| v.span()),
                "allow_remote",
                "kind = \"http\" or \"spawn\"",
            )?;
            Ok(Target::InProcess)
        }
        RawTargetKind::Http => {
            spawn_only()?;
            let url = t.url.as_ref().ok_or_else(|| {
                cx.err(
                    raw.span(),
                    "target.url",
                    "required when target.kind = \"http\", e.g. url = \"http://127.0.0.1:8080\"",
                )
            })?;
            let base_url = check_url(url.get_ref()).map_err(|why| {
                cx.err(
                    url.span(),
                    "target.url",
                    format!(
                        "expected a URL such as \"http://127.0.0.1:8080\", found {:?}: {why}",
                        url.get_ref()
                    ),
                )
            })?;
            Ok(Target::Http {
                base_url,
                allow_remote,
            })
        }
        RawTargetKind::Spawn => {
            only(
                t.url.as_ref().map(|v| v.span()),
                "url",
                "kind = \"http\" (a spawned server prints its own address)",
            )?;
            let command = t.command.as_ref().ok_or_else(|| {
                cx.err(raw.span(), "target.command", "required when target.kind = \"spawn\", e.g. command = [\"engine\", \"serve\", \"--addr\", \"127.0.0.1:0\"]")
            })?;
            if command.get_ref().is_empty() {
                return Err(cx.err(
                    command.span(),
                    "target.command",
                    "must not be empty: give the program and its arguments",
                ));
            }
            if command.get_ref()[0].trim().is_empty() {
                return Err(cx.err(
                    command.span(),
                    "target.command[0]",
                    "the program name must not be empty",
                ));
            }
            let health_path = match &t.health_path {
                Some(p) => {
                    check_path(p.get_ref())
                        .map_err(|why| cx.err(p.span(), "target.health_path", why))?;
                    p.get_ref().clone()
                }
                None => DEFAULT_HEALTH_PATH.to_string(),
            };
            let startup_timeout = match &t.startup_timeout {
                Some(v) => cx.positive_duration(v, "target.startup_timeout")?,
                None => Duration::from_secs(10),
            };
            Ok(Target::Spawn {
                command: command.get_ref().clone(),
                health_path,
                startup_timeout,
                allow_remote,
            })
        }
    }
}

/// Checks `http://host[:port][/path]` and returns it without a trailing slash. Loopback is not
/// checked here: the harness does that, with its `--allow-remote` flag.
fn check_url(url: &str) -> std::result::Result<String, String> {
    let rest = match url.strip_prefix("http://") {
        Some(rest) => rest,
        None if url.starts_with("https://") => {
            return Err("https is not supported (the driver speaks plain HTTP)".into())
        }
        None => return Err("it must start with \"http://\"".into()),
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if path.contains(['?', '#']) {
        return Err("a base URL cannot have a query or fragment".into());
    }
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the path contains whitespace".into());
    }
    if authority.contains('@') {
        return Err("user information is not supported".into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']').ok_or("unclosed '[' in the host")?;
        v6[..close]
            .parse::<std::net::Ipv6Addr>()
            .map_err(|_| "the IPv6 address does not parse")?;
        let after = &v6[close + 1..];
        match after.strip_prefix(':') {
            Some(p) => (&authority[..close + 2], Some(p)),
            None if after.is_empty() => (authority, None),
            None => return Err("unexpected text after the IPv6 address".into()),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("the host is missing".into());
    }
    if !host.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(format!(
            "the host {host:?} is not a valid host name or address"
        ));
    }
    if let Some(p) = port {
        match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => {}
            _ => return Err(format!("the port {p:?} is not a number from 1 to 65535")),
        }
    }
    Ok(format!("http://{authority}{}", path.trim_end_matches('/')))
}

/// A request path: starts with '/', no whitespace or control characters, no fragment.
fn check_path(p: &str) -> std::result::Result<(), String> {
    if !p.starts_with('/') {
        return Err(format!("must start with '/', found {p:?}"));
    }
    if p.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "must not contain whitespace or control characters, found {p:?}"
        ));
    }
    if p.contains('#') {
        return Err(format!("must not contain a fragment ('#'), found {p:?}"));
    }
    Ok(())
}

fn workload(cx: &Ctx, raw: Option<&S<RawWorkload>>) -> Result<Workload> {
    let mut w = Workload {
        accounts: 1_000_000,
        initial_balance: 1_000_000_000,
        batch_size: 1024,
        distribution: Distribution::Uniform,
        amount_min: 1,
        amount_max: 100,
        invalid: InvalidMix::default(),
        design: EngineDesign::SingleWriter,
        shards: None,
        seed: 1,
        synthetic_cost: 0,
    };
    let Some(raw) = raw else { return Ok(w) };
    let r = raw.get_ref();
    if let Some(a) = &r.accounts {
        if *a.get_ref() < 2 {
            return Err(cx.err(
                a.span(),
                "workload.accounts",
                format!(
                    "must be at least 2 (a transfer needs a sender and a receiver), found {}",
                    a.get_ref()
                ),
            ));
        }
        w.accounts = *a.get_ref();
    }
    if let Some(b) = &r.initial_balance {
        if *b.get_ref() < 1 {
            return Err(cx.err(b.span(), "workload.initial_balance", "must be at least 1"));
        }
        w.initial_balance = *b.get_ref();
    }
    if w.accounts.checked_mul(w.initial_balance).is_none() {
        let span = r
            .initial_balance
            .as_ref()
            .or(r.accounts.as_ref())
            .map_or(raw.span(), |v| v.span());
        return Err(cx.err(
            span,
            "workload.initial_balance",
            format!(
                "total supply accounts * initial_balance = {} * {} overflows u64 (max {}); lower one of them",
                w.accounts,
                w.initial_balance,
                u64::MAX
            ),
        ));
    }
    if let Some(b) = &r.batch_size {
        w.batch_size = cx.u32_in(b, "workload.batch_size", 1, MAX_BATCH)?;
    }
    let zipf = r
        .distribution
        .as_ref()
        .is_some_and(|d| *d.get_ref() == RawDistribution::Zipf);
    match (&r.zipf_exponent, zipf) {
        (Some(e), true) => {
            let x = *e.get_ref();
            if !(x.is_finite() && x > 0.0) {
                return Err(cx.err(
                    e.span(),
                    "workload.zipf_exponent",
                    format!("must be a number greater than 0, found {x}"),
                ));
            }
            w.distribution = Distribution::Zipf { exponent: x };
        }
        (None, true) => {
            let span = r.distribution.as_ref().map_or(raw.span(), |d| d.span());
            return Err(cx.err(
                span,
                "workload.zipf_exponent",
                "required when distribution = \"zipf\", e.g. zipf_exponent = 1.1",
            ));
        }
        (Some(e), false) => {
            return Err(cx.err(
                e.span(),
                "workload.zipf_exponent",
                "only allowed with distribution = \"zipf\"",
            ));
        }
        (None, false) => {}
    }
    if let Some(a) = &r.amount {
        let items = a.get_ref();
        if items.len() != 2 {
            return Err(cx.err(
                a.span(),
                "workload.amount",
                format!(
                    "expected [min, max] (two integers), found {} values",
                    items.len()
                ),
            ));
        }
        let (min, max) = (*items[0].get_ref(), *items[1].get_ref());
        if min < 1 {
            return Err(cx.err(items[0].span(), "workload.amount[0]", "the minimum amount must be at least 1 (zero amounts are an invalid kind: use workload.invalid.zero_amount)"));
        }
        if min > max {
            return Err(cx.err(
                a.span(),
                "workload.amount",
                format!("min {min} is greater than max {max}"),
            ));
        }
        w.amount_min = min;
        w.amount_max = max;
    }
    if let Some(d) = &r.design {
        w.design = match d.get_ref() {
            RawDesign::SingleWriter => EngineDesign::SingleWriter,
            RawDesign::Cas => EngineDesign::Cas,
        };
    }
    if let Some(s) = &r.shards {
        let n = cx.u32_in(s, "workload.shards", 1, 65_536)?;
        if u64::from(n) > w.accounts {
            return Err(cx.err(
                s.span(),
                "workload.shards",
                format!(
                    "{n} shards for {} accounts: each shard needs at least one account",
                    w.accounts
                ),
            ));
        }
        w.shards = Some(n);
    }
    if let Some(s) = &r.seed {
        w.seed = *s.get_ref();
    }
    if let Some(c) = &r.synthetic_cost {
        w.synthetic_cost = cx.u32_in(c, "workload.synthetic_cost", 0, 1_000_000)?;
    }
    if let Some(inv) = &r.invalid {
        let i = inv.get_ref();
        let f = |v: &Option<S<Value>>, key: &str| -> Result<f64> {
            v.as_ref().map_or(Ok(0.0), |v| {
                cx.fraction(v, &format!("workload.invalid.{key}"))
            })
        };
        w.invalid = InvalidMix {
            bad_nonce: f(&i.bad_nonce, "bad_nonce")?,
            unknown_account: f(&i.unknown_account, "unknown_account")?,
            self_transfer: f(&i.self_transfer, "self_transfer")?,
            zero_amount: f(&i.zero_amount, "zero_amount")?,
            insufficient_funds: f(&i.insufficient_funds, "insufficient_funds")?,
        };
        let total = w.invalid.total();
        // A little slack for fractions written as decimals that sum to exactly 1.
        if total > 1.0 + 1e-9 {
            return Err(cx.err(
                inv.span(),
                "workload.invalid",
                format!("the fractions sum to {total}, more than 1 (100% of transactions)"),
            ));
        }
    }
    Ok(w)
}

fn http_options(cx: &Ctx, raw: Option<&S<RawHttp>>, target: &Target) -> Result<HttpOptions> {
    let mut h = HttpOptions::default();
    let Some(raw) = raw else { return Ok(h) };
    if !target.is_http() {
        return Err(cx.err(
            raw.span(),
            "http",
            "[http] applies only to http and spawn targets, but target.kind = \"in-process\"",
        ));
    }
    let r = raw.get_ref();
    if let Some(t) = &r.timeout {
        h.timeout = cx.positive_duration(t, "http.timeout")?;
    }
    if let Some(b) = &r.http2 {
        h.http2 = *b.get_ref();
    }
    if let Some(c) = &r.connections {
        h.connections = Some(cx.u32_in(c, "http.connections", 1, 1_000_000)?);
    }
    match r.client.as_ref() {
        None if h.http2 => h.client = HttpClient::Hyper,
        None => {}
        Some(c) => match *c.get_ref() {
            RawHttpClient::Hyper => h.client = HttpClient::Hyper,
            RawHttpClient::Builtin if h.http2 => {
                return Err(cx.err(
                    c.span(),
                    "http.client",
                    "the builtin client speaks HTTP/1.1 only: http2 = true needs client = \"hyper\" (or no client key)",
                ))
            }
            RawHttpClient::Builtin => h.client = HttpClient::Builtin,
        },
    }
    Ok(h)
}

fn requests(
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
            Some(m) => {
                let upper = m.get_ref().to_ascii_uppercase();
                if !METHODS.contains(&upper.as_str()) {
                    return Err(cx.err(
                        m.span(),
                        at("method"),
                        format!(
                            "expected one of GET, POST, PUT, DELETE, PATCH, HEAD, found {:?}",
                            m.get_ref()
                        ),
                    ));
                }
                upper
            }
            None => "GET".to_string(),
        };
        check_path(r.path.get_ref()).map_err(|why| cx.err(r.path.span(), at("path"), why))?;
        let mut headers = Vec::with_capacity(r.headers.len());
        for (k, v) in &r.headers {
            let key = k.get_ref();
            let field = at(&format!("headers.{key}"));
            let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            if key.is_empty() || !key.bytes().all(tchar) {
                return Err(cx.err(
                    k.span(),
                    field,
                    format!("{key:?} is not a valid header name"),
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
        out.push(RequestTemplate {
            name,
            method,
            path: r.path.get_ref().clone(),
            headers,
            body,
            expect_status,
            weight,
        });
    }
    Ok(out)
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

fn stages(cx: &Ctx, raw: &[S<RawStage>]) -> Result<Vec<Stage>> {
    if raw.is_empty() {
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
        let duration = cx.positive_duration(&s.duration, &at("duration"))?;
        let given: Vec<(&str, &S<Value>)> =
            [("workers", &s.workers), ("rate", &s.rate), ("tps", &s.tps)]
                .into_iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
                .collect();
        let load = match given.as_slice() {
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
        };
        out.push(Stage {
            name,
            duration,
            load,
            warmup: s.warmup.as_ref().is_some_and(|w| *w.get_ref()),
        });
    }
    Ok(out)
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
fn check_tps_stages(
    cx: &Ctx,
    raw: &[S<RawStage>],
    stages: &[Stage],
    target: &Target,
    requests: &[RequestTemplate],
) -> Result<()> {
    if !target.is_http() {
        return Ok(());
    }
    let Some(offender) = requests
        .iter()
        .enumerate()
        .find(|(_, r)| r.body != Body::BinaryBatch)
    else {
        return Ok(());
    };
    for (i, stage) in stages.iter().enumerate() {
        if let Load::Open {
            unit: RateUnit::TxPerSec,
            ..
        } = stage.load
        {
            let span = raw[i]
                .get_ref()
                .tps
                .as_ref()
                .map_or(raw[i].span(), |t| t.span());
            let (j, req) = offender;
            let body = match &req.body {
                Body::None => "none",
                Body::Template(_) => "a template",
                Body::JsonTransfer => "json-transfer",
                Body::BinaryBatch => "binary-batch",
            };
            return Err(cx.err(
                span,
                format!("stages[{i}].tps"),
                format!(
                    "an open-model `tps` stage needs an in-process target or requests with body = \"binary-batch\", but requests[{j}] ({:?}, {} {}) has body {body}; use `rate` for requests per second",
                    req.name, req.method, req.path
                ),
            ));
        }
    }
    Ok(())
}

fn check_goose(
    cx: &Ctx,
    header: &RawHeader,
    raw: &[S<RawStage>],
    stages: &[Stage],
    target: &Target,
) -> Result<()> {
    let driver_span = header.driver.as_ref().map(|d| d.span()).unwrap_or(0..0);
    if !target.is_http() {
        return Err(cx.err(
            driver_span,
            "scenario.driver",
            "driver = \"goose\" needs an http or spawn target: goose drives HTTP services only",
        ));
    }
    for (i, stage) in stages.iter().enumerate() {
        if let Load::Open { unit, .. } = stage.load {
            let (key, span) = match unit {
                RateUnit::OpsPerSec => ("rate", raw[i].get_ref().rate.as_ref().map(|v| v.span())),
                RateUnit::TxPerSec => ("tps", raw[i].get_ref().tps.as_ref().map(|v| v.span())),
            };
            return Err(cx.err(
                span.unwrap_or(raw[i].span()),
                format!("stages[{i}].{key}"),
                "driver = \"goose\" supports only closed-model stages (`workers`): goose has no arrival-rate model, so a rate could not be honoured",
            ));
        }
    }
    Ok(())
}

fn warmup(
    cx: &Ctx,
    header: &RawHeader,
    raw: &[S<RawStage>],
    stages: &[Stage],
    scenario_warmup: Option<Duration>,
    total: Duration,
) -> Result<Duration> {
    let leading = stages.iter().take_while(|s| s.warmup).count();
    if let Some(late) = stages.iter().skip(leading).position(|s| s.warmup) {
        let i = leading + late;
        let span = raw[i]
            .get_ref()
            .warmup
            .as_ref()
            .map_or(raw[i].span(), |w| w.span());
        return Err(cx.err(
            span,
            format!("stages[{i}].warmup"),
            format!(
                "warm-up stages must come first, but stage {:?} before it is not a warm-up",
                stages[i - 1].name
            ),
        ));
    }
    let warmup = match (scenario_warmup, leading) {
        (Some(_), n) if n > 0 => {
            let span = header.warmup.as_ref().map_or(0..0, |w| w.span());
            return Err(cx.err(
                span,
                "scenario.warmup",
                "set either [scenario] warmup or `warmup = true` on leading stages, not both",
            ));
        }
        (Some(w), _) => w,
        (None, n) => stages[..n].iter().map(|s| s.duration).sum(),
    };
    if warmup >= total {
        let (field, span) = match &header.warmup {
            Some(w) => ("scenario.warmup".to_string(), w.span()),
            None => {
                let i = leading.saturating_sub(1);
                (
                    format!("stages[{i}].warmup"),
                    raw[i]
                        .get_ref()
                        .warmup
                        .as_ref()
                        .map_or(raw[i].span(), |w| w.span()),
                )
            }
        };
        return Err(cx.err(
            span,
            field,
            format!(
                "the warm-up ({}) must be shorter than the whole run ({}), or nothing is measured",
                format_duration(warmup),
                format_duration(total)
            ),
        ));
    }
    Ok(warmup)
}

fn criteria(cx: &Ctx, raw: Option<&S<RawCriteria>>, target: &Target) -> Result<Criteria> {
    let mut c = Criteria::default();
    let Some(raw) = raw else { return Ok(c) };
    let r = raw.get_ref();
    let lat = |v: &Option<S<Value>>, key: &str| {
        v.as_ref()
            .map(|v| cx.positive_duration(v, &format!("criteria.{key}")))
            .transpose()
    };
    c.min_tps = r
        .min_tps
        .as_ref()
        .map(|v| cx.rate(v, "criteria.min_tps"))
        .transpose()?;
    c.min_interval_tps = r
        .min_interval_tps
        .as_ref()
        .map(|v| cx.rate(v, "criteria.min_interval_tps"))
        .transpose()?;
    c.max_p50 = lat(&r.max_p50, "max_p50")?;
    c.max_p90 = lat(&r.max_p90, "max_p90")?;
    c.max_p99 = lat(&r.max_p99, "max_p99")?;
    c.max_p999 = lat(&r.max_p999, "max_p999")?;
    c.max_error_rate = r
        .max_error_rate
        .as_ref()
        .map(|v| cx.fraction(v, "criteria.max_error_rate"))
        .transpose()?;
    c.max_rss = r
        .max_rss
        .as_ref()
        .map(|v| cx.size(v, "criteria.max_rss"))
        .transpose()?;
    c.max_rss_growth = r
        .max_rss_growth
        .as_ref()
        .map(|v| cx.size(v, "criteria.max_rss_growth"))
        .transpose()?;
    c.max_cpu_pct = r
        .max_cpu
        .as_ref()
        .map(|v| cx.fraction(v, "criteria.max_cpu").map(|f| f * 100.0))
        .transpose()?;
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
        tolerances.insert(key.clone(), cx.fraction(v, &field)?);
    }
    c.tolerances = tolerances;
    Ok(c)
}

fn capacity(cx: &Ctx, raw: Option<&S<RawCapacity>>, stages: &[Stage]) -> Result<Option<Capacity>> {
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

fn output(cx: &Ctx, raw: Option<&S<RawOutput>>) -> Result<Output> {
    let mut o = Output::default();
    let Some(raw) = raw else { return Ok(o) };
    let r = raw.get_ref();
    if let Some(v) = &r.interval {
        let d = cx.duration(v, "output.interval")?;
        if d < Duration::from_millis(100) {
            return Err(cx.err(
                v.span(),
                "output.interval",
                format!("must be at least 100ms, found {}", format_duration(d)),
            ));
        }
        o.interval = d;
    }
    if let Some(d) = &r.dir {
        if d.get_ref().trim().is_empty() {
            return Err(cx.err(d.span(), "output.dir", "must not be empty"));
        }
        o.dir = PathBuf::from(d.get_ref());
    }
    if let Some(p) = &r.profile {
        o.profile = *p.get_ref();
    }
    if let Some(hz) = &r.profile_hz {
        o.profile_hz = cx.u32_in(hz, "output.profile_hz", 1, 1000)?;
    }
    Ok(o)
}
