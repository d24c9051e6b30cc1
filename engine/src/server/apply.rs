//! How a request's batch reaches the engine, per design.
//!
//! - **CAS**: the request handler applies the batch inline with [`Engine::submit_into`]. A
//!   1024-transfer batch takes tens of microseconds, less than a thread hand-off round trip, so
//!   no extra thread is involved. The decode buffer and applied-bitmap are thread-local and
//!   reused, so a binary batch allocates nothing beyond its body.
//! - **Single writer**: `appliers` OS threads each own a [`crate::Lane`] over every
//!   `appliers`-th shard. A handler splits its batch by sender shard, sends each sub-batch to
//!   its owner through a bounded crossbeam channel and awaits the answers on tokio oneshots.
//!   A request first reserves one of `max_inflight` router slots (released when its last job is
//!   applied, even if the client went away meanwhile) and sends at most one job per applier, so
//!   with queues of `max_inflight` jobs a send can never find a queue full: backpressure is a
//!   503 for the whole request, never a half-submitted batch.

use crate::server::ServeOptions;
use crate::{BatchOutcome, Design, Engine, EngineError, RejectReason, Transfer};
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Per-transfer results, in the batch's order.
pub(crate) type Results = Vec<Result<(), RejectReason>>;

/// Batches above this many transfers do not keep their thread-local buffer afterwards, so one
/// huge request does not pin tens of megabytes per worker thread for ever.
const KEEP_BUFFER: usize = 1 << 16;

