//! Workload generation: valid transfers for a set of owned senders, plus a configured fraction
//! of deliberately invalid ones, cheap enough not to be the bottleneck.
//!
//! Each generator owns its senders (the accounts of its lane's shards) and tracks their next
//! nonce locally, so every transfer it means to be valid is valid when applied in order. Account
//! choice is uniform or zipf-like; zipf ranks come from a pool sampled once per run and shared by
//! every generator ([`ZipfPool`]), read sequentially from a random offset, so a sample costs a
//! sequential read instead of a `powf`. The pool repeats after [`ZipfPool::LEN`] samples, which
//! keeps the hot-spot shape while costing ~2 ns per transfer.

use crate::engine::is_applied;
use crate::tx::Transfer;
use std::ops::Range;
use std::sync::Arc;

/// How senders and receivers are chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum AccountChoice {
    Uniform,
    /// Zipf-like: rank `r` (0-based) is chosen with probability roughly proportional to
    /// `1 / (r + 1)^exponent` (sampled by inverting the continuous power law).
    Zipf {
        exponent: f64,
    },
}

/// Fractions of all generated transfers that are deliberately invalid, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct InvalidMix {
    pub bad_nonce: f64,
    pub unknown_account: f64,
    pub self_transfer: f64,
    pub zero_amount: f64,
    pub insufficient_funds: f64,
}

impl InvalidMix {
    pub fn total(&self) -> f64 {
        self.bad_nonce
            + self.unknown_account
            + self.self_transfer
            + self.zero_amount
            + self.insufficient_funds
    }
}

/// Generator settings.
#[derive(Clone, Debug, PartialEq)]
pub struct GenConfig {
    /// Accounts in the engine (receivers are drawn from all of them).
    pub accounts: u64,
    pub amount_min: u64,
    pub amount_max: u64,
    pub choice: AccountChoice,
    pub invalid: InvalidMix,
    pub seed: u64,
}

impl GenConfig {
    /// Uniform choice, amounts 1..=100, no invalid transfers.
    pub fn uniform(accounts: u64, seed: u64) -> GenConfig {
        GenConfig {
            accounts,
            amount_min: 1,
            amount_max: 100,
            choice: AccountChoice::Uniform,
            invalid: InvalidMix::default(),
            seed,
        }
    }
}

/// A shared pool of zipf-like ranks in `0..accounts`.
pub struct ZipfPool {
    ranks: Box<[u32]>,
}

impl std::fmt::Debug for ZipfPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipfPool")
            .field("len", &self.ranks.len())
            .finish()
    }
}

impl ZipfPool {
    /// Samples in the pool.
    pub const LEN: usize = 1 << 20;

    /// Samples the pool. Ranks above `u32::MAX` are not representable; `accounts` is clamped.
    pub fn new(accounts: u64, exponent: f64, seed: u64) -> ZipfPool {
        let n = accounts.min(u64::from(u32::MAX)) as f64;
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed_21bf);
        let s = exponent;
        let ranks = (0..Self::LEN)
            .map(|_| {
                let u = rng.f64();
                let x = if (s - 1.0).abs() < 1e-9 {
                    (n + 1.0).powf(u)
                } else {
                    let a = 1.0 - s;
                    (((n + 1.0).powf(a) - 1.0) * u + 1.0).powf(1.0 / a)
                };
                (x.floor() as u64).saturating_sub(1).min(n as u64 - 1) as u32
            })
            .collect();
        ZipfPool { ranks }
    }
}

/// What the generator meant each transfer of the last batch to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Intent {
    Valid = 0,
    BadNonce,
    UnknownAccount,
    SelfTransfer,
    ZeroAmount,
    InsufficientFunds,
}

