//! When a latency limit is finer than the instrument: the rule that makes such a run invalid,
//! and its reason in words.
//!
//! A run measures latency from each operation's intended start, so its generator's own
//! lateness is inside every percentile. `harness calibrate` measured how late one generator
//! thread starts operations on this machine at a light load (its dispatch precision, per
//! percentile); a limit below that percentile's lag could be broken by the harness alone, so no
//! verdict on the target can be given, whatever was measured, as with a late generator
//! ([`crate::analysis::dispatch`]). Only applied when the run was given a calibration
//! (`--calibration`, `use_calibration`): without one nothing changes.

use crate::calibrate::record::{Calibration, DispatchStep};
use report::fmt;
use scenario::Criteria;
use std::path::Path;
use std::time::Duration;

/// What holding a run's criteria against a calibration found.
#[derive(Debug, Default, PartialEq)]
pub struct Held {
    /// Why the run is invalid: one reason per latency limit below the calibrated lag.
    pub invalid: Vec<String>,
    /// Why the calibration could not be applied, when it could not.
    pub note: Option<String>,
}

/// The calibration's figures for a run against `target_kind` ("in-process" runs on worker
/// threads, anything else through the HTTP driver).
fn driver_of(target_kind: &str) -> &'static str {
    if target_kind == "in-process" {
        "threads"
    } else {
        "http"
    }
}

/// Holds `criteria`'s latency limits against the dispatch precision `cal` (read from `file`)
/// measured for the driver of a `target_kind` run.
pub fn hold(criteria: &Criteria, target_kind: &str, cal: &Calibration, file: &Path) -> Held {
    let driver = driver_of(target_kind);
    let Some(p) = cal.dispatch_of(driver).and_then(|d| d.precision()) else {
        return Held {
            invalid: vec![],
            note: Some(format!(
                "calibration {} has no {driver} dispatch figures: latency limits judged without it",
                file.display()
            )),
        };
    };
    let limits = [
        ("p50", criteria.max_p50, p.lag_p50_us),
        ("p90", criteria.max_p90, p.lag_p90_us),
        ("p99", criteria.max_p99, p.lag_p99_us),
        ("p99.9", criteria.max_p999, p.lag_p999_us),
    ];
    let invalid = limits
        .into_iter()
        .filter_map(|(q, limit, lag)| {
            let limit = limit?;
            below(limit, lag).then(|| reason(q, limit, lag, p, cal, file))
        })
        .collect();
    Held {
        invalid,
        note: None,
    }
}

fn below(limit: Duration, lag_us: f64) -> bool {
    limit.as_secs_f64() * 1e6 < lag_us
}

fn reason(
    q: &str,
    limit: Duration,
    lag_us: f64,
    p: &DispatchStep,
    cal: &Calibration,
    file: &Path,
) -> String {
    format!(
        "the {q} latency limit {} is below this machine's dispatch precision: operations may \
         start up to {} late at {q} (at {}, calibration {} of {}, {}), so the harness alone \
         could break it: raise the limit, or calibrate and run on a quieter machine",
        fmt::latency_us(limit.as_secs_f64() * 1e6),
        fmt::latency_us(lag_us),
        fmt::rate(p.rate, "ops/s"),
        file.display(),
        cal.host,
        cal.measured_at
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::record::tests::sample;

    fn p99(limit_us: u64) -> Criteria {
        Criteria {
            max_p99: Some(Duration::from_micros(limit_us)),
            ..Criteria::default()
        }
    }

    #[test]
    fn a_limit_below_the_calibrated_lag_is_refused_with_the_reason() {
        let cal = sample("ci-1", "2026-12-01T06:00:00Z", 2_000.0);
        let file = Path::new("reports/calibration/ci-1.json");
        let held = hold(&p99(1_000), "in-process", &cal, file);
        assert_eq!(
            held.invalid,
            [
                "the p99 latency limit 1.00 ms is below this machine's dispatch precision: \
              operations may start up to 2.00 ms late at p99 (at 1k ops/s, calibration \
              reports/calibration/ci-1.json of ci-1, 2026-12-01T06:00:00Z), so the harness \
              alone could break it: raise the limit, or calibrate and run on a quieter machine"
            ]
        );
        assert_eq!(held.note, None);
        assert_eq!(hold(&p99(2_000), "http", &cal, file), Held::default());
        assert_eq!(
            hold(&Criteria::default(), "http", &cal, file),
            Held::default()
        );
        // p50 is held against the p50 lag (1 ms here), p99.9 against the p99.9 lag (3 ms).
        let all = Criteria {
            max_p50: Some(Duration::from_micros(900)),
            max_p999: Some(Duration::from_micros(3_100)),
            ..p99(1_000)
        };
        let held = hold(&all, "spawn", &cal, file);
        assert_eq!(held.invalid.len(), 2, "{:?}", held.invalid);
        assert!(held.invalid[0].starts_with("the p50 latency limit 900 µs"));
        let mut no_http = cal.clone();
        no_http.dispatch.retain(|d| d.driver != "http");
        let held = hold(&p99(1), "http", &no_http, file);
        assert!(held.invalid.is_empty());
        assert!(held.note.unwrap().contains("has no http dispatch figures"));
    }
}
