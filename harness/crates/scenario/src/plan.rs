//! The validated, immutable run plan.
//!
//! A [`Plan`] is what a scenario file means once every value has been checked and typed:
//! durations are [`Duration`]s, rates are per-second `f64`s, sizes are bytes, mutually exclusive
//! modes are enums. It is built once by [`crate::parse`] / [`crate::load`] and handed down by
//! reference; nothing downstream re-reads the TOML. It derives `Serialize` (and `Deserialize`)
//! because the run result embeds it, so a `results.json` says exactly what was asked for.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A validated scenario, ready to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// `[scenario] name`, `[A-Za-z0-9_-]+` (used in directory names).
    pub name: String,
    pub description: Option<String>,
    /// The file the plan was read from (as given to [`crate::load`] / [`crate::parse`]).
    pub file: PathBuf,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    pub driver: Driver,
    pub target: Target,
    pub workload: Workload,
    /// HTTP client options (defaults for in-process targets, where they are unused).
    pub http: HttpOptions,
    /// HTTP request templates; empty for in-process targets.
    pub requests: Vec<RequestTemplate>,
    /// `[[data]]` feeders, in file order.
    #[serde(default)]
    pub data: Vec<DataSource>,
    pub stages: Vec<Stage>,
    /// Time from run start excluded from the verdict: either `[scenario] warmup` or the total
    /// duration of the leading stages marked `warmup = true` (zero when neither is given).
    pub warmup: Duration,
    pub criteria: Criteria,
    pub capacity: Option<Capacity>,
    pub output: Output,
    /// Product of every [`Plan::scaled`] factor applied; 1.0 for a plan as written.
    pub duration_scale: f64,
}

/// Which load generator drives the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    /// Our own open/closed-model driver with HDR recording.
    #[default]
    Native,
    /// The goose framework (closed model only, HTTP only).
    Goose,
}

/// What is being measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// The engine linked into the harness process.
    InProcess,
    /// An HTTP service that is already running. `base_url` has no trailing slash.
    Http {
        base_url: String,
        allow_remote: bool,
    },
    /// A server the harness starts, health-checks, measures and stops.
    Spawn {
        command: Vec<String>,
        health_path: String,
        startup_timeout: Duration,
        allow_remote: bool,
    },
}

impl Target {
    /// True for targets reached over HTTP (`http` and `spawn`).
    pub fn is_http(&self) -> bool {
        !matches!(self, Target::InProcess)
    }
}

/// The transaction mix the driver generates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    pub accounts: u64,
    pub initial_balance: u64,
    /// Transactions per batch (in-process operation or binary-batch request).
    pub batch_size: u32,
    pub distribution: Distribution,
    pub amount_min: u64,
    pub amount_max: u64,
    pub invalid: InvalidMix,
    pub design: EngineDesign,
    pub shards: Option<u32>,
    pub seed: u64,
    /// In-process only: units of work (one dependent add each, `engine::synthetic_work`) added
    /// to every committed transfer, to make a deliberately slower engine (proves that
    /// regression gating catches a slowdown). 0 in real use.
    #[serde(default)]
    pub synthetic_cost: u32,
    /// In-process only: `false` turns the engine's account prefetching off, a slowdown in
    /// memory stalls that an instruction count does not see (gate tests). `true` in real use.
    #[serde(default = "yes")]
    pub prefetch: bool,
}

fn yes() -> bool {
    true
}

impl Workload {
    /// `accounts * initial_balance`; validation guarantees it fits in a `u64`.
    pub fn total_supply(&self) -> u64 {
        self.accounts.saturating_mul(self.initial_balance)
    }
}

/// How senders and receivers are picked among accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Distribution {
    Uniform,
    Zipf { exponent: f64 },
}

/// Which engine design an in-process run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineDesign {
    SingleWriter,
    Cas,
}

/// Fractions of all generated transactions that are deliberately invalid, by kind.
/// Each is in `0..=1` and their sum is at most 1.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InvalidMix {
    pub bad_nonce: f64,
    pub unknown_account: f64,
    pub self_transfer: f64,
    pub zero_amount: f64,
    pub insufficient_funds: f64,
}

impl InvalidMix {
    /// The fraction of transactions that are invalid on purpose.
    pub fn total(&self) -> f64 {
        self.bad_nonce
            + self.unknown_account
            + self.self_transfer
            + self.zero_amount
            + self.insufficient_funds
    }
}

