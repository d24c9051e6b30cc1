//! Where an instruction count changed: the functions whose own instructions per unit of work
//! (committed transaction, else operation) moved the most between the two sides' counted runs.
//!
//! The gate fails on the total ([`super::metrics`]'s instruction row); this says which function
//! to look at, from the per-function counts callgrind kept with each run (`results::Instructions`,
//! its top functions). A function outside one side's top list counts as 0 there and is marked.

use super::figures::{median_count, per_unit};
use super::Side;
use serde::{Deserialize, Serialize};

/// Changes smaller than this share of the baseline's total per unit are not worth a line.
const SMALLEST: f64 = 0.002;
/// Functions named, largest change first.
const SHOWN: usize = 3;

/// One function's own instructions per unit of work on both sides.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct FunctionChange {
    pub name: String,
    /// `None`: not among the side's counted top functions.
    pub base: Option<f64>,
    pub new: Option<f64>,
}

impl FunctionChange {
    pub fn delta(&self) -> f64 {
        self.new.unwrap_or(0.0) - self.base.unwrap_or(0.0)
    }
}

/// The largest changes, when both sides were counted.
pub fn changes(base: &Side, new: &Side) -> Vec<FunctionChange> {
    let (Some(b), Some(n)) = (counted(base), counted(new)) else {
        return Vec::new();
    };
    let per = |i: &results::Instructions, name: &str| {
        let units = i.total as f64 / per_unit(i);
        i.functions
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.instructions as f64 / units)
    };
    let mut names: Vec<&str> = b
        .functions
        .iter()
        .chain(&n.functions)
        .map(|f| f.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let floor = per_unit(b) * SMALLEST;
    let mut out: Vec<FunctionChange> = names
        .into_iter()
        .map(|name| FunctionChange {
            name: name.to_string(),
            base: per(b, name),
            new: per(n, name),
        })
        .filter(|c| c.delta().abs() > floor)
        .collect();
    out.sort_by(|x, y| y.delta().abs().total_cmp(&x.delta().abs()));
    out.truncate(SHOWN);
    out
}

/// The side's median count, when it has one with a usable unit.
fn counted(s: &Side) -> Option<&results::Instructions> {
    median_count(&s.runs).filter(|i| i.total > 0 && per_unit(i) > 0.0)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{figures, side};
    use super::super::{compare, render_text, CompareOptions, MetricVerdict, Tolerances};
    use results::{FunctionInstructions, Instructions};

    /// A counted run of 1,000 transactions: `work` instructions in `engine::work`, 200 in main.
    fn counted(work: u64, tps: f64) -> super::super::Figures {
        let f = |name: &str, n: u64| FunctionInstructions {
            name: name.into(),
            instructions: n,
        };
        let total = work + 200;
        let mut run = figures(tps, 1000.0);
        run.instructions = Some(Instructions {
            tool: "callgrind".into(),
            total,
            ops: 10,
            committed_tx: 1000,
            per_tx: Some(total as f64 / 1000.0),
            per_op: total as f64 / 10.0,
            functions: vec![f("engine::work", work), f("main", 200)],
        });
        run
    }

    #[test]
    fn the_count_is_judged_and_times_under_valgrind_are_only_shown() {
        let base = side("s", "aa", vec![counted(100_000, 1e6)]);
        // 3 % more instructions per transaction; TPS halved (valgrind's clock, not the code).
        let new = side("s", "aa", vec![counted(103_006, 0.5e6)]);
        let c = compare(
            &base,
            &new,
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        let row = |key: &str| c.rows.iter().find(|r| r.key == key).unwrap().verdict();
        assert_eq!(row("instructions"), MetricVerdict::Regressed);
        assert_eq!(row("tps"), MetricVerdict::Info);
        assert_eq!(row("p99"), MetricVerdict::Info);
        assert_eq!(row("error_rate"), MetricVerdict::Unchanged);
        assert_eq!(c.functions.len(), 1, "main did not move: {:?}", c.functions);
        assert_eq!(c.functions[0].name, "engine::work");
        assert!((c.functions[0].delta() - 3.006).abs() < 1e-9);
        let text = render_text(&c);
        assert!(text.contains("engine::work 100 → 103 (+3.01)"), "{text}");
        assert!(text.contains("100.2 instr"), "{text}");
        // 1 % is inside the 2 % tolerance.
        let small = side("s", "aa", vec![counted(101_002, 1e6)]);
        let c = compare(
            &base,
            &small,
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        assert!(!c.has_regression());
    }

    #[test]
    fn runs_without_a_count_have_no_instruction_row() {
        let base = side("s", "aa", vec![figures(1e6, 1000.0)]);
        let c = compare(
            &base,
            &base,
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        assert!(c.rows.iter().all(|r| r.key != "instructions"));
        assert!(c.functions.is_empty());
        assert_eq!(
            c.rows.iter().find(|r| r.key == "tps").unwrap().verdict(),
            MetricVerdict::Unchanged
        );
    }
}
