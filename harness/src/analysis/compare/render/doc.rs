//! The comparison as a format-neutral `report::doc::Doc`: Markdown and HTML are that one Doc
//! through the report crate's renderers, so they escape, align and colour like the run report
//! and cannot drift apart in content. The table is shared with the text renderer.

use super::cells::{describe, notes, rules, title, RowText, COLUMNS};
use crate::analysis::compare::{Comparison, MetricVerdict};
use report::doc::{Block, Cell, Doc, Table, Tone};

/// Markdown for a PR comment or a job summary.
pub fn render_markdown(c: &Comparison) -> String {
    report::markdown::render(&doc(c))
}

/// One self-contained HTML page (no network, no script); a regression is bold and in words as
/// well as colour, so it survives grey printing.
pub fn render_html(c: &Comparison) -> String {
    report::html::render(&doc(c), &title(c))
}

/// Title with the headline, the two sides and any notes, the table, then the rules.
fn doc(c: &Comparison) -> Doc {
    let mut sides = vec![
        ("Baseline".to_string(), describe(&c.base)),
        ("New".to_string(), describe(&c.new)),
    ];
    for note in notes(c) {
        sides.push(("Note".to_string(), note));
    }
    let mut blocks = vec![
        Block::Title(title(c)),
        Block::Pairs(sides),
        Block::Table(table(c)),
    ];
    blocks.extend(
        rules(c)
            .into_iter()
            .map(|r| Block::Paragraph(r.to_string())),
    );
    Doc { blocks }
}

/// One row per metric, then capacity when a side is a capacity search; figures
/// right-aligned; the verdict column toned like a status column (a regression bad, an
/// improvement good, "n/a", "not comparable" and "info" muted).
pub(super) fn table(c: &Comparison) -> Table {
    let mut t = Table::new(&COLUMNS);
    for r in &c.rows {
        row(&mut t, &RowText::of(r), r.verdict());
    }
    if let Some(cap) = &c.capacity {
        row(&mut t, &RowText::capacity(cap), cap.verdict());
    }
    t
}

fn row(t: &mut Table, text: &RowText, v: MetricVerdict) {
    let [figures @ .., verdict] = text.cells();
    let mut cells: Vec<Cell> = figures.into_iter().map(Cell::plain).collect();
    cells.push(Cell::tone(verdict, tone(v)));
    t.row(cells);
}

fn tone(v: MetricVerdict) -> Tone {
    match v {
        MetricVerdict::Regressed => Tone::Bad,
        MetricVerdict::Improved => Tone::Good,
        MetricVerdict::NotMeasured | MetricVerdict::Info => Tone::Muted,
        MetricVerdict::Unchanged => Tone::Plain,
    }
}
