//! The plan a run executes: the scenario's validated [`Plan`], transformed once by what the
//! command line asks (duration scale, driver override, execution segment), then checked again
//! where a transformation could make it invalid (a `--driver goose` the scenario never asked
//! for).
//!
//! Pure: nothing here starts or waits. After [`prepare`] the plan is never edited again; every
//! later step reads the same [`Prepared`].

pub mod segment;

use scenario::{DriverError, Plan, ScenarioError};
use segment::Segment;
use std::ops::Range;
use std::path::Path;

/// What the command line changes in a scenario's plan.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Adjust {
    /// `--duration-scale`: every stage's duration times this factor.
    pub duration_scale: Option<f64>,
    /// `--driver`: run through this load generator instead of the scenario's.
    pub driver: Option<scenario::Driver>,
    /// `--segment i/n`: run this share of the load.
    pub segment: Option<Segment>,
}

/// Why a plan cannot be prepared. Every variant is the user's to fix (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("--duration-scale must be a finite number above 0, got {0}")]
    Scale(f64),
    #[error(transparent)]
    Driver(#[from] DriverError),
    #[error("--segment cannot split a capacity search ([capacity] mode = \"search\"): each probe's rate would need every segment to move together; run the search from one harness")]
    SegmentedSearch,
}

/// An execution segment's part of the plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SegmentPlan {
    pub segment: Segment,
    /// The segment's share of the plan's load (duration-weighted over measured stages).
    pub share: f64,
}

impl SegmentPlan {
    /// The sender accounts this segment owns, and the nonce stream that keeps its generated
    /// values apart from the other segments'.
    pub fn senders(&self, accounts: u64) -> (Range<u64>, u64) {
        (
            self.segment.sender_range(accounts),
            u64::from(self.segment.index) + 1,
        )
    }
}

/// A plan ready to run: the transformed plan and, for a segment, its share.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub plan: Plan,
    pub segment: Option<SegmentPlan>,
}

impl Prepared {
    /// A whole plan, untransformed (library callers and tests).
    pub fn whole(plan: Plan) -> Prepared {
        Prepared {
            plan,
            segment: None,
        }
    }
}

/// Loads and validates a scenario file, then applies `adjust`.
pub fn load(path: &Path, adjust: &Adjust) -> Result<Prepared, PlanError> {
    prepare(scenario::load(path)?, adjust)
}

/// Applies `adjust` to a validated plan, in one place and one order (driver, scale, segment),
/// then checks what the changes could have broken.
pub fn prepare(mut plan: Plan, adjust: &Adjust) -> Result<Prepared, PlanError> {
    if let Some(d) = adjust.driver {
        plan.driver = d;
    }
    if plan.driver == scenario::Driver::Goose {
        // The file's `driver = "goose"` was validated with the scenario; `--driver goose` was
        // not. Refused here, before any server is spawned.
        scenario::check_driver(&plan)?;
    }
    if let Some(f) = adjust.duration_scale {
        if !scenario::valid_scale(f) {
            return Err(PlanError::Scale(f));
        }
        plan = plan.scaled(f);
    }
    let searching = plan.capacity.as_ref().is_some_and(|c| c.search().is_some());
    if adjust.segment.is_some() && searching {
        return Err(PlanError::SegmentedSearch);
    }
    let segment = adjust.segment.map(|seg| {
        let (p, share) = segment::plan_for(&plan, seg);
        plan = p;
        SegmentPlan {
            segment: seg,
            share,
        }
    });
    Ok(Prepared { plan, segment })
}
