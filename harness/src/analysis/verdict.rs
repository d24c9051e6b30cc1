//! The verdict of a run: one function, called by `harness run` and `harness merge` alike, so
//! the two can never disagree on what passed.
//!
//! It reads only the assembled [`RunResult`] (its steady-state summary, intervals, resources,
//! audit and planned stages) plus the facts the result cannot hold (how the run ended, which
//! segments are missing), evaluates the scenario's criteria on those figures, and sets
//! `criteria` and `verdict`. Order of severity: aborted > invalid > fail > not judged > pass.
//! There is no empty pass: a run in which no operation succeeded in the steady state fails,
//! and one with no criterion that could be measured is "not judged", never "pass". A run whose
//! load generator fell behind its schedule is invalid, criteria or not.

use crate::analysis::criteria::{self, Allowance, Measured};
use report::fmt;
use results::{IntervalRecord, RunResult, Status, Summary, Verdict};
use scenario::Criteria;
use std::time::Duration;

/// What decides a verdict besides the figures. (A late load generator is read from the
/// result itself, `summary.dispatch`, by [`crate::analysis::dispatch`].)
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
    invalid.extend(unfinished_work(r));
    r.verdict = if let Some(why) = &facts.aborted {
        let mut reasons = vec![why.clone()];
        reasons.extend(invalid);
        Verdict {
            status: Status::Aborted,
            reasons,
        }
    } else if !invalid.is_empty() {
        Verdict {
            status: Status::Invalid,
            reasons: invalid,
        }
    } else {
        judged(r)
    };
}

/// A fixed-work stage that reached its time limit before its operations were done: its
/// figures are of less work than planned, so they cannot be set beside another run's.
fn unfinished_work(r: &RunResult) -> Vec<String> {
    let planned = &r.scenario.stages_planned;
    r.stages
        .iter()
        .filter_map(|s| {
            let p = planned.get(s.index)?;
            let n = p.operations.filter(|n| s.ops < *n)?;
            Some(format!(
                "stage {:?} was to do {} operations but did {} before its limit of {}: raise its duration or lower operations",
                s.name,
                fmt::count(n),
                fmt::count(s.ops),
                fmt::duration_s(p.duration_s),
            ))
        })
        .collect()
}

/// The verdict of a run that was neither aborted nor invalid: a capacity search's answer
/// (see `analysis::capacity`); else fail when a criterion failed or nothing succeeded, not
/// judged when no criterion could be measured, else pass.
fn judged(r: &RunResult) -> Verdict {
    if let Some(v) = crate::analysis::capacity::search_verdict(r) {
        return v;
    }
    let mut reasons = criteria::failures(&r.criteria);
    reasons.extend(nothing_succeeded(r));
    let status = if !reasons.is_empty() {
        Status::Fail
    } else if !criteria::any_judged(&r.criteria) {
        reasons.push(if r.criteria.is_empty() {
            "no criteria: not judged (the scenario sets none)".to_string()
        } else {
            "not judged: none of the scenario's criteria could be measured in this run".to_string()
        });
        Status::NotJudged
    } else {
        Status::Pass
    };
    Verdict { status, reasons }
}

/// Why no operation counts as a success, if none does: none completed in the steady state, or
/// every one that did failed (e.g. a server that was never reachable).
fn nothing_succeeded(r: &RunResult) -> Option<String> {
    let s = &r.summary;
    if s.ops == 0 {
        return Some("no operation completed in the steady state".to_string());
    }
    let failed = failed_ops(s);
    if failed < s.ops {
        return None;
    }
    // A batch applied in process is one operation; over HTTP an operation is a request.
    let noun = if r.scenario.target_kind == "in-process" {
        "operations"
    } else {
        "requests"
    };
    let kinds = s
        .errors_by_kind
        .iter()
        .filter(|(k, _)| !is_rejection(k))
        .map(|(k, n)| format!("{k} {}", fmt::count(*n)))
        .collect::<Vec<_>>()
        .join(", ");
    Some(format!(
        "no operation succeeded: {} of {} {noun} failed ({kinds})",
        fmt::count(failed),
        fmt::count(s.ops)
    ))
}

