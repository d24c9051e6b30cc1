//! STUB (replaced by the feeder runtime from branch h-feed): the API the request builder uses.

use scenario::DataSource;

/// Every feeder of a run.
#[derive(Debug, Default)]
pub struct Feeds {
    rows: Vec<std::sync::Arc<Vec<Vec<String>>>>,
}

/// A feeder ran out of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Exhausted {
    pub feeder: String,
    pub rows: u64,
}

impl std::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "feeder {} exhausted after {} rows", self.feeder, self.rows)
    }
}

impl Feeds {
    pub fn new(data: &[DataSource], _segment: Option<(u32, u32)>, _seed: u64) -> Feeds {
        Feeds {
            rows: data.iter().map(|d| d.rows.clone()).collect(),
        }
    }

    pub fn next_row(&self, f: usize, rng: &mut fastrand::Rng) -> Result<&[String], Exhausted> {
        let rows = &self.rows[f];
        Ok(&rows[rng.usize(0..rows.len())])
    }
}
