//! HTTP targets: a running service (`http`) or a server the harness starts (`spawn`).
//!
//! A target is where load goes, and knows nothing of what generates it: the endpoint (resolved
//! and checked), the spawned process, the request templates, how an answer is judged, and the
//! control API of our engine. The load generators live in `drivers` and use this
//! module; nothing here imports them.
//!
//! Safety: every target is resolved and refused unless it is loopback, or both the scenario
//! and the command line allow remote targets ([`endpoint`]); the check happens before the
//! first connection, and for spawn targets again on the announced address. https changes
//! nothing there: it changes how a connection is opened ([`dial`], [`tls`], [`stream`]).
//!
//! Our engine (recognised by `GET /api/v11/info`) is also audited: its stats before and after
//! the run are compared with the transactions the harness saw committed, and its audit goes
//! into the result; a run whose audit fails gets no throughput verdict.

pub(crate) mod control;
pub mod dial;
pub mod endpoint;
pub mod engine_api;
pub mod feed;
pub mod inspect;
pub(crate) mod judge;
pub mod maker;
pub mod pointer;
pub mod request;
pub mod spawn;
pub mod stream;
pub mod template;
pub mod tls;

use bytes::Bytes;
use control::{fetch_once, MAX_CONTROL_BODY};
use dial::Dialer;
use endpoint::Endpoint;
use engine_api::{Audit, Info, Stats};
use http_body_util::Full;
use hyper::header::HOST;
use hyper::Request;
use request::RequestTable;
use scenario::{Plan, Target};
use spawn::Spawned;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tls::TlsClient;

/// Timeout of control requests (info, stats, audit).
const CONTROL_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an HTTP target cannot be run. Variants for which [`HttpError::is_usage`] holds are the
/// user's to fix (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("target URL {url:?} {why}")]
    BadUrl { url: String, why: String },
    #[error("resolving the target host {host:?}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "refusing to send load to {url} ({addrs}): not a loopback address (127.0.0.0/8 or ::1); \
         remote targets need both `allow_remote = true` in the scenario's [target] (given: {scenario}) \
         and --allow-remote on the command line (given: {cli})"
    )]
    Remote {
        url: String,
        addrs: String,
        scenario: bool,
        cli: bool,
    },
    #[error("the scenario has no [[requests]] for its HTTP target")]
    NoRequests,
    #[error("request template {name:?}: {why}")]
    BadTemplate { name: String, why: String },
    #[error("{accounts} accounts cannot give each of {workers} workers its own senders; raise workload.accounts")]
    TooFewAccounts { accounts: u64, workers: u32 },
    #[error("the spawn target's command is empty")]
    EmptyCommand,
    #[error("starting {program:?}")]
    Spawn {
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{program:?} printed no address line within {timeout:?} (process: {status})")]
    NoAddress {
        program: PathBuf,
        timeout: Duration,
        status: String,
    },
    #[error("{program:?}'s first stdout line has no http:// or https:// address: {line:?}")]
    BadAddressLine { program: PathBuf, line: String },
    #[error("{program:?} exited before it was healthy ({status})")]
    Exited { program: PathBuf, status: String },
    #[error("health check {path} did not answer 200 before the startup timeout (last: {last})")]
    Unhealthy { path: String, last: String },
    #[error("building the tokio runtime")]
    Runtime(#[source] std::io::Error),
    #[error("[http.tls]: {0}")]
    Tls(String),
}

impl HttpError {
    /// Errors in the scenario or command line (exit 2) rather than in the target.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            HttpError::BadUrl { .. }
                | HttpError::Remote { .. }
                | HttpError::NoRequests
                | HttpError::BadTemplate { .. }
                | HttpError::TooFewAccounts { .. }
                | HttpError::EmptyCommand
                | HttpError::Tls(_)
        )
    }
}

/// What the end of a run learned from the target.
#[derive(Debug, Default)]
pub struct Finish {
    pub audit: Option<results::AuditResult>,
    /// The engine's committed count before the run and at the end (our engine only).
    pub engine_committed: Option<(u64, u64)>,
    /// Lines for the result's driver notes.
    pub notes: Vec<String>,
}

