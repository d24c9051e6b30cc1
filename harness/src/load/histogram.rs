//! The one way the load's histograms are made, shared by the workers' shipments and template
//! tallies and the collector's accumulators (its own module so that none of them has to import
//! another for it).

use hdrhistogram::Histogram;

/// An auto-resizing histogram of nanoseconds with 3 significant digits: memory follows the
/// largest value seen, not a preset bound.
pub fn new_histogram() -> Histogram<u64> {
    let mut h = Histogram::new(3).expect("3 significant digits is valid");
    h.auto(true);
    h
}
