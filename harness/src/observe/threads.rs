//! CPU of the harness's busiest thread, interval by interval.
//!
//! Why: a load generator saturates one thread long before the process looks busy (one
//! generator thread at 99 % of its core is 50 % of a 2-core machine), and the invalid verdict's
//! reason names it. Read from `/proc/self/task/*/stat` (utime + stime in clock ticks), the
//! difference between two readings over our own wall clock; sysinfo refreshes whole processes,
//! not their threads. Linux only: elsewhere every reading is `None`.

use std::collections::HashMap;
use std::time::Instant;

/// Ticks per thread at the previous reading.
pub struct ThreadCpu {
    last: HashMap<u32, u64>,
    last_at: Instant,
    ticks_per_s: f64,
}

impl ThreadCpu {
    pub fn new() -> ThreadCpu {
        // SAFETY: sysconf only reads a configuration value.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let mut t = ThreadCpu {
            last: HashMap::new(),
            last_at: Instant::now(),
            ticks_per_s: if hz > 0 { hz as f64 } else { 100.0 },
        };
        t.last = read_ticks().unwrap_or_default();
        t
    }

    /// The busiest thread since the previous reading, percent of one core (at most 100, the
    /// tick rounding aside). `None` when threads cannot be read or no time has passed.
    pub fn busiest_pct(&mut self) -> Option<f64> {
        let now = Instant::now();
        let ticks = read_ticks()?;
        let wall = now.duration_since(self.last_at).as_secs_f64();
        let busiest = ticks
            .iter()
            // A thread not seen before was born since: all of its time is in this window.
            .map(|(tid, t)| t.saturating_sub(self.last.get(tid).copied().unwrap_or(0)))
            .max()
            .unwrap_or(0);
        self.last = ticks;
        self.last_at = now;
        // A tick is 10 ms: over less than ~0.2 s the figure is mostly rounding.
        (wall >= 0.2).then(|| (busiest as f64 / self.ticks_per_s / wall * 100.0).min(100.0))
    }
}

/// The calling thread's CPU time so far, seconds (the clock the kernel keeps per thread,
/// not rounded to ticks). Tests compare the tick-based readings with it.
#[cfg(test)]
pub(crate) fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the pointer it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// utime + stime of every thread of this process, by thread id.
fn read_ticks() -> Option<HashMap<u32, u64>> {
    let dir = std::fs::read_dir("/proc/self/task").ok()?;
    let mut out = HashMap::new();
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        if let Some(t) = std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|s| parse_stat(&s))
        {
            out.insert(tid, t);
        }
    }
    Some(out)
}

/// utime + stime (fields 14 and 15) of a `stat` line; the command name (field 2) may hold
/// spaces and parentheses, so fields are counted after its closing parenthesis.
fn parse_stat(line: &str) -> Option<u64> {
    let rest = &line[line.rfind(')')? + 1..];
    let mut f = rest.split_whitespace().skip(11);
    let utime: u64 = f.next()?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_read_after_the_command_name() {
        let line = "4242 (harness-http (0)) R 1 2 3 4 5 6 7 8 9 10 250 31 0 0 20 0 3 0";
        assert_eq!(parse_stat(line), Some(281));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_spinning_thread_is_the_busiest() {
        let _spin = crate::observe::SPIN_TESTS
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut t = ThreadCpu::new();
        let t0 = Instant::now();
        // The thread must still be alive when read: a finished thread leaves /proc.
        let (spun, done) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let spin = std::thread::spawn(move || {
            let mut x = 0u64;
            while t0.elapsed().as_millis() < 500 {
                x = x.wrapping_add(std::hint::black_box(1));
            }
            std::hint::black_box(x);
            spun.0.send(thread_cpu_seconds()).unwrap();
            let _ = done.1.recv();
        });
        let cpu_s = spun.1.recv().unwrap();
        let pct = t.busiest_pct().expect("readable on Linux");
        let wall = t0.elapsed().as_secs_f64();
        done.0.send(()).unwrap();
        spin.join().unwrap();
        // What the spinning thread itself says it got (less than a core when the machine is
        // busy): the reading must match it to the clock tick (10 ms of ~500), unless another
        // thread of the test process was busier still.
        let expected = cpu_s / wall * 100.0;
        assert!(pct >= expected - 5.0 && pct <= 100.0, "{pct} vs {expected}");
    }
}
