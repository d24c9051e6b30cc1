//! `report.md`: a [`Doc`] as GitHub-flavoured Markdown, for pull requests and wikis.
//!
//! Tables follow the criteria tables teams already write by hand; charts are image links to
//! `charts/*.svg` beside the file. [`render`] is the same writer for a Doc built elsewhere.

use std::fmt::Write as _;

use crate::charts::Chart;
use crate::doc::{status_label, Align, Block, Doc, Table, Tone};
use crate::escape::{markdown as esc, markdown_code, markdown_link_target};
use crate::{Context, Output, Renderer, ReportError};

pub(crate) struct Markdown;

impl Renderer for Markdown {
    fn render(&self, ctx: &Context<'_>) -> Result<Vec<Output>, ReportError> {
        Ok(vec![Output {
            path: "report.md".into(),
            bytes: write(&ctx.doc, &ctx.charts).into_bytes(),
        }])
    }
}

/// A document as Markdown: `#` title, `##` headings, pipe tables (bad and total cells in
/// bold), notes as `<sub>`; text is escaped with [`crate::escape::markdown`]. Chart blocks
/// are skipped: they belong to the run report, whose charts this function does not have.
///
/// ```
/// use report::doc::{Block, Doc};
/// let doc = Doc { blocks: vec![Block::Heading("Result".into()), Block::Paragraph("a|b".into())] };
/// assert_eq!(report::markdown::render(&doc), "## Result\n\na\\|b\n");
/// ```
pub fn render(doc: &Doc) -> String {
    write(doc, &[])
}

/// [`render`] for a document with charts of its own (e.g. `harness history`): each
/// `Block::Chart(i)` links `charts/<charts[i].file>`, which the caller writes beside it.
pub fn render_with_charts(doc: &Doc, charts: &[Chart]) -> String {
    write(doc, charts)
}

/// The document with `charts` for its chart blocks.
fn write(doc: &Doc, charts: &[Chart]) -> String {
    let mut out = String::new();
    for b in &doc.blocks {
        block(&mut out, b, charts);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn block(out: &mut String, b: &Block, charts: &[Chart]) {
    match b {
        Block::Title(t) => {
            let _ = writeln!(out, "# {}\n", esc(t));
        }
        Block::Subtitle(t) | Block::Paragraph(t) => {
            let _ = writeln!(out, "{}\n", esc(t));
        }
        Block::Heading(t) => {
            let _ = writeln!(out, "## {}\n", esc(t));
        }
        Block::Verdict {
            status,
            meaning,
            reasons,
        } => {
            let _ = writeln!(out, "**{}**: {meaning}\n", status_label(*status));
            if !reasons.is_empty() {
                list(out, reasons.iter().map(|r| esc(r)));
            }
        }
        Block::Note(t) => {
            let _ = writeln!(out, "<sub>{}</sub>\n", esc(t));
        }
        Block::Warning(t) => {
            let _ = writeln!(out, "> **Warning**: {}\n", esc(t));
        }
        Block::Bullets(items) => list(out, items.iter().map(|i| esc(i))),
        Block::Pairs(pairs) => list(
            out,
            pairs
                .iter()
                .map(|(k, v)| format!("**{}**: {}", esc(k), esc(v))),
        ),
        Block::Table(t) => table(out, t),
        Block::Chart(i) => {
            if let Some(c) = charts.get(*i) {
                let _ = writeln!(
                    out,
                    "![{}](charts/{})\n\n<sub>{}</sub>\n",
                    esc(&c.title),
                    c.file,
                    esc(&c.caption)
                );
            }
        }
        Block::Link { label, href } => {
            let _ = writeln!(out, "[{}](<{}>)\n", esc(label), markdown_link_target(href));
        }
        Block::Code(t) => {
            let _ = writeln!(out, "`{}`\n", markdown_code(t));
        }
    }
}

/// A bulleted list of already escaped items, closed by a blank line.
fn list(out: &mut String, items: impl Iterator<Item = String>) {
    for i in items {
        let _ = writeln!(out, "- {i}");
    }
    out.push('\n');
}

fn table(out: &mut String, t: &Table) {
    out.push('|');
    for (name, _) in &t.columns {
        let _ = write!(out, " {} |", esc(name));
    }
    out.push_str("\n|");
    for (_, a) in &t.columns {
        out.push_str(match a {
            Align::Left => ":---|",
            Align::Right => "---:|",
        });
    }
    out.push('\n');
    for row in &t.rows {
        out.push('|');
        for c in row {
            let text = esc(&c.text);
            match c.tone {
                Tone::Bad | Tone::Total => {
                    let _ = write!(out, " **{text}** |");
                }
                _ => {
                    let _ = write!(out, " {text} |");
                }
            }
        }
        out.push('\n');
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use results::CriterionStatus;

    use super::*;
    use crate::doc::Cell;

    #[test]
    fn a_custom_doc_renders_as_markdown() {
        let mut t = Table::new(&[
            ("Metric", Align::Left),
            ("Change", Align::Right),
            ("Status", Align::Left),
        ]);
        t.row(vec![
            Cell::plain("p99 <latency>"),
            Cell::plain("+12 %"),
            Cell::status(CriterionStatus::Fail),
        ]);
        t.row(vec![
            Cell::plain("tx/s"),
            Cell::plain("-1 %"),
            Cell::status(CriterionStatus::Pass),
        ]);
        let doc = Doc {
            blocks: vec![
                Block::Title("Compare a|b".into()),
                Block::Heading("Figures".into()),
                Block::Table(t),
                Block::Chart(0),
                Block::Note("Medians of 5 runs.".into()),
                Block::Bullets(vec!["one *star*".into(), "two".into()]),
            ],
        };
        assert_eq!(
            render(&doc),
            "# Compare a\\|b\n\n## Figures\n\n\
             | Metric | Change | Status |\n|:---|---:|:---|\n\
             | p99 \\<latency\\> | +12 % | **✗ FAIL** |\n\
             | tx/s | -1 % | ✓ pass |\n\n\
             <sub>Medians of 5 runs.</sub>\n\n\
             - one \\*star\\*\n- two\n"
        );
    }
}
