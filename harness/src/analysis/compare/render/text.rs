//! Plain text for terminals and CI logs: the headline, the two sides, the table of
//! [`super::doc`] with aligned columns (figures right-aligned), and the rules at the foot.

use super::cells::{describe, notes, rules, title};
use super::doc::table;
use crate::analysis::compare::Comparison;
use report::doc::{Align, Table};
use std::fmt::Write as _;

/// Plain text: an aligned table for terminals and CI logs.
pub fn render_text(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", title(c));
    let _ = writeln!(out, "  base: {}", describe(&c.base));
    let _ = writeln!(out, "  new:  {}", describe(&c.new));
    for s in notes(c) {
        let _ = writeln!(out, "  note: {s}");
    }
    out.push('\n');
    out.push_str(&aligned(&table(c)));
    out.push('\n');
    for rule in rules(c) {
        let _ = writeln!(out, "{rule}");
    }
    out
}

/// The table as lines of columns two spaces apart, each padded to its widest cell on the side
/// its alignment says; no trailing spaces.
fn aligned(t: &Table) -> String {
    let width = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = t.columns.iter().map(|(h, _)| width(h)).collect();
    for row in &t.rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(&cell.text));
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            let pad = " ".repeat(widths[i] - width(cell));
            if i > 0 {
                s.push_str("  ");
            }
            match t.columns[i].1 {
                Align::Left => s.push_str(&format!("{cell}{pad}")),
                Align::Right => s.push_str(&format!("{pad}{cell}")),
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(t.columns.iter().map(|(h, _)| h.as_str()).collect());
    for row in &t.rows {
        out.push_str(&line(row.iter().map(|c| c.text.as_str()).collect()));
    }
    out
}
