//! Where load goes: the engine in this process, a mock of exactly known latency, or an HTTP
//! service (running, or spawned by the harness).
//!
//! A target knows how to be prepared, described, sampled (its PID), audited and finished; it
//! knows nothing of what generates the load (`drivers` imports this module, never the
//! other way round).

pub mod carried;
pub mod http;
pub mod inprocess;
pub mod mock;

use http::HttpTarget;
use inprocess::InProcess;
use mock::Mock;
use results::AuditResult;
use scenario::Plan;
use std::time::Duration;

/// What a run drives.
pub enum Target {
    InProcess(InProcess),
    /// A target of exactly known latency, for testing the harness itself.
    Mock(Mock),
    /// An HTTP service, already running or spawned by the harness (boxed: it is much larger
    /// than the other variants and built once per run).
    Http(Box<HttpTarget>),
}

impl Target {
    /// "in-process", "spawn" or "http", as results.json names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Http(t) => t.kind(),
            Target::InProcess(_) | Target::Mock(_) => "in-process",
        }
    }

    /// A one-line description for the result.
    pub fn describe(&self, plan: &Plan) -> String {
        match self {
            Target::InProcess(t) => format!(
                "engine ({}, {} accounts, {} shards)",
                t.engine.design().as_str(),
                plan.workload.accounts,
                t.engine.shards()
            ),
            Target::Mock(m) => format!("mock ({:?} per operation)", m.latency),
            Target::Http(t) => t.describe(),
        }
    }

    /// The process to sample as the target, when it is not this one.
    pub fn pid(&self) -> Option<u32> {
        match self {
            Target::Http(t) => t.pid(),
            Target::InProcess(_) | Target::Mock(_) => None,
        }
    }

    /// Whether the target runs inside the harness's process (one set of resources).
    pub fn same_process(&self) -> bool {
        !matches!(self, Target::Http(_))
    }

    /// Worker threads the target itself fixes (the in-process engine's lanes, the mock's
    /// slots), when it does.
    pub fn own_workers(&self) -> Option<u32> {
        match self {
            Target::InProcess(t) => Some(t.workers()),
            Target::Mock(m) => Some(m.workers),
            Target::Http(_) => None,
        }
    }

    /// How long the target took to start: genesis build in-process, spawn to healthy.
    pub fn startup(&self) -> Option<Duration> {
        match self {
            Target::InProcess(t) => Some(t.startup),
            Target::Mock(_) => None,
            Target::Http(t) => t.startup,
        }
    }

    /// Whether errors are counted per transaction (rejected transfers) rather than per
    /// operation.
    pub fn per_tx_errors(&self, plan: &Plan) -> bool {
        match self {
            Target::InProcess(_) => true,
            Target::Mock(_) => false,
            // Rejected transfers are counted per transfer when requests carry them.
            Target::Http(_) => plan.tx_per_op() > 0.0,
        }
    }

    /// The engine's audit, once the run is over (after [`Target::finish`] for HTTP).
    pub fn audit(&self) -> Option<AuditResult> {
        match self {
            Target::InProcess(t) => Some(inprocess::audit_result(&t.engine.audit())),
            Target::Mock(_) => None,
            Target::Http(t) => t.end.as_ref().and_then(|e| e.audit.clone()),
        }
    }

    /// After the load stopped: for our engine over HTTP, compares its committed count with the
    /// harness's and fetches its audit; stops a spawned server.
    pub fn finish(&mut self, harness_committed: u64, uncertain_requests: u64) {
        if let Target::Http(t) = self {
            t.finish(harness_committed, uncertain_requests);
        }
    }

    /// Notes on the target for the result.
    pub fn notes(&self) -> Vec<String> {
        match self {
            Target::Http(t) => t.notes(),
            Target::InProcess(t) => vec![format!(
                "startup = engine genesis build time ({:.1} ms)",
                t.startup.as_secs_f64() * 1e3
            )],
            Target::Mock(_) => vec!["startup not measured for this target".to_string()],
        }
    }
}
