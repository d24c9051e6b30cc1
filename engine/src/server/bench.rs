//! `engine bench`: drives the engine in-process from a few threads for a few seconds and
//! reports committed transfers per second and the audit. A quick sanity check of the engine's
//! speed on this machine, not a substitute for the harness.

use crate::server::BenchArgs;
use crate::{Config, Design, Engine, GenConfig, Generator};
use anyhow::Context as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a bench run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    pub design: &'static str,
    pub threads: u32,
    pub batch: usize,
    pub seconds: f64,
    pub committed: u64,
    pub rejected: u64,
    pub committed_per_s: f64,
    pub audit_ok: bool,
    pub audit_problems: Vec<String>,
}

/// Runs the benchmark described by `args`.
pub fn bench(args: &BenchArgs) -> anyhow::Result<BenchReport> {
    let design: Design = args.design.into();
    let threads = args.threads.max(1);
    let engine = Arc::new(
        Engine::new(Config {
            accounts: args.accounts,
            design,
            ..Config::default()
        })
        .context("building the engine")?,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut handles = Vec::new();
    for worker in 0..threads {
        let (engine, stop) = (Arc::clone(&engine), Arc::clone(&stop));
        let batch = args.batch.max(1);
        let seed = u64::from(worker) + 1;
        // Claim lanes (or sender ranges) before spawning so an error surfaces here.
        let mut lane = match design {
            Design::SingleWriter => Some(
                engine
                    .lane(&engine.shards_for_worker(worker, threads))
                    .context("claiming shards")?,
            ),
            Design::Cas => None,
        };
        let senders = match &lane {
            Some(lane) => lane.sender_ranges(),
            None => {
                let per = engine.accounts() / u64::from(threads);
                let lo = per * u64::from(worker);
                let hi = if worker + 1 == threads {
                    engine.accounts()
                } else {
                    lo + per
                };
                std::iter::once(lo..hi).collect()
            }
        };
        anyhow::ensure!(
            senders.iter().any(|r| !r.is_empty()),
            "thread {worker} owns no accounts: use fewer threads or more accounts"
        );
        handles.push(std::thread::spawn(move || {
            let mut gen =
                Generator::new(GenConfig::uniform(engine.accounts(), seed), senders, None);
            let mut txs = Vec::with_capacity(batch);
            while !stop.load(Ordering::Relaxed) {
                gen.fill(&mut txs, batch);
                match lane.as_mut() {
                    Some(lane) => lane.submit(&txs),
                    None => engine.submit(&txs),
                };
            }
        }));
    }
    std::thread::sleep(Duration::from_secs(args.seconds));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join()
            .map_err(|_| anyhow::anyhow!("a bench thread panicked"))?;
    }
    let seconds = start.elapsed().as_secs_f64();
    let stats = engine.stats();
    let audit = engine.audit();
    Ok(BenchReport {
        design: design.as_str(),
        threads,
        batch: args.batch,
        seconds,
        committed: stats.committed,
        rejected: stats.rejected_total(),
        committed_per_s: stats.committed as f64 / seconds,
        audit_ok: audit.ok,
        audit_problems: audit.problems,
    })
}
