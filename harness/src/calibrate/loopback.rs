//! The loopback server and floor: the engine's own HTTP server in this process on 127.0.0.1,
//! and the round trip of one keep-alive HTTP/1.1 request to it.
//!
//! Why: no HTTP latency measured on this machine can be lower than a request to a server that
//! answers at once (`GET /api/v11/health`): that floor is the kernel's loopback path, the
//! client's and the server's code, and the scheduler between them. It is measured as a
//! closed-model run of one worker of the native HTTP driver (its builtin HTTP/1.1 client, one
//! connection kept alive), so it is exactly what a run's service time would start from. The
//! server is `engine::server::serve` on a current-thread runtime of its own thread, with a tiny
//! engine, stopped and joined when [`Server`] is dropped.

use super::dispatch::{hold, http_target, plan, Steps};
use super::record::Loopback;
use crate::drivers::http_native::HttpNative;
use crate::drivers::Driver;
use crate::targets::http::HttpTarget;
use crate::targets::Target;
use anyhow::{Context, Result};
use engine::server::{ServeOptions, Transport};
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The engine's server on a loopback port, for as long as this lives.
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds 127.0.0.1:0 and serves a 1,024-account engine on one thread.
    pub fn start() -> Result<Server> {
        let cfg = engine::Config {
            accounts: 1_024,
            shards: 1,
            ..engine::Config::default()
        };
        let engine = Arc::new(engine::Engine::new(cfg).context("building the loopback engine")?);
        let opts = ServeOptions {
            appliers: 1,
            shutdown_grace: Duration::from_secs(1),
            ..ServeOptions::default()
        };
        let rt = crate::targets::http::current_thread_rt()?;
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .context("binding a loopback port")?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("calibrate-server".into())
            .spawn(move || {
                let shutdown = async {
                    let _ = stopped.await;
                };
                let served = rt.block_on(engine::server::serve(
                    listener,
                    engine,
                    opts,
                    Transport::Plain,
                    shutdown,
                ));
                if let Err(e) = served {
                    eprintln!("warning: the calibration's loopback server failed: {e:#}");
                }
            })
            .context("spawning the loopback server")?;
        Ok(Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The round trip of one keep-alive request, one after the other for `steps.hold`.
pub fn floor(addr: SocketAddr, steps: Steps) -> Result<Loopback> {
    let plan = plan(&http_target(addr), steps, "workers = 1")?;
    let target = Target::Http(Box::new(
        HttpTarget::prepare(&plan, false).context("preparing the loopback target")?,
    ));
    let driver = Driver::HttpNative(HttpNative::for_plan(&plan).on_threads(1));
    let c = hold(&plan, &driver, &target, None)?;
    let h = &c.steady.hist;
    let n = &c.steady.counts;
    if n.failed_ops > 0 || h.is_empty() {
        anyhow::bail!("{} of {} loopback requests failed", n.failed_ops, n.ops);
    }
    let us = |ns: u64| ns as f64 / 1e3;
    Ok(Loopback {
        requests: h.len(),
        p50_us: us(h.value_at_quantile(0.5)),
        p99_us: us(h.value_at_quantile(0.99)),
        max_us: us(h.max()),
    })
}
