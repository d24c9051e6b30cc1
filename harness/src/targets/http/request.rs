//! Requests, built cheaply: everything static (method, URI, headers, the weighted choice table,
//! the parsed templates, compiled checks) is prepared once per run in a [`RequestTable`]; per
//! request a worker's [`super::maker::RequestMaker`] only picks a template and writes what
//! varies: the body, and the path and header values when they hold variables (a template
//! without variables there keeps its request head encoded once).
//!
//! Transfers come from `engine::Generator`: each worker owns a disjoint, contiguous range of
//! senders and tracks their nonces, so every transfer meant to be valid is valid when the server
//! applies the worker's requests in order. Over HTTP a worker cannot re-read nonces cheaply
//! after a failed request; transfers that then go stale show up as `rejected:bad_nonce`.

use super::feed::Feeds;
use super::inspect::Inspect;
use super::maker::Head;
use super::template::{ConnVars, Names, Seg, Template};
use super::HttpError;
use crate::targets::carried::Carried;
use crate::targets::http::endpoint::Endpoint;
use bytes::Bytes;
use engine::{GenConfig, ZipfPool};
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue, HOST};
use hyper::{HeaderMap, Method, Request, Uri};
use scenario::{Body, DataSource, Plan, RequestTemplate};
use std::ops::Range;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub(super) enum BodyKind {
    None,
    Template {
        text: Template,
        needs_transfer: bool,
    },
    JsonTransfer,
    BinaryBatch,
}

/// One template, prepared.
pub(super) struct Prepared {
    name: String,
    pub(super) method: Method,
    uri: Uri,
    /// The headers without variables (all of them when none has one).
    headers: HeaderMap,
    pub(super) body: BodyKind,
    expect: Vec<u16>,
    /// For the builtin HTTP/1.1 client: request line and headers, encoded once.
    wire_head: Vec<u8>,
    /// The same with `connection: close`, for a connection's last request.
    wire_head_close: Vec<u8>,
    /// The path (base path included) when it holds variables.
    pub(super) path: Option<Template>,
    /// Headers whose values hold variables.
    pub(super) header_templates: Vec<(HeaderName, Template)>,
    /// The data sources the template reads (each drawn once per request), in plan order.
    pub(super) feeds: Vec<usize>,
    /// Not drawn by weight: sent on each new connection before its timed requests.
    pub(super) setup: bool,
    /// The path, a header or the body reads a connection variable.
    reads_vars: bool,
    pub(super) inspect: Option<Inspect>,
}

impl Prepared {
    /// Whether the path or a header value holds variables (the head is written per request).
    pub(super) fn dynamic_head(&self) -> bool {
        self.path.is_some() || !self.header_templates.is_empty()
    }
}

/// What of an answer is read beyond its status ([`RequestTable::needs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Hold the body up to this many bytes (`None`: count it and drop it).
    pub body: Option<usize>,
    pub headers: bool,
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
pub struct RequestTable {
    pub(super) templates: Vec<Prepared>,
    /// Cumulative weights; a uniform draw below the last picks a template by binary search
    /// (setup templates weigh nothing, so no draw picks them).
    pub(super) cumulative: Vec<u64>,
    pub(super) batch_size: usize,
    pub(super) gen: GenConfig,
    pub(super) pool: Option<Arc<ZipfPool>>,
    pub(super) accounts: u64,
    /// The senders this instance owns: all accounts, or an execution segment's range.
    pub(super) senders: Range<u64>,
    /// Whether any template carries transfers (then workers need generators).
    pub carries_tx: bool,
    /// The run's `[[data]]` rows, handed out per request.
    pub(super) feeds: Feeds,
    /// Connection variables by name (for `extract` and `{{name}}`).
    pub(super) names: Names,
    /// `[http] max_body`: the most of an answer's body held for checks.
    pub max_body: usize,
    /// Each worker's transfer generator between runs on this target (a capacity search's
    /// probes): see `targets::carried`.
    pub carried: Carried,
}

impl std::fmt::Debug for RequestTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestTable")
            .field("templates", &self.templates.len())
            .field("carries_tx", &self.carries_tx)
            .finish_non_exhaustive()
    }
}

