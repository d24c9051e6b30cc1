//! Helpers shared by the engine's server tests: an in-process server on 127.0.0.1:0 with a
//! oneshot shutdown, valid batches, and (in `testcert`) a self-signed certificate for TLS.
//!
//! Each test crate that says `mod common;` compiles this module and uses a different part of
//! it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod testcert;

use engine::server::{serve, ServeError, ServeOptions, Transport};
use engine::{encode_batch, Config, Design, Engine, Transfer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ACCOUNTS: u64 = 10_000;
/// The most any single step of a test may wait (a reply, a shutdown).
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A server running in this process until [`Server::shutdown`].
pub struct Server {
    pub addr: SocketAddr,
    pub engine: Arc<Engine>,
    pub stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<Result<(), ServeError>>,
}

impl Server {
    /// A plain-HTTP server of `ACCOUNTS` accounts in 16 shards.
    pub async fn start(design: Design, opts: ServeOptions) -> Server {
        Server::start_with(design, opts, Transport::Plain).await
    }

    /// The same, speaking `transport` (plain HTTP or TLS).
    pub async fn start_with(design: Design, opts: ServeOptions, transport: Transport) -> Server {
        let engine = Arc::new(
            Engine::new(Config {
                accounts: ACCOUNTS,
                design,
                shards: 16,
                ..Config::default()
            })
            .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(
            listener,
            Arc::clone(&engine),
            opts,
            transport,
            async {
                let _ = stopped.await;
            },
        ));
        Server {
            addr,
            engine,
            stop: Some(stop),
            task,
        }
    }

    pub async fn cas() -> Server {
        Server::start(Design::Cas, ServeOptions::default()).await
    }

    /// Signals shutdown and waits for `serve` to return.
    pub async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(TIMEOUT, self.task)
            .await
            .expect("serve returns after shutdown")
            .unwrap()
            .unwrap();
    }
}

/// `n` valid first transfers of distinct senders `first..first+n`.
pub fn valid_batch(first: u64, n: u64) -> Vec<Transfer> {
    (first..first + n)
        .map(|from| Transfer {
            from,
            to: (from + 1) % ACCOUNTS,
            amount: 3,
            nonce: 0,
        })
        .collect()
}

/// `batch` in the binary wire format.
pub fn binary(batch: &[Transfer]) -> Vec<u8> {
    let mut bytes = Vec::new();
    encode_batch(batch, &mut bytes);
    bytes
}
