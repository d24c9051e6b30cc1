//! Request routing and the JSON endpoints.
//!
//! Every answer, errors included, is a `Full<Bytes>` with a JSON body (except `/metrics` and the
//! profile). `engine/openapi.yaml` describes every route and answer (served by `openapi`);
//! a route added here without an entry there fails `openapi`'s tests. Handlers never panic on input: every failure becomes a status and
//! `{"error":"...","detail":"..."}`.

use crate::server::apply::ApplyError;
use crate::server::metrics::{RequestCounters, Route};
use crate::server::{openapi, profile, State};
use crate::{BatchOutcome, RejectReason, Transfer, RECORD_SIZE};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

pub(crate) type Resp = Response<Full<Bytes>>;

/// Per-transfer results are returned only for submissions up to this size.
const MAX_RESULTS: usize = 1000;

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Entry point for every request: in-flight limit, routing, metrics.
pub(crate) async fn handle(state: Arc<State>, peer: SocketAddr, req: Request<Incoming>) -> Resp {
    let start = Instant::now();
    let route = Route::of(req.uri().path());
    let resp = match Inflight::enter(&state) {
        Some(_guard) => dispatch(&state, route, peer, req).await,
        None => {
            state.metrics.overloaded.fetch_add(1, Ordering::Relaxed);
            overloaded(format_args!(
                "more than {} requests in flight",
                state.opts.max_inflight
            ))
        }
    };
    state
        .metrics
        .record(route, resp.status().as_u16(), start.elapsed());
    resp
}

/// One in-flight request; the count drops when the handler finishes or is cancelled.
struct Inflight<'a>(&'a State);

impl<'a> Inflight<'a> {
    fn enter(state: &'a State) -> Option<Self> {
        let prev = state.metrics.inflight.fetch_add(1, Ordering::AcqRel);
        let guard = Inflight(state);
        // Dropping the guard undoes the increment either way.
        (prev < state.opts.max_inflight).then_some(guard)
    }
}

