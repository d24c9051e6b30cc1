//! HTTP/1.1 pipelining with the builtin client (`[http] pipeline = N`, N > 1): a worker keeps
//! up to N requests in flight on its connection.
//!
//! Why: on loopback most of a request's CPU is the kernel's (FACTS.md: our client spends 7.1
//! of its 8.65 CPU-s per million requests in the kernel), a write and a read per request, each
//! waking the other side. N requests written back to back leave in one `write`, and their
//! answers come back in a few reads, so N requests share the system calls and wake-ups.
//!
//! How (RFC 9112 section 9.3.2): requests go out in order without waiting for answers, and the
//! server answers in the same order, so each answer read belongs to the oldest request still
//! in flight. A worker, in a loop:
//! 1. fills its pipeline: asks [`WorkerCore`] for operations while fewer than N are in flight
//!    (and the connection's request budget, [`Budget`], lasts), encodes each request behind
//!    the others, then writes them all at once;
//! 2. waits for whichever comes first: answers to read, the oldest request's deadline, or, in
//!    open stages with a free slot and nothing due, the next operation's slot (through the
//!    thread's [`Pacer`], like an idle worker; [`Pacer::lead`] and [`Pacer::pause`] let it wait
//!    for its answers at the same time);
//! 3. reads every answer already there, oldest first, judging and recording each against its
//!    request.
//!
//! Load models: in a closed stage a worker keeps N requests outstanding, sending the next as
//! soon as an answer frees a slot (W workers at depth N: W·N requests in flight). In an open
//! stage a worker sends each operation when it is due if its connection has a free slot; a
//! full pipeline is a busy connection, so waiting for a slot is the target's doing (inside the
//! latency, which runs from the slot) and the dispatch lag counts from when a slot became free
//! (the kernel's stamp of the read that freed it; with several answers in one read, that read's).
//! Latency of each request runs from its own start (open: its slot; closed: when it was
//! queued) to its whole answer, so time spent behind earlier requests on the connection is in
//! it, as it would be for the caller.
//!
//! Failures: when the connection fails or the server closes it with requests unanswered (an
//! I/O error; an answer that says `connection: close` or is framed by the close), each
//! unanswered request counts one `io` error and the worker reconnects for the next. When the
//! oldest request passes its deadline it and every request behind it count a `timeout` (their
//! answers could only come after its) and the connection is dropped. Bytes after the last
//! answer with nothing in flight (sent without a request) drop the connection too.
//!
//! This is a loop of its own, not the one-request worker in `mod.rs` at depth 1: that one also
//! drives hyper's clients, which cannot pipeline, and it is the non-pipelined baseline that
//! `benches/pipeline.sh` compares with, so it stays as measured.

use super::client::open_wire;
use super::pacer::Pacer;
use super::reuse::Budget;
use super::wire::{Keep, WireConn};
use super::{WorkerEnv, CONNECT_BACKOFF};
use crate::load::errors::{ErrorKind, OpOutcome};
use crate::load::worker::{Next, WorkerCore};
use crate::targets::http::inspect::{Answer, Headers};
use crate::targets::http::judge::judge_checked;
use crate::targets::http::maker::{NotMade, RequestMaker};
use crate::targets::http::template::ConnVars;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::Sleep;

/// A request written (or about to be) and not yet answered.
struct InFlight {
    intended: Instant,
    stage: usize,
    template: usize,
    submitted_tx: u64,
    /// Its dispatch lag (open stages), recorded with it.
    lag: Option<u64>,
    /// A HEAD request: its answer has no body.
    head_request: bool,
    deadline: tokio::time::Instant,
}

/// What filling the pipeline ended on.
enum Fill {
    /// No slot left: the depth is reached, or the connection's request budget spent.
    Full,
    /// Nothing due for up to this long.
    Wait(Duration),
    /// The run is over: drain what is in flight.
    Stop,
    /// The connection could not be opened (counted, backed off): start again.
    Retry,
}

/// What ended a wait.
enum Woke {
    Answers,
    Deadline,
    Due,
}

/// One pipelined worker.
struct Pipe {
    core: WorkerCore,
    maker: RequestMaker,
    ctx: Arc<WorkerEnv>,
    pacer: Arc<Pacer>,
    conn: Option<WireConn>,
    budget: Budget,
    flight: VecDeque<InFlight>,
    depth: usize,
    /// When the connection last got a free slot after it had none: the dispatch lag of an
    /// open-model operation counts from the later of this and its slot.
    free_since: Instant,
    /// Whether this worker leads its thread's idle workers, and whether it was waiting.
    leading: bool,
    waited: bool,
}