/// Operations that failed as a whole. Each counts exactly one error of a non-rejection kind
/// (connect, timeout, io, status, body); rejected transfers are counted per transfer inside
/// operations that succeeded, so they are not failed operations.
fn failed_ops(s: &Summary) -> u64 {
    let failed: u64 = s
        .errors_by_kind
        .iter()
        .filter(|(k, _)| !is_rejection(k))
        .map(|(_, n)| n)
        .sum();
    failed.min(s.ops)
}

fn is_rejection(kind: &str) -> bool {
    kind.starts_with("rejected:")
}

/// The figures the criteria are evaluated on, all from the result.
pub fn measured(r: &RunResult, interval_s: f64) -> Measured {
    let s = &r.summary;
    let has_ops = s.ops > 0;
    let some = |v: f64| has_ops.then_some(v);
    let floor = steady_interval_floor(r, interval_s);
    Measured {
        committed_tps: some(s.committed_tps),
        committed_allowance: allowance(r, s.duration_s),
        min_interval_tps: floor.map(|(tps, _)| tps),
        min_interval_allowance: floor.map(|(_, a)| a).unwrap_or_default(),
        latency: has_ops.then(|| s.latency_us.clone()),
        error_rate: some(s.error_rate),
        rss_peak: r.resources.target.rss_peak,
        rss_growth: r.resources.rss_growth_bytes,
        rss_slope: larger(
            r.resources.target.rss_slope_per_h,
            r.resources.harness.rss_slope_per_h,
        ),
        cpu_avg_pct: r.resources.target.cpu_avg_pct,
        startup: r.resources.startup_s.map(Duration::from_secs_f64),
    }
}

