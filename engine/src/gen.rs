//! Workload generation: valid transfers for a set of owned senders, plus a configured fraction
//! of deliberately invalid ones, cheap enough not to be the bottleneck.
//!
//! Each generator owns its senders (the accounts of its lane's shards) and knows their next
//! nonce, so every transfer it means to be valid is valid when applied in order.
//!
//! Uniform choice deals senders from a shuffled deck: the generator's senders in a random order
//! fixed at construction, each sending once per round. A sender's next nonce is then the round number (less the few of its transfers that
//! failed, kept in a small map), so generation reads the deck sequentially instead of a nonce
//! table at random: a random read per transfer cost more than applying it (65 % of a harness
//! worker's time on 1M accounts, perf). Every sender is equally likely and the engine's accounts
//! are still touched in random order; receivers are drawn uniformly from all accounts.
//!
//! Zipf-like choice keeps a nonce table (hot senders send many times a round). Ranks come from a
//! pool sampled once per run and shared by every generator ([`ZipfPool`]), read sequentially from
//! a random offset, so a sample costs a sequential read instead of a `powf`. The pool repeats
//! after [`ZipfPool::LEN`] samples, which keeps the hot-spot shape while costing ~2 ns per
//! transfer.

use crate::engine::is_applied;
use crate::tx::Transfer;
use std::collections::HashMap;
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

/// wyrand (the generator fastrand uses), inlined for the deck's hot loop.
struct Wy(u64);

impl Wy {
    #[inline(always)]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.0) * u128::from(self.0 ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) as u64) ^ (t as u64)
    }

    /// Uniform in `0..n` (multiply-shift; `n > 0`).
    #[inline(always)]
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

/// What the deck's loops draw per transfer besides the sender.
struct Draw {
    accounts: u64,
    amount_min: u64,
    /// `amount_max - amount_min + 1`, 0 for the whole `u64` range.
    span: u64,
    /// Both fit in 32 bits: one 64-bit draw gives the receiver (high half) and the amount (low
    /// half), each by multiply-shift, with a bias below `accounts / 2^32` (0.02 % at 1M
    /// accounts). Halves the generator's cost per transfer, which sits on the in-process
    /// worker's critical path beside an apply of ~17 ns.
    narrow: bool,
}

impl Draw {
    fn new(accounts: u64, amount_min: u64, amount_max: u64) -> Draw {
        let span = amount_max.wrapping_sub(amount_min).wrapping_add(1);
        Draw {
            accounts,
            amount_min,
            span,
            narrow: accounts <= u64::from(u32::MAX) && span != 0 && span <= u64::from(u32::MAX),
        }
    }

    /// A receiver other than `from` (uniform over all accounts) and an amount.
    #[inline(always)]
    fn receiver_and_amount(&self, wy: &mut Wy, from: u64) -> (u64, u64) {
        let (mut to, amount) = if self.narrow {
            let r = wy.next();
            (
                ((r >> 32) * self.accounts) >> 32,
                self.amount_min + (((r & 0xffff_ffff) * self.span) >> 32),
            )
        } else {
            let to = wy.below(self.accounts);
            let amount = if self.span == 0 {
                wy.next()
            } else {
                self.amount_min + wy.below(self.span)
            };
            (to, amount)
        };
        if to == from {
            to = (to + 1) % self.accounts;
        }
        (to, amount)
    }
}

/// Uniform choice's senders: account ids in a random order, dealt round after round.
struct Deck {
    order: Box<[u32]>,
    /// Next card.
    pos: usize,
    /// Rounds completed: every sender in the deck has sent this many (meant-valid) transfers.
    round: u64,
    /// Meant-valid transfers of a sender that did not commit (its nonce lags the round by this).
    lag: HashMap<u32, u64>,
}

impl Deck {
    /// The senders of `ranges` shuffled, or `None` if an account id does not fit in `u32`.
    fn new(ranges: &[Range<u64>], rng: &mut fastrand::Rng) -> Option<Deck> {
        if ranges.iter().any(|r| r.end > u64::from(u32::MAX) + 1) {
            return None;
        }
        let mut order: Box<[u32]> = ranges
            .iter()
            .flat_map(|r| r.start..r.end)
            .map(|a| a as u32)
            .collect();
        rng.shuffle(&mut order);
        Some(Deck {
            order,
            pos: 0,
            round: 0,
            lag: HashMap::new(),
        })
    }