/// HTTP client options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpOptions {
    /// Per-request timeout; a request that exceeds it counts as a timeout error.
    pub timeout: Duration,
    pub http2: bool,
    /// Connection pool size; `None` lets the driver choose (one per worker).
    pub connections: Option<u32>,
    /// Which HTTP/1.1 client the native driver uses (HTTP/2 always runs on hyper's).
    #[serde(default)]
    pub client: HttpClient,
    /// `[http.tls]`: used when the target's URL (or a spawned server's announced address) is
    /// `https://`; the defaults when the table is absent.
    #[serde(default)]
    pub tls: TlsOptions,
    /// At most this many requests per connection, the last one saying `Connection: close`,
    /// then a new connection: `None` reuses a connection for as long as the server keeps it
    /// (keep-alive), `Some(1)` opens one per request (`connection = "close"`).
    #[serde(default)]
    pub max_requests_per_connection: Option<u32>,
    /// HTTP/1.1 pipelining depth: requests one connection keeps in flight, written back to
    /// back and answered in order (1 = no pipelining; only the builtin client pipelines).
    #[serde(default = "no_pipelining")]
    pub pipeline: u32,
    /// The largest answer body held for a template's checks or extractions (default 1 MiB);
    /// a longer one fails as a `check` error. Bodies no check reads are never held.
    #[serde(default = "default_max_body")]
    pub max_body: u64,
}

fn default_max_body() -> u64 {
    1 << 20
}

fn no_pipelining() -> u32 {
    1
}

/// How an https target is reached (`[http.tls]`). Paths are resolved against the scenario
/// file's directory and were readable PEM of the right kind when the plan was validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsOptions {
    /// Which certificates the client accepts.
    pub trust: TlsTrust,
    /// The name sent as SNI and checked against the certificate; `None`: the URL's host.
    pub server_name: Option<String>,
    /// A client certificate for mutual TLS.
    pub client_auth: Option<ClientAuth>,
    /// The protocol versions offered, in no particular order; never empty.
    pub versions: Vec<TlsVersion>,
    /// Whether new connections resume earlier sessions (tickets / session IDs).
    pub resumption: bool,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            trust: TlsTrust::Roots { ca_file: None },
            server_name: None,
            client_auth: None,
            versions: vec![TlsVersion::Tls12, TlsVersion::Tls13],
            resumption: true,
        }
    }
}

/// Which server certificates are accepted: one or the other, never both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TlsTrust {
    /// Verified against the system's roots, plus the certificates in `ca_file` when given.
    Roots { ca_file: Option<PathBuf> },
    /// `insecure = true`: any certificate is accepted (signatures are still checked); results
    /// and reports say so.
    Insecure,
}

/// A PEM certificate chain and its private key, presented when the server asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAuth {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A TLS protocol version, written "1.2" or "1.3".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TlsVersion {
    #[serde(rename = "1.2")]
    Tls12,
    #[serde(rename = "1.3")]
    Tls13,
}

impl TlsVersion {
    /// "1.2" or "1.3", as scenario files and results write it.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "1.2",
            TlsVersion::Tls13 => "1.3",
        }
    }
}

/// The native driver's HTTP/1.1 client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HttpClient {
    /// Our own HTTP/1.1 connection: request heads encoded once per template, answers parsed in
    /// place with httparse, no per-request channel or task hop. About a third less CPU per
    /// request than hyper's client connection (benches/loadgen/compare.sh).
    #[default]
    Builtin,
    /// hyper 1.x's `client::conn::http1` connection (the only one that speaks HTTP/2).
    Hyper,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(5),
            http2: false,
            connections: None,
            client: HttpClient::Builtin,
            tls: TlsOptions::default(),
            max_requests_per_connection: None,
            pipeline: 1,
            max_body: default_max_body(),
        }
    }
}

