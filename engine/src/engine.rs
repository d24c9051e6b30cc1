//! The engine: validates and applies batches of transfers with no lock on the hot path.
//!
//! # Two designs, one table
//! Both designs share the account table and the apply loop; they differ only in how a thread
//! earns the right to debit a sender:
//!
//! - **Single writer** ([`Design::SingleWriter`], the default). Accounts are split into shards
//!   of contiguous ids. A [`Lane`] owns a set of shards for its lifetime (claimed once, not per
//!   transfer) and is the only writer of those senders' nonces and the only debitor of their
//!   balances. A debit is therefore a check then one `fetch_sub`, and the nonce a plain store.
//!   Credits to any account are a commutative `fetch_add`, so cross-shard transfers need no
//!   message: a hand-off per transfer costs about as much as the transfer itself (FACTS.md).
//! - **CAS** ([`Design::Cas`]). Any thread may submit any batch via [`Engine::submit`]. A
//!   sender is claimed per transfer by compare-and-swapping its nonce word from `nonce << 1` to
//!   `nonce << 1 | 1`; the claim fails, and the transfer is rejected as a bad nonce, if the nonce
//!   is wrong or another thread is applying a transfer of the same sender at that instant (no
//!   thread ever waits). The debit and nonce advance are then exclusive, as above.
//!
//! The criterion benches compare the two (`cargo bench -- apply`); the single-writer design
//! wins when input is already split by sender (one locked instruction less per transfer), which
//! is how the harness drives it: each worker owns its senders anyway, to keep nonces valid.
//!
//! # Ledger
//! After applying a batch, the thread hashes the batch's records and applied-bitmap in one call
//! and appends a block to the lock-free [`Ledger`]. Hashing per batch, not per transfer, is what
//! keeps the ledger off the critical path.
//!
//! # Supply cannot overflow
//! Genesis refuses a total supply above `u64::MAX`. Since transfers conserve supply, no balance
//! can ever exceed it, so credits never wrap; an amount larger than the sender's balance (for
//! instance one near `u64::MAX`) is simply rejected as insufficient funds.

use crate::accounts::Accounts;
use crate::ledger::{Block, ChainCheck, Hash, Ledger};
use crate::tx::{batch_bytes, RejectReason, Transfer};
use crossbeam_utils::CachePadded;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Which lock-free design applies transfers. See the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Design {
    #[default]
    SingleWriter,
    Cas,
}

impl Design {
    pub fn as_str(self) -> &'static str {
        match self {
            Design::SingleWriter => "single-writer",
            Design::Cas => "cas",
        }
    }
}

/// Genesis and tuning settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Number of accounts (ids `0..accounts`).
    pub accounts: u64,
    /// Every account's balance at genesis.
    pub initial_balance: u64,
    pub design: Design,
    /// Requested number of shards (single-writer design). The engine rounds the shard size up to
    /// a power of two, so the actual count ([`Engine::shards`]) may be a little lower.
    pub shards: u32,
    /// A synthetic cost added to every committed transfer, in units of [`synthetic_work`]: one
    /// dependent add each, an instruction and a cycle, so an instruction count and a clock see
    /// it alike. Zero in real use; the regression gate's dial (`baselines/README.md` gives the
    /// units per percent of today's cost).
    pub synthetic_cost: u32,
    /// Prefetch accounts a few transfers ahead (the default). Off, the same instructions wait
    /// for memory: the slowdown an instruction count cannot see and the time metrics must.
    pub prefetch: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            accounts: 1_000_000,
            initial_balance: 1_000_000_000,
            design: Design::SingleWriter,
            shards: 64,
            synthetic_cost: 0,
            prefetch: true,
        }
    }
}

/// Errors building an engine or claiming shards.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("an engine needs at least 2 accounts, got {0}")]
    TooFewAccounts(u64),
    #[error("{accounts} accounts do not fit in this machine's address space")]
    TooManyAccounts { accounts: u64 },
    #[error("total supply {accounts} x {initial_balance} exceeds u64::MAX; lower the account count or the initial balance")]
    SupplyOverflow { accounts: u64, initial_balance: u64 },
    #[error("shards must be at least 1")]
    NoShards,
    #[error("shard {shard} does not exist (the engine has {shards} shards)")]
    NoSuchShard { shard: u32, shards: u32 },
    #[error("shard {0} is already owned by another lane")]
    ShardTaken(u32),
    #[error("lanes exist only in the single-writer design; this engine uses {0:?}")]
    WrongDesign(Design),
}

