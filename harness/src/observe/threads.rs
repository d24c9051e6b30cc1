//! CPU of the harness's busiest thread, interval by interval, and how long it waited for a
//! core.
//!
//! Why: a load generator saturates one thread long before the process looks busy (one
//! generator thread at 99 % of its core is 50 % of a 2-core machine), and a generator starved
//! by the machine's other load looks idle (25 % busy) while it waits for a core the rest of the
//! time. The invalid verdict's reason names both. Read from `/proc/self/task/*/schedstat`
//! (nanoseconds on a CPU, and runnable but waiting for one), or where the kernel keeps no
//! schedstat, `stat` (utime + stime in clock ticks, no wait); the difference between two
//! readings over our own wall clock. sysinfo refreshes whole processes, not their threads.
//! Linux only: elsewhere every reading is `None`.

use std::collections::HashMap;
use std::time::Instant;

/// One thread's accumulated time: on a CPU, and (schedstat only) waiting for one, nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Times {
    run_ns: u64,
    wait_ns: Option<u64>,
}

/// The busiest thread of an interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Busiest {
    /// On a CPU, percent of one core.
    pub busy_pct: f64,
    /// Runnable but waiting for a core, percent of the interval (`None` without schedstat).
    pub wait_pct: Option<f64>,
}

/// Every thread's times at the previous reading.
pub struct ThreadCpu {
    last: HashMap<u32, Times>,
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
        t.last = read_threads(t.ticks_per_s).unwrap_or_default();
        t
    }

    /// The busiest thread since the previous reading. `None` when threads cannot be read or
    /// less than 0.2 s has passed (over which a 10 ms tick is mostly rounding).
    pub fn busiest(&mut self) -> Option<Busiest> {
        let now = Instant::now();
        let threads = read_threads(self.ticks_per_s)?;
        let wall_ns = now.duration_since(self.last_at).as_nanos() as f64;
        let busiest = threads
            .iter()
            .map(|(tid, t)| {
                // A thread not seen before was born since: all of its time is in this window.
                let before = self.last.get(tid).copied().unwrap_or_default();
                let wait = match (t.wait_ns, before.wait_ns) {
                    (Some(w), Some(b)) => Some(w.saturating_sub(b)),
                    (w, _) => w,
                };
                (t.run_ns.saturating_sub(before.run_ns), wait)
            })
            .max_by_key(|(run, _)| *run);
        self.last = threads;
        self.last_at = now;
        let (run, wait) = busiest?;
        let pct = |ns: u64| (ns as f64 / wall_ns * 100.0).min(100.0);
        (wall_ns >= 0.2e9).then(|| Busiest {
            busy_pct: pct(run),
            wait_pct: wait.map(pct),
        })
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

/// Every thread of this process, by thread id: schedstat, or stat where there is none.
fn read_threads(ticks_per_s: f64) -> Option<HashMap<u32, Times>> {
    let dir = std::fs::read_dir("/proc/self/task").ok()?;
    let mut out = HashMap::new();
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let read = |f: &str| std::fs::read_to_string(entry.path().join(f)).ok();
        let times = read("schedstat")
            .and_then(|s| parse_schedstat(&s))
            .or_else(|| {
                let ticks = parse_stat(&read("stat")?)?;
                Some(Times {
                    run_ns: (ticks as f64 / ticks_per_s * 1e9) as u64,
                    wait_ns: None,
                })
            });
        if let Some(t) = times {
            out.insert(tid, t);
        }
    }
    Some(out)
}

/// "run_ns wait_ns timeslices".
fn parse_schedstat(line: &str) -> Option<Times> {
    let mut f = line.split_whitespace();
    Some(Times {
        run_ns: f.next()?.parse().ok()?,
        wait_ns: Some(f.next()?.parse().ok()?),
    })
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
        let t = parse_schedstat("82449 115688 2\n").unwrap();
        assert_eq!((t.run_ns, t.wait_ns), (82_449, Some(115_688)));
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
        let pct = t.busiest().expect("readable on Linux").busy_pct;
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
