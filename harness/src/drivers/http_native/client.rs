//! One client connection per worker (kept alive, or as many requests as `[http]` allows): our own HTTP/1.1 connection ([`WireConn`], the
//! default) or hyper 1.x's low-level `client::conn` (HTTP/1.1 on request, and HTTP/2).
//!
//! No pool, no `Client`: a worker owns its connection, so there is nothing to lock or look up
//! per request. The control path (health polls, stats, audit) is the target's
//! ([`crate::targets::http::control`]). A failed connection is dropped and the next request reconnects; the failure
//! itself is returned as an [`ErrorKind`] for the worker to count (failures are data).
//!
//! Every client opens its connection through the target's [`Dialer`] (TCP, then TLS for
//! https), which also times both steps for the worker to record. Over TLS, ALPN asks for
//! "http/1.1", or only "h2" for HTTP/2: a server that does not agree to h2 is a `tls` error,
//! not a quiet fall-back to HTTP/1.1.

use super::stamped::StampedTcp;
use super::wire::{Keep, WireConn};
use crate::load::worker::ErrorKind;
use crate::targets::http::control::{h1_exchange, hyper_kind, read_answer, Answer, Excess, H1Io};
use crate::targets::http::dial::{Dialer, Opened};
use crate::targets::http::inspect;
use crate::targets::http::maker::Made;
use crate::targets::http::request::RequestTable;
use crate::targets::http::tls::Alpn;
use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::{http1, http2};
use hyper::header::{HeaderValue, CONNECTION};
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::time::Duration;

/// A ready-to-use connection.
// One per worker, created once per (re)connect: its size does not matter, an indirection on
// every poll would.
#[allow(clippy::large_enum_variant)]
pub enum Conn {
    /// Our own HTTP/1.1 connection ([`WireConn`]): the default.
    Wire(WireConn),
    /// hyper's HTTP/1.1: the connection future is polled by the worker's own task while a
    /// request is in flight (no connection task, so no cross-task wake-up per request).
    H1 {
        send: http1::SendRequest<Full<Bytes>>,
        conn: http1::Connection<H1Io, Full<Bytes>>,
        /// The last answer (its body handed out borrowed, like the builtin client's).
        last: Option<Answer>,
    },
    /// HTTP/2 multiplexes, so its connection runs as its own task.
    H2 {
        send: http2::SendRequest<Full<Bytes>>,
        last: Option<Answer>,
    },
}

/// Which client a worker's connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Builtin,
    Hyper1,
    Hyper2,
}

/// An answer whose body is borrowed from the connection (until its next request).
pub struct Reply<'a> {
    pub status: u16,
    /// As much of the body as the template needs held (see [`RequestTable::needs`]), its
    /// header fields when the checks read them, and whether the body was cut.
    pub checked: inspect::Answer<'a>,
    /// When the answer reached the machine (the builtin client's kernel stamp; `None` for
    /// hyper's clients, whose reads we do not see).
    pub arrived: Option<std::time::Instant>,
}

impl Client {
    /// What the client asks for by ALPN over TLS.
    pub fn alpn(self) -> Alpn {
        match self {
            Client::Hyper2 => Alpn::H2,
            Client::Builtin | Client::Hyper1 => Alpn::Http11,
        }
    }
}

/// Opens our own HTTP/1.1 connection (TCP_NODELAY, TLS for https; the pipelined loop holds
/// one directly) and says how long connecting took.
pub async fn open_wire(
    dialer: &Dialer,
    timeout: Duration,
) -> Result<(WireConn, Opened), ErrorKind> {
    let (stream, opened) = dialer.open(timeout, Alpn::Http11, StampedTcp::new).await?;
    Ok((WireConn::new(stream), opened))
}

impl Conn {
    /// Connects (TCP_NODELAY, TLS for https) and, for hyper, handshakes HTTP; an HTTP/2
    /// connection task runs on the current runtime. Also says how long connecting took.
    pub async fn open(
        dialer: &Dialer,
        client: Client,
        timeout: Duration,
    ) -> Result<(Conn, Opened), ErrorKind> {
        if client == Client::Builtin {
            let (wire, opened) = open_wire(dialer, timeout).await?;
            return Ok((Conn::Wire(wire), opened));
        }
        let (stream, opened) = dialer.open(timeout, client.alpn(), |tcp| tcp).await?;
        let io = TokioIo::new(stream);
        let conn = if client == Client::Hyper2 {
            let (send, conn) = http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(|e| handshake_kind(&e))?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Conn::H2 { send, last: None }
        } else {
            let (send, conn) = http1::handshake(io).await.map_err(|e| handshake_kind(&e))?;
            Conn::H1 {
                send,
                conn,
                last: None,
            }
        };
        Ok((conn, opened))
    }

