//! Renderer tests on the shared fixtures: snapshots of the text formats, a parsed PDF, parsed
//! chart SVGs, and the edge cases (no intervals, no audit, an aborted run).

mod common;

use common::{pdf_text, text_of};
use report::{render, render_all, render_to_bytes, text_summary, Format};
use results::fixture;

/// Inline SVGs are checked by the chart tests; keep them out of the HTML snapshot so it stays
/// readable and does not change with every pixel of a chart.
fn strip_svgs(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("</svg>").expect("closed svg") + start + "</svg>".len();
        out.push_str("<svg><!-- chart --></svg>");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(text_of(&fixture::sample(), Format::Markdown, "report.md"));
}

#[test]
fn html_snapshot() {
    let html = text_of(&fixture::sample(), Format::Html, "report.html");
    insta::assert_snapshot!(strip_svgs(&html));
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!(text_of(&fixture::sample(), Format::Junit, "junit.xml"));
}

#[test]
fn text_summary_snapshot() {
    insta::assert_snapshot!(text_summary(&fixture::sample()));
}

#[test]
fn report_sections_come_in_the_documented_order() {
    let md = text_of(&fixture::http_goose(), Format::Markdown, "report.md");
    let order = [
        "## Verdict",
        "## Criteria",
        "## Scenario",
        "## Environment",
        "## Charts",
        "## Results by stage",
        "## Errors",
        "## Resources",
        "## Audit",
        "## Profile",
        "## Capacity",
        "## Segment",
    ];
    let mut at = 0;
    for h in order {
        let pos = md[at..]
            .find(h)
            .unwrap_or_else(|| panic!("{h} missing or out of order"));
        at += pos + h.len();
    }
    // goose: millisecond resolution must be stated.
    assert!(md.contains("resolution 1.00 ms"), "{md}");
}

#[test]
fn html_is_self_contained() {
    let html = text_of(&fixture::sample(), Format::Html, "report.html");
    for banned in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!html.contains(banned), "HTML contains {banned}");
    }
    let without_ns = html.replace("http://www.w3.org/2000/svg", "");
    assert!(!without_ns.contains("http://") && !without_ns.contains("https://"));
    assert_eq!(html.matches("<svg").count(), 5, "five inline charts");
}

#[test]
fn junit_parses_and_counts_match() {
    let xml = text_of(&fixture::sample(), Format::Junit, "junit.xml");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1);
    let s = suites[0];
    let cases: Vec<_> = s
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    // 8 criteria + audit + the run itself.
    assert_eq!(cases.len(), 10);
    assert_eq!(s.attribute("tests"), Some("10"));
    let failures = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .count();
    let skipped = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("skipped")))
        .count();
    // Three criteria failed, so the run failed too.
    assert_eq!((failures, skipped), (4, 1));
    assert_eq!(s.attribute("failures"), Some("4"));
    assert_eq!(s.attribute("skipped"), Some("1"));
    let p99 = cases
        .iter()
        .find(|c| c.attribute("name") == Some("max_p99"))
        .unwrap();
    let failure = p99.children().find(|n| n.has_tag_name("failure")).unwrap();
    let msg = failure.attribute("message").unwrap();
    assert!(
        msg.contains("0.95 ms") && msg.contains("≤ 0.75 ms"),
        "{msg}"
    );
    assert!(cases.iter().any(|c| c.attribute("name") == Some("audit")));
}

