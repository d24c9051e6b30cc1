//! The one worker loop, parameterized by the load model.
//!
//! [`WorkerCore`] holds everything a worker needs that does not depend on what it drives: it
//! decides what to do next from the [`Timeline`] (run an operation now, wait, or stop), claims
//! open-model operations from a shared counter only when they are due, and hands each completed
//! operation to its [`Recorder`] (its own, or the one its generator thread's workers share: no
//! allocation on the record path, an uncontended lock), which ships histograms and counters to
//! the collector through a lock-free channel whenever an interval ends
//! ([`crate::load::recorder`]). The thread shell (in-process) and the async shell (HTTP) are a
//! few lines around it. HTTP runs of several request templates also keep a tally per template,
//! handed in with the recorder's last shipment ([`crate::load::templates`]).
//!
//! Latency basis: in an open-model stage, from the operation's intended start (its slot in the
//! schedule); in a closed-model stage, from when the worker actually started it (service time).

use crate::cancel::Cancel;
use crate::load::answers::AnswerSamples;
pub use crate::load::errors::{ErrorKind, OpOutcome};
use crate::load::recorder::{Op, Recorder, SharedRecorder};
use crate::load::shipment::Shipment;
use crate::load::timeline::{Phase, Timeline};
use crossbeam_channel::Sender;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// State shared by every worker of a run.
pub struct Shared {
    pub start: Instant,
    /// Shared with the recorders, which ask it which slices count in the steady state.
    pub timeline: Arc<Timeline>,
    pub interval: Duration,
    /// Set on Ctrl-C, on a capacity break, when the target died for good, or when a worker
    /// aborted the run.
    pub stop: AtomicBool,
    /// Next open-model operation to claim.
    pub next_op: AtomicU64,
    /// Operations of the fixed-work stage claimed so far ([`Shared::claim`]).
    pub fixed_claimed: AtomicU64,
    /// The run's token (`run::RunOptions::cancel`): the collector polls it, and a
    /// worker that cannot go on aborts the run through it ([`WorkerCore::abort`]). It lives
    /// here because every driver already hands each worker this `Shared`; no driver needs a
    /// parameter of its own for it.
    pub cancel: Cancel,
    /// Request templates each worker tallies apart (0: none; see [`crate::load::templates`]).
    pub templates: usize,
    /// Whether the run serves live metrics, so the templates' figures ship with every slice
    /// too ([`crate::load::template_live`]).
    pub live_templates: bool,
    /// A deliberately coarse timer: every wait is rounded up to a whole number of these
    /// ([`coarsened`]). `None` in every real run; `harness calibrate`'s tests set it to prove
    /// the calibration sees a worse timer (see `calibrate`).
    pub coarse_timer: Option<Duration>,
    /// Samples of the failed answers ([`crate::load::answers`]).
    pub answers: AnswerSamples,
}

impl Shared {
    /// A recorder for this run's workers ([`crate::load::recorder`]).
    pub fn recorder(&self, tx: Sender<Shipment>) -> Recorder {
        let templates = (self.templates, self.live_templates);
        Recorder::new(
            Arc::clone(&self.timeline),
            self.interval.as_secs_f64(),
            templates,
            tx,
        )
    }

    pub fn new(timeline: Timeline, interval: Duration, cancel: Cancel) -> Shared {
        Shared {
            start: Instant::now(),
            timeline: Arc::new(timeline),
            interval,
            stop: AtomicBool::new(false),
            next_op: AtomicU64::new(0),
            fixed_claimed: AtomicU64::new(0),
            cancel,
            templates: 0,
            live_templates: false,
            coarse_timer: None,
            answers: AnswerSamples::default(),
        }
    }

    /// The same, with every worker's waits rounded up to whole `quantum`s (calibration tests).
    pub fn with_coarse_timer(self, quantum: Option<Duration>) -> Shared {
        Shared {
            coarse_timer: quantum,
            ..self
        }
    }

    /// The same, with `n` request templates tallied apart by every worker, and per slice as
    /// well when `live` (the run serves live metrics).
    pub fn tallying_templates(self, n: usize, live: bool) -> Shared {
        Shared {
            templates: n,
            live_templates: live && n > 0,
            ..self
        }
    }

