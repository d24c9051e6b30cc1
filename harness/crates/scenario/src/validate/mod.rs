//! Validation: raw structs in, one immutable [`Plan`] out, or the first problem found.
//!
//! Checks run in file order (scenario, target, workload, http, data, requests, stages,
//! criteria, capacity, output) and then across sections, so the error a user sees first is the one
//! nearest the top of the file. Each check names the field by its path and points at the span
//! `serde_spanned` kept for it.
//!
//! One module per section of the file ([`target`], [`workload`], [`http`] with [`tls`],
//! [`data`] with [`datafile`], [`requests`] with [`variables`] and [`checks`], [`stages`],
//! [`warmup`], [`criteria`], [`capacity`], [`output`]), one for the driver's rules pointed at
//! the file ([`driver`]), and two they share: [`values`] (where errors point, and the
//! duration, rate, size and fraction parsers) and [`url`] (URL, path and header-name syntax).
//! This module only runs them in order and assembles the plan. `[[data]]` comes before
//! `[[requests]]` because templates name its columns.

mod capacity;
mod checks;
mod criteria;
mod data;
mod datafile;
mod driver;
mod http;
mod output;
mod requests;
mod stages;
mod target;
mod tls;
mod url;
mod values;
mod variables;
mod warmup;
mod workload;

use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::driver::DriverInputs;
use crate::error::ScenarioError;
use crate::plan::{Driver, Plan};
use crate::raw::{RawDriver, RawHeader, RawScenarioFile};
use values::Ctx;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Validates a deserialized scenario into a plan.
pub(crate) fn plan(raw: RawScenarioFile, src: &str, file: &Path) -> Result<Plan> {
    let cx = Ctx { file, src };
    let header = raw.scenario.get_ref();

    let name = scenario_name(&cx, header)?;
    let description = header.description.as_ref().map(|d| d.get_ref().clone());
    let driver = match header.driver.as_ref().map(|d| *d.get_ref()) {
        None | Some(RawDriver::Native) => Driver::Native,
        Some(RawDriver::Goose) => Driver::Goose,
    };
    let scenario_warmup = header
        .warmup
        .as_ref()
        .map(|w| cx.duration(w, "scenario.warmup"))
        .transpose()?;

    let target = target::target(&cx, &raw.target)?;
    let workload = workload::workload(&cx, raw.workload.as_ref())?;
    let http = http::http_options(&cx, raw.http.as_ref(), &target)?;
    let loaded = data::data(&cx, &raw.data, &target)?;
    let requests = requests::requests(&cx, &raw.requests, &raw.target, &target, &loaded)?;
    let data: Vec<_> = loaded.into_iter().map(|l| l.source).collect();
    let searching = raw
        .capacity
        .as_ref()
        .is_some_and(|c| c.get_ref().is_search());
    let stages = stages::stages(&cx, &raw.stages, searching)?;

    // Cross-section rules.
    stages::check_tps_stages(&cx, &raw.stages, &stages, &target, &requests)?;
    requests::check_pipelined_flows(&cx, &raw.requests, &http)?;
    let parts = DriverInputs {
        driver,
        name: &name,
        target: &target,
        http: &http,
        data: &data,
        requests: &requests,
        stages: &stages,
    };
    driver::check(&cx, &raw, &parts)?;
    let total: Duration = stages.iter().map(|s| s.duration).sum();
    let warmup = if searching {
        capacity::search_stages(&cx, &raw.stages, &stages, header)?;
        total
    } else {
        warmup::warmup(&cx, header, &raw.stages, &stages, scenario_warmup, total)?
    };
    let criteria = criteria::criteria(&cx, raw.criteria.as_ref(), &target)?;
    if searching {
        criteria::search_criteria(&cx, raw.criteria.as_ref())?;
    }
    let unit = capacity::search_unit(&target, &requests);
    let capacity = capacity::capacity(&cx, raw.capacity.as_ref(), &stages, unit)?;
    let output = output::output(&cx, raw.output.as_ref())?;

    Ok(Plan {
        name,
        description,
        file: file.to_path_buf(),
        sha256: sha256_hex(src.as_bytes()),
        driver,
        target,
        workload,
        http,
        requests,
        data,
        stages,
        warmup,
        criteria,
        capacity,
        output,
        duration_scale: 1.0,
    })
}

/// `[scenario] name`: it names report directories, so only `[A-Za-z0-9_-]`, 1 to 100 of them.
fn scenario_name(cx: &Ctx, header: &RawHeader) -> Result<String> {
    let name = header.name.get_ref().clone();
    if name.is_empty()
        || name.len() > 100
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(cx.err(
            header.name.span(),
            "scenario.name",
            format!("expected 1 to 100 characters from [A-Za-z0-9_-] (it names report directories), found {name:?}"),
        ));
    }
    Ok(name)
}

/// Lower-case hex SHA-256.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
