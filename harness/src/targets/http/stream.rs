//! A connection's byte stream: plain TCP or TLS over it, one enum for every client (the
//! builtin HTTP/1.1 client, hyper's, the control path).
//!
//! Why an enum and not `Box<dyn AsyncRead + AsyncWrite>`: a plain-http run pays one match per
//! read or write and nothing else (no vtable call, no allocation), so adding https leaves the
//! plain path as fast as it was. The inner stream `S` is generic so the builtin client can put
//! its receive-stamping socket under TLS too (the stamp of the TCP read that completed a TLS
//! record is then the answer's arrival).
//!
//! A TLS error that surfaces on an established connection (an alert: a server refusing the
//! client certificate after a TLS 1.3 handshake, a bad record) is counted in the run's
//! [`TlsStats`] here, where it is seen, whichever client was reading.

use super::tls::{rustls_error, TlsStats};
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// Plain or TLS; `S` is the TCP stream underneath.
pub enum Stream<S = TcpStream> {
    Plain(S),
    Tls {
        // Boxed: a rustls connection is over a kilobyte, and the plain variant should not
        // carry that much unused space in every connection.
        stream: Box<TlsStream<S>>,
        /// Where later TLS errors are counted (`None` on the control path).
        stats: Option<Arc<TlsStats>>,
    },
}

impl<S> Stream<S> {
    /// The TCP stream underneath.
    pub fn tcp(&self) -> &S {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls { stream, .. } => stream.get_ref().0,
        }
    }

    pub fn tcp_mut(&mut self) -> &mut S {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls { stream, .. } => stream.get_mut().0,
        }
    }
}

/// Counts a TLS error that ended an I/O call, and passes the result on.
fn seen<T>(stats: &Option<Arc<TlsStats>>, r: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
    if let (Poll::Ready(Err(e)), Some(stats)) = (&r, stats) {
        if let Some(tls) = rustls_error(e) {
            stats.failed_later(tls);
        }
    }
    r
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls { stream, stats } => {
                seen(stats, Pin::new(&mut **stream).poll_read(cx, buf))
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls { stream, stats } => {
                seen(stats, Pin::new(&mut **stream).poll_write(cx, buf))
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls { stream, stats } => {
                seen(stats, Pin::new(&mut **stream).poll_write_vectored(cx, bufs))
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls { stream, .. } => stream.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls { stream, stats } => seen(stats, Pin::new(&mut **stream).poll_flush(cx)),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls { stream, .. } => Pin::new(&mut **stream).poll_shutdown(cx),
        }
    }
}
