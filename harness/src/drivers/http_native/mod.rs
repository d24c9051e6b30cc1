//! Our own HTTP load generator: the native driver for `http` and `spawn` targets.
//!
//! Why our own generator: the numbers must come from the same worker loop, recorder and
//! criteria as in-process runs ([`WorkerCore`]), with latency from each operation's intended
//! start in open stages, and it must cost less CPU per request than the tools it replaces,
//! because the target shares the machine's two cores.
//!
//! Shape: each worker is a tokio task running the `WorkerCore` loop over one connection of its
//! own ([`client::Conn`]: our own HTTP/1.1 client by default, [`wire`], or hyper's), kept alive
//! or replaced after as many requests as `[http]` allows ([`reuse`]); with `pipeline = N` a
//! builtin-client worker keeps up to N requests in flight on it ([`pipeline`]). Workers are
//! spread over one OS thread per core, each with a current-thread runtime (no work stealing,
//! no cross-thread wake-ups; see `benches/loadgen/compare.sh` for the measurement that chose
//! it). Failures are data: a dead target costs a `connect` error per operation (with a 10 ms
//! back-off per worker), never the run.
//!
//! Open stages: idle workers on a thread take turns sleeping precisely until the next request
//! is due (`pacer`), and each worker's dispatch lag is measured from when its previous
//! answer reached the machine (`arrival`: the kernel's receive stamp), so a generator that
//! falls behind shows as late, not as a slow target.

mod arrival;
pub mod client;
pub mod h1;
pub(crate) mod pacer;
mod pipeline;
mod reuse;
mod session;
mod stamped;
pub mod wire;

use crate::load::errors::{ErrorKind, OpOutcome};
use crate::load::shipment::Shipment;
use crate::load::timeline::{SpanKind, Timeline};
use crate::load::worker::{tighten_timer_slack, Next, Shared, WorkerCore};
use crate::targets::http::dial::Dialer;
use crate::targets::http::judge::judge_checked;
use crate::targets::http::maker::{Made, NotMade, RequestMaker};
use crate::targets::http::request::RequestTable;
use crate::targets::http::template::ConnVars;
use crate::targets::http::{current_thread_rt, HttpTarget};
use anyhow::Context as _;
use client::{Client, Conn, Reply};
use crossbeam_channel::Sender;
use pacer::Pacer;
use scenario::Plan;
use session::Session;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Workers for open-model stages when `http.connections` is not set.
pub const DEFAULT_CONNECTIONS: u32 = 64;

/// Pause after a failed connect, so a dead target does not make workers spin.
pub const CONNECT_BACKOFF: Duration = Duration::from_millis(10);

/// The native HTTP driver's settings for one run.
#[derive(Clone, Debug)]
pub struct HttpNative {
    workers: u32,
    threads: u32,
    client: Client,
    timeout: Duration,
    /// Requests per connection (`None`: keep-alive without limit; 1: one per request).
    max_requests: Option<u32>,
    /// Requests in flight per connection (1: no pipelining; more only with `Client::Builtin`).
    pipeline: u32,
}

