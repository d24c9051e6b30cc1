//! Execution segments: one share of a scenario's load, so several harness instances (machines,
//! pods of a Kubernetes Indexed Job) can drive one target together, the way k6's operator splits
//! a test.
//!
//! Segment `i` of `n` (0-based, like Kubernetes' `JOB_COMPLETION_INDEX`) runs the same stages
//! with its share of each stage's workers and arrival rate, and owns a disjoint range of the
//! workload's sender accounts so that the nonces it tracks stay valid while the other instances
//! send too. The split is integer arithmetic with the remainder spread over the first segments,
//! so the shares of any quantity add up to exactly the plan: no worker or operation per second is
//! lost or doubled. Everything here is a pure function of the plan and the segment; the start
//! and end synchronization, which waits on the clock or on barrier files, is the run's
//! (`run::sync`).
//!
//! Closed-model ramps are split at both ends; each segment then rounds its own ramp, so in the
//! middle of a ramp the total can differ from the plan's rounding by less than one worker per
//! segment. Flat stages and every open-model rate are exact at every moment.

use scenario::{Load, Plan};
use std::ops::Range;
use std::str::FromStr;

/// Environment variable holding `i/n` (same syntax as `--segment`).
pub const ENV_SEGMENT: &str = "HARNESS_SEGMENT";
/// Kubernetes Indexed Job: the pod's 0-based completion index.
pub const ENV_K8S_INDEX: &str = "JOB_COMPLETION_INDEX";
/// With [`ENV_K8S_INDEX`]: how many segments there are (the Job's `completions`).
pub const ENV_SEGMENT_COUNT: &str = "HARNESS_SEGMENT_COUNT";
/// Errors of segment selection and synchronization, naming the flag, variable or file.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error("{origin}: {value:?} is not a segment: expected INDEX/COUNT with 0 <= INDEX < COUNT (0-based), e.g. 0/3")]
    Syntax { origin: String, value: String },
    #[error("{ENV_K8S_INDEX}={index} is set but {ENV_SEGMENT_COUNT} is not: set it to the Job's completions")]
    CountMissing { index: String },
}

/// Segment `index` of `count`, 0-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub index: u32,
    pub count: u32,
}

impl Segment {
    /// Checks `index < count` (and so `count >= 1`).
    pub fn new(index: u32, count: u32) -> Option<Segment> {
        (index < count).then_some(Segment { index, count })
    }

    fn parse_named(value: &str, origin: &str) -> Result<Segment, SegmentError> {
        let err = || SegmentError::Syntax {
            origin: origin.to_string(),
            value: value.to_string(),
        };
        let (i, n) = value.trim().split_once('/').ok_or_else(err)?;
        let i = i.trim().parse().map_err(|_| err())?;
        let n = n.trim().parse().map_err(|_| err())?;
        Segment::new(i, n).ok_or_else(err)
    }

