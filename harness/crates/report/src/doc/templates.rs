//! The "By request template" section: each `[[requests]]` template's operations, rate, errors
//! and latency, then the setup templates (sent once per new connection) in a row group of
//! their own.
//!
//! Why its own section after the stages: a scenario that mixes a fast health check with slow
//! transfers has one summary latency that describes neither; the rows show which template
//! is slow or failing. Setup requests are kept out of every other figure, so the row group
//! says so where they are read.

use results::{Quantile, RunResult, TemplateFigures};

use super::{Align, Block, Cell, Table, Tone};
use crate::fmt;

/// What the setup row group is headed by.
pub const SETUP_GROUP: &str = "Setup requests (once per connection, not in the figures above)";

/// The section's blocks; nothing when the result has no per-template figures.
pub(super) fn templates(r: &RunResult) -> Vec<Block> {
    if r.templates.is_empty() {
        return Vec::new();
    }
    let mut b = vec![
        Block::Heading("By request template".into()),
        Block::Table(table(&r.templates)),
        Block::Note(format!(
            "Timed templates over the steady state (warm-up excluded): their operations add up \
             to the steady state's. Setup templates over the whole run. Latency of the \
             successful requests; errors with their share of the template's requests. {}",
            super::SAMPLING_NOTE
        )),
    ];
    let checks: Vec<String> = r
        .templates
        .iter()
        .flat_map(|t| {
            t.checks_failed
                .iter()
                .map(move |(check, n)| format!("{}: {check} ({}×)", t.name, fmt::count(*n)))
        })
        .collect();
    if !checks.is_empty() {
        b.push(Block::Paragraph(
            "Failed checks (error kind `check`):".into(),
        ));
        b.push(Block::Bullets(checks));
    }
    b
}

/// Timed templates first, then the setup group under its marker row.
fn table(templates: &[TemplateFigures]) -> Table {
    let mut t = Table::new(&[
        ("Template", Align::Left),
        ("Requests", Align::Right),
        ("req/s", Align::Right),
        ("p50", Align::Right),
        ("p99", Align::Right),
        ("Errors", Align::Right),
    ]);
    for f in templates.iter().filter(|f| !f.setup) {
        t.row(row(f));
    }
    if templates.iter().any(|f| f.setup) {
        let mut marker = vec![Cell::tone(SETUP_GROUP, Tone::Muted)];
        marker.resize(t.columns.len(), Cell::plain(""));
        t.row(marker);
        for f in templates.iter().filter(|f| f.setup) {
            t.row(row(f));
        }
    }
    t
}

fn row(f: &TemplateFigures) -> Vec<Cell> {
    let l = &f.latency_us;
    vec![
        Cell::plain(&f.name),
        Cell::plain(fmt::count(f.ops)),
        Cell::plain(f.ops_per_s.map_or_else(|| "–".to_string(), fmt::si)),
        Cell::plain(fmt::percentile_cell(l, Quantile::P50)),
        Cell::plain(fmt::percentile_cell(l, Quantile::P99)),
        errors(f),
    ]
}

/// "0", or "12 (0.5 %: status_5xx 10, timeout 2)", most frequent kind first; bad when any.
fn errors(f: &TemplateFigures) -> Cell {
    if f.errors == 0 {
        return Cell::plain("0");
    }
    let mut kinds: Vec<_> = f.errors_by_kind.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let kinds = kinds
        .iter()
        .map(|(k, n)| format!("{k} {}", fmt::count(**n)))
        .collect::<Vec<_>>()
        .join(", ");
    Cell::tone(
        format!(
            "{} ({}: {kinds})",
            fmt::count(f.errors),
            fmt::fraction_pct(f.error_rate)
        ),
        Tone::Bad,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use results::fixture;

    #[test]
    fn timed_templates_come_first_and_setup_ones_under_their_marker() {
        let r = fixture::http_templates();
        let t = table(&r.templates);
        let names: Vec<&str> = t.rows.iter().map(|row| row[0].text.as_str()).collect();
        assert_eq!(names, ["transfer", "health", SETUP_GROUP, "login"]);
        let login = &t.rows[3];
        assert_eq!(login[1].text, "64");
        assert_eq!(login[2].text, "–", "no rate for a setup template");
        assert_eq!(login[5].text, "2 (3.12 %: status_4xx 2)");
        assert_eq!(login[5].tone, Tone::Bad);
        assert_eq!(t.rows[1][5], Cell::plain("0"));
        // The p50 cell is the shared formatter's, brackets and all.
        let p50 = fmt::percentile_cell(&r.templates[1].latency_us, Quantile::P50);
        assert_eq!(t.rows[1][3].text, p50);
        assert!(p50.contains('('), "{p50}");
    }

    #[test]
    fn no_setup_template_no_marker_and_no_templates_no_section() {
        let mut r = fixture::http_templates();
        r.templates.pop();
        assert_eq!(table(&r.templates).rows.len(), 2);
        assert!(templates(&fixture::sample()).is_empty());
    }

    #[test]
    fn failed_checks_are_listed_by_template() {
        let mut r = fixture::http_templates();
        r.templates[0]
            .checks_failed
            .insert("json /ok equals true".into(), 1_200);
        let b = templates(&r);
        let Some(Block::Bullets(items)) = b.last() else {
            panic!("a list of failed checks: {b:?}")
        };
        assert_eq!(items, &["transfer: json /ok equals true (1,200×)"]);
    }
}
