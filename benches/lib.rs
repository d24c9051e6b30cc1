//! Shared benchmark rig: drives an engine with T threads, each owning its senders (input split
//! by sender, as the harness does), generating transfers in untimed chunks and timing only the
//! apply of each chunk. Used by `benches/engine.rs`.

use engine::{AccountChoice, Config, Design, Engine, GenConfig, Generator, ZipfPool};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Transfers generated per thread before each timed chunk.
const CHUNK_TX: usize = 1 << 16;

/// One engine plus per-thread generators whose nonces persist across timed calls.
pub struct Rig {
    pub engine: Arc<Engine>,
    gens: Vec<Generator>,
    batch: usize,
}

impl Rig {
    /// `threads` generators over disjoint sender sets of a fresh engine.
    pub fn new(
        design: Design,
        accounts: u64,
        threads: usize,
        batch: usize,
        choice: AccountChoice,
    ) -> Rig {
        let engine = Arc::new(
            Engine::new(Config {
                accounts,
                initial_balance: 1_000_000_000,
                design,
                shards: 64,
                synthetic_cost: 0,
                prefetch: true,
            })
            .expect("valid genesis"),
        );
        let pool = match choice {
            AccountChoice::Zipf { exponent } => {
                Some(Arc::new(ZipfPool::new(accounts, exponent, 9)))
            }
            AccountChoice::Uniform => None,
        };
        let gens = (0..threads)
            .map(|t| {
                let senders = engine
                    .shards_for_worker(t as u32, threads as u32)
                    .into_iter()
                    .map(|s| engine.shard_range(s))
                    .collect();
                let cfg = GenConfig {
                    choice: choice.clone(),
                    ..GenConfig::uniform(accounts, 100 + t as u64)
                };
                Generator::new(cfg, senders, pool.clone())
            })
            .collect();
        Rig {
            engine,
            gens,
            batch,
        }
    }

    /// Applies `batches` batches on every thread; returns the wall time spent applying (the
    /// slowest thread bounds each chunk). Panics if any transfer fails to commit: the figure is
    /// committed transfers per second, nothing else.
    pub fn run(&mut self, batches: u64) -> Duration {
        let threads = self.gens.len();
        let barrier = Barrier::new(threads);
        let per_chunk = (CHUNK_TX / self.batch).max(1) as u64;
        let engine = &self.engine;
        let batch = self.batch;
        let results: Vec<(Duration, u64)> = std::thread::scope(|s| {
            let handles: Vec<_> = self
                .gens
                .iter_mut()
                .enumerate()
                .map(|(t, gen)| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        let mut lane = match engine.design() {
                            Design::SingleWriter => Some(
                                engine
                                    .lane(&engine.shards_for_worker(t as u32, threads as u32))
                                    .expect("disjoint shards"),
                            ),
                            Design::Cas => None,
                        };
                        let mut bufs: Vec<Vec<engine::Transfer>> = Vec::new();
                        let (mut elapsed, mut committed, mut left) =
                            (Duration::ZERO, 0u64, batches);
                        while left > 0 {
                            let n = left.min(per_chunk) as usize;
                            bufs.resize_with(n, Vec::new);
                            for b in bufs.iter_mut().take(n) {
                                gen.fill(b, batch);
                            }
                            barrier.wait();
                            let t0 = Instant::now();
                            for b in bufs.iter().take(n) {
                                committed += u64::from(match lane.as_mut() {
                                    Some(l) => l.submit(b).committed,
                                    None => engine.submit(b).committed,
                                });
                            }
                            barrier.wait();
                            elapsed += t0.elapsed();
                            left -= n as u64;
                        }
                        (elapsed, committed)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("bench thread"))
                .collect()
        });
        let committed: u64 = results.iter().map(|r| r.1).sum();
        assert_eq!(
            committed,
            batches * (threads * batch) as u64,
            "every generated transfer must commit"
        );
        results[0].0
    }

    /// Transfers applied per `run(1)` call across all threads.
    pub fn tx_per_iteration(&self) -> u64 {
        (self.gens.len() * self.batch) as u64
    }
}
