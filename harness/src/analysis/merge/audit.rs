//! The merged audit: the shared engine's committed count checked against the segments' sum, and
//! the segments' own audits combined.

use super::parts::add_counts;
use super::Seg;
use results::{AuditResult, RunResult, SegmentInfo};
/// The engine audit of a merged run. In-process segments each audited their own engine: all
/// must pass and the counts add. HTTP segments share one engine: the audit of the segment that
/// read it last stands, and the engine's committed count over the whole run must equal the
/// segments' sum.
pub(super) fn merge_audit(
    segs: &[Seg<'_>],
    committed: u64,
    complete: bool,
    notes: &mut Vec<String>,
) -> Option<AuditResult> {
    let audits: Vec<(&RunResult, &SegmentInfo, &AuditResult)> = segs
        .iter()
        .filter_map(|(_, r, s)| r.audit.as_ref().map(|a| (*r, *s, a)))
        .collect();
    let first = audits.first()?;
    if first.0.scenario.target_kind == "in-process" {
        let mut m = first.2.clone();
        for (_, s, a) in &audits[1..] {
            m.ok &= a.ok;
            m.total_supply_expected += a.total_supply_expected;
            m.total_supply_actual += a.total_supply_actual;
            m.committed_transfers += a.committed_transfers;
            m.nonce_advances += a.nonce_advances;
            m.ledger_height += a.ledger_height;
            m.ledger_total_tx += a.ledger_total_tx;
            m.ledger_consistent &= a.ledger_consistent;
            add_counts(&mut m.rejected_by_reason, &a.rejected_by_reason);
            m.problems.extend(
                a.problems
                    .iter()
                    .map(|p| format!("segment {}: {p}", s.index)),
            );
        }
        return Some(m);
    }
    let (_, _, last) = audits
        .iter()
        .max_by_key(|(_, s, _)| s.engine_committed_after.unwrap_or(0))?;
    let mut m = (*last).clone();
    let before = segs
        .iter()
        .map(|(_, _, s)| s.engine_committed_before)
        .collect::<Option<Vec<u64>>>();
    let after = segs
        .iter()
        .map(|(_, _, s)| s.engine_committed_after)
        .collect::<Option<Vec<u64>>>();
    match (before, after) {
        (Some(b), Some(a)) if complete => {
            let max_after = a.iter().max().copied().unwrap_or(0);
            let engine = max_after.saturating_sub(b.iter().min().copied().unwrap_or(0));
            if engine == committed {
                notes.push(format!(
                    "engine stats agree: the engine committed {engine} transfers during the run, the segments' sum"
                ));
            } else {
                m.ok = false;
                m.problems.push(format!(
                    "the engine committed {engine} transfers during the run but the segments counted {committed} in their answers"
                ));
            }
        }
        (Some(_), Some(_)) => notes.push(
            "segments are missing: the engine's committed count is not compared with the merged sum"
                .to_string(),
        ),
        _ => notes.push(
            "not every segment recorded the engine's committed counts: not compared".to_string(),
        ),
    }
    Some(m)
}
