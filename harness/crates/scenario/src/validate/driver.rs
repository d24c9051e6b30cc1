//! `driver = "goose"` in a file: goose drives HTTP services only and has no arrival-rate
//! model, so a goose scenario needs an http or spawn target and closed-model stages.

use super::values::Ctx;
use super::Result;
use crate::plan::{Load, RateUnit, Stage, Target};
use crate::raw::{RawHeader, RawStage, S};

pub(super) fn check_goose(
    cx: &Ctx,
    header: &RawHeader,
    raw: &[S<RawStage>],
    stages: &[Stage],
    target: &Target,
) -> Result<()> {
    let driver_span = header.driver.as_ref().map(|d| d.span()).unwrap_or(0..0);
    if !target.is_http() {
        return Err(cx.err(
            driver_span,
            "scenario.driver",
            "driver = \"goose\" needs an http or spawn target: goose drives HTTP services only",
        ));
    }
    for (i, stage) in stages.iter().enumerate() {
        if let Load::Open { unit, .. } = stage.load {
            let (key, span) = match unit {
                RateUnit::OpsPerSec => ("rate", raw[i].get_ref().rate.as_ref().map(|v| v.span())),
                RateUnit::TxPerSec => ("tps", raw[i].get_ref().tps.as_ref().map(|v| v.span())),
            };
            return Err(cx.err(
                span.unwrap_or(raw[i].span()),
                format!("stages[{i}].{key}"),
                "driver = \"goose\" supports only closed-model stages (`workers`): goose has no arrival-rate model, so a rate could not be honoured",
            ));
        }
    }
    Ok(())
}