/// An HTTP target, ready to drive.
pub struct HttpTarget {
    pub endpoint: Endpoint,
    /// https targets: the run's TLS client (one session cache for every connection).
    pub tls: Option<Arc<TlsClient>>,
    table: Arc<RequestTable>,
    /// The scenario's request timeout (also the longest the engine probe waits).
    timeout: Duration,
    spawned: Option<Spawned>,
    /// Set when the target is our engine.
    pub info: Option<Info>,
    stats_before: Option<Stats>,
    /// Spawn to first healthy answer (spawn targets).
    pub startup: Option<Duration>,
    /// What [`HttpTarget::finish`] learned.
    pub end: Option<Finish>,
    rt: tokio::runtime::Runtime,
    /// Other instances (execution segments) drive the same engine: its committed count is
    /// recorded, not compared with ours (harness merge compares the sum).
    shared_engine: bool,
}

/// A current-thread tokio runtime: the control path's, and each generator thread's.
pub fn current_thread_rt() -> Result<tokio::runtime::Runtime, HttpError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(HttpError::Runtime)
}

impl HttpTarget {
    /// Resolves and checks the target (refusing non-loopback addresses unless both the scenario
    /// and `cli_allow_remote` allow them), starts it for spawn targets, waits until healthy,
    /// and asks whether it is our engine. Nothing is sent before the loopback check passed.
    pub fn prepare(plan: &Plan, cli_allow_remote: bool) -> Result<HttpTarget, HttpError> {
        let rt = current_thread_rt()?;
        let (endpoint, tls, spawned, startup) = start(plan, &rt, cli_allow_remote)?;
        let table = Arc::new(RequestTable::new(plan, &endpoint, plan.http.http2)?);
        let mut t = HttpTarget {
            endpoint,
            tls,
            table,
            timeout: plan.http.timeout,
            spawned,
            info: None,
            stats_before: None,
            startup,
            end: None,
            rt,
            shared_engine: false,
        };
        // The probe that tells our engine from any other service waits no longer than a request
        // of the scenario may: a service that never answers costs that, not 10 s.
        let probe = t.timeout.min(CONTROL_TIMEOUT);
        t.info = t
            .get_json::<Info>("/api/v11/info", probe)
            .filter(Info::is_engine);
        if t.info.is_some() {
            t.stats_before = t.get_json::<Stats>("/api/v11/stats", CONTROL_TIMEOUT);
        }
        Ok(t)
    }

    /// Makes this instance one of several driving the same engine (an execution segment): it
    /// sends only from `senders` (nonce stream `stream`) and records, rather than checks, the
    /// engine's committed count.
    pub fn share_engine(&mut self, senders: Option<(Range<u64>, u64)>) {
        self.shared_engine = true;
        if let Some((range, stream)) = senders.filter(|_| self.table.carries_tx) {
            // The table is shared with workers only once they start; nothing holds it yet.
            match Arc::get_mut(&mut self.table) {
                Some(t) => t.restrict_senders(range, stream),
                None => unreachable!("the request table is not shared before the workers start"),
            }
        }
    }

    /// Makes this instance execution segment `index` of `count` for the feeders: `queue` and
    /// `shuffle` hand out only this segment's share of their rows, so no row is used twice
    /// across segments.
    pub fn segment_feeds(&mut self, plan: &Plan, index: u32, count: u32) {
        match Arc::get_mut(&mut self.table) {
            Some(t) => t.restrict_feeds(&plan.data, index, count, plan.workload.seed),
            None => unreachable!("the request table is not shared before the workers start"),
        }
    }

    /// Whether the requests carry transfers.
    pub fn carries_tx(&self) -> bool {
        self.table.carries_tx
    }

    /// The workload's account count.
    pub fn accounts_total(&self) -> u64 {
        self.table.accounts_total()
    }

    /// The prepared request templates.
    pub fn table(&self) -> &Arc<RequestTable> {
        &self.table
    }

