//! Failures counted whole, in the "Errors" section: the request and the transaction error
//! rates side by side, and the latency of failed operations next to the successful ones'
//! (Gatling's OK/KO split), so a dead target's instant refusals never pass for fast answers.

use results::{FailedAnswer, Percentiles, Quantile, RunResult};

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

/// What the failed answers said (sampled), so a reader sees the server's reason beside the
/// count; nothing when no answer failed (transport errors have none).
pub(super) fn answers(answers: &[FailedAnswer]) -> Vec<Block> {
    if answers.is_empty() {
        return Vec::new();
    }
    let named = answers.iter().any(|a| a.template.is_some());
    let mut columns = vec![("Kind", Align::Left), ("Status", Align::Right)];
    if named {
        columns.push(("Request", Align::Left));
    }
    columns.extend([
        ("Sampled", Align::Right),
        ("First at", Align::Right),
        ("Answer (start of the body)", Align::Left),
    ]);
    let mut t = Table::new(&columns);
    for a in answers {
        let mut row = vec![Cell::plain(&a.kind), Cell::plain(a.status.to_string())];
        if named {
            row.push(Cell::plain(a.template.as_deref().unwrap_or("")));
        }
        let body = match (a.body.is_empty(), a.truncated) {
            (true, _) => "(no body held)".to_string(),
            (false, true) => format!("{} …", a.body),
            (false, false) => a.body.clone(),
        };
        row.extend([
            Cell::plain(fmt::count(a.sampled)),
            Cell::plain(fmt::duration_s(a.first_at_s)),
            Cell::plain(body),
        ]);
        t.row(row);
    }
    vec![
        Block::Paragraph("What the failed answers said:".into()),
        Block::Table(t),
        Block::Note(format!(
            "Sampled: the distinct answers (at most {} of each kind) among the first {} failed \
             answers of each kind, warm-up included (the counts above are of every failure). A \
             body over {} framed by its length is not held.",
            results::ANSWERS_KEPT_PER_KIND,
            results::ANSWER_SAMPLES_PER_KIND,
            fmt::bytes(results::FAILED_BODY_HOLD as u64)
        )),
    ]
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
