//! JUnit XML through `report::junit`: one suite per comparison, one testcase per metric, so CI
//! lists a regression as a failed test (with the rule), a metric one side did not measure as
//! skipped, and every other metric as passed with its figures.

use super::cells::{describe, RowText};
use crate::analysis::compare::{Comparison, MetricRow, MetricVerdict, RULE};
use report::junit::{self, Case, Outcome, Problem, Suite};

/// JUnit XML: a `<failure>` for a regression, `<skipped>` for a metric one side did not
/// measure, the row's figures as `<system-out>` otherwise.
pub fn render_junit(c: &Comparison) -> String {
    let name = format!("compare.{}", c.scenario);
    let mut suite = Suite::new(&name);
    suite.properties = vec![
        ("base".to_string(), describe(&c.base)),
        ("new".to_string(), describe(&c.new)),
        ("rule".to_string(), RULE.to_string()),
    ];
    suite.cases = c.rows.iter().map(|r| case(&name, r)).collect();
    let notes: Vec<&str> = c
        .scenario_changed
        .iter()
        .chain(&c.drivers_differ)
        .map(String::as_str)
        .collect();
    suite.system_out = (!notes.is_empty()).then(|| notes.join("\n"));
    junit::write("harness compare", &[suite])
}

fn case(classname: &str, r: &MetricRow) -> Case {
    let t = RowText::of(r);
    let mut case = Case::new(classname, &r.key);
    match r.verdict() {
        MetricVerdict::Regressed => {
            case.outcome = Outcome::Failed(Problem {
                message: format!(
                    "{} regressed: {} (tolerance {})",
                    t.label, t.change, t.tolerance
                ),
                kind: "regression".to_string(),
                detail: format!("{}\n{RULE}", t.sentence()),
            });
        }
        MetricVerdict::NotMeasured => {
            case.outcome = Outcome::Skipped {
                message: format!("{}: not measured on one side", t.label),
            };
        }
        MetricVerdict::Improved | MetricVerdict::Unchanged | MetricVerdict::Info => {
            case.system_out = Some(t.sentence());
        }
    }
    case
}
