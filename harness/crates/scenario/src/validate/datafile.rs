//! Reading a `[[data]]` file: CSV or JSON Lines bytes in, named columns and rows of text out.
//!
//! Pure functions of the bytes, so [`super::data`] owns the file system and the scenario
//! positions while this module owns the two formats. Every problem carries the data file's
//! 1-based line, which the scenario error then names (`users.csv:17: row has 3 fields, the
//! header has 4`): the user fixes the data file, not the scenario.
//!
//! - CSV (RFC 4180, through the `csv` crate): the first record is the header, whose names are
//!   the columns; every later record must be exactly as wide. Blank lines are skipped.
//! - JSON Lines: every non-blank line one JSON object. The first object's keys, in the order
//!   written, are the columns, and every later object must have exactly those keys (in any
//!   order). Keys keep their file order without serde_json's `preserve_order` feature (which
//!   would change every JSON map in the workspace): objects are read as lists of pairs.
//!   A string value is stored without its quotes, any other value as its compact JSON text.
//!
//! Column names must be `[A-Za-z0-9_]+` and unique: they become `{{data.column}}` variables.
//! A file without rows is an error: a feeder with nothing to hand out cannot run.

use std::fmt;

use serde::de::{Deserializer, Error as _, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::plan::DataFormat;
use crate::template::is_column_name;

/// A data file's contents, checked.
#[derive(Debug, PartialEq)]
pub(super) struct Table {
    pub(super) columns: Vec<String>,
    /// One value per column.
    pub(super) rows: Vec<Vec<String>>,
    /// The 1-based line each row starts on, so a later check of a value can name it.
    pub(super) lines: Vec<u64>,
}

/// What is wrong with a data file, and where (`None`: the file as a whole).
#[derive(Debug, PartialEq)]
pub(super) struct FileError {
    pub(super) line: Option<u64>,
    pub(super) message: String,
}

type Result<T> = std::result::Result<T, FileError>;

fn at(line: u64, message: impl Into<String>) -> FileError {
    FileError {
        line: Some(line),
        message: message.into(),
    }
}

/// Reads `bytes` as `format`.
pub(super) fn read(format: DataFormat, bytes: &[u8]) -> Result<Table> {
    // Spreadsheet programs write a UTF-8 byte-order mark; it is not part of the first name.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let table = match format {
        DataFormat::Csv => csv_table(bytes)?,
        DataFormat::Jsonl => jsonl_table(bytes)?,
    };
    if table.rows.is_empty() {
        let message = match (format, table.columns.is_empty()) {
            (DataFormat::Csv, true) => "is empty: expected a header row, then at least one row",
            (DataFormat::Csv, false) => "has a header row but no rows",
            (DataFormat::Jsonl, _) => "is empty: expected one JSON object per line",
        };
        return Err(FileError {
            line: None,
            message: message.into(),
        });
    }
    Ok(table)
}

fn csv_table(bytes: &[u8]) -> Result<Table> {
    // Not `flexible(false)`: its error says "found record with 3 fields, but the previous
    // record has 4"; checking widths here names the header, which is what the row must match.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut table = Table {
        columns: Vec::new(),
        rows: Vec::new(),
        lines: Vec::new(),
    };
    let mut lines = Lines::new(bytes);
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(&mut lines, e))?;
        let line = lines.of(record.position());
        let fields: Vec<String> = record.iter().map(str::to_string).collect();
        if table.columns.is_empty() {
            check_columns(line, &fields)?;
            table.columns = fields;
            continue;
        }
        if fields.len() != table.columns.len() {
            return Err(at(
                line,
                format!(
                    "row has {} field{}, the header has {}",
                    fields.len(),
                    if fields.len() == 1 { "" } else { "s" },
                    table.columns.len()
                ),
            ));
        }
        table.rows.push(fields);
        table.lines.push(line);
    }
    Ok(table)
}