    /// The sender whose turn it is, and its next nonce.
    #[inline]
    fn current(&self) -> (u64, u64) {
        let a = self.order[self.pos];
        let lag = if self.lag.is_empty() {
            0
        } else {
            self.lag.get(&a).copied().unwrap_or(0)
        };
        (u64::from(a), self.round - lag)
    }

    /// The current sender has sent its meant-valid transfer: next card.
    #[inline]
    fn advance(&mut self) {
        self.pos += 1;
        if self.pos == self.order.len() {
            self.pos = 0;
            self.round += 1;
        }
    }
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
    /// Next nonce per sender index (zipf choice, or more than `u32::MAX` accounts).
    nonces: Vec<u64>,
    /// Uniform choice: the shuffled deck of sender accounts.
    deck: Option<Deck>,
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
        let deck = match cfg.choice {
            AccountChoice::Uniform => Deck::new(&senders, &mut rng),
            AccountChoice::Zipf { .. } => None,
        };
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
            nonces: if deck.is_some() {
                Vec::new()
            } else {
                vec![0; sender_total as usize]
            },
            deck,
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

    /// Draws the intent of the next transfer from the invalid mix.
    #[inline]
    fn draw_intent(&mut self) -> Intent {
        if !self.any_invalid {
            return Intent::Valid;
        }
        let r = self.rng.u64(..);
        match self.thresholds.iter().position(|&t| r < t) {
            None => Intent::Valid,
            Some(0) => Intent::BadNonce,
            Some(1) => Intent::UnknownAccount,
            Some(2) => Intent::SelfTransfer,
            Some(3) => Intent::ZeroAmount,
            Some(_) => Intent::InsufficientFunds,
        }
    }

    /// Makes `t` (built with the sender's correct next nonce) deliberately invalid.
    #[inline]
    fn spoil(&mut self, t: &mut Transfer, intent: Intent) {
        match intent {
            Intent::Valid => {}
            Intent::BadNonce => t.nonce += 1 + self.rng.u64(0..1000),
            Intent::UnknownAccount => t.to = self.cfg.accounts + self.rng.u64(0..1_000_000),
            Intent::SelfTransfer => t.to = t.from,
            Intent::ZeroAmount => t.amount = 0,
            Intent::InsufficientFunds => t.amount = u64::MAX,
        }
    }

    #[inline]
    fn amount(&mut self) -> u64 {
        if self.cfg.amount_min == self.cfg.amount_max {
            self.cfg.amount_min
        } else {
            self.rng.u64(self.cfg.amount_min..=self.cfg.amount_max)
        }
    }

    /// Replaces `out` with `n` new transfers.
    pub fn fill(&mut self, out: &mut Vec<Transfer>, n: usize) {
        out.clear();
        out.reserve(n);
        self.intents.clear();
        self.invalid_in_last = 0;
        if self.deck.is_some() {
            self.fill_from_deck(out, n);
        } else {
            self.fill_from_table(out, n);
        }
    }

    /// Uniform choice: senders dealt from the deck, nonces from the round (no table lookup).
    /// Receivers and amounts come from an inlined wyrand with multiply-shift range reduction
    /// ([`Draw`]), the cheapest honest uniform draw: this loop is on the harness worker's
    /// critical path, beside the engine's apply.
    fn fill_from_deck(&mut self, out: &mut Vec<Transfer>, n: usize) {
        let Some(mut deck) = self.deck.take() else {
            return;
        };
        let draw = Draw::new(self.cfg.accounts, self.cfg.amount_min, self.cfg.amount_max);
        let mut wy = Wy(self.rng.u64(..));
        if self.any_invalid {
            for _ in 0..n {
                let (from, nonce) = deck.current();
                let (to, amount) = draw.receiver_and_amount(&mut wy, from);
                let mut t = Transfer {
                    from,
                    to,
                    amount,
                    nonce,
                };
                let intent = self.draw_intent();
                if intent == Intent::Valid {
                    deck.advance();
                } else {
                    // The sender keeps its turn: its valid transfer comes next.
                    self.spoil(&mut t, intent);
                    self.invalid_in_last += 1;
                }
                out.push(t);
                self.intents.push(intent);
            }
        } else if deck.lag.is_empty() {
            // The common case, kept in registers: no invalid mix, no lagging sender.
            let order = &deck.order[..];
            let (mut pos, mut round) = (deck.pos, deck.round);
            for slot in &mut out.spare_capacity_mut()[..n] {
                let from = u64::from(order[pos]);
                let (to, amount) = draw.receiver_and_amount(&mut wy, from);
                slot.write(Transfer {
                    from,
                    to,
                    amount,
                    nonce: round,
                });
                pos += 1;
                if pos == order.len() {
                    pos = 0;
                    round += 1;
                }
            }
            // SAFETY: the loop above initialized the first `n` spare slots (`reserve(n)` made
            // them exist; the slice index would have panicked otherwise).
            unsafe { out.set_len(n) };
            (deck.pos, deck.round) = (pos, round);
        } else {
            for _ in 0..n {
                let (from, nonce) = deck.current();
                let (to, amount) = draw.receiver_and_amount(&mut wy, from);
                out.push(Transfer {
                    from,
                    to,
                    amount,
                    nonce,
                });
                deck.advance();
            }
        }
        self.deck = Some(deck);
    }

