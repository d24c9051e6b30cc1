//! The verdict of a run: one function, called by `harness run` and `harness merge` alike, so
//! the two can never disagree on what passed.
//!
//! It reads only the assembled [`RunResult`] (its steady-state summary, intervals, resources,
//! audit and planned stages) plus the facts the result cannot hold (how the run ended, which
//! segments are missing), evaluates the scenario's criteria on those figures, and sets
//! `criteria` and `verdict`. Order of severity: aborted > invalid > fail > pass. A run in which
//! no operation completed in the steady state never passes.

use crate::analysis::criteria::{self, Measured};
use results::{IntervalRecord, RunResult, Status, Verdict};
use scenario::Criteria;
use std::time::Duration;

/// What decides a verdict besides the figures.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The interval length the run was cut into, seconds.
    pub interval_s: f64,
    /// Why the figures cannot be trusted, besides a failed engine audit (which the result
    /// holds): e.g. segments missing from a merge.
    pub invalid: Vec<String>,
    /// Why the run ended early, when it did (Ctrl-C, a segment interrupted).
    pub aborted: Option<String>,
}

/// Evaluates `criteria` on `r`'s figures and sets `r.criteria` and `r.verdict`.
pub fn judge(r: &mut RunResult, criteria: &Criteria, facts: &Facts) {
    r.criteria = criteria::evaluate(criteria, &measured(r, facts.interval_s));
    let mut invalid = facts.invalid.clone();
    if let Some(a) = r.audit.as_ref().filter(|a| !a.ok) {
        invalid
            .push("engine audit failed: no throughput verdict is given for this run".to_string());
        invalid.extend(a.problems.iter().map(|p| format!("audit: {p}")));
    }
    invalid.extend(crate::analysis::dispatch::late_generator(r));
    let mut reasons = Vec::new();
    let status = if let Some(why) = &facts.aborted {
        reasons.push(why.clone());
        reasons.extend(invalid);
        Status::Aborted
    } else if !invalid.is_empty() {
        reasons = invalid;
        Status::Invalid
    } else {
        criteria::pass_or_fail(&r.criteria, r.summary.ops > 0, &mut reasons)
    };
    r.verdict = Verdict { status, reasons };
}

/// The figures the criteria are evaluated on, all from the result.
pub fn measured(r: &RunResult, interval_s: f64) -> Measured {
    let s = &r.summary;
    let has_ops = s.ops > 0;
    let some = |v: f64| has_ops.then_some(v);
    Measured {
        committed_tps: some(s.committed_tps),
        min_interval_tps: steady_interval_floor(r, interval_s),
        p50_us: some(s.latency_us.p50),
        p90_us: some(s.latency_us.p90),
        p99_us: some(s.latency_us.p99),
        p999_us: some(s.latency_us.p999),
        error_rate: some(s.error_rate),
        rss_peak: r.resources.target.rss_peak,
        rss_growth: r.resources.rss_growth_bytes,
        cpu_avg_pct: r.resources.target.cpu_avg_pct,
        startup: r.resources.startup_s.map(Duration::from_secs_f64),
    }
}

/// The lowest committed tx/s of any whole steady-state interval (`None` when there is none).
pub fn steady_interval_floor(r: &RunResult, interval_s: f64) -> Option<f64> {
    r.intervals
        .iter()
        .filter(|rec| is_steady_interval(r, rec, interval_s))
        .map(|rec| rec.committed_tps)
        .reduce(f64::min)
}

/// A whole interval (at least 90 % of the nominal length) whose middle lies after the warm-up
/// and inside a stage not marked warm-up.
fn is_steady_interval(r: &RunResult, rec: &IntervalRecord, interval_s: f64) -> bool {
    let mid = rec.t_s - rec.dur_s / 2.0;
    rec.dur_s >= interval_s * 0.9 && mid >= warmup_s(r) && !in_warmup_stage(r, mid)
}

/// Seconds excluded from the verdict: as recorded, or (results written before it was) the
/// planned length minus the steady seconds of a run that ran to its end.
pub fn warmup_s(r: &RunResult) -> f64 {
    r.scenario.warmup_s.unwrap_or_else(|| {
        if r.verdict.status == Status::Aborted {
            return 0.0;
        }
        let planned: f64 = r.scenario.stages_planned.iter().map(|s| s.duration_s).sum();
        (planned - r.summary.duration_s).max(0.0)
    })
}

fn in_warmup_stage(r: &RunResult, t: f64) -> bool {
    let mut start = 0.0;
    for s in &r.scenario.stages_planned {
        if t < start + s.duration_s {
            return s.warmup;
        }
        start += s.duration_s;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn criteria(min_tps: f64) -> Criteria {
        Criteria {
            min_tps: Some(min_tps),
            ..Criteria::default()
        }
    }

    #[test]
    fn aborted_outranks_invalid_and_invalid_outranks_fail() {
        let mut r = results::fixture::sample();
        let tps = r.summary.committed_tps;
        let facts = Facts {
            interval_s: 1.0,
            invalid: vec!["segments [1] of 2 are missing".into()],
            aborted: Some("interrupted".into()),
        };
        judge(&mut r, &criteria(tps * 2.0), &facts);
        assert_eq!(r.verdict.status, Status::Aborted);
        judge(
            &mut r,
            &criteria(tps * 2.0),
            &Facts {
                aborted: None,
                ..facts.clone()
            },
        );
        assert_eq!(r.verdict.status, Status::Invalid);
        judge(
            &mut r,
            &criteria(tps * 2.0),
            &Facts {
                invalid: vec![],
                ..facts.clone()
            },
        );
        assert_eq!(r.verdict.status, Status::Aborted);
        judge(
            &mut r,
            &criteria(tps * 2.0),
            &Facts {
                interval_s: 1.0,
                ..Facts::default()
            },
        );
        assert_eq!(r.verdict.status, Status::Fail);
        judge(
            &mut r,
            &criteria(tps / 2.0),
            &Facts {
                interval_s: 1.0,
                ..Facts::default()
            },
        );
        assert_eq!(r.verdict.status, Status::Pass, "{:?}", r.verdict);
    }

    #[test]
    fn nothing_completed_never_passes() {
        let mut r = results::fixture::sample();
        r.summary.ops = 0;
        judge(
            &mut r,
            &Criteria::default(),
            &Facts {
                interval_s: 1.0,
                ..Facts::default()
            },
        );
        assert_eq!(r.verdict.status, Status::Fail);
        assert!(r.verdict.reasons.iter().any(|x| x.contains("no operation")));
    }
}
