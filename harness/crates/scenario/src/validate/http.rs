//! `[http]`: client options for http and spawn targets (timeout, HTTP/2, pool size, which
//! HTTP/1.1 client, and `[http.tls]` through [`super::tls`]).
//!
//! HTTP/2 runs only on hyper's client, so `http2 = true` picks hyper when no client is named
//! and refuses the builtin one when it is.

use super::values::Ctx;
use super::Result;
use crate::plan::{HttpClient, HttpOptions, Target};
use crate::raw::{RawHttp, RawHttpClient, S};

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
    h.tls = super::tls::tls(cx, r.tls.as_ref(), target)?;
    Ok(h)
}
