//! Resource sampling with sysinfo: CPU and resident memory of the target process and of the
//! harness, once per interval, plus per-core and whole-machine CPU, and (from `/proc/stat`,
//! [`machine`](crate::observe::machine)) the CPU other processes used and the steal.
//!
//! Process CPU is computed here from sysinfo's accumulated CPU time divided by our own wall
//! clock between two samples, as a percentage of the whole machine (100 % = every core busy, the
//! basis teams use for "CPU < 60 %"). This avoids sysinfo's own per-process percentage, which is
//! 0 on a first reading and depends on when the global CPU figures were last refreshed
//! (FACTS.md). CPU seconds are counted from when the sampler was created, so several runs in one
//! process each report their own.

use crate::observe::machine::{self, MachineClock, MachineCpu};
use crate::observe::threads::{Busiest, ThreadCpu};
use std::time::Instant;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// One reading of one process (serializable so the collector can spool it).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProcSample {
    /// Percent of all cores, since the previous reading.
    pub cpu_pct: f64,
    pub rss_bytes: u64,
    /// CPU time the process has used since the sampler started, in seconds.
    pub cpu_seconds: f64,
}

/// Accumulated CPU time of one process at the previous reading, the one before it, and at
/// the start.
#[derive(Clone, Copy, Debug)]
struct Clock {
    start_cpu_s: f64,
    last_cpu_s: f64,
    last_at: Instant,
    before: Option<(f64, Instant)>,
}

/// Shortest window a CPU percentage is computed over. Process CPU time moves in 10 ms clock
/// ticks: over the ~1 ms last interval of a run one tick read as 1,824 % (reports/sample). A
/// shorter window is measured from the reading before the previous one instead.
const MIN_CPU_WINDOW_S: f64 = 0.25;

/// Samples the harness itself and, when different, a target process.
pub struct Sampler {
    /// `None` when sysinfo cannot read this platform's process table: nothing is sampled.
    sys: Option<System>,
    harness: (Pid, Option<Clock>),
    target: Option<(Pid, Option<Clock>)>,
    cores: f64,
    threads: ThreadCpu,
    /// `/proc/stat` (`None` off Linux), and its reading taken with the last sample.
    machine: Option<MachineClock>,
    last_machine: Option<MachineCpu>,
}

/// The machine's other work over one interval, percent of the machine.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OtherWork {
    /// CPU used by processes other than the harness and the target it spawned.
    pub other_cpu_pct: f64,
    pub steal_pct: f64,
}

impl Sampler {
    /// `target` is `None` for in-process runs (the target is the harness) and for HTTP targets
    /// the harness did not spawn.
    pub fn new(target: Option<u32>) -> Sampler {
        let harness = Pid::from_u32(std::process::id());
        let target = target.map(Pid::from_u32).filter(|p| *p != harness);
        let mut s = Sampler {
            sys: System::new().ok(),
            harness: (harness, None),
            target: target.map(|p| (p, None)),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()) as f64,
            threads: ThreadCpu::new(),
            machine: MachineClock::new(),
            last_machine: None,
        };
        // Prime: the start of CPU-time accounting and of the per-core deltas.
        s.sample();
        s
    }

    fn refresh(&mut self) {
        let pids: Vec<Pid> = std::iter::once(self.harness.0)
            .chain(self.target.map(|t| t.0))
            .collect();
        if let Some(sys) = self.sys.as_mut() {
            sys.refresh_cpu_usage();
            sys.refresh_processes_specifics(
                ProcessesToUpdate::Some(&pids),
                true,
                ProcessRefreshKind::nothing().with_cpu().with_memory(),
            );
        }
    }

    fn read(sys: &System, cores: f64, pid: Pid, clock: &mut Option<Clock>) -> Option<ProcSample> {
        let p = sys.process(pid)?;
        let now = Instant::now();
        let cpu_s = p.accumulated_cpu_time() as f64 / 1000.0;
        let c = clock.get_or_insert(Clock {
            start_cpu_s: cpu_s,
            last_cpu_s: cpu_s,
            last_at: now,
            before: None,
        });
        let (from_cpu_s, from_at) = match c.before {
            Some(b) if now.duration_since(c.last_at).as_secs_f64() < MIN_CPU_WINDOW_S => b,
            _ => (c.last_cpu_s, c.last_at),
        };
        let wall = now.duration_since(from_at).as_secs_f64();
        // Never more than every core: what is left over is tick rounding.
        let cpu_pct = if wall > 0.0 {
            ((cpu_s - from_cpu_s) / wall / cores * 100.0).clamp(0.0, 100.0)
        } else {
            0.0
        };
        c.before = Some((c.last_cpu_s, c.last_at));
        c.last_cpu_s = cpu_s;
        c.last_at = now;
        Some(ProcSample {
            cpu_pct,
            rss_bytes: p.memory(),
            cpu_seconds: cpu_s - c.start_cpu_s,
        })
    }

    /// Takes a reading: `(target, harness)`. The target is `None` when it is not a separate
    /// process we can see (or it has exited).
    pub fn sample(&mut self) -> (Option<ProcSample>, Option<ProcSample>) {
        self.refresh();
        let Some(sys) = self.sys.as_ref() else {
            return (None, None);
        };
        let harness = Self::read(sys, self.cores, self.harness.0, &mut self.harness.1);
        let target = match self.target.as_mut() {
            Some((pid, clock)) => Self::read(sys, self.cores, *pid, clock),
            None => None,
        };
        // Right after our processes, so both cover the same window.
        self.last_machine = self.machine.as_mut().and_then(MachineClock::read);
        (target, harness)
    }

    /// Other processes' CPU and the steal over the window of the last [`Sampler::sample`],
    /// given what it read: the machine's busy share minus the harness's and (when it is a
    /// process of its own) the target's. `None` off Linux or without the harness's own
    /// figure (nothing to subtract it from). A spawned target that exited in the window counts
    /// as other work for what it used in it.
    pub fn other_work(
        &self,
        target: Option<ProcSample>,
        harness: Option<ProcSample>,
    ) -> Option<OtherWork> {
        let m = self.last_machine?;
        let own = harness?.cpu_pct + target.map_or(0.0, |t| t.cpu_pct);
        Some(OtherWork {
            other_cpu_pct: machine::other_cpu_pct(&m, own, self.cores),
            steal_pct: m.steal_pct,
        })
    }

    /// CPUs `/proc/stat` counts (the basis of [`OtherWork`]); `None` off Linux.
    pub fn machine_cpus(&self) -> Option<usize> {
        self.last_machine.map(|m| m.cpus).filter(|n| *n > 0)
    }

    /// Per-core CPU busy since the last sample (percent of each core), and the machine's total
    /// (percent of all cores). Empty when the platform gives no per-core figures.
    pub fn cores(&self) -> (Option<f64>, Vec<f64>) {
        let Some(sys) = self.sys.as_ref() else {
            return (None, Vec::new());
        };
        let per_core: Vec<f64> = sys.cpus().iter().map(|c| f64::from(c.usage())).collect();
        let total =
            (!per_core.is_empty()).then(|| per_core.iter().sum::<f64>() / per_core.len() as f64);
        (total, per_core)
    }

    /// The harness's busiest thread since the last call.
    pub fn busiest_thread(&mut self) -> Option<Busiest> {
        self.threads.busiest()
    }

    /// Whether the target is sampled separately from the harness.
    pub fn separate_target(&self) -> bool {
        self.target.is_some()
    }
}

