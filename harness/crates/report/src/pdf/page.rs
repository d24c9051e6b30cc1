//! Page composition: the document's blocks laid out in order, then every page decorated with
//! its running header and footer.
//!
//! This is where a kind of block is given its look in print (sizes, colours, gaps) and where
//! headings are kept with what follows them. Decoration comes last because "page N of M"
//! needs the page count.

use results::RunResult;

use super::fonts::{Face, Fonts};
use super::layout::{Layout, Op};
use super::style::*;
use crate::charts::Chart;
use crate::doc::{status_label, Block, Doc};

/// Size of the running header and footer.
const RUNNING: f32 = 7.5;

/// Lay out the document into pages of drawing operations.
pub(super) fn compose(doc: &Doc, charts: &[Chart], fonts: &Fonts) -> Vec<Vec<Op>> {
    let mut l = Layout::new(fonts);
    let blocks = &doc.blocks;
    for (i, b) in blocks.iter().enumerate() {
        match b {
            Block::Title(t) => title(&mut l, t),
            Block::Subtitle(t) => {
                l.paragraph(Face::Regular, BODY, GREY, t, 0.0);
                l.gap(2.0);
            }
            Block::Heading(t) => l.heading(t, keep_with_heading(&blocks[i + 1..], fonts)),
            Block::Verdict {
                status,
                meaning,
                reasons,
            } => l.verdict(*status, meaning, reasons),
            Block::Paragraph(t) => {
                l.paragraph(Face::Regular, BODY, INK, t, 0.0);
                l.gap(4.0);
            }
            Block::Note(t) => {
                l.paragraph(Face::Regular, SMALL, GREY, t, 0.0);
                l.gap(4.0);
            }
            Block::Warning(t) => {
                l.paragraph(Face::Bold, BODY, WARN, &format!("Warning: {t}"), 0.0);
                l.gap(4.0);
            }
            Block::Bullets(items) => {
                l.bullets(items, BODY, INK, 4.0);
                l.gap(4.0);
            }
            Block::Pairs(p) => l.pairs(p),
            Block::Table(t) => l.table(t),
            Block::Chart(i) => {
                if let Some(c) = charts.get(*i) {
                    l.chart(*i, &c.caption);
                }
            }
            Block::Link { label, href } => l.link(label, href),
            Block::Code(t) => {
                l.paragraph(Face::Mono, SMALL, INK, t, 0.0);
                l.gap(4.0);
            }
        }
    }
    l.pages
}

fn title(l: &mut Layout<'_>, t: &str) {
    let size = 20.0;
    for line in l.fonts.wrap(Face::Bold, size, t, WIDTH) {
        l.text(MARGIN_X, l.y + size, Face::Bold, size, INK, &line);
        l.y += size * 1.25;
    }
}

/// How much of what follows a heading must fit under it (no orphaned headings): short text
/// blocks whole, plus the start of the first larger block (a few table rows, a whole chart,
/// a short list of facts).
fn keep_with_heading(after: &[Block], fonts: &Fonts) -> f32 {
    let lh = BODY * LEADING;
    let mut keep = 0.0;
    for b in after {
        match b {
            Block::Paragraph(t) | Block::Note(t) => {
                keep += fonts.wrap(Face::Regular, BODY, t, WIDTH).len() as f32 * lh + 4.0;
            }
            Block::Link { .. } => keep += 2.0 * lh,
            Block::Pairs(p) if p.len() <= 16 => return keep + p.len() as f32 * lh,
            Block::Table(_) => return keep + TABLE * LEADING * 3.0 + 16.0,
            Block::Chart(_) => return keep + chart_height(),
            Block::Verdict { reasons, .. } => return keep + 50.0 + reasons.len() as f32 * lh,
            Block::Heading(_) | Block::Title(_) => return keep,
            _ => return keep + 3.0 * lh,
        }
        if keep > 120.0 {
            return keep;
        }
    }
    keep
}

/// Running header (from page 2: report and verdict) and footer (every page: run identity and
/// "Page N of M").
pub(super) fn decorate(pages: &mut [Vec<Op>], r: &RunResult, fonts: &Fonts) {
    let n = pages.len();
    let left = format!(
        "{} · harness {}",
        crate::fmt::timestamp(&r.environment.started_at),
        r.environment.harness_version
    );
    let head = format!("Load test report: {}", r.scenario.name);
    let status = status_label(r.verdict.status);
    let right_x = |face: Face, text: &str| MARGIN_X + WIDTH - fonts.width(face, RUNNING, text);
    for (i, ops) in pages.iter_mut().enumerate() {
        let foot_y = PAGE_H - 32.0;
        ops.push(full_rule(foot_y - 10.0));
        ops.push(running(MARGIN_X, foot_y, Face::Regular, left.clone()));
        let right = format!("Page {} of {n}", i + 1);
        ops.push(running(
            right_x(Face::Regular, &right),
            foot_y,
            Face::Regular,
            right,
        ));
        if i > 0 {
            ops.push(running(MARGIN_X, 36.0, Face::Regular, head.clone()));
            ops.push(running(
                right_x(Face::Bold, status),
                36.0,
                Face::Bold,
                status.to_string(),
            ));
            ops.push(full_rule(42.0));
        }
    }
}

/// Grey text of the running header or footer.
fn running(x: f32, baseline: f32, face: Face, text: String) -> Op {
    Op::Text {
        x,
        baseline,
        face,
        size: RUNNING,
        color: GREY,
        text,
    }
}

/// A thin rule across the text width.
fn full_rule(y: f32) -> Op {
    Op::Line {
        x1: MARGIN_X,
        y1: y,
        x2: MARGIN_X + WIDTH,
        y2: y,
        color: LIGHT_RULE,
        width: 0.5,
    }
}
