//! The "Instructions" section of a counted run (`harness run --count-instructions`): the count
//! per unit of work and the functions that executed it.
//!
//! Why a section and a sentence of warning: such a run went through valgrind, tens of times
//! slower than the code runs, so its throughput, latency and CPU figures describe valgrind.
//! The count is the figure to read, and the functions say where a change in it comes from.

use results::{Instructions, RunResult};

use super::{Align, Block, Cell, Table};
use crate::fmt;

/// Functions listed, most instructions first.
const SHOWN: usize = 15;

/// The section, or nothing for a run that was not counted.
pub fn instructions(r: &RunResult) -> Vec<Block> {
    let Some(i) = &r.instructions else {
        return Vec::new();
    };
    let unit = if i.per_tx.is_some() {
        "committed transaction"
    } else {
        "operation"
    };
    let per = i.per_tx.unwrap_or(i.per_op);
    vec![
        Block::Heading("Instructions".into()),
        Block::Paragraph(format!(
            "Counted by valgrind's {} over the workers (the load generator and, in process, \
             the engine): {} per {unit} ({} in all, {} operations, {} committed transactions). \
             The same binary doing the same seeded work gives the same count on a busy machine \
             or an idle one. This run's times, throughput and resources were measured under \
             valgrind and say nothing about the code.",
            i.tool,
            fmt::instructions(per),
            fmt::count(i.total),
            fmt::count(i.ops),
            fmt::count(i.committed_tx),
        )),
        Block::Table(functions(i, per)),
    ]
}

/// The top functions by their own instructions, per unit of work and as a share of all.
fn functions(i: &Instructions, per: f64) -> Table {
    let mut t = Table::new(&[
        ("Function (own instructions)", Align::Left),
        ("Per unit", Align::Right),
        ("Share", Align::Right),
    ]);
    let units = if per > 0.0 { i.total as f64 / per } else { 0.0 };
    for f in i.functions.iter().take(SHOWN) {
        let n = f.instructions as f64;
        t.row(vec![
            Cell::plain(&f.name),
            Cell::plain(if units > 0.0 {
                fmt::instructions(n / units)
            } else {
                "n/a".to_string()
            }),
            Cell::plain(fmt::pct(100.0 * n / i.total.max(1) as f64)),
        ]);
    }
    t
}
