//! `[http]`: client options for http and spawn targets (timeout, HTTP/2, pool size, which
//! HTTP/1.1 client, connection reuse, pipelining, the largest body held for checks, and
//! `[http.tls]` through [`super::tls`]).
//!
//! HTTP/2 runs only on hyper's client, so `http2 = true` picks hyper when no client is named
//! and refuses the builtin one when it is. Pipelining is the builtin client's alone (hyper's
//! HTTP/1.1 connection sends one request at a time; HTTP/2 multiplexes instead) and needs a
//! connection that carries more than one request, so `pipeline > 1` is refused with hyper and
//! with `connection = "close"`.

use super::values::Ctx;
use super::Result;
use crate::plan::{HttpClient, HttpOptions, Target};
use crate::raw::{RawConnection, RawHttp, RawHttpClient, S};

/// Deepest pipeline accepted: far beyond where pipelining stops paying (one read already
/// carries ~100 answers of a health check at depth 128), and it bounds what a worker queues.
const MAX_PIPELINE: u64 = 1024;

/// `max_body` bounds: below 1 KiB hardly any JSON answer fits; above 1 GiB one held body per
/// connection would swamp the generator's memory long before it measured anything.
const MIN_BODY: u64 = 1 << 10;
const MAX_BODY: u64 = 1 << 30;

pub(super) fn http_options(
    cx: &Ctx,
    raw: Option<&S<RawHttp>>,
    target: &Target,
) -> Result<HttpOptions> {
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
    h.client = client(cx, r, h.http2)?;
    h.max_requests_per_connection = reuse(cx, r)?;
    h.pipeline = pipeline(cx, r, &h)?;
    if let Some(m) = &r.max_body {
        h.max_body = cx.size(m, "http.max_body")?;
        if !(MIN_BODY..=MAX_BODY).contains(&h.max_body) {
            return Err(cx.err(
                m.span(),
                "http.max_body",
                format!("must be from 1KiB to 1GiB, found {} bytes", h.max_body),
            ));
        }
    }
    h.tls = super::tls::tls(cx, r.tls.as_ref(), target)?;
    Ok(h)
}

/// `client`: the builtin client unless hyper is named or HTTP/2 asked for.
fn client(cx: &Ctx, r: &RawHttp, http2: bool) -> Result<HttpClient> {
    match r.client.as_ref() {
        None if http2 => Ok(HttpClient::Hyper),
        None => Ok(HttpClient::Builtin),
        Some(c) => match *c.get_ref() {
            RawHttpClient::Hyper => Ok(HttpClient::Hyper),
            RawHttpClient::Builtin if http2 => Err(cx.err(
                c.span(),
                "http.client",
                "the builtin client speaks HTTP/1.1 only: http2 = true needs client = \"hyper\" (or no client key)",
            )),
            RawHttpClient::Builtin => Ok(HttpClient::Builtin),
        },
    }
}

/// `connection` and `max_requests_per_connection`: how many requests a connection carries
/// before the client closes it (`None`: as many as the server allows).
fn reuse(cx: &Ctx, r: &RawHttp) -> Result<Option<u32>> {
    let close = r
        .connection
        .as_ref()
        .is_some_and(|c| *c.get_ref() == RawConnection::Close);
    match &r.max_requests_per_connection {
        Some(m) if close => Err(cx.err(
            m.span(),
            "http.max_requests_per_connection",
            "connection = \"close\" already means one request per connection: remove max_requests_per_connection, or set connection = \"keep-alive\" to reuse each connection for up to that many requests",
        )),
        Some(m) => Ok(Some(cx.u32_in(
            m,
            "http.max_requests_per_connection",
            1,
            1_000_000_000,
        )?)),
        None => Ok(close.then_some(1)),
    }
}

/// `pipeline`: the depth, 1 (no pipelining) unless the builtin client may pipeline over a
/// connection that carries several requests.
fn pipeline(cx: &Ctx, r: &RawHttp, h: &HttpOptions) -> Result<u32> {
    let Some(p) = &r.pipeline else { return Ok(1) };
    let depth = cx.u32_in(p, "http.pipeline", 1, MAX_PIPELINE)?;
    if depth == 1 {
        return Ok(1);
    }
    let why = if h.http2 {
        "HTTP/2 multiplexes requests instead of pipelining them: pipeline > 1 needs http2 = false and the builtin client"
    } else if h.client == HttpClient::Hyper {
        "pipelining is the builtin client's: hyper's HTTP/1.1 client connection sends one request at a time; set client = \"builtin\" (or no client key) or pipeline = 1"
    } else if h.max_requests_per_connection == Some(1) {
        "pipelining needs a connection that carries several requests, but connection = \"close\" (or max_requests_per_connection = 1) opens one per request; use connection = \"keep-alive\" or pipeline = 1"
    } else {
        return Ok(depth);
    };
    Err(cx.err(p.span(), "http.pipeline", why))
}