#[test]
fn charts_parse_as_svg_and_contain_every_series() {
    let sample = fixture::sample();
    let ctx = report::context(&sample).unwrap();
    let files: Vec<&str> = ctx.charts.iter().map(|c| c.file.as_str()).collect();
    assert_eq!(
        files,
        [
            "throughput.svg",
            "latency.svg",
            "distribution.svg",
            "resources.svg",
            "load.svg"
        ]
    );
    for c in &ctx.charts {
        let doc = roxmltree::Document::parse(&c.svg)
            .unwrap_or_else(|e| panic!("{} is not XML: {e}", c.file));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let texts: Vec<String> = doc
            .descendants()
            .filter_map(|n| n.text())
            .map(|t| t.trim().to_string())
            .collect();
        assert!(texts.contains(&c.title), "{}: title missing", c.file);
        assert!(!c.series.is_empty());
        for s in &c.series {
            assert!(
                texts.contains(s),
                "{}: series {s:?} missing from legend",
                c.file
            );
        }
        // Something was plotted: at least one polyline with many points.
        assert!(
            doc.descendants().any(|n| n.has_tag_name("polyline")
                && n.attribute("points")
                    .is_some_and(|p| p.split(' ').count() > 10)),
            "{}: no data line",
            c.file
        );
        // Axis descriptions carry units.
        assert!(
            texts.iter().any(|t| t.contains('(') && t.contains(')')),
            "{}: no axis unit",
            c.file
        );
    }
    let tput = &ctx.charts[0];
    assert!(tput.series.iter().any(|s| s == "target 8.51M tx/s"));
    let lat = &ctx.charts[1];
    // The sample's intervals hold ~8.75k operations: too few for a p99.9 (10,000), which is
    // then no figure and no line; enough for a p99, drawn with its sampling band.
    assert_eq!(lat.series, ["p50", "p99", "max"]);
    assert!(lat.svg.contains("<polygon"), "p99 band");
    let mut busy = fixture::sample();
    for i in &mut busy.intervals {
        i.latency_us.count = 20_000;
    }
    let ctx = report::context(&busy).unwrap();
    assert_eq!(ctx.charts[1].series, ["p50", "p99", "p99.9", "max"]);
}

#[test]
fn pdf_has_expected_pages_and_selectable_verdict() {
    let outputs = render_to_bytes(&fixture::sample(), Format::Pdf).unwrap();
    let pdf = &outputs[0].bytes;
    assert!(pdf.starts_with(b"%PDF-"));
    let (pages, text) = pdf_text(pdf);
    assert_eq!(pages, 5, "sample report is five A4 pages");
    assert!(
        text.contains("FAIL"),
        "verdict not found in text: {text:.400}"
    );
    assert!(text.contains("Criteria") && text.contains("Throughput (committed)"));
    assert!(
        !text.contains("ABORTED"),
        "text extraction must be able to tell runs apart"
    );
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    // A4 media box on every page.
    for (_, id) in doc.get_pages() {
        let page = doc.get_dictionary(id).unwrap();
        let mb = page.get(b"MediaBox").unwrap().as_array().unwrap();
        let w = mb[2].as_float().unwrap();
        let h = mb[3].as_float().unwrap();
        assert!(
            (w - 595.28).abs() < 0.5 && (h - 841.89).abs() < 0.5,
            "{w}x{h}"
        );
    }
}

#[test]
fn pdf_embeds_only_bundled_fonts() {
    let outputs = render_to_bytes(&fixture::sample(), Format::Pdf).unwrap();
    let doc = lopdf::Document::load_mem(&outputs[0].bytes).unwrap();
    let mut names = Vec::new();
    for obj in doc.objects.values() {
        if let Ok(d) = obj.as_dict() {
            if d.get(b"Type").and_then(|t| t.as_name()).ok() == Some(b"FontDescriptor") {
                let name = d.get(b"FontName").unwrap().as_name().unwrap();
                names.push(String::from_utf8_lossy(name).to_string());
                assert!(
                    d.has(b"FontFile2") || d.has(b"FontFile3") || d.has(b"FontFile"),
                    "font {names:?} not embedded"
                );
            }
        }
    }
    assert!(!names.is_empty());
    assert!(names.iter().all(|n| n.contains("DejaVu")), "{names:?}");
}

