//! Engine behaviour against a simple sequential reference model, plus concurrency and edge cases.

use engine::{
    is_applied, Config, Design, Engine, EngineError, GenConfig, Generator, RejectReason, Transfer,
};
use proptest::prelude::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The obvious sequential implementation the engine must agree with.
struct Model {
    balances: Vec<u64>,
    nonces: Vec<u64>,
    rejected: [u64; RejectReason::COUNT],
    committed: u64,
}

impl Model {
    fn new(accounts: usize, initial: u64) -> Model {
        Model {
            balances: vec![initial; accounts],
            nonces: vec![0; accounts],
            rejected: [0; RejectReason::COUNT],
            committed: 0,
        }
    }
    fn apply(&mut self, t: &Transfer) -> Result<(), RejectReason> {
        let n = self.balances.len() as u64;
        let r = if t.from >= n || t.to >= n {
            Err(RejectReason::UnknownAccount)
        } else if t.from == t.to {
            Err(RejectReason::SelfTransfer)
        } else if t.amount == 0 {
            Err(RejectReason::ZeroAmount)
        } else if self.nonces[t.from as usize] != t.nonce {
            Err(RejectReason::BadNonce)
        } else if self.balances[t.from as usize] < t.amount {
            Err(RejectReason::InsufficientFunds)
        } else {
            self.balances[t.from as usize] -= t.amount;
            self.balances[t.to as usize] += t.amount;
            self.nonces[t.from as usize] += 1;
            Ok(())
        };
        match r {
            Ok(()) => self.committed += 1,
            Err(reason) => self.rejected[reason as usize] += 1,
        }
        r
    }
}

#[derive(Clone, Debug)]
enum NonceHint {
    Next,
    Other(u64),
}

#[derive(Clone, Debug)]
struct TxSpec {
    from: u64,
    to: u64,
    amount: u64,
    nonce: NonceHint,
}

fn tx_spec(accounts: u64) -> impl Strategy<Value = TxSpec> {
    (
        0..accounts + 2,
        0..accounts + 2,
        prop_oneof![
            4 => 1u64..200,
            1 => Just(0u64),
            1 => Just(u64::MAX),
            1 => u64::MAX - 1000..=u64::MAX,
        ],
        prop_oneof![5 => Just(NonceHint::Next), 1 => (0u64..5).prop_map(NonceHint::Other)],
    )
        .prop_map(|(from, to, amount, nonce)| TxSpec {
            from,
            to,
            amount,
            nonce,
        })
}

fn realise(
    specs: &[TxSpec],
    model_nonces: &mut std::collections::HashMap<u64, u64>,
) -> Vec<Transfer> {
    // Nonce hints are resolved against the nonces the model will have when the transfer is
    // reached, assuming every earlier "Next" transfer of that sender commits; the engine and the
    // model then agree or disagree on each transfer for the same reasons.
    specs
        .iter()
        .map(|s| {
            let next = model_nonces.entry(s.from).or_insert(0);
            let nonce = match s.nonce {
                NonceHint::Next => *next,
                NonceHint::Other(n) => n,
            };
            if nonce == *next {
                *next += 1;
            }
            Transfer {
                from: s.from,
                to: s.to,
                amount: s.amount,
                nonce,
            }
        })
        .collect()
}

