//! How busy the machine was with work other than the run: [`Noise`], and the one rule that
//! says when that is worth a warning ([`Noise::is_busy`], [`Noise::has_steal`],
//! [`interval_is_busy`]).
//!
//! Why: on a shared machine two runs of one binary differ by up to 40 %, and a figure is only
//! as good as the machine it came from. Each interval records the CPU other processes used
//! (the whole machine's busy time from `/proc/stat`, minus the harness's and a spawned
//! target's own) and the CPU the hypervisor stole; the steady state's averages and peaks are
//! kept here. Both are percent of the whole machine as `/proc/stat` counts its CPUs (100 =
//! every core busy), the basis of every other `cpu_pct` (`Resources::cpu_pct_basis`).
//!
//! # The rule (every report's warning, `harness compare`'s note, the chart's shading)
//! - **Busy**: other processes used more than [`BUSY_CORE_PCT`] (10 %) of one core on average
//!   over the steady state, i.e. more than `10 / cpus` % of the machine (5 % of a 2-core
//!   machine). The average, not the peak: a 1 s interval's figure moves by a clock tick of
//!   10 ms per CPU (0.5 % of a 2-core machine per tick, from both sides of a subtraction), and
//!   a shell prompt or a `ps` lands a single interval above 5 %; a sustained neighbour (a
//!   build, another benchmark) moves the average, and that is what shifts a run's figures.
//!   The chart shades every interval above the same threshold, so short bursts still show.
//! - **Steal**: the hypervisor took more than [`STEAL_PCT`] (0.5 %) of the machine in at least
//!   one steady interval. On bare metal steal is exactly 0; one 10 ms tick in a 1 s interval
//!   of a 2-core machine is 0.5 %, so "more than" asks for two ticks, not a rounding.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::IntervalRecord;

/// Other processes' CPU above this share of ONE core, on average, make the machine busy.
pub const BUSY_CORE_PCT: f64 = 10.0;

/// Steal above this percent of the machine in any steady interval is measurable.
pub const STEAL_PCT: f64 = 0.5;

/// The machine's other work over the steady state (warm-up excluded, as for the process CPU
/// figures). Absent off Linux and in results written before it was recorded.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct Noise {
    /// CPUs `/proc/stat` counted: the basis of the percentages (100 = all of them busy).
    pub cpus: usize,
    /// CPU used by processes other than the harness and the target it spawned, percent of
    /// the machine: average and highest interval. A target the harness did not start (an HTTP
    /// server on this machine) counts as other work.
    pub other_cpu_avg_pct: f64,
    pub other_cpu_peak_pct: f64,
    /// CPU time the hypervisor gave to other guests while this one wanted it (`steal` in
    /// `/proc/stat`), percent of the machine: average and highest interval.
    pub steal_avg_pct: f64,
    pub steal_peak_pct: f64,
    /// Steady intervals measured, and how many of them were over the busy threshold.
    pub intervals: u64,
    pub busy_intervals: u64,
}

impl Noise {
    /// The busy threshold in percent of the machine: [`BUSY_CORE_PCT`] of one core.
    pub fn busy_threshold_pct(&self) -> f64 {
        busy_threshold_pct(self.cpus)
    }

    /// Other processes used more than 10 % of one core on average (see the module docs).
    pub fn is_busy(&self) -> bool {
        self.other_cpu_avg_pct > self.busy_threshold_pct()
    }

    /// The hypervisor stole more than [`STEAL_PCT`] of the machine in some steady interval.
    pub fn has_steal(&self) -> bool {
        self.steal_peak_pct > STEAL_PCT
    }

    /// Worth a warning: busy, or steal measurable.
    pub fn is_noisy(&self) -> bool {
        self.is_busy() || self.has_steal()
    }

