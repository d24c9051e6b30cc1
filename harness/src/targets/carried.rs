//! Transfer generators that outlive a run, kept by the target they generate for.
//!
//! A generator tracks each sender's next nonce, and the engine keeps the same count. One run
//! starts both at zero; but a capacity search runs many probes on one engine, and a probe that
//! started its workers' generators afresh would send nonces the engine has already seen: every
//! transfer after the first probe was rejected `bad_nonce` (measured: errors 100 % from the
//! second in-process probe on). So a worker hands its generator back to the target when it
//! ends, and the next run's worker of the same index (and the same number of workers, hence
//! the same senders) takes it up where it stopped.

use engine::Generator;
use std::sync::Mutex;

/// Each worker's generator between runs.
#[derive(Default)]
pub struct Carried {
    /// The worker count the slots were filled for, and the slots.
    slots: Mutex<(u32, Vec<Option<Generator>>)>,
}

impl Carried {
    /// Worker `worker` of `workers`'s generator from the last run, if it had the same workers.
    pub fn take(&self, worker: u32, workers: u32) -> Option<Generator> {
        let mut s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if s.0 != workers {
            return None;
        }
        s.1.get_mut(worker as usize).and_then(Option::take)
    }

    /// Keeps worker `worker` of `workers`'s generator for the next run.
    pub fn put(&self, worker: u32, workers: u32, gen: Generator) {
        let mut s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if s.0 != workers {
            *s = (workers, Vec::new());
        }
        if s.1.len() <= worker as usize {
            s.1.resize_with(worker as usize + 1, || None);
        }
        s.1[worker as usize] = Some(gen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::{GenConfig, Transfer};

    fn one_round(gen: &mut Generator) -> Vec<u64> {
        let mut batch: Vec<Transfer> = Vec::new();
        gen.fill(&mut batch, 1_000);
        batch.iter().map(|t| t.nonce).collect()
    }

    #[test]
    fn a_generator_carries_on_where_it_stopped() {
        let fresh = || {
            let senders = std::iter::once(0..1_000).collect();
            Generator::new(GenConfig::uniform(1_000, 7), senders, None)
        };
        let carried = Carried::default();
        let mut gen = fresh();
        assert!(one_round(&mut gen).iter().all(|n| *n == 0));
        carried.put(3, 4, gen);
        assert!(
            carried.take(3, 8).is_none(),
            "other workers own other senders"
        );
        let mut again = carried.take(3, 4).expect("kept for the same worker");
        assert!(carried.take(3, 4).is_none(), "taken once");
        // Every sender sent nonce 0 in the first round: the second carries on at 1.
        assert!(one_round(&mut again).iter().all(|n| *n == 1));
        assert!(one_round(&mut fresh()).iter().all(|n| *n == 0));
    }
}
