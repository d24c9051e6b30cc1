//! Resource sampling with sysinfo: CPU and resident memory of the target process and of the
//! harness, once per interval.
//!
//! CPU is reported as a percentage of the whole machine (100 % = every core busy), the basis
//! teams use for "CPU < 60 %". sysinfo's per-process figure is a percentage of one core and is 0
//! on a process's first reading, so the first sample primes it. Intervals are at least 100 ms
//! and usually 1 s, above sysinfo's 200 ms minimum between CPU refreshes (FACTS.md).

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// One reading of one process.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcSample {
    /// Percent of all cores.
    pub cpu_pct: f64,
    pub rss_bytes: u64,
    /// Total CPU time the process has used so far, in seconds.
    pub cpu_seconds: f64,
}

/// Samples the harness itself and, when different, a target process.
pub struct Sampler {
    /// `None` when sysinfo cannot read this platform's process table: nothing is sampled.
    sys: Option<System>,
    harness: Pid,
    target: Option<Pid>,
    cores: f64,
}

impl Sampler {
    /// `target` is `None` for in-process runs (the target is the harness) and for HTTP targets
    /// the harness did not spawn.
    pub fn new(target: Option<u32>) -> Sampler {
        let harness = Pid::from_u32(std::process::id());
        let target = target.map(Pid::from_u32).filter(|p| *p != harness);
        let mut s = Sampler {
            sys: System::new().ok(),
            harness,
            target,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()) as f64,
        };
        s.refresh();
        s
    }

    fn refresh(&mut self) {
        let pids: Vec<Pid> = std::iter::once(self.harness).chain(self.target).collect();
        if let Some(sys) = self.sys.as_mut() {
            sys.refresh_cpu_usage();
            sys.refresh_processes_specifics(
                ProcessesToUpdate::Some(&pids),
                true,
                ProcessRefreshKind::nothing().with_cpu().with_memory(),
            );
        }
    }

    fn read(&self, pid: Pid) -> Option<ProcSample> {
        self.sys.as_ref()?.process(pid).map(|p| ProcSample {
            cpu_pct: f64::from(p.cpu_usage()) / self.cores,
            rss_bytes: p.memory(),
            cpu_seconds: p.accumulated_cpu_time() as f64 / 1000.0,
        })
    }

    /// Takes a reading: `(target, harness)`. The target is `None` when it is not a separate
    /// process we can see (or it has exited).
    pub fn sample(&mut self) -> (Option<ProcSample>, Option<ProcSample>) {
        self.refresh();
        let harness = self.read(self.harness);
        let target = self.target.and_then(|p| self.read(p));
        (target, harness)
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

    /// Whether the target is sampled separately from the harness.
    pub fn separate_target(&self) -> bool {
        self.target.is_some()
    }
}