/// What happened to one batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub submitted: u32,
    pub committed: u32,
    /// Rejections indexed by `RejectReason as usize`.
    pub rejected: [u32; RejectReason::COUNT],
    /// Height of the block this batch committed as, if it committed anything.
    pub block: Option<u64>,
}

impl BatchOutcome {
    /// All rejections.
    pub fn rejected_total(&self) -> u32 {
        self.rejected.iter().sum()
    }
    /// Rejections of one kind.
    pub fn rejected(&self, reason: RejectReason) -> u32 {
        self.rejected[reason as usize]
    }
}

/// A snapshot of the engine's counters, readable at any time without stopping it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub accounts: u64,
    pub submitted: u64,
    pub committed: u64,
    pub rejected: [u64; RejectReason::COUNT],
    pub batches: u64,
    pub head_height: u64,
}

impl Stats {
    pub fn rejected_total(&self) -> u64 {
        self.rejected.iter().sum()
    }
    /// `(reason name, count)` for every reason.
    pub fn rejected_by_reason(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        RejectReason::ALL
            .iter()
            .map(move |r| (r.as_str(), self.rejected[*r as usize]))
    }
}

/// The invariants checked by [`Engine::audit`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditReport {
    /// True when every check below passed.
    pub ok: bool,
    pub accounts: u64,
    pub total_supply_expected: u128,
    pub total_supply_actual: u128,
    /// Committed transfers as counted by the engine.
    pub committed_transfers: u64,
    /// Sum over all accounts of nonce advances since genesis.
    pub nonce_advances: u64,
    pub submitted: u64,
    pub rejected: [u64; RejectReason::COUNT],
    /// Senders whose CAS claim was still held (must be 0 when quiescent).
    pub busy_senders: u64,
    pub ledger_height: u64,
    /// Running total of committed transfers recorded in the head block.
    pub ledger_total_tx: u64,
    pub ledger_verified_blocks: u64,
    pub head_hash: Hash,
    pub problems: Vec<String>,
}

