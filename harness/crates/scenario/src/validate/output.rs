//! `[output]`: where results go, how often an interval is recorded (at least every 100 ms),
//! and whether the steady state is profiled.

use std::path::PathBuf;
use std::time::Duration;

use super::values::Ctx;
use super::Result;
use crate::plan::Output;
use crate::raw::{RawOutput, S};
use crate::units::format_duration;

pub(super) fn output(cx: &Ctx, raw: Option<&S<RawOutput>>) -> Result<Output> {
    let mut o = Output::default();
    let Some(raw) = raw else { return Ok(o) };
    let r = raw.get_ref();
    if let Some(v) = &r.interval {
        let d = cx.duration(v, "output.interval")?;
        if d < Duration::from_millis(100) {
            return Err(cx.err(
                v.span(),
                "output.interval",
                format!("must be at least 100ms, found {}", format_duration(d)),
            ));
        }
        o.interval = d;
    }
    if let Some(d) = &r.dir {
        if d.get_ref().trim().is_empty() {
            return Err(cx.err(d.span(), "output.dir", "must not be empty"));
        }
        o.dir = PathBuf::from(d.get_ref());
    }
    if let Some(p) = &r.profile {
        o.profile = *p.get_ref();
    }
    if let Some(hz) = &r.profile_hz {
        o.profile_hz = cx.u32_in(hz, "output.profile_hz", 1, 1000)?;
    }
    Ok(o)
}
