//! Reads a callgrind output file (valgrind `--tool=callgrind`): the total instructions and
//! each function's own share, for `harness run --count-instructions`.
//!
//! Written by hand rather than by running `callgrind_annotate` (a Perl script whose text output
//! is meant for people): the format is small and documented (valgrind's "Callgrind Format
//! Specification"). A function's *self* cost is the sum of its cost lines, except the line right
//! after each `calls=` line, which is the inclusive cost of that call and belongs to the callee.
//! Names may be compressed: `fn=(12) name` defines id 12, a later `fn=(12)` refers to it.

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::Path;

/// What one callgrind file says.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Instructions executed while collection was on (`summary:` or `totals:`).
    pub total: u64,
    /// Every function's own instructions, most first.
    pub functions: Vec<(String, u64)>,
}

/// Parses the file at `path`.
pub fn read(path: &Path) -> Result<Profile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("parsing callgrind output {}", path.display()))
}

/// Parses callgrind output text (one event, `Ir`, is all `--count-instructions` asks for; with
/// more, the first is taken).
pub fn parse(text: &str) -> Result<Profile> {
    let mut names: HashMap<String, String> = HashMap::new();
    let mut own: HashMap<String, u64> = HashMap::new();
    let mut current: Option<String> = None;
    let mut total = None;
    let mut after_call = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("fn=") {
            current = Some(resolve(&mut names, rest));
            after_call = false;
        } else if line.starts_with("calls=") {
            after_call = true;
        } else if let Some(v) = line
            .strip_prefix("summary:")
            .or_else(|| line.strip_prefix("totals:"))
        {
            total = total.or(first_number(v));
        } else if is_cost_line(line) {
            let skip = std::mem::take(&mut after_call);
            if let (false, Some(f)) = (skip, &current) {
                let ir = line.split_whitespace().nth(1).and_then(|v| v.parse().ok());
                *own.entry(f.clone()).or_default() += ir.unwrap_or(0);
            }
        } else if let Some(rest) = line
            .strip_prefix("cfn=")
            .or_else(|| line.strip_prefix("cfi="))
            .or_else(|| line.strip_prefix("cfl="))
        {
            // A called function's name may be defined here first: remember it for later.
            if line.starts_with("cfn=") {
                resolve(&mut names, rest);
            }
        }
    }
    let Some(total) = total else {
        bail!("no `summary:` or `totals:` line: not a complete callgrind output file");
    };
    let mut functions: Vec<(String, u64)> = own.into_iter().filter(|(_, n)| *n > 0).collect();
    functions.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(Profile { total, functions })
}

/// `(id) name` defines a compressed name, `(id)` refers to one, `name` is plain.
fn resolve(names: &mut HashMap<String, String>, spec: &str) -> String {
    let spec = spec.trim();
    match spec.strip_prefix('(').and_then(|r| r.split_once(')')) {
        Some((id, rest)) => {
            let rest = rest.trim();
            if rest.is_empty() {
                names.get(id).cloned().unwrap_or_else(|| format!("({id})"))
            } else {
                names.insert(id.to_string(), rest.to_string());
                rest.to_string()
            }
        }
        None => spec.to_string(),
    }
}

/// A cost line: a position (a number, `+n`, `-n` or `*`) followed by the event counts.
fn is_cost_line(line: &str) -> bool {
    line.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '*'))
}

fn first_number(s: &str) -> Option<u64> {
    s.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file as callgrind writes it with `--compress-strings=yes` (the default): `main`
    /// calls `work` twice (inclusive 300 each, not main's own), `work` then appears alone.
    const SAMPLE: &str = "# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\n\
        positions: line\nevents: Ir\nsummary: 750\n\nfl=(1) a.rs\nfn=(1) main\n10 50\n\
        cfl=(1)\ncfn=(2) work\ncalls=2 20\n11 600\n+1 100\n\nfn=(2)\n20 580\n* 20\n\
        \ntotals: 750\n";

    #[test]
    fn self_costs_leave_out_the_calls_inclusive_lines() {
        let p = parse(SAMPLE).unwrap();
        assert_eq!(p.total, 750);
        assert_eq!(
            p.functions,
            vec![("work".to_string(), 600), ("main".to_string(), 150)]
        );
        let own: u64 = p.functions.iter().map(|f| f.1).sum();
        assert_eq!(own, p.total, "self costs add up to the total");
    }

    #[test]
    fn a_truncated_file_is_an_error() {
        let e = parse("version: 1\nfn=(1) main\n10 50\n").unwrap_err();
        assert!(e.to_string().contains("summary"), "{e}");
    }
}
