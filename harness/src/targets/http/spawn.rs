//! Spawn targets: start a server, learn its address, wait until it is healthy, stop it.
//!
//! The server announces its address on the first line of stdout (`listening on http://ADDR`,
//! as `engine serve --addr 127.0.0.1:0` does, or `https://ADDR` for a TLS server, whose
//! connections then use `[http.tls]`), so tests and scenarios can use port 0. Startup
//! time is measured from the spawn to the first 200 from `health_path`. stdout is drained for
//! the rest of the run (a full pipe would block the server); stderr is inherited.
//!
//! Finding the program ([`resolve`]): `command[0]` as given if it contains a '/'; else a file
//! of that name beside the running executable (`target/<profile>/harness` finds
//! `target/<profile>/engine`, built by `cargo build -p engine`); else the `PATH`. When the
//! name is `engine` and none of these has it (`cargo run -p harness` builds only the harness),
//! the harness starts itself as `harness engine ...`: the same server, linked in, still a
//! separate process, so its PID, resources, startup time and SIGTERM stop are measured alike.
//! That assumes the running executable is the harness binary; a test binary driving the
//! library gets no address line from it and fails with [`HttpError::NoAddress`].
//!
//! The server dies with the harness, even a SIGKILLed one ([`die_with_us`]).

use super::control::{fetch_once, MAX_CONTROL_BODY};
use super::dial::Dialer;
use super::HttpError;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::HOST;
use hyper::{Request, StatusCode};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a stopped server may take to exit after SIGTERM before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// The one program name the harness can stand in for: it links the engine server in.
pub const ENGINE: &str = "engine";

/// How a spawn command's program is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// This file. A bare name found nowhere stays bare, so the spawn error names what the
    /// scenario said.
    File(PathBuf),
    /// `engine` found nowhere: the running executable's hidden `engine` subcommand.
    SelfEngine,
}

/// Where `program` is run from (see the module docs), given the running executable's
/// directory and the `PATH` value; pure, so every branch is testable.
pub fn resolve(program: &str, exe_dir: Option<&Path>, path_var: Option<&OsStr>) -> Launch {
    if program.contains('/') {
        return Launch::File(PathBuf::from(program));
    }
    let sibling = exe_dir.map(|d| d.join(program)).filter(|p| p.is_file());
    match sibling.or_else(|| on_path(program, path_var?)) {
        Some(found) => Launch::File(found),
        None if program == ENGINE => Launch::SelfEngine,
        None => Launch::File(PathBuf::from(program)),
    }
}

