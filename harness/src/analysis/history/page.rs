//! The page of a [`History`]: per scenario file, what the runs were, one table row per run and
//! one chart per figure, then the rule; rendered as self-contained HTML and as Markdown.
//!
//! Every number goes through the comparison's own formatters (`value_text`, `with_interval`),
//! so a figure reads the same here as in `harness compare`; the charts are
//! `report::charts::trend`, drawn in the units their axes name.

use super::{Entry, History, Track};
use crate::analysis::compare::{tolerance_text, value_text, with_interval};
use crate::analysis::compare::{Comparison, MetricRow, MetricVerdict, Unit, RULE};
use report::charts::{Chart, Trend, TrendPoint};
use report::doc::{status_label, Align, Block, Cell, Doc, Table, Tone, SAMPLING_NOTE};
use report::{fmt, ReportError};
use std::path::{Path, PathBuf};

/// The files [`write_outputs`] writes, beside `charts/*.svg`.
pub const HISTORY_FILES: [&str; 2] = ["history.html", "history.md"];

/// The figures charted, in order, and the short table header of those also tabled.
const METRICS: [(&str, Option<&str>); 10] = [
    ("tps", Some("Throughput")),
    ("tps_per_cpu", None),
    ("p50", Some("p50")),
    ("p99", Some("p99")),
    ("p999", Some("p99.9")),
    ("error_rate", Some("Errors")),
    ("cpu", Some("CPU")),
    ("rss", Some("Peak RSS")),
    ("generator_cpu", None),
    ("generator_rss", None),
];

const INTRO: &str = "Each run's steady-state figures, oldest first, compared with its baseline by \
harness compare's rule: a red figure or ring is a regression the CI gate would fail on. Runs of a \
different scenario file (another SHA-256) are a different benchmark and get a section of their own.";

/// The history as a Doc and the charts its `Block::Chart`s index.
pub fn page(h: &History) -> Result<(Doc, Vec<Chart>), ReportError> {
    let mut blocks = vec![Block::Title(title(h)), Block::Paragraph(INTRO.to_string())];
    let mut charts = Vec::new();
    for t in &h.tracks {
        track(t, &mut blocks, &mut charts)?;
    }
    blocks.push(Block::Heading("How runs are judged".to_string()));
    blocks.push(Block::Paragraph(RULE.to_string()));
    blocks.push(Block::Note(SAMPLING_NOTE.to_string()));
    Ok((Doc { blocks }, charts))
}