impl Drop for Inflight<'_> {
    fn drop(&mut self) {
        self.0.metrics.inflight.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn dispatch(state: &State, route: Route, peer: SocketAddr, req: Request<Incoming>) -> Resp {
    let method = req.method();
    let Some(allow) = route.allow() else {
        return not_found(req.uri().path());
    };
    if !allow.split(", ").any(|m| m == method.as_str()) {
        return method_not_allowed(method, allow);
    }
    match route {
        Route::Transactions => transactions(state, req).await,
        Route::Health => health(state),
        Route::Info => info(state),
        Route::Stats => stats(state),
        Route::Audit => audit(state),
        Route::OpenApi => openapi::openapi(),
        Route::Metrics => metrics(state),
        Route::Profile => profile::profile(state, peer, req.uri().query()).await,
        // `allow()` is None for it: answered above.
        Route::Other => not_found(req.uri().path()),
    }
}

// ---------- responses ----------

pub(crate) fn respond(
    status: StatusCode,
    content_type: HeaderValue,
    body: impl Into<Bytes>,
) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, content_type);
    r
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Resp {
    match serde_json::to_vec(value) {
        Ok(body) => respond(status, JSON, body),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "serializing the response failed",
            e,
        ),
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

/// A JSON error: `{"error": what, "detail": detail}`.
pub(crate) fn error(status: StatusCode, what: &str, detail: impl std::fmt::Display) -> Resp {
    error_with_reason(status, what, detail, None)
}

fn error_with_reason(
    status: StatusCode,
    what: &str,
    detail: impl std::fmt::Display,
    reason: Option<&'static str>,
) -> Resp {
    let body = ErrorBody {
        error: what,
        detail: detail.to_string(),
        reason,
    };
    // An ErrorBody of strings always serializes.
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    respond(status, JSON, bytes)
}

/// 503 with `Retry-After: 1`: the client should back off rather than queue on us.
pub(crate) fn overloaded(detail: impl std::fmt::Display) -> Resp {
    let mut r = error(StatusCode::SERVICE_UNAVAILABLE, "overloaded", detail);
    r.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

fn not_found(path: &str) -> Resp {
    error(
        StatusCode::NOT_FOUND,
        "not found",
        format_args!("no route for {path}"),
    )
}

fn method_not_allowed(method: &Method, allow: &'static str) -> Resp {
    let mut r = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed",
        format_args!("{method} is not allowed here; use {allow}"),
    );
    r.headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    r
}

// ---------- read-only endpoints ----------

fn health(state: &State) -> Resp {
    // Written by hand: this is the endpoint load tools hammer.
    let body = format!(
        r#"{{"status":"UP","accounts":{},"uptime_s":{:.3}}}"#,
        state.engine.accounts(),
        state.started.elapsed().as_secs_f64()
    );
    respond(StatusCode::OK, JSON, body)
}

#[derive(Serialize)]
struct Info {
    name: &'static str,
    version: &'static str,
    accounts: u64,
    shards: u32,
    design: &'static str,
    appliers: Option<usize>,
    build_profile: &'static str,
    pid: u32,
    max_body: u64,
    max_connections: usize,
    max_inflight: usize,
    profiling: bool,
}

fn info(state: &State) -> Resp {
    json(
        StatusCode::OK,
        &Info {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
            accounts: state.engine.accounts(),
            shards: state.engine.shards(),
            design: state.engine.design().as_str(),
            appliers: state.applier.appliers(),
            build_profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            pid: std::process::id(),
            max_body: state.opts.max_body,
            max_connections: state.opts.max_connections,
            max_inflight: state.opts.max_inflight,
            profiling: state.opts.enable_profiling,
        },
    )
}

#[derive(Serialize)]
struct StatsBody {
    accounts: u64,
    submitted: u64,
    committed: u64,
    rejected: std::collections::BTreeMap<&'static str, u64>,
    rejected_total: u64,
    batches: u64,
    head_height: u64,
    head_hash: String,
    uptime_s: f64,
    http: RequestCounters,
}

fn stats(state: &State) -> Resp {
    let s = state.engine.stats();
    let head = state.engine.head();
    json(
        StatusCode::OK,
        &StatsBody {
            accounts: s.accounts,
            submitted: s.submitted,
            committed: s.committed,
            rejected: s.rejected_by_reason().collect(),
            rejected_total: s.rejected_total(),
            batches: s.batches,
            head_height: s.head_height,
            head_hash: hex(&head.hash),
            uptime_s: state.started.elapsed().as_secs_f64(),
            http: state.metrics.counters(),
        },
    )
}

#[derive(Serialize)]
struct AuditBody {
    ok: bool,
    /// The audit reads accounts one by one: only meaningful with no load running.
    note: &'static str,
    accounts: u64,
    total_supply_expected: u128,
    total_supply_actual: u128,
    committed_transfers: u64,
    nonce_advances: u64,
    submitted: u64,
    rejected: std::collections::BTreeMap<&'static str, u64>,
    busy_senders: u64,
    ledger_height: u64,
    ledger_total_tx: u64,
    ledger_verified_blocks: u64,
    head_hash: String,
    problems: Vec<String>,
}

fn audit(state: &State) -> Resp {
    let a = state.engine.audit();
    json(
        StatusCode::OK,
        &AuditBody {
            ok: a.ok,
            note: "meaningful only when no load is running",
            accounts: a.accounts,
            total_supply_expected: a.total_supply_expected,
            total_supply_actual: a.total_supply_actual,
            committed_transfers: a.committed_transfers,
            nonce_advances: a.nonce_advances,
            submitted: a.submitted,
            rejected: RejectReason::ALL
                .iter()
                .map(|r| (r.as_str(), a.rejected[*r as usize]))
                .collect(),
            busy_senders: a.busy_senders,
            ledger_height: a.ledger_height,
            ledger_total_tx: a.ledger_total_tx,
            ledger_verified_blocks: a.ledger_verified_blocks,
            head_hash: a.head_hash_hex(),
            problems: a.problems,
        },
    )
}

fn metrics(state: &State) -> Resp {
    let text = state.metrics.render(&state.engine, state.started.elapsed());
    respond(
        StatusCode::OK,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        text,
    )
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

// ---------- POST /api/v11/transactions ----------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Json,
    Binary,
}

/// The media type of the request, ignoring parameters such as `charset`.
fn encoding(req: &Request<Incoming>) -> Result<Encoding, Box<Resp>> {
    let Some(value) = req.headers().get(CONTENT_TYPE) else {
        return Err(Box::new(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "missing content type",
            "send Content-Type: application/json or application/octet-stream",
        )));
    };
    let media = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    if media.eq_ignore_ascii_case("application/json") {
        Ok(Encoding::Json)
    } else if media.eq_ignore_ascii_case("application/octet-stream") {
        Ok(Encoding::Binary)
    } else {
        Err(Box::new(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported content type",
            format_args!(
                "{:?} is neither application/json nor application/octet-stream",
                String::from_utf8_lossy(value.as_bytes())
            ),
        )))
    }
}

fn too_large(max: u64, len: impl std::fmt::Display) -> Resp {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body too large",
        format_args!("body of {len} bytes exceeds the limit of {max} bytes"),
    )
}

/// Reads the body, refusing (without reading on) anything over `--max-body`: first by the
/// declared Content-Length, then by counting what actually arrives (chunked bodies).
async fn read_body(state: &State, req: Request<Incoming>) -> Result<Bytes, Box<Resp>> {
    let max = state.opts.max_body;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|&len| len > max) {
        return Err(Box::new(too_large(max, len)));
    }
    // `max` fits in usize: checked when the configuration was built.
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    match Limited::new(req.into_body(), limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => {
            Err(Box::new(too_large(max, "more than the limit")))
        }
        Err(e) => Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "reading the body failed",
            e,
        ))),
    }
}

async fn transactions(state: &State, req: Request<Incoming>) -> Resp {
    let encoding = match encoding(&req) {
        Ok(e) => e,
        Err(resp) => return *resp,
    };
    let body = match read_body(state, req).await {
        Ok(b) => b,
        Err(resp) => return *resp,
    };
    match encoding {
        Encoding::Binary => binary_batch(state, &body).await,
        Encoding::Json => json_transfers(state, &body).await,
    }
}