impl AuditReport {
    /// The head hash as lowercase hex.
    pub fn head_hash_hex(&self) -> String {
        self.head_hash.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[derive(Default)]
struct Counters {
    submitted: CachePadded<AtomicU64>,
    committed: CachePadded<AtomicU64>,
    batches: CachePadded<AtomicU64>,
    rejected: [CachePadded<AtomicU64>; RejectReason::COUNT],
}

/// The transaction engine. Share it with `Arc`; every method takes `&self`.
pub struct Engine {
    config: Config,
    accounts: Accounts,
    shard_shift: u32,
    shard_owned: Box<[AtomicBool]>,
    ledger: Ledger,
    counters: Counters,
}

impl Engine {
    /// Creates an engine from a deterministic genesis.
    pub fn new(config: Config) -> Result<Engine, EngineError> {
        if config.accounts < 2 {
            return Err(EngineError::TooFewAccounts(config.accounts));
        }
        let len = usize::try_from(config.accounts)
            .ok()
            .filter(|n| n.checked_mul(16).is_some())
            .ok_or(EngineError::TooManyAccounts {
                accounts: config.accounts,
            })?;
        if config
            .accounts
            .checked_mul(config.initial_balance)
            .is_none()
        {
            return Err(EngineError::SupplyOverflow {
                accounts: config.accounts,
                initial_balance: config.initial_balance,
            });
        }
        if config.shards == 0 {
            return Err(EngineError::NoShards);
        }
        let per_shard = config.accounts.div_ceil(u64::from(config.shards)).max(1);
        let shard_shift = per_shard.next_power_of_two().trailing_zeros();
        let shards = config.accounts.div_ceil(1u64 << shard_shift) as usize;
        let genesis = Block::genesis(config.accounts, config.initial_balance);
        Ok(Engine {
            accounts: Accounts::new(len, config.initial_balance),
            shard_shift,
            shard_owned: (0..shards).map(|_| AtomicBool::new(false)).collect(),
            ledger: Ledger::new(genesis),
            counters: Counters::default(),
            config,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
    pub fn design(&self) -> Design {
        self.config.design
    }
    /// Number of accounts.
    pub fn accounts(&self) -> u64 {
        self.config.accounts
    }
    /// Actual number of shards.
    pub fn shards(&self) -> u32 {
        self.shard_owned.len() as u32
    }
    /// The shard that owns account `id`'s debits.
    #[inline]
    pub fn shard_of(&self, id: u64) -> u32 {
        (id >> self.shard_shift) as u32
    }
    /// The account ids of shard `shard`.
    pub fn shard_range(&self, shard: u32) -> Range<u64> {
        let start = u64::from(shard) << self.shard_shift;
        let end = (start + (1u64 << self.shard_shift)).min(self.config.accounts);
        start.min(end)..end
    }
    /// Balance of an account, if it exists.
    pub fn balance(&self, id: u64) -> Option<u64> {
        self.accounts
            .as_slice()
            .get(id as usize)
            .map(|a| a.balance())
    }
    /// Current nonce of an account, if it exists.
    pub fn nonce(&self, id: u64) -> Option<u64> {
        self.accounts.as_slice().get(id as usize).map(|a| a.nonce())
    }
    /// The ledger's head block.
    pub fn head(&self) -> Block {
        self.ledger.head()
    }

    /// The shards a worker `worker` of `workers` should own: every `workers`-th shard.
    pub fn shards_for_worker(&self, worker: u32, workers: u32) -> Vec<u32> {
        (0..self.shards())
            .filter(|s| workers > 0 && s % workers == worker)
            .collect()
    }

    /// Claims exclusive debit rights over `shards` (single-writer design). The claim is released
    /// when the lane is dropped.
    pub fn lane(self: &Arc<Self>, shards: &[u32]) -> Result<Lane, EngineError> {
        if self.config.design != Design::SingleWriter {
            return Err(EngineError::WrongDesign(self.config.design));
        }
        let mut owned = vec![false; self.shard_owned.len()].into_boxed_slice();
        let mut claimed: Vec<u32> = Vec::with_capacity(shards.len());
        let release = |claimed: &[u32]| {
            for &s in claimed {
                self.shard_owned[s as usize].store(false, Ordering::Release);
            }
        };
        for &s in shards {
            let Some(flag) = self.shard_owned.get(s as usize) else {
                release(&claimed);
                return Err(EngineError::NoSuchShard {
                    shard: s,
                    shards: self.shards(),
                });
            };
            if owned[s as usize] {
                continue;
            }
            if flag
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                release(&claimed);
                return Err(EngineError::ShardTaken(s));
            }
            owned[s as usize] = true;
            claimed.push(s);
        }
        Ok(Lane {
            engine: Arc::clone(self),
            owned,
            shards: claimed,
            applied: Vec::new(),
        })
    }

    /// Applies a batch from any thread (CAS design). On a single-writer engine every transfer is
    /// rejected as [`RejectReason::NotOwner`]: use a [`Lane`] there.
    pub fn submit(&self, batch: &[Transfer]) -> BatchOutcome {
        let mut applied = Vec::new();
        self.submit_into(batch, &mut applied)
    }

    /// Like [`Engine::submit`], reusing `applied` as the applied-bitmap buffer (bit `i` set when
    /// transfer `i` committed).
    pub fn submit_into(&self, batch: &[Transfer], applied: &mut Vec<u64>) -> BatchOutcome {
        match self.config.design {
            Design::Cas => self.apply::<true, false>(batch, &[], applied, &mut Vec::new()),
            Design::SingleWriter => {
                self.apply::<false, false>(batch, &[], applied, &mut Vec::new())
            }
        }
    }

    /// Like [`Engine::submit`], also returning each transfer's result (for small submissions
    /// whose caller wants per-transfer answers).
    pub fn submit_detailed(
        &self,
        batch: &[Transfer],
    ) -> (BatchOutcome, Vec<Result<(), RejectReason>>) {
        let mut applied = Vec::new();
        let mut results = Vec::with_capacity(batch.len());
        let outcome = match self.config.design {
            Design::Cas => self.apply::<true, true>(batch, &[], &mut applied, &mut results),
            Design::SingleWriter => {
                self.apply::<false, true>(batch, &[], &mut applied, &mut results)
            }
        };
        (outcome, results)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        let mut rejected = [0; RejectReason::COUNT];
        for (r, c) in rejected.iter_mut().zip(&c.rejected) {
            *r = c.load(Ordering::Acquire);
        }
        Stats {
            accounts: self.config.accounts,
            submitted: c.submitted.load(Ordering::Acquire),
            committed: c.committed.load(Ordering::Acquire),
            rejected,
            batches: c.batches.load(Ordering::Acquire),
            head_height: self.ledger.head().height,
        }
    }

    /// Checks the invariants: supply conserved, committed transfers equal to the sum of nonce
    /// advances and to the ledger's running total, every submitted transfer either committed or
    /// rejected, no sender left claimed, and the retained ledger window consistent.
    ///
    /// Call it when no batch is being applied (after the workers have stopped): the sums are read
    /// account by account and would mix before and after states of a batch in flight.
    pub fn audit(&self) -> AuditReport {
        let stats = self.stats();
        let mut supply: u128 = 0;
        let mut nonce_advances: u64 = 0;
        let mut busy: u64 = 0;
        for a in self.accounts.as_slice() {
            supply += u128::from(a.balance());
            let w = a.nonce_word.load(Ordering::Acquire);
            nonce_advances += w >> 1;
            busy += w & 1;
        }
        let expected = u128::from(self.config.accounts) * u128::from(self.config.initial_balance);
        let ChainCheck {
            head,
            verified_blocks,
            problems: chain_problems,
        } = self.ledger.check();

        let mut problems = Vec::new();
        if supply != expected {
            problems.push(format!(
                "total supply {supply} differs from genesis supply {expected}"
            ));
        }
        if nonce_advances != stats.committed {
            problems.push(format!(
                "nonce advances {nonce_advances} differ from committed transfers {}",
                stats.committed
            ));
        }
        if head.total_tx != stats.committed {
            problems.push(format!(
                "ledger running total {} differs from committed transfers {}",
                head.total_tx, stats.committed
            ));
        }
        if stats.committed + stats.rejected_total() != stats.submitted {
            problems.push(format!(
                "committed {} + rejected {} != submitted {}",
                stats.committed,
                stats.rejected_total(),
                stats.submitted
            ));
        }
        if busy != 0 {
            problems.push(format!("{busy} senders are still claimed"));
        }
        problems.extend(chain_problems);
        AuditReport {
            ok: problems.is_empty(),
            accounts: self.config.accounts,
            total_supply_expected: expected,
            total_supply_actual: supply,
            committed_transfers: stats.committed,
            nonce_advances,
            submitted: stats.submitted,
            rejected: stats.rejected,
            busy_senders: busy,
            ledger_height: head.height,
            ledger_total_tx: head.total_tx,
            ledger_verified_blocks: verified_blocks,
            head_hash: head.hash,
            problems,
        }
    }

    /// The apply loop shared by both designs.
    ///
    /// `CAS` selects the sender claim; `owned` (single-writer) marks the shards this caller owns
    /// and is empty for the CAS design; `DETAIL` records a per-transfer result.
    ///
    /// Its steps are `#[inline(always)]` helpers, so the compiled loop is the one from before
    /// they were split out (same calls in `Lane::submit`'s disassembly, same benchmark): the
    /// per-transfer step ([`Engine::transfer`]) takes the account table and its length as read
    /// once per batch, and [`Engine::seal`] has no closure (with one, LLVM kept it out of line).
    #[inline(always)]
    fn apply<const CAS: bool, const DETAIL: bool>(
        &self,
        batch: &[Transfer],
        owned: &[bool],
        applied: &mut Vec<u64>,
        results: &mut Vec<Result<(), RejectReason>>,
    ) -> BatchOutcome {
        const AHEAD: usize = 16;
        let accounts = self.accounts.as_slice();
        let n_accounts = self.config.accounts;
        let cost = self.config.synthetic_cost;
        // Off only to prove the gate (`Config::prefetch`): then no transfer is looked up ahead.
        let ahead = if self.config.prefetch { AHEAD } else { 0 };
        applied.clear();
        applied.resize(batch.len().div_ceil(64), 0);
        let mut rejected = [0u32; RejectReason::COUNT];
        let mut committed = 0u32;

        for t in batch.iter().take(ahead) {
            self.accounts.prefetch(t.from);
            self.accounts.prefetch(t.to);
        }
        for (i, t) in batch.iter().enumerate() {
            if let Some(ahead) = batch.get(i + ahead).filter(|_| ahead > 0) {
                self.accounts.prefetch(ahead.from);
                self.accounts.prefetch(ahead.to);
            }
            let result = self.transfer::<CAS>(accounts, n_accounts, owned, t);
            match result {
                Ok(()) => {
                    committed += 1;
                    applied[i / 64] |= 1 << (i % 64);
                }
                Err(r) => rejected[r as usize] += 1,
            }
            if DETAIL {
                results.push(result);
            }
        }

        if cost > 0 {
            // Once per batch, not per transfer: a call per transfer alone cost 10 instructions
            // (4.6 % of a transfer), too coarse a step for the dial.
            synthetic_work(u64::from(cost) * u64::from(committed));
        }
        let block = self.seal(batch, applied, committed);
        self.count(batch.len(), &rejected, committed);
        BatchOutcome {
            submitted: batch.len() as u32,
            committed,
            rejected,
            block,
        }
    }

    /// Validates transfer `t` (accounts exist and differ, a non-zero amount, and for the
    /// single-writer design a sender in an `owned` shard) and applies it. `accounts` and
    /// `n_accounts` are the caller's, read once per batch.
    #[inline(always)]
    fn transfer<const CAS: bool>(
        &self,
        accounts: &[crate::accounts::Account],
        n_accounts: u64,
        owned: &[bool],
        t: &Transfer,
    ) -> Result<(), RejectReason> {
        if t.from >= n_accounts || t.to >= n_accounts {
            Err(RejectReason::UnknownAccount)
        } else if t.from == t.to {
            Err(RejectReason::SelfTransfer)
        } else if t.amount == 0 {
            Err(RejectReason::ZeroAmount)
        } else if !CAS
            && !owned
                .get(self.shard_of(t.from) as usize)
                .copied()
                .unwrap_or(false)
        {
            Err(RejectReason::NotOwner)
        } else {
            // Both indexes were checked against the table length above.
            let from = &accounts[t.from as usize];
            let to = &accounts[t.to as usize];
            debit_credit::<CAS>(from, to, t)
        }
    }

    /// Commits a batch with at least one applied transfer to the ledger: the digest covers the
    /// batch's bytes and the `applied` bitmap. Returns the new block's height.
    #[inline(always)]
    fn seal(&self, batch: &[Transfer], applied: &[u64], committed: u32) -> Option<u64> {
        if committed == 0 {
            return None;
        }
        let mut h = blake3::Hasher::new();
        h.update(&batch_bytes(batch));
        h.update(bytemuck::cast_slice(applied));
        let block = self
            .ledger
            .append(u64::from(committed), *h.finalize().as_bytes());
        Some(block.height)
    }

    /// Adds one batch's outcome to the engine's counters (read by [`Engine::stats`]).
    #[inline(always)]
    fn count(&self, submitted: usize, rejected: &[u32; RejectReason::COUNT], committed: u32) {
        let c = &self.counters;
        c.submitted.fetch_add(submitted as u64, Ordering::Relaxed);
        for (counter, &n) in c.rejected.iter().zip(rejected) {
            if n > 0 {
                counter.fetch_add(u64::from(n), Ordering::Relaxed);
            }
        }
        c.batches.fetch_add(1, Ordering::Relaxed);
        c.committed
            .fetch_add(u64::from(committed), Ordering::Release);
    }
}

/// Validates the sender's nonce and balance and moves `t.amount`. The caller has already
/// checked that both accounts exist and differ, and (single-writer) that it owns the sender.
#[inline(always)]
fn debit_credit<const CAS: bool>(
    from: &crate::accounts::Account,
    to: &crate::accounts::Account,
    t: &Transfer,
) -> Result<(), RejectReason> {
    if t.nonce > (u64::MAX >> 1) - 1 {
        return Err(RejectReason::BadNonce);
    }
    let idle = t.nonce << 1;
    if CAS {
        // Claim the sender: only one thread can hold `nonce << 1 | 1` at a time.
        if from
            .nonce_word
            .compare_exchange(idle, idle | 1, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return Err(RejectReason::BadNonce);
        }
    } else if from.nonce_word.load(Ordering::Relaxed) != idle {
        return Err(RejectReason::BadNonce);
    }
    // Only the claim holder (CAS) or the owning lane (single writer) debits this sender, and
    // credits only add, so the balance checked here can only grow before the debit below.
    if from.balance.load(Ordering::Relaxed) < t.amount {
        if CAS {
            from.nonce_word.store(idle, Ordering::Release);
        }
        return Err(RejectReason::InsufficientFunds);
    }
    from.balance.fetch_sub(t.amount, Ordering::Relaxed);
    from.nonce_word.store(idle + 2, Ordering::Release);
    // Cannot overflow: no balance exceeds the total supply, which fits in u64 (checked at genesis).
    to.balance.fetch_add(t.amount, Ordering::Relaxed);
    Ok(())
}

/// Exclusive debit rights over a set of shards (single-writer design). Not `Sync`: one thread
/// applies through a lane at a time; move it to the thread that uses it.
pub struct Lane {
    engine: Arc<Engine>,
    owned: Box<[bool]>,
    shards: Vec<u32>,
    applied: Vec<u64>,
}

impl Lane {
    /// Applies a batch. Transfers whose sender is outside this lane's shards are rejected as
    /// [`RejectReason::NotOwner`].
    pub fn submit(&mut self, batch: &[Transfer]) -> BatchOutcome {
        self.engine
            .apply::<false, false>(batch, &self.owned, &mut self.applied, &mut Vec::new())
    }

    /// Like [`Lane::submit`], with a per-transfer result.
    pub fn submit_detailed(
        &mut self,
        batch: &[Transfer],
    ) -> (BatchOutcome, Vec<Result<(), RejectReason>>) {
        let mut results = Vec::with_capacity(batch.len());
        let o =
            self.engine
                .apply::<false, true>(batch, &self.owned, &mut self.applied, &mut results);
        (o, results)
    }

    /// Bit `i` is set when transfer `i` of the last submitted batch committed.
    pub fn last_applied(&self) -> &[u64] {
        &self.applied
    }

    /// The shards this lane owns.
    pub fn shards(&self) -> &[u32] {
        &self.shards
    }

    /// The sender account ranges this lane owns, in ascending order.
    pub fn sender_ranges(&self) -> Vec<Range<u64>> {
        let mut v: Vec<_> = self
            .shards
            .iter()
            .map(|&s| self.engine.shard_range(s))
            .filter(|r| !r.is_empty())
            .collect();
        v.sort_by_key(|r| r.start);
        v
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        for &s in &self.shards {
            self.engine.shard_owned[s as usize].store(false, Ordering::Release);
        }
    }
}

/// Whether bit `i` is set in an applied-bitmap.
#[inline]
pub fn is_applied(bitmap: &[u64], i: usize) -> bool {
    bitmap.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
}

/// `units` dependent adds that neither LLVM nor the CPU can skip: the regression gate's dial
/// ([`Config::synthetic_cost`]). On x86_64 they are `add` instructions in `asm!` blocks of
/// eight (opaque to the optimizer, so the loop is not folded into one multiply): about 1.4
/// instructions per unit with the loop's counter and branch, and one cycle of latency each,
/// since each add waits for the last. Measured on the gate's workload (release, 217
/// instructions per transaction): one unit per transaction adds ~0.6 % to the instruction
/// count. `spin_loop()` (PAUSE), the dial before, is one instruction to callgrind but tens of
/// cycles to a clock, so an instruction count barely saw it.
#[inline(never)]
pub fn synthetic_work(units: u64) -> u64 {
    let mut x: u64 = 0;
    for _ in 0..units / 8 {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: adds to a register; touches no memory or stack.
        unsafe {
            std::arch::asm!(
                "add {0}, 1", "add {0}, 1", "add {0}, 1", "add {0}, 1",
                "add {0}, 1", "add {0}, 1", "add {0}, 1", "add {0}, 1",
                inout(reg) x,
                options(nomem, nostack)
            );
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            x = std::hint::black_box(x + 8);
        }
    }
    for _ in 0..units % 8 {
        x = std::hint::black_box(x + 1);
    }
    x
}