thread_local! {
    static BUFFERS: RefCell<(Vec<Transfer>, Vec<u64>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// The applier for one server: inline CAS or the single-writer router.
pub(crate) enum Applier {
    Cas(Arc<Engine>),
    SingleWriter(Router),
}

/// The single-writer applier threads could not be started or vanished.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("claiming shards for applier thread {applier}: {source}")]
    Lane {
        applier: usize,
        #[source]
        source: EngineError,
    },
    #[error("spawning applier thread {applier}: {source}")]
    Spawn {
        applier: usize,
        #[source]
        source: std::io::Error,
    },
    #[error("applier thread {0} is gone")]
    Gone(usize),
    #[error("all {0} single-writer router slots are taken")]
    Overloaded(usize),
}

impl Applier {
    pub(crate) fn start(engine: &Arc<Engine>, opts: &ServeOptions) -> Result<Applier, ApplyError> {
        Ok(match engine.design() {
            Design::Cas => Applier::Cas(Arc::clone(engine)),
            Design::SingleWriter => Applier::SingleWriter(Router::start(
                engine,
                opts.appliers.max(1),
                opts.max_inflight.max(1),
            )?),
        })
    }

    /// Number of applier threads (single-writer design only).
    pub(crate) fn appliers(&self) -> Option<usize> {
        match self {
            Applier::Cas(_) => None,
            Applier::SingleWriter(r) => Some(r.queues.len()),
        }
    }

    /// Decodes and applies a binary batch (whole records, checked by the caller).
    pub(crate) async fn submit_binary(&self, bytes: &[u8]) -> Result<BatchOutcome, ApplyError> {
        match self {
            Applier::Cas(engine) => Ok(BUFFERS.with_borrow_mut(|(batch, applied)| {
                // The caller checked the length is a whole number of records.
                let _ = crate::decode_batch_into(bytes, batch);
                let outcome = engine.submit_into(batch, applied);
                if batch.len() > KEEP_BUFFER {
                    *batch = Vec::new();
                    *applied = Vec::new();
                }
                outcome
            })),
            Applier::SingleWriter(router) => {
                let batch = crate::decode_batch(bytes).unwrap_or_default();
                router.submit(batch, false).await.map(|(o, _)| o)
            }
        }
    }

    /// Applies a decoded batch; with `detail`, also returns each transfer's result.
    pub(crate) async fn submit(
        &self,
        batch: Vec<Transfer>,
        detail: bool,
    ) -> Result<(BatchOutcome, Results), ApplyError> {
        match self {
            Applier::Cas(engine) if detail => Ok(engine.submit_detailed(&batch)),
            Applier::Cas(engine) => Ok((engine.submit(&batch), Vec::new())),
            Applier::SingleWriter(router) => router.submit(batch, detail).await,
        }
    }
}

struct Job {
    batch: Vec<Transfer>,
    detail: bool,
    reply: oneshot::Sender<(BatchOutcome, Results)>,
    _slot: Arc<Slot>,
}

/// A request's reservation of router capacity, freed when its last job is dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Hands sub-batches to the applier threads that own their senders' shards.
pub(crate) struct Router {
    engine: Arc<Engine>,
    queues: Vec<crossbeam_channel::Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
    reserved: Arc<AtomicUsize>,
    depth: usize,
}

impl Router {
    fn start(engine: &Arc<Engine>, appliers: usize, depth: usize) -> Result<Router, ApplyError> {
        let appliers = appliers.min(engine.shards() as usize).max(1);
        let mut router = Router {
            engine: Arc::clone(engine),
            queues: Vec::with_capacity(appliers),
            threads: Vec::with_capacity(appliers),
            reserved: Arc::new(AtomicUsize::new(0)),
            depth,
        };
        for applier in 0..appliers {
            let shards = engine.shards_for_worker(applier as u32, appliers as u32);
            let mut lane = engine
                .lane(&shards)
                .map_err(|source| ApplyError::Lane { applier, source })?;
            let (tx, rx) = crossbeam_channel::bounded::<Job>(depth);
            let thread = std::thread::Builder::new()
                .name(format!("engine-apply-{applier}"))
                .spawn(move || {
                    // Ends when the router drops its senders.
                    for job in rx {
                        let answer = if job.detail {
                            lane.submit_detailed(&job.batch)
                        } else {
                            (lane.submit(&job.batch), Vec::new())
                        };
                        // The requester may have gone away (client disconnect): nothing to do.
                        let _ = job.reply.send(answer);
                    }
                })
                .map_err(|source| ApplyError::Spawn { applier, source })?;
            router.queues.push(tx);
            router.threads.push(thread);
        }
        Ok(router)
    }

    /// The applier owning `t`'s sender. Unknown senders go to applier 0, which rejects them
    /// as unknown accounts (that check comes before the ownership check).
    fn owner(&self, t: &Transfer) -> usize {
        if t.from < self.engine.accounts() {
            self.engine.shard_of(t.from) as usize % self.queues.len()
        } else {
            0
        }
    }

    async fn submit(
        &self,
        batch: Vec<Transfer>,
        detail: bool,
    ) -> Result<(BatchOutcome, Results), ApplyError> {
        if batch.is_empty() {
            return Ok(Default::default());
        }
        if self.reserved.fetch_add(1, Ordering::AcqRel) >= self.depth {
            self.reserved.fetch_sub(1, Ordering::AcqRel);
            return Err(ApplyError::Overloaded(self.depth));
        }
        let slot = Arc::new(Slot(Arc::clone(&self.reserved)));
        let n = self.queues.len();
        let first = self.owner(&batch[0]);
        if batch.iter().all(|t| self.owner(t) == first) {
            let rx = self.send(first, batch, detail, slot)?;
            return rx.await.map_err(|_| ApplyError::Gone(first));
        }
        let mut parts: Vec<Vec<Transfer>> = (0..n)
            .map(|_| Vec::with_capacity(batch.len() / n + 1))
            .collect();
        // Original positions, to put per-transfer results back in order.
        let mut positions: Vec<Vec<u32>> = vec![Vec::new(); if detail { n } else { 0 }];
        for (i, t) in batch.iter().enumerate() {
            let o = self.owner(t);
            parts[o].push(*t);
            if detail {
                positions[o].push(i as u32);
            }
        }
        let mut pending = Vec::with_capacity(n);
        for (o, part) in parts.into_iter().enumerate() {
            if !part.is_empty() {
                pending.push((o, self.send(o, part, detail, Arc::clone(&slot))?));
            }
        }
        drop(slot);
        let mut total = BatchOutcome::default();
        let mut results: Results = if detail {
            vec![Ok(()); batch.len()]
        } else {
            Vec::new()
        };
        for (o, rx) in pending {
            let (outcome, part_results) = rx.await.map_err(|_| ApplyError::Gone(o))?;
            merge(&mut total, &outcome);
            if detail {
                for (&pos, r) in positions[o].iter().zip(part_results) {
                    results[pos as usize] = r;
                }
            }
        }
        Ok((total, results))
    }

    fn send(
        &self,
        applier: usize,
        batch: Vec<Transfer>,
        detail: bool,
        slot: Arc<Slot>,
    ) -> Result<oneshot::Receiver<(BatchOutcome, Results)>, ApplyError> {
        let (reply, rx) = oneshot::channel();
        // Never full thanks to the slot reservation (module docs); a failure means the thread
        // has exited.
        self.queues[applier]
            .try_send(Job {
                batch,
                detail,
                reply,
                _slot: slot,
            })
            .map_err(|_| ApplyError::Gone(applier))?;
        Ok(rx)
    }
}

fn merge(total: &mut BatchOutcome, part: &BatchOutcome) {
    total.submitted += part.submitted;
    total.committed += part.committed;
    for (t, p) in total.rejected.iter_mut().zip(&part.rejected) {
        *t += p;
    }
    total.block = total.block.max(part.block);
}

impl Drop for Router {
    fn drop(&mut self) {
        // Closing the queues ends the applier loops; each finishes the job it has.
        self.queues.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
