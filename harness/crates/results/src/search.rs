//! A capacity search's answer (`[capacity] mode = "search"`): the highest rate that met the
//! SLO, how sure the search is of it (the bracket between the last good and the first bad
//! rate, and a confirmation held for longer), and every probe that led there.
//!
//! Kept apart from the run's other figures because a search is many runs in one: each probe
//! is a constant-rate run judged alone, and the run's summary is the confirming probe's.

use crate::{Bounds, Percentiles};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a capacity search found. Rates are in [`crate::CapacityResult::unit`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct CapacitySearch {
    /// The capacity: the best good rate, held for the confirmation time and still good. `None`
    /// when the search ended before a confirmation held (see `ended`).
    pub capacity: Option<f64>,
    /// Nothing broke up to `settings.max`: the capacity is above it (and `capacity` is `max`
    /// when the confirmation at `max` held).
    pub above_max: bool,
    /// The bound every probe was judged by.
    pub slo: Slo,
    pub settings: SearchSettings,
    /// Why the search ended.
    pub ended: SearchEnd,
    /// Every probe, in the order run.
    pub probes: Vec<Probe>,
    /// Wall time of the whole search, warm-up included, seconds.
    pub wall_s: f64,
}

/// The service-level objective a probe must meet to be good.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct Slo {
    /// The latency percentile judged, e.g. 99.0.
    pub percentile: f64,
    /// Its limit, microseconds.
    pub max_latency_us: f64,
    /// The highest error rate a good probe may have (errors / submitted), when set.
    pub max_error_rate: Option<f64>,
}

/// The search's settings as run (`[capacity]`, rates in the result's unit).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct SearchSettings {
    pub start: f64,
    pub max: f64,
    pub growth: f64,
    pub precision: f64,
    pub probe_s: f64,
    pub settle_s: f64,
    pub confirm_s: f64,
    pub max_probes: u32,
    pub max_time_s: f64,
}

/// Why a search ended.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchEnd {
    /// The bracket narrowed to the precision and the best good rate held for the confirmation.
    Converged,
    /// `max` was good, and held for the confirmation: the capacity is above the search range.
    AboveMax,
    /// Even the start rate was bad: the capacity is below the search range.
    BelowStart,
    /// A probe's generator could not keep up: no capacity can be claimed (verdict invalid).
    GeneratorLimit,
    /// `max_probes` probes were run before the search converged.
    MaxProbes,
    /// `max_time` passed before the search converged.
    MaxTime,
    /// Interrupted (Ctrl-C) or a worker aborted the run.
    Aborted,
}

impl SearchEnd {
    /// Lowercase name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchEnd::Converged => "converged",
            SearchEnd::AboveMax => "above_max",
            SearchEnd::BelowStart => "below_start",
            SearchEnd::GeneratorLimit => "generator_limit",
            SearchEnd::MaxProbes => "max_probes",
            SearchEnd::MaxTime => "max_time",
            SearchEnd::Aborted => "aborted",
        }
    }
}

/// Which step of the search a probe was.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProbePhase {
    /// Growing geometrically from `start` until a probe is bad or `max` is reached.
    Grow,
    /// Halving the bracket between the last good and the first bad rate.
    Bisect,
    /// Holding the best good rate for the confirmation time.
    Confirm,
}

/// A probe's judgement.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProbeOutcome {
    /// Met the SLO at the offered rate.
    Good,
    /// Broke the SLO, or did not achieve the offered rate.
    Bad,
    /// The percentile's 95 % interval straddled the limit: the probe was run again and the
    /// repeat's outcome stands.
    Unsure,
    /// The generator could not keep up: nothing can be said of the target at this rate.
    Invalid,
    /// Interrupted before it ended: not judged.
    Aborted,
}

impl ProbeOutcome {
    /// Lowercase name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeOutcome::Good => "good",
            ProbeOutcome::Bad => "bad",
            ProbeOutcome::Unsure => "unsure",
            ProbeOutcome::Invalid => "invalid",
            ProbeOutcome::Aborted => "aborted",
        }
    }
}

/// One held constant-rate probe.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct Probe {
    /// 1-based, in the order run.
    pub index: u32,
    pub phase: ProbePhase,
    /// The rate asked for.
    pub offered: f64,
    /// The rate that completed (operations that ended, errors included, in the result's unit)
    /// over the judged time.
    pub achieved: f64,
    /// Committed transactions per second over the judged time (0 when operations carry none).
    pub committed_tps: f64,
    /// When the probe's judged time began, seconds from the search's start.
    pub start_s: f64,
    /// The judged time (after `settle`), seconds: shorter than `probe` when it ended early.
    pub duration_s: f64,
    /// Latency over the judged time, with 95 % intervals.
    pub latency_us: Percentiles,
    /// The SLO's percentile over the judged time, microseconds (any percentile, not only the
    /// ones `latency_us` lists).
    pub slo_latency_us: f64,
    /// Its 95 % sampling interval, when the samples suffice.
    pub slo_latency_ci95: Option<Bounds>,
    pub ops: u64,
    pub errors: u64,
    pub error_rate: f64,
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Share of operations the generator started later than the dispatch threshold.
    pub late_fraction: Option<f64>,
    /// Mean CPU of the target process over the probe, percent of all cores (`None` in
    /// process: the target is the harness).
    pub target_cpu_pct: Option<f64>,
    /// Mean CPU of the harness over the probe, percent of all cores.
    pub harness_cpu_pct: Option<f64>,
    pub outcome: ProbeOutcome,
    /// Why, in words: the figure that decided it against its limit.
    pub why: String,
    /// Ended before its time because it was clearly bad (percentile over 10x the limit, or
    /// errors over the limit, for 3 s after settling).
    pub ended_early: bool,
}
