//! JUnit XML through `report::junit`: one suite per comparison, one testcase per metric (and
//! one for capacity when a side is a capacity search), so CI lists a regression as a failed
//! test (with its rule), a metric one side did not measure or capacities that cannot be
//! compared as skipped (saying why), and every other row as passed with its figures.

use super::cells::{capacity_note, describe, notes, RowText};
use crate::analysis::compare::{Comparison, MetricVerdict, CAPACITY_RULE, RULE};
use report::junit::{self, Case, Outcome, Problem, Suite};

/// JUnit XML: a `<failure>` for a regression, `<skipped>` for a row that was not judged, the
/// row's figures as `<system-out>` otherwise.
pub fn render_junit(c: &Comparison) -> String {
    let name = format!("compare.{}", c.scenario);
    let mut suite = Suite::new(&name);
    suite.properties = vec![
        ("base".to_string(), describe(&c.base)),
        ("new".to_string(), describe(&c.new)),
        ("rule".to_string(), RULE.to_string()),
    ];
    suite.cases = c
        .rows
        .iter()
        .map(|r| {
            let t = RowText::of(r);
            let skipped = format!("{}: not measured on one side", t.label);
            case(&name, &r.key, &t, r.verdict(), RULE, skipped)
        })
        .collect();
    if let Some(cap) = &c.capacity {
        suite
            .properties
            .push(("capacity_rule".to_string(), CAPACITY_RULE.to_string()));
        let skipped = capacity_note(cap).unwrap_or_default();
        let t = RowText::capacity(cap);
        suite.cases.push(case(
            &name,
            "capacity",
            &t,
            cap.verdict(),
            CAPACITY_RULE,
            skipped,
        ));
    }
    let notes = notes(c);
    suite.system_out = (!notes.is_empty()).then(|| notes.join("\n"));
    junit::write("harness compare", &[suite])
}

/// One row's testcase: its verdict and the rule that gave it, and what it says if skipped
/// (not measured, or not comparable).
fn case(
    classname: &str,
    key: &str,
    t: &RowText,
    verdict: MetricVerdict,
    rule: &str,
    skipped: String,
) -> Case {
    let mut case = Case::new(classname, key);
    match verdict {
        MetricVerdict::Regressed => {
            case.outcome = Outcome::Failed(Problem {
                message: format!(
                    "{} regressed: {} (tolerance {})",
                    t.label, t.change, t.tolerance
                ),
                kind: "regression".to_string(),
                detail: format!("{}\n{rule}", t.sentence()),
            });
        }
        MetricVerdict::NotMeasured => {
            case.outcome = Outcome::Skipped { message: skipped };
        }
        MetricVerdict::Improved | MetricVerdict::Unchanged | MetricVerdict::Info => {
            case.system_out = Some(t.sentence());
        }
    }
    case
}
