//! What generates load: the threads driver (in-process engine, mock), our own HTTP generator,
//! and goose.
//!
//! A driver is chosen from the plan alone ([`Driver::for_plan`], before any target exists) and
//! then started against a prepared target. Drivers import [`crate::targets`]; targets never
//! import drivers, so a new driver, TLS or pipelining changes one folder.

pub mod goose;
pub(crate) mod http_native;
pub(crate) mod threads;

use crate::load::shipment::Shipment;
use crate::load::timeline::{SpanKind, Timeline};
use crate::load::worker::Shared;
use crate::targets::Target;
use anyhow::{bail, Result};
use crossbeam_channel::Sender;
use results::DriverInfo;
use scenario::Plan;
use std::sync::Arc;
use std::thread::JoinHandle;

/// The load generator of one run.
#[derive(Clone, Debug)]
pub enum Driver {
    /// Worker threads in this process (in-process engine, mock).
    Threads { workers: u32 },
    /// Our own HTTP generator.
    HttpNative(http_native::HttpNative),
    /// goose, for closed-model HTTP scenarios.
    Goose(goose::Goose),
}

impl Driver {
    /// The driver a plan asks for. Pure: nothing is started.
    pub fn for_plan(plan: &Plan) -> Result<Driver, scenario::DriverError> {
        Ok(match (plan.driver, plan.target.is_http()) {
            (scenario::Driver::Goose, _) => Driver::Goose(goose::Goose::for_plan(plan)?),
            (scenario::Driver::Native, true) => {
                Driver::HttpNative(http_native::HttpNative::for_plan(plan))
            }
            (scenario::Driver::Native, false) => Driver::Threads {
                workers: threads::workers_for(&Timeline::new(plan)),
            },
        })
    }

    /// Workers (threads, connections, goose users) this driver runs.
    pub fn workers(&self) -> u32 {
        match self {
            Driver::Threads { workers } => *workers,
            Driver::HttpNative(d) => d.workers(),
            Driver::Goose(d) => d.workers(),
        }
    }

    /// Starts the workers against `target`; they ship to `tx` until the plan ends or the run
    /// stops. The caller joins the returned threads.
    pub fn start(
        &self,
        target: &Target,
        shared: &Arc<Shared>,
        tx: &Sender<Shipment>,
    ) -> Result<Vec<JoinHandle<()>>> {
        match (self, target) {
            (Driver::Threads { .. }, Target::InProcess(t)) => threads::spawn_engine(t, shared, tx),
            (Driver::Threads { .. }, Target::Mock(m)) => threads::spawn_mock(m, shared, tx),
            (Driver::HttpNative(d), Target::Http(t)) => d.spawn(t, shared, tx),
            (Driver::Goose(d), Target::Http(t)) => goose::spawn(d, t, shared, tx),
            (d, t) => bail!("driver {} cannot drive a {} target", d.name(), t.kind()),
        }
    }

    /// "native" or "goose", as results.json names it.
    pub fn name(&self) -> &'static str {
        match self {
            Driver::Goose(_) => "goose",
            Driver::Threads { .. } | Driver::HttpNative(_) => "native",
        }
    }

    /// What results.json says about how the load was generated.
    pub fn info(&self, plan: &Plan, target: &Target) -> DriverInfo {
        let mut notes = match self {
            Driver::Threads { workers } => {
                threads_notes(plan, target.own_workers().unwrap_or(*workers))
            }
            Driver::HttpNative(d) => d.notes(),
            Driver::Goose(d) => goose::notes(d),
        };
        notes.extend(target.notes());
        match self {
            Driver::Goose(_) => DriverInfo {
                name: self.name().to_string(),
                latency_resolution_ns: goose::LATENCY_RESOLUTION_NS,
                latency_basis: "service time to first byte (goose's own timing)".to_string(),
                batch_size: batch_size(plan),
                notes,
                // goose's reqwest does its own TLS (its notes say how).
                tls: None,
            },
            _ => DriverInfo {
                name: self.name().to_string(),
                latency_resolution_ns: 1,
                latency_basis: native_latency_basis(&Timeline::new(plan), plan),
                batch_size: batch_size(plan),
                notes,
                tls: match (self, target) {
                    (Driver::HttpNative(d), Target::Http(t)) => {
                        t.tls.as_ref().map(|tls| tls.info(d.alpn()))
                    }
                    _ => None,
                },
            },
        }
    }
}

/// Transactions one operation carries, when operations are batches: always in process; over
/// HTTP only when some request carries a binary batch (a GET or one JSON transfer is not "a
/// batch of 1,024", whatever the workload's default batch size).
fn batch_size(plan: &Plan) -> Option<u64> {
    let batches = !plan.target.is_http()
        || plan
            .requests
            .iter()
            .any(|r| matches!(r.body, scenario::Body::BinaryBatch));
    batches.then_some(u64::from(plan.workload.batch_size))
}

/// Where the native drivers measure latency from, by the plan's load models, and what else
/// the latency of an HTTP request holds: a connect when connections are not kept alive,
/// waiting behind earlier requests when they are pipelined.
fn native_latency_basis(tl: &Timeline, plan: &Plan) -> String {
    let mut basis = load_model_basis(tl);
    if plan.target.is_http() {
        match plan.http.max_requests_per_connection {
            None => {}
            Some(1) => basis.push_str("; includes the TCP connect (a new connection per request)"),
            Some(n) => basis.push_str(&format!(
                "; the first of every {n} requests on a connection includes the TCP connect"
            )),
        }
        if plan.http.pipeline > 1 {
            basis.push_str(&format!(
                "; pipelined (depth {}): includes waiting behind earlier requests on the connection",
                plan.http.pipeline
            ));
        }
    }
    basis
}

/// Where latency runs from, by the plan's load models.
fn load_model_basis(tl: &Timeline) -> String {
    let open = tl
        .spans
        .iter()
        .any(|s| matches!(s.kind, SpanKind::Open { .. }));
    let closed = tl
        .spans
        .iter()
        .any(|s| matches!(s.kind, SpanKind::Closed { .. }));
    match (open, closed) {
        (true, false) => "intended start (coordinated-omission corrected)".to_string(),
        (false, _) => "service time".to_string(),
        (true, true) => "open stages: intended start (coordinated-omission corrected); closed stages: service time".to_string(),
    }
}

fn threads_notes(plan: &Plan, workers: u32) -> Vec<String> {
    vec![
        format!(
            "in-process: {workers} worker threads apply batches of {} transfers; one operation = one batch; latency is per batch",
            plan.workload.batch_size
        ),
        "errors are transfers the engine rejected, by reason; error rate = rejected / submitted transfers".to_string(),
        "resources: the target is the harness process itself (engine and load generator together)".to_string(),
    ]
}