/// OS threads for the workers: `HARNESS_HTTP_THREADS` if set (1..=64), else one per core.
/// Measured with benches/loadgen/compare.sh (2 cores, GET health, 64 connections): two threads
/// gave both more requests per second and fewer CPU-seconds per request than one, whose single
/// thread wakes for fewer ready connections per poll.
pub fn generator_threads() -> u32 {
    std::env::var("HARNESS_HTTP_THREADS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|n| (1..=64).contains(n))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get() as u32))
}

/// Connections (worker tasks) a plan needs over HTTP: the most any closed stage asks for, and
/// `http.connections` (default 64) when there are open stages.
pub fn http_workers(plan: &Plan) -> u32 {
    let tl = Timeline::new(plan);
    let open_workers = if tl.has_open() {
        plan.http.connections.unwrap_or(DEFAULT_CONNECTIONS)
    } else {
        0
    };
    tl.max_closed_workers().max(open_workers).max(1)
}

impl HttpNative {
    pub fn for_plan(plan: &Plan) -> HttpNative {
        let workers = http_workers(plan);
        HttpNative {
            workers,
            threads: generator_threads().min(workers),
            client: match (plan.http.http2, plan.http.client) {
                (true, _) => Client::Hyper2,
                (false, scenario::HttpClient::Hyper) => Client::Hyper1,
                (false, scenario::HttpClient::Builtin) => Client::Builtin,
            },
            timeout: plan.http.timeout,
            max_requests: plan.http.max_requests_per_connection,
            pipeline: plan.http.pipeline,
        }
    }

    pub fn workers(&self) -> u32 {
        self.workers
    }

    /// The same settings on `n` generator threads (at most one per worker): the calibration
    /// measures what one thread sustains, whatever `HARNESS_HTTP_THREADS` says.
    pub(crate) fn on_threads(self, n: u32) -> HttpNative {
        HttpNative {
            threads: n.clamp(1, self.workers.max(1)),
            ..self
        }
    }

    /// What this driver's connections ask for by ALPN over TLS.
    pub fn alpn(&self) -> crate::targets::http::tls::Alpn {
        self.client.alpn()
    }

    /// How this driver drove the target, for the result's notes.
    pub fn notes(&self) -> Vec<String> {
        let proto = if self.client == Client::Hyper2 {
            "HTTP/2"
        } else {
            "HTTP/1.1"
        };
        // HTTP/2 has no `Connection` header: its connections are just dropped.
        let says = |which: &str| match self.client {
            Client::Hyper2 => String::new(),
            _ => format!(" ({which} says `connection: close`)"),
        };
        let connections = match self.max_requests {
            None => format!("one keep-alive {proto} connection each"),
            Some(1) => format!(
                "a new {proto} connection for every request{}",
                says("the request")
            ),
            Some(n) => format!(
                "one {proto} connection each, replaced after {n} requests{}",
                says("the last")
            ),
        };
        let mut notes = vec![
            format!(
                "http: {} workers, {connections} ({}), on {} OS thread(s) with a current-thread tokio runtime each; request timeout {:?}",
                self.workers,
                match self.client {
                    Client::Builtin => "the harness's own HTTP/1.1 client",
                    Client::Hyper1 | Client::Hyper2 => "hyper's client connection",
                },
                self.threads,
                self.timeout
            ),
            "one operation = one request; latency = request sent to whole response body read (open stages: from the intended start)".to_string(),
        ];
        if self.max_requests.is_some() {
            notes.push("the first request on each connection waits for the TCP connect: its latency includes it".to_string());
        }
        if self.pipeline > 1 {
            notes.push(format!(
                "HTTP/1.1 pipelining, depth {}: each worker keeps up to {} requests in flight on its connection, written back to back and answered in order; each request's latency runs from its own start and includes waiting behind earlier ones; a connection that fails or closes with requests unanswered counts an io error for each",
                self.pipeline, self.pipeline
            ));
        }
        notes.push("open stages: one idle worker per thread sleeps on a timerfd until the next request is due, the others wait for it (see dispatch lag for how late requests left)".to_string());
        notes
    }

    /// Starts the worker threads, each a current-thread runtime running its share of the
    /// worker tasks.
    pub fn spawn(
        &self,
        target: &HttpTarget,
        shared: &Arc<Shared>,
        tx: &Sender<Shipment>,
    ) -> anyhow::Result<Vec<JoinHandle<()>>> {
        let ctx = Arc::new(WorkerEnv {
            dialer: target.dialer(),
            timeout: self.timeout,
            client: self.client,
            table: Arc::clone(target.table()),
            engine: target.is_engine(),
            open_model: shared.timeline.has_open(),
            max_requests: self.max_requests,
            pipeline: self.pipeline,
            closed: shared
                .timeline
                .spans
                .iter()
                .map(|s| matches!(s.kind, SpanKind::Closed { .. }))
                .collect(),
        });
        let mut per_thread: Vec<Vec<(WorkerCore, RequestMaker)>> =
            (0..self.threads).map(|_| Vec::new()).collect();
        // One recorder per thread, which its workers share (see `load::recorder` for why).
        let recorders: Vec<_> = (0..self.threads)
            .map(|_| shared.recorder(tx.clone()).shared())
            .collect();
        for id in 0..self.workers {
            let rec = &recorders[(id % self.threads) as usize];
            let core = WorkerCore::sharing(id, Arc::clone(shared), rec);
            let maker = RequestMaker::new(Arc::clone(target.table()), id, self.workers)?;
            per_thread[(id % self.threads) as usize].push((core, maker));
        }
        per_thread
            .into_iter()
            .enumerate()
            .map(|(i, tasks)| spawn_thread(i, tasks, Arc::clone(&ctx)))
            .collect()
    }
}

/// One generator thread: a current-thread runtime running `tasks` to the end. A panicking
/// worker task panics the thread, which the run reports as an internal error.
fn spawn_thread(
    i: usize,
    tasks: Vec<(WorkerCore, RequestMaker)>,
    ctx: Arc<WorkerEnv>,
) -> anyhow::Result<JoinHandle<()>> {
    let rt = current_thread_rt()?;
    std::thread::Builder::new()
        .name(format!("harness-http-{i}"))
        .spawn(move || {
            // The pacer's timerfd is only as precise as the thread's timer slack (50 µs).
            tighten_timer_slack();
            rt.block_on(async move {
                let pacer = Arc::new(Pacer::new());
                let mut set = tokio::task::JoinSet::new();
                for (core, maker) in tasks {
                    let (ctx, pacer) = (Arc::clone(&ctx), Arc::clone(&pacer));
                    if ctx.pipeline > 1 {
                        set.spawn(pipeline::worker(core, maker, ctx, pacer));
                    } else {
                        set.spawn(worker(core, maker, ctx, pacer));
                    }
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
}

/// What every worker task shares.
struct WorkerEnv {
    /// Where connections go (TLS for https targets).
    dialer: Dialer,
    timeout: Duration,
    client: Client,
    table: Arc<RequestTable>,
    /// The target is our engine: transaction answers must carry `"committed"`.
    engine: bool,
    /// The plan has open-model stages: answers are stamped for the dispatch lag.
    open_model: bool,
    /// Requests per connection (`None`: no limit).
    max_requests: Option<u32>,
    /// Requests in flight per connection (> 1: the builtin client, [`pipeline`]).
    pipeline: u32,
    /// Per stage: whether it is closed-model (an operation then starts when its worker is
    /// ready, after a new connection's setup requests).
    closed: Vec<bool>,
}

impl WorkerEnv {
    fn closed_stage(&self, stage: usize) -> bool {
        self.closed.get(stage).copied().unwrap_or(false)
    }
}

/// The worker loop of one HTTP worker: `WorkerCore` decides, this sends.
async fn worker(
    mut core: WorkerCore,
    mut maker: RequestMaker,
    ctx: Arc<WorkerEnv>,
    pacer: Arc<Pacer>,
) {
    let mut session = Session::new(&ctx);
    // Whether this worker leads its thread's idle workers, and whether it was waiting.
    let (mut leading, mut waited) = (false, false);
    // One request timer for the worker's life, moved forward for each request: moving a tokio
    // timer later is one compare-and-swap, where a `timeout()` per request took the timer
    // driver's lock twice (register, cancel) and touched the wheel each time.
    let timer = tokio::time::sleep(ctx.timeout);
    tokio::pin!(timer);
    loop {
        let now = Instant::now();
        match core.next(now) {
            Next::Stop => break,
            Next::Wait(d) => {
                leading = pacer.wait(d, leading).await;
                waited = true;
            }
            Next::Run {
                mut intended,
                stage,
            } => {
                if waited {
                    pacer.hand_over(leading);
                    (leading, waited) = (false, false);
                }
                let Some(sent) =
                    one_request(&ctx, &mut session, &mut maker, &mut core, timer.as_mut()).await
                else {
                    break; // a feeder ran out: the run is ending
                };
                if let Some(ready) = sent.setup_ended.filter(|_| ctx.closed_stage(stage)) {
                    // A closed-model operation starts when its connection is ready: the
                    // setup requests are reported apart, not in its latency.
                    intended = ready;
                }
                core.complete(intended, Instant::now(), stage, &sent.outcome);
                if let Some(at) = sent.arrived {
                    // Free since the answer arrived, not since this thread got to read it.
                    core.free_from(at);
                }
                // A refused connection, certificate or login fails again at once: pause.
                if sent.refused {
                    tokio::time::sleep(CONNECT_BACKOFF).await;
                    // The refusing target imposed this pause, not the generator.
                    core.free_from(Instant::now());
                }
            }
        }
    }
    // Wake a follower: it sees the stop too, and wakes the next.
    pacer.hand_over(leading);
    drop(core);
}

/// Writes a request from template `t`: `Some(None)` when it needs a connection variable not
/// set yet, `None` when a feeder ran out of rows (the run is then stopping: `core` aborted it).
fn write(
    maker: &mut RequestMaker,
    core: &WorkerCore,
    t: usize,
    vars: &ConnVars,
) -> Option<Option<Made>> {
    match maker.make_from(t, vars) {
        Ok(m) => Some(Some(m)),
        Err(NotMade::Unset(_)) => Some(None),
        Err(NotMade::Exhausted(e)) => {
            core.abort(e.to_string());
            None
        }
    }
}

/// What one operation came to.
struct Sent {
    outcome: OpOutcome,
    /// When the answer arrived, when known.
    arrived: Option<Instant>,
    /// When a new connection's setup requests ended, if it ran any.
    setup_ended: Option<Instant>,
    /// The target refused the connection, the certificate or the setup: back off.
    refused: bool,
}

impl Sent {
    /// An operation from template `t` that failed with `kind` (counted against the template
    /// it was sending, like its answers).
    fn failed(t: usize, kind: ErrorKind, submitted_tx: u64, refused: bool) -> Sent {
        Sent {
            outcome: OpOutcome::failure(kind, submitted_tx).of_template(t),
            arrived: None,
            setup_ended: None,
            refused,
        }
    }
}

/// The outcome of answer `a` to a request of template `t` that carried `tx` transfers:
/// judged (its checks may set the connection's `vars`), and sampled when it failed.
fn judged(
    ctx: &WorkerEnv,
    a: &Reply<'_>,
    (t, tx): (usize, u64),
    vars: &mut ConnVars,
    core: &WorkerCore,
) -> OpOutcome {
    let answer = (t, a.status);
    let o = judge_checked(&ctx.table, ctx.engine, answer, &a.checked, tx, vars).of_template(t);
    core.sample_answer(&o, a.status, a.checked.body, a.checked.truncated);
    o
}

/// Sends one request on the worker's connection (opening it and running its setup requests
/// if needed; `session.budget` says when it must be the connection's last) and judges the
/// answer. `timer` fires at the request's deadline (set here). `None`: a feeder ran out of
/// rows and the run is stopping; nothing was sent.
async fn one_request(
    ctx: &WorkerEnv,
    session: &mut Session,
    maker: &mut RequestMaker,
    core: &mut WorkerCore,
    mut timer: std::pin::Pin<&mut tokio::time::Sleep>,
) -> Option<Sent> {
    // The template is drawn first, so a failed connection or setup counts against it too.
    let t = maker.pick();
    // A request that reads no connection variable is written before connecting, so a refused
    // connection counts the transfers it would have carried (the run's transaction error
    // rate); one that reads them waits for the connection's setup requests.
    let mut early = None;
    if !ctx.table.reads_vars(t) {
        early = Some(write(maker, core, t, &session.vars)?);
    }
    let mut setup_ended = None;
    if session.conn.is_none() {
        match session.open(ctx, maker, core).await {
            Ok(ended) => setup_ended = ended,
            Err(kind) => {
                let refused = matches!(kind, ErrorKind::Connect | ErrorKind::Tls)
                    || ctx.table.setup_templates().next().is_some();
                let tx = early.flatten().map_or(0, |m| m.submitted_tx);
                return Some(Sent::failed(t, kind, tx, refused));
            }
        }
    }
    let written = match early {
        Some(w) => w,
        None => write(maker, core, t, &session.vars)?,
    };
    // Needs a variable no answer on this connection has set: not sent, and paused like a
    // refusal (a flow that never sets it would otherwise spin without a request).
    let Some(made) = written else {
        return Some(Sent::failed(t, ErrorKind::Check, 0, true));
    };
    let tx = made.submitted_tx;
    let last = session.budget.next_is_last();
    session.budget.spend();
    timer
        .as_mut()
        .reset(tokio::time::Instant::now() + ctx.timeout);
    let c = session.conn.as_mut().expect("opened above");
    let answer = tokio::select! {
        biased;
        r = c.send(&ctx.table, made, last) => r,
        () = timer => Err(ErrorKind::Timeout),
    };
    let (outcome, arrived) = match answer {
        Ok(a) => (judged(ctx, &a, (t, tx), &mut session.vars, core), a.arrived),
        // Failed, or timed out (the answer may still arrive on this connection): start afresh.
        Err(kind) => {
            session.drop_conn();
            return Some(Sent::failed(t, kind, tx, false));
        }
    };
    let done = !session.conn.as_ref().is_some_and(Conn::reusable) || session.budget.exhausted();
    if done {
        // The server closes it (`connection: close`, or a body framed by the close), or it
        // carried all the requests it may.
        session.drop_conn();
    }
    Some(Sent {
        outcome,
        arrived,
        setup_ended,
        refused: false,
    })
}
