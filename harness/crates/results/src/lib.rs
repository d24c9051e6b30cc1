//! The canonical outcome of one harness run: [`RunResult`], serialized as `results.json`.
//!
//! Everything downstream (the Markdown/HTML/PDF/JUnit/SVG renderers, `harness compare`,
//! `harness merge`) reads only this type, so it is the contract between measuring and reporting.
//! It is deliberately plain data: no behaviour beyond (de)serialization, histogram encoding and
//! a few derived-value helpers, and light dependencies so every crate can use it.
//!
//! Units are part of the field names where they are not obvious: `*_s` seconds, `*_us`
//! microseconds (f64), `*_bytes` bytes, `*_pct` percent. Histograms store nanoseconds.
//!
//! Test data lives in `results::fixture` (`sample`, `aborted`, `no_intervals`,
//! `http_goose`), behind the cargo feature `fixture` so only tests, examples and benches
//! compile it: depend on it as `results = { workspace = true, features = ["fixture"] }` under
//! `[dev-dependencies]`.
//!
//! The JSON schema checked in at `schema/results.schema.json` is generated from these types
//! (`schemars`) and a test keeps the two in step.
//!
//! # Schema versions
//!
//! `schema_version` numbers the layouts an older reader could misread, not every change:
//! - A field added as optional (`Option<_>`, or `#[serde(default)]` for other types) does
//!   **not** bump it: a newer reader reads an older file (the field is absent, so None or its
//!   default), and an older reader reads a newer file (serde skips fields it does not know;
//!   nothing here denies unknown fields).
//! - A renamed, removed or retyped field, a new required field, or a field whose meaning
//!   changes bumps [`SCHEMA_VERSION`]. Readers still accept the older versions, so such a change
//!   must keep reading them (a serde alias or default, or a conversion in
//!   [`RunResult::from_json_slice`]).
//!
//! Readers ([`RunResult::read`], [`RunResult::from_json_slice`]; compare, merge and reports all
//! go through them) accept every version from 1 up to [`SCHEMA_VERSION`] and refuse only a newer
//! one, with [`ResultsError::SchemaVersion`] naming the file, the version found and the newest
//! this build reads. The check runs before the full parse, so a newer layout gives that message
//! rather than a confusing field error. The rule itself is [`readable_version`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod histogram;
mod noise;
mod quantile;
mod search;
mod trend;

#[cfg(feature = "fixture")]
pub mod fixture;

pub use histogram::{decode_histogram, encode_histogram, percentile_points, PERCENTILE_LADDER};
pub use noise::{busy_threshold_pct, interval_is_busy, Noise, BUSY_CORE_PCT, STEAL_PCT};
pub use quantile::{interval_at, Bounds, PercentileIntervals, Quantile};
pub use search::{CapacitySearch, Probe, ProbeOutcome, ProbePhase, SearchEnd, SearchSettings, Slo};
pub use trend::{
    rss_slope_per_hour, MIN_SAMPLES as SLOPE_MIN_SAMPLES, MIN_SPAN_S as SLOPE_MIN_SPAN_S,
};

/// Version of the `results.json` layout this build writes, and the newest it reads (see the
/// crate docs for when it changes).
pub const SCHEMA_VERSION: u32 = 1;

/// Whether a reader whose newest layout is `newest` reads a file of layout `found`: every
/// version from 1 (the first) up to `newest`; a newer one could be misread. The one rule for
/// `results.json` (`newest` = [`SCHEMA_VERSION`]), and for any other versioned file that follows
/// it.
pub fn readable_version(found: u64, newest: u32) -> bool {
    (1..=u64::from(newest)).contains(&found)
}

