//! One calibration as it is stored: `reports/calibration/<host>-<UTC time>.json`.
//!
//! Why a file of its own: a run judges its latency limits against the precision of the machine
//! it ran on, measured by `harness calibrate` beforehand, and CI keeps the file with its other
//! artifacts so a figure can be read next to the instrument's precision that day. This module is
//! plain data and file handling (serde, std): `run` reads it without pulling in the measuring
//! code, and [`newest_for`] finds the calibration a scenario's `use_calibration` means.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Layout version of the file; readers refuse newer ones.
pub const CALIBRATION_VERSION: u32 = 1;

/// Everything one `harness calibrate` measured, with where and when.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Calibration {
    pub version: u32,
    pub host: String,
    pub cpu_model: String,
    /// RFC 3339 UTC, when the calibration started.
    pub measured_at: String,
    pub harness_version: String,
    /// The harness build's commit, when the build knew it.
    pub git_commit: Option<String>,
    /// "quick" or "full".
    pub mode: String,
    /// Wall time the calibration took, seconds.
    pub wall_s: f64,
    /// Set only when the waits were made coarse on purpose (tests): the quantum, µs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coarse_timer_us: Option<f64>,
    pub machine: Machine,
    pub clock: Clock,
    pub timers: Vec<TimerFigures>,
    pub dispatch: Vec<DispatchFigures>,
    /// `None` when the loopback server could not be started (said in `notes`).
    pub loopback: Option<Loopback>,
    pub recorder: Recorder,
    /// What could not be measured, and why.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The machine the figures hold for.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Machine {
    /// Logical CPUs this process may run on.
    pub cores: usize,
    /// Hardware threads per physical core (2: SMT siblings share a core), from /proc/cpuinfo.
    pub threads_per_core: Option<u32>,
    /// /sys/devices/system/cpu/smt/active ("1", "0") or control ("notsupported", "off").
    pub smt: Option<String>,
    pub cpu_mhz: Option<f64>,
    /// cpufreq scaling governor of cpu0 (absent in most VMs).
    pub governor: Option<String>,
    /// Transparent huge pages mode (the bracketed choice of .../transparent_hugepage/enabled).
    pub thp: Option<String>,
    /// /proc/loadavg's 1, 5 and 15 minute figures at the start.
    pub load_avg: Option<[f64; 3]>,
    /// CPU that other processes used during the calibration, percent of all cores (busy time
    /// in /proc/stat minus this process's own CPU time).
    pub others_cpu_pct: Option<f64>,
    /// This process's CPU during the calibration, percent of all cores.
    pub own_cpu_pct: Option<f64>,
    /// Time the hypervisor ran something else while a vCPU wanted to run, percent of all cores.
    pub steal_pct: Option<f64>,
}

/// The clock every timestamp is read from.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Clock {
    /// /sys/devices/system/clocksource/clocksource0/current_clocksource (e.g. "tsc").
    pub source: Option<String>,
    /// CPU flags: the TSC ticks at one rate whatever the frequency (constant_tsc) and in deep
    /// idle states (nonstop_tsc).
    pub constant_tsc: bool,
    pub nonstop_tsc: bool,
    /// Cost of one `Instant::now()`, nanoseconds (mean over many).
    pub read_ns: f64,
}

/// One way of waiting, asked to wait `requested_us`: how much longer it took.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TimerFigures {
    /// "thread" (the in-process workers' precise sleep), "pacer" (the HTTP driver's timerfd
    /// leader) or "tokio" (tokio's timer: the HTTP followers' safety net, and the leader off
    /// Linux).
    pub kind: String,
    pub requested_us: f64,
    pub samples: u64,
    pub overshoot_p50_us: f64,
    pub overshoot_p99_us: f64,
    pub overshoot_max_us: f64,
}

