//! `harness history`: how a scenario's figures moved over many runs, on one page.
//!
//! Review and regression hunting need the whole series, not two points: which commit moved
//! p99, whether a "regression" is one noisy run or a step that stayed. Each run (or saved
//! baseline) is an [`Entry`] ([`load`]); runs are grouped by the SHA-256 of their scenario file
//! into [`Track`]s, never mixed (a changed scenario is a different benchmark); every run of a
//! track is compared with its baseline by `harness compare`'s own rule ([`compare`]), so the
//! page marks exactly the runs the gate would fail. [`page`] lays a history out as a
//! `report::doc::Doc` with one chart per figure, which [`write_outputs`] renders as
//! self-contained HTML and as Markdown.
//!
//! | module | its one job |
//! |---|---|
//! | `entries` | read runs and baselines from the paths named ([`load`]) |
//! | `page` | the Doc and the charts of a [`History`] ([`page`]) |

mod entries;
mod page;

pub use entries::{load, Entry};
pub use page::{page, summary, write_outputs, HISTORY_FILES};

use crate::analysis::compare::{compare, CompareError, CompareOptions, Comparison};
use crate::analysis::compare::{ScenarioId, Side, Tolerances};

/// The runs of one scenario file, each compared with the track's baseline.
#[derive(Debug, Clone)]
pub struct Track {
    pub scenario: ScenarioId,
    pub baseline: Side,
    /// Where the baseline came from, in words.
    pub baseline_origin: String,
    pub tolerances: Tolerances,
    /// Oldest first, each with its comparison against the baseline.
    pub runs: Vec<(Entry, Comparison)>,
}

/// A whole history: one track per scenario file, in the order their first runs were made.
#[derive(Debug, Clone)]
pub struct History {
    pub tracks: Vec<Track>,
}

/// How a history is judged.
pub struct HistoryOptions<'a> {
    /// The baseline of its scenario's track (`--baseline`); the other tracks, and every track
    /// without one, are judged against their oldest entry.
    pub baseline: Option<Side>,
    /// The tolerances of a track, from its newest run (the scenario's `[criteria.tolerance]`
    /// and `--tolerance`, as `harness compare` takes them).
    pub tolerances: &'a dyn Fn(&Side) -> Tolerances,
}

/// Groups `entries` (oldest first, as [`load`] returns them) by scenario file and compares
/// each with its track's baseline. A `--baseline` of a scenario none of the runs were made
/// from is an error, not an empty page.
pub fn build(entries: Vec<Entry>, opts: &HistoryOptions<'_>) -> Result<History, CompareError> {
    let mut groups: Vec<(ScenarioId, Vec<Entry>)> = Vec::new();
    for e in entries {
        match groups
            .iter_mut()
            .find(|(id, _)| id.sha256 == e.side.scenario.sha256)
        {
            Some((_, runs)) => runs.push(e),
            None => groups.push((e.side.scenario.clone(), vec![e])),
        }
    }
    if let Some(b) = &opts.baseline {
        if !groups.iter().any(|(id, _)| id.sha256 == b.scenario.sha256) {
            return Err(CompareError::ScenarioMismatch {
                base: b.origin.clone(),
                base_id: b.scenario.to_string(),
                new: "the runs".to_string(),
                new_id: groups
                    .iter()
                    .map(|(id, _)| id.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    let tracks = groups
        .into_iter()
        .map(|(id, runs)| track(id, runs, opts))
        .collect::<Result<_, _>>()?;
    Ok(History { tracks })
}

fn track(
    scenario: ScenarioId,
    runs: Vec<Entry>,
    opts: &HistoryOptions<'_>,
) -> Result<Track, CompareError> {
    let given = opts
        .baseline
        .as_ref()
        .filter(|b| b.scenario.sha256 == scenario.sha256);
    let (baseline, baseline_origin) = match given {
        Some(b) => (b.clone(), format!("{} (--baseline)", b.origin)),
        // `build` makes no empty group.
        None => (
            runs[0].side.clone(),
            format!("the oldest run, {}", runs[0].side.origin),
        ),
    };
    let newest = &runs[runs.len() - 1].side;
    let tolerances = (opts.tolerances)(newest);
    let runs = runs
        .into_iter()
        .map(|e| {
            let c = compare(&baseline, &e.side, &tolerances, CompareOptions::default())?;
            Ok((e, c))
        })
        .collect::<Result<_, CompareError>>()?;
    Ok(Track {
        scenario,
        baseline,
        baseline_origin,
        tolerances,
        runs,
    })
}

#[cfg(test)]
mod tests;
