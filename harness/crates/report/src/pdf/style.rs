//! The PDF's page geometry, type sizes and colours, shared by layout, page decoration and
//! emission so that a margin or a colour is decided in one place.

// A4 in points, and the text block.
pub(super) const PAGE_W: f32 = 595.28;
pub(super) const PAGE_H: f32 = 841.89;
pub(super) const MARGIN_X: f32 = 54.0;
pub(super) const TOP: f32 = 62.0;
pub(super) const BOTTOM: f32 = PAGE_H - 58.0;
pub(super) const WIDTH: f32 = PAGE_W - 2.0 * MARGIN_X;

pub(super) const BODY: f32 = 9.5;
pub(super) const SMALL: f32 = 8.0;
pub(super) const TABLE: f32 = 8.5;
pub(super) const LEADING: f32 = 1.38;

pub(super) type Rgb = (u8, u8, u8);
pub(super) const INK: Rgb = (34, 34, 34);
pub(super) const GREY: Rgb = (102, 102, 102);
pub(super) const RULE: Rgb = (200, 200, 200);
pub(super) const LIGHT_RULE: Rgb = (228, 228, 228);
/// The rule under a table header and above a total row.
pub(super) const STRONG_RULE: Rgb = (150, 150, 150);
pub(super) const HEAD_BG: Rgb = (241, 241, 241);
pub(super) const GOOD: Rgb = (26, 127, 55);
pub(super) const BAD: Rgb = (198, 40, 40);
pub(super) const WARN: Rgb = (178, 106, 0);
pub(super) const LINK: Rgb = (0, 90, 170);

/// Height of a chart at the full text width (charts keep their pixel aspect ratio).
pub(super) fn chart_height() -> f32 {
    WIDTH * crate::charts::HEIGHT as f32 / crate::charts::WIDTH as f32
}
