//! The whole machine's CPU from `/proc/stat`: how busy it was and how much the hypervisor
//! stole, interval by interval, so that the CPU other processes used can be told apart from
//! our own (issue 25: on shared machines single runs of one binary differ by up to 40 %).
//!
//! Why read `/proc/stat` ourselves: sysinfo's per-core usage has no steal column, and no crate
//! is needed for one line of numbers. The first line (`cpu`, the sum over every CPU) holds
//! clock ticks (USER_HZ, 10 ms) spent in user, nice, system, idle, iowait, irq, softirq, steal,
//! guest and guest_nice. Busy = user + nice + system + irq + softirq; guest and guest_nice are
//! left out because the kernel already counts them inside user and nice (adding them counts a
//! VM's time twice). Steal is kept apart: it is time this machine wanted and did not get. The
//! percentages divide tick deltas by the total ticks of the same window (busy + idle + iowait +
//! steal), so 100 % = every CPU busy, the basis of every `cpu_pct`. Off Linux there is no file,
//! and every reading is `None`, never a zero pretending to be a measurement.

use std::time::Instant;

/// Accumulated ticks of the whole machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTicks {
    pub busy: u64,
    pub steal: u64,
    pub total: u64,
}

/// The machine over one window, percent of the machine (100 = every CPU busy).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MachineCpu {
    pub busy_pct: f64,
    pub steal_pct: f64,
    /// CPUs `/proc/stat` lists (`cpuN` lines): the basis of the percentages.
    pub cpus: usize,
}

