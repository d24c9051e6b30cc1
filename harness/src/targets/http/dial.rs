//! Opening a connection to the target: TCP (no Nagle), then the TLS handshake for https, each
//! timed. Every client opens its connections here, the load generator's and the control
//! path's alike, so plain and https targets differ in this one place.
//!
//! The two times are k6's `http_req_connecting` and `http_req_tls_handshaking`: the load
//! workers record them per new connection into their own histograms (see
//! `load::worker::WorkerCore::connected`), which reach results.json as `summary.connect_us`
//! and `summary.tls_handshake_us`.

use super::stream::Stream;
use super::tls::{Alpn, TlsClient};
use crate::load::errors::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Where connections go and how they are secured.
#[derive(Clone)]
pub struct Dialer {
    pub addr: SocketAddr,
    /// Set for https targets.
    pub tls: Option<Arc<TlsClient>>,
    /// Whether handshakes and TLS failures count in the run's TLS figures (the load
    /// connections; not the control path's health polls and stats requests).
    pub counted: bool,
}

/// How long opening one connection took.
#[derive(Clone, Copy, Debug)]
pub struct Opened {
    /// From `connect()` to an established TCP connection.
    pub connect: Duration,
    /// The TLS handshake after it (https only).
    pub handshake: Option<Duration>,
}

impl Dialer {
    /// Connects (and handshakes for https) within `timeout`, asking for `alpn`; `wrap` turns
    /// the TCP stream into the stream type the client reads through.
    pub async fn open<S, F>(
        &self,
        timeout: Duration,
        alpn: Alpn,
        wrap: F,
    ) -> Result<(Stream<S>, Opened), ErrorKind>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(TcpStream) -> S,
    {
        let t0 = Instant::now();
        let deadline = tokio::time::Instant::from_std(t0 + timeout);
        let tcp = match tokio::time::timeout_at(deadline, TcpStream::connect(self.addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(_)) => return Err(ErrorKind::Connect),
            Err(_) => return Err(ErrorKind::Timeout),
        };
        let connect = t0.elapsed();
        // Without it, small requests wait on Nagle's algorithm behind delayed ACKs.
        let _ = tcp.set_nodelay(true);
        let io = wrap(tcp);
        let Some(tls) = &self.tls else {
            return Ok((
                Stream::Plain(io),
                Opened {
                    connect,
                    handshake: None,
                },
            ));
        };
        let t1 = Instant::now();
        let stream =
            match tokio::time::timeout_at(deadline, tls.handshake(io, alpn, self.counted)).await {
                Ok(r) => r?,
                Err(_) => return Err(ErrorKind::Timeout),
            };
        let opened = Opened {
            connect,
            handshake: Some(t1.elapsed()),
        };
        let stats = self.counted.then(|| Arc::clone(tls.stats()));
        Ok((
            Stream::Tls {
                stream: Box::new(stream),
                stats,
            },
            opened,
        ))
    }
}
