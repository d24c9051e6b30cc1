//! Scenario files: parse, validate, plan.
//!
//! `harness run scenarios/X.toml` and `harness validate FILE...` read a TOML scenario with
//! [`load`] (or [`parse`]), which deserializes it into raw serde structs that keep spans and
//! validates them once into an immutable, typed [`Plan`] (durations are `Duration`s, rates are
//! per-second numbers, sizes are bytes, exclusive modes are enums). Nothing downstream reads the
//! TOML again. Any problem is a [`ScenarioError`] naming the file, line, column and field and
//! saying what was expected, e.g.
//! `scenarios/x.toml:12:12: stages[1].duration: expected a duration such as "5m" or "500ms", found "5 minutes"`.
//! Unknown keys are errors, so a typo never silently changes a benchmark.
//!
//! # Format
//!
//! ```toml
//! [scenario]
//! name = "smoke"                # required; [A-Za-z0-9_-]+ (used in directory names)
//! description = "..."           # optional
//! driver = "native"             # "native" (default) | "goose" (http/spawn, HTTP/1.1, closed model only)
//! warmup = "2s"                 # optional; or mark leading stages `warmup = true` (not both)
//!
//! [target]                      # required
//! kind = "in-process"           # "in-process" | "http" | "spawn"
//! # url = "http://127.0.0.1:8080"          # http only: http[s]://host[:port][/path]
//! # command = ["engine", "serve", "--addr", "127.0.0.1:0"]   # spawn only, non-empty
//! # health_path = "/api/v11/health"        # spawn; default shown
//! # startup_timeout = "10s"                # spawn; default 10s
//! # allow_remote = false                   # http/spawn; the harness checks loopback
//!
//! [workload]                    # optional; defaults shown
//! accounts = 1_000_000          # >= 2
//! initial_balance = 1_000_000_000   # >= 1; accounts * initial_balance must fit in u64
//! batch_size = 1024             # 1 ..= 1_048_576
//! distribution = "uniform"      # "uniform" | "zipf" (then zipf_exponent > 0 is required)
//! amount = [1, 100]             # [min, max], 1 <= min <= max
//! design = "single-writer"      # "single-writer" | "cas"
//! # shards = 64                 # optional, 1 ..= 65536 and <= accounts
//! seed = 1
//! [workload.invalid]            # fractions ("0.05%" or 0.0005), each 0..=1, sum <= 1
//! bad_nonce = 0.001             # also unknown_account, self_transfer, zero_amount, insufficient_funds
//!
//! [http]                        # http/spawn only; timeout = "5s", http2 = false, connections = N,
//!                               # client = "builtin" (default, HTTP/1.1) | "hyper" (default with http2),
//!                               # connection = "keep-alive" (default) | "close" (one request per connection),
//!                               # max_requests_per_connection = N (keep-alive only; >= 1),
//!                               # pipeline = 1 (HTTP/1.1 pipelining depth, builtin client only; 1 ..= 1024),
//!                               # max_body = "1MiB" (largest body held for checks; 1KiB ..= 1GiB)
//! [http.tls]                    # https targets only; every key optional (see pem for the files)
//! ca_file = "certs/ca.pem"      # PEM roots added to the system's; relative to this file's directory
//! # insecure = true             # accept any certificate (not with ca_file); said in every report
//! server_name = "localhost"     # SNI and the name the certificate must match; default the URL host
//! client_cert = "client.pem"    # mutual TLS: certificate chain and key, PEM, both or neither
//! client_key = "client.key"
//! versions = ["1.2", "1.3"]     # offered versions; default both
//! resumption = true             # session resumption; default on
//!
//! [[data]]                      # http/spawn only; a feeder read at validation
//! name = "users"                # [A-Za-z_][A-Za-z0-9_]*, unique; variables {{users.<column>}}
//! file = "data/users.csv"       # relative to this file's directory
//! format = "csv"                # "csv" | "jsonl"; default from the extension (.csv, .jsonl, .ndjson)
//! strategy = "queue"            # "queue" (default) | "shuffle" | "random" | "circular"
//!
//! [[requests]]                  # http/spawn: at least one; in-process: none
//! name = "health"               # default "request-N" (1-based); unique
//! method = "GET"                # GET POST PUT DELETE PATCH HEAD (default GET)
//! path = "/api/v11/health"      # required; starts with '/'; {{ }} variables (see `template`)
//! headers = { accept = "application/json" }   # values may hold variables too
//! body = "none"                 # "none" | "json-transfer" | "binary-batch" | { template = "..." }
//! expect_status = [200]         # an integer or a list; default [200]
//! weight = 1                    # >= 1; not with setup = true
//! setup = false                 # true: once per new connection, before its first timed request
//! check = [{ json = "/status", equals = "active" }]   # or body_contains = "..", header = ".."
//! extract = [{ var = "token", json = "/token" }]      # or header = "..", regex = '...'
//!
//! [[stages]]                    # at least one
//! name = "ramp"                 # default "stage-N" (1-based); unique
//! duration = "30s"              # > 0
//! workers = 8                   # closed model: integer or { from = 1, to = 50 }
//! # rate = "10k/s"              # open model, operations/s: value or { from, to }
//! # tps = "8.51M/s"             # open model, transactions/s (one operation = batch_size tx)
//! warmup = false                # warm-up stages must be the leading ones
//!
//! [criteria]                    # every key optional
//! min_tps = "8.51M/s"           # min_interval_tps likewise
//! max_p99 = "5ms"               # max_p50, max_p90, max_p999 likewise
//! max_error_rate = "0.01%"
//! max_rss = "256MiB"            # max_rss_growth likewise; "100MB" is decimal, "MiB" binary
//! max_rss_slope = "1MiB/h"      # least-squares RSS slope after warm-up, target and harness
//! max_cpu = "60%"               # of all cores
//! max_startup = "1s"            # spawn targets only
//! use_calibration = false       # true: a latency limit below the newest calibration's dispatch
//!                               # precision (this host and CPU, <= 7 days old) makes the run invalid
//! [criteria.tolerance]          # tps p50 p90 p99 p999 error_rate rss cpu: relative, 0..=1
//!                               # (up to 10 where lower is better: latency, rss, cpu, instructions)
//! tps = 0.10
//!
//! [capacity]                    # optional
//! mode = "ramp"                 # default; "search" holds probes (below)
//! percentile = 99.0             # in (0, 100)
//! max_latency = "5ms"
//! max_error_rate = "0.1%"       # optional: a probe over it is bad
//! stop_on_break = true          # ramp only, default true; a ramp needs open-model stages
//! start = "1M/s"                # search only, required: the first probe's rate
//! max = "40M/s"                 # search only, required: the highest rate probed
//! growth = 2.0                  # search only; the defaults are shown
//! precision = "2%"              # search: stop bisecting when bad <= good x (1 + precision)
//! probe = "20s"                 # search: each probe's judged time, after
//! settle = "5s"                 # search: the start of each probe, not judged
//! confirm = "60s"               # search: the best good rate held this long at the end
//! max_probes = 20               # search
//! max_time = "15m"              # search
//!
//! [output]                      # optional; defaults shown
//! interval = "1s"               # >= 100ms
//! dir = "reports"
//! profile = false
//! profile_hz = 99               # 1 ..= 1000
//! ```
//!
//! Value syntax is in [`units`]. The warm-up is time from the run start excluded from the
//! verdict: `[scenario] warmup`, or the sum of the leading `warmup = true` stages; it must be
//! shorter than the whole run. A `tps` stage needs an in-process target or requests that all
//! carry `binary-batch` bodies, since only then is the number of transactions per operation
//! known; by the same rule a search's `start` and `max` count transactions, otherwise
//! requests. A search's `[[stages]]` may only be warm-up stages (run once before the first
//! probe), and its `[criteria]` only the dispatch rule and tolerances. Variables in paths, header values and body templates are built-in placeholders,
//! `[[data]]` columns or variables some template extracts ([`template`] splits them, for
//! validation and the run alike); data file problems are [`ErrorKind::Data`] errors naming
//! the data file's line. `driver = "goose"` is checked by [`check_driver`], the same rules the harness applies
//! to a plan after its `--driver goose` override. `scenarios/README.md` describes the same
//! format with the shipped scenarios.

