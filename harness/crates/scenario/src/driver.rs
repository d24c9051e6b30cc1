//! Whether a validated plan can run on the driver it names.
//!
//! The native driver runs every valid plan. goose is narrower: it drives HTTP services only,
//! has no arrival-rate model (its throttle only caps requests per second, so a planned rate
//! would silently become "at most this rate" and hide coordinated omission), its client is
//! built for HTTP/1.1 here, keeps its connections alive and sends one request at a time on
//! each (so neither a connection per request nor pipelining), it sends six methods, and its
//! reqwest client does TLS its own way (system roots, SNI from the URL, TLS 1.2 and 1.3,
//! resumption on), so `[http.tls]` may only ask for those defaults. Its users send each
//! request as written and judge it by status alone, so `[[data]]` feeders, `{{ }}` variables in
//! paths and header values, checks, extractions and setup templates are the native driver's
//! (a goose body template keeps its built-in placeholders). Those rules live here once, as a pure
//! function of the [`Plan`], so every way a plan comes to name goose is refused alike:
//! `driver = "goose"` in a file (validation points each [`DriverError`] at the field it
//! concerns) and `--driver goose` on the harness's command line (which calls [`check_driver`]
//! on the overridden plan).

use crate::plan::{
    DataSource, Driver, HttpOptions, Plan, RequestTemplate, Stage, Target, TlsOptions, TlsTrust,
};

/// The methods goose can send (its `GooseMethod`).
const GOOSE_METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

/// Why a plan cannot run on its driver. Every variant is the user's to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    #[error(
        "driver goose needs an http or spawn target, but scenario {scenario:?} targets the \
         in-process engine: goose drives HTTP services only"
    )]
    NotHttp { scenario: String },
    #[error(
        "driver goose supports only closed-model stages (`workers`): stages[{index}] ({name:?}) \
         sets an arrival rate, and goose has no arrival-rate model (its throttle only caps \
         requests per second), so the rate could not be honoured; use driver native"
    )]
    OpenStage { index: usize, name: String },
    #[error(
        "driver goose cannot run a capacity search ([capacity] mode = \"search\"): each probe \
         holds an arrival rate, and goose has no arrival-rate model; use driver native"
    )]
    Search,
    #[error(
        "driver goose: http.http2 = true, but goose's client is built here for HTTP/1.1 only; \
         set http2 = false or use driver native"
    )]
    Http2,
    #[error(
        "driver goose: http.tls.{key} is set, but goose's own client (reqwest) is not given TLS \
         settings here: goose reaches https targets with the system's roots, SNI from the URL, \
         TLS 1.2 and 1.3 and session resumption only; remove the key or use driver native"
    )]
    Tls { key: &'static str },
    #[error(
        "driver goose: [http] asks for {}, but goose's client keeps every connection alive and \
         cannot be told to close it; remove connection / max_requests_per_connection or use \
         driver native",
        reuse_words(*.max_requests)
    )]
    ConnectionReuse { max_requests: u32 },
    #[error(
        "driver goose: http.pipeline = {depth}, but goose sends one request at a time per \
         user; set pipeline = 1 or use driver native"
    )]
    Pipeline { depth: u32 },
    #[error(
        "driver goose: request template {name:?} uses method {method}, which goose cannot send \
         (GET, POST, PUT, PATCH, DELETE, HEAD)"
    )]
    Method { name: String, method: String },
    #[error(
        "driver goose: [[data]] {name:?} is declared, but goose's users draw no rows from data \
         files here; remove the [[data]] entry and its variables or use driver native"
    )]
    Data { name: String },
    #[error(
        "driver goose: request template {name:?} has setup = true, but goose's users run no \
         per-connection setup here; remove setup or use driver native"
    )]
    Setup { name: String },
    #[error(
        "driver goose: request template {name:?} has a {{{{ }}}} variable in its {key}, but goose \
         sends paths and header values as written; remove the variable or use driver native"
    )]
    Variable { name: String, key: &'static str },
    #[error(
        "driver goose: request template {name:?} has checks, but goose judges an answer by its \
         status alone here; remove check or use driver native"
    )]
    Check { name: String },
    #[error(
        "driver goose: request template {name:?} extracts variables, but goose's users keep no \
         variables between requests here; remove extract or use driver native"
    )]
    Extract { name: String },
    #[error("driver goose: the test plan has no stage")]
    NoStages,
    #[error(
        "driver goose: stages[{index}] ({name:?}) is a fixed amount of work (operations), but \
         goose's users run for a time and cannot share a count; use driver native"
    )]
    FixedWork { index: usize, name: String },
}

