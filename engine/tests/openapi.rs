//! schemathesis against the real `engine serve`, with the OpenAPI description the server itself
//! serves at `/api/v11/openapi.json`: every answer must match `engine/openapi.yaml` (status,
//! content type, headers, body schema), no request may get a 5xx, schema-valid requests must be
//! accepted and invalid ones rejected, and every method a path does not take must get 405 with
//! `Allow`.
//!
//! Two servers, because the profile endpoint has two faces:
//! - profiling off (the default): every operation, all phases (examples, coverage, fuzzing),
//!   the profile answering its documented 404;
//! - profiling on: the two profile operations (GET and HEAD) alone. A profile answers after
//!   sampling for `seconds`, so `tests/schemathesis/hooks.py` makes every sampling request take
//!   1 s, and the positive cases are bounded (fuzzing, a few examples) so that the run stays
//!   short; negative cases are rejected before sampling and run every phase. The profiles' full
//!   answers (flamegraph under load, protobuf, 400s) are also checked in `tests/server.rs`.
//!
//! Configuration that does not vary per run lives in `tests/schemathesis/schemathesis.toml`.
//! Skipped with a note when schemathesis is not installed, except under `REQUIRE_TEST_TOOLS=1`
//! (`.ci/run` sets it after `.ci/deps` installed schemathesis), where that fails the test.
#![cfg(feature = "server")]

mod common;

use common::Spawned;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Generous: the whole run takes about 20 s on a 2-core VM with a debug build.
const RUN_LIMIT: Duration = Duration::from_secs(110);

/// One schemathesis invocation: what it is for, the one path it is limited to (if any), and
/// its own arguments.
struct Pass<'a> {
    what: &'a str,
    path: Option<&'a str>,
    args: &'a [&'a str],
}

const PROFILE: Option<&str> = Some("/debug/pprof/profile");

#[test]
fn schemathesis_finds_nothing() {
    if !schemathesis_installed() {
        return;
    }
    let started = Instant::now();
    let plain = Spawned::start(&["--accounts", "1000", "--workers", "2"]);
    let every = Pass {
        what: "every operation, profiling off",
        path: None,
        args: &["--max-examples", "50"],
    };
    run(&plain, &every);
    drop(plain);
    let profiling = Spawned::start(&["--accounts", "1000", "--workers", "2", "--enable-profiling"]);
    let invalid = Pass {
        what: "profile, invalid queries",
        path: PROFILE,
        args: &["--mode", "negative", "--max-examples", "30"],
    };
    run(&profiling, &invalid);
    let valid = Pass {
        what: "profile, valid queries (1 s each)",
        path: PROFILE,
        args: &[
            "--mode",
            "positive",
            "--phases",
            "fuzzing",
            "--max-examples",
            "4",
        ],
    };
    run(&profiling, &valid);
    eprintln!("schemathesis: all passes took {:.1?}", started.elapsed());
}

/// Whether `schemathesis` is on PATH; when it is not, says so, and fails under
/// `REQUIRE_TEST_TOOLS`.
fn schemathesis_installed() -> bool {
    let found = Command::new("schemathesis")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("REQUIRE_TEST_TOOLS").is_none(),
            "schemathesis not installed (PyPI package schemathesis; .ci/deps installs it)"
        );
        eprintln!("schemathesis not installed: the server is not checked against openapi.yaml");
    }
    found
}

/// Runs schemathesis against `server` and fails the test, with its report, on any failure.
fn run(server: &Spawned, pass: &Pass) {
    let url = server.url();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis");
    // schemathesis and hypothesis write caches to the working directory.
    let scratch = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("schemathesis");
    cmd.current_dir(scratch.path())
        .env("SCHEMATHESIS_HOOKS", dir.join("hooks.py"))
        // Loading hooks.py must not leave a __pycache__ in the source tree either.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("--config-file")
        .arg(dir.join("schemathesis.toml"))
        .args(["--no-color", "run"])
        .arg(format!("{url}/api/v11/openapi.json"))
        // The schema's own server: loopback, where the server listens.
        .args(["--url", &url])
        .args(["--checks", "all", "--continue-on-failure"])
        // Reproducible: a fixed seed, one worker (schemathesis 4.32 with several workers can
        // fail inside its own code generation, "AST constructor recursion depth mismatch"),
        // and no example database carried from run to run.
        .args(["--seed", "20261130", "--workers", "1"])
        .args(["--generation-database", "none"])
        .args(["--request-timeout", "10"])
        .args(pass.path.iter().flat_map(|p| ["--include-path", p]))
        .args(pass.args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let out = wait_bounded(cmd);
    let report = String::from_utf8_lossy(&out.stdout);
    let summary = report
        .lines()
        .rev()
        .find(|l| l.contains("generated"))
        .unwrap_or("no summary line");
    eprintln!(
        "schemathesis ({}): {} in {:.1?}",
        pass.what,
        summary.trim(),
        started.elapsed()
    );
    assert!(
        out.status.success(),
        "schemathesis ({}) failed:\n{report}\n{}",
        pass.what,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits for `cmd` up to `RUN_LIMIT`, killing it past that.
fn wait_bounded(mut cmd: Command) -> Output {
    let child = cmd.spawn().expect("starting schemathesis");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(RUN_LIMIT) {
        Ok(out) => out.expect("waiting for schemathesis"),
        Err(_) => {
            // SAFETY: signalling our own child, which has not been reaped (its waiter is blocked).
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("schemathesis ran over {RUN_LIMIT:?}");
        }
    }
}
