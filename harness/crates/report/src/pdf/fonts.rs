//! Font metrics for the PDF layout: the bundled DejaVu faces, measured with ttf-parser.
//!
//! krilla draws single lines of text only, so widths and line breaks are ours to compute.
//! Every face is bundled (the `dejavu` crate); no font ever comes from the machine.

use krilla::text::Font;

use crate::ReportError;

/// The faces the report uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Face {
    Regular,
    Bold,
    Mono,
}

/// The bundled fonts, for measuring (ttf-parser) and drawing (krilla).
pub(super) struct Fonts {
    regular: (ttf_parser::Face<'static>, Font),
    bold: (ttf_parser::Face<'static>, Font),
    mono: (ttf_parser::Face<'static>, Font),
}

fn load(
    name: &str,
    bytes: &'static [u8],
) -> Result<(ttf_parser::Face<'static>, Font), ReportError> {
    let face = ttf_parser::Face::parse(bytes, 0).map_err(|_| ReportError::Font(name.into()))?;
    let font = Font::new(bytes.into(), 0).ok_or_else(|| ReportError::Font(name.into()))?;
    Ok((face, font))
}

impl Fonts {
    pub(super) fn new() -> Result<Fonts, ReportError> {
        Ok(Fonts {
            regular: load("DejaVu Sans", dejavu::sans::regular())?,
            bold: load("DejaVu Sans Bold", dejavu::sans::bold())?,
            mono: load("DejaVu Sans Mono", dejavu::sans_mono::regular())?,
        })
    }

    fn get(&self, f: Face) -> &(ttf_parser::Face<'static>, Font) {
        match f {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
            Face::Mono => &self.mono,
        }
    }

    /// The face as krilla draws it.
    pub(super) fn font(&self, f: Face) -> Font {
        self.get(f).1.clone()
    }

    /// Advance width of `text` in points (no kerning: DejaVu's is small enough for layout).
    pub(super) fn width(&self, f: Face, size: f32, text: &str) -> f32 {
        let face = &self.get(f).0;
        let upem = f32::from(face.units_per_em());
        let units: u32 = text
            .chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(upem as u32 / 2, u32::from)
            })
            .sum();
        units as f32 * size / upem
    }

    /// Break `text` into lines no wider than `width`, at spaces where possible, else inside
    /// long words (paths, frame names) after "::", "/", "_" or anywhere.
    pub(super) fn wrap(&self, f: Face, size: f32, text: &str, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut cur = String::new();
        for word in text.split(' ') {
            let candidate = if cur.is_empty() {
                word.to_string()
            } else {
                format!("{cur} {word}")
            };
            if self.width(f, size, &candidate) <= width {
                cur = candidate;
                continue;
            }
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            // The word alone may still be too wide: split it.
            let mut rest = word.to_string();
            while self.width(f, size, &rest) > width {
                let cut = self.split_point(f, size, &rest, width);
                let tail = rest.split_off(cut);
                lines.push(rest);
                rest = tail;
            }
            cur = rest;
        }
        if !cur.is_empty() || lines.is_empty() {
            lines.push(cur);
        }
        lines
    }

    fn split_point(&self, f: Face, size: f32, word: &str, width: f32) -> usize {
        let mut fit = 0;
        let mut preferred = 0;
        for (i, c) in word.char_indices() {
            let end = i + c.len_utf8();
            if self.width(f, size, &word[..end]) > width {
                break;
            }
            fit = end;
            if matches!(c, ':' | '/' | '_' | '-' | ',' | '.') {
                preferred = end;
            }
        }
        let cut = if preferred > 0 { preferred } else { fit };
        // Always make progress, even if one character is wider than the column.
        cut.max(word.chars().next().map_or(1, char::len_utf8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_respects_width_and_keeps_every_character() {
        let fonts = Fonts::new().unwrap();
        let text = "engine::shard::Shard::apply_batch and crossbeam_queue::array_queue::ArrayQueue<T>::push are long frame names";
        let lines = fonts.wrap(Face::Regular, 9.0, text, 120.0);
        assert!(lines.len() > 2);
        for l in &lines {
            assert!(fonts.width(Face::Regular, 9.0, l) <= 120.0 + 0.01, "{l}");
        }
        let joined: String = lines.concat().replace(' ', "");
        assert_eq!(joined, text.replace(' ', ""));
    }

    #[test]
    fn every_character_the_report_uses_has_a_glyph() {
        let fonts = Fonts::new().unwrap();
        for f in [Face::Regular, Face::Bold] {
            let face = &fonts.get(f).0;
            for c in "≥≤✓✗–→·µ×−•%".chars() {
                assert!(face.glyph_index(c).is_some(), "{f:?} lacks {c:?}");
            }
        }
    }
}
