//! `[target]`: where the load goes (the in-process engine, a running HTTP service, or a server
//! the harness spawns).
//!
//! Each kind takes its own keys; a key another kind owns is refused by name rather than
//! ignored, so a half-edited target (a `url` left on a spawn target) cannot run something other
//! than what the file seems to say.

use std::ops::Range;
use std::time::Duration;

use super::url::{check_path, check_url};
use super::values::Ctx;
use super::Result;
use crate::plan::Target;
use crate::raw::{RawTarget, RawTargetKind, S};

const DEFAULT_HEALTH_PATH: &str = "/api/v11/health";
const SPAWN: &str = "kind = \"spawn\"";

pub(super) fn target(cx: &Ctx, raw: &S<RawTarget>) -> Result<Target> {
    let t = raw.get_ref();
    let allow_remote = t.allow_remote.as_ref().is_some_and(|a| *a.get_ref());
    match *t.kind.get_ref() {
        RawTargetKind::InProcess => {
            only(
                cx,
                t,
                t.url.as_ref().map(|v| v.span()),
                "url",
                "kind = \"http\"",
            )?;
            spawn_only(cx, t)?;
            only(
                cx,
                t,
                t.allow_remote.as_ref().map(|v| v.span()),
                "allow_remote",
                "kind = \"http\" or \"spawn\"",
            )?;
            Ok(Target::InProcess)
        }
        RawTargetKind::Http => {
            spawn_only(cx, t)?;
            Ok(Target::Http {
                base_url: base_url(cx, raw)?,
                allow_remote,
            })
        }
        RawTargetKind::Spawn => spawn(cx, raw, allow_remote),
    }
}

/// Refuses `key` (present at `span`) because only `allowed` may set it.
fn only(
    cx: &Ctx,
    t: &RawTarget,
    span: Option<Range<usize>>,
    key: &str,
    allowed: &str,
) -> Result<()> {
    let kind_name = match *t.kind.get_ref() {
        RawTargetKind::InProcess => "in-process",
        RawTargetKind::Http => "http",
        RawTargetKind::Spawn => "spawn",
    };
    match span {
        Some(span) => Err(cx.err(
            span,
            format!("target.{key}"),
            format!("only allowed with {allowed}, but target.kind = {kind_name:?}"),
        )),
        None => Ok(()),
    }
}

/// Fields that only a spawn target may set, checked for the other kinds.
fn spawn_only(cx: &Ctx, t: &RawTarget) -> Result<()> {
    only(
        cx,
        t,
        t.command.as_ref().map(|v| v.span()),
        "command",
        SPAWN,
    )?;
    only(
        cx,
        t,
        t.health_path.as_ref().map(|v| v.span()),
        "health_path",
        SPAWN,
    )?;
    only(
        cx,
        t,
        t.startup_timeout.as_ref().map(|v| v.span()),
        "startup_timeout",
        SPAWN,
    )
}

/// An http target's `url`, required, checked and without a trailing slash.
fn base_url(cx: &Ctx, raw: &S<RawTarget>) -> Result<String> {
    let url = raw.get_ref().url.as_ref().ok_or_else(|| {
        cx.err(
            raw.span(),
            "target.url",
            "required when target.kind = \"http\", e.g. url = \"http://127.0.0.1:8080\"",
        )
    })?;
    check_url(url.get_ref()).map_err(|why| {
        cx.err(
            url.span(),
            "target.url",
            format!(
                "expected a URL such as \"http://127.0.0.1:8080\", found {:?}: {why}",
                url.get_ref()
            ),
        )
    })
}

fn spawn(cx: &Ctx, raw: &S<RawTarget>, allow_remote: bool) -> Result<Target> {
    let t = raw.get_ref();
    only(
        cx,
        t,
        t.url.as_ref().map(|v| v.span()),
        "url",
        "kind = \"http\" (a spawned server prints its own address)",
    )?;
    let command = spawn_command(cx, raw)?;
    let health_path = match &t.health_path {
        Some(p) => {
            check_path(p.get_ref()).map_err(|why| cx.err(p.span(), "target.health_path", why))?;
            p.get_ref().clone()
        }
        None => DEFAULT_HEALTH_PATH.to_string(),
    };
    let startup_timeout = match &t.startup_timeout {
        Some(v) => cx.positive_duration(v, "target.startup_timeout")?,
        None => Duration::from_secs(10),
    };
    Ok(Target::Spawn {
        command,
        health_path,
        startup_timeout,
        allow_remote,
    })
}

/// A spawn target's `command`: required, a program name and its arguments.
fn spawn_command(cx: &Ctx, raw: &S<RawTarget>) -> Result<Vec<String>> {
    let command = raw.get_ref().command.as_ref().ok_or_else(|| {
        cx.err(raw.span(), "target.command", "required when target.kind = \"spawn\", e.g. command = [\"engine\", \"serve\", \"--addr\", \"127.0.0.1:0\"]")
    })?;
    if command.get_ref().is_empty() {
        return Err(cx.err(
            command.span(),
            "target.command",
            "must not be empty: give the program and its arguments",
        ));
    }
    if command.get_ref()[0].trim().is_empty() {
        return Err(cx.err(
            command.span(),
            "target.command[0]",
            "the program name must not be empty",
        ));
    }
    Ok(command.get_ref().clone())
}