/// Errors raised while reading, writing or decoding results.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// The file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON for a [`RunResult`].
    #[error("parsing {path}: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The file was written by a newer harness, in a layout this build could misread.
    #[error(
        "{path}: results schema_version {found} is newer than this build reads (versions 1 to {newest}); read it with a harness at least as new as the one that wrote it"
    )]
    SchemaVersion {
        path: PathBuf,
        found: u64,
        newest: u32,
    },
    /// `schema_version` 0: no harness writes it (versions start at 1).
    #[error("{path}: results schema_version 0 is not a valid version (versions start at 1)")]
    SchemaVersionZero { path: PathBuf },
    /// The result could not be serialized.
    #[error("serializing results for {path}: {source}")]
    Serialize {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The JSON would not read back, almost always a NaN or infinite figure (JSON has no such
    /// numbers; serde_json writes null). Refused so a results.json is always readable.
    #[error(
        "refusing to write {path}: it would not read back ({source}); a figure is probably NaN or infinite"
    )]
    NotReadable {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The embedded histogram is not valid base64.
    #[error("histogram is not valid base64: {0}")]
    HistogramBase64(#[from] base64::DecodeError),
    /// The embedded histogram is not a valid HdrHistogram V2 (deflate) payload.
    #[error("histogram is not a valid HdrHistogram V2 payload: {0}")]
    HistogramDecode(String),
    /// The histogram could not be encoded.
    #[error("encoding histogram: {0}")]
    HistogramEncode(String),
}

/// Shorthand for results-crate results.
pub type Result<T, E = ResultsError> = std::result::Result<T, E>;

/// One run, as written to `results.json`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct RunResult {
    /// Layout version: [`SCHEMA_VERSION`] when written by this build. Fields added as optional
    /// do not change it; readers accept every version from 1 up to the newest they know and
    /// refuse newer ones.
    #[schemars(range(min = 1))]
    pub schema_version: u32,
    pub scenario: ScenarioInfo,
    pub environment: Environment,
    pub driver: DriverInfo,
    pub verdict: Verdict,
    /// Steady state: everything after warm-up.
    pub summary: Summary,
    pub stages: Vec<StageResult>,
    /// HTTP runs with more than one `[[requests]]` template or any setup template: each
    /// template's own figures, in the plan's order. Empty (and absent from the JSON) otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<TemplateFigures>,
    pub intervals: Vec<IntervalRecord>,
    pub resources: Resources,
    /// Engine invariant check; `None` for non-engine targets.
    pub audit: Option<AuditResult>,
    pub criteria: Vec<CriterionResult>,
    /// Steady-state latency histogram: HdrHistogram V2 deflate, base64 (standard alphabet);
    /// values in nanoseconds. Mergeable without loss across segments.
    pub histogram: Option<String>,
    /// Steady-state latency of the operations that failed, encoded like `histogram` (which
    /// holds the successful ones only). Absent when none failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram_failed: Option<String>,
    /// HdrHistogram-style percentile distribution of the steady-state latency, for the chart.
    pub percentiles: Vec<PercentilePoint>,
    pub profile: Option<ProfileInfo>,
    /// Instructions executed per unit of work, counted under valgrind's callgrind
    /// (`harness run --count-instructions`). Absent in every other run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<Instructions>,
    pub capacity: Option<CapacityResult>,
    pub segment: Option<SegmentInfo>,
    pub files: Files,
}

/// What was run: the scenario as planned.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct ScenarioInfo {
    pub name: String,
    /// Path of the scenario file as given on the command line.
    pub file: String,
    /// SHA-256 of the scenario file's bytes, hex.
    pub sha256: String,
    pub description: Option<String>,
    /// Factor applied to every stage duration (1.0 = as written).
    pub duration_scale: f64,
    /// "in-process" | "http" | "spawn".
    pub target_kind: String,
    /// Human description of the target (URL, command, "engine (in-process)").
    pub target: String,
    /// Throughput target line for charts (from the min_tps criterion), tx/s.
    pub target_tps: Option<f64>,
    pub stages_planned: Vec<StagePlan>,
    /// Seconds from the start excluded from the verdict (`[scenario] warmup`, or the leading
    /// warm-up stages), as the run applied it. Absent in results written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_s: Option<f64>,
}

/// One stage as planned.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct StagePlan {
    pub name: String,
    pub duration_s: f64,
    /// Warm-up stages are excluded from the summary and the verdict.
    pub warmup: bool,
    pub model: LoadModel,
    /// "workers" | "ops/s" | "tx/s".
    pub unit: String,
    /// Load at the start of the stage, in `unit`.
    pub from: f64,
    /// Load at the end of the stage, in `unit` (equal to `from` for a flat stage).
    pub to: f64,
    /// A fixed amount of work: the stage ends after this many operations (`duration_s` is
    /// then its limit). Absent for a timed stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<u64>,
}

/// How load is generated.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LoadModel {
    /// A number of workers, each issuing the next operation when the last completes.
    Closed,
    /// An arrival rate; latency measured from each operation's intended start.
    Open,
}

/// The machine and software the run happened on.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct Environment {
    pub os: String,
    pub kernel: Option<String>,
    pub cpu_model: String,
    pub cores: usize,
    pub memory_bytes: u64,
    pub hostname: Option<String>,
    pub rustc: Option<String>,
    pub harness_version: String,
    pub git_commit: Option<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// RFC 3339, UTC.
    pub finished_at: String,
}

/// Which driver generated the load and what its latency numbers mean.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct DriverInfo {
    /// "native" | "goose".
    pub name: String,
    /// Finest latency step the driver can record (1 ms for goose).
    pub latency_resolution_ns: u64,
    /// "intended start (coordinated-omission corrected)" or "service time".
    pub latency_basis: String,
    pub batch_size: Option<u64>,
    pub notes: Vec<String>,
    /// How an https target was reached and what the handshakes did (the native driver; absent
    /// for plain http, in-process runs and goose, whose client does TLS its own way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
}