fn check_against_model(design: Design, accounts: u64, initial: u64, batches: Vec<Vec<TxSpec>>) {
    let engine = Arc::new(
        Engine::new(Config {
            accounts,
            initial_balance: initial,
            design,
            shards: 4,
            synthetic_cost: 0,
            prefetch: true,
        })
        .unwrap(),
    );
    let mut lane = match design {
        Design::SingleWriter => Some(engine.lane(&engine.shards_for_worker(0, 1)).unwrap()),
        Design::Cas => None,
    };
    let mut model = Model::new(accounts as usize, initial);
    let mut hints = std::collections::HashMap::new();
    for specs in batches {
        let batch = realise(&specs, &mut hints);
        let (outcome, results) = match lane.as_mut() {
            Some(l) => l.submit_detailed(&batch),
            None => engine.submit_detailed(&batch),
        };
        let expected: Vec<_> = batch.iter().map(|t| model.apply(t)).collect();
        assert_eq!(results, expected, "batch {batch:?}");
        assert_eq!(
            outcome.committed as usize,
            expected.iter().filter(|r| r.is_ok()).count()
        );
    }
    for id in 0..accounts {
        assert_eq!(
            engine.balance(id),
            Some(model.balances[id as usize]),
            "balance of {id}"
        );
        assert_eq!(
            engine.nonce(id),
            Some(model.nonces[id as usize]),
            "nonce of {id}"
        );
    }
    let stats = engine.stats();
    assert_eq!(stats.committed, model.committed);
    assert_eq!(stats.rejected, model.rejected);
    drop(lane);
    let audit = engine.audit();
    assert!(audit.ok, "{:?}", audit.problems);
    assert_eq!(audit.ledger_total_tx, model.committed);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn single_writer_matches_reference_model(
        accounts in 2u64..12,
        initial in 0u64..500,
        batches in prop::collection::vec(prop::collection::vec(tx_spec(12), 0..40), 1..8),
    ) {
        let batches = batches
            .into_iter()
            .map(|b| b.into_iter().map(|mut s| { s.from %= accounts + 2; s.to %= accounts + 2; s }).collect())
            .collect();
        check_against_model(Design::SingleWriter, accounts, initial, batches);
    }

    #[test]
    fn cas_matches_reference_model(
        accounts in 2u64..12,
        initial in 0u64..500,
        batches in prop::collection::vec(prop::collection::vec(tx_spec(12), 0..40), 1..8),
    ) {
        let batches = batches
            .into_iter()
            .map(|b| b.into_iter().map(|mut s| { s.from %= accounts + 2; s.to %= accounts + 2; s }).collect())
            .collect();
        check_against_model(Design::Cas, accounts, initial, batches);
    }
}

fn engine(design: Design, accounts: u64, initial: u64) -> Arc<Engine> {
    Arc::new(
        Engine::new(Config {
            accounts,
            initial_balance: initial,
            design,
            shards: 16,
            synthetic_cost: 0,
            prefetch: true,
        })
        .unwrap(),
    )
}

