//! HTTP targets (`http`: a running service; `spawn`: a server the harness starts) and our own
//! load generator for them.
//!
//! Why our own generator: the numbers must come from the same worker loop, recorder and
//! criteria as in-process runs ([`crate::worker::WorkerCore`]), with latency from each
//! operation's intended start in open stages, and it must cost less CPU per request than the
//! tools it replaces, because the target shares the machine's two cores.
//!
//! Shape: each worker is a tokio task running the `WorkerCore` loop over one keep-alive
//! connection of its own ([`client::Conn`]: our own HTTP/1.1 client by default, [`wire`], or
//! hyper's); workers are spread over one OS thread per core,
//! each with a current-thread runtime (no work stealing, no cross-thread wake-ups; see
//! `benches/loadgen/compare.sh` for the measurement that chose it). Failures are data: a dead
//! target costs a `connect` error per operation (with a 10 ms back-off per worker), never the
//! run.
//!
//! Safety: every target is resolved and refused unless it is loopback, or both the scenario
//! and the command line allow remote targets ([`endpoint`]); the check happens before the
//! first connection, and for spawn targets again on the announced address.
//!
//! Our engine (recognised by `GET /api/v11/info`) is also audited: its stats before and after
//! the run are compared with the transactions the harness saw committed, and its audit goes
//! into the result; a run whose audit fails gets no throughput verdict.

pub mod client;
pub mod endpoint;
pub mod engine_api;
pub mod request;
pub mod spawn;
pub mod wire;

use crate::worker::{ErrorKind, Next, OpOutcome, Shared, Shipment, WorkerCore};
use anyhow::Context as _;
use bytes::Bytes;
use client::{fetch_once, Client, Conn};
use crossbeam_channel::Sender;
use endpoint::Endpoint;
use engine_api::{parse_outcome, Audit, Info, Stats};
use http_body_util::Full;
use hyper::header::HOST;
use hyper::Request;
use request::{RequestMaker, RequestTable};
use scenario::{Driver, Plan, Target};
use spawn::Spawned;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Workers for open-model stages when `http.connections` is not set.
pub const DEFAULT_CONNECTIONS: u32 = 64;

/// Pause after a failed connect, so a dead target does not make workers spin.
pub const CONNECT_BACKOFF: Duration = Duration::from_millis(10);

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
    #[error("{program:?}'s first stdout line has no http:// address: {line:?}")]
    BadAddressLine { program: PathBuf, line: String },
    #[error("{program:?} exited before it was healthy ({status})")]
    Exited { program: PathBuf, status: String },
    #[error("health check {path} did not answer 200 before the startup timeout (last: {last})")]
    Unhealthy { path: String, last: String },
    #[error("building the tokio runtime")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Goose(#[from] crate::goose::GooseDriverError),
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
                | HttpError::Goose(_)
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
    table: Arc<RequestTable>,
    timeout: Duration,
    http2: bool,
    client: Client,
    workers: u32,
    threads: u32,
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
    /// Which load generator [`HttpTarget::spawn`] starts: ours, or goose ([`crate::goose`]).
    driver: Driver,
    /// What the goose driver reports back (unused by the native driver).
    pub(crate) goose: crate::goose::GooseState,
}