/// One kind of HTTP request; the driver picks templates in proportion to `weight`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestTemplate {
    pub name: String,
    /// Upper-case: GET POST PUT DELETE PATCH HEAD.
    pub method: String,
    /// Starts with '/'; appended to the target's base URL. May hold `{{ }}` variables
    /// (see [`crate::template`]), but not the body-only [`TRANSFER_PLACEHOLDERS`].
    pub path: String,
    /// Header names are lower-case; values may hold variables as the path may.
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// Status codes that count as success.
    pub expect_status: Vec<u16>,
    /// How often the template is drawn, relative to the others (>= 1); 0 for a setup
    /// template, which is never drawn.
    pub weight: u32,
    /// `setup = true`: not drawn by weight; sent once on every new connection, in file order,
    /// before the connection's first timed request; its latency is reported apart.
    #[serde(default)]
    pub setup: bool,
    /// `check = [...]`: what a successful answer must also show (after its status matched);
    /// a failed one is an error of kind `check` naming the template and the check.
    #[serde(default)]
    pub checks: Vec<Check>,
    /// `extract = [...]`: values taken from a successful answer into the connection's
    /// variables, for that connection's later requests (`{{name}}`).
    #[serde(default)]
    pub extract: Vec<Extract>,
}

impl RequestTemplate {
    /// Whether answers to this template are held (up to `[http] max_body`) and read: only
    /// then, since holding every body would cost what the bodies weigh.
    pub fn reads_body(&self) -> bool {
        self.checks
            .iter()
            .any(|c| !matches!(c, Check::Header { .. }))
            || self
                .extract
                .iter()
                .any(|e| !matches!(e.from, ExtractFrom::Header(_)))
    }

    /// Every `{{ }}` variable the template's path, header values and body template name, in
    /// that order, each once.
    pub fn variables(&self) -> Vec<crate::template::Var<'_>> {
        let body = match &self.body {
            Body::Template(t) => Some(t.as_str()),
            _ => None,
        };
        let texts = std::iter::once(self.path.as_str())
            .chain(self.headers.iter().map(|(_, v)| v.as_str()))
            .chain(body);
        let mut out = Vec::new();
        for v in texts.flat_map(crate::template::vars) {
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }

    /// The `[[data]]` sources the template draws a row from for each request (those whose
    /// columns it names), in order of first use.
    pub fn data_used(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for v in self.variables() {
            if let crate::template::Var::Column { data, .. } = v {
                if !out.contains(&data) {
                    out.push(data);
                }
            }
        }
        out
    }
}

/// One check on an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// `{ body_contains = "text" }`: the body holds these bytes.
    BodyContains(String),
    /// `{ json = "/pointer", equals = <value> }`: the body is JSON, the RFC 6901 pointer
    /// resolves, and (when `equals` is given) to this value (TOML string, integer, float or
    /// boolean, compared as JSON).
    Json {
        pointer: String,
        equals: Option<serde_json::Value>,
    },
    /// `{ header = "name", equals = "value" }`: the header is present (name lower-case) and,
    /// when `equals` is given, one of its values is exactly that.
    Header {
        name: String,
        equals: Option<String>,
    },
}

/// One value taken from an answer into a connection variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extract {
    /// The variable's name: `[A-Za-z_][A-Za-z0-9_]*`, not a built-in placeholder nor a
    /// `[[data]]` name.
    pub var: String,
    pub from: ExtractFrom,
}

/// Where an extracted value comes from. A JSON string is taken without its quotes; any other
/// JSON value as its JSON text. A missing value fails the answer as a `check` error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractFrom {
    /// `{ var = "token", json = "/token" }`
    Json(String),
    /// `{ var = "sid", header = "x-session" }` (name lower-case; the first value)
    Header(String),
    /// `{ var = "csrf", regex = 'value="([^"]+)"' }` (at most one capture group, so which
    /// part is the value is never in doubt): that group of the first match (the whole match
    /// when the pattern has no group), on the body as UTF-8 (lossy).
    Regex(String),
}

/// `[[data]]`: a file of rows whose columns become template variables `{{name.column}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSource {
    /// `[A-Za-z_][A-Za-z0-9_]*`; the variables' prefix.
    pub name: String,
    /// Resolved against the scenario file's directory.
    pub file: PathBuf,
    pub format: DataFormat,
    pub strategy: FeedStrategy,
    /// Column names: a CSV file's header row, a JSON Lines file's first object's keys.
    pub columns: Vec<String>,
    /// Rows, each with one value per column, read and checked when the plan was validated.
    /// Not serialised: results.json names the file, it does not copy it.
    #[serde(skip)]
    pub rows: std::sync::Arc<Vec<Vec<String>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataFormat {
    /// RFC 4180, a header row first.
    Csv,
    /// One JSON object per line; a string value is used without quotes, any other as JSON.
    Jsonl,
}

