//! `report.md`: the report as GitHub-flavoured Markdown, for pull requests and wikis.
//!
//! Tables follow the criteria tables teams already write by hand; charts are image links to
//! `charts/*.svg` beside the file.

use std::fmt::Write as _;

use crate::doc::{status_label, status_meaning, Align, Block, Table, Tone};
use crate::escape::{markdown as esc, markdown_code, markdown_link_target};
use crate::{Context, Output, Renderer, ReportError};

pub struct Markdown;

impl Renderer for Markdown {
    fn render(&self, ctx: &Context<'_>) -> Result<Vec<Output>, ReportError> {
        Ok(vec![Output {
            path: "report.md".into(),
            bytes: markdown(ctx).into_bytes(),
        }])
    }
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

fn markdown(ctx: &Context<'_>) -> String {
    let mut out = String::new();
    for b in &ctx.doc.blocks {
        match b {
            Block::Title(t) => {
                let _ = writeln!(out, "# {}\n", esc(t));
            }
            Block::Subtitle(t) => {
                let _ = writeln!(out, "{}\n", esc(t));
            }
            Block::Heading(t) => {
                let _ = writeln!(out, "## {}\n", esc(t));
            }
            Block::Verdict { status, reasons } => {
                let _ = writeln!(
                    out,
                    "**{}**: {}\n",
                    status_label(*status),
                    status_meaning(*status)
                );
                for r in reasons {
                    let _ = writeln!(out, "- {}", esc(r));
                }
                if !reasons.is_empty() {
                    out.push('\n');
                }
            }
            Block::Paragraph(t) => {
                let _ = writeln!(out, "{}\n", esc(t));
            }
            Block::Note(t) => {
                let _ = writeln!(out, "<sub>{}</sub>\n", esc(t));
            }
            Block::Bullets(items) => {
                for i in items {
                    let _ = writeln!(out, "- {}", esc(i));
                }
                out.push('\n');
            }
            Block::Pairs(pairs) => {
                for (k, v) in pairs {
                    let _ = writeln!(out, "- **{}**: {}", esc(k), esc(v));
                }
                out.push('\n');
            }
            Block::Table(t) => table(&mut out, t),
            Block::Chart(i) => {
                let c = &ctx.charts[*i];
                let _ = writeln!(
                    out,
                    "![{}](charts/{})\n\n<sub>{}</sub>\n",
                    esc(&c.title),
                    c.file,
                    esc(&c.caption)
                );
            }
            Block::Link { label, href } => {
                let _ = writeln!(out, "[{}](<{}>)\n", esc(label), markdown_link_target(href));
            }
            Block::Code(t) => {
                let _ = writeln!(out, "`{}`\n", markdown_code(t));
            }
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
