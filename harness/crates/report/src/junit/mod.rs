//! JUnit XML: the format every CI system already shows as tests passed, failed and skipped.
//!
//! A small writer of its own rather than a crate: the subset CI systems read (suites, cases,
//! one outcome per case, properties, system-out) fits in a page, and the run report and other
//! callers (the harness's `compare`) must write it the same way. The `run` module maps a run's
//! criteria onto it for `junit.xml`.

use std::fmt::Write as _;

use crate::escape;

mod run;

pub(crate) use run::Junit;

/// One `<testsuite>`: a named group of test cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Suite {
    /// What CI shows as the suite's name (the scenario, the comparison).
    pub name: String,
    /// Seconds the suite took (`time="12.000"`).
    pub time_s: f64,
    /// When the suite started, as JUnit wants it: ISO 8601 without a zone.
    pub timestamp: Option<String>,
    /// The machine the suite ran on.
    pub hostname: Option<String>,
    /// `<properties>`, in order; none writes no element.
    pub properties: Vec<(String, String)>,
    pub cases: Vec<Case>,
    /// Text shown with the whole suite.
    pub system_out: Option<String>,
}

/// One `<testcase>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The group CI tools show the case under, e.g. "checkout.criteria".
    pub classname: String,
    /// The case's own name (a criterion, a metric).
    pub name: String,
    /// Seconds the case took; `None` when it is a check rather than something timed (written
    /// as `time="0"`, which every reader accepts).
    pub time_s: Option<f64>,
    pub outcome: Outcome,
    /// Text shown with the case (e.g. target and measured value of a check that passed).
    pub system_out: Option<String>,
}

/// How a test case ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The case held; CI shows it green.
    Passed,
    /// `<failure>`: the case ran and its check did not hold.
    Failed(Problem),
    /// `<error>`: the case could not run to a result.
    Error(Problem),
    /// `<skipped message="…"/>`: the case could not be judged.
    Skipped { message: String },
}

/// What went wrong in a failed or errored case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Problem {
    /// One line, shown in CI lists.
    pub message: String,
    /// The `type` attribute (a short machine-readable kind); empty writes none.
    pub kind: String,
    /// The element's text: details over several lines; may be empty.
    pub detail: String,
}

impl Suite {
    /// A suite with no cases, no properties and no time.
    pub fn new(name: impl Into<String>) -> Suite {
        Suite {
            name: name.into(),
            ..Suite::default()
        }
    }
}

impl Case {
    /// A passed, untimed case.
    pub fn new(classname: impl Into<String>, name: impl Into<String>) -> Case {
        Case {
            classname: classname.into(),
            name: name.into(),
            time_s: None,
            outcome: Outcome::Passed,
            system_out: None,
        }
    }

    /// A failed, untimed case with a one-line message.
    pub fn failed(
        classname: impl Into<String>,
        name: impl Into<String>,
        message: impl Into<String>,
    ) -> Case {
        Case {
            outcome: Outcome::Failed(Problem {
                message: message.into(),
                ..Problem::default()
            }),
            ..Case::new(classname, name)
        }
    }
}

/// Case counts as the `tests`, `failures`, `errors` and `skipped` attributes want them.
#[derive(Default, Clone, Copy)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn of(cases: &[Case]) -> Counts {
        let mut n = Counts {
            tests: cases.len(),
            ..Counts::default()
        };
        for c in cases {
            match c.outcome {
                Outcome::Passed => {}
                Outcome::Failed(_) => n.failures += 1,
                Outcome::Error(_) => n.errors += 1,
                Outcome::Skipped { .. } => n.skipped += 1,
            }
        }
        n
    }

    fn add(self, o: Counts) -> Counts {
        Counts {
            tests: self.tests + o.tests,
            failures: self.failures + o.failures,
            errors: self.errors + o.errors,
            skipped: self.skipped + o.skipped,
        }
    }

    fn attributes(&self) -> String {
        format!(
            "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
            self.tests, self.failures, self.errors, self.skipped
        )
    }
}

/// A whole JUnit XML document: `<testsuites name="…">` around `suites`, with totals.
///
/// ```
/// use report::junit::{self, Case, Suite};
/// let mut suite = Suite::new("compare");
/// suite.cases.push(Case::new("compare.metrics", "committed_tps"));
/// suite.cases.push(Case::failed("compare.metrics", "p99", "p99 grew 12 % (limit 5 %)"));
/// let xml = junit::write("harness", &[suite]);
/// assert!(xml.contains("<testsuites name=\"harness\" tests=\"2\" failures=\"1\""));
/// assert!(xml.contains("<failure message=\"p99 grew 12 % (limit 5 %)\"/>"));
/// ```
pub fn write(name: &str, suites: &[Suite]) -> String {
    let total = suites
        .iter()
        .fold(Counts::default(), |n, s| n.add(Counts::of(&s.cases)));
    let time: f64 = suites.iter().map(|s| s.time_s).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" {} time=\"{time:.3}\">",
        escape::xml(name),
        total.attributes()
    );
    for s in suites {
        write_suite(&mut out, s);
    }
    out.push_str("</testsuites>\n");
    out
}

