//! `harness compare`: is the new run slower than the baseline, or just noisy?
//!
//! Two [`Side`]s (a results.json, a directory of repeats, or a saved [`Baseline`]) are compared
//! metric by metric ([`compare`]) by a rule that calls a change a regression only when it is
//! beyond both the tolerance and the noise the repeats showed (an exact rank test on the
//! repeats: [`judge`], [`RULE`]); two
//! capacity searches are compared by their brackets ([`CAPACITY_RULE`]). The analysis is kept
//! apart from the renderers ([`render_text`], [`render_markdown`], [`render_html`],
//! [`render_junit`]), which only read a [`Comparison`].
//!
//! The modules are private; everything a caller needs is re-exported here, so there is one
//! path to each item.
//!
//! | module | its one job |
//! |---|---|
//! | `rule` | the rule: [`median`], [`judge`], the verdict of one metric, the rule text |
//! | `stats` | the exact one-sided rank-sum test the rule uses ([`rank_test`]) |
//! | `figures` | what one run contributes ([`Figures::of`]) and medians over repeats |
//! | `baseline` | the sides: [`Side::load`], saved [`Baseline`]s, [`ScenarioId`] |
//! | `tolerances` | [`Tolerances`]: defaults, the scenario's, `--tolerance KEY=VALUE` |
//! | `metrics` | which metrics, their [`Unit`]s and roles, one [`MetricRow`] each |
//! | `capacity` | two capacity searches: their brackets by [`CAPACITY_RULE`] |
//! | `functions` | which functions' instruction counts moved ([`FunctionChange`]) |
//! | `noise` | each side's machine noise ([`SideNoise`]): shown and noted, never judged |
//! | `comparison` | [`compare`], step by step, into a [`Comparison`] |
//! | `render/` | text, Markdown, HTML and JUnit; [`write_outputs`] |
//! | `error` | [`CompareError`] |

mod baseline;
mod capacity;
mod comparison;
mod error;
mod figures;
#[cfg(test)]
mod fixtures;
mod functions;
mod metrics;
mod noise;
mod render;
mod rule;
mod stats;
mod tolerances;

pub use baseline::{find_results, Baseline, ScenarioId, Side, BASELINE_VERSION};
pub use capacity::{
    CapacityComparison, CapacityOutcome, NotComparable, SearchFigures, SearchSide, CAPACITY_RULE,
};
pub use comparison::{compare, CompareOptions, Comparison, SideInfo};
pub use error::CompareError;
pub use figures::{per_unit, Figures};
pub use functions::FunctionChange;
pub use metrics::{MetricRow, Unit};
pub use noise::SideNoise;
pub use render::{
    render_html, render_junit, render_markdown, render_text, tolerance_text, value_text,
    with_interval, write_outputs, CompareFormat,
};
pub use rule::{
    judge, median, Better, Judgement, MetricVerdict, Slack, Test, LATENCY_FLOOR_US, RULE,
};
pub use stats::{min_p, rank_test, RankTest, ALPHA};
pub use tolerances::Tolerances;

#[cfg(test)]
mod tests {
    use super::fixtures::{figures, side};
    use super::*;
    use crate::exit::Exit;