/// Generates batches for one set of senders.
pub struct Generator {
    cfg: GenConfig,
    senders: Vec<Range<u64>>,
    /// When every sender range but the last has the same power-of-two length (a lane's
    /// shards), `log2` of it: sender index -> range is then a shift, not a scan.
    range_shift: Option<u32>,
    sender_total: u64,
    sender_stride: u64,
    receiver_stride: u64,
    nonces: Vec<u64>,
    rng: fastrand::Rng,
    pool: Option<Arc<ZipfPool>>,
    cursor: usize,
    thresholds: [u64; 5],
    any_invalid: bool,
    intents: Vec<Intent>,
    invalid_in_last: usize,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// An odd multiplier coprime with `n`, so `k * m mod n` is a bijection scattering hot ranks.
fn scatter_multiplier(n: u64) -> u64 {
    let mut m = 0x9E37_79B9_7F4A_7C15u64 % n.max(1);
    while n > 1 && gcd(m, n) != 1 {
        m += 1;
    }
    m.max(1)
}

impl Generator {
    /// A generator for the senders in `senders` (usually a lane's [`crate::Lane::sender_ranges`]),
    /// all at nonce 0 (a fresh engine). `pool` is required for zipf choice.
    pub fn new(cfg: GenConfig, senders: Vec<Range<u64>>, pool: Option<Arc<ZipfPool>>) -> Self {
        // A pool only matters for zipf choice; uniform choice ignores it.
        let pool = pool.filter(|_| !matches!(cfg.choice, AccountChoice::Uniform));
        let sender_total: u64 = senders.iter().map(|r| r.end - r.start).sum();
        assert!(sender_total > 0, "a generator needs at least one sender");
        assert!(
            matches!(cfg.choice, AccountChoice::Uniform) || pool.is_some(),
            "zipf choice needs a ZipfPool"
        );
        let invalid = cfg.invalid;
        let fractions = [
            invalid.bad_nonce,
            invalid.unknown_account,
            invalid.self_transfer,
            invalid.zero_amount,
            invalid.insufficient_funds,
        ];
        let mut thresholds = [0u64; 5];
        let mut acc = 0.0;
        for (t, f) in thresholds.iter_mut().zip(fractions) {
            acc += f.clamp(0.0, 1.0);
            *t = (acc.min(1.0) * u64::MAX as f64) as u64;
        }
        let mut rng = fastrand::Rng::with_seed(cfg.seed);
        let cursor = rng.usize(0..ZipfPool::LEN);
        let first = senders[0].end - senders[0].start;
        let range_shift = (first.is_power_of_two()
            && senders[..senders.len() - 1]
                .iter()
                .all(|r| r.end - r.start == first))
        .then(|| first.trailing_zeros());
        Generator {
            range_shift,
            sender_stride: scatter_multiplier(sender_total),
            receiver_stride: scatter_multiplier(cfg.accounts),
            any_invalid: invalid.total() > 0.0,
            cfg,
            nonces: vec![0; sender_total as usize],
            senders,
            sender_total,
            rng,
            pool,
            cursor,
            thresholds,
            intents: Vec::new(),
            invalid_in_last: 0,
        }
    }

    #[inline]
    fn next_rank(&mut self, n: u64) -> u64 {
        match &self.pool {
            Some(pool) => {
                let r = u64::from(pool.ranks[self.cursor]);
                self.cursor = (self.cursor + 1) & (ZipfPool::LEN - 1);
                if r < n {
                    r
                } else {
                    r % n
                }
            }
            None => self.rng.u64(0..n),
        }
    }

    #[inline]
    fn sender_account(&self, k: u64) -> u64 {
        if let Some(shift) = self.range_shift {
            let r = &self.senders[(k >> shift) as usize];
            return r.start + (k & ((1u64 << shift) - 1));
        }
        let mut k = k;
        for r in &self.senders {
            let len = r.end - r.start;
            if k < len {
                return r.start + k;
            }
            k -= len;
        }
        unreachable!("sender index below sender_total")
    }

    fn sender_index(&self, account: u64) -> Option<usize> {
        let mut base = 0u64;
        for r in &self.senders {
            if r.contains(&account) {
                return Some((base + account - r.start) as usize);
            }
            base += r.end - r.start;
        }
        None
    }

