//! `junit.xml`: a run's verdict as JUnit test cases.
//!
//! One `<testsuite>` per run and one `<testcase>` per criterion: a failed criterion carries a
//! `<failure>` with target and measured value, a criterion that could not be measured is
//! `<skipped>`. The audit, when present, is one more testcase. The run itself is always a
//! testcase "run", so a suite is never empty (CI reads an empty suite as green): passed, a
//! `<failure>` with the reasons when it failed (e.g. no operation succeeded), an `<error>` when
//! it was aborted or invalid, `<skipped>` when it was not judged.
//!
//! A capacity search's answer is properties too: the search's probes were judged on the SLO,
//! and the run case already carries the verdict built on them.
//!
//! Request templates are properties, not test cases: nothing judges a template on its own, and
//! a case that always passes would only inflate the count CI shows.

use results::{CriterionResult, CriterionStatus, Quantile, RunResult, Status};

use super::{Case, Outcome, Problem, Suite};
use crate::{doc, Context, Output, Renderer, ReportError};

pub(crate) struct Junit;

impl Renderer for Junit {
    fn render(&self, ctx: &Context<'_>) -> Result<Vec<Output>, ReportError> {
        Ok(vec![Output {
            path: "junit.xml".into(),
            bytes: super::write("harness", &[suite(ctx.result)]).into_bytes(),
        }])
    }
}

fn suite(r: &RunResult) -> Suite {
    let name = &r.scenario.name;
    let mut cases: Vec<Case> = r.criteria.iter().map(|c| criterion(name, c)).collect();
    cases.extend(audit(r));
    cases.push(run_case(r));
    Suite {
        name: name.clone(),
        time_s: run_seconds(r),
        timestamp: Some(r.environment.started_at.trim_end_matches('Z').to_string()),
        hostname: r.environment.hostname.clone(),
        properties: properties(r),
        cases,
        system_out: (!r.verdict.reasons.is_empty()).then(|| {
            format!(
                "{}: {}",
                doc::status_label(r.verdict.status),
                r.verdict.reasons.join("; ")
            )
        }),
    }
}

fn criterion(suite: &str, c: &CriterionResult) -> Case {
    let mut case = Case::new(format!("{suite}.criteria"), &c.name);
    match c.status {
        CriterionStatus::Pass => {
            case.system_out = Some(format!(
                "{}: target {}, measured {}{}",
                c.label,
                c.target,
                c.measured,
                doc::significance(c)
            ));
        }
        CriterionStatus::Fail => {
            case.outcome = Outcome::Failed(Problem {
                message: format!(
                    "{}: measured {}, target {}{}",
                    c.label,
                    c.measured,
                    c.target,
                    doc::significance(c)
                ),
                kind: c.name.clone(),
                detail: format!(
                    "{}\ntarget:   {}\nmeasured: {}",
                    c.label, c.target, c.measured
                ),
            });
        }
        CriterionStatus::NotMeasured => {
            case.outcome = Outcome::Skipped {
                message: format!(
                    "{}: not measured in this run (target {})",
                    c.label, c.target
                ),
            };
        }
    }
    case
}

fn audit(r: &RunResult) -> Option<Case> {
    let a = r.audit.as_ref()?;
    let mut case = Case::new(&r.scenario.name, "audit");
    if a.ok {
        case.system_out = Some(format!(
            "supply conserved, {} committed transfers = nonce advances, ledger consistent at height {}",
            a.committed_transfers, a.ledger_height
        ));
    } else {
        case.outcome = Outcome::Failed(Problem {
            message: "engine audit failed".into(),
            kind: "audit".into(),
            detail: if a.problems.is_empty() {
                "engine invariants violated".to_string()
            } else {
                a.problems.join("\n")
            },
        });
    }
    Some(case)
}

