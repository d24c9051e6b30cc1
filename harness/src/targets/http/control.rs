//! The control path to an HTTP target: one request on a fresh hyper HTTP/1.1 connection, for
//! health polls, the engine's info, stats and audit, and the server's profile endpoint.
//!
//! Apart from the load path on purpose: control requests are rare, so a connection each keeps
//! them from disturbing the workers' keep-alive connections and their figures. Over https they
//! use the run's TLS settings ([`Dialer`]) but do not count in its TLS figures.

use super::dial::Dialer;
use super::judge::body_hold;
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

/// What a body longer than the bytes held means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Excess {
    /// Nothing: the rest is read and dropped (the load path: the answer is still counted, and
    /// a drained body keeps the connection reusable).
    Drop,
    /// A `body` error, at once, without reading on (the control path: its answers are small,
    /// and a server streaming without end must not hold the harness until the timeout).
    Fail,
}

/// One request on a hyper HTTP/1.1 connection, polling the connection future alongside.
/// `hold`: the most body bytes kept, and what more means (see [`read_answer`]).
pub async fn h1_exchange(
    send: &mut http1::SendRequest<Full<Bytes>>,
    conn: &mut http1::Connection<H1Io, Full<Bytes>>,
    req: Request<Full<Bytes>>,
    hold: (usize, Excess),
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
        // waiting would only end at the timeout (tests/hostile answer-first: a server that
        // closed an idle connection cost the next request the whole timeout).
        end = &mut *conn => match tokio::time::timeout(Duration::ZERO, &mut exchange).await {
            Ok(r) => r,
            Err(_) => Err(end.err().map_or(ErrorKind::Io, |e| hyper_kind(&e))),
        },
    }
}

/// Reads an answer whole, keeping the first `hold` bytes of its body: the rest is dropped
/// frame by frame as it arrives (0: a body nobody reads costs no memory), or with
/// [`Excess::Fail`] ends the read as a `body` error.
pub async fn read_answer(
    resp: hyper::Response<hyper::body::Incoming>,
    (hold, excess): (usize, Excess),
) -> Result<Answer, ErrorKind> {
    let (parts, mut incoming) = resp.into_parts();
    let hold = body_hold(parts.status.as_u16(), hold);
    let mut kept = BytesMut::new();
    let mut truncated = false;
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|e| hyper_kind(&e))?;
        if let Ok(data) = frame.into_data() {
            let room = hold.saturating_sub(kept.len());
            kept.extend_from_slice(&data[..data.len().min(room)]);
            truncated |= data.len() > room;
            if truncated && excess == Excess::Fail {
                return Err(ErrorKind::Body);
            }
        }
    }
    Ok(Answer {
        status: parts.status,
        headers: parts.headers,
        body: kept.freeze(),
        truncated,
    })
}

/// The largest control answer accepted: the engine's info, stats and audit are a few KiB of
/// JSON. A server that streams without end (a broken or hostile one, on its health path) must
/// not grow the harness's memory until the timeout: past this the answer is a `body` error
/// (tests/hostile: a 64 MiB cap let the startup probe of an endless body peak near 75 MiB,
/// against 15 MiB for the whole run with this one).
pub const MAX_CONTROL_BODY: usize = 1 << 20;
/// The largest profile accepted (a flamegraph SVG or pprof protobuf: a few MiB).
pub const MAX_PROFILE_BODY: usize = 256 << 20;

/// One request on a fresh connection, for the control path (health polls, stats, audit).
/// `max_body`: [`MAX_CONTROL_BODY`], or [`MAX_PROFILE_BODY`] for a profile.
pub async fn fetch_once(
    dialer: &Dialer,
    req: Request<Full<Bytes>>,
    timeout: Duration,
    max_body: usize,
) -> Result<Answer, ErrorKind> {
    match tokio::time::timeout(timeout, async {
        let (stream, _) = dialer.open(timeout, Alpn::Http11, |tcp| tcp).await?;
        let (mut send, mut conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| ErrorKind::Connect)?;
        h1_exchange(&mut send, &mut conn, req, (max_body, Excess::Fail)).await
    })
    .await
    {
        Ok(r) => r,
        Err(_) => Err(ErrorKind::Timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::time::Instant;

    /// A server on loopback answering one request with a chunked body without end (64 KiB
    /// chunks), for at most 20 s.
    fn endless() -> std::net::SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut lines = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            while lines.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let mut s = s;
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
            let chunk = [b"10000\r\n".as_slice(), &[b'x'; 0x10000], b"\r\n"].concat();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) && s.write_all(&chunk).is_ok() {}
        });
        addr
    }

    #[test]
    fn an_endless_control_answer_is_a_body_error_not_a_wait() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dialer = Dialer {
            addr: endless(),
            tls: None,
            counted: false,
        };
        let req = Request::get("/api/v11/health")
            .header(hyper::header::HOST, "t")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let start = Instant::now();
        let got = rt.block_on(fetch_once(
            &dialer,
            req,
            Duration::from_secs(15),
            MAX_CONTROL_BODY,
        ));
        assert_eq!(got.err(), Some(ErrorKind::Body));
        // 1 MiB over loopback takes milliseconds; the timeout was 15 s.
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "{:?}",
            start.elapsed()
        );
    }
}
