//! Figures and sides made up in memory for the unit tests of `compare`.

use super::{Figures, ScenarioId, Side};

/// One run's figures: `tps` committed, `p99` µs (p50 half of it, p99.9 twice), 100 MiB RSS.
pub fn figures(tps: f64, p99: f64) -> Figures {
    Figures {
        committed_tps: tps,
        ops_per_s: tps / 1024.0,
        error_rate: 0.0,
        p50_us: p99 / 2.0,
        p99_us: p99,
        p999_us: p99 * 2.0,
        rss_peak_bytes: Some(100 << 20),
        cpu_avg_pct: None,
        tx_per_cpu_s: None,
        closed_model: false,
        generator_cpu_s_per_m_ops: None,
        generator_rss_peak_bytes: None,
        latency_us: None,
        capacity: None,
        noise: None,
        instructions: None,
    }
}

/// A side of scenario `name` (file hash `sha`) through the native driver.
pub fn side(name: &str, sha: &str, runs: Vec<Figures>) -> Side {
    Side {
        origin: format!("{name}-{sha}"),
        scenario: ScenarioId {
            name: name.to_string(),
            sha256: sha.to_string(),
        },
        driver: "native".to_string(),
        runs,
        note: None,
        scenario_file: None,
    }
}
