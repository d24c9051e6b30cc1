//! Markdown: the table for a PR comment or a job summary.

use super::super::{Comparison, MetricVerdict, RULE};
use super::cells::{describe, headline, RowText, HEADERS};
use std::fmt::Write as _;

/// Markdown: the same table for a PR comment or a job summary.
pub fn render_markdown(c: &Comparison) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = String::new();
    let _ = writeln!(out, "# Comparison: {}: {}\n", esc(&c.scenario), headline(c));
    let _ = writeln!(out, "- **Baseline:** {}", esc(&describe(&c.base)));
    let _ = writeln!(out, "- **New:** {}", esc(&describe(&c.new)));
    for s in c.scenario_changed.iter().chain(&c.drivers_differ) {
        let _ = writeln!(out, "- **Note:** {}", esc(s));
    }
    out.push('\n');
    let _ = writeln!(out, "| {} |", HEADERS.join(" | "));
    let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|---|");
    for r in &c.rows {
        let mut cells = RowText::of(r).cells().map(esc);
        if r.verdict() == MetricVerdict::Regressed {
            cells[6] = format!("**{}**", cells[6]);
        }
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    let _ = writeln!(out, "\n{RULE}");
    out
}
