//! `harness calibrate`: know the instrument before trusting its figures.
//!
//! On shared machines single runs of the same binary differ by up to 40 %, and an open-model
//! schedule is only as precise as the timer behind it. A calibration measures, on the machine
//! at hand and with the harness's own code paths: how late each way of waiting wakes
//! ([`timers`]), how late one generator thread starts operations as its rate grows, in process
//! and over HTTP ([`dispatch`]), the loopback round-trip floor ([`loopback`]), what recording a
//! value costs ([`recorder`]), and the machine itself ([`machine`]). It prints a table with a
//! meaning for every figure ([`table`]) and stores the figures as JSON ([`record`]), which
//! `harness run --calibration FILE` (or `use_calibration` in a scenario) holds latency limits
//! against (`analysis::calibration`). Every loop is bounded in count and in time; all traffic
//! stays on 127.0.0.1.

pub mod dispatch;
pub mod loopback;
pub mod machine;
pub mod record;
pub mod recorder;
pub mod table;
pub mod timers;

use anyhow::Result;
use dispatch::Steps;
use record::{Calibration, DispatchFigures, Loopback, CALIBRATION_VERSION};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where calibrations go unless `--out` says otherwise (and where `use_calibration` looks,
/// under the run's output root: `reports/calibration`).
pub const DEFAULT_DIR: &str = "reports/calibration";

/// How `harness calibrate` was asked to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Shorter steps and fewer samples (CI): about 10 s instead of about 35 (9.4 and 30.9 s
    /// measured on the 2-core VM, before two more steps were added to each ramp).
    pub quick: bool,
    pub out: PathBuf,
    /// Round every wait up to whole quanta (the hidden `--coarse-timer`, for tests that show
    /// the calibration sees a bad timer).
    pub coarse_timer: Option<Duration>,
}

/// How long each part may measure, by mode.
struct Budgets {
    timers: timers::Budget,
    steps: Steps,
    floor: Steps,
    record_values: u64,
    clock_reads: u64,
}

impl Budgets {
    fn for_mode(quick: bool) -> Budgets {
        let ms = Duration::from_millis;
        let (per_size, hold, floor) = if quick {
            (ms(150), ms(250), ms(400))
        } else {
            (ms(600), ms(1000), ms(2000))
        };
        Budgets {
            timers: timers::Budget {
                per_size,
                max_samples: if quick { 1_000 } else { 5_000 },
            },
            steps: Steps {
                warmup: ms(100),
                hold,
            },
            floor: Steps {
                warmup: ms(100),
                hold: floor,
            },
            record_values: if quick { 1_000_000 } else { 5_000_000 },
            clock_reads: 1_000_000,
        }
    }
}

/// Measures everything and returns the calibration (not yet written).
pub fn calibrate(opts: &Options) -> Result<Calibration> {
    let b = Budgets::for_mode(opts.quick);
    let measured_at = crate::observe::environment::now_rfc3339();
    let wall = Instant::now();
    let cpu = machine::CpuMark::now();
    let (host, cpu_model) = machine::identity();
    let mut m = machine::describe();
    let mut notes = Vec::new();
    let timers = timers::measure(b.timers, opts.coarse_timer)?;
    let recorder = recorder::record_cost(b.record_values);
    let clock = machine::clock(recorder::clock_read_ns(b.clock_reads));
    let mut dispatch = vec![dispatch::threads(b.steps, opts.coarse_timer)?];
    let (http, loopback) = over_http(&b, opts.coarse_timer, &mut notes);
    dispatch.extend(http);
    (m.others_cpu_pct, m.own_cpu_pct, m.steal_pct) = cpu.since(m.cores);
    Ok(Calibration {
        version: CALIBRATION_VERSION,
        host,
        cpu_model,
        measured_at,
        harness_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: option_env!("HARNESS_GIT_COMMIT").map(str::to_string),
        mode: if opts.quick { "quick" } else { "full" }.to_string(),
        wall_s: wall.elapsed().as_secs_f64(),
        coarse_timer_us: opts.coarse_timer.map(|q| q.as_secs_f64() * 1e6),
        machine: m,
        clock,
        timers,
        dispatch,
        loopback,
        recorder,
        notes,
    })
}

/// The HTTP figures against the loopback server: what could not be measured becomes a note
/// (a machine without loopback networking still gets its in-process figures).
fn over_http(
    b: &Budgets,
    coarse: Option<Duration>,
    notes: &mut Vec<String>,
) -> (Option<DispatchFigures>, Option<Loopback>) {
    let server = match loopback::Server::start() {
        Ok(s) => s,
        Err(e) => {
            notes.push(format!("no loopback server, no HTTP figures: {e:#}"));
            return (None, None);
        }
    };
    let floor = loopback::floor(server.addr, b.floor)
        .map_err(|e| notes.push(format!("loopback floor not measured: {e:#}")))
        .ok();
    let http = dispatch::http(server.addr, b.steps, coarse)
        .map_err(|e| notes.push(format!("HTTP dispatch not measured: {e:#}")))
        .ok();
    (http, floor)
}

/// `harness calibrate`: measures, prints the table, writes the JSON; returns its path.
pub fn run(opts: &Options) -> Result<PathBuf> {
    let c = calibrate(opts)?;
    print!("{}", table::render(&c));
    let path = c.write(&opts.out)?;
    println!("\ncalibration: {}", path.display());
    Ok(path)
}
