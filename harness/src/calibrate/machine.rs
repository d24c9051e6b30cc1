//! The machine the calibration holds for: cores, SMT, CPU model and frequency policy, huge
//! pages, the clock source, and how busy the rest of the machine was meanwhile.
//!
//! Why: on a shared machine the same binary's runs differ by up to 40 %. A figure can only be
//! read next to what else ran: other processes' CPU during the calibration is the busy time in
//! /proc/stat less this process's own CPU time (getrusage), and steal is the hypervisor's. All
//! of it is read from /proc and /sys (Linux); what cannot be read is left out (`None`), never
//! guessed.

use super::record::{Clock, Machine};
use crate::observe::sampler::process_cpu_seconds;
use std::time::Instant;

/// Host name and CPU model, as every result records them (`observe::environment`).
pub fn identity() -> (String, String) {
    let env = crate::observe::environment::capture(String::new());
    (
        env.hostname.unwrap_or_else(|| "unknown".to_string()),
        env.cpu_model,
    )
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The first `key : value` line of /proc/cpuinfo with this key.
fn cpuinfo(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

/// The static facts, and the load average at the start.
pub fn describe() -> Machine {
    let info = read("/proc/cpuinfo").unwrap_or_default();
    let num = |key: &str| cpuinfo(&info, key).and_then(|v| v.parse::<u32>().ok());
    let threads_per_core = match (num("siblings"), num("cpu cores")) {
        (Some(s), Some(c)) if c > 0 => Some(s / c),
        _ => None,
    };
    let smt = read("/sys/devices/system/cpu/smt/active")
        .map(|a| format!("active {a}"))
        .or_else(|| read("/sys/devices/system/cpu/smt/control"));
    Machine {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        threads_per_core,
        smt,
        cpu_mhz: cpuinfo(&info, "cpu MHz").and_then(|v| v.parse().ok()),
        governor: read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        thp: read("/sys/kernel/mm/transparent_hugepage/enabled").map(|s| bracketed(&s)),
        load_avg: read("/proc/loadavg").and_then(|s| load_avg(&s)),
        ..Machine::default()
    }
}

/// "always [madvise] never" -> "madvise" (the whole text when nothing is bracketed).
fn bracketed(s: &str) -> String {
    s.split_once('[')
        .and_then(|(_, r)| r.split_once(']'))
        .map_or_else(|| s.to_string(), |(v, _)| v.to_string())
}

fn load_avg(s: &str) -> Option<[f64; 3]> {
    let mut f = s.split_whitespace().map(|v| v.parse::<f64>().ok());
    Some([f.next()??, f.next()??, f.next()??])
}

/// The clock source and TSC flags (the read cost is measured by `recorder`).
pub fn clock(read_ns: f64) -> Clock {
    let info = read("/proc/cpuinfo").unwrap_or_default();
    let flags = cpuinfo(&info, "flags").unwrap_or_default();
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    Clock {
        source: read("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
        constant_tsc: has("constant_tsc"),
        nonstop_tsc: has("nonstop_tsc"),
        read_ns,
    }
}

/// CPU counters at one instant: the machine's busy and steal seconds (all cores), and ours.
#[derive(Clone, Copy, Debug)]
pub struct CpuMark {
    at: Instant,
    busy_s: Option<f64>,
    steal_s: Option<f64>,
    own_s: Option<f64>,
}

impl CpuMark {
    pub fn now() -> CpuMark {
        let (busy_s, steal_s) = read("/proc/stat")
            .and_then(|s| proc_stat(&s))
            .map_or((None, None), |(b, st)| (Some(b), Some(st)));
        CpuMark {
            at: Instant::now(),
            busy_s,
            steal_s,
            own_s: process_cpu_seconds(),
        }
    }

    /// Others' CPU, ours and steal since `self`, each percent of all `cores`.
    pub fn since(&self, cores: usize) -> (Option<f64>, Option<f64>, Option<f64>) {
        let end = CpuMark::now();
        let wall = end.at.duration_since(self.at).as_secs_f64() * cores.max(1) as f64;
        let pct =
            |a: Option<f64>, b: Option<f64>| Some(100.0 * (b? - a?) / wall).filter(|_| wall > 0.0);
        let own = pct(self.own_s, end.own_s);
        let busy = pct(self.busy_s, end.busy_s);
        // Clock ticks on one side, microseconds on the other: clamp the rounding at zero.
        let others = busy.zip(own).map(|(b, o)| (b - o).max(0.0));
        (others, own, pct(self.steal_s, end.steal_s))
    }
}

/// Busy and steal seconds of all CPUs from /proc/stat's first line (user nice system idle
/// iowait irq softirq steal ...), in USER_HZ ticks (100 per second on Linux's ABI).
fn proc_stat(text: &str) -> Option<(f64, f64)> {
    const USER_HZ: f64 = 100.0;
    let line = text.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<f64> = line
        .split_whitespace()
        .map(|x| x.parse::<f64>().ok())
        .collect::<Option<_>>()?;
    let at = |i: usize| v.get(i).copied().unwrap_or(0.0);
    // Guest time is already inside user and nice; idle and iowait are not busy.
    let busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
    Some((busy / USER_HZ, at(7) / USER_HZ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_read_as_the_kernel_writes_them() {
        assert_eq!(bracketed("always [madvise] never"), "madvise");
        assert_eq!(bracketed("odd"), "odd");
        assert_eq!(
            load_avg("5.37 2.12 0.80 7/123 13159"),
            Some([5.37, 2.12, 0.8])
        );
        let stat = "cpu  28625 0 5066 31210 147 0 40 15 0 0\ncpu0 1 2 3 4\n";
        let (busy, steal) = proc_stat(stat).unwrap();
        assert!((busy - (28625.0 + 5066.0 + 40.0 + 15.0) / 100.0).abs() < 1e-9);
        assert!((steal - 0.15).abs() < 1e-9);
        let info = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nsiblings\t: 2\n";
        assert_eq!(
            cpuinfo(info, "model name").as_deref(),
            Some("Intel(R) Xeon(R) Processor")
        );
        assert_eq!(cpuinfo(info, "cpu cores"), None);
    }
}