#[test]
fn concurrent_single_writer_lanes_keep_the_invariants() {
    // Few accounts and small balances: many transfers hit the same (hot) receivers and some
    // senders run dry, so insufficient-funds rejections and cross-lane credits both happen.
    let e = engine(Design::SingleWriter, 64, 50);
    let deadline = Instant::now() + Duration::from_millis(500);
    let submitted: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3u32)
            .map(|w| {
                let e = Arc::clone(&e);
                s.spawn(move || {
                    let mut lane = e.lane(&e.shards_for_worker(w, 3)).unwrap();
                    let mut cfg = GenConfig::uniform(64, u64::from(w) + 1);
                    cfg.amount_max = 40;
                    cfg.invalid.bad_nonce = 0.05;
                    let mut g = Generator::new(cfg, lane.sender_ranges(), None);
                    let mut batch = Vec::new();
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        g.fill(&mut batch, 32);
                        lane.submit(&batch);
                        g.reconcile(&batch, lane.last_applied(), |a| e.nonce(a));
                        n += batch.len() as u64;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let stats = e.stats();
    assert_eq!(stats.submitted, submitted);
    assert_eq!(stats.committed + stats.rejected_total(), submitted);
    assert!(stats.committed > 0);
    assert!(stats.rejected[RejectReason::InsufficientFunds as usize] > 0);
    assert_eq!(stats.rejected[RejectReason::NotOwner as usize], 0);
    let audit = e.audit();
    assert!(audit.ok, "{:?}", audit.problems);
}

#[test]
fn concurrent_cas_submitters_on_overlapping_senders_keep_the_invariants() {
    // Every thread submits transfers from the same 8 hot senders, racing for their nonces.
    let e = engine(Design::Cas, 32, 1_000);
    let deadline = Instant::now() + Duration::from_millis(500);
    let submitted: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3u64)
            .map(|w| {
                let e = Arc::clone(&e);
                s.spawn(move || {
                    let mut rng = fastrand::Rng::with_seed(w);
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        let batch: Vec<Transfer> = (0..16)
                            .map(|_| {
                                let from = rng.u64(0..8);
                                Transfer {
                                    from,
                                    to: rng.u64(0..32),
                                    amount: rng.u64(1..30),
                                    nonce: e.nonce(from).unwrap(),
                                }
                            })
                            .collect();
                        e.submit(&batch);
                        n += batch.len() as u64;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let stats = e.stats();
    assert_eq!(stats.committed + stats.rejected_total(), submitted);
    assert!(stats.committed > 0);
    let audit = e.audit();
    assert!(audit.ok, "{:?}", audit.problems);
    assert_eq!(audit.busy_senders, 0);
}

#[test]
fn amounts_near_u64_max_never_wrap() {
    // Total supply exactly u64::MAX - 1: the largest genesis allowed with 2 accounts.
    let half = u64::MAX / 2;
    let e = engine(Design::Cas, 2, half);
    let o = e.submit(&[Transfer {
        from: 0,
        to: 1,
        amount: half,
        nonce: 0,
    }]);
    assert_eq!(o.committed, 1);
    assert_eq!(e.balance(1), Some(half * 2));
    let o = e.submit(&[Transfer {
        from: 0,
        to: 1,
        amount: u64::MAX,
        nonce: 1,
    }]);
    assert_eq!(o.rejected(RejectReason::InsufficientFunds), 1);
    let o = e.submit(&[Transfer {
        from: 1,
        to: 0,
        amount: u64::MAX,
        nonce: 0,
    }]);
    assert_eq!(o.rejected(RejectReason::InsufficientFunds), 1);
    assert!(e.audit().ok);
    assert!(matches!(
        Engine::new(Config {
            accounts: 3,
            initial_balance: u64::MAX / 2,
            ..Config::default()
        }),
        Err(EngineError::SupplyOverflow { .. })
    ));
}

#[test]
fn empty_and_all_invalid_batches_commit_no_block() {
    let e = engine(Design::SingleWriter, 100, 10);
    let mut lane = e.lane(&e.shards_for_worker(0, 1)).unwrap();
    let empty = lane.submit(&[]);
    assert_eq!(
        (empty.submitted, empty.committed, empty.block),
        (0, 0, None)
    );
    let bad = vec![
        Transfer {
            from: 1,
            to: 1,
            amount: 1,
            nonce: 0,
        },
        Transfer {
            from: 1,
            to: 2,
            amount: 0,
            nonce: 0,
        },
        Transfer {
            from: 1,
            to: 200,
            amount: 1,
            nonce: 0,
        },
        Transfer {
            from: 1,
            to: 2,
            amount: 1,
            nonce: 9,
        },
        Transfer {
            from: 1,
            to: 2,
            amount: 11,
            nonce: 0,
        },
    ];
    let o = lane.submit(&bad);
    assert_eq!(o.committed, 0);
    assert_eq!(o.block, None);
    assert_eq!(o.rejected, [1, 1, 1, 1, 1, 0]);
    assert!(lane.last_applied().iter().all(|w| *w == 0));
    assert_eq!(e.head().height, 0);
    let good = lane.submit(&[Transfer {
        from: 1,
        to: 2,
        amount: 10,
        nonce: 0,
    }]);
    assert_eq!(good.block, Some(1));
    assert!(is_applied(lane.last_applied(), 0));
    drop(lane);
    let a = e.audit();
    assert!(a.ok, "{:?}", a.problems);
    assert_eq!(
        (a.ledger_height, a.committed_transfers, a.submitted),
        (1, 1, 6)
    );
}

#[test]
fn shard_ownership_is_exclusive() {
    let e = engine(Design::SingleWriter, 1000, 10);
    let lane = e.lane(&[0, 1]).unwrap();
    assert_eq!(e.lane(&[1]).err(), Some(EngineError::ShardTaken(1)));
    assert!(matches!(
        e.lane(&[999]),
        Err(EngineError::NoSuchShard { .. })
    ));
    let mut other = e.lane(&[2]).unwrap();
    let foreign = lane.sender_ranges()[0].start;
    let o = other.submit(&[Transfer {
        from: foreign,
        to: 999,
        amount: 1,
        nonce: 0,
    }]);
    assert_eq!(o.rejected(RejectReason::NotOwner), 1);
    drop(lane);
    assert!(e.lane(&[1]).is_ok(), "a dropped lane releases its shards");
    let cas = engine(Design::Cas, 10, 1);
    assert_eq!(
        cas.lane(&[0]).err(),
        Some(EngineError::WrongDesign(Design::Cas))
    );
}

#[test]
fn ten_million_accounts_work() {
    let e = engine(Design::SingleWriter, 10_000_000, 1_000);
    let mut lane = e.lane(&e.shards_for_worker(0, 1)).unwrap();
    let mut g = Generator::new(
        GenConfig::uniform(10_000_000, 5),
        lane.sender_ranges(),
        None,
    );
    let mut batch = Vec::new();
    g.fill(&mut batch, 4096);
    assert_eq!(lane.submit(&batch).committed, 4096);
    drop(lane);
    assert!(e.audit().ok);
}
