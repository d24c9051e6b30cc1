//! Live progress: a status line on a terminal, plain periodic lines otherwise (CI logs), or
//! nothing with `--quiet`. Everything goes to stderr so stdout stays for the summary.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use report::fmt;
use results::{IntervalRecord, Quantile};
use std::io::IsTerminal;

pub enum Progress {
    Bar(ProgressBar, Vec<String>),
    Lines(Vec<String>),
    Quiet,
}

impl Progress {
    /// Picks the form for this process's stderr. `stage_names` label the stages.
    pub fn new(quiet: bool, total_s: f64, stage_names: Vec<String>) -> Progress {
        if quiet {
            Progress::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(
                Some((total_s * 10.0).round() as u64),
                ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {elapsed_precise} {msg}")
                    .expect("static template is valid"),
            );
            Progress::Bar(bar, stage_names)
        } else {
            Progress::Lines(stage_names)
        }
    }

    /// Shows one finalized interval.
    pub fn interval(&self, rec: &IntervalRecord, total_s: f64, per_tx_errors: bool) {
        match self {
            Progress::Bar(bar, names) => {
                bar.set_position((rec.t_s * 10.0).round() as u64);
                bar.set_message(line(rec, names, total_s, per_tx_errors));
            }
            Progress::Lines(names) => eprintln!("{}", line(rec, names, total_s, per_tx_errors)),
            Progress::Quiet => {}
        }
    }

    pub fn finish(&self) {
        if let Progress::Bar(bar, _) = self {
            bar.finish_and_clear();
        }
    }
}

/// One interval as the live line states it: stage, time, throughput, the interval's p99 with
/// its 95 % sampling interval (or "insufficient samples" under 1,000 operations), errors and
/// the open model's backlog.
fn line(rec: &IntervalRecord, names: &[String], total_s: f64, per_tx_errors: bool) -> String {
    let stage = names.get(rec.stage).map_or("-", String::as_str);
    let tps = if rec.committed > 0 || per_tx_errors {
        fmt::rate(rec.committed_tps, "tx/s")
    } else {
        fmt::rate(rec.ops_per_s, "req/s")
    };
    format!(
        "[{stage} {}/{}] {:>6.1}s/{:.0}s  {tps}  p99 {}  errors {}{}",
        rec.stage + 1,
        names.len(),
        rec.t_s,
        total_s,
        fmt::percentile_cell(&rec.latency_us, Quantile::P99),
        rec.errors,
        if rec.backlog > 0 {
            format!("  backlog {} ops", rec.backlog)
        } else {
            String::new()
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval_of(samples_us: impl Iterator<Item = u64>) -> IntervalRecord {
        let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        for us in samples_us {
            h.record(us * 1_000).unwrap();
        }
        let mut rec = results::fixture::sample().intervals[0].clone();
        rec.latency_us = results::Percentiles::from_histogram(&h);
        rec.backlog = 0;
        rec
    }

    #[test]
    fn the_live_line_states_the_p99_interval_or_too_few_samples() {
        let names = vec!["steady".to_string()];
        let rec = interval_of(1..=2_000);
        let l = line(&rec, &names, 60.0, true);
        assert!(l.contains("p99 1.98 ms (1.97–1.99 ms)"), "{l}");
        let rec = interval_of(1..=500);
        let l = line(&rec, &names, 60.0, true);
        assert!(l.contains("p99 insufficient samples (n = 500)"), "{l}");
    }
}
