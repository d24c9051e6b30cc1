//! The per-worker request builder: picks a template by weight and writes what varies per
//! request (the body; the path and header values when they hold variables), from the worker's
//! transfer generator, the run's `[[data]]` rows and its connection's variables.
//!
//! Transfers come from `engine::Generator`: each worker owns a disjoint, contiguous range of
//! senders and tracks their nonces, so every transfer meant to be valid is valid when the server
//! applies the worker's requests in order. Over HTTP a worker cannot re-read nonces cheaply
//! after a failed request; transfers that then go stale show up as `rejected:bad_nonce`.

use super::feed::Exhausted;
use super::request::{BodyKind, RequestTable};
use super::template::{Builtin, ConnVars, Seg, Template};
use super::HttpError;
use bytes::Bytes;
use engine::{Generator, Transfer};
use hyper::header::HeaderName;
use std::fmt::Write as _;
use std::sync::Arc;

/// The per-worker request builder.
pub struct RequestMaker {
    table: Arc<RequestTable>,
    gen: Option<Generator>,
    rng: fastrand::Rng,
    worker: u32,
    workers: u32,
    seq: u64,
    batch: Vec<Transfer>,
    text: String,
}

/// The next request: its template and body, and what it carries.
pub struct Made {
    pub template: usize,
    pub body: Bytes,
    /// Transfers in the body.
    pub submitted_tx: u64,
    /// The path and the header values written for this request, when the template's hold
    /// variables (`None`: the template's own, prepared once).
    pub head: Option<Box<Head>>,
}

/// A request's own path (base path included; absolute for HTTP/2) and variable headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub path: Option<Vec<u8>>,
    pub headers: Vec<(HeaderName, Vec<u8>)>,
}

/// Why a request could not be written.
#[derive(Debug, Clone, PartialEq)]
pub enum NotMade {
    /// It needs connection variable `name`, which no answer on this connection set yet (or a
    /// value that cannot go into a header): counted as a `check` error, not sent.
    Unset(String),
    /// A `queue` or `shuffle` feeder ran out of rows: the run ends, marked aborted.
    Exhausted(Exhausted),
}

/// What a request's variables are written from.
struct Values<'a> {
    seq: u64,
    account: u64,
    tr: Transfer,
    worker: u32,
    /// One row per data source the template reads, in its `feeds` order.
    rows: &'a [(usize, &'a [String])],
    vars: &'a ConnVars,
}

impl Values<'_> {
    /// Writes variable `s` to `out`; false when it has no value.
    fn write(&self, s: &Seg, out: &mut Vec<u8>) -> bool {
        let mut num = itoa::Buffer::new();
        let text: &str = match s {
            Seg::Lit(l) => l,
            Seg::Builtin(b) => match b {
                Builtin::Seq => num.format(self.seq),
                Builtin::Account => num.format(self.account),
                Builtin::Sender => num.format(self.tr.from),
                Builtin::Receiver => num.format(self.tr.to),
                Builtin::Nonce => num.format(self.tr.nonce),
                Builtin::Amount => num.format(self.tr.amount),
                Builtin::Worker => num.format(self.worker),
            },
            Seg::Column { feed, col } => match self.rows.iter().find(|(f, _)| f == feed) {
                Some((_, row)) => &row[*col],
                None => return false,
            },
            Seg::Var(n) => match self.vars.get(*n) {
                Some(v) => v,
                None => return false,
            },
        };
        out.extend_from_slice(text.as_bytes());
        true
    }
}

/// The engine's nonces carry on to the next run on this target; so must the generator's.
impl Drop for RequestMaker {
    fn drop(&mut self) {
        if let Some(gen) = self.gen.take() {
            self.table.carried.put(self.worker, self.workers, gen);
        }
    }
}

impl RequestMaker {
    /// A builder for worker `worker` of `workers`. Fails when there are fewer accounts than
    /// workers and the templates carry transfers (each worker needs its own senders).
    pub fn new(
        table: Arc<RequestTable>,
        worker: u32,
        workers: u32,
    ) -> Result<RequestMaker, HttpError> {
        let carried = table.carried.take(worker, workers);
        let gen = if carried.is_some() {
            carried
        } else if table.carries_tx {
            let own = table.senders.clone();
            let part = RequestTable::sender_range(own.end - own.start, workers, worker);
            let senders = own.start + part.start..own.start + part.end;
            if senders.is_empty() {
                return Err(HttpError::TooFewAccounts {
                    accounts: own.end - own.start,
                    workers,
                });
            }
            let mut cfg = table.gen.clone();
            cfg.seed = cfg.seed.wrapping_mul(1000).wrapping_add(u64::from(worker));
            Some(Generator::new(cfg, vec![senders], table.pool.clone()))
        } else {
            None
        };
        let seed = table.gen.seed ^ (u64::from(worker) << 32) ^ 0x4854_5450;
        Ok(RequestMaker {
            table,
            gen,
            rng: fastrand::Rng::with_seed(seed),
            worker,
            workers,
            seq: 0,
            batch: Vec::new(),
            text: String::new(),
        })
    }

    /// The table this builder draws from.
    pub fn table(&self) -> &Arc<RequestTable> {
        &self.table
    }

    /// Draws the next timed request's template by weight (never a setup one).
    pub fn pick(&mut self) -> usize {
        let c = &self.table.cumulative;
        if c.len() == 1 {
            return 0;
        }
        // The last entry is positive: validation keeps at least one template that is not
        // setup, and weights are at least 1.
        let r = self.rng.u64(0..c[c.len() - 1]);
        c.partition_point(|&x| x <= r)
    }