/// `/proc/stat` text to the `cpu` line's ticks and the number of `cpuN` lines; `None` when
/// there is no `cpu` line with at least the eight columns up to steal (Linux 2.6.11 and later
/// have them).
pub fn parse_proc_stat(text: &str) -> Option<(CpuTicks, usize)> {
    let mut lines = text.lines();
    let first = lines.next()?;
    let mut f = first.split_whitespace();
    if f.next()? != "cpu" {
        return None;
    }
    let v: Vec<u64> = f.map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let [user, nice, system, idle, iowait, irq, softirq, steal, ..] = v[..] else {
        return None;
    };
    let busy = user + nice + system + irq + softirq;
    let cpus = lines
        .take_while(|l| l.starts_with("cpu"))
        .filter(|l| l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    let ticks = CpuTicks {
        busy,
        steal,
        total: busy + idle + iowait + steal,
    };
    Some((ticks, cpus))
}

/// The machine's share between two readings; `None` when no tick passed.
pub fn share(from: CpuTicks, to: CpuTicks, cpus: usize) -> Option<MachineCpu> {
    let total = to.total.checked_sub(from.total).filter(|t| *t > 0)? as f64;
    let pct = |a: u64, b: u64| (b.saturating_sub(a) as f64 / total * 100.0).clamp(0.0, 100.0);
    Some(MachineCpu {
        busy_pct: pct(from.busy, to.busy),
        steal_pct: pct(from.steal, to.steal),
        cpus,
    })
}

/// CPU other processes used, percent of the machine: its busy share minus our own processes'
/// (`own_pct` in percent of `cores`, the sampler's basis, converted to the machine's `cpus`),
/// at least 0 (our figures and the machine's are read a few microseconds apart and move in
/// ticks, so a quiet machine can come out a tick below zero).
pub fn other_cpu_pct(machine: &MachineCpu, own_pct: f64, cores: f64) -> f64 {
    let own = own_pct * cores / machine.cpus.max(1) as f64;
    (machine.busy_pct - own).max(0.0)
}

/// Shortest window a share is computed over, as for the process figures
/// (`sampler::MIN_CPU_WINDOW_S`): the same windows, so the subtraction compares like with like.
const MIN_WINDOW_S: f64 = 0.25;

/// Readings of `/proc/stat`: the last one, and the one before it for short windows.
pub struct MachineClock {
    last: (CpuTicks, Instant),
    before: Option<(CpuTicks, Instant)>,
}

impl MachineClock {
    /// `None` where `/proc/stat` cannot be read (not Linux).
    pub fn new() -> Option<MachineClock> {
        let (ticks, _) = read()?;
        Some(MachineClock {
            last: (ticks, Instant::now()),
            before: None,
        })
    }

    /// The machine since the previous reading (since the one before it when that was less
    /// than 0.25 s ago, as the process figures do).
    pub fn read(&mut self) -> Option<MachineCpu> {
        let (ticks, cpus) = read()?;
        let now = Instant::now();
        let from = match self.before {
            Some(b) if now.duration_since(self.last.1).as_secs_f64() < MIN_WINDOW_S => b,
            _ => self.last,
        };
        self.before = Some(self.last);
        self.last = (ticks, now);
        share(from.0, ticks, cpus)
    }
}

fn read() -> Option<(CpuTicks, usize)> {
    parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    // From a 2-CPU VM (Linux 6.1): user nice system idle iowait irq softirq steal guest guest_nice.
    const STAT: &str = "cpu  4705 150 1120 160000 520 0 36 12 300 0\n\
cpu0 2400 75 560 80000 260 0 18 6 150 0\n\
cpu1 2305 75 560 80000 260 0 18 6 150 0\n\
intr 114930548 113199788 3 0 5 263 0 4 [... 263 more numbers]\n\
ctxt 1990473\n";

    #[test]
    fn busy_leaves_out_guest_and_steal_is_apart() {
        let (t, cpus) = parse_proc_stat(STAT).unwrap();
        assert_eq!(cpus, 2);
        // Guest (300) is inside user already: not added again.
        assert_eq!(t.busy, 4705 + 150 + 1120 + 36);
        assert_eq!(t.steal, 12);
        assert_eq!(t.total, t.busy + 160_000 + 520 + 12);
    }

    #[test]
    fn malformed_text_is_no_reading() {
        assert_eq!(parse_proc_stat(""), None);
        assert_eq!(parse_proc_stat("intr 1 2\n"), None);
        assert_eq!(
            parse_proc_stat("cpu 1 2 3 4 5 6 7\n"),
            None,
            "no steal column"
        );
        assert_eq!(parse_proc_stat("cpu 1 2 x 4 5 6 7 8\n"), None);
        assert_eq!(parse_proc_stat("cpu 1 2 3 4 5 6 7 8\n").unwrap().1, 0);
    }

    #[test]
    fn shares_are_of_the_window_and_other_work_is_what_we_did_not_use() {
        let a = CpuTicks {
            busy: 1000,
            steal: 10,
            total: 5000,
        };
        // 200 ticks (1 s of 2 CPUs): 120 busy, 4 stolen.
        let b = CpuTicks {
            busy: 1120,
            steal: 14,
            total: 5200,
        };
        let m = share(a, b, 2).unwrap();
        assert_eq!((m.busy_pct, m.steal_pct), (60.0, 2.0));
        assert_eq!(share(a, a, 2), None, "no tick passed");
        // We used 25 % of 2 cores: the other 35 % was someone else's.
        assert_eq!(other_cpu_pct(&m, 25.0, 2.0), 35.0);
        // Our figure a tick above the machine's: clamped, never negative.
        assert_eq!(other_cpu_pct(&m, 61.0, 2.0), 0.0);
        // The harness limited to 1 of the machine's 2 CPUs: 100 % of its core is 50 % here.
        assert_eq!(other_cpu_pct(&m, 100.0, 1.0), 10.0);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_machine_reads() {
        let mut c = MachineClock::new().expect("/proc/stat on Linux");
        std::thread::sleep(std::time::Duration::from_millis(300));
        let m = c.read().expect("ticks passed in 300 ms");
        assert!(m.cpus >= 1 && (0.0..=100.0).contains(&m.busy_pct), "{m:?}");
    }
}
