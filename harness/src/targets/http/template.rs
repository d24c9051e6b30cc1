//! Text with `{{variables}}`, parsed once per run and written per request: a template's path,
//! header values and body.
//!
//! Three kinds of variable (validation has checked every name; see `scenario::validate`):
//! - built-in placeholders (`{{seq}}`, `{{account}}`, the transfer's `{{sender}}`...),
//! - a `[[data]]` row's column, `{{users.id}}`: the request draws one row per data source it
//!   uses ([`super::feed`]), shared by every use of that source in the request,
//! - a connection variable, `{{token}}`, set by an earlier answer's `extract` on the same
//!   connection ([`ConnVars`]); a request that needs one not yet set is not sent.
//!
//! Parsing resolves each name to an index once, so writing a request is a walk over literal
//! pieces and array lookups: no map, no string comparison per request.

use scenario::template::{self, Piece, Var};
use scenario::Plan;

/// A built-in placeholder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Seq,
    Account,
    Sender,
    Receiver,
    Nonce,
    Amount,
    Worker,
}

impl Builtin {
    fn parse(name: &str) -> Option<Builtin> {
        Some(match name {
            "seq" => Builtin::Seq,
            "account" => Builtin::Account,
            "sender" => Builtin::Sender,
            "receiver" => Builtin::Receiver,
            "nonce" => Builtin::Nonce,
            "amount" => Builtin::Amount,
            "worker" => Builtin::Worker,
            _ => return None,
        })
    }

    /// Whether writing it needs a transfer from the generator.
    pub fn is_transfer(self) -> bool {
        matches!(
            self,
            Builtin::Sender | Builtin::Receiver | Builtin::Nonce | Builtin::Amount
        )
    }
}

/// A piece of a template.
#[derive(Clone, Debug, PartialEq)]
pub enum Seg {
    Lit(String),
    Builtin(Builtin),
    /// Column `col` of data source `feed`'s row.
    Column {
        feed: usize,
        col: usize,
    },
    /// Connection variable number `n` (see [`Names::var`]).
    Var(usize),
}

/// Template text, parsed.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Template {
    pub segs: Vec<Seg>,
}

/// Every name a template may use, resolved to indices.
#[derive(Debug, Default)]
pub struct Names {
    /// `[[data]]` names and their columns, in plan order.
    feeds: Vec<(String, Vec<String>)>,
    /// Connection variables (every template's `extract` names), sorted, unique.
    vars: Vec<String>,
}

impl Names {
    pub fn new(plan: &Plan) -> Names {
        let mut vars: Vec<String> = plan
            .requests
            .iter()
            .flat_map(|r| r.extract.iter().map(|e| e.var.clone()))
            .collect();
        vars.sort();
        vars.dedup();
        Names {
            feeds: plan
                .data
                .iter()
                .map(|d| (d.name.clone(), d.columns.clone()))
                .collect(),
            vars,
        }
    }

    /// The index of connection variable `name`.
    pub fn var(&self, name: &str) -> Option<usize> {
        self.vars.binary_search_by(|v| v.as_str().cmp(name)).ok()
    }

    /// Connection variables in index order.
    pub fn vars(&self) -> &[String] {
        &self.vars
    }

    fn resolve(&self, v: Var) -> Option<Seg> {
        match v {
            Var::Placeholder(name) => Builtin::parse(name).map(Seg::Builtin),
            Var::Column { data, column } => {
                let f = self.feeds.iter().position(|(n, _)| n == data)?;
                let col = self.feeds[f].1.iter().position(|c| c == column)?;
                Some(Seg::Column { feed: f, col })
            }
            Var::Extracted(name) => self.var(name).map(Seg::Var),
        }
    }

    /// Parses `text` with the scenario's own splitter ([`scenario::template::parse`]: what
    /// validation accepted is what is written). A variable validation would not have accepted
    /// (it accepts none unknown) stays as literal text.
    pub fn parse(&self, text: &str) -> Template {
        let mut segs = Vec::new();
        let mut lit = String::new();
        for piece in template::parse(text).unwrap_or_else(|_| vec![Piece::Text(text)]) {
            let seg = match piece {
                Piece::Text(t) => {
                    lit.push_str(t);
                    continue;
                }
                Piece::Var(v) => match self.resolve(v) {
                    Some(seg) => seg,
                    None => {
                        lit.push_str(&v.to_string());
                        continue;
                    }
                },
            };
            if !lit.is_empty() {
                segs.push(Seg::Lit(std::mem::take(&mut lit)));
            }
            segs.push(seg);
        }
        if !lit.is_empty() {
            segs.push(Seg::Lit(lit));
        }
        Template { segs }
    }
}