/// User plus system CPU time of this process so far (every thread), in seconds.
pub fn process_cpu_seconds() -> Option<f64> {
    rusage_cpu_seconds(libc::RUSAGE_SELF)
}

/// User plus system CPU time of this process's children that have ended and been waited for,
/// in seconds: the difference around a child's run is that child's CPU time (the baseline
/// binary of `--baseline-bin`).
pub fn children_cpu_seconds() -> Option<f64> {
    rusage_cpu_seconds(libc::RUSAGE_CHILDREN)
}

fn rusage_cpu_seconds(who: libc::c_int) -> Option<f64> {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the pointer it is given, which points at
    // zeroed memory of the right type; we read it only when the call reports success.
    let ok = unsafe { libc::getrusage(who, u.as_mut_ptr()) } == 0;
    if !ok {
        return None;
    }
    // SAFETY: initialised by the successful call above (and zeroed before it).
    let u = unsafe { u.assume_init() };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(secs(u.ru_utime) + secs(u.ru_stime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_thread_shows_as_busy_and_cpu_seconds_start_at_zero() {
        let _spin = crate::observe::SPIN_TESTS
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut s = Sampler::new(None);
        let t0 = Instant::now();
        let cpu0 = crate::observe::threads::thread_cpu_seconds();
        let mut x = 0u64;
        while t0.elapsed().as_millis() < 400 {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        std::hint::black_box(x);
        let spun = crate::observe::threads::thread_cpu_seconds() - cpu0;
        let (_, h) = s.sample();
        let wall = t0.elapsed().as_secs_f64();
        let h = h.expect("this process is visible");
        // This thread spun for the whole interval, and got what the machine gave it (a full
        // core when idle): the process figure must show that share of the machine, give or
        // take the clock tick (10 ms of 400) and the test process's other threads.
        let own = spun / wall * 100.0 / s.cores;
        assert!(
            h.cpu_pct > own * 0.7 && h.cpu_pct < own * 1.6 + 100.0 / s.cores * 0.3,
            "{} vs {own}",
            h.cpu_pct
        );
        // Read again a millisecond later: the window reaches back to the previous reading, so
        // the figure is not one clock tick over a millisecond (1,000 % of a core).
        std::thread::sleep(std::time::Duration::from_millis(1));
        let (_, again) = s.sample();
        let again = again.expect("this process is visible").cpu_pct;
        assert!(again <= 100.0 && again > own * 0.5, "{again} vs {own}");
        assert!(
            h.cpu_seconds > spun * 0.7 && h.cpu_seconds < 1.5,
            "{}",
            h.cpu_seconds
        );
    }
}
