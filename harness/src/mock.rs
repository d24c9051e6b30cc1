//! A mock target whose latency is known exactly: every operation takes `latency`, and an
//! optional stall makes every operation that is in flight or starts during
//! `[stall_at, stall_at + stall_for)` finish at the stall's end. Used to prove the harness
//! measures what it claims (percentiles, coordinated omission, schedules).

use crate::worker::{
    precise_sleep, tighten_timer_slack, Next, OpOutcome, Shared, Shipment, WorkerCore,
};
use anyhow::{Context, Result};
use crossbeam_channel::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq)]
pub struct Mock {
    pub latency: Duration,
    /// Offset from the run's start, and length, of a single stall.
    pub stall: Option<(Duration, Duration)>,
    pub workers: u32,
}

impl Mock {
    pub fn spawn(
        &self,
        shared: &Arc<Shared>,
        tx: &Sender<Shipment>,
    ) -> Result<Vec<JoinHandle<()>>> {
        (0..self.workers)
            .map(|id| {
                let mut core = WorkerCore::new(id, Arc::clone(shared), tx.clone());
                let latency = self.latency;
                let stall = self
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
                        core.finish();
                    })
                    .context("spawning a mock worker")
            })
            .collect()
    }
}
