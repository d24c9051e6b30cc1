//! One keep-alive client connection per worker, on hyper 1.x's low-level `client::conn` API.
//!
//! No pool, no `Client`: a worker owns its connection, so there is nothing to lock or look up
//! per request. A failed connection is dropped and the next request reconnects; the failure
//! itself is returned as an [`ErrorKind`] for the worker to count (failures are data).

use crate::worker::ErrorKind;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;

type H1Io = TokioIo<TcpStream>;

/// A ready-to-use connection.
// One per worker, created once per (re)connect: its size does not matter, an indirection on
// every poll would.
#[allow(clippy::large_enum_variant)]
pub enum Conn {
    /// HTTP/1.1: the connection future is polled by the worker's own task while a request is
    /// in flight (no connection task, so no cross-task wake-up per request: measured cheaper
    /// per request in compare.sh).
    H1 {
        send: http1::SendRequest<Full<Bytes>>,
        conn: http1::Connection<H1Io, Full<Bytes>>,
    },
    /// HTTP/2 multiplexes, so its connection runs as its own task.
    H2(http2::SendRequest<Full<Bytes>>),
}

/// An answer: status and the whole body.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

impl Conn {
    /// Connects (TCP_NODELAY) and handshakes; the connection task runs on the current runtime.
    pub async fn open(addr: SocketAddr, http2: bool, timeout: Duration) -> Result<Conn, ErrorKind> {
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(_)) => return Err(ErrorKind::Connect),
            Err(_) => return Err(ErrorKind::Timeout),
        };
        // Without it, small requests wait on Nagle's algorithm behind delayed ACKs.
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(stream);
        if http2 {
            let (send, conn) = http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(|_| ErrorKind::Connect)?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok(Conn::H2(send))
        } else {
            let (send, conn) = http1::handshake(io).await.map_err(|_| ErrorKind::Connect)?;
            Ok(Conn::H1 { send, conn })
        }
    }

    /// Sends one request and reads the whole answer. Any error leaves the connection unusable
    /// from the caller's point of view: drop it.
    pub async fn send(&mut self, req: Request<Full<Bytes>>) -> Result<Answer, ErrorKind> {
        match self {
            Conn::H1 { send, conn } => {
                let exchange = async {
                    send.ready().await.map_err(|_| ErrorKind::Io)?;
                    let resp = send.send_request(req).await.map_err(|_| ErrorKind::Io)?;
                    read_answer(resp).await
                };
                tokio::select! {
                    // The exchange first: the connection only matters while it is pending.
                    biased;
                    r = exchange => r,
                    // The connection ended (closed by the peer or failed) mid-request.
                    _ = conn => Err(ErrorKind::Io),
                }
            }
            Conn::H2(s) => {
                s.ready().await.map_err(|_| ErrorKind::Io)?;
                let resp = s.send_request(req).await.map_err(|_| ErrorKind::Io)?;
                read_answer(resp).await
            }
        }
    }
}

async fn read_answer(resp: hyper::Response<hyper::body::Incoming>) -> Result<Answer, ErrorKind> {
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|_| ErrorKind::Io)?
        .to_bytes();
    Ok(Answer { status, body })
}

/// One request on a fresh connection, for the control path (health polls, stats, audit).
pub async fn fetch_once(
    addr: SocketAddr,
    req: Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<Answer, ErrorKind> {
    match tokio::time::timeout(timeout, async {
        let mut c = Conn::open(addr, false, timeout).await?;
        c.send(req).await
    })
    .await
    {
        Ok(r) => r,
        Err(_) => Err(ErrorKind::Timeout),
    }
}
