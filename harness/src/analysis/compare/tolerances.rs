//! How much each metric may move before the rule calls it a change.
//!
//! Default tolerances ([`Tolerances::default`]): throughput 10 %, TPS per CPU-second 25 %,
//! instructions per transaction 2 %, p50
//! and p99 25 %, p99.9 50 %, error rate +0.1 percentage points (absolute: a relative change of a
//! near-zero rate means nothing), peak RSS 20 %, CPU average 25 %. A scenario's
//! `[criteria.tolerance]` overrides them (its `error_rate` is read as an absolute fraction,
//! 0.001 = 0.1 pp), and `--tolerance KEY=VALUE` overrides both ([`Tolerances::apply_spec`]).

use super::CompareError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Allowed change per metric. Relative (0.10 = 10 %) except `error_rate`, which is an absolute
/// difference of the error fraction (0.001 = 0.1 percentage points).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    pub tps: f64,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub error_rate: f64,
    pub rss: f64,
    pub cpu: f64,
    /// Committed transactions per CPU-second. Not a scenario key (the scenario format has a
    /// fixed list); set with `--tolerance tps_per_cpu=...`.
    #[serde(default = "default_tps_per_cpu")]
    pub tps_per_cpu: f64,
    /// Instructions per committed transaction (`harness run --count-instructions`). The count
    /// does not drift: 2 % is far above its run-to-run spread (baselines/README.md) and below
    /// the 3 % the gate must catch.
    #[serde(default = "default_instructions")]
    pub instructions: f64,
}

fn default_instructions() -> f64 {
    0.02
}

fn default_tps_per_cpu() -> f64 {
    0.25
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            tps: 0.10,
            p50: 0.25,
            p99: 0.25,
            p999: 0.50,
            error_rate: 0.001,
            rss: 0.20,
            cpu: 0.25,
            tps_per_cpu: default_tps_per_cpu(),
            instructions: default_instructions(),
        }
    }
}

impl Tolerances {
    /// Defaults overridden by a scenario's `[criteria.tolerance]` (already validated to
    /// `0..=scenario::max_tolerance` by the scenario crate; `p90` is accepted there but not compared here).
    pub fn from_scenario(map: &BTreeMap<String, f64>) -> Tolerances {
        let mut t = Tolerances::default();
        for (k, v) in map {
            // Keys were validated against scenario::TOLERANCE_KEYS; the rest cannot occur.
            let _ = t.set(k, *v);
        }
        t
    }

    /// Sets one tolerance by its scenario key.
    pub fn set(&mut self, key: &str, value: f64) -> Result<(), CompareError> {
        let bad = |reason: &str| CompareError::BadTolerance {
            spec: format!("{key}={value}"),
            reason: reason.to_string(),
        };
        let max = scenario::max_tolerance(key);
        if !(0.0..=max).contains(&value) {
            return Err(bad(&format!(
                "expected a number in 0..={max} (0.10 = 10 %; above 1 only where lower is better)"
            )));
        }
        match key {
            "tps" => self.tps = value,
            "p50" => self.p50 = value,
            "p90" => {}
            "p99" => self.p99 = value,
            "p999" => self.p999 = value,
            "error_rate" => self.error_rate = value,
            "rss" => self.rss = value,
            "cpu" => self.cpu = value,
            "tps_per_cpu" => self.tps_per_cpu = value,
            "instructions" => self.instructions = value,
            _ => {
                return Err(bad(
                    "unknown metric (tps tps_per_cpu instructions p50 p99 p999 error_rate rss cpu)",
                ))
            }
        }
        Ok(())
    }

    /// Applies a `KEY=VALUE` flag (e.g. `--tolerance tps=0.2`).
    pub fn apply_spec(&mut self, spec: &str) -> Result<(), CompareError> {
        let (k, v) = spec
            .split_once('=')
            .ok_or_else(|| CompareError::BadTolerance {
                spec: spec.to_string(),
                reason: "expected KEY=VALUE, e.g. tps=0.2".to_string(),
            })?;
        let v: f64 = v.trim().parse().map_err(|_| CompareError::BadTolerance {
            spec: spec.to_string(),
            reason: "the value is not a number".to_string(),
        })?;
        self.set(k.trim(), v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances_from_scenario_and_flags() {
        let mut m = BTreeMap::new();
        m.insert("tps".to_string(), 0.35);
        m.insert("p90".to_string(), 0.5);
        let mut t = Tolerances::from_scenario(&m);
        assert_eq!(t.tps, 0.35);
        assert_eq!(t.p99, 0.25);
        t.apply_spec("p99=0.6").unwrap();
        assert_eq!(t.p99, 0.6);
        let e = t.apply_spec("latency=0.1").unwrap_err().to_string();
        assert!(
            e.contains("latency=0.1") && e.contains("unknown metric"),
            "{e}"
        );
        assert!(t.apply_spec("tps").is_err());
        assert!(t.apply_spec("tps=2").is_err());
        assert!(t.apply_spec("tps_per_cpu=1.5").is_err());
        assert!(t.apply_spec("error_rate=1.5").is_err());
        // Latency can grow without bound: a tolerance above 1 is a fail-at-several-times bound.
        t.apply_spec("p999=3").unwrap();
        assert_eq!(t.p999, 3.0);
        assert!(t.apply_spec("p999=11").is_err());
    }
}
