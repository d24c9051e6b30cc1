//! The scenario file as written: serde structs mirroring the TOML, before any checking.
//!
//! Every struct denies unknown keys so a typo ("worker = 8") is an error rather than a silently
//! ignored setting. Values are wrapped in `Spanned` so validation can point at the offending
//! text. Keys whose value may take several shapes (a duration string, a number or a
//! `{ from, to }` table) are kept as `toml::Value` and interpreted in `validate`, which gives
//! one precise "expected ..." message instead of serde's "did not match any variant".

use serde::Deserialize;
use serde_spanned::Spanned;
use std::collections::BTreeMap;
use toml::Value;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenarioFile {
    pub scenario: S<RawHeader>,
    pub target: S<RawTarget>,
    pub workload: Option<S<RawWorkload>>,
    pub http: Option<S<RawHttp>>,
    #[serde(default)]
    pub data: Vec<S<RawData>>,
    #[serde(default)]
    pub requests: Vec<S<RawRequest>>,
    #[serde(default)]
    pub stages: Vec<S<RawStage>>,
    pub criteria: Option<S<RawCriteria>>,
    pub capacity: Option<S<RawCapacity>>,
    pub output: Option<S<RawOutput>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeader {
    pub name: S<String>,
    pub description: Option<S<String>>,
    pub driver: Option<S<RawDriver>>,
    pub warmup: Option<S<Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawDriver {
    Native,
    Goose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawTargetKind {
    InProcess,
    Http,
    Spawn,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub kind: S<RawTargetKind>,
    pub url: Option<S<String>>,
    pub command: Option<S<Vec<String>>>,
    pub health_path: Option<S<String>>,
    pub startup_timeout: Option<S<Value>>,
    pub allow_remote: Option<S<bool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawDistribution {
    Uniform,
    Zipf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawDesign {
    SingleWriter,
    Cas,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub accounts: Option<S<u64>>,
    pub initial_balance: Option<S<u64>>,
    pub batch_size: Option<S<u64>>,
    pub distribution: Option<S<RawDistribution>>,
    pub zipf_exponent: Option<S<f64>>,
    pub amount: Option<S<Vec<S<u64>>>>,
    pub design: Option<S<RawDesign>>,
    pub shards: Option<S<u64>>,
    pub seed: Option<S<u64>>,
    pub synthetic_cost: Option<S<u64>>,
    pub prefetch: Option<S<bool>>,
    pub invalid: Option<S<RawInvalid>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInvalid {
    pub bad_nonce: Option<S<Value>>,
    pub unknown_account: Option<S<Value>>,
    pub self_transfer: Option<S<Value>>,
    pub zero_amount: Option<S<Value>>,
    pub insufficient_funds: Option<S<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub timeout: Option<S<Value>>,
    pub http2: Option<S<bool>>,
    pub connections: Option<S<u64>>,
    pub client: Option<S<RawHttpClient>>,
    pub tls: Option<S<RawTls>>,
    pub connection: Option<S<RawConnection>>,
    pub max_requests_per_connection: Option<S<u64>>,
    pub pipeline: Option<S<u64>>,
    pub max_body: Option<S<Value>>,
}

/// `[http] connection`: reuse a connection, or open one per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawConnection {
    KeepAlive,
    Close,
}

/// `[http.tls]`: how https targets are reached (paths as written, resolved in `validate::tls`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub ca_file: Option<S<String>>,
    pub insecure: Option<S<bool>>,
    pub server_name: Option<S<String>>,
    pub client_cert: Option<S<String>>,
    pub client_key: Option<S<String>>,
    pub versions: Option<S<Vec<S<String>>>>,
    pub resumption: Option<S<bool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawHttpClient {
    Builtin,
    Hyper,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    pub name: Option<S<String>>,
    pub method: Option<S<String>>,
    pub path: S<String>,
    #[serde(default)]
    pub headers: BTreeMap<S<String>, S<String>>,
    pub body: Option<S<Value>>,
    pub expect_status: Option<S<Value>>,
    pub weight: Option<S<u64>>,
    pub setup: Option<S<bool>>,
    #[serde(default)]
    pub check: Vec<S<RawCheck>>,
    #[serde(default)]
    pub extract: Vec<S<RawExtract>>,
}

/// One `check = [...]` entry. Every key is optional here so that "exactly one of
/// `body_contains`, `json` or `header`" is one message from validation, not serde's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    pub body_contains: Option<S<String>>,
    pub json: Option<S<String>>,
    pub header: Option<S<String>>,
    pub equals: Option<S<Value>>,
}

/// One `extract = [...]` entry: `var` and exactly one source (checked in validation).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExtract {
    pub var: S<String>,
    pub json: Option<S<String>>,
    pub header: Option<S<String>>,
    pub regex: Option<S<String>>,
}

/// `[[data]]`: a feeder file (path as written, resolved and read in `validate::data`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawData {
    pub name: S<String>,
    pub file: S<String>,
    pub format: Option<S<RawDataFormat>>,
    pub strategy: Option<S<RawFeedStrategy>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawDataFormat {
    Csv,
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawFeedStrategy {
    Queue,
    Shuffle,
    Random,
    Circular,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub name: Option<S<String>>,
    pub duration: Option<S<Value>>,
    pub operations: Option<S<u64>>,
    pub workers: Option<S<Value>>,
    pub rate: Option<S<Value>>,
    pub tps: Option<S<Value>>,
    pub warmup: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCriteria {
    pub min_tps: Option<S<Value>>,
    pub min_interval_tps: Option<S<Value>>,
    pub max_p50: Option<S<Value>>,
    pub max_p90: Option<S<Value>>,
    pub max_p99: Option<S<Value>>,
    pub max_p999: Option<S<Value>>,
    pub max_error_rate: Option<S<Value>>,
    pub max_rss: Option<S<Value>>,
    pub max_rss_growth: Option<S<Value>>,
    pub max_rss_slope: Option<S<Value>>,
    pub max_cpu: Option<S<Value>>,
    pub max_startup: Option<S<Value>>,
    pub late_dispatch: Option<S<Value>>,
    pub max_late_dispatch: Option<S<Value>>,
    /// Kept as a value so a non-boolean gets "expected true or false" at its line.
    pub use_calibration: Option<S<Value>>,
    #[serde(default)]
    pub tolerance: BTreeMap<S<String>, S<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCapacity {
    pub mode: Option<S<String>>,
    pub percentile: S<f64>,
    pub max_latency: S<Value>,
    pub max_error_rate: Option<S<Value>>,
    pub stop_on_break: Option<S<bool>>,
    pub start: Option<S<Value>>,
    pub max: Option<S<Value>>,
    pub growth: Option<S<f64>>,
    pub precision: Option<S<Value>>,
    pub probe: Option<S<Value>>,
    pub settle: Option<S<Value>>,
    pub confirm: Option<S<Value>>,
    pub max_probes: Option<S<u64>>,
    pub max_time: Option<S<Value>>,
}

impl RawCapacity {
    /// Whether `mode = "search"` (read before the stages are validated: a search's stages may
    /// only warm up).
    pub fn is_search(&self) -> bool {
        self.mode.as_ref().is_some_and(|m| m.get_ref() == "search")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub interval: Option<S<Value>>,
    pub dir: Option<S<String>>,
    pub profile: Option<S<bool>>,
    pub profile_hz: Option<S<u64>>,
}