    /// Sends `made` (a request from its template) and reads the whole answer, holding what
    /// the template needs of it; `last`: it is the connection's last request, and says
    /// `Connection: close` over HTTP/1.1 (see [`super::reuse`]). Any error leaves the
    /// connection unusable from the caller's point of view: drop it.
    pub async fn send(
        &mut self,
        table: &RequestTable,
        made: Made,
        last: bool,
    ) -> Result<Reply<'_>, ErrorKind> {
        let t = made.template;
        let needs = table.needs(t);
        match self {
            Conn::Wire(w) => {
                let r = table.wire(t);
                let mut written = Vec::new();
                let head = match &made.head {
                    Some(h) => {
                        table.write_wire_head(t, h, last, &mut written);
                        &written[..]
                    }
                    None if last => r.closing_head,
                    None => r.head,
                };
                let a = w
                    .send(
                        head,
                        &made.body,
                        r.length,
                        (r.head_request, Keep::from(needs)),
                    )
                    .await?;
                Ok(Reply {
                    status: a.status,
                    checked: inspect::Answer {
                        headers: inspect::Headers::Raw(a.head),
                        body: a.body,
                        truncated: a.truncated,
                    },
                    arrived: a.arrived,
                })
            }
            Conn::H1 {
                send,
                conn,
                last: kept,
            } => {
                let mut request = hyper_request(table, made)?;
                if last {
                    request
                        .headers_mut()
                        .insert(CONNECTION, HeaderValue::from_static("close"));
                }
                let hold = (needs.body.unwrap_or(0), Excess::Drop);
                let a = h1_exchange(send, conn, request, hold).await?;
                Ok(reply(kept.insert(a)))
            }
            Conn::H2 { send, last: kept } => {
                send.ready().await.map_err(|e| hyper_kind(&e))?;
                let resp = send
                    .send_request(hyper_request(table, made)?)
                    .await
                    .map_err(|e| hyper_kind(&e))?;
                let a = read_answer(resp, (needs.body.unwrap_or(0), Excess::Drop)).await?;
                Ok(reply(kept.insert(a)))
            }
        }
    }

    /// Answers carry when they reached the machine (the builtin client only; hyper's reads are
    /// not ours to stamp).
    pub fn stamp_arrivals(&mut self) {
        if let Conn::Wire(w) = self {
            w.stamp_arrivals();
        }
    }

    /// Whether another request may follow (the builtin client knows when the server closes;
    /// hyper's connections report that on their next request).
    pub fn reusable(&self) -> bool {
        match self {
            Conn::Wire(w) => w.reusable(),
            Conn::H1 { .. } | Conn::H2 { .. } => true,
        }
    }
}

/// `made` as a request for hyper's clients; a written path that is no URI is a `check` error.
fn hyper_request(table: &RequestTable, made: Made) -> Result<Request<Full<Bytes>>, ErrorKind> {
    table
        .hyper_request(made.template, made.body, made.head.as_deref())
        .map_err(|_| ErrorKind::Check)
}

/// A hyper answer as a [`Reply`] (hyper's reads are not stamped).
fn reply(a: &Answer) -> Reply<'_> {
    Reply {
        status: a.status.as_u16(),
        checked: inspect::Answer {
            headers: inspect::Headers::Map(&a.headers),
            body: &a.body,
            truncated: a.truncated,
        },
        arrived: None,
    }
}

/// A failed HTTP handshake (hyper's; over TLS after the TLS one) is a connect error, or `tls`
/// when a TLS alert ended it.
fn handshake_kind(e: &hyper::Error) -> ErrorKind {
    match hyper_kind(e) {
        ErrorKind::Tls => ErrorKind::Tls,
        _ => ErrorKind::Connect,
    }
}