/// A connection limit in words: 1 is a new connection per request.
fn reuse_words(max_requests: u32) -> String {
    match max_requests {
        1 => "a new connection per request (connection = \"close\")".to_string(),
        n => format!("at most {n} requests per connection"),
    }
}

/// Checks that `plan` can run on `plan.driver`: always for [`Driver::Native`]; for
/// [`Driver::Goose`], an http or spawn target, HTTP/1.1 on kept-alive connections without
/// pipelining, no `[[data]]`, templates goose can send as written (its methods; no setup,
/// checks, extractions, nor variables in paths or header values), and at least one stage, all
/// closed-model. Problems are reported in file order (scenario, http, data, requests, stages),
/// the first one found.
pub fn check_driver(plan: &Plan) -> Result<(), DriverError> {
    check(&DriverInputs {
        driver: plan.driver,
        name: &plan.name,
        target: &plan.target,
        http: &plan.http,
        data: &plan.data,
        requests: &plan.requests,
        stages: &plan.stages,
        searching: plan.capacity.as_ref().is_some_and(|c| c.search().is_some()),
    })
}

/// The parts of a plan the driver check reads. File validation runs the check from these
/// before it validates the sections after `[[stages]]`, so a driver error is still reported
/// before theirs, in file order.
pub(crate) struct DriverInputs<'a> {
    pub driver: Driver,
    pub name: &'a str,
    pub target: &'a Target,
    pub http: &'a HttpOptions,
    pub data: &'a [DataSource],
    pub requests: &'a [RequestTemplate],
    pub stages: &'a [Stage],
    /// `[capacity] mode = "search"`: the probes are open-model stages of their own.
    pub searching: bool,
}

/// [`check_driver`] on a plan's parts.
pub(crate) fn check(p: &DriverInputs) -> Result<(), DriverError> {
    match p.driver {
        Driver::Native => Ok(()),
        Driver::Goose => check_goose(p),
    }
}

fn check_goose(p: &DriverInputs) -> Result<(), DriverError> {
    if !p.target.is_http() {
        return Err(DriverError::NotHttp {
            scenario: p.name.to_string(),
        });
    }
    if p.searching {
        return Err(DriverError::Search);
    }
    if p.http.http2 {
        return Err(DriverError::Http2);
    }
    if let Some(key) = tls_key_goose_cannot_honour(&p.http.tls) {
        return Err(DriverError::Tls { key });
    }
    if let Some(max_requests) = p.http.max_requests_per_connection {
        return Err(DriverError::ConnectionReuse { max_requests });
    }
    if p.http.pipeline > 1 {
        return Err(DriverError::Pipeline {
            depth: p.http.pipeline,
        });
    }
    if let Some(d) = p.data.first() {
        return Err(DriverError::Data {
            name: d.name.clone(),
        });
    }
    if let Some(e) = p.requests.iter().find_map(template_goose_cannot_send) {
        return Err(e);
    }
    if p.stages.is_empty() {
        return Err(DriverError::NoStages);
    }
    if let Some(index) = p.stages.iter().position(|s| s.load.is_open()) {
        return Err(DriverError::OpenStage {
            index,
            name: p.stages[index].name.clone(),
        });
    }
    match p.stages.iter().position(|s| s.operations.is_some()) {
        Some(index) => Err(DriverError::FixedWork {
            index,
            name: p.stages[index].name.clone(),
        }),
        None => Ok(()),
    }
}

