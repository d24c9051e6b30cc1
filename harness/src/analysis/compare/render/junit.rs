//! JUnit XML: one testcase per metric, so CI lists a regression as a failed test.

use super::super::{Comparison, MetricVerdict, RULE};
use super::cells::{describe, RowText};
use report::escape::xml as xml_esc;
use std::fmt::Write as _;

/// JUnit XML: one testcase per metric, a `<failure>` for a regression, `<skipped>` for a
/// metric one side did not measure.
pub fn render_junit(c: &Comparison) -> String {
    let suite = format!("compare.{}", c.scenario);
    let failures = c.regressions().count();
    let skipped = c
        .rows
        .iter()
        .filter(|r| r.verdict() == MetricVerdict::NotMeasured)
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"harness compare\" tests=\"{n}\" failures=\"{failures}\">\n  <testsuite name=\"{s}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
        n = c.rows.len(),
        s = xml_esc(&suite)
    );
    let _ = writeln!(out, "    <properties>");
    for (k, v) in [
        ("base", describe(&c.base)),
        ("new", describe(&c.new)),
        ("rule", RULE.to_string()),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{k}\" value=\"{}\"/>",
            xml_esc(&v)
        );
    }
    let _ = writeln!(out, "    </properties>");
    for r in &c.rows {
        let t = RowText::of(r);
        let (label, change, tol) = (&t.label, &t.change, &t.tolerance);
        let detail = t.sentence();
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">",
            xml_esc(&suite),
            xml_esc(&r.key)
        );
        match r.verdict() {
            MetricVerdict::Regressed => {
                let _ = write!(
                    out,
                    "\n      <failure type=\"regression\" message=\"{}\">{}\n{}</failure>\n    ",
                    xml_esc(&format!("{label} regressed: {change} (tolerance {tol})")),
                    xml_esc(&detail),
                    xml_esc(RULE)
                );
            }
            MetricVerdict::NotMeasured => {
                let _ = write!(
                    out,
                    "\n      <skipped message=\"{}\"/>\n    ",
                    xml_esc(&format!("{label}: not measured on one side"))
                );
            }
            MetricVerdict::Improved | MetricVerdict::Unchanged | MetricVerdict::Info => {
                let _ = write!(
                    out,
                    "\n      <system-out>{}</system-out>\n    ",
                    xml_esc(&detail)
                );
            }
        }
        let _ = writeln!(out, "</testcase>");
    }
    let _ = writeln!(out, "  </testsuite>\n</testsuites>");
    out
}