    /// The scenario's request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether the target answered as our engine (transaction answers carry `"committed"`).
    pub fn is_engine(&self) -> bool {
        self.info.is_some()
    }

    /// How the load connections are opened (their TLS handshakes and failures count).
    pub fn dialer(&self) -> Dialer {
        Dialer {
            addr: self.endpoint.addrs[0],
            tls: self.tls.clone(),
            counted: true,
        }
    }

    /// How control requests (info, stats, audit, profile) are opened: the same TLS, not
    /// counted in the run's TLS figures.
    pub fn control_dialer(&self) -> Dialer {
        Dialer {
            counted: false,
            ..self.dialer()
        }
    }

    /// The spawned server's PID (sampled for CPU and memory).
    pub fn pid(&self) -> Option<u32> {
        self.spawned.as_ref().map(|s| s.pid)
    }

    /// "spawn" or "http".
    pub fn kind(&self) -> &'static str {
        if self.spawned.is_some() {
            "spawn"
        } else {
            "http"
        }
    }

    /// A one-line description for the result.
    pub fn describe(&self) -> String {
        let what = match &self.info {
            Some(i) => format!(
                "engine {} ({}, {} accounts, {} build)",
                i.version, i.design, i.accounts, i.build_profile
            ),
            None => "HTTP service".to_string(),
        };
        match &self.spawned {
            Some(s) => format!(
                "{what} spawned from {} at {}",
                s.program.display(),
                self.endpoint.url
            ),
            None => format!("{what} at {}", self.endpoint.url),
        }
    }

    /// Notes on the target that hold whichever driver ran.
    pub fn notes(&self) -> Vec<String> {
        let mut n = Vec::new();
        if self.table.carries_tx {
            n.push("error rate = (failed requests + rejected transfers) / submitted transfers; committed counts come from each response's \"committed\" field".to_string());
        } else {
            n.push("error rate = failed requests / requests".to_string());
        }
        n.push(match self.startup {
            Some(d) => format!(
                "startup = spawn to first 200 from the health path ({:.1} ms)",
                d.as_secs_f64() * 1e3
            ),
            None => "startup not measured (the target was already running)".to_string(),
        });
        n.push(if self.spawned.is_some() {
            "resources: target = the spawned server's process; harness = the load generator"
                .to_string()
        } else {
            "resources: the target process is not sampled (not spawned by the harness)".to_string()
        });
        if let Some(s) = self.spawned.as_ref().filter(|s| s.linked_engine) {
            // Said in every report: a reader comparing runs should know which binary served.
            n.push(format!(
                "no \"engine\" binary beside the harness or on PATH: started the engine server linked into the harness ({} {})",
                s.program.display(),
                s.args.join(" ")
            ));
        }
        if let Some(end) = &self.end {
            n.extend(end.notes.iter().cloned());
        }
        n
    }

    fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str, timeout: Duration) -> Option<T> {
        let req = Request::get(format!("{}{path}", self.endpoint.base_path))
            .header(HOST, self.endpoint.authority.as_str())
            .body(Full::new(Bytes::new()))
            .ok()?;
        let answer = self
            .rt
            .block_on(fetch_once(
                &self.control_dialer(),
                req,
                timeout,
                MAX_CONTROL_BODY,
            ))
            .ok()?;
        if !answer.status.is_success() {
            return None;
        }
        serde_json::from_slice(&answer.body).ok()
    }

    /// After the workers stopped: for our engine, compares the harness's committed total (whole
    /// run, warm-up included) with the engine's own count and fetches its audit; then stops a
    /// spawned server (SIGTERM, kill after [`spawn::STOP_GRACE`]).
    pub fn finish(&mut self, harness_committed: u64, uncertain_requests: u64) -> &Finish {
        let mut f = Finish::default();
        if self.info.is_some() {
            let stats = self.get_json::<Stats>("/api/v11/stats", CONTROL_TIMEOUT);
            let audit = self.get_json::<Audit>("/api/v11/audit", CONTROL_TIMEOUT);
            match (&stats, audit) {
                (Some(after), Some(a)) => {
                    let before = self.stats_before.as_ref().map_or(0, |s| s.committed);
                    let engine_committed = after.committed.saturating_sub(before);
                    f.engine_committed = Some((before, after.committed));
                    let mut r = a.to_result();
                    if self.shared_engine {
                        f.notes.push(format!(
                            "execution segment: the engine committed {engine_committed} transfers from this segment's start to the end of every segment, this segment counted {harness_committed}; harness merge checks the segments' sum against the engine"
                        ));
                    } else if engine_committed != harness_committed {
                        r.ok = false;
                        r.problems.push(format!(
                            "the engine committed {engine_committed} transfers during the run but the harness counted {harness_committed} in its answers ({uncertain_requests} requests timed out or failed mid-flight)"
                        ));
                    } else {
                        f.notes.push(format!(
                            "engine stats agree: {engine_committed} transfers committed during the run, as counted by the harness"
                        ));
                    }
                    f.audit = Some(r);
                }
                _ => f.notes.push(
                    "the engine did not answer /api/v11/stats and /api/v11/audit at the end: no audit".to_string(),
                ),
            }
        }
        if let Some(s) = self.spawned.as_mut() {
            if !s.alive() {
                f.notes
                    .push("the spawned server had exited before the end of the run".to_string());
            }
            match s.stop(spawn::STOP_GRACE) {
                Some(st) if st.success() => {}
                Some(st) => f.notes.push(format!("the spawned server exited with {st}")),
                None => f
                    .notes
                    .push("the spawned server's exit status is unknown".to_string()),
            }
        }
        self.end.insert(f)
    }
}

