//! Helpers shared by the engine's server tests: an in-process server on 127.0.0.1:0 with a
//! oneshot shutdown, the real `engine serve` binary as a child process ([`Spawned`]), valid
//! batches, and (in `testcert`) a self-signed certificate for TLS.
//!
//! Each test crate that says `mod common;` compiles this module and uses a different part of
//! it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod testcert;

use engine::server::{serve, ServeError, ServeOptions, Transport};
use engine::{encode_batch, Config, Design, Engine, Transfer};
use std::io::BufRead as _;
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
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

/// The real `engine serve --addr 127.0.0.1:0` as a child process, killed if still running when
/// dropped (a failed assertion must not leave a server behind).
pub struct Spawned {
    pub child: Child,
    pub addr: SocketAddr,
    /// `http` or `https`, as announced.
    pub scheme: String,
    /// What follows the address line.
    pub stdout: std::io::BufReader<ChildStdout>,
}

impl Spawned {
    /// Starts `engine serve --addr 127.0.0.1:0 ARGS` and reads the `listening on
    /// SCHEME://ADDR` line it prints first.
    pub fn start<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Spawned {
        let mut child = Command::new(env!("CARGO_BIN_EXE_engine"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let (scheme, addr) = line
            .trim_end()
            .strip_prefix("listening on ")
            .and_then(|url| url.split_once("://"))
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Spawned {
            scheme: scheme.to_string(),
            addr: addr.parse().unwrap(),
            child,
            stdout,
        }
    }

    /// `SCHEME://ADDR`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Sends SIGTERM and waits (up to `TIMEOUT`) for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: sending a signal to our own child process.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