/// TLS as the native driver spoke it to an https target (`[http.tls]`), and what happened.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default, JsonSchema)]
pub struct TlsInfo {
    /// `insecure = true`: any server certificate was accepted, so the server was not
    /// authenticated. Every report says so.
    pub insecure: bool,
    /// Roots trusted besides the system's, as given (`ca_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// Certificates read from the system's trust store.
    pub system_roots: u64,
    /// The name sent as SNI and checked against the server's certificate.
    pub server_name: String,
    /// The client certificate presented when the server asked (mutual TLS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<String>,
    /// Protocol versions offered ("1.2", "1.3") and ALPN protocols offered ("http/1.1", "h2").
    pub versions: Vec<String>,
    pub alpn: Vec<String>,
    /// Whether new connections could resume earlier sessions.
    pub resumption: bool,
    /// Handshakes the load connections completed, and how many of them resumed a session.
    pub handshakes: u64,
    pub resumed: u64,
    /// Completed handshakes by negotiated version ("1.2", "1.3").
    pub by_version: BTreeMap<String, u64>,
    /// What the `tls` errors were: distinct messages (at most 8, the first seen) with counts.
    pub errors: Vec<TlsError>,
}

/// One kind of TLS failure and how often it happened.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct TlsError {
    pub message: String,
    pub count: u64,
}

/// The overall outcome.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct Verdict {
    pub status: Status,
    pub reasons: Vec<String>,
}

/// Overall status of a run.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every criterion met and the audit (if any) passed.
    Pass,
    /// At least one criterion failed, or no operation succeeded.
    Fail,
    /// The run was stopped early (Ctrl-C, deadline, target died).
    Aborted,
    /// The numbers cannot be trusted (e.g. audit failed, driver overloaded).
    Invalid,
    /// Operations succeeded but the scenario sets no criterion that could be measured, so
    /// nothing was judged: never shown as a pass (exit code 0 all the same).
    NotJudged,
}

impl Status {
    /// Lowercase name as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Aborted => "aborted",
            Status::Invalid => "invalid",
            Status::NotJudged => "not_judged",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // "NOT JUDGED", as the reports write it.
        f.write_str(&self.as_str().replace('_', " ").to_uppercase())
    }
}

/// Latency distribution summary. All latencies in MICROSECONDS.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default, JsonSchema)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    /// 95 % sampling interval of each percentile, from the order statistics of the same
    /// histogram (see [`Quantile`]); null where too few samples to report the percentile.
    /// Absent in results written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci95: Option<PercentileIntervals>,
}

impl Percentiles {
    /// Summarize a histogram recorded in nanoseconds into microseconds. An empty histogram
    /// gives all zeros (never NaN, which JSON cannot hold) and no interval for any percentile
    /// (too few samples), so every summary made from a histogram has the same keys.
    pub fn from_histogram(h: &hdrhistogram::Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles {
                ci95: Some(PercentileIntervals::default()),
                ..Percentiles::default()
            };
        }
        let us = |ns: u64| ns as f64 / 1_000.0;
        Percentiles {
            count: h.len(),
            mean: h.mean() / 1_000.0,
            p50: us(h.value_at_quantile(0.50)),
            p90: us(h.value_at_quantile(0.90)),
            p99: us(h.value_at_quantile(0.99)),
            p999: us(h.value_at_quantile(0.999)),
            max: us(h.max()),
            ci95: Some(PercentileIntervals::from_histogram(h)),
        }
    }

    /// One percentile's point figure, microseconds.
    pub fn value(&self, q: Quantile) -> f64 {
        match q {
            Quantile::P50 => self.p50,
            Quantile::P90 => self.p90,
            Quantile::P99 => self.p99,
            Quantile::P999 => self.p999,
        }
    }

    /// Whether there were enough samples to report this percentile (see [`Quantile`]).
    pub fn is_sufficient(&self, q: Quantile) -> bool {
        q.is_sufficient(self.count)
    }

    /// One percentile's 95 % sampling interval, when recorded and the samples suffice.
    pub fn interval(&self, q: Quantile) -> Option<Bounds> {
        self.ci95.and_then(|c| c.get(q))
    }
}

/// Whole-phase figures (the steady state for [`RunResult::summary`]).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct Summary {
    pub duration_s: f64,
    /// Committed transactions.
    pub committed: u64,
    pub committed_tps: f64,
    /// Operations issued by the driver (a batch or a request is one operation).
    pub ops: u64,
    pub ops_per_s: f64,
    /// Errors by kind, summed: failed requests, and transfers the engine rejected (each).
    pub errors: u64,
    /// The error rate criteria judge, as a fraction (0.0001 = 0.01 %): `tx_error_rate` for
    /// targets that count transactions, else `op_error_rate`.
    pub error_rate: f64,
    /// In requests (a failed request is one error, whatever it carried), plus rejected
    /// transfers.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Latency of the successful operations (criteria judge these).
    pub latency_us: Percentiles,
    #[serde(flatten)]
    pub failures: Failures,
    /// Open-model stages: how late the generator sent operations (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<Dispatch>,
    /// Transactions per second the plan offered over the same window (open-model stages' due
    /// operations times the transactions each carries), to read `committed_tps` against.
    /// Absent for closed-model stages (their load is what the workers achieve), requests that
    /// carry no transactions, and results written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_tps: Option<f64>,
    /// Time to open each new TCP connection (k6's `http_req_connecting`), over the whole run,
    /// warm-up included (connections are mostly opened at the start). Native HTTP driver only;
    /// absent in process, for goose, and when no connection was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_us: Option<Percentiles>,
    /// Time of each TLS handshake on a new connection (k6's `http_req_tls_handshaking`), over
    /// the whole run: https targets only; resumed and full handshakes together (see
    /// `driver.tls` for how many resumed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_handshake_us: Option<Percentiles>,
}

