//! `{{ name }}` variables in request templates: the one splitter validation and the run share.
//!
//! A template's path, header values and body template may name variables. Validation checks
//! each against what the plan declares; the run substitutes them per request. Both split text
//! with [`parse`], so what validation accepted is exactly what the run fills in, and the
//! grammar lives in one place:
//!
//! - `{{seq}}`, `{{account}}`, ...: a built-in placeholder ([`crate::TEMPLATE_PLACEHOLDERS`]);
//! - `{{users.id}}`: column `id` of the `[[data]]` source named `users`;
//! - `{{token}}`: a connection variable set by some template's `extract`.
//!
//! Whitespace inside the braces is ignored (`{{ users.id }}`). Text outside `{{ }}` is kept as
//! written, a lone `}}` included.

use std::fmt;

/// The built-in placeholders: every one may appear in a `Body::Template`; paths and header
/// values may use all but the [`TRANSFER_PLACEHOLDERS`].
pub const TEMPLATE_PLACEHOLDERS: [&str; 7] = [
    "seq", "account", "sender", "receiver", "nonce", "amount", "worker",
];

/// Placeholders only a body template may use: they describe the one transfer drawn for the
/// request's body, and a path or header naming them would need the run to share that draw
/// between body and head, which it does not.
pub const TRANSFER_PLACEHOLDERS: [&str; 4] = ["sender", "receiver", "nonce", "amount"];

/// A piece of template text: literal text, or a variable to substitute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Var(Var<'a>),
}

/// What a `{{ ... }}` names. Parsing is syntactic: a dotted name is a data column and any other
/// name that is not a placeholder an extracted variable; validation checks that they exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Var<'a> {
    /// A built-in placeholder such as `seq`.
    Placeholder(&'a str),
    /// `{{data.column}}`: the column of the row drawn from that `[[data]]` source for this
    /// request.
    Column { data: &'a str, column: &'a str },
    /// A connection variable set by an `extract`.
    Extracted(&'a str),
}

impl fmt::Display for Var<'_> {
    /// As it is written in a template, without inner whitespace: `{{users.id}}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Var::Placeholder(name) | Var::Extracted(name) => write!(f, "{{{{{name}}}}}"),
            Var::Column { data, column } => write!(f, "{{{{{data}.{column}}}}}"),
        }
    }
}

/// Splits `text` into literal pieces and variables, in order (empty literals are left out).
/// The error says what is malformed: an unclosed `{{`, or a name that is none of the three
/// kinds.
pub fn parse(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or("unclosed \"{{\"")?;
        pieces.push(Piece::Var(var(after[..close].trim())?));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// The variables `text` names, in order of appearance (repeats kept); nothing for text that
/// does not parse.
pub fn vars(text: &str) -> impl Iterator<Item = Var<'_>> {
    parse(text)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| match p {
            Piece::Var(v) => Some(v),
            Piece::Text(_) => None,
        })
}

fn var(name: &str) -> Result<Var<'_>, String> {
    if let Some((data, column)) = name.split_once('.') {
        if is_identifier(data) && is_column_name(column) {
            return Ok(Var::Column { data, column });
        }
    } else if TEMPLATE_PLACEHOLDERS.contains(&name) {
        return Ok(Var::Placeholder(name));
    } else if is_identifier(name) {
        return Ok(Var::Extracted(name));
    }
    Err(format!(
        "{{{{{name}}}}} is not a variable: expected a placeholder such as {{{{seq}}}}, \
         {{{{data.column}}}} of a [[data]] source, or an extracted variable \
         ([A-Za-z_][A-Za-z0-9_]*)"
    ))
}

/// `[A-Za-z_][A-Za-z0-9_]*`: data source names and extracted variables.
pub fn is_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `[A-Za-z0-9_]+`: data column names (a CSV header may well start with a digit).
pub fn is_column_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_text_and_the_three_kinds_of_variable() {
        assert_eq!(
            parse("/u/{{ users.id }}?t={{token}}&s={{seq}}}}").unwrap(),
            [
                Piece::Text("/u/"),
                Piece::Var(Var::Column {
                    data: "users",
                    column: "id"
                }),
                Piece::Text("?t="),
                Piece::Var(Var::Extracted("token")),
                Piece::Text("&s="),
                Piece::Var(Var::Placeholder("seq")),
                Piece::Text("}}"),
            ]
        );
        assert_eq!(parse("").unwrap(), []);
        assert_eq!(
            Var::Column {
                data: "u",
                column: "1d"
            }
            .to_string(),
            "{{u.1d}}"
        );
        assert_eq!(vars("{{a}}{{a}}").count(), 2);
    }

    #[test]
    fn malformed_names_are_refused() {
        assert_eq!(parse("{{seq").unwrap_err(), "unclosed \"{{\"");
        for bad in ["{{}}", "{{a b}}", "{{1x}}", "{{a.b.c}}", "{{.x}}", "{{x.}}"] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("is not a variable"), "{bad}: {e}");
        }
    }
}