/// The larger of two figures either of which may be missing (also how merged segments'
/// resources take the worst of each).
pub fn larger(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// What a throughput counted over `seconds` may lack against the exact plan: one operation
/// per load generator, since each generator's window boundary cuts one fractional operation
/// (a merged run had one generator per segment present).
pub fn allowance(r: &RunResult, seconds: f64) -> Allowance {
    let generators = r
        .segment
        .as_ref()
        .and_then(|s| s.merged.as_ref())
        .map_or(1, |m| m.present.len().max(1));
    Allowance {
        ops: generators as u64,
        tx_per_op: tx_per_op(r),
        seconds,
    }
}

/// Transactions one operation carries: the driver's batch size (1 when it records none), but
/// never more than the operations carried on average, rounded up. The native HTTP driver
/// records the workload's batch size even when its requests carry one JSON transfer each;
/// without the cap such a run would be allowed a whole batch below its plan.
fn tx_per_op(r: &RunResult) -> f64 {
    let batch = r.driver.batch_size.unwrap_or(1) as f64;
    let s = &r.summary;
    let succeeded = s.ops - failed_ops(s);
    if succeeded == 0 {
        return batch;
    }
    batch.min((s.committed as f64 / succeeded as f64).ceil())
}

/// The whole steady-state interval whose committed tx/s falls furthest below the plan once
/// its allowance (one operation over its length) is added, with that allowance (`None` when
/// there is no such interval). Intervals alternate whole operations around a fractional plan
/// (8,510,464 and 8,509,440 tx/s for 8.51M tx/s in batches of 1,024); that is no shortfall.
pub fn steady_interval_floor(r: &RunResult, interval_s: f64) -> Option<(f64, Allowance)> {
    r.intervals
        .iter()
        .filter(|rec| is_steady_interval(r, rec, interval_s))
        .map(|rec| (rec.committed_tps, allowance(r, rec.dur_s)))
        .min_by(|a, b| (a.0 + a.1.per_s()).total_cmp(&(b.0 + b.1.per_s())))
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
    use results::CriterionStatus;

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

    fn facts() -> Facts {
        Facts {
            interval_s: 1.0,
            ..Facts::default()
        }
    }

    /// Transactions a run at `rate` tx/s in batches of `batch` really commits from `warmup_s`
    /// to `end_s`: whole operations, operation k due at k / (rate / batch) s, so the ones due
    /// in [warmup, end) are those with ceil(warmup·rate/batch) <= k < ceil(end·rate/batch).
    /// Integer arithmetic, so the simulation cannot round its way to a pass.
    fn committed_by_schedule(rate: u64, batch: u64, warmup_s: u64, end_s: u64) -> (u64, u64) {
        let first_due_at_or_after =
            |t: u64| (u128::from(t) * u128::from(rate)).div_ceil(u128::from(batch));
        let ops = (first_due_at_or_after(end_s) - first_due_at_or_after(warmup_s)) as u64;
        (ops, ops * batch)
    }

    /// The fixture, turned into a steady state of `ops` whole operations of `batch`
    /// transactions over `seconds`, nothing rejected.
    fn steady(ops: u64, batch: u64, seconds: f64) -> RunResult {
        let mut r = results::fixture::sample();
        r.driver.batch_size = Some(batch);
        let s = &mut r.summary;
        s.ops = ops;
        s.committed = ops * batch;
        s.duration_s = seconds;
        s.committed_tps = s.committed as f64 / seconds;
        s.errors = 0;
        s.errors_by_kind.clear();
        r
    }

    fn min_tps_status(r: &mut RunResult, rate: u64) -> results::CriterionStatus {
        judge(r, &criteria(rate as f64), &facts());
        r.criteria[0].status
    }

    /// sustained-30m at full length (8.51M tx/s in batches of 1,024, 30 s warm-up stage, six
    /// 5-minute stages) commits 8,509,999.79 tx/s: one batch short of the exact plan, which a
    /// whole-operation run cannot avoid. It passes; two batches short does not.
    #[test]
    fn throughput_is_judged_in_whole_operations() {
        let cases = [
            (8_510_000, 1024, 30, 1830), // scenarios/sustained-30m.toml
            (8_510_000, 1024, 10, 1810),
            (1_000_000, 1024, 10, 70), // scenarios/http-transactions.toml
            (1_000_000, 1000, 10, 70),
            (3_300_000, 7, 10, 70),
            (100_000, 1, 10, 310),
            (200_000, 1024, 2, 12),
        ];
        for (rate, batch, warmup, end) in cases {
            let (ops, committed) = committed_by_schedule(rate, batch, warmup, end);
            let seconds = (end - warmup) as f64;
            let planned = rate * (end - warmup);
            // Within one operation of the plan, either side: the window's edges cut fractions.
            assert!(committed.abs_diff(planned) < batch, "{rate} {batch}");
            let mut r = steady(ops, batch, seconds);
            let case = format!("{rate} tx/s, batch {batch}, {warmup}..{end} s");
            assert_eq!(
                min_tps_status(&mut r, rate),
                CriterionStatus::Pass,
                "{case}"
            );
            assert_eq!(r.verdict.status, Status::Pass, "{case}: {:?}", r.verdict);
            let mut short = steady(ops - 2, batch, seconds);
            assert_eq!(
                min_tps_status(&mut short, rate),
                CriterionStatus::Fail,
                "{case}"
            );
            assert_eq!(short.verdict.status, Status::Fail, "{case}");
        }
        let (ops, _) = committed_by_schedule(8_510_000, 1024, 30, 1830);
        let mut r = steady(ops, 1024, 1800.0);
        judge(&mut r, &criteria(8.51e6), &facts());
        let c = &r.criteria[0];
        assert_eq!(c.target, "≥ 8.51M tx/s", "the shown target is the plan's");
        assert_eq!(
            c.measured,
            "8.51M tx/s, within one operation (1,024 tx) of the plan"
        );
        assert!((c.measured_value.unwrap() - 8_509_999.786).abs() < 0.01);
    }

    /// Whole-second intervals at 8.51M tx/s in batches of 1,024 alternate 8,311 and 8,310
    /// batches: 8,509,440 tx is within one batch of the plan, 8,508,000 is not.
    #[test]
    fn the_interval_floor_allows_one_operation_per_interval() {
        let floor = |lowest: u64| {
            let mut r = steady(1_000, 1024, 15.0);
            let steady_idx: Vec<usize> = (0..r.intervals.len())
                .filter(|&i| is_steady_interval(&r, &r.intervals[i], 1.0))
                .collect();
            assert!(steady_idx.len() > 3);
            for (n, &i) in steady_idx.iter().enumerate() {
                let rec = &mut r.intervals[i];
                rec.dur_s = 1.0;
                rec.committed = if n == 2 {
                    lowest
                } else {
                    [8_510_464, 8_509_440][n % 2]
                };
                rec.committed_tps = rec.committed as f64;
            }
            let c = Criteria {
                min_interval_tps: Some(8.51e6),
                ..Criteria::default()
            };
            judge(&mut r, &c, &facts());
            (r.criteria[0].status, r.criteria[0].measured.clone())
        };
        let (status, measured) = floor(8_509_440);
        assert_eq!(status, CriterionStatus::Pass, "{measured}");
        assert!(
            measured.contains("within one operation (1,024 tx)"),
            "{measured}"
        );
        assert_eq!(floor(8_508_000).0, CriterionStatus::Fail);
    }

    /// A merged run had one generator per segment, each cutting its own fraction.
    #[test]
    fn a_merged_run_is_allowed_one_operation_per_segment() {
        let mut r = steady(1, 1024, 1.0);
        r.segment = results::fixture::http_goose().segment;
        let merged = results::MergedSegments {
            present: vec![0, 1, 2],
            missing: vec![],
            instances: vec![],
        };
        if let Some(s) = r.segment.as_mut() {
            s.merged = Some(merged);
        }
        let a = allowance(&r, 2.0);
        assert_eq!((a.ops, a.tx_per_op, a.per_s()), (3, 1024.0, 1536.0));
    }

    /// The native HTTP driver records the workload's batch size even when each request carries
    /// one JSON transfer: the allowance follows what operations carried.
    #[test]
    fn one_transfer_per_request_is_allowed_one_transfer() {
        let mut r = steady(10_000, 1, 10.0);
        r.driver.batch_size = Some(1024);
        assert_eq!(allowance(&r, 10.0).tx_per_op, 1.0);
        r.driver.batch_size = None;
        assert_eq!(allowance(&r, 10.0).tx_per_op, 1.0);
    }

    #[test]
    fn no_criteria_is_not_judged_never_pass() {
        let mut r = results::fixture::sample();
        judge(&mut r, &Criteria::default(), &facts());
        assert_eq!(r.verdict.status, Status::NotJudged);
        assert!(
            r.verdict.reasons[0].contains("not judged"),
            "{:?}",
            r.verdict
        );
        assert_eq!(crate::exit::Exit::of(r.verdict.status).code(), 0);
        // Criteria that could none of them be measured judge nothing either.
        let cpu = Criteria {
            max_cpu_pct: Some(60.0),
            ..Criteria::default()
        };
        r.resources.target.cpu_avg_pct = None;
        judge(&mut r, &cpu, &facts());
        assert_eq!(r.verdict.status, Status::NotJudged, "{:?}", r.verdict);
    }

    /// Every request failed (a server that never answered): fail, with the reason in words,
    /// with or without criteria.
    #[test]
    fn nothing_succeeded_fails_with_the_reason() {
        let mut r = results::fixture::sample();
        r.scenario.target_kind = "http".into();
        let s = &mut r.summary;
        s.ops = 11_718;
        s.committed = 0;
        s.committed_tps = 0.0;
        s.errors = 11_718;
        s.errors_by_kind = [("connect".to_string(), 11_700), ("io".to_string(), 18)].into();
        judge(&mut r, &Criteria::default(), &facts());
        assert_eq!(r.verdict.status, Status::Fail);
        assert_eq!(
            r.verdict.reasons,
            ["no operation succeeded: 11,718 of 11,718 requests failed (connect 11,700, io 18)"]
        );
        let lenient = Criteria {
            max_p99: Some(Duration::from_secs(60)),
            ..Criteria::default()
        };
        judge(&mut r, &lenient, &facts());
        assert_eq!(r.criteria[0].status, CriterionStatus::Pass);
        assert_eq!(r.verdict.status, Status::Fail, "{:?}", r.verdict);
        // One success is enough not to be "nothing succeeded".
        r.summary.errors_by_kind.insert("io".into(), 17);
        judge(&mut r, &Criteria::default(), &facts());
        assert_eq!(r.verdict.status, Status::NotJudged);
    }

    /// Rejected transfers are counted per transfer inside batches that were applied: they do
    /// not make the batch a failed operation.
    #[test]
    fn rejections_are_not_failed_operations() {
        let mut r = results::fixture::sample();
        r.summary.errors_by_kind = [("rejected:bad_nonce".to_string(), r.summary.ops * 10)].into();
        judge(&mut r, &Criteria::default(), &facts());
        assert_eq!(r.verdict.status, Status::NotJudged, "{:?}", r.verdict);
    }
}
