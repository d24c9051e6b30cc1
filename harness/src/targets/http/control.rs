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
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::{HeaderMap, Request, StatusCode};
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

/// An answer: status, header fields and the body (as much of it as was held).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// More body came than was held.
    pub truncated: bool,
}

/// One request on a hyper HTTP/1.1 connection, polling the connection future alongside.
/// `hold`: the most body bytes kept (see [`read_answer`]).
pub async fn h1_exchange(
    send: &mut http1::SendRequest<Full<Bytes>>,
    conn: &mut http1::Connection<H1Io, Full<Bytes>>,
    req: Request<Full<Bytes>>,
    hold: usize,
) -> Result<Answer, ErrorKind> {
    let exchange = async {
        send.ready().await.map_err(|e| hyper_kind(&e))?;
        let resp = send.send_request(req).await.map_err(|e| hyper_kind(&e))?;
        read_answer(resp, hold).await
    };
    tokio::pin!(exchange);
    tokio::select! {
        // The exchange first: the connection only matters while it is pending.
        biased;
        r = &mut exchange => r,
        // The connection ended, failed or closed by the server, while the exchange was
        // pending. It may have delivered the whole answer first: after the answer to a
        // request that said `connection: close` (every request of `connection = "close"`),
        // or when bytes the server sent past an answer (a body longer than its
        // content-length) broke it; that answer stands, and one more poll of the exchange
        // takes it (a zero timeout polls it first). Otherwise no answer can come any more:
        // waiting would only end at the timeout (a server that closed an idle connection
        // cost the next request the whole timeout).
        end = &mut *conn => match tokio::time::timeout(Duration::ZERO, &mut exchange).await {
            Ok(r) => r,
            Err(_) => Err(end.err().map_or(ErrorKind::Io, |e| hyper_kind(&e))),
        },
    }
}

/// Reads an answer whole, keeping the first `hold` bytes of its body: the rest is dropped
/// frame by frame as it arrives (0: a body nobody reads costs no memory).
pub async fn read_answer(
    resp: hyper::Response<hyper::body::Incoming>,
    hold: usize,
) -> Result<Answer, ErrorKind> {
    let (parts, mut incoming) = resp.into_parts();
    let mut kept = BytesMut::new();
    let mut truncated = false;
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|e| hyper_kind(&e))?;
        if let Ok(data) = frame.into_data() {
            let room = hold.saturating_sub(kept.len());
            kept.extend_from_slice(&data[..data.len().min(room)]);
            truncated |= data.len() > room;
        }
    }
    Ok(Answer {
        status: parts.status,
        headers: parts.headers,
        body: kept.freeze(),
        truncated,
    })
}

/// Most body bytes of an answer to a JSON control request (health, info, stats, audit): the
/// engine's are a few hundred bytes, and a server that sends more (an endless body) must not
/// make the harness hold it (a 1 s probe of an endless chunked body held 414 MiB).
pub const JSON_BODY_LIMIT: usize = 1 << 20;

/// One request on a fresh connection, for the control path (health polls, stats, audit):
/// an answer whose body is longer than `limit` bytes is a `body` error (what came past the
/// limit is read and dropped, so it costs no memory).
pub async fn fetch_once(
    dialer: &Dialer,
    req: Request<Full<Bytes>>,
    timeout: Duration,
    limit: usize,
) -> Result<Answer, ErrorKind> {
    match tokio::time::timeout(timeout, async {
        let (stream, _) = dialer.open(timeout, Alpn::Http11, |tcp| tcp).await?;
        let (mut send, mut conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| ErrorKind::Connect)?;
        h1_exchange(&mut send, &mut conn, req, limit).await
    })
    .await
    {
        Ok(Ok(a)) if a.truncated => Err(ErrorKind::Body),
        Ok(r) => r,
        Err(_) => Err(ErrorKind::Timeout),
    }
}