    /// The segment named by the environment: `HARNESS_SEGMENT=i/n`, or Kubernetes'
    /// `JOB_COMPLETION_INDEX` with `HARNESS_SEGMENT_COUNT`. `get` reads a variable (tests pass
    /// a map; the CLI passes `std::env::var`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<Segment>, SegmentError> {
        if let Some(v) = get(ENV_SEGMENT).filter(|v| !v.trim().is_empty()) {
            return Segment::parse_named(&v, ENV_SEGMENT).map(Some);
        }
        let Some(index) = get(ENV_K8S_INDEX).filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        let count = get(ENV_SEGMENT_COUNT)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| SegmentError::CountMissing {
                index: index.clone(),
            })?;
        Segment::parse_named(
            &format!("{}/{}", index.trim(), count.trim()),
            &format!("{ENV_K8S_INDEX}/{ENV_SEGMENT_COUNT}"),
        )
        .map(Some)
    }

    /// This segment's part of an integer quantity: `total / n`, plus one for the first
    /// `total % n` segments. The parts of all segments sum to `total`.
    pub fn share_of_count(self, total: u64) -> u64 {
        let n = u64::from(self.count);
        total / n + u64::from(u64::from(self.index) < total % n)
    }

    /// This segment's part of a rate: the whole units split like [`Segment::share_of_count`],
    /// and the fractional remainder given to the segment next in line for a unit. The parts of
    /// all segments sum to `rate` exactly (every partial sum is representable for rates below
    /// 2^53). Negative or non-finite rates give 0.
    pub fn share_of_rate(self, rate: f64) -> f64 {
        if !rate.is_finite() || rate <= 0.0 {
            return 0.0;
        }
        let whole = rate.floor();
        let frac = rate - whole;
        let units = whole as u64;
        let mut part = self.share_of_count(units) as f64;
        if u64::from(self.index) == units % u64::from(self.count) {
            part += frac;
        }
        part
    }

    /// This segment's contiguous range of `0..accounts`; the ranges of all segments are disjoint
    /// and cover every account.
    pub fn sender_range(self, accounts: u64) -> Range<u64> {
        let at = |i: u32| (u128::from(accounts) * u128::from(i) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }
}

