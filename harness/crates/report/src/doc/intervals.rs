//! Which intervals the report shows one by one: the rule for partial intervals, in one place.
//!
//! A run rarely ends on an interval boundary, so the harness records a last interval of a few
//! milliseconds (1 ms in `reports/sample`). Its rate is a handful of operations divided by
//! that sliver: one batch of 1,024 in 1 ms reads as 1.02M tx/s in a run that held 8.51M, and
//! its percentiles rest on one or two samples. The figures are true to the data but tell
//! nothing about the load, so every chart that plots per-interval figures (and any table that
//! lists intervals or takes their minimum or peak) leaves such intervals out and says so once,
//! with [`short_intervals_note`]. The summary and the verdict are the harness's and unchanged.
//!
//! The rule: an interval shorter than half the run's nominal interval is left out. The nominal
//! length is the median `dur_s` (results do not record the scenario's interval setting; the
//! median is that setting whenever most intervals are whole). Half, not the verdict's 90 %:
//! the verdict asks whether an interval can show a shortfall of one operation, the charts only
//! whether a rate means anything, and a 0.6 s interval's rate does.

use results::{IntervalRecord, RunResult};

use crate::fmt;

/// The intervals shorter than this share of the nominal length are not shown.
const SHORT_SHARE: f64 = 0.5;

/// The run's nominal interval length: the (upper) median `dur_s`, or None without intervals.
fn nominal_interval_s(r: &RunResult) -> Option<f64> {
    let mut d: Vec<f64> = r.intervals.iter().map(|i| i.dur_s).collect();
    d.sort_by(f64::total_cmp);
    d.get(d.len() / 2).copied()
}

/// Whether an interval is too short to give a rate or percentiles worth showing.
fn is_short(i: &IntervalRecord, nominal_s: f64) -> bool {
    i.dur_s < nominal_s * SHORT_SHARE
}

/// The intervals to show one by one, in order: all but those shorter than half the nominal
/// length. Never empty when the run has intervals (at least half of them reach the median).
pub fn full_intervals(r: &RunResult) -> Vec<&IntervalRecord> {
    let Some(nominal) = nominal_interval_s(r) else {
        return Vec::new();
    };
    r.intervals
        .iter()
        .filter(|i| !is_short(i, nominal))
        .collect()
}

/// The sentence saying which intervals [`full_intervals`] left out, or None when it kept them
/// all. Said once per chart caption or table note.
pub fn short_intervals_note(r: &RunResult) -> Option<String> {
    let nominal = nominal_interval_s(r)?;
    let short: Vec<&IntervalRecord> = r
        .intervals
        .iter()
        .filter(|i| is_short(i, nominal))
        .collect();
    let why = "too short to give a rate or percentiles";
    match short.as_slice() {
        [] => None,
        [only] if std::ptr::eq(*only, r.intervals.last()?) => Some(format!(
            "The last {} interval is not drawn: {why}.",
            length(only.dur_s)
        )),
        _ => Some(format!(
            "{} intervals shorter than half the {} interval (ending at {}) are not drawn: {why}.",
            short.len(),
            length(nominal),
            short
                .iter()
                .map(|i| seconds(i.t_s))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// A time since the start as the charts' axis counts it: "3.2 s", "183 s".
fn seconds(t: f64) -> String {
    format!("{} s", fmt::sig3(t))
}

/// An interval's length: milliseconds below a second ("1 ms", not "0 s"), else seconds.
fn length(s: f64) -> String {
    if s < 1.0 {
        format!("{} ms", fmt::sig3(s * 1e3))
    } else {
        seconds(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_durations(d: &[f64]) -> RunResult {
        let mut r = results::fixture::sample();
        let proto = r.intervals[0].clone();
        let mut t = 0.0;
        r.intervals = d
            .iter()
            .map(|&dur_s| {
                t += dur_s;
                IntervalRecord {
                    t_s: t,
                    dur_s,
                    ..proto.clone()
                }
            })
            .collect();
        r
    }

    fn kept(r: &RunResult) -> Vec<f64> {
        full_intervals(r).iter().map(|i| i.dur_s).collect()
    }

    #[test]
    fn whole_intervals_are_all_kept() {
        let r = with_durations(&[1.0, 1.0, 1.0]);
        assert_eq!(kept(&r), [1.0, 1.0, 1.0]);
        assert_eq!(short_intervals_note(&r), None);
        assert!(full_intervals(&with_durations(&[])).is_empty());
        assert_eq!(short_intervals_note(&with_durations(&[])), None);
    }

    #[test]
    fn a_short_last_interval_is_left_out_and_named() {
        let r = with_durations(&[1.0, 1.0, 1.0, 0.001]);
        assert_eq!(kept(&r), [1.0, 1.0, 1.0]);
        assert_eq!(
            short_intervals_note(&r).as_deref(),
            Some("The last 1 ms interval is not drawn: too short to give a rate or percentiles.")
        );
        // A last interval of more than half the nominal length still gives a rate.
        assert_eq!(kept(&with_durations(&[1.0, 1.0, 0.6])), [1.0, 1.0, 0.6]);
    }

    #[test]
    fn one_or_two_intervals_keep_the_longest() {
        assert_eq!(kept(&with_durations(&[0.004])), [0.004]);
        assert_eq!(kept(&with_durations(&[1.0, 0.001])), [1.0]);
    }

    #[test]
    fn short_intervals_elsewhere_are_counted_with_their_times() {
        let r = with_durations(&[1.0, 0.2, 1.0, 1.0, 0.001]);
        assert_eq!(kept(&r), [1.0, 1.0, 1.0]);
        assert_eq!(
            short_intervals_note(&r).as_deref(),
            Some(
                "2 intervals shorter than half the 1 s interval (ending at 1.2 s, 3.2 s) are not \
                 drawn: too short to give a rate or percentiles."
            )
        );
    }
}