/// One generator thread's open-model dispatch, step by step.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct DispatchFigures {
    /// "threads" (in-process worker on the no-op mock) or "http" (the native HTTP driver
    /// against the loopback server).
    pub driver: String,
    pub steps: Vec<DispatchStep>,
    /// The highest step rate whose lag p99 stayed under 100 µs (and under 1 ms) with at least
    /// 95 % of its operations sent; `None` when not even the first did.
    pub max_rate_p99_under_100us: Option<f64>,
    pub max_rate_p99_under_1ms: Option<f64>,
}

impl DispatchFigures {
    /// The precision a run is judged against: the lag of the first (lightest) step, where the
    /// timer, not the load, sets it.
    pub fn precision(&self) -> Option<&DispatchStep> {
        self.steps.first()
    }

    /// Whether `rate` is the last step run and it held `limit_us`: the ramp ran out of steps
    /// before the generator missed, so the rate is a lower bound.
    pub fn ran_out_at(&self, rate: f64, limit_us: f64) -> bool {
        self.steps
            .last()
            .is_some_and(|s| s.rate == rate && s.held(limit_us))
    }
}

/// One held rate: how late its operations started.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct DispatchStep {
    /// Operations per second offered.
    pub rate: f64,
    /// Seconds judged (after the step's warm-up).
    pub seconds: f64,
    /// Operations sent in those seconds, and their rate.
    pub ops: u64,
    pub achieved_per_s: f64,
    pub lag_p50_us: f64,
    pub lag_p90_us: f64,
    pub lag_p99_us: f64,
    pub lag_p999_us: f64,
    pub lag_max_us: f64,
}

impl DispatchStep {
    /// At least 95 % of the offered operations were sent.
    pub fn kept_up(&self) -> bool {
        self.achieved_per_s >= 0.95 * self.rate
    }

    /// Kept up with its lag p99 under `limit_us`.
    pub fn held(&self, limit_us: f64) -> bool {
        self.kept_up() && self.lag_p99_us < limit_us
    }
}

/// Round trip of one keep-alive HTTP/1.1 request to a server that answers at once.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Loopback {
    pub requests: u64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

/// What recording one latency costs the harness.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Recorder {
    pub values: u64,
    pub ns_per_value: f64,
}

impl Calibration {
    /// The dispatch figures of one driver ("threads" or "http").
    pub fn dispatch_of(&self, driver: &str) -> Option<&DispatchFigures> {
        self.dispatch.iter().find(|d| d.driver == driver)
    }

