//! The second HTTP driver: the same scenario, driven by goose instead of our own generator.
//!
//! Why: our users already script load in goose (the Rust load-testing framework). With
//! `driver = "goose"` (or `harness run --driver goose`) one scenario file runs through either
//! generator, and both land in the same [`results::RunResult`], reports, criteria and
//! `harness compare`, so a user sees what each generator achieved and what each cost.
//!
//! How the scenario maps onto goose:
//! - One goose scenario; each request template becomes a goose transaction with the
//!   template's weight (goose then runs the transactions of a user in weighted order, instead
//!   of our random pick). Method, path, headers and body come from the same prepared
//!   [`RequestTable`] and body generators as the native driver, so transfers carry valid
//!   nonces: each goose user owns the sender range of the native worker with its index.
//! - Closed-model stages become a goose test plan ([`test_plan`]): for each stage, a jump to
//!   its starting users when that differs from the level before (a 0 s step), then a step to
//!   its final users over its duration (a hold when equal); a final `0,0` stops every user.
//!   goose reads test-plan times in whole seconds, so stage durations are rounded
//!   ([`test_plan_spec`]); the run's notes say when that changed a duration.
//! - Open-model stages are refused (`scenario::DriverError::OpenStage`, by
//!   [`scenario::check_driver`], the one check for a file's `driver = "goose"` and `--driver goose`): goose has no
//!   arrival-rate model, only a throttle capping requests per second, which cannot start a
//!   request while earlier ones are outstanding, so a planned rate would silently become
//!   "at most this rate" and the latency would hide coordinated omission.
//! - The configuration is built in code ([`GooseConfiguration::default`], never from the
//!   process's argv): host = the checked loopback address of the target, telnet and
//!   WebSocket controllers off, no report files, no printed metrics, quiet console, gzip off
//!   (the native driver does not ask for it either).
//!
//! Measuring: goose gives no per-interval series, so the transaction functions count for
//! themselves. Each goose user owns a [`WorkerCore`] (its id = goose's user index, so the
//! collector counts active users per interval) and records every request into it: goose's
//! own per-request time (`GooseRequestMetric::response_time_micros`: time to first byte,
//! i.e. until the response headers arrived, truncated to whole microseconds in goose 0.19),
//! completions, errors by kind and, for transaction requests, the committed and rejected
//! counts parsed from the engine's answer (the body is read after goose's timer stopped).
//! From there the collector, resource sampler, profiler, criteria, reports and compare work
//! exactly as for a native run. The per-user state sits behind an uncontended mutex (one user
//! runs one transaction at a time); two lock round trips per request are far below the cost
//! of goose's client and metrics channel.
//!
//! Ctrl-C: goose installs a process-wide ctrlc handler when an attack starts, and the ctrlc
//! crate allows only one. The harness CLI installs its own first (`cancel::on_interrupt`,
//! called before any run), so goose's registration fails, which goose tolerates (it logs it and
//! clears its killswitch). Our handler cancels the run's token, which the collector polls; it sets
//! the run's stop flag; a watcher task here then calls [`goose::trigger_killswitch`] (again
//! every 50 ms while stopped, because goose clears the killswitch as an attack starts). goose
//! stops its users gracefully and returns; the users' last slices are shipped, and the run
//! ends as any interrupted run does: results.json with status `aborted`, exit code 3. A
//! second Ctrl-C exits at once through our handler, as for native runs. (A library caller that
//! installs no handler leaves the signal to goose: its run then stops through goose's own.)

use crate::drivers::http_native::{generator_threads, http_workers};
use crate::load::errors::{ErrorKind, OpOutcome};
use crate::load::shipment::Shipment;
use crate::load::worker::{Shared, WorkerCore};
use crate::targets::http::judge::{body_hold, judge};
use crate::targets::http::maker::RequestMaker;
use crate::targets::http::request::RequestTable;
use crate::targets::http::HttpTarget;
use anyhow::Context as _;
use crossbeam_channel::Sender;
use goose::config::{GooseConfiguration, GooseDefault, GooseDefaultType};
use goose::goose::{
    GooseMethod, GooseRequest, GooseResponse, GooseUser, Scenario, Transaction, TransactionResult,
};
use goose::GooseAttack;
use hyper::Method;
use scenario::{DriverError, Load, Plan};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The goose line this driver is written and documented against.
pub const GOOSE_VERSION: &str = "0.19";

/// Finest latency step goose records per request: whole microseconds (goose 0.19 keeps the
/// microseconds past the whole milliseconds in `response_time_fraction_us`).
pub const LATENCY_RESOLUTION_NS: u64 = 1_000;

