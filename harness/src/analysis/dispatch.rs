//! When the load generator, not the target, was the bottleneck: the rule that makes such a run
//! invalid, and its reason in words.
//!
//! A generator that falls behind its schedule still measures latency from each operation's
//! intended start, so its own lateness shows up as the target's latency (a k6 run whose
//! generator dropped a fifth of its iterations was almost published as a system's ceiling).
//! The result records the dispatch lag (see `results::Dispatch`): when more than the allowed
//! share of steady open-model operations left more than the threshold late, no verdict on the
//! target can be given. Offered vs achieved rate is reported but is not by itself a reason: a
//! slow target legitimately holds every connection busy.

use report::fmt;
use results::RunResult;

/// Why the run is invalid because of its generator, or `None` when it kept up (or ran no
/// open-model operations).
pub fn late_generator(r: &RunResult) -> Option<String> {
    let d = r.summary.dispatch.as_ref()?;
    if !d.is_late() {
        return None;
    }
    let late = d.late_fraction();
    let mut why = format!(
        "the load generator started {} of operations ({} of {}) more than {} late (limit {})",
        fmt::fraction_pct(late),
        fmt::count(d.late_ops),
        fmt::count(d.ops),
        fmt::latency_us(d.late_after_us),
        fmt::fraction_pct(d.max_late_fraction),
    );
    let h = &r.resources.harness;
    if let Some(busy) = h.busiest_thread_peak_pct {
        why.push_str(&format!("; its busiest thread was {} busy", fmt::pct(busy)));
    }
    if let Some(wait) = h.busiest_thread_wait_peak_pct.filter(|w| *w >= 10.0) {
        // Runnable but not running: the machine's other load took the core.
        why.push_str(&format!(
            " and waited for a core up to {} of the time",
            fmt::pct(wait)
        ));
    }
    why.push_str(": add generator cores or segments, or lower the rate");
    Some(why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use results::Dispatch;

    fn with(ops: u64, late_ops: u64) -> RunResult {
        let mut r = results::fixture::sample();
        r.summary.dispatch = Some(Dispatch {
            late_after_us: 1000.0,
            max_late_fraction: 0.01,
            ops,
            late_ops,
            ..Dispatch::default()
        });
        r.resources.harness.busiest_thread_peak_pct = Some(99.2);
        r.resources.harness.busiest_thread_wait_peak_pct = Some(3.0);
        r
    }

    #[test]
    fn over_the_share_is_late_and_says_why() {
        assert_eq!(late_generator(&with(1000, 10)), None, "1 % is allowed");
        assert_eq!(
            late_generator(&with(160, 3)),
            None,
            "1.9 % of a 160-operation run, but only 3 late: too few to judge"
        );
        assert!(late_generator(&with(160, 10)).is_some(), "10 late of 160");
        assert!(late_generator(&with(100_000, 1_001)).is_some());
        let why = late_generator(&with(1000, 31)).expect("3.1 % is over");
        assert_eq!(
            why,
            "the load generator started 3.1 % of operations (31 of 1,000) more than 1.00 ms late \
             (limit 1 %); its busiest thread was 99.2 % busy: add generator cores or segments, \
             or lower the rate"
        );
        let mut starved = with(1000, 31);
        starved.resources.harness.busiest_thread_peak_pct = Some(25.3);
        starved.resources.harness.busiest_thread_wait_peak_pct = Some(74.0);
        assert!(late_generator(&starved).unwrap().contains(
            "its busiest thread was 25.3 % busy and waited for a core up to 74 % of the time"
        ));
        let mut closed = with(0, 0);
        closed.summary.dispatch = None;
        assert_eq!(late_generator(&closed), None);
    }
}
