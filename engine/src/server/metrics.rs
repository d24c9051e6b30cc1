//! Request counters and the Prometheus text exposition (format 0.0.4).
//!
//! Everything recorded per request is a relaxed atomic add into fixed-size tables (route x
//! status, latency buckets), so the hot path takes no lock and allocates nothing; the text is
//! built only when `/metrics` is scraped. Paths are a closed set ([`Route`]) so an attacker
//! cannot blow up label cardinality with random URLs.

use crate::exposition::{Exposition, Series};
use crate::{Engine, RejectReason, Stats};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// The routes the server knows, used as the `path` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Health,
    Info,
    Stats,
    Audit,
    OpenApi,
    Transactions,
    Metrics,
    Profile,
    Other,
}

impl Route {
    pub(crate) const ALL: [Route; 9] = [
        Route::Health,
        Route::Info,
        Route::Stats,
        Route::Audit,
        Route::OpenApi,
        Route::Transactions,
        Route::Metrics,
        Route::Profile,
        Route::Other,
    ];

    pub(crate) fn of(path: &str) -> Route {
        match path {
            "/api/v11/health" => Route::Health,
            "/api/v11/info" => Route::Info,
            "/api/v11/stats" => Route::Stats,
            "/api/v11/audit" => Route::Audit,
            "/api/v11/openapi.json" => Route::OpenApi,
            "/api/v11/transactions" => Route::Transactions,
            "/metrics" => Route::Metrics,
            "/debug/pprof/profile" => Route::Profile,
            _ => Route::Other,
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Route::Health => "/api/v11/health",
            Route::Info => "/api/v11/info",
            Route::Stats => "/api/v11/stats",
            Route::Audit => "/api/v11/audit",
            Route::OpenApi => "/api/v11/openapi.json",
            Route::Transactions => "/api/v11/transactions",
            Route::Metrics => "/metrics",
            Route::Profile => "/debug/pprof/profile",
            Route::Other => "other",
        }
    }

    /// The methods the route answers, as its 405's `Allow` header lists them (`None` for
    /// `Other`, which is a 404 whatever the method). The OpenAPI description's operations per
    /// path are checked against this (`openapi`'s tests).
    pub(crate) fn allow(self) -> Option<&'static str> {
        match self {
            Route::Transactions => Some("POST"),
            Route::Other => None,
            _ => Some("GET, HEAD"),
        }
    }
}

/// Status codes the server answers with; anything else is counted as "other".
const STATUSES: [u16; 13] = [
    200, 400, 403, 404, 405, 409, 413, 415, 422, 500, 503, 408, 431,
];
const STATUS_SLOTS: usize = STATUSES.len() + 1;

/// Upper bounds of the latency buckets, in microseconds.
const BUCKETS_US: [u64; 17] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

fn status_slot(status: u16) -> usize {
    STATUSES
        .iter()
        .position(|&s| s == status)
        .unwrap_or(STATUSES.len())
}

/// Live server counters. One instance per server, shared by every connection.
#[derive(Default)]
pub(crate) struct Metrics {
    requests: [[AtomicU64; STATUS_SLOTS]; Route::ALL.len()],
    /// Non-cumulative counts per bucket; the last slot is +Inf.
    latency: [AtomicU64; BUCKETS_US.len() + 1],
    latency_sum_us: AtomicU64,
    pub(crate) inflight: AtomicUsize,
    pub(crate) overloaded: AtomicU64,
    pub(crate) connections_active: AtomicUsize,
    pub(crate) connections_total: AtomicU64,
    /// Closed at once because `max_connections` were open.
    pub(crate) connections_rejected: AtomicU64,
    /// TLS handshakes that failed or ran out of time (HTTPS only).
    pub(crate) tls_handshakes_failed: AtomicU64,
}

/// Request counters as reported by `/api/v11/stats`.
#[derive(serde::Serialize)]
pub(crate) struct RequestCounters {
    pub requests_total: u64,
    pub requests_inflight: usize,
    pub requests_overloaded: u64,
    pub connections_active: usize,
    pub connections_total: u64,
    pub connections_rejected: u64,
    pub tls_handshakes_failed: u64,
}