/// The 1-based line a CSV record starts on. The csv crate's own `Position::line` is where the
/// reader stood when it began the record: before the blank lines it skips, and one line early
/// after a CRLF (csv 1.4). So the line is counted here from the byte offset, past any line
/// breaks, incrementally (records come in order).
struct Lines<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Lines {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    fn of(&mut self, position: Option<&csv::Position>) -> u64 {
        let mut at = position
            .map_or(0, |p| p.byte() as usize)
            .min(self.bytes.len());
        while at < self.bytes.len() && matches!(self.bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        if at > self.offset {
            let newlines = self.bytes[self.offset..at].iter().filter(|&&b| b == b'\n');
            self.line += newlines.count() as u64;
            self.offset = at;
        }
        self.line
    }
}

/// The csv crate's error without its own "CSV error: record 3 (line: 4, byte: 50)" prefix,
/// which the line in front of the message already says.
fn csv_error(lines: &mut Lines, e: csv::Error) -> FileError {
    let line = e.position().map(|p| lines.of(Some(p)));
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!(
            "field {} is not valid UTF-8 (after its first {} bytes)",
            err.field() + 1,
            err.valid_up_to()
        ),
        _ => e.to_string(),
    };
    FileError { line, message }
}

/// A header (or first JSON object's keys): non-empty, unique `[A-Za-z0-9_]+` names.
fn check_columns(line: u64, names: &[String]) -> Result<()> {
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(at(line, format!("column {} has no name", i + 1)));
        }
        if !is_column_name(name) {
            return Err(at(
                line,
                format!(
                    "column {} is named {name:?}: column names are [A-Za-z0-9_]+ \
                     (each becomes a {{{{data.column}}}} variable)",
                    i + 1
                ),
            ));
        }
        if names[..i].contains(name) {
            return Err(at(line, format!("column {name:?} appears twice")));
        }
    }
    Ok(())
}

fn jsonl_table(bytes: &[u8]) -> Result<Table> {
    let mut table = Table {
        columns: Vec::new(),
        rows: Vec::new(),
        lines: Vec::new(),
    };
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i as u64 + 1;
        let text =
            std::str::from_utf8(raw).map_err(|e| at(line, format!("not valid UTF-8: {e}")))?;
        if text.trim().is_empty() {
            continue;
        }
        let Object(pairs) = serde_json::from_str(text).map_err(|e| json_error(line, &e))?;
        if table.columns.is_empty() {
            if pairs.is_empty() {
                return Err(at(line, "the first object has no keys, so no columns"));
            }
            let names: Vec<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
            check_columns(line, &names)?;
            table.columns = names;
        }
        table.rows.push(jsonl_row(line, &table.columns, pairs)?);
        table.lines.push(line);
    }
    Ok(table)
}

/// serde_json's message, which ends "at line 1 column N" (every line is parsed alone), with
/// the column kept and the line left to the caller.
fn json_error(line: u64, e: &serde_json::Error) -> FileError {
    let text = e.to_string();
    let bare = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m);
    at(line, format!("{bare} (column {})", e.column()))
}

/// One object's values in column order; its keys must be exactly the columns.
fn jsonl_row(line: u64, columns: &[String], pairs: Vec<(String, Value)>) -> Result<Vec<String>> {
    let text = |v: Value| match v {
        Value::String(s) => s,
        other => other.to_string(),
    };
    // The common case, keys in the header's order, needs no lookup.
    if pairs.iter().map(|(k, _)| k).eq(columns.iter()) {
        return Ok(pairs.into_iter().map(|(_, v)| text(v)).collect());
    }
    if let Some((extra, _)) = pairs.iter().find(|(k, _)| !columns.contains(k)) {
        return Err(at(
            line,
            format!(
                "unexpected key {extra:?}: the first object's keys are {}",
                columns.join(", ")
            ),
        ));
    }
    let mut pairs = pairs;
    let mut row = Vec::with_capacity(columns.len());
    for column in columns {
        let Some(i) = pairs.iter().position(|(k, _)| k == column) else {
            return Err(at(line, format!("missing key {column:?}")));
        };
        row.push(text(pairs.swap_remove(i).1));
    }
    Ok(row)
}

