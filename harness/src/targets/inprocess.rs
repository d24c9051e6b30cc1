//! The in-process target: an engine built from the scenario's genesis, in this process.
//!
//! It holds what the threads driver (`drivers::threads`) needs to give each worker a
//! lane of its own and a generator: the engine, the generator's settings and the shared zipf
//! pool. Nothing here runs load.

use crate::targets::carried::Carried;
use anyhow::{bail, Context, Result};
use engine::{AccountChoice, Config, Design, Engine, GenConfig, InvalidMix, ZipfPool};
use scenario::{Distribution, EngineDesign, Workload};
use std::sync::Arc;
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
    /// Shared by every worker's generator (`None` for uniform choice).
    pub pool: Option<Arc<ZipfPool>>,
    /// The generator settings every worker's generator starts from.
    pub gen: GenConfig,
    /// Transfers per batch (one operation).
    pub batch: usize,
    workers: u32,
    /// Each worker's generator between runs on this engine (a capacity search's probes).
    pub carried: Arc<Carried>,
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
            prefetch: w.prefetch,
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
            carried: Arc::default(),
        })
    }

    /// Worker threads this target runs.
    pub fn workers(&self) -> u32 {
        self.workers
    }
}

/// The engine's audit as results.json records it.
pub fn audit_result(a: &engine::AuditReport) -> results::AuditResult {
    results::AuditResult {
        ok: a.ok,
        total_supply_expected: a.total_supply_expected,
        total_supply_actual: a.total_supply_actual,
        committed_transfers: a.committed_transfers,
        nonce_advances: a.nonce_advances,
        ledger_height: a.ledger_height,
        ledger_total_tx: a.ledger_total_tx,
        ledger_consistent: a.problems.iter().all(|p| !p.contains("block")),
        rejected_by_reason: engine::RejectReason::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), a.rejected[*r as usize]))
            .collect(),
        problems: a.problems.clone(),
    }
}
