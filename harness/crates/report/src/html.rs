//! `report.html`: one self-contained file (inline CSS and SVG, no scripts, no network), so it
//! can be attached to a CI run or mailed and still open years later.

use std::fmt::Write as _;

use results::Status;

use crate::doc::{status_label, status_meaning, Align, Block, Tone};
use crate::escape::html as esc;
use crate::{Context, Output, Renderer, ReportError};

pub struct Html;

impl Renderer for Html {
    fn render(&self, ctx: &Context<'_>) -> Result<Vec<Output>, ReportError> {
        Ok(vec![Output {
            path: "report.html".into(),
            bytes: html(ctx).into_bytes(),
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
.verdict ul{margin:.4em 0 0}
figure{margin:1em 0}figure svg{width:100%;height:auto;border:1px solid #eee}figcaption{color:#666;font-size:.85em}
code{font-family:\"DejaVu Sans Mono\",monospace;font-size:.9em}
@media print{body{max-width:none}figure{break-inside:avoid}}
";

fn html(ctx: &Context<'_>) -> String {
    let r = ctx.result;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{} – {}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        esc(&r.scenario.name),
        status_label(r.verdict.status)
    );
    for b in &ctx.doc.blocks {
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
            Block::Verdict { status, reasons } => {
                let class = match status {
                    Status::Pass => "pass",
                    Status::Fail => "fail",
                    Status::Aborted => "aborted",
                    Status::Invalid => "invalid",
                };
                let _ = write!(
                    out,
                    "<div class=\"verdict {class}\"><span class=\"status\">{}</span>{}",
                    status_label(*status),
                    esc(status_meaning(*status))
                );
                if !reasons.is_empty() {
                    out.push_str("<ul>");
                    for r in reasons {
                        let _ = write!(out, "<li>{}</li>", esc(r));
                    }
                    out.push_str("</ul>");
                }
                out.push_str("</div>\n");
            }
            Block::Paragraph(t) => {
                let _ = writeln!(out, "<p>{}</p>", esc(t));
            }
            Block::Note(t) => {
                let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(t));
            }
            Block::Bullets(items) => {
                out.push_str("<ul>");
                for i in items {
                    let _ = write!(out, "<li>{}</li>", esc(i));
                }
                out.push_str("</ul>\n");
            }
            Block::Pairs(pairs) => {
                out.push_str("<dl>");
                for (k, v) in pairs {
                    let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
                }
                out.push_str("</dl>\n");
            }
            Block::Table(t) => {
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
                        let mut classes = Vec::new();
                        if *a == Align::Right {
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
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
            Block::Chart(i) => {
                let c = &ctx.charts[*i];
                let _ = write!(
                    out,
                    "<figure id=\"chart-{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
                    c.file.trim_end_matches(".svg"),
                    inline_svg(&c.svg, &c.title),
                    esc(&c.caption)
                );
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
    out.push_str("</body>\n</html>\n");
    out
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