/// How rows are handed out (Gatling's feeder strategies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedStrategy {
    /// Each row once, in file order, across all workers; running out aborts the run.
    Queue,
    /// Each row once, in a random (seeded) order; running out aborts the run.
    Shuffle,
    /// A uniformly random row each time (with replacement).
    Random,
    /// File order, wrapping around at the end.
    Circular,
}

/// What a request carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    None,
    /// Text with placeholders `{{seq}} {{account}} {{sender}} {{receiver}} {{nonce}} {{amount}}
    /// {{worker}}`, data columns `{{users.id}}` and extracted variables `{{token}}`,
    /// substituted per request (see [`crate::template`]).
    Template(String),
    /// One valid transfer as JSON.
    JsonTransfer,
    /// `workload.batch_size` transfers in the engine's compact binary format.
    BinaryBatch,
}

// The placeholders live with the splitter that recognises them (the plan reads templates
// through it, so it may not import the plan back).
pub use crate::template::{TEMPLATE_PLACEHOLDERS, TRANSFER_PLACEHOLDERS};

/// One stage of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    /// How long the stage lasts; for a fixed-work stage, the longest it may take.
    pub duration: Duration,
    /// A fixed amount of work (`operations = N`, k6's shared-iterations): the stage, always the
    /// last, ends when its workers have completed N operations between them, or at `duration`
    /// if that comes first (the verdict then fails). `None`: a timed stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<u64>,
    pub load: Load,
    /// Marked `warmup = true` in the file (always a leading stage). When the scenario uses
    /// `[scenario] warmup` instead, no stage is marked; [`Plan::warmup`] is authoritative.
    pub warmup: bool,
}

/// Closed model (a number of workers each issuing the next operation when the last completes)
/// or open model (operations arrive at a rate, whether or not earlier ones finished).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Load {
    Closed { workers: Ramp },
    Open { rate: Ramp, unit: RateUnit },
}

impl Load {
    pub fn is_open(&self) -> bool {
        matches!(self, Load::Open { .. })
    }
}

/// What an open-model rate counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateUnit {
    /// Operations (in-process batches or HTTP requests) per second: `rate = ...`.
    OpsPerSec,
    /// Transactions per second: `tps = ...`; one operation carries `batch_size` transactions.
    TxPerSec,
}

/// A value that moves linearly from `from` to `to` over a stage (constant when equal).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ramp {
    pub from: f64,
    pub to: f64,
}

impl Ramp {
    pub fn constant(value: f64) -> Ramp {
        Ramp {
            from: value,
            to: value,
        }
    }

    pub fn is_constant(&self) -> bool {
        self.from == self.to
    }

    /// The value `frac` (clamped to 0..=1) of the way through the stage.
    pub fn value_at(&self, frac: f64) -> f64 {
        let frac = if frac.is_nan() {
            0.0
        } else {
            frac.clamp(0.0, 1.0)
        };
        self.from + (self.to - self.from) * frac
    }

    /// The larger end of the ramp.
    pub fn max(&self) -> f64 {
        self.from.max(self.to)
    }
}

/// Pass/fail thresholds; every one optional.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Criteria {
    /// Steady-state average committed transactions per second.
    pub min_tps: Option<f64>,
    /// Lowest single-interval committed tx/s after warm-up.
    pub min_interval_tps: Option<f64>,
    pub max_p50: Option<Duration>,
    pub max_p90: Option<Duration>,
    pub max_p99: Option<Duration>,
    pub max_p999: Option<Duration>,
    /// A fraction (0.0001 = 0.01 %).
    pub max_error_rate: Option<f64>,
    /// Bytes.
    pub max_rss: Option<u64>,
    /// Bytes: RSS at the end minus RSS after warm-up.
    pub max_rss_growth: Option<u64>,
    /// Bytes per hour: the least-squares slope of RSS after warm-up, judged on the larger of
    /// the target's and the harness's (a leak in either breaks a soak).
    #[serde(default)]
    pub max_rss_slope: Option<u64>,
    /// Average CPU of the target process, percent of all cores (60.0 = 60 %).
    pub max_cpu_pct: Option<f64>,
    /// Spawn targets: start to first healthy answer.
    pub max_startup: Option<Duration>,
    /// Relative tolerance per metric (0.10 = 10 %) for baseline comparison. Keys are those in
    /// [`TOLERANCE_KEYS`].
    pub tolerances: BTreeMap<String, f64>,
    /// When the load generator was too late for its numbers to be trusted (always applied).
    pub dispatch: DispatchRule,
    /// Hold the latency limits against the newest calibration of this host and CPU
    /// (`harness calibrate`, at most 7 days old, under the run's output root's
    /// `calibration/`): a limit below its dispatch precision makes the run invalid. Off by
    /// default; `harness run --calibration FILE` names one explicitly.
    #[serde(default)]
    pub use_calibration: bool,
}

