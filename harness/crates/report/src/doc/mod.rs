//! The report's content, decided once and independent of format.
//!
//! A [`Doc`] is a list of [`Block`]s (headings, paragraphs, tables, charts); Markdown
//! (`markdown::render`), HTML (`html::render`) and PDF only decide how each
//! kind of block looks, so the formats cannot drift apart in content. [`build`] makes the run
//! report's Doc from a [`results::RunResult`]; other crates build their own from these blocks
//! and render them the same way:
//!
//! ```
//! use report::doc::{Align, Block, Cell, Doc, Table};
//! use results::CriterionStatus;
//! let mut t = Table::new(&[("Metric", Align::Left), ("Change", Align::Right), ("Status", Align::Left)]);
//! t.row(vec![Cell::plain("p99"), Cell::plain("+3.1 %"), Cell::status(CriterionStatus::Pass)]);
//! let doc = Doc {
//!     blocks: vec![Block::Heading("Comparison".into()), Block::Table(t)],
//! };
//! assert!(report::markdown::render(&doc).contains("| p99 | +3.1 % | ✓ pass |"));
//! assert!(report::html::render(&doc, "Comparison").contains("<td class=\"good\">✓ pass</td>"));
//! ```

use results::{CriterionResult, CriterionStatus, Status};

mod build;
mod capacity;
mod connections;
mod generator;
mod instructions;
mod intervals;
mod noise;
mod outcomes;
mod tables;
mod templates;

pub use build::{build, driver_sentence, steady_sentence, throughput_basis};
pub use capacity::{
    bracket_text, capacity_figure, capacity_line, capacity_search, ended_name, probe_latencies,
    slo_latency_text, slo_text, summary_label, ProbeLatency,
};
pub use intervals::{full_intervals, short_intervals_note};
pub use noise::noise_warning;
pub use tables::criteria_table;
pub use templates::SETUP_GROUP;

/// Column alignment in a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Emphasis for a table cell or a badge.
///
/// A status column is a column of [`Tone::Good`] / [`Tone::Bad`] / [`Tone::Muted`] cells
/// (see [`Cell::status`]): HTML and PDF colour them, Markdown shows bad ones in bold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Good,
    Bad,
    Muted,
    /// A row that sums up the rows above (bold).
    Total,
}

/// One table cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The text as shown (already formatted, not yet escaped).
    pub text: String,
    pub tone: Tone,
}

impl Cell {
    /// A cell without emphasis.
    pub fn plain(text: impl Into<String>) -> Cell {
        Cell::tone(text, Tone::Plain)
    }

    /// A cell with the given emphasis.
    pub fn tone(text: impl Into<String>, tone: Tone) -> Cell {
        Cell {
            text: text.into(),
            tone,
        }
    }

    /// A status-column cell for a pass / fail / not-measured outcome: "✓ pass" (good),
    /// "✗ FAIL" (bad), "– not measured" (muted), as in the criteria table.
    pub fn status(s: CriterionStatus) -> Cell {
        let (label, tone) = criterion_status_label(s);
        Cell::tone(label, tone)
    }

    /// A criterion's status cell: [`Cell::status`], plus ", not significant" where the
    /// figure's sampling interval straddles the target ("✓ pass, not significant").
    pub fn criterion(c: &CriterionResult) -> Cell {
        let (label, tone) = criterion_status_label(c.status);
        Cell::tone(format!("{label}{}", significance(c)), tone)
    }
}

/// A table with a header row.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Header names and how each column is aligned.
    pub columns: Vec<(String, Align)>,
    /// Rows of exactly one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns.iter().map(|(n, a)| (n.to_string(), *a)).collect(),
            rows: Vec::new(),
        }
    }

    /// Append a row.
    ///
    /// # Panics
    /// If the row does not have one cell per column (every renderer relies on it).
    pub fn row(&mut self, cells: Vec<Cell>) {
        assert_eq!(cells.len(), self.columns.len(), "one cell per column");
        self.rows.push(cells);
    }
}

/// One piece of the report.
#[derive(Debug, Clone)]
pub enum Block {
    /// The document title (once, first).
    Title(String),
    /// A line under the title (run identity).
    Subtitle(String),
    /// A section heading.
    Heading(String),
    /// The run verdict: status and reasons.
    Verdict {
        status: Status,
        /// What the status means for this run (see [`status_meaning`]).
        meaning: &'static str,
        reasons: Vec<String>,
    },
    /// Body text.
    Paragraph(String),
    /// Small, secondary text (units, bases, caveats).
    Note(String),
    /// Something the reader must not miss about the figures (a busy machine): shown as
    /// "Warning: ..." and emphasised in every format.
    Warning(String),
    /// A bulleted list.
    Bullets(Vec<String>),
    /// Label/value pairs.
    Pairs(Vec<(String, String)>),
    /// A table (see [`Table`]).
    Table(Table),
    /// A chart with its caption: an index into the charts rendered with the run report
    /// ([`crate::Context::charts`]). The public render functions have no charts and skip it.
    Chart(usize),
    /// A link to a file or URL.
    Link { label: String, href: String },
    /// Monospaced text (paths, hashes).
    Code(String),
}

/// A whole document: blocks in reading order.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    pub blocks: Vec<Block>,
}

/// What the brackets after a percentile are, said under every table that has them.
pub const SAMPLING_NOTE: &str = "In brackets: the percentile's 95 % sampling interval \
     (order statistics of the same histogram). It covers sampling only: latencies under a stall \
     are correlated, which it does not account for. A percentile with fewer than 10 samples \
     expected above it is shown as \"insufficient samples\".";

/// ", not significant" for a criterion whose sampling interval straddles its target (or
/// had too few samples to have one), else nothing: the one wording every report uses.
pub fn significance(c: &CriterionResult) -> &'static str {
    match c.significant {
        Some(false) => ", not significant",
        _ => "",
    }
}

/// The human label of a criterion status.
pub fn criterion_status_label(s: CriterionStatus) -> (&'static str, Tone) {
    match s {
        CriterionStatus::Pass => ("✓ pass", Tone::Good),
        CriterionStatus::Fail => ("✗ FAIL", Tone::Bad),
        CriterionStatus::NotMeasured => ("– not measured", Tone::Muted),
    }
}

/// The human label of a run status.
pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Aborted => "ABORTED",
        Status::Invalid => "INVALID",
        Status::NotJudged => "NOT JUDGED",
    }
}

/// One sentence saying what a run's status means. A capacity search has no criteria: its
/// status says whether it found a capacity.
pub fn status_meaning(r: &results::RunResult) -> &'static str {
    let search = r.capacity.as_ref().is_some_and(|c| c.search.is_some());
    match r.verdict.status {
        Status::Pass if search => "The search found a capacity and confirmed it.",
        Status::Fail if search => "Even the search's start rate broke the SLO.",
        Status::NotJudged if search => {
            "The search stopped at its limits before it confirmed a capacity."
        }
        Status::Pass => "Every criterion was met.",
        Status::Fail => "At least one criterion was not met.",
        Status::Aborted => "The run was stopped before it finished; figures cover only what ran.",
        Status::Invalid => "The figures of this run cannot be trusted.",
        Status::NotJudged => {
            "No criterion was judged: the figures are measured, but nothing says whether they pass."
        }
    }
}
