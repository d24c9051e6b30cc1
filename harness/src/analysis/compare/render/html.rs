//! HTML: one self-contained page (no network, no script) with the same table.

use super::super::{Comparison, MetricVerdict, RULE};
use super::cells::{describe, headline, RowText, HEADERS};
use report::escape::xml as xml_esc;
use std::fmt::Write as _;

/// HTML: one self-contained page (no network, no script) with the same table; a regression is
/// bold and marked in words as well as colour, so it survives grey printing.
pub fn render_html(c: &Comparison) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Comparison</title>\n<style>\
         body{font-family:'DejaVu Sans',sans-serif;margin:2em;color:#222}\
         table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}\
         td:first-child,th:first-child,td:last-child{text-align:left}\
         .regressed{font-weight:bold;background:#fbe3e3}.improved{background:#e5f4e5}\
         .rule{max-width:60em;font-size:90%;color:#444}</style></head><body>\n",
    );
    let _ = writeln!(
        out,
        "<h1>Comparison: {}: {}</h1>",
        xml_esc(&c.scenario),
        xml_esc(&headline(c))
    );
    let _ = writeln!(
        out,
        "<ul><li><b>Baseline:</b> {}</li><li><b>New:</b> {}</li>",
        xml_esc(&describe(&c.base)),
        xml_esc(&describe(&c.new))
    );
    for s in c.scenario_changed.iter().chain(&c.drivers_differ) {
        let _ = writeln!(out, "<li><b>Note:</b> {}</li>", xml_esc(s));
    }
    out.push_str("</ul>\n<table>\n<tr>");
    for h in HEADERS {
        let _ = write!(out, "<th>{}</th>", xml_esc(h));
    }
    out.push_str("</tr>\n");
    for r in &c.rows {
        let class = match r.verdict() {
            MetricVerdict::Regressed => " class=\"regressed\"",
            MetricVerdict::Improved => " class=\"improved\"",
            _ => "",
        };
        let _ = write!(out, "<tr{class}>");
        for cell in RowText::of(r).cells() {
            let _ = write!(out, "<td>{}</td>", xml_esc(cell));
        }
        out.push_str("</tr>\n");
    }
    let _ = writeln!(
        out,
        "</table>\n<p class=\"rule\">{}</p>\n</body></html>",
        xml_esc(RULE)
    );
    out
}