async fn binary_batch(state: &State, body: &[u8]) -> Resp {
    // `is_multiple_of` needs Rust 1.87; the workspace declares 1.85.
    #[allow(clippy::manual_is_multiple_of)]
    if body.len() % RECORD_SIZE != 0 {
        return error(
            StatusCode::BAD_REQUEST,
            "bad binary batch",
            crate::DecodeError { len: body.len() },
        );
    }
    match state.applier.submit_binary(body).await {
        Ok(outcome) => respond(StatusCode::OK, JSON, outcome_json(&outcome, None)),
        Err(e) => apply_failed(e),
    }
}

fn apply_failed(e: ApplyError) -> Resp {
    match e {
        ApplyError::Overloaded(_) => overloaded(e),
        _ => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "applying the batch failed",
            e,
        ),
    }
}

/// A transfer as JSON: `{"from":1,"to":2,"amount":5,"nonce":0}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferJson {
    from: u64,
    to: u64,
    amount: u64,
    nonce: u64,
}

impl From<TransferJson> for Transfer {
    fn from(t: TransferJson) -> Transfer {
        Transfer {
            from: t.from,
            to: t.to,
            amount: t.amount,
            nonce: t.nonce,
        }
    }
}

fn malformed(e: serde_json::Error) -> Resp {
    error(StatusCode::BAD_REQUEST, "malformed JSON", e)
}

/// Decodes a JSON transactions body: one transfer object or an array of them. Returns the
/// transfers and whether the body was a single object (answered with its own 422 for an
/// unknown account). Public so the fuzz target `engine_json` (harness::fuzzing) drives the
/// server's own decoder without a server.
pub fn decode_json_transfers(body: &[u8]) -> Result<(Vec<Transfer>, bool), serde_json::Error> {
    let is_array = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    if is_array {
        let v = serde_json::from_slice::<Vec<TransferJson>>(body)?;
        Ok((v.into_iter().map(Transfer::from).collect(), false))
    } else {
        let t = serde_json::from_slice::<TransferJson>(body)?;
        Ok((vec![Transfer::from(t)], true))
    }
}

async fn json_transfers(state: &State, body: &[u8]) -> Resp {
    let (batch, single) = match decode_json_transfers(body) {
        Ok(decoded) => decoded,
        Err(e) => return malformed(e),
    };
    let accounts = state.engine.accounts();
    if single {
        if let Some(id) = [batch[0].from, batch[0].to]
            .into_iter()
            .find(|&id| id >= accounts)
        {
            return error_with_reason(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown account",
                format_args!("account {id} does not exist (accounts are 0..{accounts})"),
                Some(RejectReason::UnknownAccount.as_str()),
            );
        }
    }
    let detail = batch.len() <= MAX_RESULTS;
    match state.applier.submit(batch, detail).await {
        Ok((outcome, results)) => respond(
            StatusCode::OK,
            JSON,
            outcome_json(&outcome, detail.then_some(results.as_slice())),
        ),
        Err(e) => apply_failed(e),
    }
}

/// `{"submitted":n,"committed":c,"rejected":{...},"block":h,"results":[...]}`, written by hand
/// to keep serde off the binary path.
fn outcome_json(o: &BatchOutcome, results: Option<&[Result<(), RejectReason>]>) -> String {
    let mut s = String::with_capacity(192 + results.map_or(0, |r| r.len() * 40));
    // Writing to a String cannot fail.
    let _ = write!(
        s,
        r#"{{"submitted":{},"committed":{},"rejected":{{"#,
        o.submitted, o.committed
    );
    for (i, r) in RejectReason::ALL.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(s, r#"{sep}"{}":{}"#, r.as_str(), o.rejected(*r));
    }
    match o.block {
        Some(h) => {
            let _ = write!(s, r#"}},"block":{h}"#);
        }
        None => s.push_str(r#"},"block":null"#),
    }
    if let Some(results) = results {
        s.push_str(r#","results":["#);
        for (i, r) in results.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            match r {
                Ok(()) => s.push_str(r#"{"ok":true}"#),
                Err(reason) => {
                    let _ = write!(s, r#"{{"ok":false,"reason":"{}"}}"#, reason.as_str());
                }
            }
        }
        s.push(']');
    }
    s.push('}');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_json_is_valid_json() {
        let mut o = BatchOutcome {
            submitted: 3,
            committed: 1,
            block: Some(7),
            ..Default::default()
        };
        o.rejected[RejectReason::BadNonce as usize] = 2;
        let text = outcome_json(
            &o,
            Some(&[
                Ok(()),
                Err(RejectReason::BadNonce),
                Err(RejectReason::BadNonce),
            ]),
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["committed"], 1);
        assert_eq!(v["block"], 7);
        assert_eq!(v["rejected"]["bad_nonce"], 2);
        assert_eq!(v["results"][1]["reason"], "bad_nonce");
        let text = outcome_json(&BatchOutcome::default(), None);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(v["block"].is_null());
        assert!(v.get("results").is_none());
    }
}
