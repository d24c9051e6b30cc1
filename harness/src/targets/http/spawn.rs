//! Spawn targets: start a server, learn its address, wait until it is healthy, stop it.
//!
//! The server announces its address on the first line of stdout (`listening on http://ADDR`,
//! as `engine serve --addr 127.0.0.1:0` does), so tests and scenarios can use port 0. Startup
//! time is measured from the spawn to the first 200 from `health_path`. stdout is drained for
//! the rest of the run (a full pipe would block the server); stderr is inherited.
//!
//! Finding the program: `command[0]` as given if it contains a '/'; else a file of that name
//! beside the running executable (`target/<profile>/harness` finds `target/<profile>/engine`,
//! built by `cargo build -p engine`); else the `PATH`.

use super::control::fetch_once;
use super::HttpError;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::HOST;
use hyper::{Request, StatusCode};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a stopped server may take to exit after SIGTERM before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// Where `program` is run from (see the module docs).
pub fn locate(program: &str) -> PathBuf {
    if program.contains('/') {
        return PathBuf::from(program);
    }
    if let Ok(exe) = std::env::current_exe() {
        let sibling = exe.with_file_name(program);
        if sibling.is_file() {
            return sibling;
        }
    }
    PathBuf::from(program)
}

/// A running server the harness started.
pub struct Spawned {
    child: Option<Child>,
    pub pid: u32,
    pub program: PathBuf,
    /// `http://...` from the first line of stdout.
    pub url: String,
}

impl Spawned {
    /// Starts `command` and reads its address line within `timeout`.
    pub fn start(command: &[String], timeout: Duration) -> Result<Spawned, HttpError> {
        let (program, args) = command.split_first().ok_or(HttpError::EmptyCommand)?;
        let program = locate(program);
        let mut child = Command::new(&program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| HttpError::Spawn {
                program: program.clone(),
                source,
            })?;
        let pid = child.id();
        let stdout = child.stdout.take();
        let mut spawned = Spawned {
            child: Some(child),
            pid,
            program: program.clone(),
            url: String::new(),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        if let Some(out) = stdout {
            std::thread::Builder::new()
                .name("harness-target-stdout".into())
                .spawn(move || {
                    let mut lines = BufReader::new(out).lines();
                    let first = lines.next();
                    let _ = tx.send(first.map(|l| l.unwrap_or_default()));
                    // Drain the rest so the server never blocks on a full pipe.
                    for _ in lines {}
                })
                .map_err(|source| HttpError::Spawn {
                    program: program.clone(),
                    source,
                })?;
        }
        let line = match rx.recv_timeout(timeout) {
            Ok(Some(line)) => line,
            Ok(None) | Err(_) => {
                let status = spawned.stop(Duration::ZERO);
                return Err(HttpError::NoAddress {
                    program,
                    timeout,
                    status: status.map_or_else(|| "still running".into(), |s| s.to_string()),
                });
            }
        };
        match line.find("http://") {
            Some(i) => spawned.url = line[i..].trim().trim_end_matches('/').to_string(),
            None => {
                spawned.stop(Duration::ZERO);
                return Err(HttpError::BadAddressLine { program, line });
            }
        }
        Ok(spawned)
    }

    /// Polls `health_path` until it answers 200 or `deadline` passes.
    pub fn wait_healthy(
        &mut self,
        rt: &tokio::runtime::Runtime,
        addr: SocketAddr,
        authority: &str,
        path: &str,
        deadline: Instant,
    ) -> Result<(), HttpError> {
        loop {
            let req = Request::get(path)
                .header(HOST, authority)
                .body(Full::new(Bytes::new()))
                .map_err(|e| HttpError::BadUrl {
                    url: path.to_string(),
                    why: e.to_string(),
                })?;
            let left = deadline.saturating_duration_since(Instant::now());
            let answer = rt.block_on(fetch_once(addr, req, left.max(Duration::from_millis(50))));
            if matches!(&answer, Ok(a) if a.status == StatusCode::OK) {
                return Ok(());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(HttpError::Exited {
                    program: self.program.clone(),
                    status: status.to_string(),
                });
            }
            if Instant::now() >= deadline {
                return Err(HttpError::Unhealthy {
                    path: path.to_string(),
                    last: match answer {
                        Ok(a) => format!("status {}", a.status),
                        Err(k) => k.as_str().to_string(),
                    },
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends SIGTERM, waits up to `grace`, then kills. Returns the exit status if it is known.
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        if !grace.is_zero() {
            // SAFETY: kill(2) with a PID we spawned and have not reaped (the Child is still
            // held, so the PID cannot have been reused).
            unsafe {
                libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
            }
            let until = Instant::now() + grace;
            while Instant::now() < until {
                if let Ok(Some(s)) = child.try_wait() {
                    return Some(s);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = child.kill();
        child.wait().ok()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

impl Drop for Spawned {
    /// Never leave a server behind, whatever path the run took.
    fn drop(&mut self) {
        self.stop(Duration::ZERO);
    }
}
