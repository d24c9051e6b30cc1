//! Reading results: the verdict (one function, shared by `harness run` and `harness merge`),
//! the criteria table, the late-generator rule, the calibration rule (a latency limit finer than the machine's dispatch precision), a capacity search's answer, comparing runs with a baseline, a history of many runs, and merging execution segments.
//!
//! Everything here works on [`results::RunResult`]s; nothing here runs load or imports
//! `run`.

pub mod calibration;
pub mod capacity;
pub mod compare;
pub mod criteria;
pub mod dispatch;
pub mod history;
pub mod merge;
pub mod verdict;