/// Failures counted whole: operations, and every transaction they carried.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default, JsonSchema)]
pub struct Failures {
    /// Operations that failed as a whole (connect, timeout, io, status, body).
    #[serde(default)]
    pub failed_ops: u64,
    /// Transactions carried by the failed operations: a failed batch of 1,024 counts 1,024.
    #[serde(default)]
    pub failed_tx: u64,
    /// failed_ops / ops.
    #[serde(default)]
    pub op_error_rate: f64,
    /// (failed_tx + rejected transfers) / submitted transactions; absent when the operations
    /// carried no transactions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_error_rate: Option<f64>,
    /// Latency of the failed operations, kept apart from the successful ones (absent when
    /// none failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_failed_us: Option<Percentiles>,
    /// What the failed answers said: the distinct answers (kind, template, status, the start
    /// of the body) among those sampled, most often sampled first, at most
    /// [`ANSWERS_KEPT_PER_KIND`] of each kind. The run samples the first
    /// [`ANSWER_SAMPLES_PER_KIND`] answers of each kind it counts as failed (`status_4xx`,
    /// `status_5xx`, `status_other`, `body`, `check`), warm-up included; transport errors
    /// (connect, tls, timeout, io) have no answer and are counted by kind only. The counts are
    /// of samples: `errors_by_kind` has every failure.
    /// (`failed_answers` in results.json, where the summary's failure fields are flattened.)
    #[serde(
        default,
        rename = "failed_answers",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub answers: Vec<FailedAnswer>,
}

/// One distinct failed answer (see [`Failures::answers`]).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct FailedAnswer {
    /// The error kind it counted as (`status_5xx`, `check`, ...).
    pub kind: String,
    /// The request template that asked (its `name`), when the scenario has templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    pub status: u16,
    /// The start of the body as text (at most [`ANSWER_BODY_CHARS`] characters; invalid UTF-8
    /// replaced, control characters shown as spaces); empty when there was none.
    pub body: String,
    /// Whether the body went on beyond what is shown.
    #[serde(default)]
    pub truncated: bool,
    /// How many of the sampled answers were this one.
    pub sampled: u64,
    /// Seconds from the start of the run to the first of them.
    pub first_at_s: f64,
}

/// How much of a failed answer's body [`FailedAnswer::body`] keeps.
pub const ANSWER_BODY_CHARS: usize = 200;
/// Failed answers of each kind a run samples for [`Failures::answers`]: the first ones.
pub const ANSWER_SAMPLES_PER_KIND: u32 = 64;
/// Distinct answers of each kind [`Failures::answers`] keeps.
pub const ANSWERS_KEPT_PER_KIND: usize = 5;
/// Bytes of a failed answer's body the drivers hold for the sample: error pages and JSON
/// errors are short; a longer body framed by its length is skipped whole by the builtin
/// client (sampled as its status, "no body held").
pub const FAILED_BODY_HOLD: usize = 4096;

/// How late the load generator itself sent open-model operations over the steady state.
///
/// Dispatch lag = send time - max(intended start, the moment the worker or connection became
/// free): lateness the generator caused, apart from waiting for a busy connection (which the
/// target caused, and which is inside the coordinated-omission-corrected latency).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default, JsonSchema)]
pub struct Dispatch {
    /// A lag over this many microseconds makes an operation late.
    pub late_after_us: f64,
    /// The share of late operations (fraction) above which the run is invalid.
    pub max_late_fraction: f64,
    /// Open-model operations dispatched in the steady state, and how many of them late.
    pub ops: u64,
    pub late_ops: u64,
    /// The lag's distribution, microseconds.
    pub lag_us: Percentiles,
    /// Operations per second the plan offered over the steady state, and those sent.
    pub offered_ops_per_s: f64,
    pub achieved_ops_per_s: f64,
}

impl Dispatch {
    /// late_ops / ops (0 when nothing was dispatched).
    pub fn late_fraction(&self) -> f64 {
        if self.ops == 0 {
            0.0
        } else {
            self.late_ops as f64 / self.ops as f64
        }
    }

    /// Whether the run's generator was late: more than the allowed share of operations late,
    /// and at least [`Dispatch::MIN_LATE_OPS`] of them.
    pub fn is_late(&self) -> bool {
        self.late_fraction() > self.max_late_fraction && !self.too_few_to_judge()
    }

