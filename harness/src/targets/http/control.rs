//! The control path to an HTTP target: one request on a fresh hyper HTTP/1.1 connection, for
//! health polls, the engine's info, stats and audit, and the server's profile endpoint.
//!
//! Apart from the load path on purpose: control requests are rare, so a connection each keeps
//! them from disturbing the workers' keep-alive connections and their figures.

use crate::load::worker::ErrorKind;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;

/// A hyper HTTP/1.1 connection's I/O type.
pub type H1Io = TokioIo<TcpStream>;

/// An answer: status and the whole body.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

/// One request on a hyper HTTP/1.1 connection, polling the connection future alongside.
pub async fn h1_exchange(
    send: &mut http1::SendRequest<Full<Bytes>>,
    conn: &mut http1::Connection<H1Io, Full<Bytes>>,
    req: Request<Full<Bytes>>,
) -> Result<Answer, ErrorKind> {
    let exchange = async {
        send.ready().await.map_err(|_| ErrorKind::Io)?;
        let resp = send.send_request(req).await.map_err(|_| ErrorKind::Io)?;
        read_answer(resp).await
    };
    tokio::pin!(exchange);
    tokio::select! {
        // The exchange first: the connection only matters while it is pending.
        biased;
        r = &mut exchange => r,
        // The connection failed mid-request. When it ends cleanly instead, this branch is
        // disabled and the exchange goes on: after the answer to a request that said
        // `connection: close` the connection can end before the exchange has taken the body
        // it delivered, which is still there to read (every request of `connection =
        // "close"` on hyper's client counted as io without this); a connection that ended
        // without an answer fails the exchange on its own.
        Err(_) = &mut *conn => Err(ErrorKind::Io),
    }
}

pub async fn read_answer(
    resp: hyper::Response<hyper::body::Incoming>,
) -> Result<Answer, ErrorKind> {
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
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|_| ErrorKind::Connect)?;
        let _ = stream.set_nodelay(true);
        let (mut send, mut conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| ErrorKind::Connect)?;
        h1_exchange(&mut send, &mut conn, req).await
    })
    .await
    {
        Ok(r) => r,
        Err(_) => Err(ErrorKind::Timeout),
    }
}
