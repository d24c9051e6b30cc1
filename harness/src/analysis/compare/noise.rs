//! Each side's machine noise, so a comparison can say when a regression coincides with a busy
//! machine.
//!
//! Shown and noted, never judged: the regression rule is [`super::rule`]'s alone. Whether a
//! run's machine was noisy is the one rule of [`results::Noise`] (other processes over 10 % of
//! one core on average, or measurable steal), the same that puts the warning in its report.

use super::figures::busiest;
use super::Side;
use serde::{Deserialize, Serialize};

/// One side's noise over its runs.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SideNoise {
    /// The run whose machine was busiest (highest average of other processes' CPU).
    pub busiest: results::Noise,
    /// Runs whose machine was noisy by the rule, of `measured` runs with noise figures.
    pub noisy_runs: usize,
    pub measured: usize,
}

impl SideNoise {
    /// `None` when no run of the side measured its machine (off Linux, older results).
    pub fn of(side: &Side) -> Option<SideNoise> {
        let all: Vec<&results::Noise> = side.runs.iter().filter_map(|r| r.noise.as_ref()).collect();
        Some(SideNoise {
            busiest: busiest(all.iter().copied())?.clone(),
            noisy_runs: all.iter().filter(|n| n.is_noisy()).count(),
            measured: all.len(),
        })
    }

    /// Whether any run of the side was noisy.
    pub fn is_noisy(&self) -> bool {
        self.noisy_runs > 0
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{figures, side};
    use super::*;

    pub(crate) fn noisy(other_avg: f64) -> results::Noise {
        results::Noise {
            cpus: 2,
            other_cpu_avg_pct: other_avg,
            other_cpu_peak_pct: other_avg,
            steal_avg_pct: 0.0,
            steal_peak_pct: 0.0,
            intervals: 5,
            busy_intervals: 0,
        }
    }

    #[test]
    fn the_busiest_run_stands_for_its_side() {
        let run = |o: Option<f64>| {
            let mut f = figures(1e6, 1000.0);
            f.noise = o.map(noisy);
            f
        };
        let s = side("s", "aa", vec![run(Some(1.0)), run(Some(30.0)), run(None)]);
        let n = SideNoise::of(&s).unwrap();
        assert_eq!(n.busiest.other_cpu_avg_pct, 30.0);
        assert_eq!((n.noisy_runs, n.measured), (1, 2));
        assert!(n.is_noisy());
        assert_eq!(SideNoise::of(&side("s", "aa", vec![run(None)])), None);
    }

    fn compared(
        base_tps: f64,
        new_tps: f64,
        base_noise: f64,
        new_noise: f64,
    ) -> super::super::Comparison {
        use super::super::{compare, CompareOptions, Tolerances};
        let with = |tps: f64, other: f64| {
            let mut f = figures(tps, 1000.0);
            f.noise = Some(noisy(other));
            f
        };
        compare(
            &side("s", "aa", vec![with(base_tps, base_noise)]),
            &side("s", "aa", vec![with(new_tps, new_noise)]),
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn a_regression_on_a_busy_machine_says_so_and_still_fails() {
        use super::super::{render_junit, render_markdown, render_text, MetricVerdict};
        let c = compared(1e6, 0.5e6, 1.0, 48.0);
        assert_eq!(c.exit(), crate::exit::Exit::Fail, "the verdict stands");
        let row = |k: &str| c.rows.iter().find(|r| r.key == k).unwrap();
        assert_eq!(row("other_cpu").verdict(), MetricVerdict::Info);
        assert_eq!(row("steal").verdict(), MetricVerdict::Info);
        let note = "REGRESSION in tps coincides with a busy machine: other processes used 48 % \
                    of the machine on average on the new side";
        let text = render_text(&c);
        assert!(text.contains(&format!("  note: {note}")), "{text}");
        let other = text
            .lines()
            .find(|l| l.starts_with("Other processes"))
            .unwrap();
        assert!(other.contains("1 %") && other.contains("48 %") && other.ends_with("info"));
        assert!(render_markdown(&c).contains(note));
        assert!(render_junit(&c).contains("coincides with a busy machine"));
        // No regression, or a quiet machine: no note.
        assert!(!render_text(&compared(1e6, 1e6, 1.0, 48.0)).contains("busy machine"));
        assert!(!render_text(&compared(1e6, 0.5e6, 1.0, 4.0)).contains("busy machine"));
        // Both sides busy: both named, in one sentence.
        let both = render_text(&compared(1e6, 0.5e6, 30.0, 48.0));
        assert!(
            both.contains(
                "other processes used 30 % of the machine on average on the baseline \
                           and 48 % of the machine on average on the new side"
            ),
            "{both}"
        );
    }
}