/// What [`start`] hands back: the checked endpoint, its TLS client (https), the spawned
/// server and its startup time (spawn targets).
type Started = (
    Endpoint,
    Option<Arc<TlsClient>>,
    Option<Spawned>,
    Option<Duration>,
);

/// Resolves (and for spawn targets starts and health-checks) the plan's target.
fn start(
    plan: &Plan,
    rt: &tokio::runtime::Runtime,
    cli_allow_remote: bool,
) -> Result<Started, HttpError> {
    match &plan.target {
        Target::Http {
            base_url,
            allow_remote,
        } => {
            let ep = endpoint::resolve_allowed(base_url, *allow_remote, cli_allow_remote)?;
            let tls = tls_client(plan, &ep)?;
            Ok((ep, tls, None, None))
        }
        Target::Spawn {
            command,
            health_path,
            startup_timeout,
            allow_remote,
        } => {
            let t0 = Instant::now();
            let mut s = Spawned::start(command, *startup_timeout)?;
            let ep = endpoint::resolve_allowed(&s.url, *allow_remote, cli_allow_remote)?;
            let tls = tls_client(plan, &ep)?;
            let path = format!("{}{}", ep.base_path, health_path);
            let dialer = Dialer {
                addr: ep.addrs[0],
                tls: tls.clone(),
                counted: false,
            };
            s.wait_healthy(rt, &dialer, &ep.authority, &path, t0 + *startup_timeout)?;
            Ok((ep, tls, Some(s), Some(t0.elapsed())))
        }
        Target::InProcess => Err(HttpError::BadUrl {
            url: String::new(),
            why: "is missing: the plan's target is in-process".into(),
        }),
    }
}

/// The TLS client for an https endpoint. `[http.tls]` settings for a server that announced
/// plain http are refused rather than ignored.
fn tls_client(plan: &Plan, ep: &Endpoint) -> Result<Option<Arc<TlsClient>>, HttpError> {
    if ep.tls {
        return Ok(Some(Arc::new(TlsClient::new(&plan.http.tls, &ep.host)?)));
    }
    if plan.http.tls != scenario::TlsOptions::default() {
        return Err(HttpError::Tls(format!(
            "TLS settings are given, but the target is plain http ({}); they apply to https:// targets only",
            ep.url
        )));
    }
    Ok(None)
}
