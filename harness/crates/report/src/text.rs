//! The terminal summary printed at the end of `harness run` and by `harness report`.
//!
//! Plain text only (no colour codes: it is also what CI logs keep): the verdict, the criteria
//! table with aligned columns, one steady-state line, the noisy-machine warning when there is
//! one (`doc::noise_warning`), and a capacity search's answer in one line (it is what a search
//! was run for).

use std::fmt::Write as _;

use results::RunResult;

use crate::doc::{self, Align, Table};

/// Verdict and criteria table as plain text for a terminal.
pub fn text_summary(result: &RunResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} ({})",
        result.scenario.name,
        doc::status_label(result.verdict.status),
        doc::status_meaning(result)
    );
    for r in &result.verdict.reasons {
        let _ = writeln!(out, "  - {r}");
    }
    if !result.criteria.is_empty() {
        out.push('\n');
        out.push_str(&table(&doc::criteria_table(result)));
    }
    out.push('\n');
    let _ = writeln!(out, "{}", doc::steady_sentence(result));
    if let Some(w) = doc::noise_warning(result) {
        let _ = writeln!(out, "Warning: {w}");
    }
    if let Some(line) = doc::capacity_line(result) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(a) = &result.audit {
        let _ = writeln!(
            out,
            "Audit: {}",
            if a.ok {
                "ok (supply conserved, ledger consistent)".to_string()
            } else {
                format!("FAILED: {}", a.problems.join("; "))
            }
        );
    }
    out
}

/// A table with aligned columns, indented two spaces, a dashed rule under the header.
fn table(t: &Table) -> String {
    let width = |s: &str| s.chars().count();
    let widths: Vec<usize> = (0..t.columns.len())
        .map(|c| {
            t.rows
                .iter()
                .map(|r| width(&r[c].text))
                .chain(std::iter::once(width(&t.columns[c].0)))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| -> String {
        let mut l = String::from("  ");
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(width(cell));
            let last = i + 1 == cells.len();
            match t.columns[i].1 {
                Align::Right => {
                    l.push_str(&" ".repeat(pad));
                    l.push_str(cell);
                }
                Align::Left => {
                    l.push_str(cell);
                    if !last {
                        l.push_str(&" ".repeat(pad));
                    }
                }
            }
            if !last {
                l.push_str("  ");
            }
        }
        l
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        line(t.columns.iter().map(|c| c.0.as_str()).collect())
    );
    let _ = writeln!(
        out,
        "  {}",
        "-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1))
    );
    for r in &t.rows {
        let _ = writeln!(out, "{}", line(r.iter().map(|c| c.text.as_str()).collect()));
    }
    out
}
