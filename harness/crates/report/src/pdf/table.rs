//! Tables in the PDF: column widths from the text they hold, wrapped cells, a header repeated
//! on every page the table runs onto.
//!
//! Widths are decided once per table: natural widths at the table type size, a smaller size
//! (down to 7 pt) for wide tables, and when that is still too wide, every column gets its
//! natural width up to a fair share of the text width and the widest columns wrap.

use super::fonts::{Face, Fonts};
use super::layout::{Layout, Op};
use super::style::*;
use crate::doc::{Align, Cell, Table, Tone};

const PAD_X: f32 = 4.0;
const PAD_Y: f32 = 2.6;

/// A table's type size and column widths, decided before anything is drawn.
struct Columns {
    size: f32,
    widths: Vec<f32>,
}

impl Columns {
    fn fit(fonts: &Fonts, t: &Table) -> Columns {
        let mut size = TABLE;
        let mut widths = natural_widths(fonts, t, size);
        while widths.iter().sum::<f32>() > WIDTH && size > 7.0 {
            size -= 0.5;
            widths = natural_widths(fonts, t, size);
        }
        let total: f32 = widths.iter().sum();
        // Narrow tables stay narrow: only a table wider than the text is squeezed.
        if total > WIDTH {
            fair_shares(&mut widths, WIDTH);
        }
        Columns { size, widths }
    }

    fn line_height(&self) -> f32 {
        self.size * LEADING
    }

    fn table_width(&self) -> f32 {
        self.widths.iter().sum()
    }

    /// Each cell's text wrapped to its column.
    fn wrap(&self, fonts: &Fonts, cells: &[(String, Face)]) -> Vec<Vec<String>> {
        cells
            .iter()
            .zip(&self.widths)
            .map(|((text, face), w)| fonts.wrap(*face, self.size, text, w - 2.0 * PAD_X))
            .collect()
    }

    /// Height of a row of wrapped cells.
    fn row_height(&self, lines: &[Vec<String>]) -> f32 {
        lines.iter().map(Vec::len).max().unwrap_or(1) as f32 * self.line_height() + 2.0 * PAD_Y
    }
}

/// The width each column needs to hold its widest cell (or header) on one line.
fn natural_widths(fonts: &Fonts, t: &Table, size: f32) -> Vec<f32> {
    (0..t.columns.len())
        .map(|c| {
            let head = fonts.width(Face::Bold, size, &t.columns[c].0);
            t.rows
                .iter()
                .map(|r| fonts.width(cell_face(r[c].tone), size, &r[c].text))
                .fold(head, f32::max)
                + 2.0 * PAD_X
        })
        .collect()
}

/// Give every column its width up to a fair share of `avail`; the columns wider than their
/// share split what the narrow ones leave.
fn fair_shares(widths: &mut [f32], mut avail: f32) {
    let mut fixed = vec![false; widths.len()];
    loop {
        let open: Vec<usize> = (0..widths.len()).filter(|c| !fixed[*c]).collect();
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
}

fn cell_face(t: Tone) -> Face {
    match t {
        Tone::Bad | Tone::Total => Face::Bold,
        _ => Face::Regular,
    }
}

fn cell_color(t: Tone) -> Rgb {
    match t {
        Tone::Good => GOOD,
        Tone::Bad => BAD,
        Tone::Muted => GREY,
        Tone::Plain | Tone::Total => INK,
    }
}

fn body_cells(row: &[Cell]) -> Vec<(String, Face)> {
    row.iter()
        .map(|c| (c.text.clone(), cell_face(c.tone)))
        .collect()
}

impl Layout<'_> {
    pub(super) fn table(&mut self, t: &Table) {
        let cols = Columns::fit(self.fonts, t);
        let header: Vec<(String, Face)> = t
            .columns
            .iter()
            .map(|(n, _)| (n.clone(), Face::Bold))
            .collect();
        let header_lines = cols.wrap(self.fonts, &header);
        let header_h = cols.row_height(&header_lines);
        let first_row_h = t.rows.first().map_or(0.0, |r| {
            cols.row_height(&cols.wrap(self.fonts, &body_cells(r)))
        });
        self.ensure(header_h + first_row_h);
        self.table_header(t, &cols, &header_lines, header_h);
        for row in &t.rows {
            let lines = cols.wrap(self.fonts, &body_cells(row));
            let h = cols.row_height(&lines);
            if self.y + h > BOTTOM {
                self.new_page();
                self.table_header(t, &cols, &header_lines, header_h);
            }
            self.table_row(t, &cols, row, &lines, h);
        }
        self.gap(6.0);
    }

    fn table_header(&mut self, t: &Table, cols: &Columns, lines: &[Vec<String>], h: f32) {
        let top = self.y;
        self.ops().push(Op::Rect {
            x: MARGIN_X,
            y: top,
            w: cols.table_width(),
            h,
            fill: Some(HEAD_BG),
            stroke: None,
        });
        let faces = vec![Face::Bold; lines.len()];
        self.cell_lines(t, cols, top, lines, &faces, |_| INK);
        self.y = top + h;
        self.rule(self.y, cols.table_width(), STRONG_RULE, 0.8);
    }

    fn table_row(
        &mut self,
        t: &Table,
        cols: &Columns,
        row: &[Cell],
        lines: &[Vec<String>],
        h: f32,
    ) {
        let top = self.y;
        if row.iter().any(|c| c.tone == Tone::Total) {
            self.rule(top, cols.table_width(), STRONG_RULE, 0.8);
        }
        let faces: Vec<Face> = row.iter().map(|c| cell_face(c.tone)).collect();
        self.cell_lines(t, cols, top, lines, &faces, |c| cell_color(row[c].tone));
        self.y = top + h;
        self.rule(self.y, cols.table_width(), LIGHT_RULE, 0.5);
    }

    /// The wrapped lines of one row's cells, aligned in their columns.
    fn cell_lines(
        &mut self,
        t: &Table,
        cols: &Columns,
        top: f32,
        lines: &[Vec<String>],
        faces: &[Face],
        color: impl Fn(usize) -> Rgb,
    ) {
        let (size, lh) = (cols.size, cols.line_height());
        let mut x = MARGIN_X;
        for (c, cell_lines) in lines.iter().enumerate() {
            let w = cols.widths[c];
            for (i, l) in cell_lines.iter().enumerate() {
                let tx = match t.columns[c].1 {
                    Align::Left => x + PAD_X,
                    Align::Right => x + w - PAD_X - self.fonts.width(faces[c], size, l),
                };
                let baseline = top + PAD_Y + size + i as f32 * lh;
                self.text(tx, baseline, faces[c], size, color(c), l);
            }
            x += w;
        }
    }

    /// A horizontal rule across the table at `y`.
    fn rule(&mut self, y: f32, table_w: f32, color: Rgb, width: f32) {
        self.ops().push(Op::Line {
            x1: MARGIN_X,
            y1: y,
            x2: MARGIN_X + table_w,
            y2: y,
            color,
            width,
        });
    }
}
