//! The hash-chained ledger of committed batches.
//!
//! Every batch that commits at least one transfer appends a [`Block`]: its height, how many
//! transfers it committed, the running total, the previous block's hash and a digest of the
//! batch (its records and which of them were applied, hashed in one call). The block's own hash
//! covers all of that, so the chain proves what was committed and in what order.
//!
//! Appending is lock-free: the head is an epoch-managed pointer swapped with compare-and-swap;
//! a loser recomputes its (small) block hash on the new head and retries. Only a bounded window
//! of recent blocks is kept in memory (a lock-free ring), so a 30-minute run does not grow
//! without bound; the audit verifies that window links up to the head and that the head's
//! running total equals the committed count.

use crossbeam_epoch::{self as epoch, Atomic, Owned};
use crossbeam_queue::ArrayQueue;
use std::sync::atomic::Ordering;

/// A 32-byte blake3 hash.
pub type Hash = [u8; 32];

/// One committed batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    pub height: u64,
    /// Transfers committed by this batch.
    pub tx_count: u64,
    /// Transfers committed by this block and every block before it.
    pub total_tx: u64,
    pub prev_hash: Hash,
    /// blake3 of the batch's records followed by its applied-bitmap.
    pub digest: Hash,
    pub hash: Hash,
}

impl Block {
    /// The genesis block: height 0, no transfers, all-zero previous hash.
    pub fn genesis(accounts: u64, initial_balance: u64) -> Block {
        let mut h = blake3::Hasher::new();
        h.update(b"txengine-genesis-v1");
        h.update(&accounts.to_le_bytes());
        h.update(&initial_balance.to_le_bytes());
        let digest = *h.finalize().as_bytes();
        Block::new(0, 0, 0, [0; 32], digest)
    }

    fn new(height: u64, tx_count: u64, total_tx: u64, prev_hash: Hash, digest: Hash) -> Block {
        let mut b = Block {
            height,
            tx_count,
            total_tx,
            prev_hash,
            digest,
            hash: [0; 32],
        };
        b.hash = b.compute_hash();
        b
    }

    /// Recomputes this block's hash from its fields.
    pub fn compute_hash(&self) -> Hash {
        let mut h = blake3::Hasher::new();
        h.update(&self.height.to_le_bytes());
        h.update(&self.tx_count.to_le_bytes());
        h.update(&self.total_tx.to_le_bytes());
        h.update(&self.prev_hash);
        h.update(&self.digest);
        *h.finalize().as_bytes()
    }

    fn next(prev: &Block, tx_count: u64, digest: Hash) -> Block {
        Block::new(
            prev.height + 1,
            tx_count,
            prev.total_tx + tx_count,
            prev.hash,
            digest,
        )
    }
}

/// Result of checking the retained part of the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainCheck {
    pub head: Block,
    /// How many blocks (ending at the head) were verified link by link.
    pub verified_blocks: u64,
    pub problems: Vec<String>,
}

/// The ledger: a lock-free head plus a bounded window of recent blocks.
pub struct Ledger {
    head: Atomic<Block>,
    recent: ArrayQueue<Block>,
    /// Serializes checks (never taken by `append`): a check drains the window and puts it back,
    /// so two at once would each see only part of it. Found when three harness segments audited
    /// one server at the same moment ("only 729 contiguous blocks").
    checking: std::sync::Mutex<()>,
}

impl Ledger {
    /// Blocks kept for the audit's link-by-link check.
    pub const RETAINED: usize = 4096;

    pub fn new(genesis: Block) -> Ledger {
        let recent = ArrayQueue::new(Self::RETAINED);
        let _ = recent.push(genesis);
        Ledger {
            head: Atomic::new(genesis),
            recent,
            checking: std::sync::Mutex::new(()),
        }
    }

    /// Appends a block for a batch that committed `tx_count` transfers with `digest`.
    pub fn append(&self, tx_count: u64, digest: Hash) -> Block {
        let guard = epoch::pin();
        let mut current = self.head.load(Ordering::Acquire, &guard);
        // SAFETY: the head is never null (created with the genesis block, only ever replaced by
        // another non-null block) and the guard keeps the block it points to alive.
        let mut owned = Owned::new(Block::next(unsafe { current.deref() }, tx_count, digest));
        loop {
            match self.head.compare_exchange(
                current,
                owned,
                Ordering::AcqRel,
                Ordering::Acquire,
                &guard,
            ) {
                Ok(new) => {
                    // SAFETY: `current` was unlinked by this CAS; readers still holding it are
                    // protected by their epoch guards, and it is destroyed only after them.
                    unsafe { guard.defer_destroy(current) };
                    // SAFETY: `new` is the block we just published and the guard is alive.
                    let block = unsafe { *new.deref() };
                    let _ = self.recent.force_push(block);
                    return block;
                }
                Err(e) => {
                    current = e.current;
                    owned = e.new;
                    // SAFETY: as above, a non-null head protected by the guard.
                    *owned = Block::next(unsafe { current.deref() }, tx_count, digest);
                }
            }
        }
    }