/// The worker loop of one pipelined HTTP/1.1 worker (see the module docs).
pub(super) async fn worker(
    core: WorkerCore,
    maker: RequestMaker,
    ctx: Arc<WorkerEnv>,
    pacer: Arc<Pacer>,
) {
    let depth = ctx.pipeline.max(1) as usize;
    let mut p = Pipe {
        core,
        maker,
        budget: Budget::new(ctx.max_requests),
        ctx,
        pacer,
        conn: None,
        flight: VecDeque::with_capacity(depth),
        depth,
        free_since: Instant::now(),
        leading: false,
        waited: false,
    };
    // One deadline timer, moved to the oldest request's deadline as requests come and go.
    let timer = tokio::time::sleep(p.ctx.timeout);
    tokio::pin!(timer);
    let mut stopping = false;
    loop {
        let fill = if stopping {
            Fill::Stop
        } else {
            p.fill(timer.as_mut()).await
        };
        let due = match fill {
            Fill::Retry => continue,
            Fill::Stop => {
                stopping = true;
                None
            }
            Fill::Wait(d) => Some(d),
            Fill::Full => {
                // A full pipeline cannot take the next due operation: leave the pacing to
                // workers that can.
                p.hand_over();
                None
            }
        };
        if p.flight.is_empty() {
            match due {
                None if stopping => break,
                Some(d) => {
                    p.leading = p.pacer.wait(d, p.leading).await;
                    p.waited = true;
                }
                None => {}
            }
            continue;
        }
        match p.wait(due, timer.as_mut()).await {
            Woke::Answers => p.read(timer.as_mut()).await,
            Woke::Deadline => p.fail_all(ErrorKind::Timeout),
            Woke::Due => {}
        }
    }
    // Wake a follower: it sees the stop too, and wakes the next.
    p.pacer.hand_over(p.leading);
    drop(p.core);
}

impl Pipe {
    /// Queues every operation that is due (closed stages: one per free slot), then writes
    /// them in one go.
    async fn fill(&mut self, mut timer: Pin<&mut Sleep>) -> Fill {
        if self.flight.is_empty() && self.budget.exhausted() {
            self.drop_conn();
        }
        // Each answer recorded moved the core's "free since" to its own arrival; a pipeline
        // with free slots was free earlier (see the module docs).
        self.core.free_from(self.free_since);
        let now = Instant::now();
        let mut queued = 0;
        let end = loop {
            if self.flight.len() >= self.depth || self.budget.exhausted() {
                break Fill::Full;
            }
            match self.core.next(now) {
                Next::Run { intended, stage } => {
                    if self.waited {
                        self.hand_over();
                    }
                    if !self.queue(intended, stage, now).await {
                        break Fill::Retry;
                    }
                    queued += 1;
                }
                Next::Wait(d) => break Fill::Wait(d),
                Next::Stop => break Fill::Stop,
            }
        };
        if queued > 0 {
            self.flush(timer.as_mut()).await;
        }
        end
    }

    /// Makes the request for a claimed operation and queues it on the connection, opening
    /// one first if needed. False when it could not be opened: the operation is recorded as
    /// failed and the worker has backed off.
    async fn queue(&mut self, intended: Instant, stage: usize, now: Instant) -> bool {
        let lag = self.core.take_lag();
        // Validation refuses `extract` (and so connection variables) with pipelining: a
        // pipelined request leaves before the answers that could set them.
        let t = self.maker.pick();
        let made = match self.maker.make_from(t, &ConnVars::default()) {
            Ok(m) => m,
            Err(NotMade::Unset(_)) => {
                let failed = OpOutcome::failure(ErrorKind::Check, 0).of_template(t);
                self.core
                    .complete_lagged(intended, Instant::now(), stage, &failed, lag);
                return true;
            }
            Err(NotMade::Exhausted(e)) => {
                self.core.abort(e.to_string());
                return false;
            }
        };
        if self.conn.is_none() {
            match open_wire(&self.ctx.dialer, self.ctx.timeout).await {
                Ok((mut c, opened)) => {
                    self.core.connected(opened.connect, opened.handshake);
                    if self.ctx.open_model {
                        c.stamp_arrivals();
                    }
                    self.conn = Some(c);
                }
                Err(kind) => {
                    let failed =
                        OpOutcome::failure(kind, made.submitted_tx).of_template(made.template);
                    self.core
                        .complete_lagged(intended, Instant::now(), stage, &failed, lag);
                    tokio::time::sleep(CONNECT_BACKOFF).await;
                    // The refusing target imposed this pause, not the generator.
                    self.free_since = Instant::now();
                    return false;
                }
            }
        }
        let conn = self.conn.as_mut().expect("opened above");
        let r = self.ctx.table.wire(made.template);
        let last = self.budget.next_is_last();
        let mut written = Vec::new();
        let head = match &made.head {
            Some(h) => {
                self.ctx
                    .table
                    .write_wire_head(made.template, h, last, &mut written);
                &written[..]
            }
            None if last => r.closing_head,
            None => r.head,
        };
        conn.queue(head, &made.body, r.length);
        self.budget.spend();
        self.flight.push_back(InFlight {
            intended,
            stage,
            template: made.template,
            submitted_tx: made.submitted_tx,
            lag,
            head_request: r.head_request,
            deadline: tokio::time::Instant::from_std(now) + self.ctx.timeout,
        });
        true
    }

