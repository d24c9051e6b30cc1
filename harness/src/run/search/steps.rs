//! The capacity search's steps, pure: which rate to probe next, given what the probes so far
//! said. No clock, no target: the orchestrator (`super`) runs each probe, judges it and
//! records the outcome here, and stops on its own limits (probes, time, an invalid probe).
//!
//! Grow geometrically from `start` until a probe is bad or `max` was good; bisect between the
//! best good rate below the lowest bad one until the bad rate is within `precision` above it;
//! hold the good rate for the confirmation. A confirmation that fails becomes the new bad
//! bound, and the search goes on below it. The arithmetic midpoint is used: near the knee the
//! latency curve is steep, so the bracket's ends are close in ratio and the two means differ
//! by less than the precision.

use results::{ProbePhase, SearchEnd};

/// Where the search stands.
#[derive(Clone, Debug)]
pub struct Steps {
    start: f64,
    max: f64,
    growth: f64,
    precision: f64,
    /// Still growing: the last grown rate (None before the first probe).
    growing: Option<Option<f64>>,
    /// Every rate judged good (a failed confirmation removes it and those above).
    good: Vec<f64>,
    /// The lowest rate judged bad.
    bad: Option<f64>,
    ended: Option<SearchEnd>,
}

/// What to do next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    Probe { rate: f64, phase: ProbePhase },
    Done(SearchEnd),
}

impl Steps {
    pub fn new(start: f64, max: f64, growth: f64, precision: f64) -> Steps {
        Steps {
            start,
            max,
            growth,
            precision,
            growing: Some(None),
            good: Vec::new(),
            bad: None,
            ended: None,
        }
    }

    /// The bracket's good end: the highest good rate below the lowest bad one.
    pub fn good(&self) -> Option<f64> {
        self.good
            .iter()
            .copied()
            .filter(|g| self.bad.is_none_or(|b| *g < b))
            .reduce(f64::max)
    }

    /// The bracket's bad end: the lowest rate judged bad.
    pub fn bad(&self) -> Option<f64> {
        self.bad
    }

    pub fn next(&self) -> Next {
        if let Some(end) = self.ended {
            return Next::Done(end);
        }
        if let Some(last) = self.growing {
            let rate = last.map_or(self.start, |r| (r * self.growth).min(self.max));
            return Next::Probe {
                rate,
                phase: ProbePhase::Grow,
            };
        }
        let Some(good) = self.good() else {
            return Next::Done(SearchEnd::BelowStart);
        };
        match self.bad {
            Some(bad) if bad > good * (1.0 + self.precision) => Next::Probe {
                rate: (good + bad) / 2.0,
                phase: ProbePhase::Bisect,
            },
            _ => Next::Probe {
                rate: good,
                phase: ProbePhase::Confirm,
            },
        }
    }

    /// Records a judged probe (good or bad; invalid and aborted probes end the search in the
    /// orchestrator and are not recorded).
    pub fn record(&mut self, rate: f64, phase: ProbePhase, good: bool) {
        if good {
            self.good.push(rate);
        } else {
            self.bad = Some(self.bad.map_or(rate, |b| b.min(rate)));
            self.good.retain(|g| *g < rate);
        }
        match phase {
            ProbePhase::Grow => {
                let more = good && rate < self.max;
                self.growing = more.then_some(Some(rate));
            }
            ProbePhase::Bisect => {}
            ProbePhase::Confirm if good => {
                self.ended = Some(if self.bad.is_none() {
                    SearchEnd::AboveMax
                } else {
                    SearchEnd::Converged
                });
            }
            ProbePhase::Confirm => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the steps against a target whose SLO breaks above `knee`, for at most 40 probes.
    fn search(steps: &mut Steps, knee: f64) -> (Vec<(f64, ProbePhase)>, SearchEnd) {
        let mut run = Vec::new();
        for _ in 0..40 {
            match steps.next() {
                Next::Done(end) => return (run, end),
                Next::Probe { rate, phase } => {
                    run.push((rate, phase));
                    steps.record(rate, phase, rate <= knee);
                }
            }
        }
        panic!("no end after 40 probes: {run:?}");
    }

    #[test]
    fn grows_bisects_and_confirms_within_the_precision() {
        let mut s = Steps::new(1e6, 40e6, 2.0, 0.02);
        let (run, end) = search(&mut s, 12.6e6);
        assert_eq!(end, SearchEnd::Converged);
        let grown: Vec<f64> = run
            .iter()
            .filter(|(_, p)| *p == ProbePhase::Grow)
            .map(|(r, _)| *r)
            .collect();
        assert_eq!(grown, [1e6, 2e6, 4e6, 8e6, 16e6]);
        let (good, bad) = (s.good().unwrap(), s.bad().unwrap());
        assert!(good <= 12.6e6 && bad > 12.6e6, "{good} {bad}");
        assert!(bad <= good * 1.02, "{good} {bad}");
        assert_eq!(run.last(), Some(&(good, ProbePhase::Confirm)));
        // 5 grown, log2(8M / (2 % of 8M)) = 5.6 bisections, one confirmation.
        assert!(run.len() <= 12, "{run:?}");
    }

    #[test]
    fn a_target_that_never_breaks_is_above_max() {
        let mut s = Steps::new(1e6, 40e6, 2.0, 0.02);
        let (run, end) = search(&mut s, f64::INFINITY);
        assert_eq!(end, SearchEnd::AboveMax);
        let rates: Vec<f64> = run.iter().map(|(r, _)| *r).collect();
        assert_eq!(rates, [1e6, 2e6, 4e6, 8e6, 16e6, 32e6, 40e6, 40e6]);
        assert_eq!(run.last().unwrap().1, ProbePhase::Confirm);
        assert_eq!(s.bad(), None);
    }

    #[test]
    fn a_bad_start_is_below_start() {
        let mut s = Steps::new(1e6, 40e6, 2.0, 0.02);
        let (run, end) = search(&mut s, 0.5e6);
        assert_eq!(end, SearchEnd::BelowStart);
        assert_eq!(run.len(), 1);
    }

    #[test]
    fn a_failed_confirmation_is_the_new_bad_bound() {
        let mut s = Steps::new(1e6, 40e6, 2.0, 0.02);
        let mut failed = None;
        let mut run = Vec::new();
        loop {
            match s.next() {
                Next::Done(end) => {
                    assert_eq!(end, SearchEnd::Converged, "{run:?}");
                    break;
                }
                Next::Probe { rate, phase } => {
                    run.push((rate, phase));
                    // The first confirmation fails: the longer hold showed the target cannot
                    // sustain that rate after all.
                    let good = if phase == ProbePhase::Confirm && failed.is_none() {
                        failed = Some(rate);
                        false
                    } else {
                        rate <= 12.6e6
                    };
                    s.record(rate, phase, good);
                }
            }
        }
        let failed = failed.unwrap();
        let (good, bad) = (s.good().unwrap(), s.bad().unwrap());
        assert_eq!(
            bad, failed,
            "the failed confirmation is the bad bound: {run:?}"
        );
        assert!(good < failed, "{run:?}");
        assert_eq!(run.last(), Some(&(good, ProbePhase::Confirm)));
        assert_eq!(
            run.iter()
                .filter(|(_, p)| *p == ProbePhase::Confirm)
                .count(),
            2
        );
    }
}