    /// Writes a request from template `t` ([`RequestMaker::pick`]'s, or a setup template)
    /// for a connection whose variables are `vars`.
    pub fn make_from(&mut self, t: usize, vars: &ConnVars) -> Result<Made, NotMade> {
        let table = Arc::clone(&self.table);
        let p = &table.templates[t];
        let mut rows: Vec<(usize, &[String])> = Vec::with_capacity(p.feeds.len());
        for &f in &p.feeds {
            let row = table
                .feeds
                .next_row(f, &mut self.rng)
                .map_err(NotMade::Exhausted)?;
            rows.push((f, row));
        }
        let seq = self.seq * u64::from(self.workers) + u64::from(self.worker);
        self.seq += 1;
        let (tr, submitted_tx) = match &p.body {
            BodyKind::JsonTransfer => (self.one_transfer(), 1),
            BodyKind::Template {
                needs_transfer: true,
                ..
            } => (self.one_transfer(), 0),
            _ => (Transfer::default(), 0),
        };
        let values = Values {
            seq,
            account: self.rng.u64(0..table.accounts.max(1)),
            tr,
            worker: self.worker,
            rows: &rows,
            vars,
        };
        let head = if p.dynamic_head() {
            Some(Box::new(head(&table, t, &values)?))
        } else {
            None
        };
        let (body, submitted_tx) = match &p.body {
            BodyKind::Template { text, .. } => (render(&table, text, &values)?, submitted_tx),
            _ => self.fixed_body(&p.body, tr),
        };
        Ok(Made {
            template: t,
            body,
            submitted_tx,
            head,
        })
    }

    /// The body of the next request from template `t` and the transfers it carries, for a
    /// template that reads no data and no connection variable (validation refuses those for
    /// goose). The goose driver calls it directly: goose picks the template by weight itself,
    /// and sends through its own client.
    pub fn body_for(&mut self, t: usize) -> (Bytes, u64) {
        match self.make_from(t, &ConnVars::default()) {
            Ok(m) => (m.body, m.submitted_tx),
            Err(_) => (Bytes::new(), 0),
        }
    }

    /// A body that is not a template: one JSON transfer (`tr`), a binary batch, or none.
    fn fixed_body(&mut self, kind: &BodyKind, tr: Transfer) -> (Bytes, u64) {
        match kind {
            BodyKind::JsonTransfer => {
                self.text.clear();
                let _ = write!(
                    self.text,
                    r#"{{"from":{},"to":{},"amount":{},"nonce":{}}}"#,
                    tr.from, tr.to, tr.amount, tr.nonce
                );
                (Bytes::copy_from_slice(self.text.as_bytes()), 1)
            }
            BodyKind::BinaryBatch => {
                let n = self.table.batch_size;
                if let Some(g) = self.gen.as_mut() {
                    g.fill(&mut self.batch, n);
                }
                let mut buf = Vec::with_capacity(n * engine::RECORD_SIZE);
                engine::encode_batch(&self.batch, &mut buf);
                (Bytes::from(buf), n as u64)
            }
            BodyKind::None | BodyKind::Template { .. } => (Bytes::new(), 0),
        }
    }

    fn one_transfer(&mut self) -> Transfer {
        match self.gen.as_mut() {
            Some(g) => {
                g.fill(&mut self.batch, 1);
                self.batch[0]
            }
            // Only templates without transfers get here without a generator.
            None => Transfer::default(),
        }
    }
}

/// Writes `text` with `values`; an unset connection variable is named in the error.
fn render(table: &RequestTable, text: &Template, values: &Values) -> Result<Bytes, NotMade> {
    let mut out = Vec::with_capacity(64);
    text.write(&mut out, |s, out| values.write(s, out))
        .map_err(|n| unset(table, n))?;
    Ok(Bytes::from(out))
}

fn unset(table: &RequestTable, n: usize) -> NotMade {
    NotMade::Unset(
        table
            .names
            .vars()
            .get(n)
            .cloned()
            .unwrap_or_else(|| "a data column".to_string()),
    )
}

/// Template `t`'s path and variable header values, written with `values`. A value in the path
/// is percent-encoded where a URI does not allow it as is (space, controls, non-ASCII, `"`,
/// `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`, `#`); one with a control character is refused
/// in a header (a newline would end the header early).
fn head(table: &RequestTable, t: usize, values: &Values) -> Result<Head, NotMade> {
    let p = &table.templates[t];
    let path = match &p.path {
        None => None,
        Some(text) => {
            let mut out = Vec::with_capacity(64);
            let mut raw = Vec::new();
            text.write(&mut out, |s, out| {
                raw.clear();
                let ok = values.write(s, &mut raw);
                percent_encode(&raw, out);
                ok
            })
            .map_err(|n| unset(table, n))?;
            Some(out)
        }
    };
    let mut headers = Vec::with_capacity(p.header_templates.len());
    for (name, text) in &p.header_templates {
        let mut out = Vec::with_capacity(64);
        text.write(&mut out, |s, out| values.write(s, out))
            .map_err(|n| unset(table, n))?;
        if out.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(NotMade::Unset(format!(
                "a value with a control character for header {name}"
            )));
        }
        headers.push((name.clone(), out));
    }
    Ok(Head { path, headers })
}

/// Appends `raw` to `out`, percent-encoding the bytes a URI path cannot carry as they are.
fn percent_encode(raw: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in raw {
        let plain = b.is_ascii_graphic() && !br#""<>\^`{|}#"#.contains(&b);
        if plain {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_values_are_percent_encoded_where_a_uri_needs_it() {
        let mut out = b"/u/".to_vec();
        percent_encode("a b/c?d=é#{x}".as_bytes(), &mut out);
        assert_eq!(out, b"/u/a%20b/c?d=%C3%A9%23%7Bx%7D");
    }
}
