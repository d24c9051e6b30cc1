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
/// Callgrind names code without a symbol (blake3's assembly) by its address, and the address
/// moves from build to build: CI read the same function as "0x…ed80 (not in its top list) → 78.7
/// (+78.7); 0x…1080 78.7 → (not in its top list) (-78.7)". Such entries are pooled under this
/// one name on each side, so only a change in what they add up to is reported.
const UNNAMED: &str = "(code without a symbol)";

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
        let mut own = i
            .functions
            .iter()
            .filter(|f| key(&f.name) == name)
            .peekable();
        own.peek()?;
        Some(own.map(|f| f.instructions as f64).sum::<f64>() / units)
    };
    let mut names: Vec<&str> = b
        .functions
        .iter()
        .chain(&n.functions)
        .map(|f| key(&f.name))
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

/// The name a function is compared under: its own, or [`UNNAMED`] for a bare address.
fn key(name: &str) -> &str {
    let address = name
        .strip_prefix("0x")
        .is_some_and(|hex| !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if address {
        UNNAMED
    } else {
        name
    }
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
        with_unnamed(work, tps, &[])
    }

    /// [`counted`], plus functions callgrind knew only by address (`(address, instructions)`).
    fn with_unnamed(work: u64, tps: f64, unnamed: &[(&str, u64)]) -> super::super::Figures {
        let f = |name: &str, n: u64| FunctionInstructions {
            name: name.into(),
            instructions: n,
        };
        let extra: u64 = unnamed.iter().map(|(_, n)| n).sum();
        let total = work + 200 + extra;
        let mut run = figures(tps, 1000.0);
        run.instructions = Some(Instructions {
            tool: "callgrind".into(),
            total,
            ops: 10,
            committed_tx: 1000,
            per_tx: Some(total as f64 / 1000.0),
            per_op: total as f64 / 10.0,
            functions: [f("engine::work", work), f("main", 200)]
                .into_iter()
                .chain(unnamed.iter().map(|(a, n)| f(a, *n)))
                .collect(),
        });
        run
    }

    #[test]
    fn code_known_only_by_address_is_compared_as_one_whatever_its_address() {
        let base = side(
            "s",
            "aa",
            vec![with_unnamed(100_000, 1e6, &[("0x1b61080", 78_700)])],
        );
        // The same code at another address in another build: nothing moved.
        let moved = side(
            "s",
            "aa",
            vec![with_unnamed(100_000, 1e6, &[("0x1b5ed80", 78_700)])],
        );
        let c = compare(
            &base,
            &moved,
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        assert!(c.functions.is_empty(), "{:?}", c.functions);
        // It grew, split over two addresses: one change, under the pooled name.
        let grew = side(
            "s",
            "aa",
            vec![with_unnamed(
                100_000,
                1e6,
                &[("0x10", 60_000), ("0x20", 28_700)],
            )],
        );
        let c = compare(
            &base,
            &grew,
            &Tolerances::default(),
            CompareOptions::default(),
        )
        .unwrap();
        assert_eq!(c.functions.len(), 1, "{:?}", c.functions);
        assert_eq!(c.functions[0].name, super::UNNAMED);
        assert!(
            (c.functions[0].delta() - 10.0).abs() < 1e-9,
            "{:?}",
            c.functions
        );
        // A symbol that merely starts with 0x is a name.
        assert_eq!(super::key("0xdead_beef"), "0xdead_beef");
        assert_eq!(super::key("0x"), "0x");
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
