//! Emission: pages of drawing operations written as a PDF with krilla.
//!
//! Charts go in as vector graphics through krilla-svg, parsed by usvg with the same DejaVu
//! fonts loaded into its font database: without them, chart text silently disappears.

use std::sync::Arc;

use krilla::action::LinkAction;
use krilla::annotation::{LinkAnnotation, Target};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::{Page, PageSettings};
use krilla::paint::{Fill, Paint, Stroke};
use krilla::surface::Surface;
use krilla::text::TextDirection;
use krilla::Document;
use krilla_svg::{SurfaceExt, SvgSettings};

use super::fonts::Fonts;
use super::layout::Op;
use super::style::{Rgb, PAGE_H, PAGE_W};
use crate::charts::Chart;
use crate::ReportError;

/// Write `pages` as a PDF. `charts` are the charts that `Op::Chart` indexes.
pub(super) fn emit(
    pages: &[Vec<Op>],
    charts: &[Chart],
    fonts: &Fonts,
    metadata: Metadata,
) -> Result<Vec<u8>, ReportError> {
    let trees = chart_trees(charts)?;
    let mut document = Document::new();
    document.set_metadata(metadata);
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| ReportError::Pdf("invalid page size".into()))?;
    for ops in pages {
        let mut page = document.start_page_with(settings.clone());
        links(&mut page, ops);
        let mut surface = page.surface();
        for op in ops {
            draw(&mut surface, op, fonts, &trees);
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| ReportError::Pdf(format!("{e:?}")))
}

/// Parse the charts with usvg, with DejaVu as the only font and as "sans-serif".
fn chart_trees(charts: &[Chart]) -> Result<Vec<usvg::Tree>, ReportError> {
    let mut db = usvg::fontdb::Database::new();
    db.load_font_data(dejavu::sans::regular().to_vec());
    db.load_font_data(dejavu::sans::bold().to_vec());
    db.set_sans_serif_family("DejaVu Sans");
    let options = usvg::Options {
        fontdb: Arc::new(db),
        font_family: "DejaVu Sans".to_string(),
        ..usvg::Options::default()
    };
    charts
        .iter()
        .map(|c| {
            usvg::Tree::from_str(&c.svg, &options)
                .map_err(|e| ReportError::Pdf(format!("chart {}: {e}", c.file)))
        })
        .collect()
}

/// Link annotations go on the page, not the surface, so they are added before drawing.
fn links(page: &mut Page<'_>, ops: &[Op]) {
    for op in ops {
        if let Op::Link { x, y, w, h, uri } = op {
            if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                page.add_annotation(
                    LinkAnnotation::new(rect, Target::Action(LinkAction::new(uri.clone()).into()))
                        .into(),
                );
            }
        }
    }
}

fn color(c: Rgb) -> Paint {
    rgb::Color::new(c.0, c.1, c.2).into()
}

/// Draw one operation; a shape krilla rejects (zero size) is left out.
fn draw(surface: &mut Surface<'_>, op: &Op, fonts: &Fonts, trees: &[usvg::Tree]) {
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
                fonts.font(*face),
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
        } => rect(surface, (*x, *y, *w, *h), *fill, *stroke),
        Op::Line {
            x1,
            y1,
            x2,
            y2,
            color: c,
            width,
        } => line(surface, (*x1, *y1), (*x2, *y2), *c, *width),
        Op::Chart { index, x, y, w, h } => {
            let Some(size) = Size::from_wh(*w, *h) else {
                return;
            };
            surface.push_transform(&Transform::from_translate(*x, *y));
            surface.draw_svg(&trees[*index], size, SvgSettings::default());
            surface.pop();
        }
        Op::Link { .. } => {}
    }
}

fn rect(
    surface: &mut Surface<'_>,
    (x, y, w, h): (f32, f32, f32, f32),
    fill: Option<Rgb>,
    stroke: Option<(Rgb, f32)>,
) {
    let Some(rect) = Rect::from_xywh(x, y, w, h) else {
        return;
    };
    let mut pb = PathBuilder::new();
    pb.push_rect(rect);
    let Some(path) = pb.finish() else { return };
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

fn line(surface: &mut Surface<'_>, (x1, y1): (f32, f32), (x2, y2): (f32, f32), c: Rgb, width: f32) {
    let mut pb = PathBuilder::new();
    pb.move_to(x1, y1);
    pb.line_to(x2, y2);
    let Some(path) = pb.finish() else { return };
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: color(c),
        width,
        opacity: NormalizedF32::ONE,
        ..Stroke::default()
    }));
    surface.draw_path(&path);
}
