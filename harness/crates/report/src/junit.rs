//! `junit.xml`: the verdict in the format every CI system already shows.
//!
//! One `<testsuite>` per run and one `<testcase>` per criterion: a failed criterion carries a
//! `<failure>` with target and measured value, a criterion that could not be measured is
//! `<skipped>`. The audit, when present, is one more testcase. An aborted or invalid run adds a
//! testcase "run" with an `<error>`, so that a run whose criteria were all skipped still shows
//! red in CI.

use std::fmt::Write as _;

use results::{CriterionStatus, Status};

use crate::escape::xml as xml_esc;
use crate::{doc, Context, Output, Renderer, ReportError};

pub struct Junit;

impl Renderer for Junit {
    fn render(&self, ctx: &Context<'_>) -> Result<Vec<Output>, ReportError> {
        Ok(vec![Output {
            path: "junit.xml".into(),
            bytes: junit(ctx).into_bytes(),
        }])
    }
}

fn junit(ctx: &Context<'_>) -> String {
    let r = ctx.result;
    let suite = &r.scenario.name;
    let mut cases = String::new();
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    for c in &r.criteria {
        tests += 1;
        let _ = write!(
            cases,
            "    <testcase classname=\"{}.criteria\" name=\"{}\" time=\"0\">",
            xml_esc(suite),
            xml_esc(&c.name)
        );
        match c.status {
            CriterionStatus::Pass => {
                let _ = write!(
                    cases,
                    "\n      <system-out>{}: target {}, measured {}</system-out>\n    ",
                    xml_esc(&c.label),
                    xml_esc(&c.target),
                    xml_esc(&c.measured)
                );
            }
            CriterionStatus::Fail => {
                failures += 1;
                let _ = write!(
                    cases,
                    "\n      <failure message=\"{label}: measured {m}, target {t}\" type=\"{name}\">{label}\ntarget:   {t}\nmeasured: {m}</failure>\n    ",
                    label = xml_esc(&c.label),
                    m = xml_esc(&c.measured),
                    t = xml_esc(&c.target),
                    name = xml_esc(&c.name)
                );
            }
            CriterionStatus::NotMeasured => {
                skipped += 1;
                let _ = write!(
                    cases,
                    "\n      <skipped message=\"{}: not measured in this run (target {})\"/>\n    ",
                    xml_esc(&c.label),
                    xml_esc(&c.target)
                );
            }
        }
        cases.push_str("</testcase>\n");
    }
    if let Some(a) = &r.audit {
        tests += 1;
        let _ = write!(
            cases,
            "    <testcase classname=\"{}\" name=\"audit\" time=\"0\">",
            xml_esc(suite)
        );
        if a.ok {
            let _ = write!(
                cases,
                "\n      <system-out>supply conserved, {} committed transfers = nonce advances, ledger consistent at height {}</system-out>\n    ",
                a.committed_transfers, a.ledger_height
            );
        } else {
            failures += 1;
            let detail = if a.problems.is_empty() {
                "engine invariants violated".to_string()
            } else {
                a.problems.join("\n")
            };
            let _ = write!(
                cases,
                "\n      <failure message=\"engine audit failed\" type=\"audit\">{}</failure>\n    ",
                xml_esc(&detail)
            );
        }
        cases.push_str("</testcase>\n");
    }
    if matches!(r.verdict.status, Status::Aborted | Status::Invalid) {
        tests += 1;
        errors += 1;
        let _ = writeln!(
            cases,
            "    <testcase classname=\"{}\" name=\"run\" time=\"{:.3}\">\n      <error message=\"run {}\" type=\"{}\">{}</error>\n    </testcase>",
            xml_esc(suite),
            run_seconds(ctx),
            doc::status_label(r.verdict.status).to_lowercase(),
            r.verdict.status.as_str(),
            xml_esc(&r.verdict.reasons.join("\n"))
        );
    }
    let time = run_seconds(ctx);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"harness\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time:.3}\">"
    );
    let _ = write!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time:.3}\" timestamp=\"{}\"",
        xml_esc(suite),
        xml_esc(r.environment.started_at.trim_end_matches('Z'))
    );
    if let Some(h) = &r.environment.hostname {
        let _ = write!(out, " hostname=\"{}\"", xml_esc(h));
    }
    out.push_str(">\n    <properties>\n");
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
    if let Some(c) = &r.environment.git_commit {
        props.push(("git_commit", c.clone()));
    }
    for (k, v) in props {
        let _ = writeln!(
            out,
            "      <property name=\"{k}\" value=\"{}\"/>",
            xml_esc(&v)
        );
    }
    out.push_str("    </properties>\n");
    out.push_str(&cases);
    if !r.verdict.reasons.is_empty() {
        let _ = writeln!(
            out,
            "    <system-out>{}: {}</system-out>",
            doc::status_label(r.verdict.status),
            xml_esc(&r.verdict.reasons.join("; "))
        );
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Whole-run duration: the end of the last stage or interval.
fn run_seconds(ctx: &Context<'_>) -> f64 {
    let r = ctx.result;
    r.stages
        .iter()
        .map(|s| s.end_s)
        .chain(r.intervals.iter().map(|i| i.t_s))
        .fold(0.0, f64::max)
}
