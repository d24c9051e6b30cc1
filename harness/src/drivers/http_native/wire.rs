//! Our own HTTP/1.1 client connection: the native driver's default (`[http] client = "builtin"`).
//!
//! Why not hyper's client here: hyper's `client::conn` hands every request to its connection
//! through a channel, answers through a oneshot, and builds a `Request`/`Response` with header
//! maps on both sides; on this machine that is 3.5-4.5 us of user CPU per request, four times
//! wrk's whole user time per request. This connection writes a request head encoded once per
//! template (only `content-length` is added per request), parses the answer in place with
//! httparse (hyper's own parser; the framing lives in [`super::h1`], apart from the socket),
//! and hands the body to the caller as a slice of its read buffer: no allocation, no channel,
//! no task hop per request.
//!
//! What it speaks (RFC 9112, client side): keep-alive; answers framed by `content-length`,
//! `transfer-encoding: chunked` (trailers skipped) or, without either, by the connection closing;
//! no body for HEAD requests or 1xx/204/304 answers; interim 1xx answers skipped; `connection:
//! close` and HTTP/1.0 answers without keep-alive end the connection after the answer. Anything
//! malformed is an I/O error for the caller to count, and the connection is dropped. Over
//! https it reads and writes through rustls ([`WireStream`]'s TLS variant); a TLS alert is a
//! `tls` error.

use super::h1::{parse_head, Chunk, ChunkDecoder, Framing, Head};
use super::stamped::StampedTcp;
use crate::load::worker::ErrorKind;
use crate::targets::http::judge::body_hold;
use crate::targets::http::request::Needs;
use crate::targets::http::stream::Stream;
use crate::targets::http::tls::kind_of;
use std::io::IoSlice;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The connection's byte stream: plain TCP or TLS over it, stamping reads when asked.
pub type WireStream = Stream<StampedTcp>;

/// The read buffer's starting size; it grows to hold a whole answer.
const READ_BUF: usize = 16 * 1024;
/// The largest answer head accepted (hyper's default limit is ~400 KiB; ours is plenty for APIs).
const MAX_HEAD: usize = 64 * 1024;
/// Reads of one answer between yields to the runtime. A body that keeps streaming never makes
/// a read wait, so the worker's task never returned to the runtime and its request timer could
/// not fire: an endless chunked body's 1 s timeout ended at 1.16 s, 1.67 s on a busy machine
/// (tests/hostile), where hyper's ended at 1.00 s. `yield_now` lets the runtime turn its
/// timer and I/O drivers first. An answer of a few reads never yields.
const READS_PER_YIELD: u32 = 16;
/// Request bodies up to this size are copied behind the head (one `write`); larger ones go out
/// with the head in one `writev`.
const COPY_BODY: usize = 4 * 1024;

/// One keep-alive HTTP/1.1 connection.
pub struct WireConn {
    stream: WireStream,
    /// Read buffer: `buf[..filled]` holds bytes read and not yet consumed.
    buf: Vec<u8>,
    filled: usize,
    /// Bytes of `buf` the previous answer occupies (consumed at the next request).
    last: usize,
    /// The request being written (head, and a small body).
    out: Vec<u8>,
    /// A chunked answer's body, decoded (as much of it as is held).
    dechunked: Vec<u8>,
    /// The last answer's head, copied when [`Keep::head`] asked for it.
    head: Vec<u8>,
    /// False once the server said it closes, or framed its answer by closing.
    reusable: bool,
    /// The kernel's receive stamp of the answer's last bytes read so far.
    arrived: Option<Instant>,
    /// Reads since the current answer began (see [`READS_PER_YIELD`]).
    reads: u32,
}

/// What of an answer the caller reads, beyond its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep {
    /// Hold the body up to this many bytes (`None` or 0: read it and drop it as it arrives,
    /// so a large answer costs no memory).
    pub body: Option<usize>,
    /// Keep the head's header lines ([`WireAnswer::head`]).
    pub head: bool,
}

impl From<Needs> for Keep {
    fn from(n: Needs) -> Keep {
        Keep {
            body: n.body,
            head: n.headers,
        }
    }
}