    /// Reads a calibration file, refusing a newer layout than this build knows.
    pub fn read(path: &Path) -> Result<Calibration> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let c: Calibration = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a calibration file", path.display()))?;
        if c.version > CALIBRATION_VERSION {
            anyhow::bail!(
                "{}: calibration version {} is newer than this harness reads ({CALIBRATION_VERSION})",
                path.display(),
                c.version
            );
        }
        Ok(c)
    }

    /// Writes it as `dir/<host>-<time>.json` (the directory is created); returns the path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(file_name(&self.host, &self.measured_at));
        let json = serde_json::to_string_pretty(self)?;
        std::fs::write(&path, json + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

/// `<host>-<time>.json`, with the host reduced to [A-Za-z0-9_.-] and the time's colons dropped
/// (a file name valid everywhere, sorting by time per host).
pub fn file_name(host: &str, measured_at: &str) -> String {
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{host}-{}.json", measured_at.replace(':', ""))
}

/// The newest calibration in `dir` of this host and CPU model, measured at most `max_age`
/// before `now`, with its path. Files that are not calibrations are skipped; a missing
/// directory is no calibration.
pub fn newest_for(
    dir: &Path,
    host: &str,
    cpu_model: &str,
    max_age: Duration,
    now: SystemTime,
) -> Option<(PathBuf, Calibration)> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| Calibration::read(&p).ok().map(|c| (p, c)))
        .filter(|(_, c)| c.host == host && c.cpu_model == cpu_model)
        .filter_map(|(p, c)| {
            let at = humantime::parse_rfc3339(&c.measured_at).ok()?;
            let age = now.duration_since(at).unwrap_or(Duration::ZERO);
            (age <= max_age).then_some((at, p, c))
        })
        .max_by_key(|(at, _, _)| *at)
        .map(|(_, p, c)| (p, c))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A calibration whose in-process and HTTP dispatch p99 is `lag_us` at every step.
    pub(crate) fn sample(host: &str, measured_at: &str, lag_us: f64) -> Calibration {
        let step = DispatchStep {
            rate: 1000.0,
            seconds: 1.0,
            ops: 1000,
            achieved_per_s: 1000.0,
            lag_p50_us: lag_us / 2.0,
            lag_p90_us: lag_us * 0.9,
            lag_p99_us: lag_us,
            lag_p999_us: lag_us * 1.5,
            lag_max_us: lag_us * 2.0,
        };
        let dispatch = |driver: &str| DispatchFigures {
            driver: driver.to_string(),
            steps: vec![step.clone()],
            max_rate_p99_under_100us: None,
            max_rate_p99_under_1ms: Some(1000.0),
        };
        Calibration {
            version: CALIBRATION_VERSION,
            host: host.to_string(),
            cpu_model: "Test CPU".to_string(),
            measured_at: measured_at.to_string(),
            harness_version: "0.1.0".to_string(),
            git_commit: None,
            mode: "quick".to_string(),
            wall_s: 10.0,
            coarse_timer_us: None,
            machine: Machine::default(),
            clock: Clock::default(),
            timers: vec![],
            dispatch: vec![dispatch("threads"), dispatch("http")],
            loopback: None,
            recorder: Recorder {
                values: 1,
                ns_per_value: 1.0,
            },
            notes: vec![],
        }
    }

    #[test]
    fn the_newest_of_this_host_and_cpu_within_the_age_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let now = humantime::parse_rfc3339("2026-12-08T00:00:00Z").unwrap();
        let week = Duration::from_secs(7 * 86_400);
        assert!(newest_for(d, "a", "Test CPU", week, now).is_none(), "empty");
        assert!(newest_for(&d.join("nope"), "a", "Test CPU", week, now).is_none());
        let older = sample("a", "2026-12-02T00:00:00Z", 10.0).write(d).unwrap();
        let newer = sample("a", "2026-12-03T00:00:00Z", 20.0).write(d).unwrap();
        sample("b", "2026-12-07T00:00:00Z", 30.0).write(d).unwrap();
        let mut other_cpu = sample("a", "2026-12-07T01:00:00Z", 40.0);
        other_cpu.cpu_model = "Other CPU".into();
        other_cpu.write(d).unwrap();
        sample("a", "2026-11-30T00:00:00Z", 50.0).write(d).unwrap(); // 8 days old
        std::fs::write(d.join("junk.json"), "{}").unwrap();
        assert_ne!(older, newer);
        assert_eq!(newer.file_name().unwrap(), "a-2026-12-03T000000Z.json");
        let (p, c) = newest_for(d, "a", "Test CPU", week, now).unwrap();
        assert_eq!((p, c.dispatch[0].steps[0].lag_p99_us), (newer, 20.0));
        let day = Duration::from_secs(86_400);
        assert!(
            newest_for(d, "a", "Test CPU", day, now).is_none(),
            "too old"
        );
    }

    #[test]
    fn a_newer_layout_is_refused_and_a_round_trip_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let c = sample("h/ost", "2026-12-01T06:00:00Z", 10.0);
        let p = c.write(dir.path()).unwrap();
        assert_eq!(p.file_name().unwrap(), "h_ost-2026-12-01T060000Z.json");
        assert_eq!(Calibration::read(&p).unwrap(), c);
        let mut newer = c.clone();
        newer.version = CALIBRATION_VERSION + 1;
        let p = newer.write(dir.path()).unwrap();
        let e = format!("{:#}", Calibration::read(&p).unwrap_err());
        assert!(e.contains("newer than this harness reads"), "{e}");
    }
}
