//! The verdict of a capacity search, in words: what the one verdict
//! (`analysis::verdict::judge`) says of a result whose `capacity.search` is set, in place of
//! criteria (a search sets none: it answers "how far?", not "did it pass?").
//!
//! A found capacity passes; a start rate that already broke the SLO fails (the answer is
//! "below the range"); a search stopped by its own limits before confirming is not judged,
//! with its bracket; an invalid probe makes the search invalid (a late generator is found by
//! the dispatch rule before this is asked; any other reason is the probe's).

use report::fmt;
use results::{
    CapacityResult, CapacitySearch, ProbeOutcome, RunResult, SearchEnd, Status, Verdict,
};

/// The search's verdict, when `r` is a search.
pub fn search_verdict(r: &RunResult) -> Option<Verdict> {
    let c = r.capacity.as_ref()?;
    let s = c.search.as_ref()?;
    let rate = |v: Option<f64>| v.map_or_else(|| "none".to_string(), |v| fmt::rate(v, &c.unit));
    let bracket = format!(
        "good {}, bad {}",
        rate(c.max_rate_met),
        rate(c.first_rate_broken)
    );
    let (status, why) = match s.ended {
        SearchEnd::Converged => (Status::Pass, found(c, s)),
        SearchEnd::AboveMax => (
            Status::Pass,
            format!(
                "capacity above the search's max {}: every probe met {}, and the max held for {}",
                fmt::rate(s.settings.max, &c.unit),
                c.criterion,
                fmt::duration_s(s.settings.confirm_s)
            ),
        ),
        SearchEnd::BelowStart => (
            Status::Fail,
            format!(
                "even the start rate {} broke {} ({}): the capacity is below the search's range",
                fmt::rate(s.settings.start, &c.unit),
                c.criterion,
                s.probes.first().map_or("", |p| p.why.as_str())
            ),
        ),
        SearchEnd::MaxProbes | SearchEnd::MaxTime => (
            Status::NotJudged,
            format!(
                "the search stopped at its {} after {} probes, before a capacity was confirmed ({bracket})",
                if s.ended == SearchEnd::MaxProbes { "max_probes" } else { "max_time" },
                s.probes.len()
            ),
        ),
        SearchEnd::GeneratorLimit => (Status::Invalid, invalid_probe(s)),
        SearchEnd::Aborted => (Status::Aborted, format!("interrupted ({bracket})")),
    };
    Some(Verdict {
        status,
        reasons: vec![why],
    })
}

fn found(c: &CapacityResult, s: &CapacitySearch) -> String {
    format!(
        "capacity {} at {} (good {}, bad {}), held for {}; {} probes in {}",
        s.capacity
            .map_or_else(|| "none".to_string(), |v| fmt::rate(v, &c.unit)),
        c.criterion,
        c.max_rate_met
            .map_or_else(String::new, |v| fmt::rate(v, &c.unit)),
        c.first_rate_broken
            .map_or_else(String::new, |v| fmt::rate(v, &c.unit)),
        fmt::duration_s(s.settings.confirm_s),
        s.probes.len(),
        fmt::duration_s(s.wall_s)
    )
}

fn invalid_probe(s: &CapacitySearch) -> String {
    match s.probes.iter().find(|p| p.outcome == ProbeOutcome::Invalid) {
        Some(p) => format!(
            "probe {} was invalid, so no capacity can be claimed: {}",
            p.index, p.why
        ),
        None => "a probe was invalid, so no capacity can be claimed".to_string(),
    }
}