/// The invalid-run rule for a late generator: the run is invalid when more than
/// `max_late_fraction` of the steady open-model operations were sent more than `late_after`
/// after they could have been (`late_dispatch` and `max_late_dispatch` in `[criteria]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DispatchRule {
    pub late_after: Duration,
    /// A fraction (0.01 = 1 %).
    pub max_late_fraction: f64,
}

impl Default for DispatchRule {
    /// 1 ms and 1 %: a generator that cannot start 99 % of its operations within a
    /// millisecond of their slot is measuring itself, not the target.
    fn default() -> DispatchRule {
        DispatchRule {
            late_after: Duration::from_millis(1),
            max_late_fraction: 0.01,
        }
    }
}

/// The metrics `[criteria.tolerance]` may name.
pub const TOLERANCE_KEYS: [&str; 9] = [
    "tps",
    "instructions",
    "p50",
    "p90",
    "p99",
    "p999",
    "error_rate",
    "rss",
    "cpu",
];

/// The largest tolerance a metric may be given (relative; `error_rate` absolute). Throughput
/// cannot fall by more than all of it, and the error rate is a fraction, so theirs is 1; a
/// metric where lower is better (latency, memory, CPU, instructions) can grow without bound,
/// and a gate on a noisy machine may only want to fail when its tail latency is several times
/// the baseline's (scenarios/gate.toml: p99.9 = 3, fail at 4x), so theirs is 10.
pub fn max_tolerance(key: &str) -> f64 {
    match key {
        "tps" | "tps_per_cpu" | "error_rate" => 1.0,
        _ => 10.0,
    }
}

/// Capacity: the highest open-model rate whose latency percentile stays in bound, found by a
/// linear ramp of the stages or by a search of held probes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// For example 99.0 for p99; in `(0, 100)`.
    pub percentile: f64,
    pub max_latency: Duration,
    /// The highest error rate (errors / submitted, a fraction) a search probe may have and be
    /// good; `None` means errors do not decide.
    pub max_error_rate: Option<f64>,
    pub mode: CapacityMode,
}

impl Capacity {
    /// The search's settings, when this is a search.
    pub fn search(&self) -> Option<&Search> {
        match &self.mode {
            CapacityMode::Search(s) => Some(s),
            CapacityMode::Ramp { .. } => None,
        }
    }
}

/// How the capacity is found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum CapacityMode {
    /// `mode = "ramp"` (the default): the stages raise the rate; the first interval that
    /// breaks the bound is reported, and the run stops there when `stop_on_break`.
    Ramp { stop_on_break: bool },
    /// `mode = "search"`: held constant-rate probes, grown then bisected, then confirmed.
    Search(Search),
}

/// A capacity search's settings (`[capacity] mode = "search"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Search {
    /// The first probe's rate, in `unit`.
    pub start: f64,
    /// The highest rate probed, in `unit`.
    pub max: f64,
    /// What `start` and `max` count: transactions when operations carry a known number of
    /// them (in process, binary batches), otherwise operations (requests).
    pub unit: RateUnit,
    /// Each growing probe's rate is the last one's times this (> 1).
    pub growth: f64,
    /// The bisection stops when the bad rate is within this fraction above the good one.
    pub precision: f64,
    /// How long each probe is judged, after `settle`.
    pub probe: Duration,
    /// The start of each probe excluded from its judgement (the queue settling at a new rate).
    pub settle: Duration,
    /// How long the best good rate is held at the end to confirm it.
    pub confirm: Duration,
    pub max_probes: u32,
    /// Wall time after which the search stops, converged or not.
    pub max_time: Duration,
}

/// Where and how often results are written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Output {
    /// Interval between interval records (>= 100 ms).
    pub interval: Duration,
    pub dir: PathBuf,
    pub profile: bool,
    pub profile_hz: u32,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            interval: Duration::from_secs(1),
            dir: PathBuf::from("reports"),
            profile: false,
            profile_hz: 99,
        }
    }
}

