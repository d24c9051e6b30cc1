//! Report renderers: turn one [`RunResult`] into the files people and CI read.
//!
//! `results.json` is the canonical output of a run; everything here only reads it. Each format
//! is one module behind the small [`Renderer`] trait (as hyperfine's exporters are). Markdown,
//! HTML and PDF share one format-neutral content model ([`doc`]), so they say the same things
//! in the same order; charts are rendered once and shared by the SVG files, the HTML (inline)
//! and the PDF (as vectors).
//!
//! The same pieces serve other crates that report something else (the harness's `compare`):
//! build a [`doc::Doc`] and render it with [`markdown::render`] or [`html::render`], write
//! JUnit with [`junit::write`], escape with [`escape`], and format numbers with [`fmt`].
//!
//! Files written in the report directory: `report.md`, `report.html`, `report.pdf`,
//! `junit.xml`, `charts/*.svg`.
//!
//! Render a result by hand: `cargo run -p report --example render -- results.json outdir`
//! (or `--sample`, `--aborted`, `--empty`, `--goose`, `--search` for the built-in fixtures).

use std::path::{Path, PathBuf};

use results::RunResult;

pub mod charts;
pub mod doc;
pub mod escape;
pub mod fmt;
pub mod html;
pub mod junit;
pub mod markdown;
mod pdf;
mod text;

pub use text::text_summary;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `report.md` (links to `charts/*.svg`, so those are written with it).
    Markdown,
    /// `report.html`: one self-contained file, charts inline.
    Html,
    /// `report.pdf`: A4, charts as vectors, fonts embedded.
    Pdf,
    /// `charts/*.svg`.
    Svg,
    /// `junit.xml`: one testcase per criterion, for CI systems.
    Junit,
}

impl Format {
    /// Every format, in the order they are written.
    pub const ALL: [Format; 5] = [
        Format::Svg,
        Format::Markdown,
        Format::Html,
        Format::Pdf,
        Format::Junit,
    ];

    /// Parse a user-facing name ("md", "markdown", "html", "pdf", "svg", "junit").
    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(Format::Markdown),
            "html" => Some(Format::Html),
            "pdf" => Some(Format::Pdf),
            "svg" | "charts" => Some(Format::Svg),
            "junit" | "xml" => Some(Format::Junit),
            _ => None,
        }
    }
}

/// Errors from rendering or writing a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("creating report directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("drawing the {chart} chart: {message}")]
    Chart {
        chart: &'static str,
        message: String,
    },
    #[error("loading the bundled font {0}")]
    Font(String),
    #[error("building report.pdf: {0}")]
    Pdf(String),
}

/// Everything a renderer may need, computed once per [`render`] call.
pub struct Context<'a> {
    pub result: &'a RunResult,
    pub charts: Vec<charts::Chart>,
    pub doc: doc::Doc,
}

/// One file to write, relative to the report directory.
pub struct Output {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// A report format.
pub trait Renderer {
    /// Render the files of this format.
    fn render(&self, ctx: &Context<'_>) -> Result<Vec<Output>, ReportError>;
}

struct SvgCharts;

impl Renderer for SvgCharts {
    fn render(&self, ctx: &Context<'_>) -> Result<Vec<Output>, ReportError> {
        Ok(ctx
            .charts
            .iter()
            .map(|c| Output {
                path: Path::new("charts").join(&c.file),
                bytes: c.svg.clone().into_bytes(),
            })
            .collect())
    }
}

fn renderer(f: Format) -> Box<dyn Renderer> {
    match f {
        Format::Markdown => Box::new(markdown::Markdown),
        Format::Html => Box::new(html::Html),
        Format::Pdf => Box::new(pdf::Pdf),
        Format::Svg => Box::new(SvgCharts),
        Format::Junit => Box::new(junit::Junit),
    }
}

/// Build the shared context (charts and content) for a result.
pub fn context(result: &RunResult) -> Result<Context<'_>, ReportError> {
    let charts = charts::render_charts(result)?;
    let doc = doc::build(result, &charts);
    Ok(Context {
        result,
        charts,
        doc,
    })
}

/// Render `formats` into `dir` (created if missing). Returns the paths written, in order.
/// Markdown links to the chart files, so asking for it writes the charts too.
pub fn render(
    result: &RunResult,
    formats: &[Format],
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut wanted: Vec<Format> = Vec::new();
    for f in Format::ALL {
        let asked =
            formats.contains(&f) || (f == Format::Svg && formats.contains(&Format::Markdown));
        if asked {
            wanted.push(f);
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let ctx = context(result)?;
    let mut outputs = Vec::new();
    for f in wanted {
        outputs.extend(renderer(f).render(&ctx)?);
    }
    let mut written = Vec::with_capacity(outputs.len());
    for o in outputs {
        let path = dir.join(&o.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| ReportError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
        }
        std::fs::write(&path, &o.bytes).map_err(|source| ReportError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// Render every format into `dir`.
pub fn render_all(result: &RunResult, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    render(result, &Format::ALL, dir)
}

/// Render one format to bytes without touching the disk (tests, `harness report -`).
pub fn render_to_bytes(result: &RunResult, format: Format) -> Result<Vec<Output>, ReportError> {
    let ctx = context(result)?;
    renderer(format).render(&ctx)
}
