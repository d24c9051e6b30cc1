//! The control path to an HTTP target: one request on a fresh hyper HTTP/1.1 connection, for
//! health polls, the engine's info, stats and audit, and the server's profile endpoint.
//!
//! Apart from the load path on purpose: control requests are rare, so a connection each keeps
//! them from disturbing the workers' keep-alive connections and their figures. Over https they
//! use the run's TLS settings ([`Dialer`]) but do not count in its TLS figures.

use super::dial::Dialer;
use super::stream::Stream;
use super::tls::{self, Alpn};
use crate::load::worker::ErrorKind;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::time::Duration;

/// A hyper HTTP/1.1 connection's I/O type.
pub type H1Io = TokioIo<Stream>;

/// The kind of error a failed hyper call counts as: `tls` when rustls raised the I/O error
/// underneath, else `io`.
pub fn hyper_kind(e: &hyper::Error) -> ErrorKind {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return tls::kind_of(io);
        }
        source = s.source();
    }
    ErrorKind::Io
}

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
        send.ready().await.map_err(|e| hyper_kind(&e))?;
        let resp = send.send_request(req).await.map_err(|e| hyper_kind(&e))?;
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
        Err(e) = &mut *conn => Err(hyper_kind(&e)),
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
        .map_err(|e| hyper_kind(&e))?
        .to_bytes();
    Ok(Answer { status, body })
}

/// One request on a fresh connection, for the control path (health polls, stats, audit).
pub async fn fetch_once(
    dialer: &Dialer,
    req: Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<Answer, ErrorKind> {
    match tokio::time::timeout(timeout, async {
        let (stream, _) = dialer.open(timeout, Alpn::Http11, |tcp| tcp).await?;
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