    /// Claims one operation of stage `stage`: always granted in a timed stage; in a fixed-work
    /// stage only while its count lasts, shared by every worker (k6's shared iterations), so
    /// the stage does exactly its N operations however the workers race.
    pub fn claim(&self, stage: usize) -> bool {
        match self.timeline.spans[stage].operations {
            None => true,
            Some(n) => self.fixed_claimed.fetch_add(1, Ordering::Relaxed) < n,
        }
    }

    /// Whether stage `stage` is a fixed amount of work all claimed: its workers stop.
    pub fn work_done(&self, stage: usize) -> bool {
        self.timeline.spans[stage]
            .operations
            .is_some_and(|n| self.fixed_claimed.load(Ordering::Relaxed) >= n)
    }

    /// Seconds since the run started.
    pub fn elapsed(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.start).as_secs_f64()
    }

    /// Which interval an instant falls in.
    pub fn interval_of(&self, at: Instant) -> u64 {
        (at.saturating_duration_since(self.start).as_nanos() / self.interval.as_nanos().max(1))
            as u64
    }
}

/// What a worker should do next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    /// Run an operation now; measure latency from `intended`.
    Run {
        intended: Instant,
        stage: usize,
    },
    /// Nothing to do before this long has passed (sleep, then ask again).
    Wait(Duration),
    Stop,
}

/// The load-model logic of one worker, and its way into its recorder. See the module docs.
/// Dropping it lets go of the recorder: the last of a recorder's workers to do so ships what
/// it holds, with the template tallies, so a driver drops its cores when they stop.
pub struct WorkerCore {
    id: u32,
    shared: Arc<Shared>,
    /// Its own, or its generator thread's ([`WorkerCore::sharing`]).
    rec: SharedRecorder,
    /// The (interval, stage) this worker last recorded into: a slice lists each worker once.
    last: (u64, usize),
    /// When this worker (and its connection) last became free to send: the end of its
    /// previous operation, or of a back-off the target's failure imposed.
    free_at: Option<Instant>,
    /// The dispatch lag of the open-model operation handed out by `next`, recorded with it.
    pending_lag: Option<u64>,
    /// Connect and TLS handshake times (ns) of a connection opened for the operation in
    /// flight, recorded with it (so they land in a slice that is shipped: a slice with no
    /// completed operation is not).
    pending_conn: Option<(u64, Option<u64>)>,
}

/// Longest a worker sleeps before looking at the timeline again.
const MAX_WAIT: Duration = Duration::from_millis(2);
/// How late (seconds) an open-model operation may still start once its stage is over.
const LATE_START_LIMIT: f64 = 0.1;

impl WorkerCore {
    /// A worker with a recorder of its own (in-process and goose workers: one per thread).
    pub fn new(id: u32, shared: Arc<Shared>, tx: Sender<Shipment>) -> WorkerCore {
        let rec = shared.recorder(tx).shared();
        WorkerCore::sharing(id, shared, &rec)
    }

    /// A worker recording into `rec`, which the other workers of its thread share.
    pub fn sharing(id: u32, shared: Arc<Shared>, rec: &SharedRecorder) -> WorkerCore {
        WorkerCore {
            id,
            shared,
            rec: Arc::clone(rec),
            last: (u64::MAX, usize::MAX),
            free_at: None,
            pending_lag: None,
            pending_conn: None,
        }
    }

    /// The operation in flight opened a new connection: `connect` to establish TCP, then
    /// `handshake` for TLS (https). Recorded with the operation when it completes.
    pub fn connected(&mut self, connect: Duration, handshake: Option<Duration>) {
        let ns = |d: Duration| (d.as_nanos() as u64).max(1);
        self.pending_conn = Some((ns(connect), handshake.map(ns)));
    }

    /// The worker was kept from sending until `at` by the target (a back-off after a refused
    /// connection): waiting that long is not the generator's lateness.
    pub fn free_from(&mut self, at: Instant) {
        self.free_at = Some(at);
    }

