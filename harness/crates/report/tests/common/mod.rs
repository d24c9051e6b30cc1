//! Helpers the renderer test binaries share: one rendered file as text, a PDF's text.

use std::path::Path;

use report::{render_to_bytes, Format};
use results::RunResult;

/// The file `file` of `format` rendered from `result`, as text.
pub fn text_of(result: &RunResult, format: Format, file: &str) -> String {
    let outputs = render_to_bytes(result, format).unwrap();
    let o = outputs
        .iter()
        .find(|o| o.path == Path::new(file))
        .unwrap_or_else(|| panic!("{file} not rendered"));
    String::from_utf8(o.bytes.clone()).unwrap()
}

/// A PDF's page count and its extracted text.
pub fn pdf_text(bytes: &[u8]) -> (usize, String) {
    let doc = lopdf::Document::load_mem(bytes).expect("a PDF lopdf can parse");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap_or_default();
    (pages.len(), text)
}
