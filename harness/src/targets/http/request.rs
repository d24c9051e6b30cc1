//! Requests, built cheaply: everything static (method, URI, headers, the weighted choice table,
//! the parsed body template) is prepared once per run in a [`RequestTable`]; per request a
//! worker's [`RequestMaker`] only picks a template, clones the small static parts and writes
//! the body.
//!
//! Transfers come from `engine::Generator`: each worker owns a disjoint, contiguous range of
//! senders and tracks their nonces, so every transfer meant to be valid is valid when the server
//! applies the worker's requests in order. Over HTTP a worker cannot re-read nonces cheaply
//! after a failed request; transfers that then go stale show up as `rejected:bad_nonce`.

use super::HttpError;
use crate::targets::http::endpoint::Endpoint;
use bytes::Bytes;
use engine::{GenConfig, Generator, Transfer, ZipfPool};
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue, HOST};
use hyper::{HeaderMap, Method, Request, Uri};
use scenario::{Body, Plan};
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

/// A piece of a body template.
#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Lit(String),
    Seq,
    Account,
    Sender,
    Receiver,
    Nonce,
    Amount,
    Worker,
}

#[derive(Clone, Debug)]
enum BodyKind {
    None,
    Template {
        segs: Vec<Seg>,
        needs_transfer: bool,
    },
    JsonTransfer,
    BinaryBatch,
}

/// One template, prepared.
#[derive(Clone, Debug)]
struct Prepared {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: BodyKind,
    expect: Vec<u16>,
    /// For the builtin HTTP/1.1 client: request line and headers, encoded once.
    wire_head: Vec<u8>,
    /// The same with `connection: close`, for a connection's last request.
    wire_head_close: Vec<u8>,
}

/// Template `t`'s request as the builtin HTTP/1.1 client writes it.
pub struct WireRequest<'a> {
    /// Request line and header lines, each ending in CRLF, without the blank line.
    pub head: &'a [u8],
    /// The same head with `connection: close`, for the last request on a connection
    /// (`[http] connection`; validation keeps templates from setting `connection` themselves).
    pub closing_head: &'a [u8],
    /// Send `content-length` even without a body (POST, PUT, PATCH).
    pub length: bool,
    /// A HEAD request: the answer has no body whatever its headers say.
    pub head_request: bool,
}