fn write_suite(out: &mut String, s: &Suite) {
    let _ = write!(
        out,
        "  <testsuite name=\"{}\" {} time=\"{:.3}\"",
        escape::xml(&s.name),
        Counts::of(&s.cases).attributes(),
        s.time_s
    );
    if let Some(t) = &s.timestamp {
        let _ = write!(out, " timestamp=\"{}\"", escape::xml(t));
    }
    if let Some(h) = &s.hostname {
        let _ = write!(out, " hostname=\"{}\"", escape::xml(h));
    }
    out.push_str(">\n");
    if !s.properties.is_empty() {
        out.push_str("    <properties>\n");
        for (k, v) in &s.properties {
            let _ = writeln!(
                out,
                "      <property name=\"{}\" value=\"{}\"/>",
                escape::xml(k),
                escape::xml(v)
            );
        }
        out.push_str("    </properties>\n");
    }
    for c in &s.cases {
        write_case(out, c);
    }
    if let Some(text) = &s.system_out {
        let _ = writeln!(out, "    <system-out>{}</system-out>", escape::xml(text));
    }
    out.push_str("  </testsuite>\n");
}

fn write_case(out: &mut String, c: &Case) {
    let time = c
        .time_s
        .map_or_else(|| "0".to_string(), |t| format!("{t:.3}"));
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{time}\"",
        escape::xml(&c.classname),
        escape::xml(&c.name)
    );
    let mut children = String::new();
    match &c.outcome {
        Outcome::Passed => {}
        Outcome::Failed(p) => problem(&mut children, "failure", p),
        Outcome::Error(p) => problem(&mut children, "error", p),
        Outcome::Skipped { message } => {
            let _ = write!(
                children,
                "\n      <skipped message=\"{}\"/>",
                escape::xml(message)
            );
        }
    }
    if let Some(text) = &c.system_out {
        let _ = write!(
            children,
            "\n      <system-out>{}</system-out>",
            escape::xml(text)
        );
    }
    if children.is_empty() {
        out.push_str("/>\n");
    } else {
        let _ = write!(out, ">{children}\n    </testcase>\n");
    }
}

/// A `<failure>` or `<error>` element (leading newline and indent included).
fn problem(out: &mut String, element: &str, p: &Problem) {
    let _ = write!(
        out,
        "\n      <{element} message=\"{}\"",
        escape::xml(&p.message)
    );
    if !p.kind.is_empty() {
        let _ = write!(out, " type=\"{}\"", escape::xml(&p.kind));
    }
    if p.detail.is_empty() {
        out.push_str("/>");
    } else {
        let _ = write!(out, ">{}</{element}>", escape::xml(&p.detail));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suite_with_every_outcome_parses_and_escapes() {
        let nasty = "<&\"'>";
        let mut suite = Suite::new(format!("suite {nasty}"));
        suite.time_s = 1.5;
        suite.timestamp = Some("2026-11-23T15:56:00".into());
        suite.properties = vec![("k".into(), format!("v {nasty}"))];
        suite.system_out = Some(format!("out {nasty}"));
        let mut passed = Case::new("cls", "passed");
        passed.system_out = Some(format!("ok {nasty}"));
        let mut errored = Case::new("cls", "errored");
        errored.time_s = Some(2.0);
        errored.outcome = Outcome::Error(Problem {
            message: "crashed".into(),
            kind: "aborted".into(),
            detail: format!("line 1 {nasty}\nline 2"),
        });
        let mut skipped = Case::new("cls", "skipped");
        skipped.outcome = Outcome::Skipped {
            message: format!("not measured {nasty}"),
        };
        suite.cases = vec![
            passed,
            Case::failed(
                "cls",
                format!("failed {nasty}"),
                format!("too slow {nasty}"),
            ),
            errored,
            skipped,
        ];
        let xml = write("root", &[suite]);
        assert!(xml.contains("suite &lt;&amp;&quot;&apos;&gt;"), "{xml}");
        assert!(!xml.contains(nasty), "{xml}");
        assert!(xml.contains(
            "<testsuites name=\"root\" tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\" time=\"1.500\">"
        ));
        assert!(xml.contains("name=\"errored\" time=\"2.000\""), "{xml}");
        assert!(xml.contains("name=\"passed\" time=\"0\""), "{xml}");

        let doc = roxmltree::Document::parse(&xml).unwrap();
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(suite.attribute("name"), Some("suite <&\"'>"));
        let failure = doc
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(failure.attribute("message"), Some("too slow <&\"'>"));
        assert_eq!(
            failure.parent().unwrap().attribute("name"),
            Some("failed <&\"'>")
        );
        let error = doc.descendants().find(|n| n.has_tag_name("error")).unwrap();
        assert_eq!(error.attribute("type"), Some("aborted"));
        assert_eq!(error.text(), Some("line 1 <&\"'>\nline 2"));
        let property = doc
            .descendants()
            .find(|n| n.has_tag_name("property"))
            .unwrap();
        assert_eq!(property.attribute("value"), Some("v <&\"'>"));
    }

    #[test]
    fn a_bare_suite_is_still_valid_xml() {
        let xml = write("root", &[Suite::new("empty")]);
        assert!(!xml.contains("<properties>"));
        roxmltree::Document::parse(&xml).unwrap();
    }
}
