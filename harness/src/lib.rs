//! The load harness: scenario in, honest numbers out.
//!
//! `harness run scenarios/X.toml` loads a scenario into a [`scenario::Plan`], drives a target
//! through its stages with one worker loop ([`worker`]) parameterized by the load model (open:
//! arrival rate, latency from each operation's intended start; closed: workers, service time),
//! records latency in per-worker HDR histograms merged every interval ([`collector`]), samples CPU
//! and memory ([`sampler`]), audits the engine, evaluates the criteria ([`criteria`]) and writes
//! `results.json` ([`results::RunResult`]) and the reports ([`report`]).

pub mod cli;
pub mod collector;
pub mod compare;
pub mod criteria;
pub mod environment;
pub mod fmt;
pub mod gate;
pub mod goose;
pub mod http;
pub mod inprocess;
pub mod merge;
pub mod mock;
pub mod profile;
pub mod progress;
pub mod run;
pub mod sampler;
pub mod segment;
pub mod timeline;
pub mod worker;
