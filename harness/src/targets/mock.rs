//! A mock target whose latency is known exactly: every operation takes `latency`, and an
//! optional stall makes every operation that is in flight or starts during
//! `[stall_at, stall_at + stall_for)` finish at the stall's end. Used to prove the harness
//! measures what it claims (percentiles, coordinated omission, schedules). The threads driver
//! runs it (`drivers::threads`).

use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub struct Mock {
    pub latency: Duration,
    /// Offset from the run's start, and length, of a single stall.
    pub stall: Option<(Duration, Duration)>,
    /// Operations it serves at once (one driver thread each), like a server's worker count.
    pub workers: u32,
}
