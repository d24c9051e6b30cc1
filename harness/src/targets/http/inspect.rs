//! What a template asks of an answer beyond its status: `check`s it must pass and values it
//! `extract`s into the connection's variables ("log in, then use the token").
//!
//! Runs only when the status was expected (a 500 is already a status error), after the answer
//! was read whole. Each template's checks are compiled once per run (regexes, pointers); a
//! JSON question walks the body's bytes to the value it names ([`Pointer`]), building nothing
//! else. A failed check, an extraction that finds nothing, or a body longer than
//! `[http] max_body` (not held, so not checkable) fails the operation as error kind `check`;
//! [`Inspect::describe`] names which, for the per-template figures.

use super::pointer::Pointer;
use super::template::{ConnVars, Names};
use hyper::HeaderMap;
use scenario::{Check, ExtractFrom, RequestTemplate};
use serde_json::Value;

/// An answer as the checks see it.
pub struct Answer<'a> {
    pub headers: Headers<'a>,
    /// The body as held (empty when it was not held).
    pub body: &'a [u8],
    /// The body was longer than `max_body`, so `body` is not all of it.
    pub truncated: bool,
}

/// An answer's header fields.
pub enum Headers<'a> {
    /// Not kept (the template asks nothing of them).
    None,
    /// The builtin client's answer head: status line and header lines, as received.
    Raw(&'a [u8]),
    /// hyper's parsed headers.
    Map(&'a HeaderMap),
}

/// The number of header slots parsed from a raw head (as the builtin client allows).
const MAX_HEADERS: usize = 64;

impl Headers<'_> {
    /// Calls `f` on each value of header `name` (lower-case) until it returns true.
    fn any(&self, name: &str, mut f: impl FnMut(&[u8]) -> bool) -> bool {
        match self {
            Headers::None => false,
            Headers::Map(m) => m.get_all(name).iter().any(|v| f(v.as_bytes())),
            Headers::Raw(head) => {
                let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut resp = httparse::Response::new(&mut slots);
                if resp.parse(head).is_err() {
                    return false;
                }
                resp.headers
                    .iter()
                    .filter(|h| h.name.eq_ignore_ascii_case(name))
                    .any(|h| f(h.value))
            }
        }
    }
}

/// A compiled check.
enum Compiled {
    BodyContains(String),
    Json(Pointer, Option<Value>),
    Header(String, Option<String>),
}

/// A compiled extraction source.
enum From {
    Json(Pointer),
    Header(String),
    Regex(regex::Regex),
}

/// One template's checks and extractions, compiled.
pub struct Inspect {
    checks: Vec<Compiled>,
    extract: Vec<(usize, From)>,
    /// What each failure is called: the checks, the extractions, then "body over max_body".
    names: Vec<String>,
    body: bool,
    headers: bool,
}

/// Which of a template's checks failed (an index into [`Inspect::describe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed(pub u16);

impl Inspect {
    /// Compiles template `r`'s checks and extractions (`None` when it has neither).
    /// Validation compiled the same regexes, so they compile here.
    pub fn new(r: &RequestTemplate, names: &Names, max_body: u64) -> Option<Inspect> {
        if r.checks.is_empty() && r.extract.is_empty() {
            return None;
        }
        let mut extract = Vec::with_capacity(r.extract.len());
        for e in &r.extract {
            let var = names.var(&e.var)?;
            let from = match &e.from {
                ExtractFrom::Json(p) => From::Json(Pointer::new(p)),
                ExtractFrom::Header(h) => From::Header(h.clone()),
                ExtractFrom::Regex(re) => From::Regex(regex::Regex::new(re).ok()?),
            };
            extract.push((var, from));
        }
        let labels = labels(r, max_body);
        let headers = r.checks.iter().any(|c| matches!(c, Check::Header { .. }))
            || extract.iter().any(|(_, f)| matches!(f, From::Header(_)));
        Some(Inspect {
            checks: r.checks.iter().map(compile).collect(),
            extract,
            names: labels,
            body: r.reads_body(),
            headers,
        })
    }

