//! The run's timeline: which stage is active at a given moment, how many closed-model workers it
//! asks for, and when each open-model operation is due.
//!
//! Open-model operations are numbered from 0 across every open stage of the run. Operation `n`
//! is due when the integral of the planned rate reaches `n`; with a linear ramp from `a` to `b`
//! ops/s over `T` seconds that integral is `a·t + (b - a)·t²/(2T)`, inverted in closed form. The
//! intended start time, not the moment a worker got round to it, is what latency is measured
//! from, so a stalled target cannot hide behind a slowed-down generator (coordinated omission).

use scenario::{Load, Plan};

/// A stage placed on the run's clock (seconds since the run started).
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub start: f64,
    /// The stage's length; for a fixed-work stage, its limit (the run ends when the work is done).
    pub duration: f64,
    pub warmup: bool,
    pub kind: SpanKind,
    /// A fixed amount of work (`operations = N`; closed model, the last stage only).
    pub operations: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SpanKind {
    Closed {
        from: f64,
        to: f64,
    },
    /// Rates in operations per second; `ops_before` counts the open ops of earlier stages.
    Open {
        from: f64,
        to: f64,
        ops_before: f64,
    },
}

impl Span {
    fn ops_within(&self, t: f64) -> f64 {
        match self.kind {
            SpanKind::Open { from, to, .. } => {
                let t = t.clamp(0.0, self.duration);
                from * t + (to - from) * t * t / (2.0 * self.duration)
            }
            SpanKind::Closed { .. } => 0.0,
        }
    }
}

/// What a worker should be doing at a moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Phase {
    /// A closed-model stage asking for this many workers.
    Closed { stage: usize, workers: u32 },
    /// An open-model stage.
    Open { stage: usize },
    /// The plan is over.
    Done,
}

/// The immutable timeline built once from a plan.
#[derive(Clone, Debug)]
pub struct Timeline {
    pub spans: Vec<Span>,
    pub total: f64,
    pub warmup: f64,
}

impl Timeline {
    pub fn new(plan: &Plan) -> Timeline {
        let mut spans = Vec::with_capacity(plan.stages.len());
        let mut start = 0.0;
        let mut ops_before = 0.0;
        for (i, stage) in plan.stages.iter().enumerate() {
            let duration = stage.duration.as_secs_f64();
            let kind = match &stage.load {
                Load::Closed { workers } => SpanKind::Closed {
                    from: workers.from,
                    to: workers.to,
                },
                Load::Open { .. } => {
                    // The plan converts tx/s into operations (batches) per second.
                    let from = plan.ops_per_sec(i, 0.0).unwrap_or(0.0);
                    let to = plan.ops_per_sec(i, 1.0).unwrap_or(0.0);
                    let kind = SpanKind::Open {
                        from,
                        to,
                        ops_before,
                    };
                    ops_before += (from + to) / 2.0 * duration;
                    kind
                }
            };
            spans.push(Span {
                start,
                duration,
                warmup: stage.warmup,
                kind,
                operations: stage.operations,
            });
            start += duration;
        }
        Timeline {
            spans,
            total: start,
            warmup: plan.warmup.as_secs_f64(),
        }
    }

    /// The stage active at `t` seconds, with the fraction of it elapsed.
    pub fn stage_at(&self, t: f64) -> Option<(usize, f64)> {
        if t < 0.0 || t >= self.total {
            return None;
        }
        let i = self.spans.partition_point(|s| s.start + s.duration <= t);
        let s = self.spans.get(i)?;
        Some((i, ((t - s.start) / s.duration).clamp(0.0, 1.0)))
    }

    /// What to do at `t`.
    pub fn phase(&self, t: f64) -> Phase {
        match self.stage_at(t) {
            None => Phase::Done,
            Some((i, frac)) => match self.spans[i].kind {
                SpanKind::Closed { from, to } => Phase::Closed {
                    stage: i,
                    workers: (from + (to - from) * frac).round().max(0.0) as u32,
                },
                SpanKind::Open { .. } => Phase::Open { stage: i },
            },
        }
    }

    /// The planned load at `t` in the stage's own unit (workers, or ops/s), for charts.
    pub fn planned_at(&self, t: f64) -> f64 {
        match self.stage_at(t) {
            None => 0.0,
            Some((i, frac)) => match self.spans[i].kind {
                SpanKind::Closed { from, to } | SpanKind::Open { from, to, .. } => {
                    from + (to - from) * frac
                }
            },
        }
    }

