//! `ScenarioError`: one error type for everything that can be wrong with a scenario file.
//!
//! Every error names the file and, where it can, the line, column and field (a path such as
//! `stages[1].duration`) and says what was expected, so `harness validate` output can be acted on
//! without opening the parser. TOML syntax and type errors carry a byte span from the toml crate;
//! validation errors carry the span kept by `serde_spanned::Spanned` on the raw field. Both are
//! turned into 1-based line and column (in characters) here.

use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What kind of problem a [`ScenarioError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// The file is not valid TOML or does not have the expected shape (unknown key, wrong type,
    /// missing required key).
    Syntax,
    /// The file is well formed but a value is out of range or inconsistent with another.
    Invalid,
    /// A `[[data]]` file is missing, unreadable or malformed. The error points at the
    /// scenario's `data[i].file`; its message starts with the data file's path and, where the
    /// problem is in the file, its line: `data/users.csv:17: row has 3 fields, the header has 4`.
    Data,
}

/// An error in a scenario file.
///
/// Display: `scenarios/x.toml:12:5: stages[1].duration: expected a duration such as "5m" or
/// "500ms", found "5 minutes"` (line, column and field are left out when unknown).
#[derive(Debug, Clone, thiserror::Error)]
pub struct ScenarioError {
    pub file: PathBuf,
    /// 1-based.
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    /// Dotted path of the offending key, such as `stages[1].duration` (indexes are 0-based).
    pub field: Option<String>,
    pub message: String,
    pub kind: ErrorKind,
    #[source]
    source: Option<Arc<io::Error>>,
}

impl PartialEq for ScenarioError {
    fn eq(&self, other: &Self) -> bool {
        self.file == other.file
            && self.line == other.line
            && self.column == other.column
            && self.field == other.field
            && self.message == other.message
            && self.kind == other.kind
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl ScenarioError {
    /// The file could not be read.
    pub fn io(file: &Path, err: io::Error) -> ScenarioError {
        ScenarioError {
            file: file.to_path_buf(),
            line: None,
            column: None,
            field: None,
            message: format!("cannot read scenario file: {err}"),
            kind: ErrorKind::Io,
            source: Some(Arc::new(err)),
        }
    }

    /// An error at byte range `span` of `src` (if known) in `field` (if known).
    pub(crate) fn at(
        kind: ErrorKind,
        file: &Path,
        src: &str,
        span: Option<Range<usize>>,
        field: Option<String>,
        message: String,
    ) -> ScenarioError {
        let (line, column) = match span {
            Some(span) => {
                let (l, c) = line_column(src, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        ScenarioError {
            file: file.to_path_buf(),
            line,
            column,
            field,
            message,
            kind,
            source: None,
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `src`. An offset past the end
/// or inside a character is clamped to a valid position.
pub fn line_column(src: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one_in_characters() {
        let src = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 4), (1, 5));
        assert_eq!(line_column(src, 6), (2, 1));
        // 'é' is two bytes but one column.
        let eq = src
            .find('=')
            .map(|_| src.rfind('=').unwrap_or(0))
            .unwrap_or(0);
        assert_eq!(line_column(src, eq), (2, 4));
        assert_eq!(line_column(src, 10_000), (3, 1));
    }

    #[test]
    fn display_includes_only_known_parts() {
        let e = ScenarioError::at(
            ErrorKind::Invalid,
            Path::new("s.toml"),
            "a\nb",
            Some(2..3),
            Some("x.y".into()),
            "bad".into(),
        );
        assert_eq!(e.to_string(), "s.toml:2:1: x.y: bad");
        let e = ScenarioError::at(
            ErrorKind::Invalid,
            Path::new("s.toml"),
            "",
            None,
            None,
            "bad".into(),
        );
        assert_eq!(e.to_string(), "s.toml: bad");
        let e = ScenarioError::io(
            Path::new("nope.toml"),
            io::Error::new(io::ErrorKind::NotFound, "gone"),
        );
        assert_eq!(e.to_string(), "nope.toml: cannot read scenario file: gone");
        assert!(std::error::Error::source(&e).is_some());
    }
}
