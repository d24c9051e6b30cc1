//! The warm-up: time from the run start excluded from the verdict.
//!
//! Given either as `[scenario] warmup` or as `warmup = true` on the leading stages (never both,
//! and never on a stage after a measured one), it must be shorter than the whole run or nothing
//! would be measured.

use std::time::Duration;

use super::values::Ctx;
use super::Result;
use crate::plan::Stage;
use crate::raw::{RawHeader, RawStage, S};
use crate::units::format_duration;

pub(super) fn warmup(
    cx: &Ctx,
    header: &RawHeader,
    raw: &[S<RawStage>],
    stages: &[Stage],
    scenario_warmup: Option<Duration>,
    total: Duration,
) -> Result<Duration> {
    let leading = stages.iter().take_while(|s| s.warmup).count();
    if let Some(late) = stages.iter().skip(leading).position(|s| s.warmup) {
        let i = leading + late;
        return Err(cx.err(
            stage_warmup_span(raw, i),
            format!("stages[{i}].warmup"),
            format!(
                "warm-up stages must come first, but stage {:?} before it is not a warm-up",
                stages[i - 1].name
            ),
        ));
    }
    let warmup = match (scenario_warmup, leading) {
        (Some(_), n) if n > 0 => {
            let span = header.warmup.as_ref().map_or(0..0, |w| w.span());
            return Err(cx.err(
                span,
                "scenario.warmup",
                "set either [scenario] warmup or `warmup = true` on leading stages, not both",
            ));
        }
        (Some(w), _) => w,
        (None, n) => stages[..n].iter().map(|s| s.duration).sum(),
    };
    if warmup >= total {
        let (field, span) = match &header.warmup {
            Some(w) => ("scenario.warmup".to_string(), w.span()),
            None => {
                let i = leading.saturating_sub(1);
                (format!("stages[{i}].warmup"), stage_warmup_span(raw, i))
            }
        };
        return Err(cx.err(
            span,
            field,
            format!(
                "the warm-up ({}) must be shorter than the whole run ({}), or nothing is measured",
                format_duration(warmup),
                format_duration(total)
            ),
        ));
    }
    Ok(warmup)
}

/// Stage `i`'s `warmup` key, or the stage when it has none.
fn stage_warmup_span(raw: &[S<RawStage>], i: usize) -> std::ops::Range<usize> {
    raw[i]
        .get_ref()
        .warmup
        .as_ref()
        .map_or(raw[i].span(), |w| w.span())
}
