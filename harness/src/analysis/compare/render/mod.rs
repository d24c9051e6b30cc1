//! The formats a [`Comparison`] is shown in; renderers only read it.
//!
//! `cells` decides the words and numbers once (every figure through `report::fmt`); `doc`
//! lays them out as a `report::doc::Doc` (title, sides, one table row per metric, the rule),
//! which `report::markdown` and `report::html` render; `text` prints the same table aligned
//! for terminals; `junit` writes one testcase per metric through `report::junit`.

mod cells;
mod doc;
mod junit;
mod text;

use super::{CompareError, Comparison};
use std::path::{Path, PathBuf};

pub use cells::{tolerance as tolerance_text, value as value_text, with_interval};
pub use doc::{render_html, render_markdown};
pub use junit::render_junit;
pub use text::render_text;

/// Output formats of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareFormat {
    Text,
    Markdown,
    Html,
    Junit,
}

impl CompareFormat {
    pub fn from_name(s: &str) -> Option<CompareFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "txt" => Some(CompareFormat::Text),
            "markdown" | "md" => Some(CompareFormat::Markdown),
            "html" => Some(CompareFormat::Html),
            "junit" | "xml" => Some(CompareFormat::Junit),
            _ => None,
        }
    }

    /// File name when written to a directory.
    pub fn file_name(self) -> &'static str {
        match self {
            CompareFormat::Text => "comparison.txt",
            CompareFormat::Markdown => "comparison.md",
            CompareFormat::Html => "comparison.html",
            CompareFormat::Junit => "comparison.junit.xml",
        }
    }

    pub fn render(self, c: &Comparison) -> String {
        match self {
            CompareFormat::Text => render_text(c),
            CompareFormat::Markdown => render_markdown(c),
            CompareFormat::Html => render_html(c),
            CompareFormat::Junit => render_junit(c),
        }
    }
}

/// Writes the given formats of a comparison into `dir`; returns the paths written.
pub fn write_outputs(
    c: &Comparison,
    dir: &Path,
    formats: &[CompareFormat],
) -> Result<Vec<PathBuf>, CompareError> {
    std::fs::create_dir_all(dir).map_err(|source| CompareError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Vec::new();
    for f in formats {
        let path = dir.join(f.file_name());
        std::fs::write(&path, f.render(c)).map_err(|source| CompareError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}