mod driver;
mod error;
pub mod pem;
mod plan;
mod raw;
pub mod template;
pub mod units;
mod validate;

use std::ops::Range;
use std::path::Path;

pub use driver::{check_driver, DriverError};
pub use error::{line_column, ErrorKind, ScenarioError};
pub use plan::*;

/// Reads, parses and validates the scenario file at `path`.
pub fn load(path: &Path) -> Result<Plan, ScenarioError> {
    let bytes = std::fs::read(path).map_err(|e| ScenarioError::io(path, e))?;
    let src = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let (line, column) = line_column(&String::from_utf8_lossy(e.as_bytes()), offset);
        let mut err = ScenarioError::at(
            ErrorKind::Syntax,
            path,
            "",
            None,
            None,
            "the file is not valid UTF-8".into(),
        );
        err.line = Some(line);
        err.column = Some(column);
        err
    })?;
    parse(&src, path)
}

/// Parses and validates scenario text `src`; `file` names it in errors and in the plan (whose
/// `sha256` is that of `src`'s bytes).
pub fn parse(src: &str, file: &Path) -> Result<Plan, ScenarioError> {
    let raw: raw::RawScenarioFile = toml::from_str(src).map_err(|e| toml_error(src, file, &e))?;
    validate::plan(raw, src, file)
}

