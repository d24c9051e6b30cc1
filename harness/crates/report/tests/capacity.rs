//! A capacity search in every format: the answer (capacity, SLO, bracket, how it ended), each
//! probe's row, the latency-throughput chart with its SLO and knee marks, JUnit properties,
//! and the variants that must say something else (above max, not confirmed, a ramp).

mod common;

use common::{pdf_text, text_of};
use report::{render_to_bytes, text_summary, Format};
use results::{fixture, CapacitySearch, ProbeOutcome, RunResult, SearchEnd};

/// The fixture's search, changed by `edit`.
fn search_with(edit: impl FnOnce(&mut results::CapacityResult)) -> RunResult {
    let mut r = fixture::capacity_search();
    edit(r.capacity.as_mut().unwrap());
    r
}

fn search_of(c: &mut results::CapacityResult) -> &mut CapacitySearch {
    c.search.as_mut().unwrap()
}

/// The Markdown from `## Capacity` to the end of the section.
fn capacity_section(md: &str) -> &str {
    let at = md.find("## Capacity").expect("a Capacity section");
    let end = md[at + 3..].find("\n## ").map_or(md.len(), |e| e + at + 3);
    &md[at..end]
}

#[test]
fn markdown_gives_the_answer_then_every_probe() {
    let md = text_of(&fixture::capacity_search(), Format::Markdown, "report.md");
    let cap = capacity_section(&md);
    for pair in [
        "- **Capacity**: 12.75M tx/s\n",
        "- **SLO**: p99 ≤ 5.00 ms, errors ≤ 0.1 %\n",
        "- **Bracket**: good 12.75M tx/s, bad 13M tx/s (1.96 % apart; precision 2 %)\n",
        "- **Ended**: converged: the bracket narrowed",
        "- **Probes**: 11 of at most 20\n",
        "- **Wall time**: 5 min 08 s\n",
    ] {
        assert!(cap.contains(pair), "{pair:?} missing from\n{cap}");
    }
    assert!(
        cap.contains("| # | Phase | Offered | Achieved | p50 | p99 (SLO) | p99.9 | Errors |"),
        "{cap}"
    );
    let rows: Vec<&str> = cap
        .lines()
        .filter(|l| l.starts_with("| ") && l[2..].starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(rows.len(), 11, "{cap}");
    assert!(rows[0].starts_with("| 1 | grow | 2M tx/s | 2M tx/s | 210 µs | 620 µs (611–632 µs) |"));
    assert!(rows[3].contains("**✗ bad, ended early**"), "{}", rows[3]);
    // The unsure probe: its SLO percentile with the interval that straddled the limit.
    assert!(
        rows[6].starts_with(
            "| 7 | bisect | 13M tx/s | 12.9M tx/s | 800 µs | 4.96 ms (4.88–5.06 ms) |"
        ),
        "{}",
        rows[6]
    );
    assert!(rows[6].contains("| ? unsure |"), "{}", rows[6]);
    assert!(rows[7].contains("| **✗ bad** |"), "{}", rows[7]);
    assert!(
        rows[10].starts_with("| 11 | confirm | 12.75M tx/s | 12.7M tx/s |"),
        "{}",
        rows[10]
    );
    assert!(
        rows[10].contains("| 77.8 % / 43.4 % | ✓ good |"),
        "{}",
        rows[10]
    );
}

#[test]
fn the_summary_says_it_is_the_confirming_probes() {
    let r = fixture::capacity_search();
    let md = text_of(&r, Format::Markdown, "report.md");
    let verdict = &md[md.find("## Verdict").unwrap()..md.find("## Criteria").unwrap()];
    assert!(
        verdict.contains("\nConfirming probe #11 at 12.75M tx/s (25.0 s): "),
        "{verdict}"
    );
    assert!(
        verdict.contains("the summary figures above are the confirming probe's"),
        "{verdict}"
    );
    let text = text_summary(&r);
    assert!(
        text.contains("\nConfirming probe #11 at 12.75M tx/s"),
        "{text}"
    );
    assert!(
        text.contains(
            "Capacity: 12.75M tx/s at p99 ≤ 5.00 ms, errors ≤ 0.1 %; bracket good 12.75M tx/s, \
             bad 13M tx/s (1.96 % apart; precision 2 %); converged after 11 probes."
        ),
        "{text}"
    );
}

#[test]
fn html_and_pdf_show_the_same_section() {
    let r = fixture::capacity_search();
    let html = text_of(&r, Format::Html, "report.html");
    for s in [
        "<dt>Capacity</dt><dd>12.75M tx/s</dd>",
        "<dt>Bracket</dt><dd>good 12.75M tx/s, bad 13M tx/s (1.96 % apart; precision 2 %)</dd>",
        "4.96 ms (4.88–5.06 ms)",
        "? unsure",
        "Confirming probe #11",
        "id=\"chart-capacity\"",
    ] {
        assert!(html.contains(s), "{s:?} missing from the HTML");
    }
    let (_, pdf) = pdf_text(&render_to_bytes(&r, Format::Pdf).unwrap()[0].bytes);
    for s in [
        "Bracket",
        "12.75M tx/s",
        "converged",
        "unsure",
        // The chart's caption (its own text is drawn as vectors).
        "Each probe's latency against the rate it achieved",
    ] {
        assert!(pdf.contains(s), "{s:?} missing from the PDF text");
    }
}

#[test]
fn junit_carries_the_answer_as_properties() {
    let xml = text_of(&fixture::capacity_search(), Format::Junit, "junit.xml");
    for (k, v) in [
        ("capacity", "12750000.0"),
        ("capacity_good", "12750000.0"),
        ("capacity_bad", "13000000.0"),
        ("capacity_unit", "tx/s"),
        ("capacity_above_max", "false"),
        ("capacity_probes", "11"),
        ("capacity_ended", "converged"),
    ] {
        let p = format!("<property name=\"{k}\" value=\"{v}\"/>");
        assert!(xml.contains(&p), "{p} missing from\n{xml}");
    }
    roxmltree::Document::parse(&xml).unwrap();
}

/// The chart's SVG elements of one tag whose attribute `attr` holds `value`.
fn elements<'a>(
    doc: &'a roxmltree::Document<'a>,
    tag: &str,
    attr: &str,
    value: &str,
) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.has_tag_name(tag) && n.attribute(attr) == Some(value))
        .collect()
}