    /// Whether the answer's body must be held for this template.
    pub fn needs_body(&self) -> bool {
        self.body
    }

    /// Whether the answer's header fields must be kept for this template.
    pub fn needs_headers(&self) -> bool {
        self.headers
    }

    /// What failure `f` is called (e.g. `json /status == "active"`).
    pub fn describe(&self, f: Failed) -> &str {
        &self.names[usize::from(f.0)]
    }

    /// Every failure's name, in index order.
    pub fn descriptions(&self) -> &[String] {
        &self.names
    }

    /// Runs the checks, then the extractions into `vars`; the first failure ends it.
    pub fn run(&self, a: &Answer, vars: &mut ConnVars) -> Result<(), Failed> {
        if a.truncated && self.body {
            return Err(Failed((self.names.len() - 1) as u16));
        }
        for (i, c) in self.checks.iter().enumerate() {
            if !check(c, a) {
                return Err(Failed(i as u16));
            }
        }
        for (i, (var, from)) in self.extract.iter().enumerate() {
            match extract(from, a) {
                Some(v) => vars.set(*var, v),
                None => return Err(Failed((self.checks.len() + i) as u16)),
            }
        }
        Ok(())
    }
}

fn compile(c: &Check) -> Compiled {
    match c {
        Check::BodyContains(t) => Compiled::BodyContains(t.clone()),
        Check::Json { pointer, equals } => Compiled::Json(Pointer::new(pointer), equals.clone()),
        Check::Header { name, equals } => Compiled::Header(name.clone(), equals.clone()),
    }
}

fn check(c: &Compiled, a: &Answer) -> bool {
    match c {
        Compiled::BodyContains(text) => memchr::memmem::find(a.body, text.as_bytes()).is_some(),
        Compiled::Json(pointer, equals) => match (pointer.lookup(a.body), equals) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(found), Some(want)) => json_equal(&found, want),
        },
        Compiled::Header(name, equals) => a.headers.any(name, |v| match equals {
            None => true,
            Some(want) => v == want.as_bytes(),
        }),
    }
}

/// Numbers compare by value (`1` equals `1.0`), everything else structurally.
fn json_equal(found: &Value, want: &Value) -> bool {
    match (found, want) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => found == want,
    }
}

fn extract(from: &From, a: &Answer) -> Option<String> {
    match from {
        From::Json(p) => match p.lookup(a.body)? {
            Value::String(s) => Some(s),
            Value::Null => None,
            other => Some(other.to_string()),
        },
        From::Header(name) => {
            let mut found = None;
            a.headers.any(name, |v| {
                found = Some(String::from_utf8_lossy(v).into_owned());
                true
            });
            found
        }
        From::Regex(re) => {
            let text = String::from_utf8_lossy(a.body);
            let caps = re.captures(&text)?;
            let m = caps.get(1).or_else(|| caps.get(0))?;
            Some(m.as_str().to_string())
        }
    }
}

/// What each of template `r`'s failures is called, by index (`OpOutcome::check` - 1): its
/// checks, its extractions, then a body over `max_body`. The per-template figures name
/// failed checks with these.
pub fn labels(r: &RequestTemplate, max_body: u64) -> Vec<String> {
    let mut labels: Vec<String> = r.checks.iter().map(describe_check).collect();
    for e in &r.extract {
        let from = match &e.from {
            ExtractFrom::Json(p) => format!("json {p}"),
            ExtractFrom::Header(h) => format!("header {h}"),
            ExtractFrom::Regex(re) => format!("regex {re:?}"),
        };
        labels.push(format!("extract {} from {from}", e.var));
    }
    labels.push(format!("body over max_body ({max_body} bytes)"));
    labels
}

