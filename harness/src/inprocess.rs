//! The in-process target: an engine built from the scenario's genesis, driven by worker threads
//! that each own a lane (their own shards, hence their own senders, so nonces stay valid) and a
//! generator. The next batch is generated while the worker would otherwise wait, outside the
//! measured region; the batch is applied on the worker's own thread, so the figure is the
//! engine's throughput with the harness's cost on the same cores, as a deployment would see it.

use crate::worker::{
    precise_sleep, tighten_timer_slack, ErrorKind, Next, OpOutcome, Shared, Shipment, WorkerCore,
};
use anyhow::{bail, Context, Result};
use crossbeam_channel::Sender;
use engine::{AccountChoice, Config, Design, Engine, GenConfig, Generator, InvalidMix, ZipfPool};
use scenario::{Distribution, EngineDesign, Workload};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The engine generator's settings for a scenario's workload, and the zipf pool every worker
/// shares (`None` for uniform choice). Used by every target that generates transfers.
pub fn generator_config(w: &Workload) -> (GenConfig, Option<Arc<ZipfPool>>) {
    let choice = match w.distribution {
        Distribution::Uniform => AccountChoice::Uniform,
        Distribution::Zipf { exponent } => AccountChoice::Zipf { exponent },
    };
    let pool = match choice {
        AccountChoice::Zipf { exponent } => {
            Some(Arc::new(ZipfPool::new(w.accounts, exponent, w.seed)))
        }
        AccountChoice::Uniform => None,
    };
    let i = &w.invalid;
    let gen = GenConfig {
        accounts: w.accounts,
        amount_min: w.amount_min,
        amount_max: w.amount_max,
        choice,
        invalid: InvalidMix {
            bad_nonce: i.bad_nonce,
            unknown_account: i.unknown_account,
            self_transfer: i.self_transfer,
            zero_amount: i.zero_amount,
            insufficient_funds: i.insufficient_funds,
        },
        seed: w.seed,
    };
    (gen, pool)
}

/// An engine plus what every worker's generator shares.
pub struct InProcess {
    pub engine: Arc<Engine>,
    pool: Option<Arc<ZipfPool>>,
    gen: GenConfig,
    batch: usize,
    workers: u32,
    /// How long building the engine (genesis) took.
    pub startup: Duration,
}

impl InProcess {
    /// Builds the engine for `workers` worker threads.
    pub fn new(w: &Workload, workers: u32) -> Result<InProcess> {
        let t0 = Instant::now();
        let shards = w.shards.unwrap_or_else(|| 64.max(workers * 2));
        let engine = Engine::new(Config {
            accounts: w.accounts,
            initial_balance: w.initial_balance,
            design: match w.design {
                EngineDesign::SingleWriter => Design::SingleWriter,
                EngineDesign::Cas => Design::Cas,
            },
            shards,
            synthetic_cost: w.synthetic_cost,
        })
        .context("building the in-process engine from the scenario's genesis")?;
        if engine.shards() < workers {
            bail!(
                "the engine has {} shards but the scenario needs {workers} workers, each owning at least one; raise workload.shards",
                engine.shards()
            );
        }
        let (gen, pool) = generator_config(w);
        let engine = Arc::new(engine);
        Ok(InProcess {
            startup: t0.elapsed(),
            engine,
            pool,
            gen,
            batch: w.batch_size as usize,
            workers,
        })
    }

    /// Worker threads this target runs.
    pub fn workers(&self) -> u32 {
        self.workers
    }

    /// Starts every worker thread.
    pub fn spawn(
        &self,
        shared: &Arc<Shared>,
        tx: &Sender<Shipment>,
    ) -> Result<Vec<JoinHandle<()>>> {
        (0..self.workers)
            .map(|id| {
                let engine = Arc::clone(&self.engine);
                let mut core = WorkerCore::new(id, Arc::clone(shared), tx.clone());
                let cas = engine.design() == Design::Cas;
                let shards = engine.shards_for_worker(id, self.workers);
                let mut lane = if cas {
                    None
                } else {
                    Some(engine.lane(&shards)?)
                };
                let senders = shards.iter().map(|&s| engine.shard_range(s)).collect();
                let mut gen_cfg = self.gen.clone();
                gen_cfg.seed = self.gen.seed.wrapping_mul(1000).wrapping_add(u64::from(id));
                let mut gen = Generator::new(gen_cfg, senders, self.pool.clone());
                let batch_size = self.batch;
                std::thread::Builder::new()
                    .name(format!("harness-worker-{id}"))
                    .spawn(move || {
                        tighten_timer_slack();
                        let mut batch = Vec::with_capacity(batch_size);
                        let mut applied = Vec::new();
                        gen.fill(&mut batch, batch_size);
                        loop {
                            match core.next(Instant::now()) {
                                Next::Stop => break,
                                Next::Wait(d) => precise_sleep(d),
                                Next::Run { intended, stage } => {
                                    let o = match lane.as_mut() {
                                        Some(l) => l.submit(&batch),
                                        None => engine.submit_into(&batch, &mut applied),
                                    };
                                    let done = Instant::now();
                                    let mut outcome = OpOutcome {
                                        submitted_tx: u64::from(o.submitted),
                                        committed_tx: u64::from(o.committed),
                                        failed: false,
                                        errors: [0; ErrorKind::COUNT],
                                    };
                                    for (slot, n) in outcome.errors.iter_mut().zip(o.rejected) {
                                        *slot = n;
                                    }
                                    core.complete(intended, done, stage, &outcome);
                                    if o.rejected_total() as usize != gen.invalid_in_last() {
                                        let bitmap = lane
                                            .as_ref()
                                            .map_or(&applied[..], |l| l.last_applied());
                                        gen.reconcile(&batch, bitmap, |a| engine.nonce(a));
                                    }
                                    gen.fill(&mut batch, batch_size);
                                }
                            }
                        }
                        core.finish();
                    })
                    .context("spawning a worker thread")
            })
            .collect()
    }
}