impl Plan {
    /// A copy with every stage duration and the warm-up multiplied by `factor`, recording the
    /// factor in `duration_scale` (cumulatively). Scaled non-zero durations stay at least 1 ms.
    ///
    /// # Panics
    /// If `factor` is not finite and positive, or a scaled duration overflows; callers taking
    /// the factor from a user check it with [`valid_scale`] first.
    pub fn scaled(&self, factor: f64) -> Plan {
        assert!(
            valid_scale(factor),
            "duration scale must be finite and > 0, got {factor}"
        );
        let scale = |d: Duration| {
            if d.is_zero() {
                d
            } else {
                d.mul_f64(factor).max(Duration::from_millis(1))
            }
        };
        let mut plan = self.clone();
        for stage in &mut plan.stages {
            stage.duration = scale(stage.duration);
        }
        plan.warmup = if self.stages.iter().any(|s| s.warmup) {
            // Keep the warm-up equal to the scaled warm-up stages, not an independently
            // rounded product.
            plan.stages
                .iter()
                .take_while(|s| s.warmup)
                .map(|s| s.duration)
                .sum()
        } else {
            scale(self.warmup)
        };
        if let Some(CapacityMode::Search(search)) = plan.capacity.as_mut().map(|c| &mut c.mode) {
            search.probe = scale(search.probe);
            search.settle = scale(search.settle);
            search.confirm = scale(search.confirm);
            search.max_time = scale(search.max_time);
        }
        plan.duration_scale = self.duration_scale * factor;
        plan
    }

    /// Sum of all stage durations (the warm-up is part of it, not added to it).
    pub fn total_duration(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }

    /// The largest closed-model worker count any stage asks for (0 if all stages are open).
    pub fn max_workers(&self) -> u32 {
        self.stages
            .iter()
            .filter_map(|s| match &s.load {
                Load::Closed { workers } => Some(workers.max().ceil() as u32),
                Load::Open { .. } => None,
            })
            .max()
            .unwrap_or(0)
    }

    /// The stage running `elapsed` after the run start, and how far through it (0..1).
    /// `None` once the last stage has ended.
    pub fn stage_at(&self, elapsed: Duration) -> Option<(usize, f64)> {
        let mut start = Duration::ZERO;
        for (i, stage) in self.stages.iter().enumerate() {
            let end = start + stage.duration;
            if elapsed < end {
                let into = elapsed.saturating_sub(start);
                return Some((i, into.as_secs_f64() / stage.duration.as_secs_f64()));
            }
            start = end;
        }
        None
    }

    /// Transactions one operation carries: `batch_size` for in-process runs and binary-batch
    /// requests, 1 for json-transfer requests, 0 for other requests. For HTTP targets this is the
    /// weighted mean over the request templates.
    pub fn tx_per_op(&self) -> f64 {
        if !self.target.is_http() {
            return f64::from(self.workload.batch_size);
        }
        let total_weight: f64 = self.requests.iter().map(|r| f64::from(r.weight)).sum();
        if total_weight == 0.0 {
            return 0.0;
        }
        let tx: f64 = self
            .requests
            .iter()
            .map(|r| {
                let per = match r.body {
                    Body::BinaryBatch => f64::from(self.workload.batch_size),
                    Body::JsonTransfer => 1.0,
                    Body::None | Body::Template(_) => 0.0,
                };
                per * f64::from(r.weight)
            })
            .sum();
        tx / total_weight
    }

    /// Operations per second that stage `stage` asks for `frac` of the way through it, or
    /// `None` for a closed-model stage (or an index out of range). `tps` stages are converted
    /// with [`Plan::tx_per_op`].
    pub fn ops_per_sec(&self, stage: usize, frac: f64) -> Option<f64> {
        match &self.stages.get(stage)?.load {
            Load::Closed { .. } => None,
            Load::Open { rate, unit } => {
                let value = rate.value_at(frac);
                match unit {
                    RateUnit::OpsPerSec => Some(value),
                    RateUnit::TxPerSec => {
                        let per = self.tx_per_op();
                        // Validation guarantees tps stages only where operations carry
                        // transactions; guard anyway rather than divide by zero.
                        (per > 0.0).then(|| value / per)
                    }
                }
            }
        }
    }
}

/// Whether `factor` is acceptable to [`Plan::scaled`].
pub fn valid_scale(factor: f64) -> bool {
    factor.is_finite() && factor > 0.0
}