/// A check as the reports name it.
fn describe_check(c: &Check) -> String {
    match c {
        Check::BodyContains(t) => format!("body contains {t:?}"),
        Check::Json { pointer, equals } => match equals {
            Some(v) => format!("json {pointer} == {v}"),
            None => format!("json {pointer} exists"),
        },
        Check::Header { name, equals } => match equals {
            Some(v) => format!("header {name} == {v:?}"),
            None => format!("header {name} exists"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scenario::Extract;

    fn template(checks: Vec<Check>, extract: Vec<Extract>) -> RequestTemplate {
        RequestTemplate {
            name: "login".into(),
            method: "POST".into(),
            path: "/login".into(),
            headers: Vec::new(),
            body: scenario::Body::None,
            expect_status: vec![200],
            weight: 1,
            setup: false,
            checks,
            extract,
        }
    }

    fn names_with(vars: &[&str]) -> Names {
        let mut plan = scenario::parse(
            "[scenario]\nname = \"i\"\n[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:9\"\n\
             [[requests]]\npath = \"/\"\n[[stages]]\nduration = \"1s\"\nworkers = 1\n",
            std::path::Path::new("i.toml"),
        )
        .unwrap();
        plan.requests[0].extract = vars
            .iter()
            .map(|v| Extract {
                var: v.to_string(),
                from: ExtractFrom::Header("x".into()),
            })
            .collect();
        Names::new(&plan)
    }

    const HEAD: &[u8] =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-session: s-42\r\n\r\n";

    fn answer(body: &[u8]) -> Answer<'_> {
        Answer {
            headers: Headers::Raw(HEAD),
            body,
            truncated: false,
        }
    }

    #[test]
    fn checks_pass_and_fail_by_index_with_their_names() {
        let t = template(
            vec![
                Check::BodyContains("active".into()),
                Check::Json {
                    pointer: "/n".into(),
                    equals: Some(serde_json::json!(2)),
                },
                Check::Header {
                    name: "content-type".into(),
                    equals: Some("application/json".into()),
                },
            ],
            Vec::new(),
        );
        let i = Inspect::new(&t, &names_with(&[]), 1024).unwrap();
        assert!(i.needs_body() && i.needs_headers());
        let mut vars = ConnVars::new(0);
        assert_eq!(
            i.run(&answer(br#"{"s":"active","n":2.0}"#), &mut vars),
            Ok(())
        );
        let f = i
            .run(&answer(br#"{"s":"active","n":3}"#), &mut vars)
            .unwrap_err();
        assert_eq!(i.describe(f), "json /n == 2");
        let f = i.run(&answer(br#"{"s":"gone"}"#), &mut vars).unwrap_err();
        assert_eq!(i.describe(f), "body contains \"active\"");
        let mut cut = answer(br#"{"s":"active","n":2}"#);
        cut.truncated = true;
        let f = i.run(&cut, &mut vars).unwrap_err();
        assert_eq!(i.describe(f), "body over max_body (1024 bytes)");
    }

    #[test]
    fn extractions_set_connection_variables_or_fail() {
        let names = names_with(&["csrf", "sid", "token"]);
        let ex = |var: &str, from: ExtractFrom| Extract {
            var: var.into(),
            from,
        };
        let t = template(
            Vec::new(),
            vec![
                ex("token", ExtractFrom::Json("/auth/token".into())),
                ex("sid", ExtractFrom::Header("x-session".into())),
                ex("csrf", ExtractFrom::Regex(r#"csrf=([a-z0-9]+)"#.into())),
            ],
        );
        let i = Inspect::new(&t, &names, 1 << 20).unwrap();
        let mut vars = ConnVars::new(names.vars().len());
        let body = br#"{"auth":{"token":"t-1"},"html":"csrf=ab12"}"#;
        assert_eq!(i.run(&answer(body), &mut vars), Ok(()));
        let get = |v: &str| vars.get(names.var(v).unwrap()).map(str::to_string);
        assert_eq!(get("token").as_deref(), Some("t-1"));
        assert_eq!(get("sid").as_deref(), Some("s-42"));
        assert_eq!(get("csrf").as_deref(), Some("ab12"));
        let f = i
            .run(&answer(br#"{"html":"csrf=x"}"#), &mut vars)
            .unwrap_err();
        assert_eq!(i.describe(f), "extract token from json /auth/token");
    }
}