#[test]
fn render_all_writes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/report");
    let paths = render_all(&fixture::sample(), &out).unwrap();
    for f in [
        "report.md",
        "report.html",
        "report.pdf",
        "junit.xml",
        "charts/throughput.svg",
        "charts/latency.svg",
        "charts/distribution.svg",
        "charts/resources.svg",
        "charts/load.svg",
    ] {
        let p = out.join(f);
        assert!(paths.contains(&p), "{f} not reported");
        assert!(std::fs::metadata(&p).unwrap().len() > 100, "{f} empty");
    }
    assert_eq!(paths.len(), 9);
}

#[test]
fn render_writes_only_what_was_asked() {
    let dir = tempfile::tempdir().unwrap();
    let paths = render(&fixture::sample(), &[Format::Junit], dir.path()).unwrap();
    assert_eq!(paths, vec![dir.path().join("junit.xml")]);
    let dir = tempfile::tempdir().unwrap();
    // Markdown links the charts, so they come with it.
    let paths = render(&fixture::sample(), &[Format::Markdown], dir.path()).unwrap();
    assert!(paths.contains(&dir.path().join("report.md")));
    assert!(paths.contains(&dir.path().join("charts/latency.svg")));
    assert!(!dir.path().join("report.pdf").exists());
    assert!(render(&fixture::sample(), &[], dir.path())
        .unwrap()
        .is_empty());
}

#[test]
fn render_names_the_directory_it_cannot_create() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let err = render(&fixture::sample(), &[Format::Junit], &file.join("sub")).unwrap_err();
    assert!(err.to_string().contains("a-file"), "{err}");
}

#[test]
fn no_intervals_renders_every_format() {
    let r = fixture::no_intervals();
    let dir = tempfile::tempdir().unwrap();
    let paths = render_all(&r, dir.path()).unwrap();
    assert!(paths
        .iter()
        .all(|p| p.extension().is_some_and(|e| e != "svg")));
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("**INVALID**"));
    assert!(md.contains("nothing to chart"));
    assert!(md.contains("No audit"));
    assert!(md.contains("No resource samples were recorded."), "{md}");
    assert!(md.contains("No stage completed any operation."), "{md}");
    let (pages, text) = pdf_text(&std::fs::read(dir.path().join("report.pdf")).unwrap());
    assert!(pages >= 1 && text.contains("INVALID"));
    let summary = text_summary(&r);
    assert!(summary.contains("INVALID") && summary.contains("not measured"));
}

#[test]
fn aborted_run_is_red_in_ci_and_says_so() {
    let r = fixture::aborted();
    let xml = text_of(&r, Format::Junit, "junit.xml");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let run = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("run"))
        .expect("run testcase for an aborted run");
    let err = run.children().find(|n| n.has_tag_name("error")).unwrap();
    assert!(err.text().unwrap().contains("SIGINT"));
    let md = text_of(&r, Format::Markdown, "report.md");
    assert!(md.contains("**ABORTED**"));
    assert!(!md.contains("## Profile"));
    let (_, text) = pdf_text(&render_to_bytes(&r, Format::Pdf).unwrap()[0].bytes);
    assert!(text.contains("ABORTED"));
}

#[test]
fn no_audit_and_optional_sections() {
    let r = fixture::http_goose();
    let md = text_of(&r, Format::Markdown, "report.md");
    assert!(md.contains("No audit"));
    assert!(md.contains("Highest rate that met it**: 8M tx/s"), "{md}");
    assert!(md.contains("segment 0/2 (0-based)"), "{md}");
    let xml = text_of(&r, Format::Junit, "junit.xml");
    assert!(!xml.contains("name=\"audit\""));
}

