//! The load harness: scenario in, honest numbers out.
//!
//! One pipeline, each step a module of its own:
//!
//! ```text
//! cli ──> plan (load, then --driver / --duration-scale / --segment applied once)
//!     ──> run::execute: drivers::Driver::for_plan ─┐
//!                       targets::Target (prepare) ─┴─> driver.start(target) ──> load::collector
//!                       ──> target.finish ──> run::assemble ──> analysis::verdict ──> run::output
//! ```
//!
//! - [`plan`]: the scenario's validated [`scenario::Plan`], transformed once ([`plan::Prepared`]).
//! - [`targets`]: where load goes (in-process engine, mock, HTTP service); knows nothing of
//!   drivers.
//! - [`drivers`]: what generates it (threads, our HTTP client, goose); imports targets, never the
//!   other way round.
//! - [`load`]: the one worker loop ([`load::worker::WorkerCore`]), error kinds, the collector and
//!   its sinks (interval log, progress).
//! - [`observe`]: resource sampling, profiling, the environment.
//! - [`run`]: `execute` as a short list of steps; segment start/end sync; assembling the result;
//!   writing it; `--repeat` and baselines.
//! - [`analysis`]: the verdict (one function for run and merge), criteria, compare, merge. It
//!   never imports `run`.
//! - [`calibrate`]: `harness calibrate`, the instrument's own precision on this machine (timers,
//!   dispatch, loopback floor, recorder cost), stored as JSON that a run's latency limits can be
//!   held against.
//! - [`cancel`] (the Ctrl-C token passed into a run) and [`exit`] (every exit code).
//! - [`fuzzing`]: what each cargo-fuzz target under `fuzz/` runs, replayed on stable by
//!   `tests/fuzz_corpora.rs`.

pub mod analysis;
pub mod calibrate;
pub mod cancel;
pub mod cli;
pub mod drivers;
pub mod exit;
pub mod fuzzing;
pub(crate) mod load;
pub(crate) mod observe;
pub mod plan;
pub mod run;
pub mod targets;
