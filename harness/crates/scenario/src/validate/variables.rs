//! `{{ }}` variables in a request template's path, header values and body template, checked
//! against what the file declares.
//!
//! A variable is a built-in placeholder, a column of a `[[data]]` source (validated before the
//! requests, so its columns and rows are known), or a variable some template's `extract` sets
//! (any template's: a flow reads in one request what an earlier one extracted). The transfer
//! placeholders are the body's alone ([`TRANSFER_PLACEHOLDERS`] says why). A data column
//! used in a path or header value must hold only values that can go there, so a quoted CSV
//! field with a newline cannot split a request's head: that is checked here, with the rows in
//! hand, and named by the data file's line.

use std::collections::BTreeSet;
use std::ops::Range;

use super::data::Loaded;
use super::values::Ctx;
use super::Result;
use crate::plan::{TEMPLATE_PLACEHOLDERS, TRANSFER_PLACEHOLDERS};
use crate::template::{self, Piece, Var};

/// Where a template text is written: what it may name and what its values may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Path,
    Header,
    Body,
}

/// What variables may name: the data sources and every template's extracted variables.
pub(super) struct Known<'a> {
    pub(super) data: &'a [Loaded],
    pub(super) vars: &'a BTreeSet<String>,
}

/// One template text (path, header value or body template) written at `span`, key `field`.
pub(super) struct Text<'a> {
    pub(super) text: &'a str,
    pub(super) place: Place,
    pub(super) span: Range<usize>,
    pub(super) field: &'a str,
}

impl Known<'_> {
    /// Checks every variable `t` names; returns the literal text left when they are taken out
    /// (what a path's own syntax is checked on).
    pub(super) fn check(&self, cx: &Ctx, t: &Text) -> Result<String> {
        let pieces = template::parse(t.text).map_err(|why| cx.err(t.span.clone(), t.field, why))?;
        let mut literal = String::with_capacity(t.text.len());
        for piece in pieces {
            match piece {
                Piece::Text(s) => literal.push_str(s),
                Piece::Var(v) => self.var(cx, t, v)?,
            }
        }
        Ok(literal)
    }

    fn var(&self, cx: &Ctx, t: &Text, v: Var) -> Result<()> {
        let err = |why: String| Err(cx.err(t.span.clone(), t.field, why));
        match v {
            Var::Placeholder(p) if t.place != Place::Body && TRANSFER_PLACEHOLDERS.contains(&p) => {
                err(format!(
                    "{v} is the body's transfer and only for body templates; a path or header value may use {{{{seq}}}}, {{{{account}}}}, {{{{worker}}}}, data columns and extracted variables"
                ))
            }
            Var::Placeholder(_) => Ok(()),
            Var::Extracted(name) if self.vars.contains(name) => Ok(()),
            Var::Column { data, column } => {
                let Some(l) = self.data.iter().find(|l| l.source.name == data) else {
                    return err(self.unknown(v, t.place));
                };
                let Some(col) = l.source.columns.iter().position(|c| c == column) else {
                    return err(format!(
                        "unknown column {v}: data {data:?} ({}) has columns {}",
                        l.source.file.display(),
                        l.source.columns.join(", ")
                    ));
                };
                check_values(cx, t, l, col)
            }
            Var::Extracted(_) => err(self.unknown(v, t.place)),
        }
    }

    /// "unknown variable {{x}}; known: ..." listing everything `place` may name.
    fn unknown(&self, v: Var, place: Place) -> String {
        let placeholders = TEMPLATE_PLACEHOLDERS
            .iter()
            .filter(|p| place == Place::Body || !TRANSFER_PLACEHOLDERS.contains(p))
            .map(|p| Var::Placeholder(p).to_string());
        let columns = self.data.iter().flat_map(|l| {
            l.source.columns.iter().map(|c| {
                Var::Column {
                    data: &l.source.name,
                    column: c,
                }
                .to_string()
            })
        });
        let vars = self.vars.iter().map(|n| Var::Extracted(n).to_string());
        let known: Vec<String> = placeholders.chain(columns).chain(vars).collect();
        format!("unknown variable {v}; known: {}", known.join(" "))
    }
}

/// Column `col` of `l` is used in `t`: in a path or header value every row's value must be
/// one that can go there.
fn check_values(cx: &Ctx, t: &Text, l: &Loaded, col: usize) -> Result<()> {
    let (unfit, why): (fn(char) -> bool, &str) = match t.place {
        Place::Body => return Ok(()),
        Place::Path => (
            |c| c.is_whitespace() || c.is_control() || c == '#',
            "a path must not contain whitespace, control characters or '#'",
        ),
        Place::Header => (
            |c| c.is_control() && c != '\t',
            "a header value must not contain control characters (such as a newline)",
        ),
    };
    let rows = l.source.rows.iter().zip(&l.lines);
    match rows
        .into_iter()
        .find(|(row, _)| row[col].chars().any(unfit))
    {
        None => Ok(()),
        Some((row, line)) => Err(cx.data_err(
            t.span.clone(),
            t.field,
            &l.source.file,
            Some(*line),
            format!(
                "column {} is {:?} here, which {} uses: {why}",
                l.source.columns[col], row[col], t.field
            ),
        )),
    }
}