#[test]
fn https_runs_show_connection_times_and_say_insecure_in_every_format() {
    let r = fixture::https_native();
    let md = text_of(&r, Format::Markdown, "report.md");
    // The scenario section says the certificates were not checked.
    let scenario = &md[md.find("## Scenario").unwrap()..md.find("## Environment").unwrap()];
    assert!(
        scenario.contains("INSECURE: any server certificate accepted"),
        "{scenario}"
    );
    let conn = &md[md.find("## Connections").expect("a Connections section")..];
    assert!(conn.contains("| TCP connect | 64 |"), "{conn}");
    assert!(conn.contains("| TLS handshake | 64 |"), "{conn}");
    assert!(
        conn.contains("on: 48 of 64 handshakes resumed a session"),
        "{conn}"
    );
    assert!(
        conn.contains("received fatal alert: HandshakeFailure (3×)"),
        "{conn}"
    );
    let html = text_of(&r, Format::Html, "report.html");
    assert!(html.contains("INSECURE: any server certificate accepted"));
    // Plain runs of the in-process engine have no such section.
    let plain = text_of(&fixture::sample(), Format::Markdown, "report.md");
    assert!(!plain.contains("## Connections"));
}

#[test]
fn load_chart_splits_units_and_shows_open_model_backlog() {
    let mut r = fixture::sample();
    let plan = &mut r.scenario.stages_planned[2];
    plan.model = results::LoadModel::Open;
    plan.unit = "tx/s".into();
    plan.from = 9_000_000.0;
    plan.to = 9_000_000.0;
    for i in r.intervals.iter_mut().filter(|i| i.stage == 2) {
        i.planned = 9_000_000.0;
        i.achieved_load = i.committed_tps;
        i.backlog = if i.t_s > 21.0 && i.t_s < 24.0 {
            5_000
        } else {
            0
        };
    }
    let ctx = report::context(&r).unwrap();
    let load = ctx.charts.iter().find(|c| c.file == "load.svg").unwrap();
    let doc = roxmltree::Document::parse(&load.svg).unwrap();
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    assert!(texts.contains(&"load (workers)"), "{texts:?}");
    assert!(texts.contains(&"load (tx/s)"), "{texts:?}");
    assert!(load.series.iter().any(|s| s.starts_with("backlog")));
    for s in &load.series {
        assert!(texts.contains(&s.as_str()), "series {s} missing");
    }
    // One legend entry per series per panel, even though each panel's line is broken.
    assert_eq!(texts.iter().filter(|t| **t == "planned").count(), 2);
}

#[test]
fn plain_http_service_reports_ops_without_a_tps_column() {
    let mut r = fixture::http_goose();
    r.summary.committed = 0;
    r.summary.committed_tps = 0.0;
    for s in &mut r.stages {
        s.committed = 0;
        s.committed_tps = 0.0;
    }
    for i in &mut r.intervals {
        i.committed = 0;
        i.committed_tps = 0.0;
    }
    let md = text_of(&r, Format::Markdown, "report.md");
    assert!(md.contains("| Stage | Time | ops/s | p50 |"), "{md}");
    assert!(!md.contains("| TPS |"));
    let ctx = report::context(&r).unwrap();
    assert_eq!(ctx.charts[0].series[0], "operations/s");
}

#[test]
fn long_tables_break_across_pages_with_their_header() {
    let mut r = fixture::sample();
    let profile = r.profile.as_mut().unwrap();
    profile.top_frames = (0..150)
        .map(|i| results::FrameShare {
            name: format!("engine::module_{i}::some_rather_long_function_name_{i}<T>::call"),
            self_pct: 0.5,
        })
        .collect();
    let pdf = &render_to_bytes(&r, Format::Pdf).unwrap()[0].bytes;
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    assert!(pages.len() >= 7, "{} pages", pages.len());
    let with_header = pages
        .iter()
        .filter(|p| {
            doc.extract_text(&[**p])
                .unwrap_or_default()
                .contains("Frame (self time)")
        })
        .count();
    assert!(
        with_header >= 2,
        "table header repeated on {with_header} pages"
    );
    let text = doc.extract_text(&pages).unwrap();
    assert!(text.contains("some_rather_long_function_name_149"));
}