    /// The averages and peaks over `intervals` (the steady ones); `None` when none of them
    /// measured the machine (off Linux, or results without the fields).
    pub fn of<'a>(
        intervals: impl IntoIterator<Item = &'a IntervalRecord>,
        cpus: usize,
    ) -> Option<Noise> {
        let measured: Vec<(f64, f64)> = intervals
            .into_iter()
            .filter_map(|i| Some((i.other_cpu_pct?, i.steal_pct?)))
            .collect();
        if measured.is_empty() || cpus == 0 {
            return None;
        }
        let n = measured.len() as f64;
        let threshold = busy_threshold_pct(cpus);
        Some(Noise {
            cpus,
            other_cpu_avg_pct: measured.iter().map(|m| m.0).sum::<f64>() / n,
            other_cpu_peak_pct: measured.iter().map(|m| m.0).fold(0.0, f64::max),
            steal_avg_pct: measured.iter().map(|m| m.1).sum::<f64>() / n,
            steal_peak_pct: measured.iter().map(|m| m.1).fold(0.0, f64::max),
            intervals: measured.len() as u64,
            busy_intervals: measured.iter().filter(|m| m.0 > threshold).count() as u64,
        })
    }
}

/// [`BUSY_CORE_PCT`] of one core as percent of a machine of `cpus` CPUs.
pub fn busy_threshold_pct(cpus: usize) -> f64 {
    BUSY_CORE_PCT / cpus.max(1) as f64
}

/// One interval over the busy threshold (the chart shades it), by the same threshold as
/// [`Noise::is_busy`].
pub fn interval_is_busy(i: &IntervalRecord, cpus: usize) -> bool {
    i.other_cpu_pct
        .is_some_and(|o| o > busy_threshold_pct(cpus))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(other: Option<f64>, steal: Option<f64>) -> IntervalRecord {
        IntervalRecord {
            other_cpu_pct: other,
            steal_pct: steal,
            ..IntervalRecord::default()
        }
    }

    #[test]
    fn busy_is_ten_percent_of_one_core_on_average() {
        // 2 cores: the threshold is 5 % of the machine.
        let quiet = [rec(Some(4.0), Some(0.0)), rec(Some(5.0), Some(0.0))];
        let n = Noise::of(&quiet, 2).unwrap();
        assert_eq!((n.other_cpu_avg_pct, n.other_cpu_peak_pct), (4.5, 5.0));
        assert!(!n.is_busy() && !n.has_steal() && !n.is_noisy());
        assert_eq!(n.busy_intervals, 0, "5.0 is not above 5.0");
        // One burst of 30 % among quiet intervals: shaded, but the average stays under.
        let mut burst = vec![rec(Some(1.0), Some(0.0)); 9];
        burst.push(rec(Some(30.0), Some(0.0)));
        let n = Noise::of(&burst, 2).unwrap();
        assert!((n.other_cpu_avg_pct - 3.9).abs() < 1e-9);
        assert_eq!(n.busy_intervals, 1);
        assert!(!n.is_busy());
        assert!(interval_is_busy(&burst[9], 2) && !interval_is_busy(&burst[0], 2));
        // A neighbour on one core of two: busy. The same 6 % on 1 core is not.
        let busy = [rec(Some(6.0), Some(0.0))];
        assert!(Noise::of(&busy, 2).unwrap().is_busy());
        assert!(!Noise::of(&busy, 1).unwrap().is_busy());
    }

    #[test]
    fn steal_counts_when_any_interval_is_over_half_a_percent() {
        let n = Noise::of(&[rec(Some(0.0), Some(0.5)), rec(Some(0.0), Some(0.0))], 2).unwrap();
        assert!(!n.has_steal(), "one tick is rounding");
        let n = Noise::of(&[rec(Some(0.0), Some(0.0)), rec(Some(0.0), Some(2.0))], 2).unwrap();
        assert!(n.has_steal() && n.is_noisy() && !n.is_busy());
        assert_eq!((n.steal_avg_pct, n.steal_peak_pct), (1.0, 2.0));
    }

    #[test]
    fn nothing_measured_is_no_noise_figure() {
        assert_eq!(Noise::of(&[rec(None, None)], 2), None);
        assert_eq!(Noise::of(&[], 2), None);
        assert!(!interval_is_busy(&rec(None, None), 1));
    }
}
