//! `report.html`: a [`Doc`] as one self-contained HTML file (inline CSS and SVG, no scripts, no
//! network), so it can be attached to a CI run or mailed and still open years later.
//! [`render`] is the same writer for a Doc built elsewhere.

use std::fmt::Write as _;

use results::Status;

use crate::charts::Chart;
use crate::doc::{status_label, Align, Block, Cell, Doc, Table, Tone};
use crate::escape::html as esc;
use crate::{Context, Output, Renderer, ReportError};

pub(crate) struct Html;

impl Renderer for Html {
    fn render(&self, ctx: &Context<'_>) -> Result<Vec<Output>, ReportError> {
        let r = ctx.result;
        let title = format!("{} – {}", r.scenario.name, status_label(r.verdict.status));
        Ok(vec![Output {
            path: "report.html".into(),
            bytes: page(&ctx.doc, &title, &ctx.charts).into_bytes(),
        }])
    }
}

const CSS: &str = "\
body{font-family:\"DejaVu Sans\",\"Segoe UI\",Helvetica,Arial,sans-serif;color:#222;max-width:960px;margin:2em auto;padding:0 1em;line-height:1.45;font-size:15px}
h1{font-size:1.7em;margin:0 0 .2em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
.sub{color:#666;margin:0 0 1em}.note{color:#666;font-size:.85em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{padding:.3em .7em;border-bottom:1px solid #e3e3e3;vertical-align:top}
th{background:#f2f2f2;text-align:left;border-bottom:2px solid #bbb}td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:bold;border-top:2px solid #bbb}
.good{color:#1a7f37}.bad{color:#c62828;font-weight:bold}.muted{color:#888}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1.2em;margin:.6em 0}dt{color:#555}dd{margin:0}
.verdict{border:2px solid;border-radius:6px;padding:.7em 1em;margin:.6em 0}
.verdict .status{font-size:1.5em;font-weight:bold;letter-spacing:.05em;margin-right:.6em}
.pass{border-color:#1a7f37;background:#eef8f0}.pass .status{color:#1a7f37}
.fail,.invalid{border-color:#c62828;background:#fdeeee}.fail .status,.invalid .status{color:#c62828}
.aborted{border-color:#b26a00;background:#fff6e5}.aborted .status{color:#b26a00}
.not-judged{border-color:#888;background:#f4f4f4}.not-judged .status{color:#555}
.verdict ul{margin:.4em 0 0}
.warning{border-left:4px solid #b26a00;background:#fff6e5;padding:.5em .8em}
figure{margin:1em 0}figure svg{width:100%;height:auto;border:1px solid #eee}figcaption{color:#666;font-size:.85em}
code{font-family:\"DejaVu Sans Mono\",monospace;font-size:.9em}
@media print{body{max-width:none}figure{break-inside:avoid}}
";

/// A document as a whole HTML page with `title` in its `<title>` (the report's own style
/// sheet inline; text escaped with [`crate::escape::html`]). Chart blocks are skipped: they
/// belong to the run report, whose charts this function does not have.
///
/// ```
/// use report::doc::{Block, Doc};
/// let doc = Doc { blocks: vec![Block::Heading("Result".into())] };
/// let html = report::html::render(&doc, "a & b");
/// assert!(html.contains("<title>a &amp; b</title>") && html.contains("<h2>Result</h2>"));
/// ```
pub fn render(doc: &Doc, title: &str) -> String {
    page(doc, title, &[])
}

/// [`render`] for a document with charts of its own (e.g. `harness history`): each
/// `Block::Chart(i)` is `charts[i]`, inline.
pub fn render_with_charts(doc: &Doc, title: &str, charts: &[Chart]) -> String {
    page(doc, title, charts)
}

/// The page, with `charts` for the document's chart blocks.
fn page(doc: &Doc, title: &str, charts: &[Chart]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        esc(title)
    );
    for b in &doc.blocks {
        block(&mut out, b, charts);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn block(out: &mut String, b: &Block, charts: &[Chart]) {
    match b {
        Block::Title(t) => {
            let _ = writeln!(out, "<h1>{}</h1>", esc(t));
        }
        Block::Subtitle(t) => {
            let _ = writeln!(out, "<p class=\"sub\">{}</p>", esc(t));
        }
        Block::Heading(t) => {
            let _ = writeln!(out, "<h2>{}</h2>", esc(t));
        }
        Block::Verdict {
            status,
            meaning,
            reasons,
        } => verdict(out, *status, meaning, reasons),
        Block::Paragraph(t) => {
            let _ = writeln!(out, "<p>{}</p>", esc(t));
        }
        Block::Note(t) => {
            let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(t));
        }
        Block::Warning(t) => {
            let _ = writeln!(
                out,
                "<p class=\"warning\"><strong>Warning</strong>: {}</p>",
                esc(t)
            );
        }
        Block::Bullets(items) => {
            list(out, items);
            out.push('\n');
        }
        Block::Pairs(pairs) => {
            out.push_str("<dl>");
            for (k, v) in pairs {
                let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
            }
            out.push_str("</dl>\n");
        }
        Block::Table(t) => table(out, t),
        Block::Chart(i) => {
            if let Some(c) = charts.get(*i) {
                figure(out, c);
            }
        }
        Block::Link { label, href } => {
            let _ = writeln!(
                out,
                "<p><a href=\"{}\">{}</a> <code>{}</code></p>",
                esc(href),
                esc(label),
                esc(href)
            );
        }
        Block::Code(t) => {
            let _ = writeln!(out, "<p><code>{}</code></p>", esc(t));
        }
    }
}

/// `<ul>` of escaped items, without a line break after it.
fn list(out: &mut String, items: &[String]) {
    out.push_str("<ul>");
    for i in items {
        let _ = write!(out, "<li>{}</li>", esc(i));
    }
    out.push_str("</ul>");
}

/// The verdict box: coloured by status, with the reasons as a list.
fn verdict(out: &mut String, status: Status, meaning: &str, reasons: &[String]) {
    let class = match status {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Aborted => "aborted",
        Status::Invalid => "invalid",
        Status::NotJudged => "not-judged",
    };
    let _ = write!(
        out,
        "<div class=\"verdict {class}\"><span class=\"status\">{}</span>{}",
        status_label(status),
        esc(meaning)
    );
    if !reasons.is_empty() {
        list(out, reasons);
    }
    out.push_str("</div>\n");
}

fn table(out: &mut String, t: &Table) {
    out.push_str("<table>\n<thead><tr>");
    for (name, a) in &t.columns {
        let cls = if *a == Align::Right {
            " class=\"r\""
        } else {
            ""
        };
        let _ = write!(out, "<th{cls}>{}</th>", esc(name));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        let total = row.iter().any(|c| c.tone == Tone::Total);
        out.push_str(if total {
            "<tr class=\"total\">"
        } else {
            "<tr>"
        });
        for (c, (_, a)) in row.iter().zip(&t.columns) {
            cell(out, c, *a);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// A `<td>` with classes for alignment and tone (a total row is bold through its `<tr>`).
fn cell(out: &mut String, c: &Cell, a: Align) {
    let mut classes = Vec::new();
    if a == Align::Right {
        classes.push("r");
    }
    match c.tone {
        Tone::Good => classes.push("good"),
        Tone::Bad => classes.push("bad"),
        Tone::Muted => classes.push("muted"),
        Tone::Plain | Tone::Total => {}
    }
    if classes.is_empty() {
        let _ = write!(out, "<td>{}</td>", esc(&c.text));
    } else {
        let _ = write!(
            out,
            "<td class=\"{}\">{}</td>",
            classes.join(" "),
            esc(&c.text)
        );
    }
}

fn figure(out: &mut String, c: &Chart) {
    let _ = write!(
        out,
        "<figure id=\"chart-{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
        c.file.trim_end_matches(".svg"),
        inline_svg(&c.svg, &c.title),
        esc(&c.caption)
    );
}

/// The chart's SVG without its XML declaration, labelled for screen readers.
fn inline_svg(svg: &str, title: &str) -> String {
    let body = match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    };
    body.replacen(
        "<svg",
        &format!("<svg role=\"img\" aria-label=\"{}\"", esc(title)),
        1,
    )
    .trim_end()
    .to_string()
}

#[cfg(test)]
mod tests {
    use results::CriterionStatus;

    use super::*;

    #[test]
    fn a_custom_doc_renders_as_html() {
        let mut t = Table::new(&[("Metric", Align::Left), ("Status", Align::Left)]);
        t.row(vec![
            Cell::plain("p99 <latency>"),
            Cell::status(CriterionStatus::Fail),
        ]);
        t.row(vec![
            Cell::tone("all", Tone::Total),
            Cell::status(CriterionStatus::Pass),
        ]);
        let doc = Doc {
            blocks: vec![
                Block::Title("Compare \"a\" & 'b'".into()),
                Block::Paragraph("2 < 3".into()),
                Block::Table(t),
                Block::Chart(3),
                Block::Note("Medians of 5 runs.".into()),
            ],
        };
        let html = render(&doc, "compare <x>");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>compare &lt;x&gt;</title>"), "{html}");
        let body = &html[html.find("<body>").unwrap()..];
        assert_eq!(
            body,
            "<body>\n\
             <h1>Compare &quot;a&quot; &amp; &apos;b&apos;</h1>\n\
             <p>2 &lt; 3</p>\n\
             <table>\n<thead><tr><th>Metric</th><th>Status</th></tr></thead>\n<tbody>\n\
             <tr><td>p99 &lt;latency&gt;</td><td class=\"bad\">✗ FAIL</td></tr>\n\
             <tr class=\"total\"><td>all</td><td class=\"good\">✓ pass</td></tr>\n\
             </tbody>\n</table>\n\
             <p class=\"note\">Medians of 5 runs.</p>\n\
             </body>\n</html>\n"
        );
    }
}