/// Template `r`, prepared for `endpoint` (see [`RequestTable::new`]).
fn prepare(
    r: &RequestTemplate,
    endpoint: &Endpoint,
    http2: bool,
    names: &Names,
    max_body: u64,
) -> Result<Prepared, HttpError> {
    let bad = |why: String| HttpError::BadTemplate {
        name: r.name.clone(),
        why,
    };
    let prefix = if http2 {
        format!("http://{}{}", endpoint.authority, endpoint.base_path)
    } else {
        endpoint.base_path.clone()
    };
    let path_template = names.parse(&format!("{prefix}{}", r.path));
    let (uri_text, path) = match path_template.as_literal() {
        Some(text) => (text.to_string(), None),
        // Written per request; the static URI is only the prefix's (never sent).
        None => (format!("{prefix}/"), Some(path_template)),
    };
    let uri: Uri = uri_text
        .parse()
        .map_err(|e| bad(format!("URI {uri_text:?}: {e}")))?;
    let method = Method::from_bytes(r.method.as_bytes())
        .map_err(|e| bad(format!("method {:?}: {e}", r.method)))?;
    let mut headers = HeaderMap::new();
    let mut header_templates = Vec::new();
    for (k, v) in &r.headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|e| bad(format!("header name {k:?}: {e}")))?;
        let t = names.parse(v);
        if t.as_literal().is_none() {
            header_templates.push((name, t));
            continue;
        }
        let value =
            HeaderValue::from_str(v).map_err(|e| bad(format!("header {k:?} value {v:?}: {e}")))?;
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
            let text = names.parse(t);
            let needs_transfer = text.any(|s| matches!(s, Seg::Builtin(b) if b.is_transfer()));
            BodyKind::Template {
                text,
                needs_transfer,
            }
        }
        Body::JsonTransfer => BodyKind::JsonTransfer,
        Body::BinaryBatch => BodyKind::BinaryBatch,
    };
    let mut feeds: Vec<usize> = path
        .iter()
        .chain(header_templates.iter().map(|(_, t)| t))
        .chain(match &body {
            BodyKind::Template { text, .. } => Some(text),
            _ => None,
        })
        .flat_map(|t| t.feeds())
        .collect();
    feeds.sort_unstable();
    feeds.dedup();
    let reads = |x: &Template| x.any(|s| matches!(s, Seg::Var(_)));
    let reads_vars = path.as_ref().is_some_and(reads)
        || header_templates.iter().any(|(_, x)| reads(x))
        || matches!(&body, BodyKind::Template { text, .. } if reads(text));
    let head = wire_head(&method, &uri, &headers);
    Ok(Prepared {
        reads_vars,
        name: r.name.clone(),
        wire_head_close: [&head[..], b"connection: close\r\n"].concat(),
        wire_head: head,
        method,
        uri,
        headers,
        body,
        expect: r.expect_status.clone(),
        path,
        header_templates,
        feeds,
        setup: r.setup,
        inspect: Inspect::new(r, names, max_body),
    })
}