    /// Late operations below which a run is not called invalid, however small it is: in a
    /// 160-operation run two stray late sends (one scheduler hiccup on a busy machine) are
    /// 1.25 %, over the 1 % limit, yet say nothing about the generator's capacity. Ten is the
    /// same floor the percentiles use ("insufficient samples" under 10 expected above a
    /// percentile); from 1,000 operations on, the share alone decides at a 1 % limit.
    pub const MIN_LATE_OPS: u64 = 10;

    /// Over the share, but on fewer than [`Dispatch::MIN_LATE_OPS`] late operations.
    pub fn too_few_to_judge(&self) -> bool {
        self.late_fraction() > self.max_late_fraction && self.late_ops < Self::MIN_LATE_OPS
    }

    /// Whether one interval's share of late operations is over the run's limit, on at least
    /// [`Dispatch::MIN_LATE_OPS`] of them, as for the whole run (the charts mark such
    /// intervals).
    pub fn interval_is_late(&self, i: &IntervalDispatch) -> bool {
        i.late_ops >= Self::MIN_LATE_OPS
            && i.late_ops as f64 / i.ops as f64 > self.max_late_fraction
    }
}

/// One interval's dispatch lag (open-model stages only).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default, JsonSchema)]
pub struct IntervalDispatch {
    pub ops: u64,
    /// Operations sent more than `Dispatch::late_after_us` late.
    pub late_ops: u64,
    pub lag_p99_us: f64,
    pub lag_max_us: f64,
}

/// Figures for one stage as it ran.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct StageResult {
    /// Index into [`ScenarioInfo::stages_planned`].
    pub index: usize,
    pub name: String,
    pub warmup: bool,
    /// Seconds since run start.
    pub start_s: f64,
    pub end_s: f64,
    pub committed: u64,
    pub committed_tps: f64,
    pub ops: u64,
    pub ops_per_s: f64,
    pub errors: u64,
    pub error_rate: f64,
    pub errors_by_kind: BTreeMap<String, u64>,
    pub latency_us: Percentiles,
    /// The stage's latency histogram (encoded like [`RunResult::histogram`]), so that merged
    /// segments get exact per-stage percentiles. Absent in older results and empty stages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<String>,
}

/// One `[[requests]]` template's figures.
///
/// A timed template counts over the steady state, like [`RunResult::summary`], so the timed
/// templates' `ops` add up to the summary's. A setup template (`setup = true`: sent once on
/// every new connection before its timed requests) counts over the whole run, warm-up
/// included (connections mostly open then), and appears in no other figure of the result.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct TemplateFigures {
    pub name: String,
    /// A setup template (see above).
    pub setup: bool,
    pub ops: u64,
    /// Operations per second of the steady state; absent for a setup template, whose count
    /// follows the connections opened rather than the load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops_per_s: Option<f64>,
    pub errors: u64,
    /// As [`Summary::error_rate`], for this template's operations.
    pub error_rate: f64,
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Latency of the successful operations.
    pub latency_us: Percentiles,
    /// Failures by check: the check's description to how often it failed. Absent when none
    /// failed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checks_failed: BTreeMap<String, u64>,
    /// The successful operations' latency histogram (encoded like [`RunResult::histogram`]), so
    /// that merged segments get exact percentiles. Absent when none succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<String>,
}

/// Figures for one reporting interval (default 1 s).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default, JsonSchema)]
pub struct IntervalRecord {
    /// End of the interval, seconds since run start.
    pub t_s: f64,
    pub dur_s: f64,
    /// Index of the stage this interval belongs to.
    pub stage: usize,
    /// Workers or rate asked for at that time, in the stage's unit.
    pub planned: f64,
    /// Workers active, or ops/s or tx/s achieved, in the same unit.
    pub achieved_load: f64,
    pub committed: u64,
    pub committed_tps: f64,
    pub ops: u64,
    pub ops_per_s: f64,
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    pub latency_us: Percentiles,
    /// Open model: operations due but not yet started at the end of the interval.
    pub backlog: u64,
    pub target_cpu_pct: Option<f64>,
    pub target_rss_bytes: Option<u64>,
    pub harness_cpu_pct: Option<f64>,
    pub harness_rss_bytes: Option<u64>,
    /// Whole-machine CPU busy over the interval, percent of all cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_cpu_pct: Option<f64>,
    /// Per-core CPU busy over the interval, percent of that core.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpu_per_core_pct: Vec<f64>,
    /// The harness's busiest thread over the interval, percent of one core.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harness_busiest_thread_pct: Option<f64>,
    /// How long that thread was runnable but waiting for a core, percent of the interval (a
    /// generator starved by the machine's other load; absent without schedstat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harness_busiest_thread_wait_pct: Option<f64>,
    /// Open-model intervals: how late the generator sent operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<IntervalDispatch>,
    /// CPU used by other processes over the interval: the machine's busy time from
    /// `/proc/stat` minus the harness's and a spawned target's, at least 0, percent of the
    /// machine (see [`Noise`]). Absent off Linux.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_cpu_pct: Option<f64>,
    /// CPU the hypervisor stole over the interval (`/proc/stat` steal), percent of the
    /// machine. Absent off Linux.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal_pct: Option<f64>,
}

