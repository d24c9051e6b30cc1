//! One accepted connection, from the TCP stream to its last response: the TLS handshake when
//! the server speaks HTTPS, then hyper-util's auto connection (HTTP/1.1 or HTTP/2), until the
//! client leaves or shutdown asks it to finish.
//!
//! The handshake happens here, in the connection's own task, and not in the accept loop: a
//! client that opens a socket and sends nothing, or sends garbage, would otherwise hold up every
//! client behind it. Here it holds one task and one connection permit until its deadline
//! (`--tls-handshake-timeout-secs`), the same exposure a plain-HTTP client has to
//! `--header-timeout-secs`. A failed or timed-out handshake is counted in
//! `http_connections_rejected_total{reason="tls_handshake_failed"}` and not logged: a flood of
//! them must not become a flood of stderr lines.

use crate::server::tls::ServerTls;
use crate::server::{routes, stopped, ServeOptions, State};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::sync::{watch, OwnedSemaphorePermit};

/// What the server speaks on its accepted sockets.
#[derive(Debug, Clone, Default)]
pub enum Transport {
    /// HTTP/1.1 or HTTP/2 (prior knowledge) in the clear: the default.
    #[default]
    Plain,
    /// TLS first; then whichever of HTTP/2 and HTTP/1.1 ALPN settled on.
    Tls(ServerTls),
}

impl Transport {
    /// The URL scheme clients use: `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        match self {
            Transport::Plain => "http",
            Transport::Tls(_) => "https",
        }
    }
}

/// The HTTP side shared by every connection.
pub(crate) type HttpBuilder = auto::Builder<TokioExecutor>;

/// HTTP/1.1 with keep-alive and a header read deadline, and HTTP/2, detected per connection.
pub(crate) fn http_builder(opts: &ServeOptions) -> HttpBuilder {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(opts.header_read_timeout)
        .keep_alive(true)
        // Answers to pipelined requests leave in one write instead of one each: the harness
        // pipelining 16 deep (64 connections, GET health) spent 2.18 CPU-s per million
        // requests against one write per answer and 0.76 against this, while one request at
        // a time cost 4.38 and 4.33 (benches/pipeline.sh, medians of 3 rounds, 2-core VM):
        // nothing else is buffered then. hyper calls it experimental: tests/server.rs checks
        // that pipelined answers stay whole and in order.
        .pipeline_flush(true);
    builder.http2().timer(TokioTimer::new());
    builder
}

/// Serves one accepted connection until it ends; the permit is held until then.
pub(crate) async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    state: Arc<State>,
    builder: Arc<HttpBuilder>,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let m = &state.metrics;
    m.connections_total.fetch_add(1, Ordering::Relaxed);
    m.connections_active.fetch_add(1, Ordering::Relaxed);
    match &state.transport {
        Transport::Plain => serve_http(stream, peer, &state, &builder, &mut stop).await,
        Transport::Tls(tls) => {
            let deadline = state.opts.tls_handshake_timeout;
            let handshake = tokio::select! {
                shake = tls.accept(stream, deadline) => Some(shake),
                // Shutting down: no request is in flight yet, so there is nothing to finish.
                () = stopped(&mut stop) => None,
            };
            match handshake {
                Some(Ok(tls)) => serve_http(tls, peer, &state, &builder, &mut stop).await,
                Some(Err(_)) => {
                    m.tls_handshakes_failed.fetch_add(1, Ordering::Relaxed);
                }
                None => {}
            }
        }
    }
    m.connections_active.fetch_sub(1, Ordering::Relaxed);
}

/// Runs hyper on `io` (a TCP or TLS stream) until the client is done or shutdown has started
/// and the request in flight has been answered.
async fn serve_http<IO>(
    io: IO,
    peer: SocketAddr,
    state: &Arc<State>,
    builder: &HttpBuilder,
    stop: &mut watch::Receiver<bool>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc_state = Arc::clone(state);
    let service = service_fn(move |req| {
        let state = Arc::clone(&svc_state);
        async move { Ok::<_, Infallible>(routes::handle(state, peer, req).await) }
    });
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        // Connection errors (resets, timeouts, garbage) are the client's business.
        _ = conn.as_mut() => {}
        () = stopped(stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