/// The first `name` file in a `PATH`-style list of directories (as a shell finds it; no
/// dependency needed for a split and a stat).
fn on_path(name: &str, path_var: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The program and arguments `command` is spawned with, and whether that is the engine linked
/// into this executable.
fn launch_of(command: &[String]) -> Result<(PathBuf, Vec<String>, bool), HttpError> {
    let (name, rest) = command.split_first().ok_or(HttpError::EmptyCommand)?;
    let exe = std::env::current_exe();
    let exe_dir = exe.as_ref().ok().and_then(|e| e.parent());
    match resolve(name, exe_dir, std::env::var_os("PATH").as_deref()) {
        Launch::File(program) => Ok((program, rest.to_vec(), false)),
        Launch::SelfEngine => {
            let exe = exe.map_err(|source| HttpError::Spawn {
                program: PathBuf::from(name),
                source,
            })?;
            let args = std::iter::once(ENGINE.to_string())
                .chain(rest.iter().cloned())
                .collect();
            Ok((exe, args, true))
        }
    }
}

/// Ties the child's life to ours: the kernel sends it SIGKILL when the harness dies, however
/// it dies. Ctrl-C and a normal end stop the server with SIGTERM ([`Spawned::stop`]); this is
/// for the deaths nothing in the harness sees (SIGKILL, an OOM kill, a crash), which used to
/// leave `engine serve` running as an orphan holding its port and a core. SIGKILL, not SIGTERM:
/// nobody is left to read a graceful exit, and a server may ignore SIGTERM.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that forked exits, not only the process: the
/// target is prepared on the thread that runs the whole run (the main thread, or a test's own
/// thread), so the server never outlives its run by accident, nor dies before it.
fn die_with_us(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child before exec and calls only prctl(2),
    // getppid(2) and _exit(2), which are async-signal-safe; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The harness died between fork and prctl: the signal will never come.
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// A running server the harness started.
pub struct Spawned {
    child: Option<Child>,
    pub pid: u32,
    /// The file that was started (this executable when `linked_engine`).
    pub program: PathBuf,
    /// Its arguments (`engine serve ...` when `linked_engine`).
    pub args: Vec<String>,
    /// No `engine` binary was found, so this executable runs the engine server it links in.
    pub linked_engine: bool,
    /// `http://...` or `https://...` from the first line of stdout.
    pub url: String,
}

impl Spawned {
    /// Starts `command` and reads its address line within `timeout`.
    pub fn start(command: &[String], timeout: Duration) -> Result<Spawned, HttpError> {
        let (program, args, linked_engine) = launch_of(command)?;
        let mut cmd = Command::new(&program);
        die_with_us(&mut cmd);
        let mut child = cmd
            .args(&args)
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
            args,
            linked_engine,
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
        match line.find("https://").or_else(|| line.find("http://")) {
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
        dialer: &Dialer,
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
            let answer = rt.block_on(fetch_once(
                dialer,
                req,
                left.max(Duration::from_millis(50)),
                MAX_CONTROL_BODY,
            ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    /// A directory holding an empty file `engine`.
    fn dir_with_engine() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(ENGINE), b"").unwrap();
        d
    }

    fn path_of(dirs: &[&Path]) -> OsString {
        std::env::join_paths(dirs).unwrap()
    }

    #[test]
    fn a_path_with_a_slash_is_used_as_given() {
        let sibling = dir_with_engine();
        let path = path_of(&[sibling.path()]);
        for p in ["./engine", "/nowhere/engine", "bin/engine"] {
            assert_eq!(
                resolve(p, Some(sibling.path()), Some(&path)),
                Launch::File(PathBuf::from(p))
            );
        }
    }

    #[test]
    fn a_sibling_of_the_executable_comes_before_the_path() {
        let (exe_dir, on_path) = (dir_with_engine(), dir_with_engine());
        let path = path_of(&[on_path.path()]);
        assert_eq!(
            resolve(ENGINE, Some(exe_dir.path()), Some(&path)),
            Launch::File(exe_dir.path().join(ENGINE))
        );
    }

    #[test]
    fn the_first_path_entry_with_a_file_of_that_name_is_used() {
        let exe_dir = tempfile::tempdir().unwrap();
        // A directory named `engine` is not a program: the next entry's file is.
        let dir_named_engine = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir_named_engine.path().join(ENGINE)).unwrap();
        let (first, second) = (dir_with_engine(), dir_with_engine());
        let path = path_of(&[dir_named_engine.path(), first.path(), second.path()]);
        assert_eq!(
            resolve(ENGINE, Some(exe_dir.path()), Some(&path)),
            Launch::File(first.path().join(ENGINE))
        );
    }

    #[test]
    fn an_engine_found_nowhere_is_the_linked_one_and_other_names_stay_bare() {
        let (exe_dir, empty) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let path = path_of(&[empty.path()]);
        assert_eq!(
            resolve(ENGINE, Some(exe_dir.path()), Some(&path)),
            Launch::SelfEngine
        );
        assert_eq!(resolve(ENGINE, None, None), Launch::SelfEngine);
        // Only the exact name: anything else fails to spawn under the name the scenario gave.
        for other in ["engine2", "Engine", "server"] {
            assert_eq!(
                resolve(other, Some(exe_dir.path()), Some(&path)),
                Launch::File(PathBuf::from(other))
            );
        }
    }
}
