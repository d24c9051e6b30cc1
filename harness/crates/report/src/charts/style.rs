//! How series look: the palette, line widths, dash patterns and markers of every series, and
//! the SVG post-processing that turns dashed series into real SVG dashes.
//!
//! Series differ by dash pattern and marker as well as colour, so a grey printout still tells
//! them apart.

use plotters::prelude::*;

// Okabe-Ito palette: distinguishable with the common colour-vision deficiencies.
pub(super) const BLUE: RGBColor = RGBColor(0, 114, 178);
pub(super) const ORANGE: RGBColor = RGBColor(230, 159, 0);
pub(super) const VERMILLION: RGBColor = RGBColor(213, 94, 0);
pub(super) const GREEN: RGBColor = RGBColor(0, 158, 115);
pub(super) const PURPLE: RGBColor = RGBColor(204, 121, 167);
pub(super) const DARK: RGBColor = RGBColor(60, 60, 60);
pub(super) const GRID: RGBColor = RGBColor(225, 225, 225);
pub(super) const SHADE: RGBColor = RGBColor(238, 238, 238);
/// Intervals in which the load generator was late (its figures are the generator's).
pub(super) const LATE_SHADE: RGBColor = RGBColor(250, 214, 205);
/// Intervals in which other processes used more CPU than the busy threshold
/// (`results::interval_is_busy`).
pub(super) const NOISE_SHADE: RGBColor = RGBColor(252, 236, 196);
/// A capacity search's bracket: between the last good and the first bad rate.
pub(super) const BRACKET_SHADE: RGBColor = RGBColor(214, 228, 240);
/// A history's baseline band: the values the comparison rule calls unchanged.
pub(super) const BAND_SHADE: RGBColor = RGBColor(218, 238, 224);

#[derive(Clone, Copy)]
pub(super) enum Marker {
    None,
    Circle,
    Triangle,
    Square,
    Cross,
}

/// The look of one series.
#[derive(Clone, Copy)]
pub(super) struct Look {
    pub(super) color: RGBColor,
    pub(super) width: u32,
    /// (dash, gap) in pixels; None = solid.
    pub(super) dash: Option<(i32, i32)>,
    pub(super) marker: Marker,
}

const fn look(color: RGBColor, width: u32, dash: Option<(i32, i32)>, marker: Marker) -> Look {
    Look {
        color,
        width,
        dash,
        marker,
    }
}

pub(super) const L_THROUGHPUT: Look = look(BLUE, 2, None, Marker::Circle);
pub(super) const L_TARGET: Look = look(VERMILLION, 2, Some((10, 6)), Marker::None);
pub(super) const L_P50: Look = look(BLUE, 2, None, Marker::Circle);
pub(super) const L_P99: Look = look(ORANGE, 2, Some((9, 5)), Marker::Triangle);
pub(super) const L_P999: Look = look(GREEN, 2, Some((3, 4)), Marker::Square);
/// A capacity search's SLO percentile when it is none of p50, p99, p99.9.
pub(super) const L_SLO_OTHER: Look = look(PURPLE, 2, None, Marker::Circle);
pub(super) const L_MAX: Look = look(DARK, 1, None, Marker::Cross);
pub(super) const L_TARGET_CPU: Look = look(BLUE, 2, None, Marker::Circle);
pub(super) const L_HARNESS_CPU: Look = look(ORANGE, 2, Some((9, 5)), Marker::Triangle);
/// Other processes' CPU and the steal: solid, told apart from ours by colour and marker.
pub(super) const L_OTHER_CPU: Look = look(VERMILLION, 2, None, Marker::Square);
pub(super) const L_STEAL: Look = look(DARK, 1, None, Marker::Triangle);
pub(super) const L_TARGET_RSS: Look = look(GREEN, 2, None, Marker::Square);
pub(super) const L_HARNESS_RSS: Look = look(PURPLE, 2, Some((3, 4)), Marker::Cross);
pub(super) const L_PLANNED: Look = look(DARK, 2, Some((8, 5)), Marker::None);
pub(super) const L_ACHIEVED: Look = look(BLUE, 2, None, Marker::Circle);
pub(super) const L_BACKLOG: Look = look(PURPLE, 1, Some((3, 4)), Marker::Cross);
/// A capacity search's capacity (the knee), across the latency axis.
pub(super) const L_CAPACITY: Look = look(DARK, 2, None, Marker::None);
/// A figure over many runs (`harness history`), and its runs the rule calls regressions.
pub(super) const L_RUNS: Look = look(BLUE, 2, None, Marker::Circle);
pub(super) const L_REGRESSED: Look = look(VERMILLION, 2, None, Marker::Circle);
pub(super) const STAGE_LINE: Look = look(RGBColor(150, 150, 150), 1, Some((4, 4)), Marker::None);

/// Every dashed look; one dash pattern per colour, since the colour carries the pattern
/// through the SVG (see `finish_svg`).
pub(super) const DASHED: [Look; 8] = [
    L_TARGET,
    L_P99,
    L_P999,
    L_HARNESS_CPU,
    L_HARNESS_RSS,
    L_PLANNED,
    L_BACKLOG,
    STAGE_LINE,
];

/// The stand-in colour a dashed series is drawn with until `finish_svg`.
pub(super) fn tag(c: RGBColor) -> RGBColor {
    RGBColor(c.0, c.1, c.2 ^ 1)
}

pub(super) fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// Replace tag colours with the real colour and an SVG dash array.
pub(super) fn finish_svg(svg: String) -> String {
    let mut out = svg;
    for l in DASHED {
        if let Some((d, g)) = l.dash {
            out = out.replace(
                &format!("stroke=\"{}\"", hex(tag(l.color))),
                &format!("stroke=\"{}\" stroke-dasharray=\"{d} {g}\"", hex(l.color)),
            );
        }
    }
    out
}

/// Text in the charts' font and colour.
pub(super) fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&DARK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_tags_are_unambiguous() {
        let palette = [
            BLUE,
            ORANGE,
            VERMILLION,
            GREEN,
            PURPLE,
            DARK,
            GRID,
            SHADE,
            LATE_SHADE,
            NOISE_SHADE,
            BRACKET_SHADE,
            WHITE,
            BLACK,
        ];
        for a in DASHED {
            assert!(a.dash.is_some());
            for b in DASHED {
                if a.color == b.color {
                    assert_eq!(a.dash, b.dash, "one dash pattern per colour");
                }
            }
            assert!(
                !palette.contains(&tag(a.color)),
                "tag of {:?} is a real colour",
                hex(a.color)
            );
        }
    }
}