/// An answer's status and body (borrowed from the connection until its next request).
pub struct WireAnswer<'a> {
    pub status: u16,
    /// The body as held: empty unless [`Keep::body`] asked for it, and cut at that length.
    pub body: &'a [u8],
    /// The body was longer than [`Keep::body`] allowed (so `body` is not all of it).
    pub truncated: bool,
    /// Status line and header lines, when [`Keep::head`] asked for them.
    pub head: &'a [u8],
    /// When its last bytes reached the machine (kernel stamp; `None` where there is none).
    pub arrived: Option<Instant>,
}

/// Where a held body is.
enum Held {
    Nothing,
    Buf(std::ops::Range<usize>),
    Dechunked,
}

impl WireConn {
    /// A connection over a stream opened by [`crate::targets::http::dial::Dialer::open`].
    pub fn new(stream: WireStream) -> WireConn {
        WireConn {
            stream,
            buf: vec![0; READ_BUF],
            filled: 0,
            last: 0,
            out: Vec::with_capacity(1024),
            dechunked: Vec::new(),
            head: Vec::new(),
            reusable: true,
            arrived: None,
            reads: 0,
        }
    }

    /// Reads from now on keep the kernel's receive stamp of each answer (open-model runs, for
    /// the dispatch lag). Off by default: stamping every received packet cost closed-model
    /// runs ~8 % more CPU per request (benches/ab.sh, 3 rounds: 5.91 -> 6.39 CPU-s per 1M).
    pub fn stamp_arrivals(&mut self) {
        self.stream.tcp_mut().stamp_arrivals();
    }

    /// Whether another request may follow on this connection.
    pub fn reusable(&self) -> bool {
        self.reusable
    }