    /// The current head block.
    pub fn head(&self) -> Block {
        let guard = epoch::pin();
        // SAFETY: never null; protected by the guard.
        unsafe { *self.head.load(Ordering::Acquire, &guard).deref() }
    }

    /// Verifies the retained window: every block's hash, and each link (height and previous
    /// hash) from the oldest contiguous retained block up to the head. Meant for a quiescent
    /// engine (no appends in flight): blocks appended during the check may be reported.
    pub fn check(&self) -> ChainCheck {
        // A poisoned lock only means another check panicked; the window is still whole.
        let _one_at_a_time = self
            .checking
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let head = self.head();
        let mut blocks = Vec::with_capacity(Self::RETAINED);
        while let Some(b) = self.recent.pop() {
            blocks.push(b);
        }
        for b in &blocks {
            let _ = self.recent.force_push(*b);
        }
        blocks.sort_by_key(|b| b.height);
        blocks.dedup_by_key(|b| b.height);

        let mut problems = Vec::new();
        for b in &blocks {
            if b.compute_hash() != b.hash {
                problems.push(format!(
                    "block {} hash does not match its contents",
                    b.height
                ));
            }
        }
        match blocks.last() {
            Some(last) if *last == head => {}
            _ => problems.push("head block is not in the retained window".to_string()),
        }
        // Walk back from the head while heights are contiguous.
        let mut verified = 1u64;
        for pair in blocks.windows(2).rev() {
            let (prev, next) = (&pair[0], &pair[1]);
            if next.height != prev.height + 1 {
                break;
            }
            if next.prev_hash != prev.hash {
                problems.push(format!(
                    "block {} does not link to block {}",
                    next.height, prev.height
                ));
            }
            if next.total_tx != prev.total_tx + next.tx_count {
                problems.push(format!(
                    "block {} running total {} != {} + {}",
                    next.height, next.total_tx, prev.total_tx, next.tx_count
                ));
            }
            verified += 1;
        }
        let expected_window = (head.height + 1).min(Self::RETAINED as u64 / 2);
        if verified < expected_window {
            problems.push(format!(
                "only {verified} contiguous blocks end at the head; expected at least {expected_window}"
            ));
        }
        ChainCheck {
            head,
            verified_blocks: verified,
            problems,
        }
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        // SAFETY: `&mut self` means no other thread can reach the head any more.
        unsafe {
            let guard = epoch::unprotected();
            let head = self.head.load(Ordering::Relaxed, guard);
            if !head.is_null() {
                drop(head.into_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_links_and_totals() {
        let l = Ledger::new(Block::genesis(10, 100));
        let a = l.append(3, [1; 32]);
        let b = l.append(5, [2; 32]);
        assert_eq!((a.height, a.total_tx), (1, 3));
        assert_eq!((b.height, b.total_tx, b.prev_hash), (2, 8, a.hash));
        let c = l.check();
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.verified_blocks, 3);
        assert_eq!(c.head, b);
    }

    #[test]
    fn concurrent_checks_each_see_the_whole_window() {
        let l = Ledger::new(Block::genesis(10, 100));
        for _ in 0..Ledger::RETAINED {
            l.append(1, [3; 32]);
        }
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..50 {
                        let c = l.check();
                        assert!(c.problems.is_empty(), "{:?}", c.problems);
                    }
                });
            }
        });
    }

    #[test]
    fn concurrent_appends_form_one_chain() {
        let l = Ledger::new(Block::genesis(10, 100));
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        l.append(2, [7; 32]);
                    }
                });
            }
        });
        let c = l.check();
        assert_eq!(c.head.height, 4000);
        assert_eq!(c.head.total_tx, 8000);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert!(c.verified_blocks >= (Ledger::RETAINED / 2) as u64);
    }

    #[test]
    fn a_tampered_block_is_reported() {
        let l = Ledger::new(Block::genesis(10, 100));
        l.append(1, [1; 32]);
        let mut b = l.recent.pop().unwrap();
        let rest: Vec<_> = std::iter::from_fn(|| l.recent.pop()).collect();
        b.tx_count = 99;
        let _ = l.recent.push(b);
        for r in rest {
            let _ = l.recent.push(r);
        }
        assert!(!l.check().problems.is_empty());
    }
}