/// How often the watcher looks at the run's stop flag.
const WATCH_EVERY: Duration = Duration::from_millis(50);

/// The goose test plan for a plan's closed-model stages: `(users, time to reach them)` steps.
/// A stage whose starting users differ from the level before begins with a 0 s jump; then it
/// ramps (or holds) to its final users over its duration; a final `(0, 0 s)` stops everyone.
/// Worker counts are rounded as the native timeline rounds them.
pub fn test_plan(plan: &Plan) -> Result<Vec<(usize, Duration)>, DriverError> {
    if plan.stages.is_empty() {
        return Err(DriverError::NoStages);
    }
    let mut steps = Vec::with_capacity(plan.stages.len() * 2 + 1);
    let mut level = 0usize;
    for (index, stage) in plan.stages.iter().enumerate() {
        let Load::Closed { workers } = &stage.load else {
            return Err(DriverError::OpenStage {
                index,
                name: stage.name.clone(),
            });
        };
        let from = workers.from.round().max(0.0) as usize;
        let to = workers.to.round().max(0.0) as usize;
        if from != level {
            steps.push((from, Duration::ZERO));
        }
        steps.push((to, stage.duration));
        level = to;
    }
    steps.push((0, Duration::ZERO));
    Ok(steps)
}

/// The test plan in goose's `--test-plan` syntax (`users,seconds;...`), and whether rounding to
/// goose's whole seconds changed any step (a step of under a second but above zero becomes 1 s
/// so that it still happens).
pub fn test_plan_spec(steps: &[(usize, Duration)]) -> (String, bool) {
    let mut rounded = false;
    let parts: Vec<String> = steps
        .iter()
        .map(|(users, d)| {
            let mut secs = d.as_secs_f64().round() as u64;
            if secs == 0 && !d.is_zero() {
                secs = 1;
            }
            rounded |= Duration::from_secs(secs) != *d;
            format!("{users},{secs}")
        })
        .collect();
    (parts.join(";"), rounded)
}

fn goose_method(m: &Method) -> Option<GooseMethod> {
    Some(match *m {
        Method::GET => GooseMethod::Get,
        Method::POST => GooseMethod::Post,
        Method::PUT => GooseMethod::Put,
        Method::PATCH => GooseMethod::Patch,
        Method::DELETE => GooseMethod::Delete,
        Method::HEAD => GooseMethod::Head,
        _ => return None,
    })
}

/// The goose driver for one run: its test plan and what it reports back.
#[derive(Clone, Debug)]
pub struct Goose {
    state: GooseState,
    /// Goose users (the most the test plan starts), each with a native worker's senders.
    workers: u32,
    threads: u32,
    timeout: Duration,
}

impl Goose {
    /// The driver for a plan [`scenario::check_driver`] accepts.
    pub fn for_plan(plan: &Plan) -> Result<Goose, DriverError> {
        let workers = http_workers(plan);
        Ok(Goose {
            state: GooseState::for_plan(plan)?,
            workers,
            threads: generator_threads().min(workers),
            timeout: plan.http.timeout,
        })
    }

    pub fn workers(&self) -> u32 {
        self.workers
    }

    /// The goose test plan this run uses (`users,seconds;...`).
    pub fn spec(&self) -> String {
        self.state.spec()
    }
}

/// What the goose driver keeps between [`spawn`] and the run's notes.
#[derive(Clone, Debug, Default)]
pub struct GooseState {
    inner: Arc<Mutex<Report>>,
}

#[derive(Clone, Debug, Default)]
struct Report {
    scenario: String,
    spec: String,
    rounded: bool,
    users: usize,
    names: Vec<(String, usize)>,
    /// goose's own totals at the end (requests, failures), for a cross-check.
    goose_totals: Option<(u64, u64)>,
    /// Set when the attack failed to run or ended with an error.
    error: Option<String>,
    /// The target is https (goose's client made the TLS connections).
    https: bool,
}