    /// Ends the run, marked aborted with `reason` (e.g. a data feeder's
    /// `targets::http::feed::Exhausted`); the first reason wins. Every worker stops
    /// at its next step: the stop flag is set here rather than on the collector's next poll
    /// (up to 50 ms later), in which each worker would only find the same dead end again.
    pub fn abort(&self, reason: String) {
        self.shared.cancel.abort(reason);
        self.shared.stop.store(true, Ordering::Relaxed);
    }

    /// Decides the next step at time `now`.
    pub fn next(&mut self, now: Instant) -> Next {
        let sh = &*self.shared;
        if sh.stop.load(Ordering::Relaxed) {
            return Next::Stop;
        }
        let t = sh.elapsed(now);
        // Open-model operations already due run first, in the stage they were due in, even when
        // the clock has moved on into the next stage or past the end: a late start is lateness
        // (counted in their latency), never a skipped operation. Without this, operations due
        // in a stage's last ~millisecond (a waiting worker's timer granularity) were dropped
        // whenever the claim came after the stage's end, and an open stage at exactly its
        // criterion's rate fell short by one operation about half the time. Past an open
        // stage (a closed stage or the end) only a backlog of at most LATE_START_LIMIT is worked
        // off, so an overloaded stage cannot stretch the run; what stays unsent shows as the
        // intervals' backlog.
        let phase = sh.timeline.phase(t);
        let open_now = matches!(phase, Phase::Open { .. });
        loop {
            let n = sh.next_op.load(Ordering::Relaxed);
            match sh.timeline.op_time(n) {
                Some(due) if due <= t && (open_now || t - due <= LATE_START_LIMIT) => {
                    if sh
                        .next_op
                        .compare_exchange_weak(n, n + 1, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                    {
                        let stage = sh.timeline.stage_at(due).map_or(0, |(i, _)| i);
                        let intended = sh.start + Duration::from_secs_f64(due);
                        // Dispatch lag: how long after it could have been sent (its slot, or
                        // when this worker became free, whichever is later) it is sent now.
                        let ready = self.free_at.map_or(intended, |f| f.max(intended));
                        self.pending_lag =
                            Some(now.saturating_duration_since(ready).as_nanos() as u64);
                        return Next::Run { intended, stage };
                    }
                }
                _ => break,
            }
        }
        match phase {
            Phase::Done => Next::Stop,
            // A fixed-work stage is the last: once its operations are all claimed, the workers
            // stop and the run ends with the last one's completion, not at the stage's limit.
            Phase::Closed { stage, .. } if sh.work_done(stage) => Next::Stop,
            Phase::Closed { stage, workers } => {
                if self.id < workers && sh.claim(stage) {
                    Next::Run {
                        intended: now,
                        stage,
                    }
                } else {
                    self.flush_if_stale(now);
                    self.wait(MAX_WAIT)
                }
            }
            Phase::Open { .. } => {
                // Nothing is due yet (due operations ran above).
                let next = sh.timeline.op_time(sh.next_op.load(Ordering::Relaxed));
                self.flush_if_stale(now);
                match next {
                    Some(due) if due > t => {
                        self.wait(Duration::from_secs_f64(due - t).min(MAX_WAIT))
                    }
                    // No more operations in this stage (rounding at its end), or one just
                    // became due: look again shortly / at once.
                    Some(_) => Next::Wait(Duration::ZERO),
                    None => self.wait(MAX_WAIT),
                }
            }
        }
    }

    /// A wait of `d`, as coarse as the run's timer is made to be (not at all in real runs).
    fn wait(&self, d: Duration) -> Next {
        Next::Wait(coarsened(d, self.shared.coarse_timer))
    }

    /// Samples the answer an operation was judged from, if it failed on it (status, the body
    /// as held, whether the body went on): see [`crate::load::answers`].
    #[inline]
    pub fn sample_answer(&self, o: &OpOutcome, status: u16, body: &[u8], truncated: bool) {
        if o.failed {
            let at = self.shared.elapsed(Instant::now());
            self.shared.answers.note(o, status, body, truncated, at);
        }
    }

    /// Records a completed operation.
    #[inline]
    pub fn complete(
        &mut self,
        intended: Instant,
        done: Instant,
        stage: usize,
        outcome: &OpOutcome,
    ) {
        let ns = done.saturating_duration_since(intended).as_nanos() as u64;
        self.record(done, stage, ns, outcome);
    }

    /// Takes the dispatch lag of the operation [`WorkerCore::next`] just handed out, for a
    /// worker with several operations in flight (HTTP pipelining) to record with that
    /// operation through [`WorkerCore::complete_lagged`] when its answer comes.
    #[inline]
    pub fn take_lag(&mut self) -> Option<u64> {
        self.pending_lag.take()
    }

    /// Records a completed operation with the dispatch lag taken for it by
    /// [`WorkerCore::take_lag`].
    #[inline]
    pub fn complete_lagged(
        &mut self,
        intended: Instant,
        done: Instant,
        stage: usize,
        outcome: &OpOutcome,
        lag: Option<u64>,
    ) {
        self.pending_lag = lag;
        self.complete(intended, done, stage, outcome);
    }

    /// Records a completed operation whose latency was measured elsewhere (the goose driver
    /// takes goose's own per-request timing); `done` places it in its interval.
    #[inline]
    pub fn record(&mut self, done: Instant, stage: usize, ns: u64, outcome: &OpOutcome) {
        let interval = self.shared.interval_of(done);
        let seen = self.last == (interval, stage);
        self.last = (interval, stage);
        self.free_at = Some(done);
        Recorder::lock(&self.rec).record(Op {
            worker: self.id,
            interval,
            stage,
            ns,
            outcome,
            lag: self.pending_lag.take(),
            conn: self.pending_conn.take(),
            seen,
        });
    }

    /// Records a setup operation (a setup template's request, sent once on a new connection
    /// before its timed requests) that took `ns`: see [`Recorder::record_setup`].
    #[inline]
    pub fn record_setup(&mut self, template: usize, ns: u64, outcome: &OpOutcome) {
        Recorder::lock(&self.rec).record_setup(template, ns, outcome);
    }

    /// An idle worker still hands in what its recorder holds once its interval is over, so
    /// the collector never waits on it.
    fn flush_if_stale(&mut self, now: Instant) {
        Recorder::lock(&self.rec).flush_stale(self.shared.interval_of(now));
    }
}

/// `d` rounded up to a whole number of `quantum`s: a timer that only fires on its own ticks,
/// made on purpose so the calibration can be shown to see it (`Shared::coarse_timer`). Zero
/// stays zero (something is due now); `None` leaves `d` as it is.
pub fn coarsened(d: Duration, quantum: Option<Duration>) -> Duration {
    match quantum.map(|q| q.as_nanos()).filter(|&q| q > 0) {
        Some(q) => Duration::from_nanos((d.as_nanos().div_ceil(q) * q) as u64),
        None => d,
    }
}

/// Sleeps for `d`, spinning for the last stretch so open-model operations start on time without
/// burning a core between them. Workers call [`tighten_timer_slack`] first, so the kernel wakes
/// them within microseconds and the spin can stay short.
pub fn precise_sleep(d: Duration) {
    const SPIN: Duration = Duration::from_micros(15);
    let until = Instant::now() + d;
    if d > SPIN {
        std::thread::sleep(d - SPIN);
    }
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// Asks the kernel to wake this thread within 1 ns of its timer instead of the default 50 µs
/// slack (Linux), so [`precise_sleep`] needs to spin only briefly. Elsewhere a no-op.
pub fn tighten_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack; the call cannot fault.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::template_live::OpCounts;

    fn core(stages: &str) -> WorkerCore {
        let src = format!("[scenario]\nname = \"w\"\n[target]\nkind = \"in-process\"\n{stages}");
        let plan = scenario::parse(&src, std::path::Path::new("w.toml")).unwrap();
        let shared = Shared::new(Timeline::new(&plan), Duration::from_secs(1), Cancel::new());
        let (tx, _rx) = crossbeam_channel::unbounded();
        WorkerCore::new(0, Arc::new(shared), tx)
    }

    fn at(c: &WorkerCore, secs: f64) -> Instant {
        c.shared.start + Duration::from_secs_f64(secs)
    }

    #[test]
    fn open_operations_due_in_a_stage_start_late_rather_than_never() {
        // 1000 operations at 1000/s (the last due at 0.999 s), then a closed stage.
        let mut c = core("[[stages]]\nduration = \"1s\"\nrate = \"1000/s\"\n[[stages]]\nduration = \"1s\"\nworkers = 1\n");
        c.shared.next_op.store(999, Ordering::Relaxed);
        // Claimed 51 ms late, in the next stage's time: still operation 999 of stage 0.
        let late = c.next(at(&c, 1.05));
        assert_eq!(
            late,
            Next::Run {
                intended: at(&c, 0.999),
                stage: 0
            }
        );
        // Then the closed stage's own work.
        let now = at(&c, 1.05);
        assert_eq!(
            c.next(now),
            Next::Run {
                intended: now,
                stage: 1
            }
        );
        // A backlog older than the limit is left unsent once its stage is over.
        c.shared.next_op.store(999, Ordering::Relaxed);
        let now = at(&c, 1.2);
        assert_eq!(
            c.next(now),
            Next::Run {
                intended: now,
                stage: 1
            }
        );
        assert_eq!(c.shared.next_op.load(Ordering::Relaxed), 999);

        // The same at the end of the plan.
        let mut c = core("[[stages]]\nduration = \"1s\"\nrate = \"1000/s\"\n");
        c.shared.next_op.store(999, Ordering::Relaxed);
        assert!(matches!(c.next(at(&c, 1.001)), Next::Run { stage: 0, .. }));
        assert_eq!(c.next(at(&c, 1.001)), Next::Stop);
        c.shared.next_op.store(999, Ordering::Relaxed);
        assert_eq!(c.next(at(&c, 1.2)), Next::Stop);
        // Within an open stage nothing is early: op 5 is due at 5 ms.
        let mut c = core("[[stages]]\nduration = \"1s\"\nrate = \"1000/s\"\n");
        c.shared.next_op.store(5, Ordering::Relaxed);
        assert!(matches!(c.next(at(&c, 0.004)), Next::Wait(_)));
        assert!(matches!(c.next(at(&c, 0.005)), Next::Run { stage: 0, .. }));
    }

    #[test]
    fn a_worker_abort_stops_every_worker_with_its_reason() {
        let mut c = core("[[stages]]\nduration = \"1s\"\nworkers = 2\n");
        let other = WorkerCore::sharing(1, Arc::clone(&c.shared), &c.rec);
        let now = at(&c, 0.5);
        assert!(matches!(c.next(now), Next::Run { .. }));
        other.abort("feeder users.csv exhausted after 3 rows".to_string());
        assert_eq!(c.next(now), Next::Stop);
        assert!(c.shared.cancel.is_cancelled());
        assert_eq!(
            c.shared.cancel.reason(),
            Some("feeder users.csv exhausted after 3 rows")
        );
    }

    #[test]
    fn templates_tally_the_steady_state_and_setup_requests_only_there() {
        // A 1 s warm-up stage, then 1 s of steady state; two templates tallied.
        let src = "[scenario]\nname = \"w\"\n[target]\nkind = \"in-process\"\n\
            [[stages]]\nduration = \"1s\"\nworkers = 1\nwarmup = true\n\
            [[stages]]\nduration = \"1s\"\nworkers = 1\n";
        let plan = scenario::parse(src, std::path::Path::new("w.toml")).unwrap();
        let shared = Shared::new(Timeline::new(&plan), Duration::from_secs(1), Cancel::new())
            .tallying_templates(2, false);
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut c = WorkerCore::new(0, Arc::new(shared), tx);
        let ok = |t: usize| OpOutcome::default().of_template(t);
        let ms = |n: u64| n * 1_000_000;
        // Warm-up: a setup request (tallied whatever the slice) and a timed one (not).
        c.record_setup(
            1,
            ms(5),
            &OpOutcome::failure(ErrorKind::Status4xx, 0).of_template(1),
        );
        c.record_setup(1, ms(6), &ok(1));
        c.record(at(&c, 0.5), 0, ms(1), &ok(0));
        // Steady state: two of template 0, one failed; a template beyond the plan is ignored.
        c.record(at(&c, 1.2), 1, ms(2), &ok(0));
        c.record(
            at(&c, 1.3),
            1,
            ms(3),
            &OpOutcome::failure(ErrorKind::Timeout, 0),
        );
        c.record(at(&c, 1.4), 1, ms(4), &ok(7));
        drop(c);
        let shipments: Vec<Shipment> = rx.try_iter().collect();
        // The setup requests are in no shipment: 1 warm-up op, 3 steady ones.
        let ops: Vec<u64> = shipments.iter().map(|s| s.counts.ops).collect();
        assert_eq!(ops, [1, 3]);
        assert!(shipments[0].templates.is_empty(), "tallies come last, once");
        let t = &shipments[1].templates;
        assert_eq!(t.len(), 2);
        // Template 0: the steady state's two (the timeout is template 0's: the default).
        assert_eq!(
            (t[0].counts.ops, t[0].counts.failed_ops, t[0].hist.len()),
            (2, 1, 1)
        );
        assert_eq!(t[0].counts.errors[ErrorKind::Timeout as usize], 1);
        assert!((t[0].hist.max() as f64 / ms(2) as f64 - 1.0).abs() < 0.01);
        // Template 1: both setup requests, one failed.
        assert_eq!(
            (t[1].counts.ops, t[1].counts.failed_ops, t[1].hist.len()),
            (2, 1, 1)
        );
        assert_eq!(t[1].counts.errors[ErrorKind::Status4xx as usize], 1);
    }

    #[test]
    fn live_template_figures_ship_with_every_slice_warm_up_and_setup_included() {
        let src = "[scenario]\nname = \"w\"\n[target]\nkind = \"in-process\"\n\
            [[stages]]\nduration = \"1s\"\nworkers = 1\nwarmup = true\n\
            [[stages]]\nduration = \"1s\"\nworkers = 1\n";
        let plan = scenario::parse(src, std::path::Path::new("w.toml")).unwrap();
        let shared = Shared::new(Timeline::new(&plan), Duration::from_secs(1), Cancel::new())
            .tallying_templates(2, true);
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut c = WorkerCore::new(0, Arc::new(shared), tx);
        let ok = |t: usize| OpOutcome::default().of_template(t);
        let failed = OpOutcome::failure(ErrorKind::Status4xx, 0).of_template(1);
        c.record_setup(1, 5_000_000, &failed);
        c.record_setup(1, 6_000_000, &ok(1));
        c.record(at(&c, 0.5), 0, 1_000_000, &ok(0));
        c.record(at(&c, 1.2), 1, 2_000_000, &ok(0));
        c.record(
            at(&c, 1.3),
            1,
            3_000_000,
            &OpOutcome::failure(ErrorKind::Timeout, 0),
        );
        c.record(at(&c, 1.4), 1, 4_000_000, &ok(7));
        drop(c);
        let s: Vec<Shipment> = rx.try_iter().collect();
        let live: Vec<Vec<(u64, u64, u64)>> = s
            .iter()
            .map(|s| {
                let n = |t: &OpCounts| t.latency.counts.iter().sum::<u64>();
                s.template_live
                    .iter()
                    .map(|t| (t.counts.ops, t.counts.failed_ops, n(t)))
                    .collect()
            })
            .collect();
        // Warm-up slice: template 0's timed request, template 1's two setup requests (one
        // failed, so one latency value); steady slice: template 0's two, one failed; the
        // template beyond the plan is in no template's figures.
        assert_eq!(
            live,
            [vec![(1, 0, 1), (2, 1, 1)], vec![(2, 1, 1), (0, 0, 0)]]
        );
        assert_eq!(
            s[0].template_live[1].counts.errors[ErrorKind::Status4xx as usize],
            1
        );
        assert_eq!(
            s[1].template_live[0].counts.errors[ErrorKind::Timeout as usize],
            1
        );
    }

    #[test]
    fn without_templates_nothing_is_tallied_or_shipped_for_them() {
        let c = core("[[stages]]\nduration = \"1s\"\nworkers = 1\n");
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut c = WorkerCore::new(0, Arc::clone(&c.shared), tx);
        c.record_setup(0, 1_000, &OpOutcome::default());
        c.record(at(&c, 0.5), 0, 1_000, &OpOutcome::default());
        drop(c);
        let s: Vec<Shipment> = rx.try_iter().collect();
        assert_eq!(s.len(), 1);
        assert!(s[0].templates.is_empty());
        assert!(s[0].template_live.is_empty());
    }

    #[test]
    fn a_coarse_timer_rounds_every_wait_up_to_whole_quanta() {
        let ms = Duration::from_millis;
        assert_eq!(coarsened(Duration::from_micros(10), Some(ms(2))), ms(2));
        assert_eq!(coarsened(ms(2), Some(ms(2))), ms(2));
        assert_eq!(coarsened(ms(3), Some(ms(2))), ms(4));
        assert_eq!(coarsened(Duration::ZERO, Some(ms(2))), Duration::ZERO);
        assert_eq!(coarsened(ms(3), None), ms(3));
        // Through the worker: op 5 of 1000/s is due at 5 ms; at 4.9 ms the wait is 0.1 ms.
        let src = "[scenario]\nname = \"w\"\n[target]\nkind = \"in-process\"\n[[stages]]\nduration = \"1s\"\nrate = \"1000/s\"\n";
        let plan = scenario::parse(src, std::path::Path::new("w.toml")).unwrap();
        let shared = Shared::new(Timeline::new(&plan), Duration::from_secs(1), Cancel::new())
            .with_coarse_timer(Some(ms(2)));
        let (tx, _rx) = crossbeam_channel::unbounded();
        let mut c = WorkerCore::new(0, Arc::new(shared), tx);
        c.shared.next_op.store(5, Ordering::Relaxed);
        assert_eq!(c.next(at(&c, 0.0049)), Next::Wait(ms(2)));
    }

    #[test]
    fn dispatch_lag_counts_the_generator_not_a_busy_worker() {
        let src = "[scenario]\nname = \"w\"\n[target]\nkind = \"in-process\"\n[[stages]]\nduration = \"1s\"\nrate = \"1000/s\"\n";
        let plan = scenario::parse(src, std::path::Path::new("w.toml")).unwrap();
        let shared = Arc::new(Shared::new(
            Timeline::new(&plan),
            Duration::from_secs(1),
            Cancel::new(),
        ));
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut c = WorkerCore::new(0, shared, tx);
        let ok = OpOutcome::default();
        // Op 5 is due at 5 ms; the idle worker only gets to it at 7 ms: 2 ms of its own.
        c.shared.next_op.store(5, Ordering::Relaxed);
        let Next::Run { intended, stage } = c.next(at(&c, 0.007)) else {
            panic!("op 5 is due")
        };
        // The answer takes until 20 ms; op 6 (due at 6 ms) waited for this busy worker, which
        // takes it 0.1 ms after it became free: the wait is the target's, the 0.1 ms ours.
        c.complete(intended, at(&c, 0.020), stage, &ok);
        let Next::Run { intended, stage } = c.next(at(&c, 0.0201)) else {
            panic!("op 6 is due")
        };
        // A failed answer is recorded apart, with the transactions it carried.
        let failed = OpOutcome::failure(ErrorKind::Connect, 64);
        c.complete(intended, at(&c, 0.030), stage, &failed);
        drop(c);
        let s = rx.try_recv().expect("one shipment");
        let ms = |ns: u64| ns as f64 / 1e6;
        assert_eq!(s.lag.len(), 2);
        assert!((ms(s.lag.max()) - 2.0).abs() < 0.01, "{}", ms(s.lag.max()));
        assert!((ms(s.lag.min()) - 0.1).abs() < 0.01, "{}", ms(s.lag.min()));
        assert_eq!((s.hist.len(), s.hist_failed.len()), (1, 1));
        assert_eq!(
            (
                s.counts.failed_ops,
                s.counts.failed_tx,
                s.counts.submitted_tx
            ),
            (1, 64, 64)
        );
        // Latency still runs from the slot: op 6 answered at 30 ms, due at 6 ms.
        assert!((ms(s.hist_failed.max()) - 24.0).abs() < 0.05);
    }
}
