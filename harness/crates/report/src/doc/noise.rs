//! The machine's other work, in words: the warning every report shows when the machine was
//! busy or the hypervisor stole CPU ([`noise_warning`], by the one rule in [`results::Noise`]),
//! and the figures in the "Resources" section.
//!
//! Why: a number is only as good as the machine it came from. A run that shared its cores
//! with a build reads as slower code unless the report says the machine was busy.

use results::{Noise, RunResult};

use crate::fmt;

/// The warning, when the run's noise is worth one (see [`results::Noise`] for the rule);
/// `None` for a quiet machine and for results without the figures. Every renderer shows it
/// as a [`super::Block::Warning`] under the verdict; the terminal summary prints it too.
pub fn noise_warning(r: &RunResult) -> Option<String> {
    let n = r.resources.noise.as_ref().filter(|n| n.is_noisy())?;
    let mut parts = Vec::new();
    if n.is_busy() {
        parts.push(format!(
            "the machine was busy with other work: other processes used {} of it on average \
             (peak {}; busy means more than {} of one core, {} of these {} CPUs)",
            fmt::pct(n.other_cpu_avg_pct),
            fmt::pct(n.other_cpu_peak_pct),
            fmt::pct(results::BUSY_CORE_PCT),
            fmt::pct(n.busy_threshold_pct()),
            n.cpus
        ));
    }
    if n.has_steal() {
        parts.push(format!(
            "the hypervisor stole CPU: up to {} of the machine in an interval ({} on average)",
            fmt::pct(n.steal_peak_pct),
            fmt::pct(n.steal_avg_pct)
        ));
    }
    Some(format!(
        "Noisy machine: {}. The figures may be lower than the code allows; rerun on a quiet \
         machine before blaming the code.",
        parts.join("; ")
    ))
}

/// The noise figures for the "Resources" section's facts.
pub(super) fn noise_pairs(r: &RunResult) -> Vec<(String, String)> {
    match &r.resources.noise {
        Some(n) => vec![
            (
                "Other processes' CPU (average / peak)".into(),
                format!(
                    "{} / {}",
                    fmt::pct(n.other_cpu_avg_pct),
                    fmt::pct(n.other_cpu_peak_pct)
                ),
            ),
            (
                "CPU steal (average / peak)".into(),
                format!(
                    "{} / {}",
                    fmt::pct(n.steal_avg_pct),
                    fmt::pct(n.steal_peak_pct)
                ),
            ),
            ("Intervals over the busy threshold".into(), busy_share(n)),
        ],
        None => vec![(
            "Other processes' CPU, steal".into(),
            "not measured (no /proc/stat, or results written before it was recorded)".into(),
        )],
    }
}

/// "3 of 10 (threshold 5 %)".
fn busy_share(n: &Noise) -> String {
    format!(
        "{} of {} (threshold {})",
        fmt::count(n.busy_intervals),
        fmt::count(n.intervals),
        fmt::pct(n.busy_threshold_pct())
    )
}

/// What the noise figures are and when they make a warning, for the "Resources" note; `None`
/// when they were not measured.
pub(super) fn noise_note(r: &RunResult) -> Option<String> {
    r.resources.noise.as_ref()?;
    Some(format!(
        "Other processes' CPU = the whole machine's busy CPU from /proc/stat (user, nice, system, \
         irq, softirq) minus the harness's and a spawned target's own, in percent of all the \
         machine's CPUs (100 = every core busy), steady state only; a target the harness did \
         not start counts as other work. Steal = CPU the hypervisor gave to other guests. The \
         run is called noisy when other processes averaged more than {} of one core, or steal \
         exceeded {} of the machine in any interval; the CPU chart shades the intervals over \
         the busy threshold.",
        fmt::pct(results::BUSY_CORE_PCT),
        fmt::pct(results::STEAL_PCT)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(other_avg: f64, steal_peak: f64) -> RunResult {
        let mut r = results::fixture::sample();
        r.resources.noise = Some(Noise {
            cpus: 2,
            other_cpu_avg_pct: other_avg,
            other_cpu_peak_pct: other_avg * 2.0,
            steal_avg_pct: steal_peak / 2.0,
            steal_peak_pct: steal_peak,
            intervals: 10,
            busy_intervals: 3,
        });
        r
    }

    #[test]
    fn the_warning_follows_the_rule_and_names_the_figures() {
        assert_eq!(noise_warning(&with(4.9, 0.5)), None);
        assert_eq!(noise_warning(&results::fixture::sample()), None);
        let busy = noise_warning(&with(48.0, 0.0)).unwrap();
        assert!(
            busy.contains("other processes used 48 % of it on average (peak 96 %")
                && busy.contains("5 % of these 2 CPUs")
                && !busy.contains("stole"),
            "{busy}"
        );
        let steal = noise_warning(&with(1.0, 3.0)).unwrap();
        assert!(
            steal.contains("stole CPU: up to 3 % of the machine in an interval (1.5 % on average)")
                && !steal.contains("busy with"),
            "{steal}"
        );
    }

    #[test]
    fn every_format_shows_the_warning() {
        let r = with(48.0, 3.0);
        let warning = noise_warning(&r).unwrap();
        let md = crate::render_to_bytes(&r, crate::Format::Markdown).unwrap();
        let md = String::from_utf8(md[0].bytes.clone()).unwrap();
        assert!(
            md.contains("**Warning**: Noisy machine: the machine was busy"),
            "{md}"
        );
        let html = crate::render_to_bytes(&r, crate::Format::Html).unwrap();
        let html = String::from_utf8(html[0].bytes.clone()).unwrap();
        assert!(
            html.contains("<p class=\"warning\"><strong>Warning</strong>: Noisy machine:"),
            "{html}"
        );
        assert!(crate::text_summary(&r).contains(&format!("Warning: {warning}")));
        let xml = crate::render_to_bytes(&r, crate::Format::Junit).unwrap();
        let xml = String::from_utf8(xml[0].bytes.clone()).unwrap();
        assert!(xml.contains("name=\"noise_warning\""), "{xml}");
        let quiet = results::fixture::sample();
        assert!(!crate::text_summary(&quiet).contains("Warning"));
    }
}
