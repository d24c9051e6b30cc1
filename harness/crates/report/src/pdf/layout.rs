//! The PDF layout engine: places a document's pieces on A4 pages as drawing operations.
//!
//! Layout walks down the page, measuring with [`Fonts`]: it wraps paragraphs and lists,
//! keeps short groups together and starts a new page when the next piece does not fit.
//! Nothing is drawn here: the result is a list of [`Op`]s per page, so that page decoration
//! (which needs the page count) and emission come after. Tables are in [`super::table`].

use results::Status;

use super::fonts::{Face, Fonts};
use super::style::*;
use crate::doc::status_label;

/// One drawing operation, in page coordinates (points, origin top-left).
pub(super) enum Op {
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
    /// A chart (index into the report's charts) scaled into the box.
    Chart {
        index: usize,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
    /// A clickable area (a link annotation, not drawn).
    Link {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        uri: String,
    },
}

/// Pages laid out so far and where the next piece goes on the last one.
pub(super) struct Layout<'f> {
    pub(super) fonts: &'f Fonts,
    pub(super) pages: Vec<Vec<Op>>,
    /// Top of the free space on the current page, in points from the top edge.
    pub(super) y: f32,
}

impl<'f> Layout<'f> {
    pub(super) fn new(fonts: &'f Fonts) -> Layout<'f> {
        Layout {
            fonts,
            pages: vec![Vec::new()],
            y: TOP,
        }
    }

    pub(super) fn ops(&mut self) -> &mut Vec<Op> {
        // `pages` starts with one page and only grows.
        self.pages.last_mut().expect("at least one page")
    }

    pub(super) fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Start a new page unless `h` more points fit on this one.
    pub(super) fn ensure(&mut self, h: f32) {
        if self.y + h > BOTTOM && self.y > TOP + 1.0 {
            self.new_page();
        }
    }

    pub(super) fn text(
        &mut self,
        x: f32,
        baseline: f32,
        face: Face,
        size: f32,
        color: Rgb,
        text: &str,
    ) {
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
    pub(super) fn paragraph(&mut self, face: Face, size: f32, color: Rgb, text: &str, indent: f32) {
        let lines = self.fonts.wrap(face, size, text, WIDTH - indent);
        let lh = size * LEADING;
        for l in lines {
            self.ensure(lh);
            let baseline = self.y + size;
            self.text(MARGIN_X + indent, baseline, face, size, color, &l);
            self.y += lh;
        }
    }

    pub(super) fn gap(&mut self, h: f32) {
        self.y += h;
    }

    /// A section heading, kept on the same page as the first `keep` points of what follows.
    pub(super) fn heading(&mut self, text: &str, keep: f32) {
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

    pub(super) fn bullets(&mut self, items: &[String], size: f32, color: Rgb, indent: f32) {
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

    pub(super) fn pairs(&mut self, pairs: &[(String, String)]) {
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

    pub(super) fn verdict(&mut self, status: Status, meaning: &str, reasons: &[String]) {
        let color = match status {
            Status::Pass => GOOD,
            Status::Fail | Status::Invalid => BAD,
            Status::Aborted => WARN,
            Status::NotJudged => GREY,
        };
        let bg = match status {
            Status::Pass => (238, 248, 240),
            Status::Fail | Status::Invalid => (253, 238, 238),
            Status::Aborted => (255, 246, 229),
            Status::NotJudged => (244, 244, 244),
        };
        let pad = 10.0;
        let big = 18.0;
        let label = status_label(status);
        let label_w = self.fonts.width(Face::Bold, big, label);
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

    pub(super) fn chart(&mut self, index: usize, caption: &str) {
        let w = WIDTH;
        let h = chart_height();
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

    pub(super) fn link(&mut self, label: &str, href: &str) {
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