impl Metrics {
    /// Counts one answered request.
    pub(crate) fn record(&self, route: Route, status: u16, elapsed: Duration) {
        self.requests[route as usize][status_slot(status)].fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let bucket = BUCKETS_US
            .iter()
            .position(|&b| us <= b)
            .unwrap_or(BUCKETS_US.len());
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(us, Ordering::Relaxed);
    }

    fn requests_total(&self) -> u64 {
        self.requests
            .iter()
            .flatten()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    pub(crate) fn counters(&self) -> RequestCounters {
        RequestCounters {
            requests_total: self.requests_total(),
            requests_inflight: self.inflight.load(Ordering::Relaxed),
            requests_overloaded: self.overloaded.load(Ordering::Relaxed),
            connections_active: self.connections_active.load(Ordering::Relaxed),
            connections_total: self.connections_total.load(Ordering::Relaxed),
            connections_rejected: self.connections_rejected.load(Ordering::Relaxed),
            tls_handshakes_failed: self.tls_handshakes_failed.load(Ordering::Relaxed),
        }
    }

    /// Renders the Prometheus text exposition of the engine's and the server's counters.
    pub(crate) fn render(&self, engine: &Engine, uptime: Duration) -> String {
        let mut out = Exposition(String::with_capacity(4096));
        render_engine(&mut out, &engine.stats());
        self.render_http(&mut out);
        out.single(
            "process_resident_memory_bytes",
            "gauge",
            "Resident set size of this process.",
            rss_bytes().unwrap_or(0),
        );
        out.single(
            "process_uptime_seconds",
            "gauge",
            "Seconds since the server started.",
            uptime.as_secs(),
        );
        self.render_latency(&mut out);
        out.0
    }

    /// The server's request and connection counters.
    fn render_http(&self, out: &mut Exposition) {
        out.family(
            "http_requests_total",
            "counter",
            "HTTP requests answered, by path and status.",
            &self.requests_by_path(),
        );
        out.single(
            "http_requests_overloaded_total",
            "counter",
            "Requests refused with 503 because too many were in flight.",
            self.overloaded.load(Ordering::Relaxed),
        );
        out.single(
            "http_requests_inflight",
            "gauge",
            "Requests being handled.",
            self.inflight.load(Ordering::Relaxed) as u64,
        );
        out.single(
            "http_connections_active",
            "gauge",
            "Open connections.",
            self.connections_active.load(Ordering::Relaxed) as u64,
        );
        // Both reasons are always present, so a rate() over either starts from 0.
        let rejected = [
            ("connection_limit", &self.connections_rejected),
            ("tls_handshake_failed", &self.tls_handshakes_failed),
        ]
        .map(|(reason, n)| {
            (
                format!("{{reason=\"{reason}\"}}"),
                n.load(Ordering::Relaxed),
            )
        });
        out.family(
            "http_connections_rejected_total",
            "counter",
            "Connections closed before a request was served: over the connection limit, or a TLS handshake that failed or timed out.",
            &rejected,
        );
    }

    /// `{path, status}` samples of every route and status answered at least once.
    fn requests_by_path(&self) -> Vec<(String, u64)> {
        let mut by_path = Vec::new();
        for route in Route::ALL {
            for (slot, c) in self.requests[route as usize].iter().enumerate() {
                let n = c.load(Ordering::Relaxed);
                if n > 0 {
                    let status = STATUSES
                        .get(slot)
                        .map_or_else(|| "other".to_string(), |s| s.to_string());
                    by_path.push((
                        format!("{{path=\"{}\",status=\"{status}\"}}", route.label()),
                        n,
                    ));
                }
            }
        }
        by_path
    }

    fn render_latency(&self, out: &mut Exposition) {
        let counts: Vec<u64> = self
            .latency
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let bounds: Vec<f64> = BUCKETS_US.iter().map(|&b| b as f64 / 1e6).collect();
        out.histogram(
            "http_request_duration_seconds",
            "Time from request head to response, in seconds.",
            &bounds,
            &[Series {
                labels: "",
                counts: &counts,
                sum: self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6,
            }],
        );
    }
}

/// The engine's counters: transfers by outcome, batches, the ledger head, accounts.
fn render_engine(out: &mut Exposition, stats: &Stats) {
    out.single(
        "engine_transactions_submitted_total",
        "counter",
        "Transfers submitted to the engine.",
        stats.submitted,
    );
    out.single(
        "engine_transactions_committed_total",
        "counter",
        "Transfers committed.",
        stats.committed,
    );
    let rejected: Vec<_> = RejectReason::ALL
        .iter()
        .map(|r| {
            (
                format!("{{reason=\"{}\"}}", r.as_str()),
                stats.rejected[*r as usize],
            )
        })
        .collect();
    out.family(
        "engine_transactions_rejected_total",
        "counter",
        "Transfers rejected, by reason.",
        &rejected,
    );
    out.single(
        "engine_batches_total",
        "counter",
        "Batches applied.",
        stats.batches,
    );
    out.single(
        "engine_head_height",
        "gauge",
        "Height of the ledger's head block.",
        stats.head_height,
    );
    out.single(
        "engine_accounts",
        "gauge",
        "Accounts in the engine.",
        stats.accounts,
    );
}

/// Resident set size of this process, from `/proc/self/statm` (Linux only).
pub(crate) fn rss_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        Some(pages * u64::try_from(page).ok()?)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    #[test]
    fn histogram_is_cumulative_and_counts_match() {
        let m = Metrics::default();
        m.record(Route::Health, 200, Duration::from_micros(10));
        m.record(Route::Health, 200, Duration::from_micros(700));
        m.record(Route::Other, 404, Duration::from_secs(60));
        let engine = Engine::new(Config {
            accounts: 10,
            ..Config::default()
        })
        .unwrap();
        let text = m.render(&engine, Duration::from_secs(1));
        assert!(text.contains("http_request_duration_seconds_bucket{le=\"0.00005\"} 1\n"));
        assert!(text.contains("http_request_duration_seconds_bucket{le=\"0.001\"} 2\n"));
        assert!(text.contains("http_request_duration_seconds_bucket{le=\"10\"} 2\n"));
        assert!(text.contains("http_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("http_request_duration_seconds_count 3\n"));
        assert!(text.contains("http_requests_total{path=\"/api/v11/health\",status=\"200\"} 2\n"));
        assert!(text.contains("http_requests_total{path=\"other\",status=\"404\"} 1\n"));
        assert!(text.contains("engine_transactions_rejected_total{reason=\"bad_nonce\"} 0\n"));
        assert!(rss_bytes().is_some_and(|b| b > 0));
    }

    /// The whole exposition, byte for byte (the resident memory masked: it is the test
    /// process's own). Scrapers and promtool read this text, so any change to it shows here.
    /// Regenerate after a deliberate change: `UPDATE_GOLDEN=1 cargo test -p engine metrics`.
    #[test]
    fn exposition_text_is_stable() {
        let m = Metrics::default();
        m.record(Route::Health, 200, Duration::from_micros(40));
        m.record(Route::Transactions, 200, Duration::from_micros(1_300));
        m.record(Route::Transactions, 503, Duration::from_micros(90));
        m.record(Route::Metrics, 418, Duration::from_millis(30));
        m.record(Route::Other, 404, Duration::from_secs(20));
        m.inflight.store(3, Ordering::Relaxed);
        m.overloaded.store(1, Ordering::Relaxed);
        m.connections_active.store(2, Ordering::Relaxed);
        m.connections_rejected.store(4, Ordering::Relaxed);
        m.tls_handshakes_failed.store(5, Ordering::Relaxed);
        let engine = Engine::new(Config {
            accounts: 10,
            ..Config::default()
        })
        .unwrap();
        let text: String = m
            .render(&engine, Duration::from_millis(61_500))
            .lines()
            .map(|l| match l.strip_prefix("process_resident_memory_bytes ") {
                Some(_) => "process_resident_memory_bytes RSS\n".to_string(),
                None => format!("{l}\n"),
            })
            .collect();
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/server/testdata/metrics.txt"
        );
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(path, &text).unwrap();
        }
        let golden = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            text == golden,
            "/metrics text changed; expected {path}, got:\n{text}"
        );
    }
}
