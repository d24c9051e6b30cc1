//! One client connection per worker (kept alive, or as many requests as `[http]` allows): our own HTTP/1.1 connection ([`WireConn`], the
//! default) or hyper 1.x's low-level `client::conn` (HTTP/1.1 on request, and HTTP/2).
//!
//! No pool, no `Client`: a worker owns its connection, so there is nothing to lock or look up
//! per request. The control path (health polls, stats, audit) is the target's
//! ([`crate::targets::http::control`]). A failed connection is dropped and the next request reconnects; the failure
//! itself is returned as an [`ErrorKind`] for the worker to count (failures are data).

use super::wire::WireConn;
use crate::load::worker::ErrorKind;
use crate::targets::http::control::{h1_exchange, read_answer, H1Io};
use crate::targets::http::request::RequestTable;
use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::{http1, http2};
use hyper::header::{HeaderValue, CONNECTION};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;

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
        /// The last answer's body (handed out borrowed, like the builtin client's).
        body: Bytes,
    },
    /// HTTP/2 multiplexes, so its connection runs as its own task.
    H2 {
        send: http2::SendRequest<Full<Bytes>>,
        body: Bytes,
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
    pub body: &'a [u8],
    /// When the answer reached the machine (the builtin client's kernel stamp; `None` for
    /// hyper's clients, whose reads we do not see).
    pub arrived: Option<std::time::Instant>,
}

impl Conn {
    /// Connects (TCP_NODELAY) and, for hyper, handshakes; an HTTP/2 connection task runs on the
    /// current runtime.
    pub async fn open(
        addr: SocketAddr,
        client: Client,
        timeout: Duration,
    ) -> Result<Conn, ErrorKind> {
        if client == Client::Builtin {
            return Ok(Conn::Wire(WireConn::open(addr, timeout).await?));
        }
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(_)) => return Err(ErrorKind::Connect),
            Err(_) => return Err(ErrorKind::Timeout),
        };
        // Without it, small requests wait on Nagle's algorithm behind delayed ACKs.
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(stream);
        if client == Client::Hyper2 {
            let (send, conn) = http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(|_| ErrorKind::Connect)?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok(Conn::H2 {
                send,
                body: Bytes::new(),
            })
        } else {
            let (send, conn) = http1::handshake(io).await.map_err(|_| ErrorKind::Connect)?;
            Ok(Conn::H1 {
                send,
                conn,
                body: Bytes::new(),
            })
        }
    }

    /// Sends one request from template `t` with `body` and reads the whole answer; `last`: it
    /// is the connection's last request, and says `Connection: close` over HTTP/1.1 (see
    /// [`super::reuse`]). Any error leaves the connection unusable from the caller's point of
    /// view: drop it.
    pub async fn send(
        &mut self,
        table: &RequestTable,
        t: usize,
        body: Bytes,
        last: bool,
    ) -> Result<Reply<'_>, ErrorKind> {
        match self {
            Conn::Wire(w) => {
                let r = table.wire(t);
                let head = if last { r.closing_head } else { r.head };
                let a = w.send(head, &body, r.length, r.head_request).await?;
                Ok(Reply {
                    status: a.status,
                    body: a.body,
                    arrived: a.arrived,
                })
            }
            Conn::H1 {
                send,
                conn,
                body: kept,
            } => {
                let mut request = table.hyper_request(t, body);
                if last {
                    request
                        .headers_mut()
                        .insert(CONNECTION, HeaderValue::from_static("close"));
                }
                let a = h1_exchange(send, conn, request).await?;
                *kept = a.body;
                Ok(Reply {
                    status: a.status.as_u16(),
                    body: kept,
                    arrived: None,
                })
            }
            Conn::H2 { send, body: kept } => {
                send.ready().await.map_err(|_| ErrorKind::Io)?;
                let resp = send
                    .send_request(table.hyper_request(t, body))
                    .await
                    .map_err(|_| ErrorKind::Io)?;
                let a = read_answer(resp).await?;
                *kept = a.body;
                Ok(Reply {
                    status: a.status.as_u16(),
                    body: kept,
                    arrived: None,
                })
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