/// CPU and memory of one process over the run.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default, JsonSchema)]
pub struct ProcessResources {
    pub pid: Option<u32>,
    pub cpu_avg_pct: Option<f64>,
    pub cpu_peak_pct: Option<f64>,
    pub cpu_seconds: Option<f64>,
    pub rss_start: Option<u64>,
    pub rss_after_warmup: Option<u64>,
    pub rss_peak: Option<u64>,
    pub rss_end: Option<u64>,
    /// Least-squares slope of RSS after warm-up, bytes per hour (see [`rss_slope_per_hour`]);
    /// absent when the steady state is too short to fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_slope_per_h: Option<f64>,
    /// Highest steady-state interval CPU of the process's busiest thread, percent of one core
    /// (measured for the harness only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busiest_thread_peak_pct: Option<f64>,
    /// Highest steady-state share of an interval that interval's busiest thread spent waiting
    /// for a core, percent (harness only; absent without schedstat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busiest_thread_wait_peak_pct: Option<f64>,
}

/// Resource use of the target and the harness.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct Resources {
    pub cores: usize,
    /// In-process runs: the target is the harness process, so the two are the same numbers.
    pub same_process: bool,
    /// How CPU percentages are scaled, e.g. "percent of all cores (100 = every core busy)".
    pub cpu_pct_basis: String,
    pub target: ProcessResources,
    pub harness: ProcessResources,
    /// Target RSS at end minus RSS after warm-up.
    pub rss_growth_bytes: Option<i64>,
    /// How long the target took to start (in-process: the engine's genesis build; spawn:
    /// spawn to first healthy answer), seconds. Absent when not measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_s: Option<f64>,
    /// Committed transactions of the whole run (warm-up included) per CPU-second the harness
    /// process spent on it (getrusage around the run): throughput a busy shared machine cannot
    /// fake, since another job taking a core halves the TPS but not the work per CPU-second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_per_cpu_s: Option<f64>,
    /// How busy the machine was with other work over the steady state, and the hypervisor's
    /// steal ([`Noise`], with the rule that makes it a warning). Absent off Linux and in
    /// results written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<Noise>,
}

/// Result of the engine's invariant audit at the end of an in-process run.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct AuditResult {
    pub ok: bool,
    pub total_supply_expected: u128,
    pub total_supply_actual: u128,
    pub committed_transfers: u64,
    pub nonce_advances: u64,
    pub ledger_height: u64,
    pub ledger_total_tx: u64,
    pub ledger_consistent: bool,
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub problems: Vec<String>,
}

/// One pass/fail criterion as judged.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct CriterionResult {
    /// Machine name: "min_tps", "max_p99", ...
    pub name: String,
    /// Human label: "Throughput", "p99 latency", ...
    pub label: String,
    /// Human target, e.g. "≥ 8.51M tx/s".
    pub target: String,
    /// Human measured value, e.g. "9.02M tx/s", or "n/a".
    pub measured: String,
    pub target_value: f64,
    pub measured_value: Option<f64>,
    pub unit: String,
    pub status: CriterionStatus,
    /// Latency percentiles only: whether the figure's 95 % sampling interval lies wholly on
    /// one side of the target (false: it straddles the target, or too few samples to have
    /// one, so the status could flip on a rerun from sampling alone). Absent for figures that
    /// are not sampled percentiles, and in results written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub significant: Option<bool>,
}

/// Outcome of one criterion.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CriterionStatus {
    Pass,
    Fail,
    /// The figure could not be measured in this run (e.g. startup time of an external target).
    NotMeasured,
}

impl CriterionStatus {
    /// Name as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CriterionStatus::Pass => "pass",
            CriterionStatus::Fail => "fail",
            CriterionStatus::NotMeasured => "not_measured",
        }
    }
}

/// One point of the percentile distribution.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct PercentilePoint {
    /// 0..=100.
    pub percentile: f64,
    pub latency_us: f64,
}

/// CPU profile of the steady state.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct ProfileInfo {
    /// Flamegraph SVG: path relative to the report dir, or absolute.
    pub flamegraph: String,
    pub frequency_hz: u32,
    pub samples: u64,
    /// Hottest frames by self time, hottest first.
    pub top_frames: Vec<FrameShare>,
}

/// Instructions counted by valgrind's callgrind over a run's workers (the load generator and,
/// for the in-process engine, the engine: everything each worker thread executed), the metric
/// that does not drift on a shared machine: the same binary and seeded fixed work give the
/// same count, whatever else the machine does. The run's times and resources were measured
/// under valgrind too (tens of times slower) and say nothing about the code.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct Instructions {
    /// "callgrind".
    pub tool: String,
    /// Instructions executed inside the workers (callgrind's `Ir`).
    pub total: u64,
    /// Operations completed by the counted workers (warm-up included).
    pub ops: u64,
    /// Transactions committed by the counted workers (warm-up included); 0 when the target
    /// commits none.
    pub committed_tx: u64,
    /// `total / committed_tx`, or `None` when nothing was committed.
    pub per_tx: Option<f64>,
    /// `total / ops`.
    pub per_op: f64,
    /// The functions that executed the most instructions themselves (callees excluded),
    /// most first: where a change in the total comes from.
    pub functions: Vec<FunctionInstructions>,
}