    /// Zipf choice (or very large account ids): senders drawn at random, nonces from the table.
    fn fill_from_table(&mut self, out: &mut Vec<Transfer>, n: usize) {
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
            let amount = self.amount();
            let intent = self.draw_intent();
            let mut t = Transfer {
                from,
                to,
                amount,
                nonce: self.nonces[k as usize],
            };
            if intent == Intent::Valid {
                self.nonces[k as usize] += 1;
            } else {
                self.spoil(&mut t, intent);
                self.invalid_in_last += 1;
            }
            out.push(t);
            if self.any_invalid {
                self.intents.push(intent);
            }
        }
    }

    /// Deliberately invalid transfers in the last batch.
    pub fn invalid_in_last(&self) -> usize {
        self.invalid_in_last
    }

    /// The intent of each transfer of the last batch (empty when the mix has no invalid
    /// transfers: every transfer was meant to be valid).
    pub fn intents(&self) -> &[Intent] {
        &self.intents
    }

    /// Whether transfer `i` of the last batch was meant to be valid.
    fn meant_valid(&self, i: usize) -> bool {
        self.intents.get(i).is_none_or(|x| *x == Intent::Valid)
    }

    /// After applying the last batch: if some transfers meant to be valid did not commit (for
    /// instance a sender drained by a skewed workload), brings those senders' nonces back in
    /// line so later transfers stay valid: a deck sender lags one more round per failure (a
    /// rejection leaves the engine's nonce unchanged, so that is exact); a table sender's nonce
    /// is re-read with `nonce_of`. Returns how many meant-valid transfers failed.
    pub fn reconcile(
        &mut self,
        batch: &[Transfer],
        applied: &[u64],
        nonce_of: impl Fn(u64) -> Option<u64>,
    ) -> usize {
        let mut failed = 0;
        for (i, t) in batch.iter().enumerate() {
            if !self.meant_valid(i) || is_applied(applied, i) {
                continue;
            }
            failed += 1;
            if let Some(deck) = self.deck.as_mut() {
                // A rejected transfer leaves the sender's nonce where it was: one more to lag.
                if let Ok(a) = u32::try_from(t.from) {
                    *deck.lag.entry(a).or_insert(0) += 1;
                }
            } else if let (Some(k), Some(n)) = (self.sender_index(t.from), nonce_of(t.from)) {
                self.nonces[k] = n;
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

    /// A model of the engine's nonce rule: the nonce each sender expects next. A transfer
    /// commits if it was meant valid, carries the expected nonce and `commit(i)` says so. Once a
    /// sender's meant-valid transfer is rejected, its later transfers in the same batch carry
    /// nonces ahead of the engine's (the generator learns of the rejection only afterwards, in
    /// `reconcile`) and are rejected too, as the engine would; every other transfer must carry
    /// exactly the expected nonce.
    fn check_nonces(
        g: &Generator,
        batch: &[Transfer],
        expected: &mut std::collections::HashMap<u64, u64>,
        commit: impl Fn(usize) -> bool,
    ) -> Vec<u64> {
        let mut bitmap = vec![0u64; batch.len().div_ceil(64)];
        let mut behind = std::collections::HashSet::new();
        for (i, t) in batch.iter().enumerate() {
            let want = expected.entry(t.from).or_insert(0);
            let intent = g.intents().get(i).copied().unwrap_or(Intent::Valid);
            if behind.contains(&t.from) {
                assert!(t.nonce >= *want);
                continue;
            }
            if intent == Intent::BadNonce {
                assert_ne!(
                    t.nonce, *want,
                    "a bad-nonce transfer must have a wrong nonce"
                );
                continue;
            }
            assert_eq!(
                t.nonce, *want,
                "transfer {i} ({intent:?}) of sender {}",
                t.from
            );
            if intent == Intent::Valid {
                if commit(i) {
                    *want += 1;
                    bitmap[i / 64] |= 1 << (i % 64);
                } else {
                    behind.insert(t.from);
                }
            }
        }
        bitmap
    }

    #[test]
    fn deck_deals_every_sender_once_a_round() {
        let mut g = Generator::new(GenConfig::uniform(1000, 4), vec![100..200, 600..650], None);
        let mut out = Vec::new();
        g.fill(&mut out, 150 * 3);
        let mut seen = std::collections::HashMap::new();
        for t in &out {
            assert!((100..200).contains(&t.from) || (600..650).contains(&t.from));
            assert_ne!(t.from, t.to);
            assert!(t.to < 1000);
            *seen.entry(t.from).or_insert(0u32) += 1;
        }
        assert_eq!(seen.len(), 150);
        assert!(seen.values().all(|&n| n == 3), "three whole rounds");
        // Nonces count up per sender.
        let mut expected = std::collections::HashMap::new();
        check_nonces(&g, &out, &mut expected, |_| true);
    }

    #[test]
    fn deck_nonces_stay_valid_with_invalid_mix_and_rejections() {
        // A deck smaller than the batch (senders repeat within a batch), with and without
        // invalid transfers of every kind, and meant-valid transfers the "engine" rejects (as a
        // drained sender would): after reconcile every later transfer still carries the
        // expected nonce. Without an invalid mix this covers the lagging-sender path.
        let mixes = [
            InvalidMix::default(),
            InvalidMix {
                bad_nonce: 0.05,
                unknown_account: 0.05,
                self_transfer: 0.05,
                zero_amount: 0.05,
                insufficient_funds: 0.05,
            },
        ];
        for mix in mixes {
            let mut cfg = GenConfig::uniform(64, 11);
            cfg.invalid = mix;
            let mut g = Generator::new(cfg, vec![0..8], None);
            let mut expected = std::collections::HashMap::new();
            let mut out = Vec::new();
            let mut rejected_valid = 0;
            for round in 0..50u64 {
                g.fill(&mut out, 40);
                let bitmap = check_nonces(&g, &out, &mut expected, |i| {
                    !(i as u64 + round).is_multiple_of(7)
                });
                let meant_valid = (0..out.len()).filter(|&i| g.meant_valid(i)).count();
                let committed: u32 = bitmap.iter().map(|w| w.count_ones()).sum();
                let failed = g.reconcile(&out, &bitmap, |_| None);
                assert_eq!(failed, meant_valid - committed as usize);
                rejected_valid += failed;
            }
            assert!(rejected_valid > 0, "the test must exercise reconcile");
        }
    }

    #[test]
    fn receivers_and_amounts_are_uniform_and_in_range() {
        for (accounts, lo, hi) in [(10u64, 1u64, 3u64), (7, 0, u64::MAX), (1 << 33, 5, 5)] {
            let d = Draw::new(accounts, lo, hi);
            assert_eq!(
                d.narrow,
                accounts < (1 << 32) && hi < u64::MAX,
                "{accounts} {hi}"
            );
            let mut wy = Wy(42);
            let mut to = std::collections::HashMap::new();
            let mut amounts = std::collections::HashMap::new();
            let n = 300_000;
            for _ in 0..n {
                let (t, a) = d.receiver_and_amount(&mut wy, 0);
                assert!(t < accounts && t != 0);
                assert!((lo..=hi).contains(&a));
                *to.entry(t).or_insert(0u32) += 1;
                *amounts.entry(a).or_insert(0u32) += 1;
            }
            if accounts <= 10 {
                // Receiver 1 also takes the draws of 0 (the sender): skip it.
                let each = f64::from(n) / accounts as f64;
                for r in 2..accounts {
                    let c = f64::from(to[&r]);
                    assert!(
                        (c - each).abs() < each * 0.05,
                        "receiver {r}: {c} vs {each}"
                    );
                }
            }
            if hi - lo < 10 {
                let each = f64::from(n) / (hi - lo + 1) as f64;
                for a in lo..=hi {
                    let c = f64::from(amounts[&a]);
                    assert!((c - each).abs() < each * 0.05, "amount {a}: {c} vs {each}");
                }
            }
        }
    }
}
