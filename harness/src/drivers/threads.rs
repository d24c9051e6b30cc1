//! The threads driver: load for targets in this process (the engine, the mock), one OS thread
//! per worker, each running the [`WorkerCore`] loop.
//!
//! In-process, each worker owns a lane (its own shards, hence its own senders, so nonces stay
//! valid) and a generator. The next batch is generated while the worker would otherwise wait,
//! outside the measured region; the batch is applied on the worker's own thread, so the figure
//! is the engine's throughput with the harness's cost on the same cores, as a deployment would
//! see it.

use crate::load::errors::{ErrorKind, OpOutcome};
use crate::load::shipment::Shipment;
use crate::load::timeline::Timeline;
use crate::load::worker::{precise_sleep, tighten_timer_slack, Next, Shared, WorkerCore};
use crate::targets::carried::Carried;
use crate::targets::inprocess::InProcess;
use crate::targets::mock::Mock;
use anyhow::{Context, Result};
use crossbeam_channel::Sender;
use engine::{Design, Engine, Generator, Lane, Transfer};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

/// Worker threads a plan needs in-process: the most any closed stage asks for, and at least
/// one per core for open stages.
pub fn workers_for(timeline: &Timeline) -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
    timeline
        .max_closed_workers()
        .max(if timeline.has_open() { cores.max(2) } else { 1 })
}

/// Starts one thread per in-process worker.
pub fn spawn_engine(
    t: &InProcess,
    shared: &Arc<Shared>,
    tx: &Sender<Shipment>,
) -> Result<Vec<JoinHandle<()>>> {
    let workers = t.workers();
    (0..workers)
        .map(|id| {
            let core = WorkerCore::new(id, Arc::clone(shared), tx.clone());
            let w = EngineWorker::new(t, id, workers)?;
            std::thread::Builder::new()
                .name(format!("harness-worker-{id}"))
                .spawn(move || w.run(core))
                .context("spawning a worker thread")
        })
        .collect()
}

/// One in-process worker: its lane (single-writer design) and generator.
struct EngineWorker {
    engine: Arc<Engine>,
    lane: Option<Lane>,
    /// Handed back to `carried` when the worker ends.
    gen: Generator,
    batch_size: usize,
    carried: Arc<Carried>,
    id: u32,
    workers: u32,
}

impl EngineWorker {
    fn new(t: &InProcess, id: u32, workers: u32) -> Result<EngineWorker> {
        let engine = Arc::clone(&t.engine);
        let shards = engine.shards_for_worker(id, workers);
        let lane = if engine.design() == Design::Cas {
            None
        } else {
            Some(engine.lane(&shards)?)
        };
        let gen = t.carried.take(id, workers).unwrap_or_else(|| {
            let senders = shards.iter().map(|&s| engine.shard_range(s)).collect();
            let mut gen_cfg = t.gen.clone();
            gen_cfg.seed = t.gen.seed.wrapping_mul(1000).wrapping_add(u64::from(id));
            Generator::new(gen_cfg, senders, t.pool.clone())
        });
        Ok(EngineWorker {
            gen,
            engine,
            lane,
            batch_size: t.batch,
            carried: Arc::clone(&t.carried),
            id,
            workers,
        })
    }

    /// The worker's whole life. Never inlined: `harness run --count-instructions` counts the
    /// instructions executed inside this function (callgrind's `--toggle-collect`), i.e. the
    /// generator and the engine, not the collector's or the sampler's clock-driven threads.
    #[inline(never)]
    fn run(mut self, mut core: WorkerCore) {
        tighten_timer_slack();
        let mut batch = Vec::with_capacity(self.batch_size);
        let mut applied = Vec::new();
        self.gen.fill(&mut batch, self.batch_size);
        loop {
            match core.next(Instant::now()) {
                Next::Stop => break,
                Next::Wait(d) => precise_sleep(d),
                Next::Run { intended, stage } => {
                    let (outcome, done) = self.apply(&batch, &mut applied);
                    core.complete(intended, done, stage, &outcome);
                    // Outside the measured region: the completion is recorded, the next
                    // operation is not due yet.
                    self.reconcile(&batch, &applied, &outcome);
                    self.gen.fill(&mut batch, self.batch_size);
                }
            }
        }
        drop(core);
        // The engine's nonces carry on to the next run on it; so must the generator's. The
        // batch generated for the next operation was never applied: to the engine it is as if
        // rejected whole, and reconciled so.
        let engine = &self.engine;
        self.gen.reconcile(&batch, &[], |a| engine.nonce(a));
        self.carried.put(self.id, self.workers, self.gen);
    }

    /// Applies one batch; returns its outcome and when it completed.
    fn apply(&mut self, batch: &[Transfer], applied: &mut Vec<u64>) -> (OpOutcome, Instant) {
        let o = match self.lane.as_mut() {
            Some(l) => l.submit(batch),
            None => self.engine.submit_into(batch, applied),
        };
        let done = Instant::now();
        let mut outcome = OpOutcome {
            submitted_tx: u64::from(o.submitted),
            committed_tx: u64::from(o.committed),
            failed: false,
            errors: [0; ErrorKind::COUNT],
            template: 0,
            check: 0,
        };
        for (slot, n) in outcome.errors.iter_mut().zip(o.rejected) {
            *slot = n;
        }
        (outcome, done)
    }

    /// When the engine rejected other transfers than the generator meant to be invalid (a
    /// balance ran out), brings the generator's nonces back in line with the engine's.
    fn reconcile(&mut self, batch: &[Transfer], applied: &[u64], outcome: &OpOutcome) {
        let rejected: u64 = outcome.errors.iter().map(|&n| u64::from(n)).sum();
        if rejected as usize != self.gen.invalid_in_last() {
            let bitmap = self.lane.as_ref().map_or(applied, |l| l.last_applied());
            let engine = &self.engine;
            self.gen.reconcile(batch, bitmap, |a| engine.nonce(a));
        }
    }
}

/// Starts one thread per mock worker: each operation sleeps the mock's latency, or until the
/// end of a stall it overlaps.
pub fn spawn_mock(
    m: &Mock,
    shared: &Arc<Shared>,
    tx: &Sender<Shipment>,
) -> Result<Vec<JoinHandle<()>>> {
    (0..m.workers)
        .map(|id| {
            let mut core = WorkerCore::new(id, Arc::clone(shared), tx.clone());
            let latency = m.latency;
            let stall = m
                .stall
                .map(|(at, len)| (shared.start + at, shared.start + at + len));
            std::thread::Builder::new()
                .name(format!("harness-mock-{id}"))
                .spawn(move || {
                    tighten_timer_slack();
                    loop {
                        match core.next(Instant::now()) {
                            Next::Stop => break,
                            Next::Wait(d) => precise_sleep(d),
                            Next::Run { intended, stage } => {
                                let started = Instant::now();
                                let mut until = started + latency;
                                if let Some((from, to)) = stall {
                                    if until > from && started < to {
                                        until = until.max(to);
                                    }
                                }
                                precise_sleep(until.saturating_duration_since(Instant::now()));
                                core.complete(
                                    intended,
                                    Instant::now(),
                                    stage,
                                    &OpOutcome::default(),
                                );
                            }
                        }
                    }
                    drop(core);
                })
                .context("spawning a mock worker")
        })
        .collect()
}
