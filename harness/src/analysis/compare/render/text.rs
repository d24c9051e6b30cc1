//! Plain text: an aligned table for terminals and CI logs, under a headline and the two sides,
//! with the rule at the foot.

use super::super::{Comparison, RULE};
use super::cells::{describe, headline, RowText, HEADERS};
use std::fmt::Write as _;

/// Plain text: an aligned table for terminals and CI logs.
pub fn render_text(c: &Comparison) -> String {
    let rows: Vec<RowText> = c.rows.iter().map(RowText::of).collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r.cells()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 7]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - cell.chars().count();
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(cell);
            s.push_str(&" ".repeat(pad));
        }
        s.trim_end().to_string()
    };
    let mut out = String::new();
    let _ = writeln!(out, "Comparison: {} — {}", c.scenario, headline(c));
    let _ = writeln!(out, "  base: {}", describe(&c.base));
    let _ = writeln!(out, "  new:  {}", describe(&c.new));
    for s in c.scenario_changed.iter().chain(&c.drivers_differ) {
        let _ = writeln!(out, "  note: {s}");
    }
    out.push('\n');
    let _ = writeln!(out, "{}", line(HEADERS));
    for r in &rows {
        let _ = writeln!(out, "{}", line(r.cells()));
    }
    out.push('\n');
    let _ = writeln!(out, "{RULE}");
    out
}