impl GooseState {
    /// The state for a plan that [`scenario::check_driver`] accepted.
    pub fn for_plan(plan: &Plan) -> Result<GooseState, DriverError> {
        scenario::check_driver(plan)?;
        let steps = test_plan(plan)?;
        let (spec, rounded) = test_plan_spec(&steps);
        let report = Report {
            scenario: plan.name.clone(),
            users: steps.iter().map(|s| s.0).max().unwrap_or(0),
            spec,
            rounded,
            names: plan
                .requests
                .iter()
                .map(|r| (r.name.clone(), r.weight.max(1) as usize))
                .collect(),
            ..Report::default()
        };
        Ok(GooseState {
            inner: Arc::new(Mutex::new(report)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Report> {
        // A poisoned report only means a panic elsewhere; its data is still what we have.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The goose test plan this run uses (`users,seconds;...`).
    pub fn spec(&self) -> String {
        self.lock().spec.clone()
    }

    /// The error the attack ended with, if any.
    pub fn error(&self) -> Option<String> {
        self.lock().error.clone()
    }
}

/// One goose user's recorder and request builder.
struct UserState {
    core: WorkerCore,
    maker: RequestMaker,
}

/// What every transaction function shares.
struct AttackState {
    table: Arc<RequestTable>,
    methods: Vec<GooseMethod>,
    names: Vec<String>,
    /// By goose user index.
    users: Vec<Mutex<Option<UserState>>>,
    shared: Arc<Shared>,
    /// The target is our engine: transaction answers must carry `"committed"`.
    engine: bool,
}

fn lock_user(m: &Mutex<Option<UserState>>) -> MutexGuard<'_, Option<UserState>> {
    // A panic in another transaction of the same user cannot leave the recorder half-updated
    // in a way that matters more than losing the run's figures; keep going.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn transport_error(timeout: bool, connect: bool) -> ErrorKind {
    if timeout {
        ErrorKind::Timeout
    } else if connect {
        ErrorKind::Connect
    } else {
        ErrorKind::Io
    }
}

impl AttackState {
    /// The stage a completion at `done` belongs to (the last one past the plan's end: goose's
    /// test plan, in whole seconds, may run a little longer than ours).
    fn stage_at(&self, done: Instant) -> usize {
        let tl = &self.shared.timeline;
        tl.stage_at(self.shared.elapsed(done))
            .map_or(tl.spans.len().saturating_sub(1), |(i, _)| i)
    }

    /// One request of template `t` by `user`: build, send through goose, judge, record.
    async fn one(&self, user: &mut GooseUser, t: usize) -> TransactionResult {
        let Some(slot) = self.users.get(user.weighted_users_index) else {
            return Ok(());
        };
        let (body, submitted_tx) = match lock_user(slot).as_mut() {
            Some(u) => u.maker.body_for(t),
            // The run is over and this user's figures were shipped.
            None => return Ok(()),
        };
        let (_, uri, headers) = self.table.parts(t);
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let builder = user
            .get_request_builder(&self.methods[t], path)?
            .headers(headers.clone())
            .body(body);
        let request = GooseRequest::builder()
            .set_request_builder(builder)
            .name(self.names[t].as_str())
            .build();
        let mut goose = user.request(request).await?;
        let ns = goose
            .request
            .response_time_micros()
            .saturating_mul(1_000)
            .max(1);
        let outcome = self.judged(&mut goose, t, submitted_tx).await;
        let done = Instant::now();
        // Recorded first: goose's `set_failure` always returns an error (for the transaction
        // to pass on), and recording after its `?` lost every operation that failed after
        // goose called it a success (a body cut by a reset, a body that timed out: a run
        // against such a server reported no operations and no errors).
        let stage = self.stage_at(done);
        if let Some(u) = lock_user(slot).as_mut() {
            u.core.record(done, stage, ns, &outcome.of_template(t));
        }
        // Keep goose's own success count in line with ours (expected statuses other than 2xx,
        // bodies without a committed count).
        if goose.request.success && outcome.failed {
            return user.set_failure("harness: unexpected answer", &mut goose.request, None, None);
        } else if !goose.request.success && !outcome.failed {
            user.set_success(&mut goose.request)?;
        }
        Ok(())
    }

    /// What goose's answer to a request of template `t` (which carried `submitted_tx`
    /// transfers) comes to: read whole, judged, and sampled when it failed (`load::answers`).
    async fn judged(&self, goose: &mut GooseResponse, t: usize, submitted_tx: u64) -> OpOutcome {
        let response = match &mut goose.response {
            Ok(response) => response,
            // A refused certificate or handshake is `tls`, as for the native driver (goose's
            // client is rustls too); only the count is kept, not the message.
            Err(e) if crate::targets::http::tls::in_chain(&*e) => {
                return OpOutcome::failure(ErrorKind::Tls, submitted_tx)
            }
            Err(e) => {
                let kind = transport_error(e.is_timeout(), e.is_connect());
                return OpOutcome::failure(kind, submitted_tx);
            }
        };
        let status = response.status().as_u16();
        // Read the whole body (the engine's committed count is in it, and an unread body would
        // keep the connection from going back to the pool), holding only what the template
        // needs, up to `max_body`: reqwest's `bytes()` held it all, so a server streaming
        // without end grew memory until the request timeout. A failed answer holds a little
        // more, for the sample (`body_hold`).
        let hold = body_hold(status, self.table.needs(t).body.unwrap_or(0));
        let (mut kept, mut cut) = (Vec::new(), false);
        loop {
            match response.chunk().await {
                Ok(Some(c)) => {
                    let room = hold.saturating_sub(kept.len());
                    kept.extend_from_slice(&c[..c.len().min(room)]);
                    cut |= c.len() > room;
                }
                Ok(None) => break,
                Err(e) => {
                    let kind = transport_error(e.is_timeout(), false);
                    return OpOutcome::failure(kind, submitted_tx);
                }
            }
        }
        let o = judge(&self.table, self.engine, t, status, &kept, submitted_tx).of_template(t);
        let at = self.shared.elapsed(Instant::now());
        self.shared.answers.note(&o, status, &kept, cut, at);
        o
    }

    /// Ships every user's last slice and drops its channel sender, so the collector sees the
    /// end of the run.
    fn finish_users(&self) {
        for slot in &self.users {
            if let Some(u) = lock_user(slot).take() {
                drop(u.core);
            }
        }
    }
}

/// Builds the goose attack for `target` and starts it on its own thread (a multi-thread tokio
/// runtime with one worker per generator thread); returns that thread for the run to join.
pub fn spawn(
    driver: &Goose,
    target: &HttpTarget,
    shared: &Arc<Shared>,
    tx: &Sender<Shipment>,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let state = driver.state.clone();
    let (spec, names, users) = {
        let mut r = state.lock();
        r.https = target.endpoint.tls;
        (r.spec.clone(), r.names.clone(), r.users)
    };
    if names.is_empty() {
        anyhow::bail!("driver goose: the scenario has no [[requests]]");
    }
    let table = Arc::clone(target.table());
    let workers = driver.workers;
    let mut slots = Vec::with_capacity(users);
    for id in 0..workers {
        let core = WorkerCore::new(id, Arc::clone(shared), tx.clone());
        let maker = RequestMaker::new(Arc::clone(&table), id, workers)?;
        slots.push(Mutex::new(Some(UserState { core, maker })));
    }
    let mut methods = Vec::with_capacity(table.len());
    for (t, (name, _)) in names.iter().enumerate() {
        let m = table.parts(t).0;
        methods.push(goose_method(m).ok_or_else(|| DriverError::Method {
            name: name.clone(),
            method: m.to_string(),
        })?);
    }
    let ctx = Arc::new(AttackState {
        table,
        methods,
        names: names.iter().map(|(n, _)| n.clone()).collect(),
        users: slots,
        shared: Arc::clone(shared),
        engine: target.is_engine(),
    });

    let attack = build_attack(config(driver, target), &state, &ctx, &spec)
        .with_context(|| format!("configuring goose with test plan {spec:?}"))?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(driver.threads.max(1) as usize)
        .thread_name("harness-goose")
        .enable_all()
        .build()
        .context("building goose's tokio runtime")?;
    let shared = Arc::clone(shared);
    let handle = std::thread::Builder::new()
        .name("harness-goose-attack".to_string())
        .spawn(move || {
            let result = rt.block_on(async {
                let watcher = tokio::spawn(watch_stop(Arc::clone(&shared)));
                let r = attack.execute().await;
                watcher.abort();
                r
            });
            ctx.finish_users();
            report_end(&state, &shared, result);
        })
        .context("spawning the goose attack thread")?;
    Ok(vec![handle])
}

/// goose's configuration, built in code (never from the process's argv): the checked loopback
/// address, no controllers, no report files or printed metrics, gzip off. An https target is
/// named by its URL's host (the certificate is checked against it; every address it resolved
/// to passed the loopback check), a plain one by the checked address itself.
fn config(driver: &Goose, target: &HttpTarget) -> GooseConfiguration {
    let mut config = GooseConfiguration::default();
    let ep = &target.endpoint;
    config.host = Some(if ep.tls {
        format!("https://{}", ep.authority)
    } else {
        format!("http://{}", ep.addrs[0])
    });
    config.quiet = 1;
    config.no_print_metrics = true;
    config.no_error_summary = true;
    config.no_telnet = true;
    config.websocket = false;
    config.no_gzip = true;
    config.timeout = Some(format!("{:.3}", driver.timeout.as_secs_f64().max(0.001)));
    config
}

/// Keeps goose's own totals for the notes, or the error the attack ended with.
fn report_end(
    state: &GooseState,
    shared: &Shared,
    result: Result<goose::metrics::GooseMetrics, goose::GooseError>,
) {
    let mut report = state.lock();
    match result {
        Ok(metrics) => {
            let (mut ok, mut failed) = (0u64, 0u64);
            for agg in metrics.requests.values() {
                ok += agg.success_count as u64;
                failed += agg.fail_count as u64;
            }
            report.goose_totals = Some((ok + failed, failed));
        }
        Err(e) => {
            eprintln!("error: the goose attack failed: {e}");
            report.error = Some(e.to_string());
            // The run has no load to report: stop the collector's clock too.
            shared.stop.store(true, Ordering::Relaxed);
        }
    }
}

fn build_attack(
    config: GooseConfiguration,
    state: &GooseState,
    ctx: &Arc<AttackState>,
    spec: &str,
) -> Result<Box<GooseAttack>, goose::GooseError> {
    let scenario_name = state.lock().scenario.clone();
    let names = state.lock().names.clone();
    let mut scenario = Scenario::new(&scenario_name);
    for (t, (name, weight)) in names.iter().enumerate() {
        let ctx = Arc::clone(ctx);
        let f: goose::goose::TransactionFunction = Arc::new(move |user: &mut GooseUser| {
            let ctx = Arc::clone(&ctx);
            Box::pin(async move { ctx.one(user, t).await })
        });
        scenario =
            scenario.register_transaction(Transaction::new(f).set_name(name).set_weight(*weight)?);
    }
    GooseAttack::initialize_with_config(config)?
        .register_scenario(scenario)
        .set_default(GooseDefault::TestPlan, spec)
}

/// Turns the run's stop flag (set by the collector on Ctrl-C) into goose's killswitch.
async fn watch_stop(shared: Arc<Shared>) {
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            // Repeated on purpose: goose clears the killswitch when an attack starts.
            goose::trigger_killswitch("harness: run stopped (Ctrl-C)");
        }
        tokio::time::sleep(WATCH_EVERY).await;
    }
}

/// Notes for the result describing how goose drove the target.
pub fn notes(driver: &Goose) -> Vec<String> {
    let r = driver.state.lock();
    let mut n = vec![
        format!(
            "goose {GOOSE_VERSION}: one goose scenario {:?}, {} weighted transaction(s) ({}), at most {} users, test plan \"{}\" (users,seconds; goose's own client: reqwest, HTTP/1.1 keep-alive, gzip off; request timeout {:?}; {} runtime thread(s))",
            r.scenario,
            r.names.len(),
            r.names
                .iter()
                .map(|(n, w)| format!("{n} x{w}"))
                .collect::<Vec<_>>()
                .join(", "),
            r.users,
            r.spec,
            driver.timeout,
            driver.threads
        ),
        "one operation = one request; latency = goose's own per-request time to first byte (request sent to response headers), which goose 0.19 records in whole microseconds; the body is read afterwards and not counted (the native driver counts it)".to_string(),
        "goose gives no per-interval series: the harness counts completions, errors and committed transfers inside the goose transaction functions, so intervals, stages, criteria and resources come from the same collector as native runs".to_string(),
    ];
    if r.https {
        n.push("https: goose's own client (reqwest with rustls) made the TLS connections, verifying against the system's roots with SNI from the URL, TLS 1.2 and 1.3 and session resumption; connect and TLS handshake times are not recorded for goose".to_string());
    }
    if r.rounded {
        n.push("goose reads test-plan times in whole seconds: stage durations were rounded, so goose's users follow the stages only to the nearest second".to_string());
    }
    if let Some((requests, failed)) = r.goose_totals {
        n.push(format!(
            "goose's own totals for the run: {requests} requests, {failed} failed"
        ));
    }
    if let Some(e) = &r.error {
        n.push(format!("the goose attack failed: {e}"));
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_rounds_to_whole_seconds() {
        let steps = vec![
            (1, Duration::ZERO),
            (1, Duration::from_millis(500)),
            (64, Duration::from_secs(40)),
            (0, Duration::ZERO),
        ];
        assert_eq!(
            test_plan_spec(&steps),
            ("1,0;1,1;64,40;0,0".to_string(), true)
        );
        let exact = vec![(8, Duration::from_secs(3)), (0, Duration::ZERO)];
        assert_eq!(test_plan_spec(&exact), ("8,3;0,0".to_string(), false));
    }

    #[test]
    fn transport_errors_by_kind() {
        assert_eq!(transport_error(true, true), ErrorKind::Timeout);
        assert_eq!(transport_error(false, true), ErrorKind::Connect);
        assert_eq!(transport_error(false, false), ErrorKind::Io);
    }
}