/// A JSON object as its key-value pairs in file order; a repeated key is an error rather than
/// one value silently winning.
struct Object(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_map(ObjectVisitor)
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Object;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object (one per line)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Object, A::Error> {
        let mut pairs: Vec<(String, Value)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            if pairs.iter().any(|(seen, _)| *seen == k) {
                return Err(A::Error::custom(format!("key {k:?} appears twice")));
            }
            pairs.push((k, v));
        }
        Ok(Object(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(format: DataFormat, text: impl AsRef<[u8]>) -> (Option<u64>, String) {
        let e = read(format, text.as_ref()).unwrap_err();
        (e.line, e.message)
    }

    #[test]
    fn csv_quoting_and_widths() {
        let t = read(
            DataFormat::Csv,
            b"\xEF\xBB\xBFid,name\r\n1,\"Lee, Ann\"\n\n2,\"say \"\"hi\"\"\nthere\"\n3,x\n",
        )
        .unwrap();
        assert_eq!(t.columns, ["id", "name"]);
        assert_eq!(
            t.rows,
            [
                vec!["1", "Lee, Ann"],
                vec!["2", "say \"hi\"\nthere"],
                vec!["3", "x"]
            ]
        );
        assert_eq!(t.lines, [2, 4, 6]);
        assert_eq!(
            err(DataFormat::Csv, "a,b\n1,2\n1\n"),
            (Some(3), "row has 1 field, the header has 2".into())
        );
        assert_eq!(
            err(DataFormat::Csv, "a,b\n1,2,3\n"),
            (Some(2), "row has 3 fields, the header has 2".into())
        );
    }

    #[test]
    fn csv_headers_and_empty_files() {
        assert_eq!(
            err(DataFormat::Csv, ""),
            (
                None,
                "is empty: expected a header row, then at least one row".into()
            )
        );
        assert_eq!(
            err(DataFormat::Csv, "a,b\n"),
            (None, "has a header row but no rows".into())
        );
        assert_eq!(
            err(DataFormat::Csv, "a,,c\n1,2,3\n"),
            (Some(1), "column 2 has no name".into())
        );
        assert_eq!(
            err(DataFormat::Csv, "a,a\n1,2\n"),
            (Some(1), "column \"a\" appears twice".into())
        );
        let (line, message) = err(DataFormat::Csv, "user id\n1\n");
        assert_eq!(line, Some(1));
        assert!(
            message.starts_with("column 1 is named \"user id\""),
            "{message}"
        );
        let (line, message) = err(DataFormat::Csv, b"a\n\xFF\n");
        assert_eq!(line, Some(2));
        assert!(
            message.starts_with("field 1 is not valid UTF-8"),
            "{message}"
        );
    }

    #[test]
    fn jsonl_keys_in_file_order_and_values_as_text() {
        let t = read(
            DataFormat::Jsonl,
            b"{\"z\":\"a\",\"b\":1}\n\n  \n{\"b\":2.5,\"z\":null}\r\n{\"z\":[1, 2],\"b\":true}",
        )
        .unwrap();
        assert_eq!(t.columns, ["z", "b"]);
        assert_eq!(
            t.rows,
            [vec!["a", "1"], vec!["null", "2.5"], vec!["[1,2]", "true"]]
        );
        assert_eq!(t.lines, [1, 4, 5]);
    }

    #[test]
    fn jsonl_errors_name_the_line() {
        let j = DataFormat::Jsonl;
        assert_eq!(
            err(j, "{\"id\":1,\"n\":2}\n{\"n\":3}\n"),
            (Some(2), "missing key \"id\"".into())
        );
        assert_eq!(
            err(j, "{\"id\":1}\n{\"id\":2,\"x\":3}\n"),
            (
                Some(2),
                "unexpected key \"x\": the first object's keys are id".into()
            )
        );
        assert_eq!(
            err(j, "{\"id\":1}\n[1]\n"),
            (
                Some(2),
                "invalid type: sequence, expected a JSON object (one per line) (column 0)".into()
            )
        );
        assert_eq!(
            err(j, "{\"id\":1,\"id\":2}\n"),
            (Some(1), "key \"id\" appears twice (column 15)".into())
        );
        assert_eq!(
            err(j, "\n\n"),
            (None, "is empty: expected one JSON object per line".into())
        );
        assert_eq!(
            err(j, "{}\n"),
            (
                Some(1),
                "the first object has no keys, so no columns".into()
            )
        );
    }
}
