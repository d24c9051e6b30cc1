//! `report.pdf`: an A4 report without a browser.
//!
//! krilla writes the PDF but only draws single lines of shaped text, so this module has a small
//! layout engine of its own, in four steps, one module each: [`fonts`] measures text with the
//! glyph advances of the bundled DejaVu fonts (ttf-parser); [`layout`] and [`table`] wrap
//! paragraphs, size and wrap table columns, repeat table headers and break pages; [`page`]
//! gives each kind of block its look and adds running headers and footers; [`emit`] writes the
//! drawing operations with krilla. Layout produces a list of operations per page first, so
//! every page can carry "page N of M". No font ever comes from the machine.

use krilla::metadata::Metadata;

use crate::doc::status_label;
use crate::{Context, Output, Renderer, ReportError};

mod emit;
mod fonts;
mod layout;
mod page;
mod style;
mod table;

pub(crate) struct Pdf;

impl Renderer for Pdf {
    fn render(&self, ctx: &Context<'_>) -> Result<Vec<Output>, ReportError> {
        Ok(vec![Output {
            path: "report.pdf".into(),
            bytes: render_pdf(ctx)?,
        }])
    }
}

fn render_pdf(ctx: &Context<'_>) -> Result<Vec<u8>, ReportError> {
    let fonts = fonts::Fonts::new()?;
    let mut pages = page::compose(&ctx.doc, &ctx.charts, &fonts);
    let r = ctx.result;
    page::decorate(&mut pages, r, &fonts);
    let metadata = Metadata::new()
        .title(format!(
            "Load test report: {} ({})",
            r.scenario.name,
            status_label(r.verdict.status)
        ))
        .creator(format!("harness {}", r.environment.harness_version));
    emit::emit(&pages, &ctx.charts, &fonts, metadata)
}