    /// Open-model operations due by `t` (fractional).
    pub fn ops_due(&self, t: f64) -> f64 {
        let mut due = 0.0;
        for s in &self.spans {
            if let SpanKind::Open { ops_before, .. } = s.kind {
                if t >= s.start {
                    due = ops_before + s.ops_within(t - s.start);
                }
            }
        }
        due
    }

    /// When open-model operation `n` is due, in seconds since the start; `None` when the plan
    /// schedules fewer than `n + 1` open operations.
    pub fn op_time(&self, n: u64) -> Option<f64> {
        let n = n as f64;
        for s in &self.spans {
            let SpanKind::Open {
                from,
                to,
                ops_before,
            } = s.kind
            else {
                continue;
            };
            let m = n - ops_before;
            let total = (from + to) / 2.0 * s.duration;
            if m < 0.0 || m >= total {
                continue;
            }
            // Solve from·t + k·t² = m with k = (to - from) / (2T), in the form that stays stable
            // when k is zero or negative.
            let k = (to - from) / (2.0 * s.duration);
            let disc = (from * from + 4.0 * k * m).max(0.0);
            let denom = from + disc.sqrt();
            let t = if denom > 0.0 { 2.0 * m / denom } else { 0.0 };
            return Some(s.start + t.clamp(0.0, s.duration));
        }
        None
    }

    /// Whether time `t` belongs to the steady state (after warm-up, not in a warm-up stage).
    pub fn is_steady(&self, t: f64) -> bool {
        t >= self.warmup && self.stage_at(t).is_some_and(|(i, _)| !self.spans[i].warmup)
    }

    /// When stage `i` starts counting towards the steady state, or `None` for a warm-up stage.
    ///
    /// Workers hand in slices per (interval, stage), so a stage boundary is exact; a warm-up
    /// given as a duration that ends inside a stage can only be cut at an interval boundary, so
    /// the steady state then starts at the first boundary after it. Operations and seconds are
    /// both counted from here: one definition for the collector and the summary.
    pub fn steady_from(&self, i: usize, interval: f64) -> Option<f64> {
        let s = self.spans.get(i)?;
        if s.warmup {
            None
        } else if s.start + 1e-9 >= self.warmup {
            Some(s.start)
        } else {
            Some(((self.warmup / interval - 1e-9).ceil() * interval).max(s.start))
        }
    }

    /// Whether a worker slice (interval `index`, stage `stage`) belongs to the steady state.
    pub fn slice_is_steady(&self, index: u64, stage: usize, interval: f64) -> bool {
        match self.steady_from(stage, interval) {
            None => false,
            Some(from) => {
                from <= self.spans[stage].start + 1e-9 || index as f64 * interval + 1e-9 >= from
            }
        }
    }

    /// Steady-state seconds that ran up to `end_s` (the summary's time base).
    pub fn steady_seconds(&self, end_s: f64, interval: f64) -> f64 {
        (0..self.spans.len())
            .filter_map(|i| {
                let from = self.steady_from(i, interval)?;
                let s = &self.spans[i];
                Some(((s.start + s.duration).min(end_s) - from).max(0.0))
            })
            .sum()
    }

    /// Open-model operations the plan offers in the steady state up to `end_s` (the dispatch
    /// summary's "offered"); 0 when no open stage is steady.
    pub fn steady_offered_ops(&self, end_s: f64, interval: f64) -> f64 {
        (0..self.spans.len())
            .filter(|&i| matches!(self.spans[i].kind, SpanKind::Open { .. }))
            .filter_map(|i| {
                let from = self.steady_from(i, interval)?;
                let s = &self.spans[i];
                let to = (s.start + s.duration).min(end_s);
                (to > from).then(|| self.ops_due(to) - self.ops_due(from))
            })
            .sum()
    }

    /// The largest number of workers any closed stage asks for.
    pub fn max_closed_workers(&self) -> u32 {
        self.spans
            .iter()
            .map(|s| match s.kind {
                SpanKind::Closed { from, to } => from.max(to).round() as u32,
                SpanKind::Open { .. } => 0,
            })
            .max()
            .unwrap_or(0)
    }

