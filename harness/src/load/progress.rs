//! Live progress: a status line on a terminal, plain periodic lines otherwise (CI logs), or
//! nothing with `--quiet`. Everything goes to stderr so stdout stays for the summary.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use report::fmt;
use results::IntervalRecord;
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
        let line = |names: &[String]| {
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
                fmt::latency_us(rec.latency_us.p99),
                rec.errors,
                if rec.backlog > 0 {
                    format!("  backlog {} ops", rec.backlog)
                } else {
                    String::new()
                }
            )
        };
        match self {
            Progress::Bar(bar, names) => {
                bar.set_position((rec.t_s * 10.0).round() as u64);
                bar.set_message(line(names));
            }
            Progress::Lines(names) => eprintln!("{}", line(names)),
            Progress::Quiet => {}
        }
    }

    pub fn finish(&self) {
        if let Progress::Bar(bar, _) = self {
            bar.finish_and_clear();
        }
    }
}