/// Encodes the request line and the headers (without any `content-length` or
/// `transfer-encoding` of the template: the client frames the body itself).
fn wire_head(method: &Method, uri: &Uri, headers: &HeaderMap) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(uri.to_string().as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        if name == hyper::header::CONTENT_LENGTH || name == hyper::header::TRANSFER_ENCODING {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Every template of a plan, prepared once and shared by the workers.
#[derive(Debug)]
pub struct RequestTable {
    templates: Vec<Prepared>,
    /// Cumulative weights; a uniform draw below the last picks a template by binary search.
    cumulative: Vec<u64>,
    batch_size: usize,
    gen: GenConfig,
    pool: Option<Arc<ZipfPool>>,
    accounts: u64,
    /// The senders this instance owns: all accounts, or an execution segment's range.
    senders: Range<u64>,
    /// Whether any template carries transfers (then workers need generators).
    pub carries_tx: bool,
}

fn parse_template(text: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let var = match after[..end].trim() {
            "seq" => Seg::Seq,
            "account" => Seg::Account,
            "sender" => Seg::Sender,
            "receiver" => Seg::Receiver,
            "nonce" => Seg::Nonce,
            "amount" => Seg::Amount,
            "worker" => Seg::Worker,
            // Validation rejects unknown placeholders; keep anything else literally.
            _ => {
                segs.push(Seg::Lit(rest[..start + 2 + end + 2].to_string()));
                rest = &after[end + 2..];
                continue;
            }
        };
        if start > 0 {
            segs.push(Seg::Lit(rest[..start].to_string()));
        }
        segs.push(var);
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        segs.push(Seg::Lit(rest.to_string()));
    }
    segs
}

impl RequestTable {
    /// Prepares the plan's templates for `endpoint`. `http2` selects absolute URIs (HTTP/2
    /// needs `:scheme` and `:authority`); HTTP/1.1 uses origin-form plus a Host header.
    pub fn new(plan: &Plan, endpoint: &Endpoint, http2: bool) -> Result<RequestTable, HttpError> {
        if plan.requests.is_empty() {
            return Err(HttpError::NoRequests);
        }
        let mut templates = Vec::with_capacity(plan.requests.len());
        let mut cumulative = Vec::with_capacity(plan.requests.len());
        let mut total = 0u64;
        for r in &plan.requests {
            let bad = |why: String| HttpError::BadTemplate {
                name: r.name.clone(),
                why,
            };
            let path = format!("{}{}", endpoint.base_path, r.path);
            let uri_text = if http2 {
                format!("http://{}{}", endpoint.authority, path)
            } else {
                path
            };
            let uri: Uri = uri_text
                .parse()
                .map_err(|e| bad(format!("URI {uri_text:?}: {e}")))?;
            let method = Method::from_bytes(r.method.as_bytes())
                .map_err(|e| bad(format!("method {:?}: {e}", r.method)))?;
            let mut headers = HeaderMap::new();
            for (k, v) in &r.headers {
                let name = HeaderName::from_bytes(k.as_bytes())
                    .map_err(|e| bad(format!("header name {k:?}: {e}")))?;
                let value = HeaderValue::from_str(v)
                    .map_err(|e| bad(format!("header {k:?} value {v:?}: {e}")))?;
                headers.append(name, value);
            }
            if !http2 && !headers.contains_key(HOST) {
                let host = HeaderValue::from_str(&endpoint.authority)
                    .map_err(|e| bad(format!("host {:?}: {e}", endpoint.authority)))?;
                headers.insert(HOST, host);
            }
            let body = match &r.body {
                Body::None => BodyKind::None,
                Body::Template(t) => {
                    let segs = parse_template(t);
                    let needs_transfer = segs.iter().any(|s| {
                        matches!(s, Seg::Sender | Seg::Receiver | Seg::Nonce | Seg::Amount)
                    });
                    BodyKind::Template {
                        segs,
                        needs_transfer,
                    }
                }
                Body::JsonTransfer => BodyKind::JsonTransfer,
                Body::BinaryBatch => BodyKind::BinaryBatch,
            };
            total += u64::from(r.weight.max(1));
            cumulative.push(total);
            let head = wire_head(&method, &uri, &headers);
            templates.push(Prepared {
                wire_head_close: [&head[..], b"connection: close\r\n"].concat(),
                wire_head: head,
                method,
                uri,
                headers,
                body,
                expect: r.expect_status.clone(),
            });
        }
        let w = &plan.workload;
        let (gen, pool) = crate::targets::inprocess::generator_config(w);
        let carries_tx = templates.iter().any(|t| match &t.body {
            BodyKind::JsonTransfer | BodyKind::BinaryBatch => true,
            BodyKind::Template { needs_transfer, .. } => *needs_transfer,
            BodyKind::None => false,
        });
        Ok(RequestTable {
            templates,
            cumulative,
            batch_size: w.batch_size as usize,
            gen,
            pool,
            accounts: w.accounts,
            senders: 0..w.accounts,
            carries_tx,
        })
    }

    /// Restricts this instance to an execution segment's senders (split among its workers as
    /// usual) and salts the generator seed, so segments draw different receivers and amounts.
    pub fn restrict_senders(&mut self, senders: Range<u64>, seed_salt: u64) {
        self.senders = senders;
        self.gen.seed ^= seed_salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    /// The workload's account count (every instance's senders are a part of it).
    pub fn accounts_total(&self) -> u64 {
        self.accounts
    }

    /// Whether `status` counts as success for template `t`.
    #[inline]
    pub fn expected(&self, t: usize, status: u16) -> bool {
        self.templates[t].expect.contains(&status)
    }

    /// Whether requests from template `t` carry a body (only those can commit anything: a
    /// bodiless answer is not scanned for a transactions outcome).
    pub fn has_body(&self, t: usize) -> bool {
        !matches!(self.templates[t].body, BodyKind::None)
    }

    /// Number of templates.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// Whether there is no template (never, once built: [`RequestTable::new`] refuses that).
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// Template `t`'s method, URI (origin-form for HTTP/1.1, with the base path) and headers.
    pub fn parts(&self, t: usize) -> (&Method, &Uri, &HeaderMap) {
        let p = &self.templates[t];
        (&p.method, &p.uri, &p.headers)
    }

    /// Template `t` for the builtin HTTP/1.1 client.
    pub fn wire(&self, t: usize) -> WireRequest<'_> {
        let p = &self.templates[t];
        WireRequest {
            head: &p.wire_head,
            closing_head: &p.wire_head_close,
            length: matches!(p.method, Method::POST | Method::PUT | Method::PATCH),
            head_request: p.method == Method::HEAD,
        }
    }

    /// Template `t` with `body` as a request for hyper's client.
    pub fn hyper_request(&self, t: usize, body: Bytes) -> Request<Full<Bytes>> {
        let p = &self.templates[t];
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = p.method.clone();
        *request.uri_mut() = p.uri.clone();
        *request.headers_mut() = p.headers.clone();
        request
    }

    /// Accounts `0..N` split into `workers` contiguous sender ranges: worker `id`'s share.
    pub fn sender_range(accounts: u64, workers: u32, id: u32) -> Range<u64> {
        let w = u64::from(workers.max(1));
        let id = u64::from(id);
        (accounts * id / w)..(accounts * (id + 1) / w)
    }
}

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
}