    pub fn has_open(&self) -> bool {
        self.spans
            .iter()
            .any(|s| matches!(s.kind, SpanKind::Open { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(start: f64, duration: f64, from: f64, to: f64, ops_before: f64) -> Span {
        Span {
            start,
            duration,
            warmup: false,
            operations: None,
            kind: SpanKind::Open {
                from,
                to,
                ops_before,
            },
        }
    }

    #[test]
    fn constant_rate_schedule_is_evenly_spaced() {
        let tl = Timeline {
            spans: vec![open(0.0, 10.0, 100.0, 100.0, 0.0)],
            total: 10.0,
            warmup: 0.0,
        };
        assert_eq!(tl.op_time(0), Some(0.0));
        assert!((tl.op_time(50).unwrap() - 0.5).abs() < 1e-9);
        assert!((tl.op_time(999).unwrap() - 9.99).abs() < 1e-9);
        assert_eq!(tl.op_time(1000), None);
        assert!((tl.ops_due(2.5) - 250.0).abs() < 1e-9);
    }

    #[test]
    fn linear_ramp_schedule_inverts_the_integral() {
        // 0 -> 200 ops/s over 10 s: 1000 ops in all, t(n) = sqrt(n / 10).
        let tl = Timeline {
            spans: vec![open(0.0, 10.0, 0.0, 200.0, 0.0)],
            total: 10.0,
            warmup: 0.0,
        };
        for n in [1u64, 10, 250, 640, 999] {
            let t = tl.op_time(n).unwrap();
            assert!((t - (n as f64 / 10.0).sqrt()).abs() < 1e-9, "n={n} t={t}");
            assert!((tl.ops_due(t) - n as f64).abs() < 1e-6);
        }
        // A falling ramp (k < 0) inverts too.
        let down = Timeline {
            spans: vec![open(0.0, 10.0, 200.0, 0.0, 0.0)],
            total: 10.0,
            warmup: 0.0,
        };
        for n in [0u64, 500, 999] {
            let t = down.op_time(n).unwrap();
            assert!((down.ops_due(t) - n as f64).abs() < 1e-6, "n={n}");
        }
    }

    #[test]
    fn closed_ramp_rounds_workers_and_stages_chain() {
        let tl = Timeline {
            spans: vec![
                Span {
                    start: 0.0,
                    duration: 10.0,
                    warmup: true,
                    operations: None,
                    kind: SpanKind::Closed {
                        from: 1.0,
                        to: 11.0,
                    },
                },
                open(10.0, 5.0, 10.0, 10.0, 0.0),
            ],
            total: 15.0,
            warmup: 10.0,
        };
        assert_eq!(
            tl.phase(0.0),
            Phase::Closed {
                stage: 0,
                workers: 1
            }
        );
        assert_eq!(
            tl.phase(5.0),
            Phase::Closed {
                stage: 0,
                workers: 6
            }
        );
        assert_eq!(tl.phase(12.0), Phase::Open { stage: 1 });
        assert_eq!(tl.phase(15.0), Phase::Done);
        assert!(!tl.is_steady(9.9));
        assert!(tl.is_steady(10.0));
        assert!((tl.op_time(0).unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(tl.max_closed_workers(), 11);
    }

    #[test]
    fn a_warmup_ending_mid_interval_counts_operations_and_seconds_alike() {
        // One 10 s stage, warm-up 2.5 s given as a duration, 1 s intervals: the steady state
        // starts at 3 s for both the operations (slices) and the seconds.
        let tl = Timeline {
            spans: vec![open(0.0, 10.0, 100.0, 100.0, 0.0)],
            total: 10.0,
            warmup: 2.5,
        };
        assert_eq!(tl.steady_from(0, 1.0), Some(3.0));
        assert!(!tl.slice_is_steady(2, 0, 1.0));
        assert!(tl.slice_is_steady(3, 0, 1.0));
        assert!((tl.steady_seconds(10.0, 1.0) - 7.0).abs() < 1e-9);
        // A warm-up stage ending mid-interval: the next stage counts whole, from its start.
        let tl = Timeline {
            spans: vec![
                Span {
                    warmup: true,
                    operations: None,
                    ..open(0.0, 2.5, 100.0, 100.0, 0.0)
                },
                open(2.5, 7.5, 100.0, 100.0, 250.0),
            ],
            total: 10.0,
            warmup: 2.5,
        };
        assert!(
            tl.slice_is_steady(2, 1, 1.0),
            "stage 1's part of interval 2 counts"
        );
        assert!(!tl.slice_is_steady(2, 0, 1.0));
        assert!((tl.steady_seconds(10.0, 1.0) - 7.5).abs() < 1e-9);
    }
}
