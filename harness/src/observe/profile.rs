//! Profiling the steady state.
//!
//! In-process: pprof samples the whole process (SIGPROF, no privileges needed) during the steady
//! state only, then writes a flamegraph SVG and names the top frames by self time. Over HTTP,
//! against our engine server started with `--enable-profiling`: the harness asks the server's
//! `GET /debug/pprof/profile?seconds=N` for the steady state and saves the SVG the same way (top
//! frames are then read off the flamegraph by the viewer; the SVG carries no self-time table).
//!
//! 99 Hz by default: the kernel ticks at 250 Hz here and higher rates under-sample (FACTS.md).
//! libc, libgcc, pthread and vdso frames are block-listed, as pprof recommends, so the signal
//! handler never unwinds through code that may hold a lock.

use crate::targets::http::control::{fetch_once, MAX_PROFILE_BODY};
use crate::targets::http::dial::Dialer;
use anyhow::{Context, Result};
use results::{FrameShare, ProfileInfo};
use std::collections::HashMap;
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A profiler thread waiting for, or sampling, the steady state.
pub struct Profiler {
    handle: JoinHandle<Result<ProfileInfo>>,
    /// Tells the thread to build its report: symbolizing costs memory and CPU, so it waits
    /// until the run's last resource sample has been taken.
    build: std::sync::mpsc::Sender<()>,
}

/// When to profile: the run's steady state, from `start + from_s` to `start + to_s`, unless
/// the run stops first.
pub struct Window {
    pub start: Instant,
    pub from_s: f64,
    pub to_s: f64,
    /// Whether the run has stopped (Ctrl-C, a capacity break, the end of the workers): a
    /// closure, so this module needs nothing of the load's internals.
    pub stopped: Box<dyn Fn() -> bool + Send>,
}

impl Window {
    fn stopped(&self) -> bool {
        (self.stopped)()
    }

    fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}

/// Where the flamegraph goes.
pub struct ProfileTarget {
    /// Written inside the run's directory; the report links it relatively.
    pub in_run_dir: PathBuf,
    /// The copy under `flamegraphs/`.
    pub shared_copy: Option<PathBuf>,
}

impl Profiler {
    /// Starts a thread that begins sampling when the warm-up ends and stops when the plan ends or
    /// the run is stopped.
    pub fn start(window: Window, hz: u32, target: ProfileTarget) -> Profiler {
        let (build, go) = std::sync::mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("harness-profiler".to_string())
            .spawn(move || profile(&window, hz, &target, &go))
            .expect("spawning the profiler thread");
        Profiler { handle, build }
    }

    /// Starts a thread that, when the warm-up ends, asks an engine server at `addr` to profile
    /// itself for the rest of the plan and saves the flamegraph it returns.
    pub fn start_remote(
        window: Window,
        hz: u32,
        target: ProfileTarget,
        dialer: Dialer,
        authority: String,
        base_path: String,
    ) -> Profiler {
        let (build, go) = std::sync::mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("harness-profiler".to_string())
            .spawn(move || {
                let info = remote(&window, hz, &target, &dialer, &authority, &base_path);
                let _ = go.recv();
                info
            })
            .expect("spawning the profiler thread");
        Profiler { handle, build }
    }

    /// Waits for the profile (call after the workers have stopped).
    pub fn finish(self) -> Result<ProfileInfo> {
        let _ = self.build.send(());
        self.handle
            .join()
            .map_err(|_| anyhow::anyhow!("the profiler thread panicked"))?
    }
}

fn sleep_until(window: &Window, t: f64) {
    let until = window.start + Duration::from_secs_f64(t.max(0.0));
    while Instant::now() < until && !window.stopped() {
        std::thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
    }
}

fn profile(
    window: &Window,
    hz: u32,
    target: &ProfileTarget,
    go: &std::sync::mpsc::Receiver<()>,
) -> Result<ProfileInfo> {
    sleep_until(window, window.from_s);
    let guard = pprof::ProfilerGuardBuilder::default()
        .frequency(hz as i32)
        .blocklist(&["libc", "libgcc", "pthread", "vdso"])
        .build()
        .context("starting pprof")?;
    sleep_until(window, window.to_s);
    let _ = go.recv();
    let report = guard
        .report()
        .build()
        .context("building the pprof report")?;
    let mut svg = Vec::new();
    report
        .flamegraph(&mut svg)
        .context("drawing the flamegraph")?;
    save(target, &svg)?;
    let (samples, top_frames) = top_self(&report, 12);
    Ok(ProfileInfo {
        flamegraph: target
            .in_run_dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        frequency_hz: hz,
        samples,
        top_frames,
    })
}