impl FromStr for Segment {
    type Err = SegmentError;
    fn from_str(s: &str) -> Result<Segment, SegmentError> {
        Segment::parse_named(s, "--segment")
    }
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The plan a segment runs: every stage's workers or rate replaced by the segment's share,
/// throughput criteria scaled by the segment's share of the load (so a segment judges its own
/// part), and that share.
pub fn plan_for(plan: &Plan, seg: Segment) -> (Plan, f64) {
    let mut out = plan.clone();
    let mut weighted = 0.0;
    let mut weight = 0.0;
    for stage in &mut out.stages {
        // A fixed amount of work is shared like a worker count: the segments do it between them.
        stage.operations = stage.operations.map(|n| seg.share_of_count(n));
        let (planned, part) = match &mut stage.load {
            Load::Closed { workers } => {
                let (f, t) = (workers.from, workers.to);
                workers.from = seg.share_of_count(f.round().max(0.0) as u64) as f64;
                workers.to = seg.share_of_count(t.round().max(0.0) as u64) as f64;
                ((f, t), (workers.from, workers.to))
            }
            Load::Open { rate, .. } => {
                let (f, t) = (rate.from, rate.to);
                rate.from = seg.share_of_rate(f);
                rate.to = seg.share_of_rate(t);
                ((f, t), (rate.from, rate.to))
            }
        };
        if !stage.warmup {
            let d = stage.duration.as_secs_f64();
            let planned = planned.0 + planned.1;
            let part = part.0 + part.1;
            if planned > 0.0 {
                weighted += d * part / planned;
                weight += d;
            }
        }
    }
    let share = if weight > 0.0 {
        weighted / weight
    } else {
        1.0 / f64::from(seg.count)
    };
    out.criteria.min_tps = out.criteria.min_tps.map(|t| t * share);
    out.criteria.min_interval_tps = out.criteria.min_interval_tps.map(|t| t * share);
    (out, share)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use std::path::Path;

    #[test]
    fn parses_flags_and_environment() {
        assert_eq!(
            "1/3".parse::<Segment>().unwrap(),
            Segment { index: 1, count: 3 }
        );
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2", "1/2/3"] {
            assert!(bad.parse::<Segment>().is_err(), "{bad}");
        }
        let env = |pairs: &[(&str, &str)]| {
            let m: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            move |k: &str| m.get(k).cloned()
        };
        assert_eq!(Segment::from_env(env(&[])).unwrap(), None);
        assert_eq!(
            Segment::from_env(env(&[("HARNESS_SEGMENT", "2/4")])).unwrap(),
            Segment::new(2, 4)
        );
        assert_eq!(
            Segment::from_env(env(&[
                ("JOB_COMPLETION_INDEX", "0"),
                ("HARNESS_SEGMENT_COUNT", "3")
            ]))
            .unwrap(),
            Segment::new(0, 3)
        );
        let e = Segment::from_env(env(&[("JOB_COMPLETION_INDEX", "1")])).unwrap_err();
        assert!(e.to_string().contains("HARNESS_SEGMENT_COUNT"), "{e}");
        let e = Segment::from_env(env(&[
            ("JOB_COMPLETION_INDEX", "3"),
            ("HARNESS_SEGMENT_COUNT", "3"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("JOB_COMPLETION_INDEX"), "{e}");
    }

    fn arb_plan_counts() -> impl Strategy<Value = (Vec<u64>, Vec<f64>, u32)> {
        (
            prop::collection::vec(0u64..100_000, 1..6),
            prop::collection::vec(
                prop_oneof![0.0..1e9f64, (0u64..10_000_000).prop_map(|v| v as f64)],
                1..6,
            ),
            1u32..64,
        )
    }

    proptest! {
        #[test]
        fn shares_sum_exactly_to_the_plan((workers, rates, n) in arb_plan_counts()) {
            for w in workers {
                let sum: u64 = (0..n).map(|i| Segment { index: i, count: n }.share_of_count(w)).sum();
                prop_assert_eq!(sum, w);
                let parts: Vec<u64> = (0..n).map(|i| Segment { index: i, count: n }.share_of_count(w)).collect();
                let (lo, hi) = (parts.iter().min().unwrap(), parts.iter().max().unwrap());
                prop_assert!(hi - lo <= 1, "uneven split {:?}", parts);
            }
            for r in rates {
                let sum: f64 = (0..n).map(|i| Segment { index: i, count: n }.share_of_rate(r)).sum();
                prop_assert_eq!(sum, r, "rate {} over {} segments", r, n);
            }
        }

        #[test]
        fn sender_ranges_are_disjoint_and_cover(accounts in 0u64..u64::MAX / 2, n in 1u32..200) {
            let ranges: Vec<_> = (0..n).map(|i| Segment { index: i, count: n }.sender_range(accounts)).collect();
            prop_assert_eq!(ranges[0].start, 0);
            prop_assert_eq!(ranges[ranges.len() - 1].end, accounts);
            for w in ranges.windows(2) {
                prop_assert_eq!(w[0].end, w[1].start);
                prop_assert!(w[0].start <= w[0].end);
            }
        }
    }

    #[test]
    fn segment_plans_add_up_to_the_plan() {
        let text = "[scenario]\nname = \"s\"\n[target]\nkind = \"in-process\"\n[workload]\naccounts = 1000\n[criteria]\nmin_tps = 900\n[[stages]]\nname = \"ramp\"\nduration = \"2s\"\nworkers = { from = 1, to = 7 }\nwarmup = true\n[[stages]]\nname = \"open\"\nduration = \"2s\"\nrate = \"1000.5/s\"\n";
        let plan = scenario::parse(text, Path::new("s.toml")).unwrap();
        let n = 3;
        let plans: Vec<(Plan, f64)> = (0..n)
            .map(|i| plan_for(&plan, Segment { index: i, count: n }))
            .collect();
        let share_sum: f64 = plans.iter().map(|(_, s)| s).sum();
        assert!((share_sum - 1.0).abs() < 1e-9, "{share_sum}");
        for (k, stage) in plan.stages.iter().enumerate() {
            let (mut from, mut to) = (0.0, 0.0);
            for (p, _) in &plans {
                match &p.stages[k].load {
                    Load::Closed { workers: r } | Load::Open { rate: r, .. } => {
                        from += r.from;
                        to += r.to;
                    }
                }
            }
            match &stage.load {
                Load::Closed { workers: r } | Load::Open { rate: r, .. } => {
                    assert_eq!((from, to), (r.from, r.to), "stage {k}");
                }
            }
        }
        let min_tps: f64 = plans.iter().map(|(p, _)| p.criteria.min_tps.unwrap()).sum();
        assert!((min_tps - 900.0).abs() < 1e-6, "{min_tps}");
    }
}
