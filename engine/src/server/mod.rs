//! The engine's HTTP server: hyper 1.x on a tokio multi-thread runtime.
//!
//! [`serve`] is the testable core: it takes a bound listener, an engine, the limits and a
//! shutdown future, and returns once every connection is gone. [`run`] wires it to a runtime
//! with named worker threads (`engine-http-N`, so they stay apart in flamegraphs), a TCP
//! listener (announced on stdout as `listening on http://ADDR`) and SIGINT/SIGTERM.
//!
//! # Bounded everywhere
//! - Connections: a semaphore of `max_connections` permits; a connection over it gets a canned
//!   503 and is closed (over TLS just closed), instead of waiting in an unbounded queue.
//! - Requests: at most `max_inflight` handled at once (an atomic counter, no lock); over it,
//!   503 with `Retry-After: 1`.
//! - Bodies: Content-Length over `max_body` is refused before reading; streamed bodies are
//!   capped with `http_body_util::Limited`.
//! - Slow clients: a header read timeout (HTTP/1); over TLS, a handshake deadline as well.
//!
//! # Plain HTTP or HTTPS
//! [`Transport`] says what the accepted sockets speak: plain HTTP (the default) or TLS with ALPN
//! (`--tls-cert`/`--tls-key`, see `tls`). The accept loop only accepts; any handshake happens
//! in the connection's task (`connection`), so a silent or garbage-sending client cannot stall
//! it.
//!
//! # Shutdown
//! The mini-redis pattern: when the shutdown future resolves the accept loop ends and the
//! listener is dropped, a `watch` stop signal tells every connection to shut down gracefully
//! (finish the request in flight, then close), and `serve` waits for the connection tasks,
//! aborting any still open after `shutdown_grace`.
//!
//! See `routes` for the endpoints and `apply` for how batches reach the engine per design.

mod apply;
mod bench;
mod config;
mod connection;
mod metrics;
mod openapi;
mod profile;
mod routes;
mod tls;

pub use apply::ApplyError;
pub use bench::{bench, BenchReport};
pub use config::{
    parse_size, BenchArgs, Cli, Command, ConfigError, DesignArg, ServeArgs, ServeOptions,
    ServerConfig,
};
pub use connection::Transport;
pub use routes::decode_json_transfers;
pub use tls::{ServerTls, TlsError, TlsFiles};

use crate::Engine;
use anyhow::Context as _;
use apply::Applier;
use connection::{connection, http_builder};
use metrics::Metrics;
use std::future::Future;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

/// Why [`serve`] could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("starting the single-writer appliers")]
    Applier(#[from] ApplyError),
    #[error("reading the listener's local address")]
    LocalAddr(#[source] std::io::Error),
}

/// What every connection shares.
pub(crate) struct State {
    engine: Arc<Engine>,
    applier: Applier,
    opts: ServeOptions,
    transport: Transport,
    metrics: Metrics,
    started: Instant,
    /// Becomes true when shutdown starts.
    stop: watch::Receiver<bool>,
}

/// Serves `engine` on `listener`, speaking `transport`, until `shutdown` resolves, then stops
/// accepting, lets the requests in flight finish (up to `opts.shutdown_grace`) and returns when
/// every connection task has ended.
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    opts: ServeOptions,
    transport: Transport,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    listener.local_addr().map_err(ServeError::LocalAddr)?;
    let applier = Applier::start(&engine, &opts)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let connections = Arc::new(Semaphore::new(opts.max_connections));
    let grace = opts.shutdown_grace;
    let builder = Arc::new(http_builder(&opts));
    let state = Arc::new(State {
        engine,
        applier,
        opts,
        transport,
        metrics: Metrics::default(),
        started: Instant::now(),
        stop: stop_rx.clone(),
    });

    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        // Reap finished connection tasks so the set stays the size of the open connections.
        while tasks.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Typically EMFILE: back off instead of spinning, keep serving.
                eprintln!("engine: accepting a connection failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            state
                .metrics
                .connections_rejected
                .fetch_add(1, Ordering::Relaxed);
            // A TLS client would read a plain-text 503 as a broken record: just close.
            if let Transport::Plain = state.transport {
                refuse(&stream);
            }
            continue;
        };
        tasks.spawn(connection(
            stream,
            peer,
            Arc::clone(&state),
            Arc::clone(&builder),
            stop_rx.clone(),
            permit,
        ));
    }

    drop(listener);
    // Receivers live in `state` and in every task, so this cannot fail.
    let _ = stop_tx.send(true);
    let drained =
        tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        eprintln!(
            "engine: {} connections still open after {grace:?}; closing them",
            tasks.len()
        );
        tasks.shutdown().await;
    }
    Ok(())
}

/// Best-effort 503 for a connection over the limit, then close. Never waits on the client.
fn refuse(stream: &TcpStream) {
    const BODY: &str = r#"{"error":"overloaded","detail":"too many open connections"}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = stream.try_write(response.as_bytes());
}

/// Resolves once shutdown has started (or the stop sender is gone). Drops the watch guard
/// before returning so the future stays `Send`.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

/// Runs the server described by `config` until SIGINT or SIGTERM: loads the TLS files if any,
/// builds the engine and the runtime, binds, prints `listening on http://ADDR` (or `https://`)
/// as the first line of stdout, serves.
pub fn run(config: ServerConfig) -> anyhow::Result<ExitCode> {
    // First, so a wrong file fails in milliseconds, before a large engine is allocated.
    let transport = match &config.tls {
        Some(files) => Transport::Tls(ServerTls::from_files(files)?),
        None => Transport::Plain,
    };
    let engine = Engine::new(config.engine.clone()).context("building the engine")?;
    let engine = Arc::new(engine);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.workers)
        .thread_name_fn(|| {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            format!("engine-http-{}", NEXT.fetch_add(1, Ordering::Relaxed))
        })
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    runtime.block_on(async move {
        let shutdown = shutdown_signal().context("installing the SIGINT/SIGTERM handlers")?;
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("binding {}", config.addr))?;
        let local = listener.local_addr().context("reading the bound address")?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on {}://{local}", transport.scheme())
                .and_then(|()| out.flush())
                .context("writing the address to stdout")?;
        }
        eprintln!(
            "engine: serving {} accounts over {}, design {}, {} workers",
            engine.accounts(),
            transport.scheme(),
            engine.design().as_str(),
            config.workers
        );
        serve(listener, engine, config.serve, transport, shutdown).await?;
        eprintln!("engine: stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// The `engine` binary's body after parsing: runs `serve` or `bench`, prints an error's chain
/// as `engine: error: ...` and exits 2 on it. Public because the harness runs the same thing
/// as its hidden `harness engine ...` (the server it spawns when no `engine` binary was
/// built), and the two must not drift apart.
pub fn main_with(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve(args) => args
            .into_config()
            .map_err(anyhow::Error::from)
            .and_then(run),
        Command::Bench(args) => bench(&args).and_then(|report| {
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(if report.audit_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("engine: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Resolves on the first SIGINT or SIGTERM. The handlers are installed before this returns,
/// so a signal sent right after startup is not lost.
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
