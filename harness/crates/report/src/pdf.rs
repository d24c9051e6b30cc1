//! `report.pdf`: an A4 report without a browser.
//!
//! krilla writes the PDF but only draws single lines of shaped text, so this module has a small
//! layout engine of its own: it measures text with the glyph advances of the bundled DejaVu
//! fonts (ttf-parser), wraps paragraphs, sizes and wraps table columns, repeats table headers
//! and breaks pages. Layout produces a list of drawing operations per page first; only then are
//! the pages emitted, so every page can carry "page N of M". Charts go in as vector graphics
//! through krilla-svg, with the same DejaVu font loaded into usvg's font database (without it,
//! chart text silently disappears). No font ever comes from the machine.

use std::sync::Arc;

use krilla::action::LinkAction;
use krilla::annotation::{LinkAnnotation, Target};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::Document;
use krilla_svg::{SurfaceExt, SvgSettings};
use results::Status;

use crate::doc::{status_label, status_meaning, Align, Block, Table, Tone};
use crate::{Context, Output, Renderer, ReportError};

pub struct Pdf;

impl Renderer for Pdf {
    fn render(&self, ctx: &Context<'_>) -> Result<Vec<Output>, ReportError> {
        Ok(vec![Output {
            path: "report.pdf".into(),
            bytes: render_pdf(ctx)?,
        }])
    }
}

// A4 in points, and the text block.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 54.0;
const TOP: f32 = 62.0;
const BOTTOM: f32 = PAGE_H - 58.0;
const WIDTH: f32 = PAGE_W - 2.0 * MARGIN_X;

const BODY: f32 = 9.5;
const SMALL: f32 = 8.0;
const TABLE: f32 = 8.5;
const LEADING: f32 = 1.38;

type Rgb = (u8, u8, u8);
const INK: Rgb = (34, 34, 34);
const GREY: Rgb = (102, 102, 102);
const RULE: Rgb = (200, 200, 200);
const LIGHT_RULE: Rgb = (228, 228, 228);
const HEAD_BG: Rgb = (241, 241, 241);
const GOOD: Rgb = (26, 127, 55);
const BAD: Rgb = (198, 40, 40);
const WARN: Rgb = (178, 106, 0);
const LINK: Rgb = (0, 90, 170);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Face {
    Regular,
    Bold,
    Mono,
}