/// A run with no criteria is "not judged" in every format, never "pass", and JUnit still
/// holds one testcase (the run, skipped): an empty suite reads as green in CI.
#[test]
fn not_judged_says_so_in_every_format() {
    let mut r = fixture::sample();
    r.criteria.clear();
    r.audit = None;
    r.verdict = results::Verdict {
        status: results::Status::NotJudged,
        reasons: vec!["no criteria: not judged (the scenario sets none)".into()],
    };
    let md = text_of(&r, Format::Markdown, "report.md");
    assert!(md.contains("**NOT JUDGED**"), "{md}");
    assert!(md.contains("not judged (it is not a pass)"), "{md}");
    let html = text_of(&r, Format::Html, "report.html");
    assert!(html.contains("<div class=\"verdict not-judged\"><span class=\"status\">NOT JUDGED"));
    let (_, pdf) = pdf_text(&render_to_bytes(&r, Format::Pdf).unwrap()[0].bytes);
    assert!(pdf.contains("JUDGED"), "{pdf:.400}");
    let text = text_summary(&r);
    assert!(text.starts_with("transfer-sustain: NOT JUDGED"), "{text}");
    for out in [&md, &html, &pdf, &text] {
        assert!(
            !out.contains("PASS"),
            "a not-judged run is never called a pass"
        );
    }
    let xml = text_of(&r, Format::Junit, "junit.xml");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 1, "{xml}");
    assert_eq!(cases[0].attribute("name"), Some("run"));
    let skipped = cases[0]
        .children()
        .find(|n| n.has_tag_name("skipped"))
        .unwrap();
    assert_eq!(
        skipped.attribute("message"),
        Some("no criteria: not judged (the scenario sets none)")
    );
}

/// Every status gives the run its own testcase, with the outcome CI understands.
#[test]
fn junit_always_holds_the_run() {
    use results::Status;
    for (status, child) in [
        (Status::Pass, None),
        (Status::Fail, Some("failure")),
        (Status::Invalid, Some("error")),
        (Status::Aborted, Some("error")),
        (Status::NotJudged, Some("skipped")),
    ] {
        let mut r = fixture::sample();
        r.criteria.clear();
        r.audit = None;
        r.verdict.status = status;
        r.verdict.reasons = vec!["why".into()];
        let xml = text_of(&r, Format::Junit, "junit.xml");
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let run = doc
            .descendants()
            .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("run"))
            .unwrap_or_else(|| panic!("{status:?}: {xml}"));
        let got = run
            .children()
            .find(|n| {
                ["failure", "error", "skipped"]
                    .iter()
                    .any(|t| n.has_tag_name(*t))
            })
            .map(|n| n.tag_name().name());
        assert_eq!(got, child, "{status:?}: {xml}");
    }
}

/// The offered rate stands next to the committed one, so a shortfall shows.
#[test]
fn the_steady_sentence_states_the_offered_rate() {
    let mut r = fixture::sample();
    r.summary.offered_tps = Some(8_510_000.0);
    let md = text_of(&r, Format::Markdown, "report.md");
    assert!(md.contains(" (offered 8.51M tx/s), errors "), "{md}");
    assert!(text_summary(&r).contains("(offered 8.51M tx/s)"));
}

/// A criterion whose sampling interval straddles its target says so in every format, next to
/// its status; one that was decided (or is not a percentile) adds nothing.
#[test]
fn a_not_significant_criterion_says_so_everywhere() {
    let mut r = fixture::sample();
    let p99 = r.criteria.iter_mut().find(|c| c.name == "max_p99").unwrap();
    p99.significant = Some(false);
    let md = text_of(&r, Format::Markdown, "report.md");
    assert!(md.contains("**✗ FAIL, not significant**"), "{md}");
    assert_eq!(md.matches("not significant**").count(), 1, "{md}");
    let html = text_of(&r, Format::Html, "report.html");
    assert!(html.contains("✗ FAIL, not significant"), "{html}");
    let junit = text_of(&r, Format::Junit, "junit.xml");
    assert!(
        junit.contains("target ≤ 0.75 ms, not significant\""),
        "{junit}"
    );
    assert!(text_summary(&r).contains("FAIL, not significant"));
}