impl RequestMaker {
    /// A builder for worker `worker` of `workers`. Fails when there are fewer accounts than
    /// workers and the templates carry transfers (each worker needs its own senders).
    pub fn new(
        table: Arc<RequestTable>,
        worker: u32,
        workers: u32,
    ) -> Result<RequestMaker, HttpError> {
        let gen = if table.carries_tx {
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

    fn pick(&mut self) -> usize {
        let c = &self.table.cumulative;
        if c.len() == 1 {
            return 0;
        }
        // `cumulative` is non-empty and its last entry is positive (weights are at least 1).
        let r = self.rng.u64(0..c[c.len() - 1]);
        c.partition_point(|&x| x <= r)
    }

    /// Picks the next request's template and writes its body.
    pub fn make(&mut self) -> Made {
        let t = self.pick();
        let (body, submitted_tx) = self.body_for(t);
        Made {
            template: t,
            body,
            submitted_tx,
        }
    }

    /// The body of the next request from template `t` (`t` < [`RequestTable::len`]) and the
    /// transfers it carries. The goose driver calls it directly: goose picks the template by
    /// weight itself, and sends through its own client.
    pub fn body_for(&mut self, t: usize) -> (Bytes, u64) {
        let seq = self.seq * u64::from(self.workers) + u64::from(self.worker);
        self.seq += 1;
        let table = Arc::clone(&self.table);
        let p = &table.templates[t];
        match &p.body {
            BodyKind::None => (Bytes::new(), 0),
            BodyKind::JsonTransfer => {
                let tr = self.one_transfer();
                self.text.clear();
                let _ = write!(
                    self.text,
                    r#"{{"from":{},"to":{},"amount":{},"nonce":{}}}"#,
                    tr.from, tr.to, tr.amount, tr.nonce
                );
                (Bytes::copy_from_slice(self.text.as_bytes()), 1)
            }
            BodyKind::BinaryBatch => {
                let n = table.batch_size;
                if let Some(g) = self.gen.as_mut() {
                    g.fill(&mut self.batch, n);
                }
                let mut buf = Vec::with_capacity(n * engine::RECORD_SIZE);
                engine::encode_batch(&self.batch, &mut buf);
                (Bytes::from(buf), n as u64)
            }
            BodyKind::Template {
                segs,
                needs_transfer,
            } => {
                let tr = if *needs_transfer {
                    self.one_transfer()
                } else {
                    Transfer::default()
                };
                let account = self.rng.u64(0..self.table.accounts.max(1));
                self.text.clear();
                for s in segs {
                    let _ = match s {
                        Seg::Lit(l) => {
                            self.text.push_str(l);
                            Ok(())
                        }
                        Seg::Seq => write!(self.text, "{seq}"),
                        Seg::Account => write!(self.text, "{account}"),
                        Seg::Sender => write!(self.text, "{}", tr.from),
                        Seg::Receiver => write!(self.text, "{}", tr.to),
                        Seg::Nonce => write!(self.text, "{}", tr.nonce),
                        Seg::Amount => write!(self.text, "{}", tr.amount),
                        Seg::Worker => write!(self.text, "{}", self.worker),
                    };
                }
                (Bytes::copy_from_slice(self.text.as_bytes()), 0)
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_segments() {
        let s = parse_template(r#"{"a":{{sender}},"s":"{{ seq }}","x":"{{nope}}"}"#);
        assert_eq!(
            s,
            vec![
                Seg::Lit(r#"{"a":"#.into()),
                Seg::Sender,
                Seg::Lit(r#","s":""#.into()),
                Seg::Seq,
                Seg::Lit(r#"","x":"{{nope}}"#.into()),
                Seg::Lit(r#""}"#.into()),
            ]
        );
    }

    #[test]
    fn sender_ranges_partition_the_accounts() {
        let ranges: Vec<_> = (0..7)
            .map(|i| RequestTable::sender_range(100, 7, i))
            .collect();
        assert_eq!(ranges[0].start, 0);
        assert_eq!(ranges[6].end, 100);
        for w in ranges.windows(2) {
            assert_eq!(w[0].end, w[1].start);
            assert!(!w[0].is_empty());
        }
    }
}