/// OS threads for the workers: `HARNESS_HTTP_THREADS` if set (1..=64), else one per core.
/// Measured with benches/loadgen/compare.sh (2 cores, GET health, 64 connections): two threads
/// gave both more requests per second and fewer CPU-seconds per request than one, whose single
/// thread wakes for fewer ready connections per poll.
fn generator_threads() -> u32 {
    std::env::var("HARNESS_HTTP_THREADS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|n| (1..=64).contains(n))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get() as u32))
}

fn control_rt() -> Result<tokio::runtime::Runtime, HttpError> {
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
        // A plan goose cannot run is refused before a server is spawned.
        let goose = match plan.driver {
            Driver::Goose => crate::goose::GooseState::for_plan(plan)?,
            Driver::Native => crate::goose::GooseState::default(),
        };
        let rt = control_rt()?;
        let (endpoint, spawned, startup) = match &plan.target {
            Target::Http {
                base_url,
                allow_remote,
            } => (
                endpoint::resolve_allowed(base_url, *allow_remote, cli_allow_remote)?,
                None,
                None,
            ),
            Target::Spawn {
                command,
                health_path,
                startup_timeout,
                allow_remote,
            } => {
                let t0 = Instant::now();
                let mut s = Spawned::start(command, *startup_timeout)?;
                let ep = endpoint::resolve_allowed(&s.url, *allow_remote, cli_allow_remote)?;
                let path = format!("{}{}", ep.base_path, health_path);
                s.wait_healthy(
                    &rt,
                    ep.addrs[0],
                    &ep.authority,
                    &path,
                    t0 + *startup_timeout,
                )?;
                let startup = t0.elapsed();
                (ep, Some(s), Some(startup))
            }
            Target::InProcess => {
                return Err(HttpError::BadUrl {
                    url: String::new(),
                    why: "is missing: the plan's target is in-process".into(),
                })
            }
        };
        let table = Arc::new(RequestTable::new(plan, &endpoint, plan.http.http2)?);
        let tl = crate::timeline::Timeline::new(plan);
        let open_workers = if tl.has_open() {
            plan.http.connections.unwrap_or(DEFAULT_CONNECTIONS)
        } else {
            0
        };
        let workers = tl.max_closed_workers().max(open_workers).max(1);
        if table.carries_tx && plan.workload.accounts < u64::from(workers) {
            return Err(HttpError::TooFewAccounts {
                accounts: plan.workload.accounts,
                workers,
            });
        }
        let mut t = HttpTarget {
            endpoint,
            table,
            timeout: plan.http.timeout,
            http2: plan.http.http2,
            client: match (plan.http.http2, plan.http.client) {
                (true, _) => Client::Hyper2,
                (false, scenario::HttpClient::Hyper) => Client::Hyper1,
                (false, scenario::HttpClient::Builtin) => Client::Builtin,
            },
            workers,
            threads: generator_threads().min(workers),
            spawned,
            info: None,
            stats_before: None,
            startup,
            end: None,
            rt,
            shared_engine: false,
            driver: plan.driver,
            goose,
        };
        // The probe that tells our engine from any other service waits no longer than a request
        // of the scenario may: a service that never answers costs that, not 10 s.
        let probe = t.timeout().min(CONTROL_TIMEOUT);
        t.info = t
            .get_json::<Info>("/api/v11/info", probe)
            .filter(Info::is_engine);
        if t.info.is_some() {
            t.stats_before = t.get_json::<Stats>("/api/v11/stats", CONTROL_TIMEOUT);
        }
        Ok(t)
    }

    /// Makes this instance execution segment `seg`: it sends only from the segment's senders
    /// and records, rather than checks, the shared engine's committed count. Returns the
    /// sender range when the requests carry transfers.
    pub fn restrict_to_segment(
        &mut self,
        seg: crate::segment::Segment,
    ) -> Result<Option<std::ops::Range<u64>>, crate::segment::SegmentError> {
        self.shared_engine = true;
        let accounts = self.table.accounts_total();
        let senders = seg.sender_range(accounts);
        if !self.table.carries_tx {
            return Ok(None);
        }
        if (senders.end - senders.start) < u64::from(self.workers) {
            return Err(crate::segment::SegmentError::NoSenders {
                index: seg.index,
                count: seg.count,
                accounts,
            });
        }
        // The table is shared with workers only once they start; nothing holds it yet.
        match Arc::get_mut(&mut self.table) {
            Some(t) => t.restrict_senders(senders.clone(), u64::from(seg.index) + 1),
            None => unreachable!("the request table is not shared before the workers start"),
        }
        Ok(Some(senders))
    }

    /// Whether the requests carry transfers.
    pub fn carries_tx(&self) -> bool {
        self.table.carries_tx
    }

    /// The workload's account count.
    pub fn accounts_total(&self) -> u64 {
        self.table.accounts_total()
    }

    /// Worker tasks this target runs (goose: the most users its test plan starts).
    pub fn workers(&self) -> u32 {
        self.workers
    }

    /// The load generator that drives this target.
    pub fn driver(&self) -> Driver {
        self.driver
    }

    pub(crate) fn table(&self) -> &Arc<RequestTable> {
        &self.table
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(crate) fn threads(&self) -> u32 {
        self.threads
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

    /// Notes for the result describing how this target was driven.
    pub fn notes(&self) -> Vec<String> {
        let mut n = match self.driver {
            Driver::Goose => crate::goose::notes(self),
            Driver::Native => self.native_notes(),
        };
        n.extend(self.common_notes());
        n
    }

    fn native_notes(&self) -> Vec<String> {
        vec![
            format!(
                "http: {} workers, one keep-alive {} connection each ({}), on {} OS thread(s) with a current-thread tokio runtime each; request timeout {:?}",
                self.workers,
                if self.http2 { "HTTP/2" } else { "HTTP/1.1" },
                match self.client {
                    Client::Builtin => "the harness's own HTTP/1.1 client",
                    Client::Hyper1 | Client::Hyper2 => "hyper's client connection",
                },
                self.threads,
                self.timeout
            ),
            "one operation = one request; latency = request sent to whole response body read (open stages: from the intended start)".to_string(),
            "open stages: waits use tokio's 1 ms timer, so a request may start up to ~1 ms after its slot; that lateness is counted in its latency".to_string(),
        ]
    }

    /// Notes that hold whichever driver ran.
    fn common_notes(&self) -> Vec<String> {
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
        if self.spawned.is_some() {
            n.push(
                "resources: target = the spawned server's process; harness = the load generator"
                    .to_string(),
            );
        } else {
            n.push(
                "resources: the target process is not sampled (not spawned by the harness)"
                    .to_string(),
            );
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
            .block_on(fetch_once(self.endpoint.addrs[0], req, timeout))
            .ok()?;
        if !answer.status.is_success() {
            return None;
        }
        serde_json::from_slice(&answer.body).ok()
    }

    /// Starts the worker threads (each a current-thread runtime running its share of the
    /// worker tasks), or, with `driver = "goose"`, the thread running the goose attack.
    pub fn spawn(
        &self,
        shared: &Arc<Shared>,
        tx: &Sender<Shipment>,
    ) -> anyhow::Result<Vec<JoinHandle<()>>> {
        if self.driver == Driver::Goose {
            return crate::goose::spawn(self, shared, tx);
        }
        let ctx = Arc::new(Ctx {
            addr: self.endpoint.addrs[0],
            timeout: self.timeout,
            client: self.client,
            table: Arc::clone(&self.table),
            engine: self.info.is_some(),
        });
        let mut per_thread: Vec<Vec<(WorkerCore, RequestMaker)>> =
            (0..self.threads).map(|_| Vec::new()).collect();
        for id in 0..self.workers {
            let core = WorkerCore::new(id, Arc::clone(shared), tx.clone());
            let maker = RequestMaker::new(Arc::clone(&self.table), id, self.workers)?;
            per_thread[(id % self.threads) as usize].push((core, maker));
        }
        per_thread
            .into_iter()
            .enumerate()
            .map(|(i, tasks)| {
                let ctx = Arc::clone(&ctx);
                let rt = control_rt()?;
                std::thread::Builder::new()
                    .name(format!("harness-http-{i}"))
                    .spawn(move || {
                        rt.block_on(async move {
                            let mut set = tokio::task::JoinSet::new();
                            for (core, maker) in tasks {
                                set.spawn(worker(core, maker, Arc::clone(&ctx)));
                            }
                            while let Some(r) = set.join_next().await {
                                if let Err(e) = r {
                                    if e.is_panic() {
                                        std::panic::resume_unwind(e.into_panic());
                                    }
                                }
                            }
                        });
                    })
                    .context("spawning an HTTP worker thread")
            })
            .collect()
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

/// What every worker task shares.
struct Ctx {
    addr: std::net::SocketAddr,
    timeout: Duration,
    client: Client,
    table: Arc<RequestTable>,
    /// The target is our engine: transaction answers must carry `"committed"`.
    engine: bool,
}

/// The worker loop of one HTTP worker: `WorkerCore` decides, this sends.
async fn worker(mut core: WorkerCore, mut maker: RequestMaker, ctx: Arc<Ctx>) {
    let mut conn: Option<Conn> = None;
    // One request timer for the worker's life, moved forward for each request: moving a tokio
    // timer later is one compare-and-swap, where a `timeout()` per request took the timer
    // driver's lock twice (register, cancel) and touched the wheel each time.
    let timer = tokio::time::sleep(ctx.timeout);
    tokio::pin!(timer);
    loop {
        let now = Instant::now();
        match core.next(now) {
            Next::Stop => break,
            Next::Wait(d) => tokio::time::sleep(d).await,
            Next::Run { intended, stage } => {
                let deadline = tokio::time::Instant::from_std(now) + ctx.timeout;
                timer.as_mut().reset(deadline);
                let outcome = one_request(&ctx, &mut conn, &mut maker, timer.as_mut()).await;
                core.complete(intended, Instant::now(), stage, &outcome);
                if outcome.errors[ErrorKind::Connect as usize] > 0 {
                    tokio::time::sleep(CONNECT_BACKOFF).await;
                }
            }
        }
    }
    core.finish();
}

/// A failed operation of one error kind.
pub(crate) fn failure(kind: ErrorKind, submitted_tx: u64) -> OpOutcome {
    let mut o = OpOutcome {
        submitted_tx,
        failed: true,
        ..OpOutcome::default()
    };
    o.errors[kind as usize] = 1;
    o
}

/// Sends one request on the worker's connection (opening it if needed) and judges the answer.
/// `timer` fires at the request's deadline (set by the caller).
async fn one_request(
    ctx: &Ctx,
    conn: &mut Option<Conn>,
    maker: &mut RequestMaker,
    timer: std::pin::Pin<&mut tokio::time::Sleep>,
) -> OpOutcome {
    let made = maker.make();
    let c = match conn {
        Some(c) => c,
        None => match Conn::open(ctx.addr, ctx.client, ctx.timeout).await {
            Ok(c) => conn.insert(c),
            Err(kind) => return failure(kind, made.submitted_tx),
        },
    };
    let answer = tokio::select! {
        biased;
        r = c.send(&ctx.table, made.template, made.body) => r,
        () = timer => Err(ErrorKind::Timeout),
    };
    let outcome = match answer {
        Ok(a) => judge(
            &ctx.table,
            ctx.engine,
            made.template,
            a.status,
            a.body,
            made.submitted_tx,
        ),
        // Failed, or timed out (the answer may still arrive on this connection): start afresh.
        Err(kind) => {
            *conn = None;
            return failure(kind, made.submitted_tx);
        }
    };
    if !c.reusable() {
        // The server closes it (`connection: close`, or a body framed by the close).
        *conn = None;
    }
    outcome
}

/// Judges an answer to a request from template `template` that carried `submitted_tx`
/// transfers: an unexpected status is an error by status class; a transactions answer from our
/// engine gives the committed and rejected counts; another service's expected status means it
/// took what we sent. Both drivers judge through here, so they count alike.
pub(crate) fn judge(
    table: &RequestTable,
    engine: bool,
    template: usize,
    status: u16,
    body: &[u8],
    submitted_tx: u64,
) -> OpOutcome {
    if !table.expected(template, status) {
        let kind = match status {
            400..=499 => ErrorKind::Status4xx,
            500..=599 => ErrorKind::Status5xx,
            _ => ErrorKind::StatusOther,
        };
        return failure(kind, submitted_tx);
    }
    let mut o = OpOutcome {
        submitted_tx,
        ..OpOutcome::default()
    };
    if !table.has_body(template) {
        // GET health and the like: nothing was submitted, nothing to read.
        return o;
    }
    match parse_outcome(body) {
        Some(a) => {
            o.committed_tx = a.committed;
            o.errors[..a.rejected.len()].copy_from_slice(&a.rejected);
        }
        None if engine && submitted_tx > 0 => {
            return failure(ErrorKind::Body, submitted_tx);
        }
        // Another service: an expected status means it took what we sent.
        None => o.committed_tx = submitted_tx,
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn table() -> RequestTable {
        let toml = "[scenario]\nname = \"j\"\n[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:9\"\n\
            [workload]\naccounts = 100\n\
            [[requests]]\nname = \"stats\"\nmethod = \"GET\"\npath = \"/api/v11/stats\"\nexpect_status = [200]\n\
            [[requests]]\nname = \"tx\"\nmethod = \"POST\"\npath = \"/api/v11/transactions\"\nbody = \"json-transfer\"\nexpect_status = [200]\n\
            [[stages]]\nduration = \"1s\"\nworkers = 1\n";
        let plan = scenario::parse(toml, Path::new("j.toml")).unwrap();
        let endpoint = Endpoint::parse("http://127.0.0.1:9").unwrap();
        RequestTable::new(&plan, &endpoint, false).unwrap()
    }

    #[test]
    fn only_answers_to_requests_with_a_body_count_as_committed() {
        let t = table();
        let answer = br#"{"submitted":7,"committed":5,"rejected":{"bad_nonce":2}}"#;
        // GET /api/v11/stats says "committed" too: that is the engine's total, not ours.
        let get = judge(&t, true, 0, 200, answer, 0);
        assert_eq!((get.committed_tx, get.failed), (0, false));
        assert!(get.errors.iter().all(|&e| e == 0));
        let post = judge(&t, true, 1, 200, answer, 7);
        assert_eq!(post.committed_tx, 5);
        assert_eq!(post.errors.iter().map(|&e| u64::from(e)).sum::<u64>(), 2);
        // A body-carrying request to our engine without an outcome is a body error.
        let broken = judge(&t, true, 1, 200, b"{}", 1);
        assert!(broken.failed);
        assert_eq!(broken.errors[ErrorKind::Body as usize], 1);
        let status = judge(&t, true, 0, 503, b"", 0);
        assert_eq!(status.errors[ErrorKind::Status5xx as usize], 1);
    }
}
