//! Failures counted whole, in the "Errors" section: the request and the transaction error
//! rates side by side, and the latency of failed operations next to the successful ones'
//! (Gatling's OK/KO split), so a dead target's instant refusals never pass for fast answers.

use results::{Percentiles, Quantile, RunResult};

use super::{Align, Block, Cell, Table, Tone};
use crate::fmt;

/// The failure figures under the errors-by-kind table; nothing when nothing failed.
pub(super) fn failures(r: &RunResult) -> Vec<Block> {
    let s = &r.summary;
    let f = &s.failures;
    let mut pairs = vec![(
        "Failed operations".to_string(),
        format!(
            "{} of {} ({})",
            fmt::count(f.failed_ops),
            fmt::count(s.ops),
            fmt::fraction_pct(f.op_error_rate)
        ),
    )];
    if let Some(rate) = f.tx_error_rate {
        pairs.push((
            "Failed transactions (failed operations' and rejected)".to_string(),
            format!(
                "{} carried by failed operations; {} of all submitted",
                fmt::count(f.failed_tx),
                fmt::fraction_pct(rate)
            ),
        ));
    }
    let mut b = vec![Block::Pairs(pairs)];
    if let Some(ko) = &f.latency_failed_us {
        b.push(Block::Table(ok_ko(&s.latency_us, ko)));
        b.push(Block::Note(format!(
            "Latency criteria judge the successful operations only; failed ones are shown \
                 apart. {}",
            super::SAMPLING_NOTE
        )));
    }
    b
}

/// Latency of successful (OK) and failed (KO) operations.
fn ok_ko(ok: &Percentiles, ko: &Percentiles) -> Table {
    let mut t = Table::new(&[
        ("Operations", Align::Left),
        ("Count", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        ("max", Align::Right),
    ]);
    for (name, p, tone) in [("successful", ok, Tone::Plain), ("failed", ko, Tone::Bad)] {
        t.row(vec![
            Cell::tone(name, tone),
            Cell::plain(fmt::count(p.count)),
            Cell::plain(fmt::percentile_cell(p, Quantile::P50)),
            Cell::plain(fmt::percentile_cell(p, Quantile::P90)),
            Cell::plain(fmt::percentile_cell(p, Quantile::P99)),
            Cell::plain(fmt::latency_us(p.max)),
        ]);
    }
    t
}