/// The "run" case: the verdict itself.
fn run_case(r: &RunResult) -> Case {
    let status = r.verdict.status;
    let reasons = &r.verdict.reasons;
    let problem = || Problem {
        message: format!("{}: {}", doc::status_label(status), reasons.join("; ")),
        kind: status.as_str().to_string(),
        detail: reasons.join("\n"),
    };
    let outcome = match status {
        Status::Pass => Outcome::Passed,
        Status::Fail => Outcome::Failed(problem()),
        Status::Aborted | Status::Invalid => Outcome::Error(problem()),
        Status::NotJudged => Outcome::Skipped {
            message: reasons
                .first()
                .cloned()
                .unwrap_or_else(|| "no criteria: not judged".to_string()),
        },
    };
    Case {
        time_s: Some(run_seconds(r)),
        outcome,
        system_out: (status == Status::Pass).then(|| doc::steady_sentence(r)),
        ..Case::new(&r.scenario.name, "run")
    }
}

fn properties(r: &RunResult) -> Vec<(String, String)> {
    let mut props = vec![
        ("verdict", r.verdict.status.as_str().to_string()),
        ("scenario_file", r.scenario.file.clone()),
        ("scenario_sha256", r.scenario.sha256.clone()),
        ("target", r.scenario.target.clone()),
        ("driver", r.driver.name.clone()),
        ("committed_tps", format!("{:.1}", r.summary.committed_tps)),
        ("p99_us", format!("{:.3}", r.summary.latency_us.p99)),
        ("error_rate", format!("{}", r.summary.error_rate)),
    ];
    if let Some(b) = r.summary.latency_us.interval(Quantile::P99) {
        // The p99's 95 % sampling interval, for dashboards that plot the figure with its spread.
        props.push(("p99_ci95_lo_us", format!("{:.3}", b.lo)));
        props.push(("p99_ci95_hi_us", format!("{:.3}", b.hi)));
    }
    if let Some(c) = &r.environment.git_commit {
        props.push(("git_commit", c.clone()));
    }
    if let Some(w) = doc::noise_warning(r) {
        props.push(("noise_warning", w));
    }
    let mut props: Vec<(String, String)> =
        props.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    props.extend(r.templates.iter().flat_map(template_properties));
    props.extend(capacity_properties(r));
    props
}

/// A capacity search's answer, for dashboards that track capacity across builds:
/// `capacity` (absent when none was confirmed), the bracket's `capacity_good` and
/// `capacity_bad` ends (absent when the search found none), `capacity_unit`,
/// `capacity_above_max`, `capacity_probes` and `capacity_ended`.
fn capacity_properties(r: &RunResult) -> Vec<(String, String)> {
    let Some((c, s)) = doc::capacity_search(r) else {
        return Vec::new();
    };
    let rate = |v: f64| format!("{v:.1}");
    let mut props = Vec::new();
    if let Some(v) = s.capacity {
        props.push(("capacity", rate(v)));
    }
    if let Some(v) = c.max_rate_met {
        props.push(("capacity_good", rate(v)));
    }
    if let Some(v) = c.first_rate_broken {
        props.push(("capacity_bad", rate(v)));
    }
    props.extend([
        ("capacity_unit", c.unit.clone()),
        ("capacity_above_max", s.above_max.to_string()),
        ("capacity_probes", s.probes.len().to_string()),
        ("capacity_ended", s.ended.as_str().to_string()),
    ]);
    props.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// `template.<name>.ops`, `.errors` and `.p99_us` (`setup.<name>.…` for a setup template).
fn template_properties(t: &results::TemplateFigures) -> [(String, String); 3] {
    let key = |what: &str| {
        let group = if t.setup { "setup" } else { "template" };
        format!("{group}.{}.{what}", t.name)
    };
    [
        (key("ops"), t.ops.to_string()),
        (key("errors"), t.errors.to_string()),
        (key("p99_us"), format!("{:.3}", t.latency_us.p99)),
    ]
}

/// Whole-run duration: the end of the last stage or interval.
fn run_seconds(r: &RunResult) -> f64 {
    r.stages
        .iter()
        .map(|s| s.end_s)
        .chain(r.intervals.iter().map(|i| i.t_s))
        .fold(0.0, f64::max)
}
