//! The live metrics endpoint (`harness run --metrics-addr ADDR`): GET `/metrics` answers the
//! run's totals so far as Prometheus text ([`Live::render`]) while the run goes.
//!
//! It runs on a thread and runtime of its own, so a scrape never delays a worker or the
//! collector (one scrape renders ~1,000 lines: well under a millisecond). At the end of the run
//! it stays up until one scrape has seen the final totals, or `--metrics-linger` has passed:
//! otherwise whatever happened after the last scrape (up to a scrape interval, 15 s by
//! Prometheus's default) would never reach the dashboard. Like load, it binds loopback only
//! unless `--allow-remote` is given. The same thread pushes the same text with Prometheus
//! remote-write when `--remote-write` asks ([`remote_write`](super::remote_write)).

use super::remote_write::{self, Pushes, RemoteWrite};
/// The latency buckets' bounds, for readers of the exposition (tests, dashboards).
pub use crate::load::buckets::BOUNDS_NS;
use crate::load::live::Live;
use anyhow::{bail, Context as _, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::CONTENT_TYPE;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `--metrics-addr`, `--metrics-linger` and `--remote-write`: at least one of `addr` and
/// `remote_write` is set.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub addr: Option<SocketAddr>,
    /// The longest wait for a scrape after the run (0: none).
    pub linger: Duration,
    pub remote_write: Option<RemoteWrite>,
}

/// A running endpoint and pusher; [`Endpoint::finish`] stops them.
pub struct Endpoint {
    pub live: Arc<Live>,
    /// Where it listens (the port chosen when ADDR said 0); None when it only pushes.
    pub addr: Option<SocketAddr>,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<Option<Pushes>>>,
}

impl Endpoint {
    /// Binds `opts.addr` (loopback only unless `allow_remote`) and serves `live` from a thread,
    /// which also pushes it when `opts.remote_write` is set.
    pub fn start(opts: &LiveOptions, allow_remote: bool, live: Arc<Live>) -> Result<Endpoint> {
        let listener = opts.addr.map(|a| bind(a, allow_remote)).transpose()?;
        let addr = listener.as_ref().map(|l| l.local_addr()).transpose()?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let served = Arc::clone(&live);
        let rw = opts.remote_write.clone();
        let thread = std::thread::Builder::new()
            .name("harness-metrics".into())
            .spawn(move || serve(listener, rw, served, stopped))?;
        Ok(Endpoint {
            live,
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The run is over: pushes the final totals (when pushing), waits (up to `linger`, or until
    /// `cancelled` says so) for a scrape of them (when serving), then stops. Says on stderr
    /// what it waits for unless `quiet`, and how pushes failed if any did.
    pub fn finish(mut self, linger: Duration, quiet: bool, cancelled: impl Fn() -> bool) {
        self.live.finish();
        if let Some(addr) = self.addr {
            self.linger(addr, linger, quiet, cancelled);
        }
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
        let pushes = self.thread.take().and_then(|t| t.join().ok()).flatten();
        if let Some(p) = pushes.filter(|p| p.failed > 0) {
            eprintln!(
                "remote-write: {} of {} pushes failed; last: {}",
                p.failed,
                p.sent,
                p.last_error.unwrap_or_default()
            );
        }
    }

    fn linger(
        &self,
        addr: SocketAddr,
        linger: Duration,
        quiet: bool,
        cancelled: impl Fn() -> bool,
    ) {
        let deadline = Instant::now() + linger;
        if !linger.is_zero() && !quiet {
            eprintln!(
                "waiting up to {} s for a last scrape of http://{}/metrics (Ctrl-C skips)",
                linger.as_secs_f64(),
                addr
            );
        }
        while self.live.scrapes_after_end() == 0 && Instant::now() < deadline && !cancelled() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `--metrics-addr`'s listener: loopback only unless `allow_remote`.
fn bind(addr: SocketAddr, allow_remote: bool) -> Result<std::net::TcpListener> {
    if !addr.ip().is_loopback() && !allow_remote {
        bail!(
            "refusing to serve live metrics on {addr}: not a loopback address (127.0.0.0/8 or ::1); --allow-remote allows it"
        );
    }
    let listener = std::net::TcpListener::bind(addr)
        .with_context(|| format!("binding --metrics-addr {addr}"))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Serves `listener` (if any) and pushes to `rw` (if any) until `stopped`; the pushes' tally.
fn serve(
    listener: Option<std::net::TcpListener>,
    rw: Option<RemoteWrite>,
    live: Arc<Live>,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Option<Pushes> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(async move {
        if let Some(l) = listener {
            tokio::spawn(accept(l, Arc::clone(&live), stopped.clone()));
        }
        match rw {
            Some(rw) => Some(remote_write::run(rw, live, stopped).await),
            None => {
                let mut stopped = stopped;
                let _ = stopped.wait_for(|s| *s).await;
                None
            }
        }
    })
}

/// Accepts and serves scrapes until `stopped`.
async fn accept(
    listener: std::net::TcpListener,
    live: Arc<Live>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let (stream, _) = tokio::select! {
            _ = stopped.wait_for(|s| *s) => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => continue,
            },
        };
        let live = Arc::clone(&live);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let live = Arc::clone(&live);
                async move { Ok::<_, std::convert::Infallible>(answer(&live, &req)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// `/metrics` as Prometheus text; anything else a 404 with a JSON error.
fn answer<B>(live: &Live, req: &Request<B>) -> Response<Full<Bytes>> {
    let (status, kind, body) = if req.uri().path() == "/metrics" {
        let text = live.render();
        (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            text,
        )
    } else {
        let detail = serde_json::json!({
            "error": "not found",
            "detail": format!("no route for {}: live metrics are at /metrics", req.uri().path()),
        });
        (
            StatusCode::NOT_FOUND,
            "application/json",
            detail.to_string(),
        )
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = kind.parse() {
        r.headers_mut().insert(CONTENT_TYPE, v);
    }
    r
}