fn save(target: &ProfileTarget, svg: &[u8]) -> Result<()> {
    std::fs::write(&target.in_run_dir, svg)
        .with_context(|| format!("writing {}", target.in_run_dir.display()))?;
    if let Some(copy) = &target.shared_copy {
        if let Some(dir) = copy.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::copy(&target.in_run_dir, copy)
            .with_context(|| format!("copying the flamegraph to {}", copy.display()))?;
    }
    Ok(())
}

fn remote(
    window: &Window,
    hz: u32,
    target: &ProfileTarget,
    dialer: &Dialer,
    authority: &str,
    base_path: &str,
) -> Result<ProfileInfo> {
    sleep_until(window, window.from_s);
    let seconds = (window.to_s - window.from_s).floor().clamp(1.0, 300.0) as u64;
    if window.stopped() {
        anyhow::bail!("the run stopped before the steady state: no profile taken");
    }
    let uri = format!("{base_path}/debug/pprof/profile?seconds={seconds}&frequency={hz}");
    let req = hyper::Request::get(uri.as_str())
        .header(hyper::header::HOST, authority)
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .context("building the profile request")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting a runtime for the profile request")?;
    let answer = rt.block_on(async {
        let fetch = fetch_once(
            dialer,
            req,
            Duration::from_secs(seconds + 30),
            MAX_PROFILE_BODY,
        );
        tokio::pin!(fetch);
        loop {
            tokio::select! {
                a = &mut fetch => return Some(a),
                _ = tokio::time::sleep(Duration::from_millis(100)) => {
                    if window.stopped() && window.elapsed() < window.to_s - 0.5 {
                        return None; // interrupted: don't hold the report for the server's profile
                    }
                }
            }
        }
    });
    let answer = match answer {
        None => anyhow::bail!("the run was interrupted during the server's profile"),
        Some(Err(kind)) => anyhow::bail!(
            "profile request to {} failed: {}",
            dialer.addr,
            kind.as_str()
        ),
        Some(Ok(a)) => a,
    };
    match answer.status.as_u16() {
        200 => {}
        404 => {
            anyhow::bail!("the server has no profile endpoint: start it with --enable-profiling")
        }
        s => anyhow::bail!(
            "profile request answered {s}: {}",
            String::from_utf8_lossy(&answer.body)
        ),
    }
    save(target, &answer.body)?;
    Ok(ProfileInfo {
        flamegraph: target
            .in_run_dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        frequency_hz: hz,
        samples: 0,
        top_frames: Vec::new(),
    })
}

/// Strips the `::h0123456789abcdef` hash rustc appends to symbol names.
fn clean(name: &str) -> String {
    match name.rfind("::h") {
        Some(i) if name.len() - i == 19 && name[i + 3..].bytes().all(|b| b.is_ascii_hexdigit()) => {
            name[..i].to_string()
        }
        _ => name.to_string(),
    }
}

/// Total samples and the `n` functions with the most samples at the top of the stack.
fn top_self(report: &pprof::Report, n: usize) -> (u64, Vec<FrameShare>) {
    let mut by_leaf: HashMap<String, i64> = HashMap::new();
    let mut total: i64 = 0;
    for (frames, count) in &report.data {
        let count = *count as i64;
        total += count;
        // The leaf address may resolve to a chain of inlined functions: name the innermost
        // and, when different, the real function it was inlined into.
        let leaf = match frames.frames.first().map(|f| (f.first(), f.last())) {
            Some((Some(inner), Some(outer))) => {
                let (i, o) = (clean(&inner.name()), clean(&outer.name()));
                if i == o {
                    i
                } else {
                    format!("{i} (in {o})")
                }
            }
            _ => "unknown".to_string(),
        };
        *by_leaf.entry(leaf).or_default() += count;
    }
    let mut v: Vec<_> = by_leaf.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let shares = v
        .into_iter()
        .take(n)
        .map(|(name, c)| FrameShare {
            name,
            self_pct: if total > 0 {
                c as f64 * 100.0 / total as f64
            } else {
                0.0
            },
        })
        .collect();
    (total.max(0) as u64, shares)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_are_stripped() {
        assert_eq!(
            super::clean("engine::engine::Engine::apply::h0123456789abcdef"),
            "engine::engine::Engine::apply"
        );
        assert_eq!(super::clean("main"), "main");
    }
}