    /// Writes the queued requests, within the oldest one's deadline.
    async fn flush(&mut self, mut timer: Pin<&mut Sleep>) {
        arm(timer.as_mut(), &self.flight);
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let written = tokio::select! {
            biased;
            r = conn.flush() => r,
            () = timer.as_mut() => Err(ErrorKind::Timeout),
        };
        if let Err(kind) = written {
            self.fail_all(kind);
        }
    }

    /// Waits for answers, the oldest request's deadline, or (`due`: a slot is free and
    /// nothing is due before then) the next operation's slot.
    async fn wait(&mut self, due: Option<Duration>, timer: Pin<&mut Sleep>) -> Woke {
        let Some(conn) = self.conn.as_mut() else {
            return Woke::Due;
        };
        if due.is_some() {
            self.leading = self.pacer.lead(self.leading);
            self.waited = true;
        }
        tokio::select! {
            biased;
            // The end of the stream, or an error, shows again as the read's.
            _ = conn.receive() => Woke::Answers,
            () = timer => Woke::Deadline,
            () = self.pacer.pause(due.unwrap_or_default(), self.leading), if due.is_some() => Woke::Due,
        }
    }

    /// Reads the answers that are there (bytes of at least one have been received), oldest
    /// request first, judging and recording each.
    async fn read(&mut self, mut timer: Pin<&mut Sleep>) {
        let was_full = self.is_full();
        let mut arrived = None;
        while let Some(front) = self.flight.front() {
            let Some(conn) = self.conn.as_mut() else {
                break;
            };
            let keep = Keep::from(self.ctx.table.needs(front.template));
            let answer = tokio::select! {
                biased;
                a = conn.read_answer(front.head_request, keep) => a,
                () = timer.as_mut() => Err(ErrorKind::Timeout),
            };
            let outcome = match answer {
                Ok(a) => {
                    arrived = a.arrived.or(arrived);
                    let (t, tx) = (front.template, front.submitted_tx);
                    let checked = Answer {
                        headers: Headers::Raw(a.head),
                        body: a.body,
                        truncated: a.truncated,
                    };
                    let mut no_vars = ConnVars::default();
                    let (table, engine) = (&self.ctx.table, self.ctx.engine);
                    let o = judge_checked(table, engine, (t, a.status), &checked, tx, &mut no_vars)
                        .of_template(t);
                    self.core
                        .sample_answer(&o, a.status, checked.body, checked.truncated);
                    o
                }
                Err(kind) => {
                    self.fail_all(kind);
                    break;
                }
            };
            let f = self.flight.pop_front().expect("the front was there");
            let done = Instant::now();
            self.core
                .complete_lagged(f.intended, done, f.stage, &outcome, f.lag);
            if !self.after_answer() {
                break;
            }
        }
        arm(timer, &self.flight);
        if was_full && !self.is_full() {
            self.free_since = arrived.unwrap_or_else(Instant::now);
        }
    }

    /// After an answer: whether the next one is already there to read. Fails what is left
    /// when the server closes, and drops a connection that is done.
    fn after_answer(&mut self) -> bool {
        let Some(conn) = self.conn.as_ref() else {
            return false;
        };
        if !conn.reusable() {
            // The server closes after that answer: whatever is still in flight is lost.
            self.fail_all(ErrorKind::Io);
            return false;
        }
        if self.flight.is_empty() {
            // Bytes with nothing in flight were sent without a request: a protocol error.
            if self.budget.exhausted() || conn.buffered() {
                self.drop_conn();
            }
            return false;
        }
        conn.buffered()
    }

    /// Every request in flight fails with `kind` (each counted), and the connection is
    /// dropped: the next request opens another.
    fn fail_all(&mut self, kind: ErrorKind) {
        let was_full = self.is_full();
        let done = Instant::now();
        for f in self.flight.drain(..) {
            let failed = OpOutcome::failure(kind, f.submitted_tx).of_template(f.template);
            self.core
                .complete_lagged(f.intended, done, f.stage, &failed, f.lag);
        }
        self.drop_conn();
        if was_full {
            self.free_since = done;
        }
    }

    fn drop_conn(&mut self) {
        self.conn = None;
        self.budget.renew();
    }

    /// No slot for another request: the depth is reached or the connection's budget spent.
    fn is_full(&self) -> bool {
        self.flight.len() >= self.depth || self.budget.exhausted()
    }

    /// Gives up the lead, if held, and wakes an idle worker to take the next due operation.
    fn hand_over(&mut self) {
        if self.waited || self.leading {
            self.pacer.hand_over(self.leading);
        }
        (self.leading, self.waited) = (false, false);
    }
}

/// Moves the deadline timer to the oldest request's deadline.
fn arm(mut timer: Pin<&mut Sleep>, flight: &VecDeque<InFlight>) {
    if let Some(f) = flight.front() {
        if timer.deadline() != f.deadline {
            timer.as_mut().reset(f.deadline);
        }
    }
}