/// Turns a toml error into a `ScenarioError`, finding the field its span points into.
fn toml_error(src: &str, file: &Path, e: &toml::de::Error) -> ScenarioError {
    let message = polish(e.message());
    let span = e.span();
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
        .map(str::to_string);
    let (field, message) = match missing {
        // A missing key's span is that of the enclosing table: name the table (the one whose
        // span is exactly that, else the document root) plus the missing key.
        Some(key) => {
            let parent = span.clone().and_then(|s| table_with_span(src, s));
            let field = match parent {
                Some(parent) => format!("{parent}.{key}"),
                None => key.clone(),
            };
            (Some(field), format!("required key `{key}` is missing"))
        }
        None => (span.clone().and_then(|s| field_at(src, s)), message),
    };
    ScenarioError::at(ErrorKind::Syntax, file, src, span, field, message)
}

/// Serde's wording names Rust types; scenario authors think in TOML.
fn polish(msg: &str) -> String {
    let msg = msg.trim_end();
    msg.replace("expected u64", "expected a non-negative integer")
        .replace("expected f64", "expected a number")
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected a table")
        .replace("expected struct ", "expected a table ")
}

/// The dotted path (`stages[1].duration`) of the innermost key or value whose span contains
/// `span.start`, found by re-parsing the document with spans. `None` if the text is not valid
/// TOML or nothing contains the offset.
fn field_at(src: &str, span: Range<usize>) -> Option<String> {
    let doc = toml::de::DeTable::parse(src).ok()?;
    let mut best: Option<(usize, String)> = None;
    walk_table(doc.get_ref(), "", span.start, &mut best);
    best.map(|(_, path)| path)
}

/// The path of the table value whose span is exactly `span` (`None` for the document root or
/// when no table matches).
fn table_with_span(src: &str, span: Range<usize>) -> Option<String> {
    let doc = toml::de::DeTable::parse(src).ok()?;
    let mut found = None;
    find_table(doc.get_ref(), "", &span, &mut found);
    found
}

fn find_table(
    t: &toml::de::DeTable<'_>,
    prefix: &str,
    span: &Range<usize>,
    found: &mut Option<String>,
) {
    for (k, v) in t {
        let path = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        find_in_value(v, &path, span, found);
    }
}

fn find_in_value(
    v: &toml::Spanned<toml::de::DeValue<'_>>,
    path: &str,
    span: &Range<usize>,
    found: &mut Option<String>,
) {
    match v.get_ref() {
        toml::de::DeValue::Table(t) => {
            if v.span() == *span {
                *found = Some(path.to_string());
            }
            find_table(t, path, span, found);
        }
        toml::de::DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_in_value(item, &format!("{path}[{i}]"), span, found);
            }
        }
        _ => {}
    }
}

fn consider(span: Range<usize>, at: usize, path: &str, best: &mut Option<(usize, String)>) {
    if span.start <= at && at < span.end.max(span.start + 1) {
        let len = span.end - span.start;
        // Smaller spans are more specific; on a tie the deeper (later-visited) path wins.
        if best.as_ref().is_none_or(|(l, _)| len <= *l) {
            *best = Some((len, path.to_string()));
        }
    }
}

fn walk_table(
    t: &toml::de::DeTable<'_>,
    prefix: &str,
    at: usize,
    best: &mut Option<(usize, String)>,
) {
    for (k, v) in t {
        let path = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        consider(k.span(), at, &path, best);
        walk_value(v, &path, at, best);
    }
}

fn walk_value(
    v: &toml::Spanned<toml::de::DeValue<'_>>,
    path: &str,
    at: usize,
    best: &mut Option<(usize, String)>,
) {
    consider(v.span(), at, path, best);
    match v.get_ref() {
        toml::de::DeValue::Table(t) => walk_table(t, path, at, best),
        toml::de::DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_value(item, &format!("{path}[{i}]"), at, best);
            }
        }
        _ => {}
    }
}
