//! A lock-free, in-memory transaction engine: the system under test.
//!
//! Accounts hold balances and nonces; a [`Transfer`] moves an amount between two accounts and is
//! valid when its nonce is the sender's next one and the sender can pay. Batches of transfers
//! are validated and applied with no lock on the hot path ([`Engine`], [`Lane`]), committed to a
//! hash-chained [`ledger`], and the invariants can be checked at any quiet moment with
//! [`Engine::audit`].
//!
//! The core has no async or HTTP dependency; the HTTP server is the `server` module, behind the
//! `server` feature, and the `engine` binary.
//!
//! ```
//! use engine::{Config, Engine, GenConfig, Generator};
//! use std::sync::Arc;
//!
//! let engine = Arc::new(Engine::new(Config { accounts: 10_000, ..Config::default() }).unwrap());
//! let mut lane = engine.lane(&engine.shards_for_worker(0, 1)).unwrap();
//! let mut gen = Generator::new(GenConfig::uniform(10_000, 1), lane.sender_ranges(), None);
//! let mut batch = Vec::new();
//! gen.fill(&mut batch, 1024);
//! let outcome = lane.submit(&batch);
//! assert_eq!(outcome.committed, 1024);
//! drop(lane);
//! assert!(engine.audit().ok);
//! ```

mod accounts;
mod engine;
pub mod exposition;
pub mod gen;
pub mod ledger;
#[cfg(feature = "server")]
pub mod server;
pub mod tx;

pub use accounts::Account;
pub use engine::{
    is_applied, AuditReport, BatchOutcome, Config, Design, Engine, EngineError, Lane, Stats,
};
pub use gen::{AccountChoice, GenConfig, Generator, InvalidMix, ZipfPool};
pub use ledger::Block;
pub use tx::{
    decode_batch, decode_batch_into, encode_batch, DecodeError, RejectReason, Transfer, RECORD_SIZE,
};