/// "x,y x,y " as points.
fn points(n: &roxmltree::Node<'_, '_>) -> Vec<(f64, f64)> {
    n.attribute("points")
        .unwrap()
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

#[test]
fn the_chart_draws_the_curve_the_slo_and_the_knee() {
    let r = fixture::capacity_search();
    let ctx = report::context(&r).unwrap();
    let c = &ctx.charts[0];
    assert_eq!(c.file, "capacity.svg", "the search's chart leads");
    assert_eq!(
        c.series,
        [
            "p50",
            "p99",
            "p99.9",
            "SLO p99 ≤ 5.00 ms",
            "capacity 12.75M tx/s"
        ]
    );
    let doc = roxmltree::Document::parse(&c.svg).unwrap();
    let texts: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    for s in c.series.iter().chain([&c.title]) {
        assert!(texts.contains(&s.as_str()), "{s:?} not drawn");
    }
    assert!(texts.contains(&"achieved rate (tx/s)"), "{texts:?}");
    // p50 (solid blue) joins all eleven probes by achieved rate, left to right.
    let p50 = elements(&doc, "polyline", "stroke", "#0072B2");
    let pts = points(&p50[0]);
    assert_eq!(pts.len(), 11);
    assert!(pts.windows(2).all(|w| w[0].0 <= w[1].0), "{pts:?}");
    // Bad and unsure probes (4, 6, 7, 8) are hollow; the good ones filled.
    let blue_circles = |fill: &str| {
        doc.descendants()
            .filter(|n| {
                n.has_tag_name("circle")
                    && n.attribute("fill") == Some(fill)
                    && (fill == "#0072B2" || n.attribute("stroke") == Some("#0072B2"))
            })
            .count()
    };
    assert_eq!(blue_circles("none"), 4);
    assert!(blue_circles("#0072B2") >= 7);
    // The SLO: a dashed horizontal line.
    let slo = elements(&doc, "polyline", "stroke", "#D55E00");
    assert_eq!(slo.len(), 1);
    assert!(slo[0].attribute("stroke-dasharray").is_some());
    let s = points(&slo[0]);
    assert_eq!(s[0].1, s[1].1, "SLO line not horizontal: {s:?}");
    // The knee: a vertical line at the capacity, the bracket's good edge, shaded to the bad.
    let knee = elements(&doc, "polyline", "stroke", "#3C3C3C");
    assert_eq!(knee.len(), 1);
    let k = points(&knee[0]);
    assert_eq!(k[0].0, k[1].0, "capacity line not vertical: {k:?}");
    let bracket = elements(&doc, "rect", "fill", "#D6E4F0");
    assert_eq!(bracket.len(), 1);
    let x: f64 = bracket[0].attribute("x").unwrap().parse().unwrap();
    let w: f64 = bracket[0].attribute("width").unwrap().parse().unwrap();
    assert!(
        (x - k[0].0).abs() <= 1.0,
        "bracket at {x}, knee at {}",
        k[0].0
    );
    assert!(
        w > 3.0 && pts.iter().any(|p| p.0 > x + w),
        "bracket {x}+{w}"
    );
}

#[test]
fn invalid_probes_are_crossed_out_of_the_curve() {
    let r = search_with(|c| search_of(c).probes[1].outcome = ProbeOutcome::Invalid);
    let ctx = report::context(&r).unwrap();
    let doc = roxmltree::Document::parse(&ctx.charts[0].svg).unwrap();
    let p50 = elements(&doc, "polyline", "stroke", "#0072B2");
    // Ten joined; the invalid probe is a cross (two strokes) instead of a filled circle.
    assert_eq!(points(&p50[0]).len(), 10);
    assert!(doc
        .descendants()
        .any(|n| n.has_tag_name("line") && n.attribute("stroke") == Some("#0072B2")));
    let md = text_of(&r, Format::Markdown, "report.md");
    assert!(md.contains("| 2 | grow | 4M tx/s |") && md.contains("**✗ invalid**"));
}

#[test]
fn above_max_says_so() {
    let r = search_with(|c| {
        c.max_rate_met = Some(40e6);
        c.first_rate_broken = None;
        let s = search_of(c);
        s.capacity = Some(40e6);
        s.above_max = true;
        s.ended = SearchEnd::AboveMax;
    });
    let md = text_of(&r, Format::Markdown, "report.md");
    let cap = capacity_section(&md);
    assert!(
        cap.contains("- **Capacity**: above max (40M tx/s)\n"),
        "{cap}"
    );
    assert!(
        cap.contains("- **Bracket**: good 40M tx/s; no rate broke the SLO\n"),
        "{cap}"
    );
    assert!(
        cap.contains("- **Ended**: above max: nothing broke"),
        "{cap}"
    );
    let ctx = report::context(&r).unwrap();
    assert!(ctx.charts[0]
        .series
        .contains(&"capacity above max (40M tx/s)".to_string()));
    assert!(
        !ctx.charts[0].svg.contains("#D6E4F0"),
        "no bracket to shade"
    );
    assert!(text_summary(&r).contains("Capacity: above max (40M tx/s) at p99"));
    let xml = text_of(&r, Format::Junit, "junit.xml");
    assert!(xml.contains("<property name=\"capacity_above_max\" value=\"true\"/>"));
    assert!(!xml.contains("name=\"capacity_bad\""));
}

#[test]
fn a_search_that_ran_out_of_probes_confirms_nothing() {
    let r = search_with(|c| {
        let s = search_of(c);
        s.capacity = None;
        s.ended = SearchEnd::MaxProbes;
        s.probes.pop();
    });
    let md = text_of(&r, Format::Markdown, "report.md");
    let cap = capacity_section(&md);
    assert!(cap.contains("- **Capacity**: not confirmed\n"), "{cap}");
    assert!(
        cap.contains("- **Ended**: max probes: 20 probes ran before the search converged\n"),
        "{cap}"
    );
    assert!(cap.contains("- **Probes**: 10 of at most 20\n"), "{cap}");
    assert!(md.contains("\nCapacity search, no capacity confirmed (25.0 s): "));
    assert!(md.contains("confirmed no capacity: the summary figures above are not"));
    assert!(!md.contains("Confirming probe"));
    let ctx = report::context(&r).unwrap();
    let chart = &ctx.charts[0];
    assert!(!chart.series.iter().any(|s| s.starts_with("capacity")));
    let doc = roxmltree::Document::parse(&chart.svg).unwrap();
    assert!(
        elements(&doc, "polyline", "stroke", "#3C3C3C").is_empty(),
        "no knee"
    );
    assert!(
        chart
            .caption
            .contains("No capacity was confirmed (the search ended: max probes)."),
        "{}",
        chart.caption
    );
    let xml = text_of(&r, Format::Junit, "junit.xml");
    assert!(!xml.contains("name=\"capacity\""), "{xml}");
    assert!(xml.contains("<property name=\"capacity_ended\" value=\"max_probes\"/>"));
    assert!(text_summary(&r).contains("Capacity: not confirmed at p99"));
}

#[test]
fn a_ramp_renders_as_before() {
    let r = fixture::http_goose();
    let md = text_of(&r, Format::Markdown, "report.md");
    let cap = capacity_section(&md);
    assert_eq!(
        cap,
        "## Capacity\n\n- **Bounded by**: max\\_p99\n- **Highest rate that met it**: 8M tx/s\n\
         - **First rate that broke it**: 9M tx/s\n"
    );
    assert!(md.contains("\nSteady state (25.0 s): "));
    let ctx = report::context(&r).unwrap();
    assert!(ctx.charts.iter().all(|c| c.file != "capacity.svg"));
    assert!(!text_of(&r, Format::Junit, "junit.xml").contains("capacity"));
    assert!(!text_summary(&r).contains("Capacity:"));
}