impl Template {
    /// The text itself when it has no variable.
    pub fn as_literal(&self) -> Option<&str> {
        match self.segs.as_slice() {
            [] => Some(""),
            [Seg::Lit(l)] => Some(l),
            _ => None,
        }
    }

    /// Whether any piece satisfies `f`.
    pub fn any(&self, f: impl Fn(&Seg) -> bool) -> bool {
        self.segs.iter().any(f)
    }

    /// The data sources it reads.
    pub fn feeds(&self) -> impl Iterator<Item = usize> + '_ {
        self.segs.iter().filter_map(|s| match s {
            Seg::Column { feed, .. } => Some(*feed),
            _ => None,
        })
    }

    /// Appends the text with every variable written by `value` to `out`; stops at the first
    /// variable `value` cannot give (an unset connection variable) and returns it.
    pub fn write(
        &self,
        out: &mut Vec<u8>,
        mut value: impl FnMut(&Seg, &mut Vec<u8>) -> bool,
    ) -> Result<(), usize> {
        for s in &self.segs {
            match s {
                Seg::Lit(l) => out.extend_from_slice(l.as_bytes()),
                other => {
                    if !value(other, out) {
                        return Err(match other {
                            Seg::Var(n) => *n,
                            _ => usize::MAX,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// One connection's variables, set by `extract` and cleared with the connection.
#[derive(Debug, Clone, Default)]
pub struct ConnVars {
    values: Vec<Option<String>>,
}

impl ConnVars {
    /// Room for `n` variables, none set.
    pub fn new(n: usize) -> ConnVars {
        ConnVars {
            values: vec![None; n],
        }
    }

    pub fn get(&self, n: usize) -> Option<&str> {
        self.values.get(n)?.as_deref()
    }

    pub fn set(&mut self, n: usize, value: String) {
        if let Some(slot) = self.values.get_mut(n) {
            *slot = Some(value);
        }
    }

    /// Forgets every value (a new connection starts with none).
    pub fn clear(&mut self) {
        self.values.iter_mut().for_each(|v| *v = None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            feeds: vec![("users".into(), vec!["id".into(), "name".into()])],
            vars: vec!["csrf".into(), "token".into()],
        }
    }

    #[test]
    fn names_resolve_to_indices_and_unknown_ones_stay_literal() {
        let t = names()
            .parse(r#"{"a":{{sender}},"u":"{{ users.name }}","t":"{{token}}","x":"{{no.pe}}"}"#);
        assert_eq!(
            t.segs,
            vec![
                Seg::Lit(r#"{"a":"#.into()),
                Seg::Builtin(Builtin::Sender),
                Seg::Lit(r#","u":""#.into()),
                Seg::Column { feed: 0, col: 1 },
                Seg::Lit(r#"","t":""#.into()),
                Seg::Var(1),
                Seg::Lit(r#"","x":"{{no.pe}}"}"#.into()),
            ]
        );
        assert_eq!(t.feeds().collect::<Vec<_>>(), [0]);
        assert_eq!(names().parse("/plain").as_literal(), Some("/plain"));
    }

    #[test]
    fn writing_stops_at_an_unset_variable() {
        let n = names();
        let t = n.parse("Bearer {{token}}");
        let mut vars = ConnVars::new(n.vars().len());
        let write = |vars: &ConnVars| {
            let mut out = Vec::new();
            t.write(&mut out, |s, out| match s {
                Seg::Var(i) => vars
                    .get(*i)
                    .map(|v| out.extend_from_slice(v.as_bytes()))
                    .is_some(),
                _ => true,
            })
            .map(|()| out)
        };
        assert_eq!(write(&vars), Err(1));
        vars.set(n.var("token").unwrap(), "abc".into());
        assert_eq!(write(&vars).unwrap(), b"Bearer abc");
        vars.clear();
        assert_eq!(write(&vars), Err(1));
    }
}