/// One function's own instructions in a counted run.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct FunctionInstructions {
    pub name: String,
    pub instructions: u64,
}

/// A frame's share of the samples where it was the leaf.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct FrameShare {
    pub name: String,
    pub self_pct: f64,
}

/// Outcome of a capacity ramp (the rate raised linearly until a criterion breaks) or search
/// (held probes, grown then bisected, see [`CapacitySearch`]).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct CapacityResult {
    /// The criterion that bounded the search, e.g. "max_p99".
    pub criterion: String,
    pub unit: String,
    /// The highest rate that met the bound (a search: the bracket's good end).
    pub max_rate_met: Option<f64>,
    /// The first rate that broke it (a search: the bracket's bad end; `None` when nothing
    /// broke).
    pub first_rate_broken: Option<f64>,
    /// A search's answer and probes; absent for a ramp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<CapacitySearch>,
}

/// Which execution segment of a distributed run this is (`--segment index/count`), or, on a
/// result written by `harness merge`, which segments went into it.
///
/// Indexes are 0-based, like Kubernetes' `JOB_COMPLETION_INDEX`: a run of `count` segments has
/// segments `0..count`. Every field added after the first layout has a serde default, so older
/// files still read.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct SegmentInfo {
    /// 0-based segment index; on a merged result, the lowest index merged.
    pub index: u32,
    pub count: u32,
    /// This segment's fraction of the plan's load (its share of the steady-state operations or
    /// worker-seconds); throughput criteria of a segment run are scaled by it. 1.0 on a merged
    /// result that holds every segment.
    #[serde(default = "one")]
    pub share: f64,
    /// Wall-clock time of the run's t = 0 (start of stage 0), Unix seconds, UTC. Interval
    /// `t_s` values are relative to it, so `harness merge` aligns segments on wall-clock
    /// interval boundaries.
    #[serde(default)]
    pub clock_origin_unix_s: Option<f64>,
    /// How the start was synchronized: "start-at <RFC 3339>", "barrier <file>" or "none".
    #[serde(default)]
    pub start: Option<String>,
    /// Sender accounts `[first, end)` this segment owned (HTTP targets that carry transfers).
    #[serde(default)]
    pub senders: Option<[u64; 2]>,
    /// Engine-reported committed transfers before the segment started and after every segment
    /// ended (HTTP targets that are our engine); merge checks its sum against their difference.
    #[serde(default)]
    pub engine_committed_before: Option<u64>,
    #[serde(default)]
    pub engine_committed_after: Option<u64>,
    /// Only on a result written by `harness merge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergedSegments>,
}

fn one() -> f64 {
    1.0
}

impl SegmentInfo {
    /// Segment `index` of `count` with an even share and nothing else known yet.
    pub fn new(index: u32, count: u32) -> SegmentInfo {
        SegmentInfo {
            index,
            count,
            share: 1.0 / f64::from(count.max(1)),
            clock_origin_unix_s: None,
            start: None,
            senders: None,
            engine_committed_before: None,
            engine_committed_after: None,
            merged: None,
        }
    }
}

/// What `harness merge` combined.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct MergedSegments {
    /// Segment indexes merged, ascending.
    pub present: Vec<u32>,
    /// Segment indexes of `0..count` that were not given (only with `--allow-missing`).
    pub missing: Vec<u32>,
    /// Each segment's own figures and resources, in index order (resources are per machine,
    /// so they are kept per instance, never summed).
    pub instances: Vec<InstanceResult>,
}

/// One segment's own headline figures and resources inside a merged result.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
pub struct InstanceResult {
    pub segment: u32,
    /// The results.json it was read from, as given.
    pub file: String,
    pub hostname: Option<String>,
    pub status: Status,
    pub committed: u64,
    pub committed_tps: f64,
    pub p99_us: f64,
    pub errors: u64,
    pub resources: Resources,
}

/// Side files written with the result, relative to the result's directory or absolute.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default, JsonSchema)]
pub struct Files {
    /// HdrHistogram interval log.
    pub hlog: Option<String>,
    pub flamegraph: Option<String>,
}