    /// Sends one request and reads its whole answer. `head` is the request line and headers,
    /// each line ending in CRLF, without the blank line; `length` adds `content-length` (always
    /// for a body, and for POST/PUT/PATCH without one); `head_request` says the answer has no body;
    /// `keep` what of the answer to hold. Any error leaves the connection unusable: drop it.
    pub async fn send(
        &mut self,
        head: &[u8],
        body: &[u8],
        length: bool,
        (head_request, keep): (bool, Keep),
    ) -> Result<WireAnswer<'_>, ErrorKind> {
        if !self.reusable {
            return Err(ErrorKind::Io);
        }
        self.consume_last()?;
        // Stamps of earlier reads (a handshake's, the previous answer's) are not this answer's.
        self.stream.tcp_mut().take_arrival();
        self.arrived = None;
        self.write_request(head, body, length).await?;
        self.read_answer(head_request, keep).await
    }

    /// Reads the next answer, the previous one's bytes dropped first: bytes after it are kept,
    /// the start of the next pipelined answer ([`super::pipeline`]). `head_request`: it answers
    /// a HEAD request (no body); `keep`: what to hold. Any error leaves the connection
    /// unusable: drop it.
    pub async fn read_answer(
        &mut self,
        head_request: bool,
        keep: Keep,
    ) -> Result<WireAnswer<'_>, ErrorKind> {
        let last = std::mem::take(&mut self.last);
        if last > 0 {
            self.consume(last);
        }
        self.reads = 0;
        let head = loop {
            let h = self.read_head().await?;
            // Interim answers (100 Continue, 103 Early Hints) precede the real one.
            if (100..200).contains(&h.status) && h.status != 101 {
                self.consume(h.len);
                continue;
            }
            break h;
        };
        if !head.keep_alive || head.status == 101 {
            // 101: the connection now speaks another protocol.
            self.reusable = false;
        }
        self.head.clear();
        if keep.head {
            // Copied: decoding a chunked body moves the buffer's bytes.
            self.head.extend_from_slice(&self.buf[..head.len]);
        }
        let framing = if head_request || matches!(head.status, 101 | 204 | 304) {
            Framing::None
        } else {
            head.framing
        };
        let hold = body_hold(head.status, keep.body.unwrap_or(0));
        let (body, truncated) = self.read_body(head.len, framing, hold).await?;
        Ok(WireAnswer {
            status: head.status,
            body: match body {
                Held::Nothing => &[],
                Held::Buf(r) => &self.buf[r],
                Held::Dechunked => &self.dechunked,
            },
            truncated,
            head: &self.head,
            arrived: self.arrived,
        })
    }

    /// Reads the body after a head of `head_len` bytes, holding at most `hold` bytes of it;
    /// says where the held part is and whether any of it was dropped.
    async fn read_body(
        &mut self,
        head_len: usize,
        framing: Framing,
        hold: usize,
    ) -> Result<(Held, bool), ErrorKind> {
        Ok(match framing {
            Framing::None => {
                self.last = head_len;
                (Held::Nothing, false)
            }
            Framing::Length(n) if n > hold => {
                self.skip(head_len, n).await?;
                (Held::Nothing, n > 0)
            }
            Framing::Length(n) => {
                let end = head_len.checked_add(n).ok_or(ErrorKind::Io)?;
                self.fill_to(end).await?;
                self.last = end;
                (Held::Buf(head_len..end), false)
            }
            Framing::Chunked => {
                let truncated = self.read_chunked(head_len, hold).await?;
                (Held::Dechunked, truncated)
            }
            Framing::Close => {
                self.reusable = false;
                let truncated = self.read_to_close(head_len, hold).await?;
                (Held::Buf(head_len..self.filled), truncated)
            }
        })
    }

    /// Reads an `n`-byte body after a head of `head_len` bytes without holding it: the buffer
    /// never grows past what one read brings.
    async fn skip(&mut self, head_len: usize, n: usize) -> Result<(), ErrorKind> {
        let mut left = n;
        loop {
            let got = self.filled - head_len;
            if got >= left {
                // Bytes past the body are the next pipelined answer's: kept.
                self.last = head_len + left;
                return Ok(());
            }
            left -= got;
            self.filled = head_len;
            self.read_more().await?;
        }
    }

    /// Drops the previous answer from the read buffer. Bytes after it were sent without a
    /// request: a protocol error.
    fn consume_last(&mut self) -> Result<(), ErrorKind> {
        let last = std::mem::take(&mut self.last);
        if last == self.filled {
            self.filled = 0;
            Ok(())
        } else {
            Err(ErrorKind::Io)
        }
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.filled, 0);
        self.filled -= n;
    }

    /// Whether bytes past the last answer read are already buffered (the next pipelined
    /// answer has begun to arrive: read it without waiting for the socket).
    pub fn buffered(&self) -> bool {
        self.filled > self.last
    }

    /// Reads once, whatever the socket has, into the buffer for [`WireConn::read_answer`]
    /// (0: the stream ended). A pipelined worker waits for its answers this way together with
    /// its timers: dropping the wait loses nothing, as the bytes move into the buffer in the
    /// same poll that reads them. (Waiting for readiness alone would not do: tokio keeps a
    /// socket "ready" until a read finds it empty, so that wait returned at once after every
    /// answer and the worker then blocked in the read, missing its next slot: 7 ms median
    /// dispatch lag in tests/pipeline.rs.)
    pub async fn receive(&mut self) -> Result<usize, ErrorKind> {
        self.read_some().await
    }

    /// Adds a request to the ones waiting to be written by [`WireConn::flush`]: pipelined
    /// requests leave in one `write`. Arguments as for [`WireConn::send`].
    pub fn queue(&mut self, head: &[u8], body: &[u8], length: bool) {
        self.encode_head(head, body.len(), length);
        self.out.extend_from_slice(body);
    }

    /// Writes every queued request.
    pub async fn flush(&mut self) -> Result<(), ErrorKind> {
        let written = self.stream.write_all(&self.out).await;
        self.out.clear();
        written.map_err(|_| ErrorKind::Io)
    }

    /// Appends the head, a `content-length` when needed and the blank line to `out`.
    fn encode_head(&mut self, head: &[u8], body_len: usize, length: bool) {
        self.out.extend_from_slice(head);
        if length || body_len > 0 {
            self.out.extend_from_slice(b"content-length: ");
            let mut digits = itoa::Buffer::new();
            self.out
                .extend_from_slice(digits.format(body_len).as_bytes());
            self.out.extend_from_slice(b"\r\n");
        }
        self.out.extend_from_slice(b"\r\n");
    }

    async fn write_request(
        &mut self,
        head: &[u8],
        body: &[u8],
        length: bool,
    ) -> Result<(), ErrorKind> {
        self.out.clear();
        self.encode_head(head, body.len(), length);
        if body.len() <= COPY_BODY {
            self.out.extend_from_slice(body);
            self.stream
                .write_all(&self.out)
                .await
                .map_err(|e| kind_of(&e))?;
            // TLS may hold records back when the socket is full; plain TCP flushes for free.
            return self.stream.flush().await.map_err(|e| kind_of(&e));
        }
        let mut slices = [IoSlice::new(&self.out), IoSlice::new(body)];
        let mut rest: &mut [IoSlice<'_>] = &mut slices;
        while !rest.is_empty() {
            match self.stream.write_vectored(rest).await {
                Ok(0) => return Err(ErrorKind::Io),
                Err(e) => return Err(kind_of(&e)),
                Ok(n) => IoSlice::advance_slices(&mut rest, n),
            }
        }
        self.stream.flush().await.map_err(|e| kind_of(&e))
    }

    /// Reads more bytes into the buffer (growing it when full). End of stream is an error:
    /// callers that accept it use [`WireConn::read_to_close`].
    async fn read_more(&mut self) -> Result<(), ErrorKind> {
        self.pace().await;
        match self.read_some().await? {
            0 => Err(ErrorKind::Io),
            _ => Ok(()),
        }
    }

    /// Yields to the runtime every [`READS_PER_YIELD`] reads of one answer.
    async fn pace(&mut self) {
        self.reads += 1;
        if self.reads.is_multiple_of(READS_PER_YIELD) {
            tokio::task::yield_now().await;
        }
    }

    async fn read_some(&mut self) -> Result<usize, ErrorKind> {
        if self.filled == self.buf.len() {
            let grown = (self.buf.len() * 2).max(READ_BUF);
            self.buf.resize(grown, 0);
        }
        let n = self
            .stream
            .read(&mut self.buf[self.filled..])
            .await
            .map_err(|e| kind_of(&e))?;
        // The stamp of the TCP read that brought these bytes (over TLS: the read that
        // completed the record they came in).
        self.arrived = self.stream.tcp_mut().take_arrival().or(self.arrived);
        self.filled += n;
        Ok(n)
    }

    async fn read_head(&mut self) -> Result<Head, ErrorKind> {
        loop {
            if let Some(h) = parse_head(&self.buf[..self.filled])? {
                return Ok(h);
            }
            if self.filled >= MAX_HEAD {
                return Err(ErrorKind::Io);
            }
            self.read_more().await?;
        }
    }

    /// Reads until `buf[..end]` is filled (a held body: `end` is bounded by `[http] max_body`).
    async fn fill_to(&mut self, end: usize) -> Result<(), ErrorKind> {
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        while self.filled < end {
            self.read_more().await?;
        }
        Ok(())
    }

    /// Reads a body framed by the connection's end, holding its first `hold` bytes; says
    /// whether more came.
    async fn read_to_close(&mut self, head_len: usize, hold: usize) -> Result<bool, ErrorKind> {
        let mut truncated = false;
        loop {
            // Bytes that came with the head count too.
            if self.filled - head_len > hold {
                truncated = true;
                self.filled = head_len + hold;
            }
            self.pace().await;
            if self.read_some().await? == 0 {
                break;
            }
        }
        self.last = self.filled;
        Ok(truncated)
    }

    /// Decodes a chunked body starting at `buf[start..]` into `dechunked` (its first `hold`
    /// bytes; says whether more came), then drops the whole answer from the buffer. Chunk data
    /// is taken as it arrives, so the buffer holds at most one read and one framing line
    /// whatever size a chunk declares (an endless or 1 GiB chunk costs no memory unless held).
    async fn read_chunked(&mut self, start: usize, hold: usize) -> Result<bool, ErrorKind> {
        self.dechunked.clear();
        let mut decoder = ChunkDecoder::new();
        let mut truncated = false;
        let mut pos = start;
        loop {
            let (used, chunk) = decoder.next(&self.buf[pos..self.filled])?;
            pos += used;
            match chunk {
                Chunk::Data(data) => {
                    let room = hold.saturating_sub(self.dechunked.len());
                    self.dechunked
                        .extend_from_slice(&data[..data.len().min(room)]);
                    truncated |= data.len() > room;
                }
                Chunk::More => {
                    self.compact(&mut pos);
                    self.read_more().await?;
                }
                Chunk::Done => break,
            }
        }
        self.last = pos;
        Ok(truncated)
    }

    /// Moves `buf[pos..filled]` to the front (its bytes before `pos` are decoded already).
    fn compact(&mut self, pos: &mut usize) {
        self.consume(*pos);
        *pos = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything held, as the tests before `Keep` read answers.
    const ALL: Keep = Keep {
        body: Some(usize::MAX),
        head: true,
    };
    use crate::targets::http::dial::Dialer;
    use crate::targets::http::tls::Alpn;
    use std::net::SocketAddr;
    use std::time::Duration;

    impl WireConn {
        /// A plain connection to `addr`, as the driver opens one for an http target.
        async fn open(addr: SocketAddr, timeout: Duration) -> Result<WireConn, ErrorKind> {
            let dialer = Dialer {
                addr,
                tls: None,
                counted: true,
            };
            let (stream, _) = dialer.open(timeout, Alpn::Http11, StampedTcp::new).await?;
            Ok(WireConn::new(stream))
        }
    }

    /// A scripted server on loopback: for each entry, reads one request (head and
    /// content-length body), sends the request bytes back over `seen`, then writes the answer in
    /// the given pieces (flushed apart, so the client sees them in separate reads). After the
    /// script it closes the connection.
    async fn scripted(
        script: Vec<Vec<&'static [u8]>>,
    ) -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (seen_tx, seen) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.set_nodelay(true).unwrap();
            let mut pending = Vec::new();
            for pieces in script {
                let request = loop {
                    if let Some(end) = memchr::memmem::find(&pending, b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&pending[..end]).to_lowercase();
                        let body = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .map_or(0, |n| n.trim().parse::<usize>().unwrap());
                        if pending.len() >= end + 4 + body {
                            break pending.drain(..end + 4 + body).collect::<Vec<u8>>();
                        }
                    }
                    let mut chunk = [0u8; 64 * 1024];
                    let n = s.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    pending.extend_from_slice(&chunk[..n]);
                };
                let _ = seen_tx.send(request);
                for p in pieces {
                    s.write_all(p).await.unwrap();
                    s.flush().await.unwrap();
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        });
        (addr, seen)
    }

    const GET: &[u8] = b"GET /x HTTP/1.1\r\nhost: t\r\n";
    const POST: &[u8] = b"POST /tx HTTP/1.1\r\nhost: t\r\n";
    const T: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn answers_split_across_reads_and_kept_alive() {
        let (addr, mut seen) = scripted(vec![
            vec![
                b"HTTP/1.1 200 OK\r\nconte",
                b"nt-length: 11\r\n\r\nhello",
                b" world",
            ],
            vec![b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\nno"],
        ])
        .await;
        let mut c = WireConn::open(addr, T).await.unwrap();
        let a = c.send(GET, b"", false, (false, ALL)).await.unwrap();
        assert_eq!((a.status, a.body), (200, &b"hello world"[..]));
        assert!(c.reusable());
        let a = c
            .send(POST, b"{\"a\":1}", true, (false, ALL))
            .await
            .unwrap();
        assert_eq!((a.status, a.body), (404, &b"no"[..]));
        assert_eq!(
            seen.recv().await.unwrap(),
            b"GET /x HTTP/1.1\r\nhost: t\r\n\r\n"
        );
        assert_eq!(
            seen.recv().await.unwrap(),
            b"POST /tx HTTP/1.1\r\nhost: t\r\ncontent-length: 7\r\n\r\n{\"a\":1}"
        );
    }

    #[tokio::test]
    async fn chunked_bodies_are_decoded_with_extensions_and_trailers() {
        let (addr, _seen) = scripted(vec![
            vec![
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhel",
                b"lo\r\n6\r\n wor",
                b"ld\r\n0\r\nx-trailer: 1\r\n",
                b"\r\n",
            ],
            vec![b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"],
        ])
        .await;
        let mut c = WireConn::open(addr, T).await.unwrap();
        let a = c.send(GET, b"", false, (false, ALL)).await.unwrap();
        assert_eq!((a.status, a.body), (200, &b"hello world"[..]));
        let a = c.send(GET, b"", false, (false, ALL)).await.unwrap();
        assert_eq!(a.body, b"abc");
        assert!(c.reusable());
    }

    #[tokio::test]
    async fn interim_head_and_bodiless_answers() {
        let (addr, mut seen) = scripted(vec![
            vec![
                b"HTTP/1.1 100 Continue\r\n\r\n",
                b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok",
            ],
            // HEAD: the length describes the GET answer; no body follows.
            vec![b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"],
            vec![b"HTTP/1.1 204 No Content\r\n\r\n"],
            vec![b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n!"],
        ])
        .await;
        let mut c = WireConn::open(addr, T).await.unwrap();
        let a = c.send(POST, b"", true, (false, ALL)).await.unwrap();
        assert_eq!((a.status, a.body), (201, &b"ok"[..]));
        let a = c
            .send(b"HEAD /x HTTP/1.1\r\n", b"", false, (true, ALL))
            .await
            .unwrap();
        assert_eq!((a.status, a.body), (200, &b""[..]));
        let a = c.send(GET, b"", false, (false, ALL)).await.unwrap();
        assert_eq!((a.status, a.body), (204, &b""[..]));
        let a = c.send(GET, b"", false, (false, ALL)).await.unwrap();
        assert_eq!(a.body, b"!");
        // A POST without a body still says its length.
        assert_eq!(
            seen.recv().await.unwrap(),
            b"POST /tx HTTP/1.1\r\nhost: t\r\ncontent-length: 0\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn a_server_that_closes_ends_the_connection_after_its_answer() {
        let (addr, _seen) = scripted(vec![vec![
            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok",
        ]])
        .await;
        let mut c = WireConn::open(addr, T).await.unwrap();
        let a = c.send(GET, b"", false, (false, ALL)).await.unwrap();
        assert_eq!(a.body, b"ok");
        assert!(!c.reusable());
        assert!(c.send(GET, b"", false, (false, ALL)).await.is_err());

        // No length, no chunking: the body runs to the close.
        let (addr, _seen) = scripted(vec![vec![b"HTTP/1.0 200 OK\r\n\r\nall ", b"of it"]]).await;
        let mut c = WireConn::open(addr, T).await.unwrap();
        let a = c.send(GET, b"", false, (false, ALL)).await.unwrap();
        assert_eq!(a.body, b"all of it");
        assert!(!c.reusable());
    }

    #[tokio::test]
    async fn broken_answers_are_errors() {
        // Closed in the middle of the body.
        let (addr, _seen) = scripted(vec![vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort",
        ]])
        .await;
        let mut c = WireConn::open(addr, T).await.unwrap();
        assert_eq!(
            c.send(GET, b"", false, (false, ALL)).await.err(),
            Some(ErrorKind::Io)
        );
        // Not HTTP.
        let (addr, _seen) = scripted(vec![vec![b"SSH-2.0-OpenSSH\r\n\r\n"]]).await;
        let mut c = WireConn::open(addr, T).await.unwrap();
        assert_eq!(
            c.send(GET, b"", false, (false, ALL)).await.err(),
            Some(ErrorKind::Io)
        );
        // A chunk without its CRLF.
        let (addr, _seen) = scripted(vec![vec![
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabXY0\r\n\r\n",
        ]])
        .await;
        let mut c = WireConn::open(addr, T).await.unwrap();
        assert_eq!(
            c.send(GET, b"", false, (false, ALL)).await.err(),
            Some(ErrorKind::Io)
        );
        // Bytes nobody asked for after an answer.
        let (addr, _seen) = scripted(vec![
            vec![b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n1HTTP/1.1 200 OK\r\n"],
            vec![],
        ])
        .await;
        let mut c = WireConn::open(addr, T).await.unwrap();
        let a = c.send(GET, b"", false, (false, ALL)).await.unwrap();
        assert_eq!(a.body, b"1");
        assert_eq!(
            c.send(GET, b"", false, (false, ALL)).await.err(),
            Some(ErrorKind::Io)
        );
    }

    #[tokio::test]
    async fn large_bodies_both_ways() {
        static BIG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let big: &'static [u8] = BIG.get_or_init(|| {
            let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
            let mut a =
                format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
            a.extend_from_slice(&body);
            a
        });
        let (addr, mut seen) = scripted(vec![vec![big]]).await;
        let mut c = WireConn::open(addr, T).await.unwrap();
        let sent: Vec<u8> = (0..100_000u32).map(|i| (i % 7) as u8).collect();
        let a = c.send(POST, &sent, true, (false, ALL)).await.unwrap();
        assert_eq!(a.body.len(), 300_000);
        assert!(a
            .body
            .iter()
            .enumerate()
            .all(|(i, &b)| b == (i % 251) as u8));
        let req = seen.recv().await.unwrap();
        assert!(req.ends_with(&sent));
        assert!(req.starts_with(b"POST /tx HTTP/1.1\r\nhost: t\r\ncontent-length: 100000\r\n\r\n"));
    }

    #[tokio::test]
    async fn a_huge_chunk_streams_through_a_small_buffer() {
        // 128 MiB declared, 8 MiB sent, then the close: the client used to read each chunk
        // whole, growing its buffer to the declared size before the first byte was handed on.
        static HUGE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let huge: &'static [u8] = HUGE.get_or_init(|| {
            let mut a =
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n8000000\r\n".to_vec();
            a.extend(std::iter::repeat_n(b'z', 8 << 20));
            a
        });
        let (addr, _seen) = scripted(vec![vec![huge]]).await;
        let mut c = WireConn::open(addr, T).await.unwrap();
        let keep = Keep {
            body: Some(1024),
            head: false,
        };
        // The stream ends inside the chunk: an error, not a short body.
        assert_eq!(
            c.send(GET, b"", false, (false, keep)).await.err(),
            Some(ErrorKind::Io)
        );
        assert_eq!(c.dechunked.len(), 1024);
        assert!(
            c.buf.len() <= 4 * READ_BUF,
            "buffer grew to {} bytes",
            c.buf.len()
        );
    }

    #[tokio::test]
    async fn bodies_not_asked_for_are_dropped_and_held_ones_cut_at_the_limit() {
        static LONG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let long: &'static [u8] = LONG.get_or_init(|| {
            let mut a = b"HTTP/1.1 200 OK\r\nx-id: 7\r\ncontent-length: 100000\r\n\r\n".to_vec();
            a.extend(std::iter::repeat_n(b'a', 100_000));
            a
        });
        let (addr, _seen) = scripted(vec![
            vec![long],
            vec![long],
            vec![b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"],
            vec![b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"],
            vec![b"HTTP/1.1 200 OK\r\n\r\nuntil the end"],
        ])
        .await;
        let mut c = WireConn::open(addr, T).await.unwrap();
        // Dropped as it streams: the buffer never grew to hold it.
        let a = c
            .send(
                GET,
                b"",
                false,
                (
                    false,
                    Keep::from(Needs {
                        body: None,
                        headers: false,
                    }),
                ),
            )
            .await
            .unwrap();
        assert_eq!(
            (a.status, a.body.len(), a.truncated, a.head.len()),
            (200, 0, true, 0)
        );
        assert!(c.buf.len() <= READ_BUF, "{}", c.buf.len());
        let keep = |n| Keep {
            body: Some(n),
            head: true,
        };
        let a = c.send(GET, b"", false, (false, keep(10))).await.unwrap();
        assert!(a.truncated && a.body.is_empty());
        assert!(a.head.starts_with(b"HTTP/1.1 200 OK\r\nx-id: 7\r\n"));
        let a = c.send(GET, b"", false, (false, keep(8))).await.unwrap();
        assert_eq!((a.body, a.truncated), (&b"hello wo"[..], true));
        let a = c.send(GET, b"", false, (false, keep(8))).await.unwrap();
        assert_eq!((a.body, a.truncated), (&b"ok"[..], false));
        let a = c.send(GET, b"", false, (false, keep(5))).await.unwrap();
        assert_eq!((a.body, a.truncated), (&b"until"[..], true));
    }
}