/// The bundled fonts, for measuring (ttf-parser) and drawing (krilla).
struct Fonts {
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
    fn new() -> Result<Fonts, ReportError> {
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

    /// Advance width of `text` in points (no kerning: DejaVu's is small enough for layout).
    fn width(&self, f: Face, size: f32, text: &str) -> f32 {
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
    fn wrap(&self, f: Face, size: f32, text: &str, width: f32) -> Vec<String> {
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

/// One drawing operation, in page coordinates (points, origin top-left).
enum Op {
    Text {
        x: f32,
        baseline: f32,
        face: Face,
        size: f32,
        color: Rgb,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Option<Rgb>,
        stroke: Option<(Rgb, f32)>,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        color: Rgb,
        width: f32,
    },
    Chart {
        index: usize,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
    Link {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        uri: String,
    },
}

struct Layout<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl<'f> Layout<'f> {
    fn new(fonts: &'f Fonts) -> Layout<'f> {
        Layout {
            fonts,
            pages: vec![Vec::new()],
            y: TOP,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        // `pages` starts with one page and only grows.
        self.pages.last_mut().expect("at least one page")
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Start a new page unless `h` more points fit on this one.
    fn ensure(&mut self, h: f32) {
        if self.y + h > BOTTOM && self.y > TOP + 1.0 {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, baseline: f32, face: Face, size: f32, color: Rgb, text: &str) {
        if text.is_empty() {
            return;
        }
        self.ops().push(Op::Text {
            x,
            baseline,
            face,
            size,
            color,
            text: text.to_string(),
        });
    }

    /// A wrapped paragraph at the current position.
    fn paragraph(&mut self, face: Face, size: f32, color: Rgb, text: &str, indent: f32) {
        let lines = self.fonts.wrap(face, size, text, WIDTH - indent);
        let lh = size * LEADING;
        for l in lines {
            self.ensure(lh);
            let baseline = self.y + size;
            self.text(MARGIN_X + indent, baseline, face, size, color, &l);
            self.y += lh;
        }
    }

    fn gap(&mut self, h: f32) {
        self.y += h;
    }

    /// A section heading, kept on the same page as the first `keep` points of what follows.
    fn heading(&mut self, text: &str, keep: f32) {
        self.gap(10.0);
        self.ensure(13.0 * 1.35 + 6.0 + keep);
        let size = 13.0;
        self.text(MARGIN_X, self.y + size, Face::Bold, size, INK, text);
        self.y += size * 1.35;
        let y = self.y;
        self.ops().push(Op::Line {
            x1: MARGIN_X,
            y1: y,
            x2: MARGIN_X + WIDTH,
            y2: y,
            color: RULE,
            width: 0.6,
        });
        self.y += 6.0;
    }

    fn bullets(&mut self, items: &[String], size: f32, color: Rgb, indent: f32) {
        for it in items {
            let lines = self
                .fonts
                .wrap(Face::Regular, size, it, WIDTH - indent - 10.0);
            let lh = size * LEADING;
            for (i, l) in lines.iter().enumerate() {
                self.ensure(lh);
                let baseline = self.y + size;
                if i == 0 {
                    self.text(MARGIN_X + indent, baseline, Face::Regular, size, color, "•");
                }
                self.text(
                    MARGIN_X + indent + 10.0,
                    baseline,
                    Face::Regular,
                    size,
                    color,
                    l,
                );
                self.y += lh;
            }
        }
    }

    fn pairs(&mut self, pairs: &[(String, String)]) {
        let size = BODY;
        let key_w = pairs
            .iter()
            .map(|(k, _)| self.fonts.width(Face::Bold, size, k))
            .fold(0.0, f32::max)
            .min(WIDTH * 0.35)
            + 14.0;
        let lh = size * LEADING;
        let wrapped: Vec<Vec<String>> = pairs
            .iter()
            .map(|(_, v)| self.fonts.wrap(Face::Regular, size, v, WIDTH - key_w))
            .collect();
        // A short list of facts reads badly split over two pages: keep it together.
        let total: usize = wrapped.iter().map(Vec::len).sum();
        if total <= 16 {
            self.ensure(total as f32 * lh);
        }
        for ((k, _), lines) in pairs.iter().zip(wrapped) {
            self.ensure(lh * lines.len() as f32);
            self.text(MARGIN_X, self.y + size, Face::Bold, size, GREY, k);
            for l in lines {
                self.text(
                    MARGIN_X + key_w,
                    self.y + size,
                    Face::Regular,
                    size,
                    INK,
                    &l,
                );
                self.y += lh;
            }
        }
        self.gap(4.0);
    }

    fn verdict(&mut self, status: Status, reasons: &[String]) {
        let color = match status {
            Status::Pass => GOOD,
            Status::Fail | Status::Invalid => BAD,
            Status::Aborted => WARN,
        };
        let bg = match status {
            Status::Pass => (238, 248, 240),
            Status::Fail | Status::Invalid => (253, 238, 238),
            Status::Aborted => (255, 246, 229),
        };
        let pad = 10.0;
        let big = 18.0;
        let label = status_label(status);
        let label_w = self.fonts.width(Face::Bold, big, label);
        let meaning = status_meaning(status);
        let reason_lines: Vec<Vec<String>> = reasons
            .iter()
            .map(|r| {
                self.fonts
                    .wrap(Face::Regular, BODY, r, WIDTH - 2.0 * pad - 12.0)
            })
            .collect();
        let lh = BODY * LEADING;
        let n_lines: usize = reason_lines.iter().map(Vec::len).sum();
        let h = pad * 2.0
            + big * 1.1
            + if n_lines > 0 {
                6.0 + n_lines as f32 * lh
            } else {
                0.0
            };
        self.ensure(h);
        let top = self.y;
        self.ops().push(Op::Rect {
            x: MARGIN_X,
            y: top,
            w: WIDTH,
            h,
            fill: Some(bg),
            stroke: Some((color, 1.5)),
        });
        let baseline = top + pad + big * 0.9;
        self.text(MARGIN_X + pad, baseline, Face::Bold, big, color, label);
        self.text(
            MARGIN_X + pad + label_w + 12.0,
            baseline - 1.0,
            Face::Regular,
            BODY + 0.5,
            INK,
            meaning,
        );
        let mut y = top + pad + big * 1.1 + 6.0;
        for lines in &reason_lines {
            for (i, l) in lines.iter().enumerate() {
                if i == 0 {
                    self.text(MARGIN_X + pad, y + BODY, Face::Regular, BODY, INK, "•");
                }
                self.text(MARGIN_X + pad + 12.0, y + BODY, Face::Regular, BODY, INK, l);
                y += lh;
            }
        }
        self.y = top + h + 8.0;
    }

    fn table(&mut self, t: &Table) {
        let pad_x = 4.0;
        let pad_y = 2.6;
        let ncol = t.columns.len();
        // Natural widths at the table size; shrink the type for wide tables before wrapping.
        let natural = |size: f32| -> Vec<f32> {
            (0..ncol)
                .map(|c| {
                    let head = self.fonts.width(Face::Bold, size, &t.columns[c].0);
                    t.rows
                        .iter()
                        .map(|r| self.fonts.width(cell_face(r[c].tone), size, &r[c].text))
                        .fold(head, f32::max)
                        + 2.0 * pad_x
                })
                .collect()
        };
        let mut size = TABLE;
        let mut widths = natural(size);
        while widths.iter().sum::<f32>() > WIDTH && size > 7.0 {
            size -= 0.5;
            widths = natural(size);
        }
        let total: f32 = widths.iter().sum();
        if total > WIDTH {
            // Give every column its natural width up to a fair share; the widest columns wrap.
            let mut fixed = vec![false; ncol];
            let mut avail = WIDTH;
            loop {
                let open: Vec<usize> = (0..ncol).filter(|c| !fixed[*c]).collect();
                if open.is_empty() {
                    break;
                }
                let share = avail / open.len() as f32;
                let small: Vec<usize> = open
                    .iter()
                    .copied()
                    .filter(|c| widths[*c] <= share)
                    .collect();
                if small.is_empty() {
                    for c in open {
                        widths[c] = share;
                    }
                    break;
                }
                for c in small {
                    fixed[c] = true;
                    avail -= widths[c];
                }
            }
        } else if total < WIDTH * 0.6 {
            // Narrow tables stay narrow; nothing to do.
        }
        let lh = size * LEADING;
        let wrap_row = |row: &Vec<(String, Face)>, widths: &[f32]| -> Vec<Vec<String>> {
            row.iter()
                .zip(widths)
                .map(|((text, face), w)| self.fonts.wrap(*face, size, text, w - 2.0 * pad_x))
                .collect()
        };
        let header: Vec<(String, Face)> = t
            .columns
            .iter()
            .map(|(n, _)| (n.clone(), Face::Bold))
            .collect();
        let header_lines = wrap_row(&header, &widths);
        let header_h =
            header_lines.iter().map(Vec::len).max().unwrap_or(1) as f32 * lh + 2.0 * pad_y;
        let table_w: f32 = widths.iter().sum();

        let draw_header = |this: &mut Layout<'_>| {
            let top = this.y;
            this.ops().push(Op::Rect {
                x: MARGIN_X,
                y: top,
                w: table_w,
                h: header_h,
                fill: Some(HEAD_BG),
                stroke: None,
            });
            let mut x = MARGIN_X;
            for (c, lines) in header_lines.iter().enumerate() {
                for (i, l) in lines.iter().enumerate() {
                    let tx = align_x(
                        this.fonts,
                        t.columns[c].1,
                        Face::Bold,
                        size,
                        l,
                        x,
                        widths[c],
                        pad_x,
                    );
                    this.text(
                        tx,
                        top + pad_y + size + i as f32 * lh,
                        Face::Bold,
                        size,
                        INK,
                        l,
                    );
                }
                x += widths[c];
            }
            this.y = top + header_h;
            let y = this.y;
            this.ops().push(Op::Line {
                x1: MARGIN_X,
                y1: y,
                x2: MARGIN_X + table_w,
                y2: y,
                color: (150, 150, 150),
                width: 0.8,
            });
        };

        let first_row_h = t
            .rows
            .first()
            .map(|r| {
                let cells: Vec<(String, Face)> = r
                    .iter()
                    .map(|c| (c.text.clone(), cell_face(c.tone)))
                    .collect();
                wrap_row(&cells, &widths)
                    .iter()
                    .map(Vec::len)
                    .max()
                    .unwrap_or(1) as f32
                    * lh
                    + 2.0 * pad_y
            })
            .unwrap_or(0.0);
        self.ensure(header_h + first_row_h);
        draw_header(self);
        for row in &t.rows {
            let cells: Vec<(String, Face)> = row
                .iter()
                .map(|c| (c.text.clone(), cell_face(c.tone)))
                .collect();
            let lines = wrap_row(&cells, &widths);
            let h = lines.iter().map(Vec::len).max().unwrap_or(1) as f32 * lh + 2.0 * pad_y;
            if self.y + h > BOTTOM {
                self.new_page();
                draw_header(self);
            }
            let top = self.y;
            let total_row = row.iter().any(|c| c.tone == Tone::Total);
            if total_row {
                self.ops().push(Op::Line {
                    x1: MARGIN_X,
                    y1: top,
                    x2: MARGIN_X + table_w,
                    y2: top,
                    color: (150, 150, 150),
                    width: 0.8,
                });
            }
            let mut x = MARGIN_X;
            for (c, cell_lines) in lines.iter().enumerate() {
                let face = cells[c].1;
                let color = match row[c].tone {
                    Tone::Good => GOOD,
                    Tone::Bad => BAD,
                    Tone::Muted => GREY,
                    Tone::Plain | Tone::Total => INK,
                };
                for (i, l) in cell_lines.iter().enumerate() {
                    let tx = align_x(
                        self.fonts,
                        t.columns[c].1,
                        face,
                        size,
                        l,
                        x,
                        widths[c],
                        pad_x,
                    );
                    self.text(tx, top + pad_y + size + i as f32 * lh, face, size, color, l);
                }
                x += widths[c];
            }
            self.y = top + h;
            let y = self.y;
            self.ops().push(Op::Line {
                x1: MARGIN_X,
                y1: y,
                x2: MARGIN_X + table_w,
                y2: y,
                color: LIGHT_RULE,
                width: 0.5,
            });
        }
        self.gap(6.0);
    }

    fn chart(&mut self, index: usize, caption: &str) {
        let w = WIDTH;
        let h = w * crate::charts::HEIGHT as f32 / crate::charts::WIDTH as f32;
        let cap_lines = self.fonts.wrap(Face::Regular, SMALL, caption, WIDTH).len();
        self.ensure(h + 6.0 + cap_lines as f32 * SMALL * LEADING);
        let y = self.y;
        self.ops().push(Op::Chart {
            index,
            x: MARGIN_X,
            y,
            w,
            h,
        });
        self.y += h + 3.0;
        self.paragraph(Face::Regular, SMALL, GREY, caption, 0.0);
        self.gap(8.0);
    }

    fn link(&mut self, label: &str, href: &str) {
        let size = BODY;
        let lh = size * LEADING;
        self.ensure(lh * 2.0);
        let label_w = self.fonts.width(Face::Bold, size, label);
        let top = self.y;
        self.text(MARGIN_X, top + size, Face::Bold, size, LINK, label);
        self.ops().push(Op::Line {
            x1: MARGIN_X,
            y1: top + size + 1.5,
            x2: MARGIN_X + label_w,
            y2: top + size + 1.5,
            color: LINK,
            width: 0.5,
        });
        self.ops().push(Op::Link {
            x: MARGIN_X,
            y: top,
            w: label_w,
            h: lh,
            uri: href.to_string(),
        });
        let path_x = MARGIN_X + label_w + 8.0;
        let lines = self
            .fonts
            .wrap(Face::Mono, SMALL, href, MARGIN_X + WIDTH - path_x);
        for (i, l) in lines.iter().enumerate() {
            self.text(
                path_x,
                top + size + i as f32 * SMALL * LEADING,
                Face::Mono,
                SMALL,
                GREY,
                l,
            );
        }
        self.y = top + lh.max(lines.len() as f32 * SMALL * LEADING) + 4.0;
    }
}

fn cell_face(t: Tone) -> Face {
    match t {
        Tone::Bad | Tone::Total => Face::Bold,
        _ => Face::Regular,
    }
}

#[allow(clippy::too_many_arguments)]
fn align_x(
    fonts: &Fonts,
    a: Align,
    face: Face,
    size: f32,
    text: &str,
    x: f32,
    w: f32,
    pad: f32,
) -> f32 {
    match a {
        Align::Left => x + pad,
        Align::Right => x + w - pad - fonts.width(face, size, text),
    }
}

/// How much of what follows a heading must fit under it (no orphaned headings): short text
/// blocks whole, plus the start of the first larger block (a few table rows, a whole chart,
/// a short list of facts).
fn keep_with_heading(after: &[Block], fonts: &Fonts) -> f32 {
    let lh = BODY * LEADING;
    let mut keep = 0.0;
    for b in after {
        match b {
            Block::Paragraph(t) | Block::Note(t) => {
                keep += fonts.wrap(Face::Regular, BODY, t, WIDTH).len() as f32 * lh + 4.0;
            }
            Block::Link { .. } => keep += 2.0 * lh,
            Block::Pairs(p) if p.len() <= 16 => return keep + p.len() as f32 * lh,
            Block::Table(_) => return keep + TABLE * LEADING * 3.0 + 16.0,
            Block::Chart(_) => {
                return keep + WIDTH * crate::charts::HEIGHT as f32 / crate::charts::WIDTH as f32
            }
            Block::Verdict { reasons, .. } => return keep + 50.0 + reasons.len() as f32 * lh,
            Block::Heading(_) | Block::Title(_) => return keep,
            _ => return keep + 3.0 * lh,
        }
        if keep > 120.0 {
            return keep;
        }
    }
    keep
}

/// Lay out the document into pages of drawing operations.
fn layout(ctx: &Context<'_>, fonts: &Fonts) -> Vec<Vec<Op>> {
    let mut l = Layout::new(fonts);
    let blocks = &ctx.doc.blocks;
    for (i, b) in blocks.iter().enumerate() {
        match b {
            Block::Title(t) => {
                let size = 20.0;
                for line in fonts.wrap(Face::Bold, size, t, WIDTH) {
                    l.text(MARGIN_X, l.y + size, Face::Bold, size, INK, &line);
                    l.y += size * 1.25;
                }
            }
            Block::Subtitle(t) => {
                l.paragraph(Face::Regular, BODY, GREY, t, 0.0);
                l.gap(2.0);
            }
            Block::Heading(t) => l.heading(t, keep_with_heading(&blocks[i + 1..], fonts)),
            Block::Verdict { status, reasons } => l.verdict(*status, reasons),
            Block::Paragraph(t) => {
                l.paragraph(Face::Regular, BODY, INK, t, 0.0);
                l.gap(4.0);
            }
            Block::Note(t) => {
                l.paragraph(Face::Regular, SMALL, GREY, t, 0.0);
                l.gap(4.0);
            }
            Block::Bullets(items) => {
                l.bullets(items, BODY, INK, 4.0);
                l.gap(4.0);
            }
            Block::Pairs(p) => l.pairs(p),
            Block::Table(t) => l.table(t),
            Block::Chart(i) => l.chart(*i, &ctx.charts[*i].caption),
            Block::Link { label, href } => l.link(label, href),
            Block::Code(t) => {
                l.paragraph(Face::Mono, SMALL, INK, t, 0.0);
                l.gap(4.0);
            }
        }
    }
    l.pages
}

/// Running header (from page 2) and footer (every page).
fn decorate(pages: &mut [Vec<Op>], ctx: &Context<'_>, fonts: &Fonts) {
    let r = ctx.result;
    let n = pages.len();
    let left = format!(
        "{} · harness {}",
        crate::fmt::timestamp(&r.environment.started_at),
        r.environment.harness_version
    );
    for (i, ops) in pages.iter_mut().enumerate() {
        let foot_y = PAGE_H - 32.0;
        ops.push(Op::Line {
            x1: MARGIN_X,
            y1: foot_y - 10.0,
            x2: MARGIN_X + WIDTH,
            y2: foot_y - 10.0,
            color: LIGHT_RULE,
            width: 0.5,
        });
        ops.push(Op::Text {
            x: MARGIN_X,
            baseline: foot_y,
            face: Face::Regular,
            size: 7.5,
            color: GREY,
            text: left.clone(),
        });
        let right = format!("Page {} of {n}", i + 1);
        ops.push(Op::Text {
            x: MARGIN_X + WIDTH - fonts.width(Face::Regular, 7.5, &right),
            baseline: foot_y,
            face: Face::Regular,
            size: 7.5,
            color: GREY,
            text: right,
        });
        if i > 0 {
            let head = format!("Load test report: {}", r.scenario.name);
            let status = status_label(r.verdict.status);
            ops.push(Op::Text {
                x: MARGIN_X,
                baseline: 36.0,
                face: Face::Regular,
                size: 7.5,
                color: GREY,
                text: head,
            });
            ops.push(Op::Text {
                x: MARGIN_X + WIDTH - fonts.width(Face::Bold, 7.5, status),
                baseline: 36.0,
                face: Face::Bold,
                size: 7.5,
                color: GREY,
                text: status.to_string(),
            });
            ops.push(Op::Line {
                x1: MARGIN_X,
                y1: 42.0,
                x2: MARGIN_X + WIDTH,
                y2: 42.0,
                color: LIGHT_RULE,
                width: 0.5,
            });
        }
    }
}

fn color(c: Rgb) -> krilla::paint::Paint {
    rgb::Color::new(c.0, c.1, c.2).into()
}

/// Parse the charts with usvg, with DejaVu as the only font and as "sans-serif".
fn chart_trees(ctx: &Context<'_>) -> Result<Vec<usvg::Tree>, ReportError> {
    let mut db = usvg::fontdb::Database::new();
    db.load_font_data(dejavu::sans::regular().to_vec());
    db.load_font_data(dejavu::sans::bold().to_vec());
    db.set_sans_serif_family("DejaVu Sans");
    let options = usvg::Options {
        fontdb: Arc::new(db),
        font_family: "DejaVu Sans".to_string(),
        ..usvg::Options::default()
    };
    ctx.charts
        .iter()
        .map(|c| {
            usvg::Tree::from_str(&c.svg, &options)
                .map_err(|e| ReportError::Pdf(format!("chart {}: {e}", c.file)))
        })
        .collect()
}

fn render_pdf(ctx: &Context<'_>) -> Result<Vec<u8>, ReportError> {
    let fonts = Fonts::new()?;
    let mut pages = layout(ctx, &fonts);
    decorate(&mut pages, ctx, &fonts);
    let trees = chart_trees(ctx)?;

    let r = ctx.result;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!(
                "Load test report: {} ({})",
                r.scenario.name,
                status_label(r.verdict.status)
            ))
            .creator(format!("harness {}", r.environment.harness_version)),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| ReportError::Pdf("invalid page size".into()))?;
    for ops in &pages {
        let mut page = document.start_page_with(settings.clone());
        for op in ops {
            if let Op::Link { x, y, w, h, uri } = op {
                if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                    page.add_annotation(
                        LinkAnnotation::new(
                            rect,
                            Target::Action(LinkAction::new(uri.clone()).into()),
                        )
                        .into(),
                    );
                }
            }
        }
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text {
                    x,
                    baseline,
                    face,
                    size,
                    color: c,
                    text,
                } => {
                    surface.set_fill(Some(Fill {
                        paint: color(*c),
                        ..Fill::default()
                    }));
                    surface.set_stroke(None);
                    surface.draw_text(
                        Point::from_xy(*x, *baseline),
                        fonts.get(*face).1.clone(),
                        *size,
                        text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Op::Rect {
                    x,
                    y,
                    w,
                    h,
                    fill,
                    stroke,
                } => {
                    let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) else {
                        continue;
                    };
                    let mut pb = PathBuilder::new();
                    pb.push_rect(rect);
                    let Some(path) = pb.finish() else { continue };
                    surface.set_fill(fill.map(|c| Fill {
                        paint: color(c),
                        ..Fill::default()
                    }));
                    surface.set_stroke(stroke.map(|(c, width)| Stroke {
                        paint: color(c),
                        width,
                        ..Stroke::default()
                    }));
                    surface.draw_path(&path);
                }
                Op::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    color: c,
                    width,
                } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(*x1, *y1);
                    pb.line_to(*x2, *y2);
                    let Some(path) = pb.finish() else { continue };
                    surface.set_fill(None);
                    surface.set_stroke(Some(Stroke {
                        paint: color(*c),
                        width: *width,
                        opacity: NormalizedF32::ONE,
                        ..Stroke::default()
                    }));
                    surface.draw_path(&path);
                }
                Op::Chart { index, x, y, w, h } => {
                    let Some(size) = Size::from_wh(*w, *h) else {
                        continue;
                    };
                    surface.push_transform(&krilla::geom::Transform::from_translate(*x, *y));
                    surface.draw_svg(&trees[*index], size, SvgSettings::default());
                    surface.pop();
                }
                Op::Link { .. } => {}
            }
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| ReportError::Pdf(format!("{e:?}")))
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