impl RunResult {
    /// Read a `results.json` of any schema version from 1 to [`SCHEMA_VERSION`]; a newer one is
    /// refused with an error naming the file, the version found and the newest this build
    /// reads (checked before the full parse, so a newer layout gives that message instead of a
    /// confusing field error).
    pub fn read(path: impl AsRef<Path>) -> Result<RunResult> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ResultsError::Io {
            action: "reading",
            path: path.to_owned(),
            source,
        })?;
        Self::from_json_slice(&bytes, path)
    }

    /// Parse JSON bytes, under the same version rule as [`RunResult::read`]; `origin` names
    /// the source in errors.
    pub fn from_json_slice(bytes: &[u8], origin: &Path) -> Result<RunResult> {
        let parse_err = |source| ResultsError::Parse {
            path: origin.to_owned(),
            source,
        };
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(parse_err)?;
        match value.get("schema_version").and_then(|v| v.as_u64()) {
            Some(found) if readable_version(found, SCHEMA_VERSION) => {}
            Some(0) => {
                return Err(ResultsError::SchemaVersionZero {
                    path: origin.to_owned(),
                })
            }
            Some(found) => {
                return Err(ResultsError::SchemaVersion {
                    path: origin.to_owned(),
                    found,
                    newest: SCHEMA_VERSION,
                })
            }
            // Missing or not a number: let serde name the problem.
            None => {}
        }
        // Parse from the bytes, not the Value: u128 audit figures beyond u64 need serde_json's
        // direct number parsing.
        serde_json::from_slice(bytes).map_err(parse_err)
    }

    /// Pretty JSON, as written to `results.json`.
    pub fn to_json_pretty(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self)
    }

    /// Write pretty JSON to `path` (through a temporary file and a rename, so a crash never
    /// leaves a half-written results.json). Refuses a result that would not read back
    /// (a NaN or infinite figure), naming the file.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut json = self
            .to_json_pretty()
            .map_err(|source| ResultsError::Serialize {
                path: path.to_owned(),
                source,
            })?;
        // JSON cannot hold NaN or infinity (serde_json writes null, which no f64 reads back):
        // check the round trip now rather than leave an unreadable results.json.
        if let Err(source) = serde_json::from_str::<RunResult>(&json) {
            return Err(ResultsError::NotReadable {
                path: path.to_owned(),
                source,
            });
        }
        json.push('\n');
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let io_err = |action, p: &Path| {
            let p = p.to_owned();
            move |source| ResultsError::Io {
                action,
                path: p,
                source,
            }
        };
        std::fs::write(&tmp, json).map_err(io_err("writing", &tmp))?;
        std::fs::rename(&tmp, path).map_err(io_err("renaming to", path))?;
        Ok(())
    }

    /// Decode the embedded steady-state histogram, if any.
    pub fn decode_histogram(&self) -> Option<Result<hdrhistogram::Histogram<u64>>> {
        self.histogram.as_deref().map(decode_histogram)
    }

    /// Stage plan for a stage index, if the plan has it.
    pub fn stage_plan(&self, index: usize) -> Option<&StagePlan> {
        self.scenario.stages_planned.get(index)
    }
}

/// The JSON schema of `results.json`, generated from the types (pretty JSON, trailing newline).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(RunResult);
    // Serializing a schemars Schema (a JSON value) cannot fail.
    let mut s = serde_json::to_string_pretty(&schema).expect("schema serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_match_serde() {
        for (s, n) in [
            (Status::Pass, "pass"),
            (Status::Fail, "fail"),
            (Status::Aborted, "aborted"),
            (Status::Invalid, "invalid"),
            (Status::NotJudged, "not_judged"),
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), n);
            assert_eq!(s.as_str(), n);
        }
        for c in [
            CriterionStatus::Pass,
            CriterionStatus::Fail,
            CriterionStatus::NotMeasured,
        ] {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(
            serde_json::to_value(CriterionStatus::NotMeasured).unwrap(),
            "not_measured"
        );
        assert_eq!(serde_json::to_value(LoadModel::Open).unwrap(), "open");
        assert_eq!(Status::NotJudged.to_string(), "NOT JUDGED");
    }

    #[test]
    fn readers_take_every_version_up_to_their_newest() {
        // As a build whose newest layout were 3 would: 1 and 2 are older layouts it reads.
        assert!(!readable_version(0, 3));
        for v in 1..=3 {
            assert!(readable_version(v, 3), "version {v}");
        }
        assert!(!readable_version(4, 3));
        assert!(!readable_version(u64::MAX, 3));
        let newest = u64::from(SCHEMA_VERSION);
        assert!(readable_version(newest, SCHEMA_VERSION));
        assert!(!readable_version(newest + 1, SCHEMA_VERSION));
    }

    #[test]
    fn percentiles_from_histogram_convert_ns_to_us() {
        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for v in 1..=1000u64 {
            h.record(v * 1_000).unwrap(); // 1..1000 µs in ns
        }
        let p = Percentiles::from_histogram(&h);
        assert_eq!(p.count, 1000);
        assert!((p.p50 - 500.0).abs() < 1.0, "p50 {}", p.p50);
        assert!((p.p99 - 990.0).abs() < 1.5, "p99 {}", p.p99);
        assert!((p.max - 1000.0).abs() < 1.0, "max {}", p.max);
        assert!((p.mean - 500.5).abs() < 1.0, "mean {}", p.mean);
        let empty = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        let none = Percentiles::from_histogram(&empty);
        assert_eq!(none.p99, 0.0);
        assert_eq!(none.ci95, Some(PercentileIntervals::default()));
        assert!(!none.is_sufficient(Quantile::P50));
    }
}