/// What in template `r` goose cannot do, checked in the order of the template's keys in the
/// scenario format (method, path, headers, setup, check, extract).
fn template_goose_cannot_send(r: &RequestTemplate) -> Option<DriverError> {
    let name = r.name.clone();
    let has_var = |text: &str| crate::template::vars(text).next().is_some();
    if !GOOSE_METHODS.contains(&r.method.as_str()) {
        let method = r.method.clone();
        Some(DriverError::Method { name, method })
    } else if has_var(&r.path) {
        Some(DriverError::Variable { name, key: "path" })
    } else if r.headers.iter().any(|(_, v)| has_var(v)) {
        Some(DriverError::Variable {
            name,
            key: "headers",
        })
    } else if r.setup {
        Some(DriverError::Setup { name })
    } else if !r.checks.is_empty() {
        Some(DriverError::Check { name })
    } else if !r.extract.is_empty() {
        Some(DriverError::Extract { name })
    } else {
        None
    }
}

/// The first `[http.tls]` key (in file order) that asks goose's client for something other
/// than what it does by itself; `None` when every setting is goose's own default.
pub(crate) fn tls_key_goose_cannot_honour(t: &TlsOptions) -> Option<&'static str> {
    let d = TlsOptions::default();
    match &t.trust {
        TlsTrust::Roots { ca_file: Some(_) } => return Some("ca_file"),
        TlsTrust::Insecure => return Some("insecure"),
        TlsTrust::Roots { ca_file: None } => {}
    }
    if t.server_name.is_some() {
        return Some("server_name");
    }
    if t.client_auth.is_some() {
        return Some("client_cert");
    }
    let mut versions = t.versions.clone();
    versions.sort();
    if versions != d.versions {
        return Some("versions");
    }
    (t.resumption != d.resumption).then_some("resumption")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http_plan() -> Plan {
        let src = "[scenario]\nname = \"g\"\ndriver = \"goose\"\n\n[target]\nkind = \"http\"\n\
                   url = \"http://127.0.0.1:8080\"\n\n[[requests]]\npath = \"/\"\n\n\
                   [[stages]]\nduration = \"1s\"\nworkers = 1\n";
        crate::parse(src, std::path::Path::new("g.toml")).expect("a valid goose plan")
    }

    #[test]
    fn native_takes_anything_goose_takes_closed_http() {
        let mut plan = http_plan();
        assert_eq!(check_driver(&plan), Ok(()));
        plan.driver = Driver::Native;
        plan.target = Target::InProcess;
        assert_eq!(check_driver(&plan), Ok(()));
    }

    #[test]
    fn goose_refusals_name_what_to_change() {
        let mut plan = http_plan();
        plan.requests[0].method = "OPTIONS".into();
        assert_eq!(
            check_driver(&plan),
            Err(DriverError::Method {
                name: "request-1".into(),
                method: "OPTIONS".into()
            })
        );
        let mut plan = http_plan();
        plan.stages.clear();
        assert_eq!(check_driver(&plan), Err(DriverError::NoStages));
        let mut plan = http_plan();
        plan.http.http2 = true;
        assert_eq!(check_driver(&plan), Err(DriverError::Http2));
        let mut plan = http_plan();
        plan.http.tls.resumption = false;
        assert_eq!(
            check_driver(&plan),
            Err(DriverError::Tls { key: "resumption" })
        );
        let mut plan = http_plan();
        plan.http.tls.versions = vec![crate::TlsVersion::Tls13, crate::TlsVersion::Tls12];
        assert_eq!(check_driver(&plan), Ok(()), "both versions, in any order");
        plan.http.tls.trust = TlsTrust::Insecure;
        assert_eq!(
            check_driver(&plan),
            Err(DriverError::Tls { key: "insecure" })
        );
        let mut plan = http_plan();
        plan.target = Target::InProcess;
        assert_eq!(
            check_driver(&plan).map_err(|e| e.to_string()),
            Err(
                "driver goose needs an http or spawn target, but scenario \"g\" targets the \
                 in-process engine: goose drives HTTP services only"
                    .to_string()
            )
        );
    }
}