/// Writes `history.html` (charts inline), `history.md` and `charts/*.svg` into `dir`.
pub fn write_outputs(h: &History, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let (doc, charts) = page(h)?;
    let charts_dir = dir.join("charts");
    std::fs::create_dir_all(&charts_dir).map_err(|source| ReportError::CreateDir {
        path: charts_dir.clone(),
        source,
    })?;
    let mut files: Vec<(PathBuf, String)> = charts
        .iter()
        .map(|c| (charts_dir.join(&c.file), c.svg.clone()))
        .collect();
    let html = report::html::render_with_charts(&doc, &title(h), &charts);
    files.push((dir.join(HISTORY_FILES[0]), html));
    let md = report::markdown::render_with_charts(&doc, &charts);
    files.push((dir.join(HISTORY_FILES[1]), md));
    for (path, text) in &files {
        std::fs::write(path, text).map_err(|source| ReportError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

/// One line per scenario file: its runs and regressions, for the terminal.
pub fn summary(h: &History) -> String {
    h.tracks
        .iter()
        .map(|t| {
            format!(
                "{} (sha256 {}): {} runs; regressions: {}\n",
                t.scenario.name,
                fmt::short_hash(&t.scenario.sha256),
                t.runs.len(),
                regressions(t)
            )
        })
        .collect()
}

fn title(h: &History) -> String {
    match h.tracks.as_slice() {
        [one] => format!("History of {}", one.scenario.name),
        many => format!("History of {} scenario files", many.len()),
    }
}

/// One scenario file's section: what it is, its table, its charts.
fn track(t: &Track, blocks: &mut Vec<Block>, charts: &mut Vec<Chart>) -> Result<(), ReportError> {
    blocks.push(Block::Heading(format!(
        "{} (scenario sha256 {})",
        t.scenario.name,
        fmt::short_hash(&t.scenario.sha256)
    )));
    blocks.push(Block::Pairs(about(t)));
    blocks.push(Block::Table(table(t)));
    for (key, _) in METRICS {
        if let Some(trend) = trend_of(t, key) {
            charts.push(report::charts::trend(&trend)?);
            blocks.push(Block::Chart(charts.len() - 1));
        }
    }
    Ok(())
}

/// The runs' span, the baseline, the tolerances and the regressions, in words.
fn about(t: &Track) -> Vec<(String, String)> {
    let (first, last) = (&t.runs[0].0, &t.runs[t.runs.len() - 1].0);
    let mut baseline = t.baseline_origin.clone();
    if let Some(note) = &t.baseline.note {
        baseline = format!("{baseline}; {note}");
    }
    let tolerances = t.runs[0]
        .1
        .rows
        .iter()
        .filter(|r| judged(r))
        .map(|r| format!("{} {}", r.label, tolerance_text(r)))
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        (
            "Runs".to_string(),
            format!(
                "{}, from {} to {}",
                t.runs.len(),
                fmt::timestamp(&first.date),
                fmt::timestamp(&last.date)
            ),
        ),
        ("Baseline".to_string(), baseline),
        ("Tolerances".to_string(), tolerances),
        ("Regressions".to_string(), regressions(t)),
    ]
}

/// A metric the rule judges (not one only shown).
fn judged(r: &MetricRow) -> bool {
    r.judgement
        .as_ref()
        .is_some_and(|j| j.verdict != MetricVerdict::Info)
}

/// "none", or each regressed run with what regressed.
fn regressions(t: &Track) -> String {
    let list: Vec<String> = t
        .runs
        .iter()
        .enumerate()
        .filter_map(|(i, (e, c))| {
            let what = labels(c, MetricVerdict::Regressed);
            (!what.is_empty()).then(|| format!("#{} {} ({what})", i + 1, commit(e)))
        })
        .collect();
    if list.is_empty() {
        "none".to_string()
    } else {
        list.join("; ")
    }
}

/// The labels of the rows with this verdict (and "Capacity" for a capacity regression).
fn labels(c: &Comparison, v: MetricVerdict) -> String {
    let mut out: Vec<&str> = c
        .rows
        .iter()
        .filter(|r| r.verdict() == v)
        .map(|r| r.label.as_str())
        .collect();
    if v == MetricVerdict::Regressed && c.capacity_regressed() {
        out.push("Capacity");
    }
    out.join(", ")
}

fn commit(e: &Entry) -> String {
    e.commit.clone().unwrap_or_else(|| "–".to_string())
}

/// One row per run: when, which build, its status, its figures, and what the rule said.
fn table(t: &Track) -> Table {
    let mut columns = vec![
        ("#", Align::Right),
        ("Started (UTC)", Align::Left),
        ("Commit", Align::Left),
        ("Status", Align::Left),
    ];
    columns.extend(
        METRICS
            .iter()
            .filter_map(|(_, h)| h.map(|h| (h, Align::Right))),
    );
    columns.push(("Against the baseline", Align::Left));
    let mut table = Table::new(&columns);
    for (i, (e, c)) in t.runs.iter().enumerate() {
        let date = fmt::timestamp(&e.date);
        let mut cells = vec![
            Cell::plain((i + 1).to_string()),
            Cell::plain(date.get(..16).unwrap_or(&date)),
            Cell::plain(commit(e)),
            Cell::plain(match e.status {
                Some(s) => status_label(s).to_string(),
                None => format!("baseline of {} runs", e.side.runs.len()),
            }),
        ];
        for (key, header) in METRICS {
            if header.is_some() {
                cells.push(figure(c.rows.iter().find(|r| r.key == key)));
            }
        }
        cells.push(against(e, c, t));
        table.row(cells);
    }
    table
}

/// A run's figure with its sampling interval, red when regressed, green when improved.
fn figure(row: Option<&MetricRow>) -> Cell {
    let Some((r, j)) = row.and_then(|r| r.judgement.as_ref().map(|j| (r, j))) else {
        return Cell::tone("n/a", Tone::Muted);
    };
    let text = with_interval(value_text(r.unit, j.new_median), r.new_ci95);
    match j.verdict {
        MetricVerdict::Regressed => Cell::tone(text, Tone::Bad),
        MetricVerdict::Improved => Cell::tone(text, Tone::Good),
        _ => Cell::plain(text),
    }
}

fn against(e: &Entry, c: &Comparison, t: &Track) -> Cell {
    if e.side.origin == t.baseline.origin {
        return Cell::tone("the baseline", Tone::Muted);
    }
    let (bad, good) = (
        labels(c, MetricVerdict::Regressed),
        labels(c, MetricVerdict::Improved),
    );
    match (bad.is_empty(), good.is_empty()) {
        (false, _) => Cell::tone(format!("REGRESSED: {bad}"), Tone::Bad),
        (true, false) => Cell::tone(format!("improved: {good}"), Tone::Good),
        (true, true) => Cell::plain("unchanged"),
    }
}

/// One figure over the track's runs, in its axis unit; `None` when no run measured it.
fn trend_of(t: &Track, key: &str) -> Option<Trend> {
    let rows: Vec<(&Entry, &MetricRow)> = t
        .runs
        .iter()
        .filter_map(|(e, c)| c.rows.iter().find(|r| r.key == key).map(|r| (e, r)))
        .filter(|(_, r)| r.judgement.is_some())
        .collect();
    let (_, first) = rows.first()?;
    let max = rows
        .iter()
        .filter_map(|(_, r)| r.judgement.as_ref().map(|j| j.new_median))
        .fold(0.0, f64::max);
    let (unit, div) = axis_unit(first.unit, max);
    let is_judged = judged(first);
    let points = rows
        .iter()
        .filter_map(|(e, r)| {
            let j = r.judgement.as_ref()?;
            Some(TrendPoint {
                label: short_commit(e),
                value: j.new_median / div,
                interval: r.new_ci95.map(|b| (b.lo / div, b.hi / div)),
                regressed: j.verdict == MetricVerdict::Regressed,
            })
        })
        .collect();
    let band = first
        .judgement
        .as_ref()
        .filter(|_| is_judged)
        .map(|j| (j.band.0 / div, j.band.1 / div));
    Some(Trend {
        file: format!(
            "{}-{key}.svg",
            t.scenario.sha256.get(..8).unwrap_or("scenario")
        ),
        title: first.label.clone(),
        y_desc: format!("{} ({unit})", first.label),
        caption: caption(first, is_judged),
        points,
        band,
    })
}

/// How to read a figure's chart.
fn caption(r: &MetricRow, is_judged: bool) -> String {
    let ci = if r.new_ci95.is_some() || r.base_ci95.is_some() {
        " (bars: its 95 % sampling interval)"
    } else {
        ""
    };
    if !is_judged {
        return format!(
            "{} of each run{ci}, oldest first: shown, not judged.",
            r.label
        );
    }
    format!(
        "{} of each run{ci}, oldest first. Shaded: the baseline's band, its [min, max] widened \
         by the {} tolerance. Ringed in red: a run the comparison rule calls a regression.",
        r.label,
        tolerance_text(r)
    )
}

/// The x label of a run: its commit's first 7 characters (`+` when built from changed files).
fn short_commit(e: &Entry) -> String {
    match &e.commit {
        Some(c) => {
            let dirty = if c.ends_with("-dirty") { "+" } else { "" };
            format!("{}{dirty}", c.get(..7).unwrap_or(c))
        }
        None => "?".to_string(),
    }
}

/// The unit an axis is drawn in, and what a value is divided by to get there.
fn axis_unit(unit: Unit, max: f64) -> (String, f64) {
    let scaled = |base: &str| match max {
        m if m >= 1e6 => (format!("M {base}"), 1e6),
        m if m >= 1e3 => (format!("k {base}"), 1e3),
        _ => (base.to_string(), 1.0),
    };
    match unit {
        Unit::TxPerS => scaled("tx/s"),
        Unit::TxPerCpuS => scaled("tx/CPU-s"),
        Unit::OpsPerS => scaled("ops/s"),
        Unit::Micros if max >= 1e6 => ("s".to_string(), 1e6),
        Unit::Micros if max >= 1e3 => ("ms".to_string(), 1e3),
        Unit::Micros => ("µs".to_string(), 1.0),
        Unit::Fraction => ("%".to_string(), 0.01),
        Unit::Bytes => ("MiB".to_string(), 1024.0 * 1024.0),
        Unit::Percent => ("%".to_string(), 1.0),
        Unit::CpuSecondsPerMillion => ("CPU-s per 1M ops".to_string(), 1.0),
        Unit::Instructions => ("instructions".to_string(), 1.0),
    }
}