    #[test]
    fn compare_flags_regressions_and_renders_them() {
        let base = side(
            "s",
            "aa",
            vec![figures(1e6, 1000.0), figures(1.05e6, 1100.0)],
        );
        let new = side("s", "aa", vec![figures(0.5e6, 2500.0)]);
        let c = compare(
            &base,
            &new,
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        let verdict = |k: &str| c.rows.iter().find(|r| r.key == k).unwrap().verdict();
        assert_eq!(verdict("tps"), MetricVerdict::Regressed);
        assert_eq!(verdict("p99"), MetricVerdict::Regressed);
        assert_eq!(verdict("rss"), MetricVerdict::Unchanged);
        assert_eq!(verdict("cpu"), MetricVerdict::NotMeasured);
        assert_eq!(c.exit(), Exit::Fail);
        let text = render_text(&c);
        assert!(text.contains("REGRESSION in tps"), "{text}");
        assert!(text.contains("driver native"), "{text}");
        assert!(text.contains("Rule:"), "{text}");
        let md = render_markdown(&c);
        assert!(
            md.contains("| Committed TPS |") && md.contains("**REGRESSED**"),
            "{md}"
        );
        let html = render_html(&c);
        assert!(html.contains("<td>Committed TPS</td>"), "{html}");
        assert!(html.contains("<td class=\"bad\">REGRESSED</td>"), "{html}");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "self-contained"
        );
        let back = compare(
            &new,
            &base,
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        assert_eq!(back.exit(), Exit::Pass);
    }

    /// A side of one run shows its percentiles' sampling intervals; a side of several runs
    /// has none (its spread says how the runs varied). Shown only: the verdict is the rule's.
    #[test]
    fn a_single_run_side_shows_its_sampling_intervals() {
        let mut one = figures(1e6, 1000.0);
        let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        for v in 1..=10_000u64 {
            h.record(v * 100).unwrap(); // 0.1 .. 1,000 µs
        }
        let l = results::Percentiles::from_histogram(&h);
        (one.p50_us, one.p99_us, one.p999_us) = (l.p50, l.p99, l.p999);
        one.latency_us = Some(l);
        let base = side("s", "aa", vec![one.clone()]);
        let new = side("s", "aa", vec![one.clone(), one]);
        let c = compare(
            &base,
            &new,
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        let row = |k: &str| c.rows.iter().find(|r| r.key == k).unwrap();
        let b = row("p99").base_ci95.expect("one run: its interval");
        assert!(b.lo < 990.0 && 990.0 < b.hi, "{b:?}");
        assert_eq!(row("p99").new_ci95, None, "several runs: no interval");
        assert_eq!(row("tps").base_ci95, None, "not a percentile");
        let text = render_text(&c);
        assert!(text.contains("990 µs (988–992 µs)"), "{text}");
        assert_eq!(row("p99").verdict(), MetricVerdict::Unchanged);
    }

    #[test]
    fn names_with_markup_are_escaped_in_every_format() {
        let nasty = "a|b <c> & \"d\" [e]";
        let base = side(nasty, "aa", vec![figures(1e6, 1000.0)]);
        let new = side(nasty, "aa", vec![figures(0.5e6, 1000.0)]);
        let c = compare(
            &base,
            &new,
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        let md = render_markdown(&c);
        assert!(
            md.starts_with("# Comparison: a\\|b \\<c\\> & \"d\" \\[e\\]"),
            "{md}"
        );
        let html = render_html(&c);
        assert!(
            html.contains("a|b &lt;c&gt; &amp; &quot;d&quot; [e]"),
            "{html}"
        );
        assert!(!html.contains(nasty), "{html}");
        let xml = render_junit(&c);
        let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(
            suite.attribute("name"),
            Some(format!("compare.{nasty}").as_str())
        );
        assert_eq!(suite.attribute("failures"), Some("1"));
        let failed = suite
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(failed.parent().unwrap().attribute("name"), Some("tps"));
        assert_eq!(failed.attribute("type"), Some("regression"));
    }

    #[test]
    fn different_scenarios_are_refused_unless_allowed() {
        let base = side("s", "aa", vec![figures(1e6, 1000.0)]);
        let new = side("s", "bb", vec![figures(1e6, 1000.0)]);
        let e = compare(
            &base,
            &new,
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("different scenarios") && e.contains("sha256 bb"),
            "{e}"
        );
        let c = compare(
            &base,
            &new,
            &Tolerances::default(),
            CompareOptions {
                allow_scenario_change: true,
            },
        )
        .unwrap();
        assert!(c.scenario_changed.is_some());
        // The note is in every format.
        let note = "scenario changed: base \"s\" (sha256 aa) vs new \"s\" (sha256 bb)";
        assert!(render_text(&c).contains(&format!("  note: {note}")));
        assert!(render_markdown(&c).contains(&format!("- **Note**: {note}")));
        let html = render_html(&c);
        assert!(
            html.contains("<dt>Note</dt><dd>scenario changed: base &quot;s&quot;"),
            "{html}"
        );
        let xml = render_junit(&c);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let out = doc
            .descendants()
            .find(|n| n.has_tag_name("system-out") && n.parent().unwrap().has_tag_name("testsuite"))
            .and_then(|n| n.text());
        assert_eq!(out, Some(note), "{xml}");
    }

    #[test]
    fn cpu_average_is_info_when_tps_per_cpu_is_known() {
        let with = |tps: f64, cpu: f64| {
            let mut f = figures(tps, 1000.0);
            f.cpu_avg_pct = Some(cpu);
            f.tx_per_cpu_s = Some(3e7);
            f
        };
        let c = compare(
            &side("s", "aa", vec![with(1e6, 25.0)]),
            &side("s", "aa", vec![with(1e6, 90.0)]),
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        let cpu = c.rows.iter().find(|r| r.key == "cpu").unwrap();
        assert_eq!(cpu.verdict(), MetricVerdict::Info);
        assert_eq!(c.exit(), Exit::Pass);
        // Without it, the same CPU change is a regression.
        let mut a = with(1e6, 25.0);
        let mut b = with(1e6, 90.0);
        a.tx_per_cpu_s = None;
        b.tx_per_cpu_s = None;
        let c = compare(
            &side("s", "aa", vec![a]),
            &side("s", "aa", vec![b]),
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        assert_eq!(c.exit(), Exit::Fail);
    }

    /// The fixture's search (capacity 12.75M tx/s, good 12.75M, bad 13M) with another bracket
    /// (the capacity follows the good end); `bad` `None`: nothing broke up to its maximum.
    fn search(good: Option<f64>, bad: Option<f64>) -> results::RunResult {
        let mut r = results::fixture::capacity_search();
        let c = r.capacity.as_mut().unwrap();
        (c.max_rate_met, c.first_rate_broken) = (good, bad);
        let s = c.search.as_mut().unwrap();
        s.capacity = good;
        s.above_max = bad.is_none();
        r
    }

    fn compare_runs(base: results::RunResult, new: results::RunResult) -> Comparison {
        let side = |o: &str, r| Side::from_results(o, &[r]).unwrap();
        compare(
            &side("base", base),
            &side("new", new),
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap()
    }

    /// The capacity row in the text table.
    fn capacity_line(text: &str) -> &str {
        text.lines()
            .find(|l| l.starts_with("Capacity "))
            .unwrap_or_else(|| panic!("no capacity row:\n{text}"))
    }

    /// The new search broke at 11M, a rate the baseline sustained (12.75M x 0.9 = 11.475M):
    /// a regression in every format, and the exit code of one. The ordinary metrics compare
    /// the same confirming probe and stay unchanged, so the capacity alone decides.
    #[test]
    fn a_capacity_regression_is_a_regression_in_every_format() {
        let base = results::fixture::capacity_search();
        let c = compare_runs(base, search(Some(10.75e6), Some(11e6)));
        assert_eq!(c.regressions().count(), 0, "no metric regressed");
        assert_eq!(c.exit(), Exit::Fail);
        let text = render_text(&c);
        assert!(
            text.starts_with("Comparison: transfer-sustain — REGRESSION in capacity"),
            "{text}"
        );
        let line = capacity_line(&text);
        for cell in [
            "12.75M tx/s (good 12.75M tx/s, bad 13M tx/s)",
            "10.75M tx/s (good 10.75M tx/s, bad 11M tx/s)",
            "-15.7 %",
            "10 %",
            "REGRESSED",
        ] {
            assert!(line.contains(cell), "{cell:?} in {line}");
        }
        assert!(text.contains(CAPACITY_RULE), "{text}");
        let md = render_markdown(&c);
        assert!(
            md.contains("| Capacity | 12.75M tx/s (good 12.75M tx/s, bad 13M tx/s) | 10.75M tx/s (good 10.75M tx/s, bad 11M tx/s) | -15.7 % | 10 % | n/a | bracket | **REGRESSED** |"),
            "{md}"
        );
        let html = render_html(&c);
        assert!(html.contains("<td>Capacity</td>"), "{html}");
        assert!(html.contains("<td class=\"bad\">REGRESSED</td>"), "{html}");
        let xml = render_junit(&c);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let failed: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .map(|n| n.parent().unwrap().attribute("name").unwrap())
            .collect();
        assert_eq!(failed, ["capacity"], "{xml}");
        assert!(xml.contains("name=\"capacity_rule\""), "{xml}");
    }

    #[test]
    fn capacity_within_tolerance_improved_and_above_max() {
        let verdict = |new| {
            let c = compare_runs(results::fixture::capacity_search(), new);
            assert_eq!(c.regressions().count(), 0);
            (c.capacity.as_ref().unwrap().verdict(), c.exit())
        };
        // Broke at 11.5M, below the baseline's 12.75M but within 10 %.
        let within = verdict(search(Some(11.25e6), Some(11.5e6)));
        assert_eq!(within, (MetricVerdict::Unchanged, Exit::Pass));
        // Held 14.5M, beyond the baseline's bad 13M x 1.1.
        let better = verdict(search(Some(14.5e6), Some(15e6)));
        assert_eq!(better, (MetricVerdict::Improved, Exit::Pass));
        // Nothing broke up to 10M: below the baseline's good rate, yet nothing was proved.
        let mut low_max = search(Some(10e6), None);
        let s = low_max.capacity.as_mut().unwrap().search.as_mut().unwrap();
        s.settings.max = 10e6;
        assert_eq!(verdict(low_max), (MetricVerdict::Unchanged, Exit::Pass));
        let c = compare_runs(
            results::fixture::capacity_search(),
            search(Some(40e6), None),
        );
        assert_eq!(
            c.capacity.as_ref().unwrap().verdict(),
            MetricVerdict::Improved
        );
        let line = render_text(&c);
        assert!(
            capacity_line(&line).contains("40M tx/s (good 40M tx/s; none broke up to 40M tx/s)"),
            "{line}"
        );
    }

    /// A different SLO, and a search against a run that is not one: said in every format, the
    /// capacity not judged, the other metrics compared as ever.
    #[test]
    fn capacities_that_cannot_be_compared_say_why_in_every_format() {
        let mut p999 = search(Some(1e6), Some(2e6));
        let slo = &mut p999.capacity.as_mut().unwrap().search.as_mut().unwrap().slo;
        slo.percentile = 99.9;
        let c = compare_runs(results::fixture::capacity_search(), p999);
        let why =
            "capacity not comparable: the SLOs differ (baseline p99 ≤ 5.00 ms, errors ≤ 0.1 %; \
new p99.9 ≤ 5.00 ms, errors ≤ 0.1 %): a different SLO asks a different question";
        assert_says(&c, why);

        let c = compare_runs(
            results::fixture::capacity_search(),
            results::fixture::sample(),
        );
        assert_says(
            &c,
            "capacity not compared: only the baseline is a capacity search",
        );
        assert!(capacity_line(&render_text(&c)).contains("not a search"));
        let c = compare_runs(
            results::fixture::sample(),
            results::fixture::capacity_search(),
        );
        assert_says(
            &c,
            "capacity not compared: only the new side is a capacity search",
        );
        let c = compare_runs(search(None, Some(2e6)), results::fixture::capacity_search());
        assert_says(
            &c,
            "capacity not comparable: the baseline found no good rate",
        );

        // Neither side a search: no capacity row and no capacity rule.
        let c = compare_runs(results::fixture::sample(), results::fixture::sample());
        assert_eq!(c.capacity, None);
        let text = render_text(&c);
        assert!(
            !text.contains("Capacity") && !text.contains(CAPACITY_RULE),
            "{text}"
        );
    }

    /// `c` is not judged on capacity, says `why` in every format, and still compares the rest.
    fn assert_says(c: &Comparison, why: &str) {
        assert_eq!(
            c.capacity.as_ref().unwrap().verdict(),
            MetricVerdict::NotMeasured
        );
        assert_eq!(c.exit(), Exit::Pass);
        assert!(c.rows.iter().any(|r| r.key == "tps"));
        let text = render_text(c);
        assert!(text.contains(&format!("  note: {why}")), "{text}");
        assert!(capacity_line(&text).ends_with("not comparable"), "{text}");
        let md = render_markdown(c);
        assert!(md.contains(&format!("- **Note**: {why}")), "{md}");
        let html = render_html(c);
        assert!(html.contains("<dt>Note</dt><dd>capacity not"), "{html}");
        let xml = render_junit(c);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let skipped = doc
            .descendants()
            .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("capacity"))
            .and_then(|n| n.children().find(|k| k.has_tag_name("skipped")))
            .and_then(|k| k.attribute("message"));
        assert_eq!(skipped, Some(why), "{xml}");
    }

    #[test]
    fn non_committing_runs_compare_ops_per_second() {
        let mut f = figures(0.0, 1000.0);
        f.ops_per_s = 5000.0;
        let mut g = f.clone();
        g.ops_per_s = 2000.0;
        let c = compare(
            &side("h", "aa", vec![f]),
            &side("h", "aa", vec![g]),
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        assert_eq!(c.rows[0].label, "Throughput (ops/s)");
        assert_eq!(c.rows[0].verdict(), MetricVerdict::Regressed);
    }
}