/// JUnit carries the p99 with its sampling interval as properties.
#[test]
fn junit_states_the_p99_interval() {
    let r = fixture::sample();
    let b = r
        .summary
        .latency_us
        .interval(results::Quantile::P99)
        .unwrap();
    let junit = text_of(&r, Format::Junit, "junit.xml");
    assert!(
        junit.contains(&format!(
            "<property name=\"p99_ci95_lo_us\" value=\"{:.3}\"/>",
            b.lo
        )),
        "{junit}"
    );
    assert!(junit.contains("name=\"p99_ci95_hi_us\""), "{junit}");
}

/// Per-template figures: a table after the stages in Markdown, HTML and PDF (timed templates,
/// then the setup group under its marker), properties in JUnit; nothing without them.
#[test]
fn failed_answers_are_shown_in_every_format() {
    let r = fixture::http_templates();
    let md = text_of(&r, Format::Markdown, "report.md");
    let at = md.find("What the failed answers said").expect("the table");
    assert!(md.find("## Errors").unwrap() < at, "{md}");
    let table = &md[at..];
    assert!(
        table.contains(
            "| status\\_4xx | 401 | login | 2 | 800 ms | {\"error\":\"bad password \\<for user-7\\>\"} |"
        ),
        "{table}"
    );
    assert!(
        table.contains("| status\\_5xx | 503 | transfer | 1 | 12.5 s | (no body held) |"),
        "{table}"
    );
    assert!(
        table.contains("first 64 failed answers of each kind"),
        "{table}"
    );
    let html = text_of(&r, Format::Html, "report.html");
    assert!(
        html.contains("bad password &lt;for user-7&gt;"),
        "escaped once: {html}"
    );
    let outputs = render_to_bytes(&r, Format::Pdf).unwrap();
    let (_, pdf) = pdf_text(&outputs[0].bytes);
    assert!(pdf.contains("bad password"), "{pdf:.3000}");
    // A run whose answers all succeeded, or failed without one: no table.
    let plain = fixture::sample();
    assert!(!text_of(&plain, Format::Markdown, "report.md").contains("failed answers said"));
}

#[test]
fn request_templates_get_a_table_in_every_format() {
    let r = fixture::http_templates();
    let md = text_of(&r, Format::Markdown, "report.md");
    let at = md.find("## By request template").expect("the section");
    assert!(md.find("## Results by stage").unwrap() < at);
    let section = &md[at..md[at..].find("## Errors").unwrap() + at];
    insta::assert_snapshot!(section);
    let html = text_of(&r, Format::Html, "report.html");
    assert!(html.contains("By request template"), "{html}");
    assert!(html.contains(report::doc::SETUP_GROUP));
    let outputs = render_to_bytes(&r, Format::Pdf).unwrap();
    let (_, text) = pdf_text(&outputs[0].bytes);
    assert!(text.contains("By request template"), "{text:.2000}");
    assert!(text.contains("login"), "{text:.2000}");
    let junit = text_of(&r, Format::Junit, "junit.xml");
    let ops = r.templates[0].ops;
    assert!(
        junit.contains(&format!(
            "<property name=\"template.transfer.ops\" value=\"{ops}\"/>"
        )),
        "{junit}"
    );
    assert!(
        junit.contains("name=\"setup.login.errors\" value=\"2\""),
        "{junit}"
    );
    // A run without them: no section, no properties.
    let plain = fixture::sample();
    assert!(!text_of(&plain, Format::Markdown, "report.md").contains("By request template"));
    assert!(!text_of(&plain, Format::Junit, "junit.xml").contains("template."));
}