impl RequestTable {
    /// Prepares the plan's templates for `endpoint`. `http2` selects absolute URIs (HTTP/2
    /// needs `:scheme` and `:authority`); HTTP/1.1 uses origin-form plus a Host header.
    pub fn new(plan: &Plan, endpoint: &Endpoint, http2: bool) -> Result<RequestTable, HttpError> {
        if plan.requests.is_empty() {
            return Err(HttpError::NoRequests);
        }
        let names = Names::new(plan);
        let max_body = usize::try_from(plan.http.max_body).unwrap_or(usize::MAX);
        let mut templates = Vec::with_capacity(plan.requests.len());
        let mut cumulative = Vec::with_capacity(plan.requests.len());
        let mut total = 0u64;
        for r in &plan.requests {
            templates.push(prepare(r, endpoint, http2, &names, plan.http.max_body)?);
            if !r.setup {
                total += u64::from(r.weight.max(1));
            }
            cumulative.push(total);
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
            feeds: Feeds::new(&plan.data, None, w.seed),
            names,
            max_body,
            carried: Carried::default(),
        })
    }

    /// Makes this instance one execution segment of `count`: `queue` and `shuffle` feeders
    /// then hand out only this segment's share of their rows.
    pub fn restrict_feeds(&mut self, data: &[DataSource], index: u32, count: u32, seed: u64) {
        self.feeds = Feeds::new(data, Some((index, count)), seed);
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

    /// A request from template `t` for hyper's client, with `body` and, when the template's
    /// path or headers hold variables, this request's `head`. A written path that is not a
    /// URI fails the request as a `check` error (see [`super::maker`] for what is encoded).
    pub fn hyper_request(
        &self,
        t: usize,
        body: Bytes,
        head: Option<&Head>,
    ) -> Result<Request<Full<Bytes>>, String> {
        let p = &self.templates[t];
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = p.method.clone();
        *request.uri_mut() = p.uri.clone();
        *request.headers_mut() = p.headers.clone();
        if let Some(h) = head {
            if let Some(path) = &h.path {
                *request.uri_mut() = Uri::try_from(path.as_slice())
                    .map_err(|e| format!("path {:?}: {e}", String::from_utf8_lossy(path)))?;
            }
            for (name, value) in &h.headers {
                let v =
                    HeaderValue::from_bytes(value).map_err(|e| format!("header {name}: {e}"))?;
                request.headers_mut().append(name.clone(), v);
            }
        }
        Ok(request)
    }

    /// Writes template `t`'s HTTP/1.1 request head with this request's `head` (its path and
    /// variable headers) into `out`, as [`RequestTable::wire`]'s heads are: request line and
    /// header lines, without the blank line; `last` adds `connection: close`.
    pub fn write_wire_head(&self, t: usize, head: &Head, last: bool, out: &mut Vec<u8>) {
        let p = &self.templates[t];
        out.clear();
        match &head.path {
            Some(path) => {
                out.extend_from_slice(p.method.as_str().as_bytes());
                out.push(b' ');
                out.extend_from_slice(path);
                out.extend_from_slice(b" HTTP/1.1\r\n");
                let line = p
                    .wire_head
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                out.extend_from_slice(&p.wire_head[line..]);
            }
            None => out.extend_from_slice(&p.wire_head),
        }
        for (name, value) in &head.headers {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        if last {
            out.extend_from_slice(b"connection: close\r\n");
        }
    }

    /// What of an answer to template `t` must be read: the body (up to how many bytes held:
    /// for checks and extractions, and for a request that carried a body, whose answer may say
    /// what was committed), and the header fields.
    pub fn needs(&self, t: usize) -> Needs {
        let p = &self.templates[t];
        let checks_body = p.inspect.as_ref().is_some_and(Inspect::needs_body);
        Needs {
            body: (checks_body || !matches!(p.body, BodyKind::None)).then_some(self.max_body),
            headers: p.inspect.as_ref().is_some_and(Inspect::needs_headers),
        }
    }

    /// Template `t`'s checks and extractions, if it has any.
    pub fn inspect(&self, t: usize) -> Option<&Inspect> {
        self.templates[t].inspect.as_ref()
    }

    /// The setup templates, in file order.
    pub fn setup_templates(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.templates.len()).filter(|&t| self.templates[t].setup)
    }

    /// Whether a connection needs variables ([`ConnVars`] sized for them) or setup requests.
    pub fn has_flows(&self) -> bool {
        !self.names.vars().is_empty() || self.templates.iter().any(|p| p.setup)
    }

    /// Whether template `t` reads a connection variable (then it is written only once its
    /// connection is open and set up).
    #[inline]
    pub fn reads_vars(&self, t: usize) -> bool {
        self.templates[t].reads_vars
    }

    /// Fresh variables for a new connection.
    pub fn conn_vars(&self) -> ConnVars {
        ConnVars::new(self.names.vars().len())
    }

    /// Template `t`'s name.
    pub fn name(&self, t: usize) -> &str {
        &self.templates[t].name
    }

    /// Accounts `0..N` split into `workers` contiguous sender ranges: worker `id`'s share.
    pub fn sender_range(accounts: u64, workers: u32, id: u32) -> Range<u64> {
        let w = u64::from(workers.max(1));
        let id = u64::from(id);
        (accounts * id / w)..(accounts * (id + 1) / w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