    /// Replaces `out` with `n` new transfers.
    pub fn fill(&mut self, out: &mut Vec<Transfer>, n: usize) {
        out.clear();
        out.reserve(n);
        self.intents.clear();
        self.invalid_in_last = 0;
        let accounts = self.cfg.accounts;
        for _ in 0..n {
            // Uniform draws are already scattered; zipf ranks are mapped through a bijection so
            // the hot accounts are spread over the id space instead of being ids 0, 1, 2, ...
            let (k, mut to) = if self.pool.is_some() {
                let k =
                    (self.next_rank(self.sender_total) * self.sender_stride) % self.sender_total;
                (
                    k,
                    (self.next_rank(accounts) * self.receiver_stride) % accounts,
                )
            } else {
                (
                    self.rng.u64(0..self.sender_total),
                    self.rng.u64(0..accounts),
                )
            };
            let from = self.sender_account(k);
            if to == from {
                to = (to + 1) % accounts;
            }
            let amount = if self.cfg.amount_min == self.cfg.amount_max {
                self.cfg.amount_min
            } else {
                self.rng.u64(self.cfg.amount_min..=self.cfg.amount_max)
            };
            let intent = if self.any_invalid {
                let r = self.rng.u64(..);
                match self.thresholds.iter().position(|&t| r < t) {
                    None => Intent::Valid,
                    Some(0) => Intent::BadNonce,
                    Some(1) => Intent::UnknownAccount,
                    Some(2) => Intent::SelfTransfer,
                    Some(3) => Intent::ZeroAmount,
                    Some(_) => Intent::InsufficientFunds,
                }
            } else {
                Intent::Valid
            };
            let nonce_slot = &mut self.nonces[k as usize];
            let mut t = Transfer {
                from,
                to,
                amount,
                nonce: *nonce_slot,
            };
            match intent {
                Intent::Valid => *nonce_slot += 1,
                Intent::BadNonce => t.nonce += 1 + self.rng.u64(0..1000),
                Intent::UnknownAccount => t.to = accounts + self.rng.u64(0..1_000_000),
                Intent::SelfTransfer => t.to = from,
                Intent::ZeroAmount => t.amount = 0,
                Intent::InsufficientFunds => t.amount = u64::MAX,
            }
            if intent != Intent::Valid {
                self.invalid_in_last += 1;
            }
            out.push(t);
            self.intents.push(intent);
        }
    }

    /// Deliberately invalid transfers in the last batch.
    pub fn invalid_in_last(&self) -> usize {
        self.invalid_in_last
    }

    /// The intent of each transfer of the last batch.
    pub fn intents(&self) -> &[Intent] {
        &self.intents
    }

    /// After applying the last batch: if some transfers meant to be valid did not commit (for
    /// instance a sender drained by a skewed workload), re-reads those senders' nonces with
    /// `nonce_of` so later transfers stay valid. Returns how many meant-valid transfers failed.
    pub fn reconcile(
        &mut self,
        batch: &[Transfer],
        applied: &[u64],
        nonce_of: impl Fn(u64) -> Option<u64>,
    ) -> usize {
        let mut failed = 0;
        for (i, (t, intent)) in batch.iter().zip(&self.intents).enumerate() {
            if *intent == Intent::Valid && !is_applied(applied, i) {
                failed += 1;
                if let (Some(k), Some(n)) = (self.sender_index(t.from), nonce_of(t.from)) {
                    self.nonces[k] = n;
                }
            }
        }
        failed
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // one sender range is the common case
mod tests {
    use super::*;

    #[test]
    fn zipf_pool_is_skewed_and_in_range() {
        let p = ZipfPool::new(1000, 1.1, 7);
        assert!(p.ranks.iter().all(|&r| r < 1000));
        let top = p.ranks.iter().filter(|&&r| r < 10).count() as f64 / ZipfPool::LEN as f64;
        // For s = 1.1 over 1000 ranks the top 1 % of ranks carries well over a third of the mass.
        assert!(top > 0.35, "top-10 share {top}");
        let u = Generator::new(GenConfig::uniform(1000, 1), vec![0..1000], None);
        drop(u);
    }

    #[test]
    fn invalid_mix_fractions_are_honoured() {
        let mut cfg = GenConfig::uniform(10_000, 3);
        cfg.invalid.bad_nonce = 0.1;
        cfg.invalid.zero_amount = 0.05;
        let mut g = Generator::new(cfg, vec![0..5000], None);
        let mut out = Vec::new();
        g.fill(&mut out, 100_000);
        let bad_nonce = g
            .intents()
            .iter()
            .filter(|i| **i == Intent::BadNonce)
            .count();
        let zero = out.iter().filter(|t| t.amount == 0).count();
        assert!((9_000..11_000).contains(&bad_nonce), "{bad_nonce}");
        assert!((4_000..6_000).contains(&zero), "{zero}");
        assert_eq!(g.invalid_in_last(), bad_nonce + zero);
        assert!(out.iter().all(|t| t.from < 5000));
    }
}
