//! `[[data]]`: feeder files whose rows fill `{{name.column}}` variables in request templates.
//!
//! Each entry is checked (a name that can prefix variables, a format, a strategy) and its file
//! is read here, at validation, so `harness validate` reports a missing or malformed data file
//! before any load is sent. Files resolve against the scenario's directory, like `[http.tls]`
//! files. The formats themselves are [`super::datafile`]'s; this module points their problems
//! at `data[i].file` with the data file's own path and line in the message. `[[data]]` is
//! validated before `[[requests]]`, which checks the columns its templates name.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use super::datafile::{self, Table};
use super::values::Ctx;
use super::Result;
use crate::plan::{DataFormat, DataSource, FeedStrategy, Target, TEMPLATE_PLACEHOLDERS};
use crate::raw::{RawData, RawDataFormat, RawFeedStrategy, S};
use crate::template::is_identifier;

/// A validated source and the data-file line of each of its rows, kept while requests are
/// validated so a value unfit for a path or header can be named by line.
pub(super) struct Loaded {
    pub(super) source: DataSource,
    pub(super) lines: Vec<u64>,
}

pub(super) fn data(cx: &Ctx, raw: &[S<RawData>], target: &Target) -> Result<Vec<Loaded>> {
    if let (false, Some(first)) = (target.is_http(), raw.first()) {
        return Err(cx.err(
            first.span(),
            "data[0]",
            "[[data]] feeds request templates, which only http and spawn targets have",
        ));
    }
    let mut names = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, d) in raw.iter().enumerate() {
        out.push(source(cx, i, d.get_ref(), &mut names)?);
    }
    Ok(out)
}

/// Entry `i`; `names` holds the names of the entries before it.
fn source(cx: &Ctx, i: usize, d: &RawData, names: &mut BTreeSet<String>) -> Result<Loaded> {
    let at = |key: &str| format!("data[{i}].{key}");
    let name = source_name(cx, &d.name, &at("name"), names)?;
    let written = d.file.get_ref();
    if written.trim().is_empty() {
        return Err(cx.err(d.file.span(), at("file"), "must not be empty"));
    }
    let path = cx.resolve(written);
    let format = format(cx, d, &path, &at("format"))?;
    let bytes = std::fs::read(&path).map_err(|e| {
        cx.data_err(
            d.file.span(),
            at("file"),
            &path,
            None,
            format!("cannot read data file: {e}"),
        )
    })?;
    let Table {
        columns,
        rows,
        lines,
    } = datafile::read(format, &bytes)
        .map_err(|e| cx.data_err(d.file.span(), at("file"), &path, e.line, e.message))?;
    let strategy = match d.strategy.as_ref().map(|s| *s.get_ref()) {
        None | Some(RawFeedStrategy::Queue) => FeedStrategy::Queue,
        Some(RawFeedStrategy::Shuffle) => FeedStrategy::Shuffle,
        Some(RawFeedStrategy::Random) => FeedStrategy::Random,
        Some(RawFeedStrategy::Circular) => FeedStrategy::Circular,
    };
    let source = DataSource {
        name,
        file: path,
        format,
        strategy,
        columns,
        rows: Arc::new(rows),
    };
    Ok(Loaded { source, lines })
}

/// A name that can prefix variables, is no placeholder's and is not taken (`names`).
fn source_name(
    cx: &Ctx,
    raw: &S<String>,
    field: &str,
    names: &mut BTreeSet<String>,
) -> Result<String> {
    let name = raw.get_ref();
    let why = if !is_identifier(name) {
        format!("expected a name from [A-Za-z_][A-Za-z0-9_]* (it prefixes the {{{{name.column}}}} variables), found {name:?}")
    } else if TEMPLATE_PLACEHOLDERS.contains(&name.as_str()) {
        format!("{name:?} is a built-in placeholder ({{{{{name}}}}}); choose another name")
    } else if !names.insert(name.clone()) {
        format!("duplicate data name {name:?}")
    } else {
        return Ok(name.clone());
    };
    Err(cx.err(raw.span(), field, why))
}

/// `format`, else the file's extension; an unknown extension asks for `format`.
fn format(cx: &Ctx, d: &RawData, path: &Path, field: &str) -> Result<DataFormat> {
    if let Some(f) = &d.format {
        return Ok(match f.get_ref() {
            RawDataFormat::Csv => DataFormat::Csv,
            RawDataFormat::Jsonl => DataFormat::Jsonl,
        });
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("csv") => Ok(DataFormat::Csv),
        Some("jsonl" | "ndjson") => Ok(DataFormat::Jsonl),
        _ => Err(cx.err(
            d.file.span(),
            field,
            format!(
                "cannot tell the format of {:?} from its extension (.csv, .jsonl or .ndjson): set format = \"csv\" or \"jsonl\"",
                d.file.get_ref()
            ),
        )),
    }
}
