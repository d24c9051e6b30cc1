//! A hostile HTTP server on 127.0.0.1 for tests/hostile.rs: one [`Fault`] per server, applied
//! to every request it gets (the harness's control probe too), so each client we ship can be
//! run against each way a server can break the protocol.
//!
//! Why hand-written, on plain threads: each fault is a precise byte sequence (a reset after
//! half a body, a chunk size that does not parse, an answer written before the request) that
//! a real server library would refuse to produce. HTTP/1.1 clients get the fault as HTTP/1.1
//! bytes; a connection that opens with the HTTP/2 preface gets its HTTP/2 form
//! ([`h2`], where the fault has one).
//!
//! Bounded: every connection thread gives up 10 s after its accept, reads and writes time out
//! after 5 s, every stream of bytes is capped in size, and the accept loop ends when the
//! [`Server`] is dropped or after 120 s.

#[path = "hostile_h2.rs"]
mod h2;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a connection may live, counted from its accept.
const CONN_LIFE: Duration = Duration::from_secs(10);
/// The most bytes an endless answer writes on one connection.
const STREAM_CAP: u64 = 1 << 30;

/// One way to break HTTP. The comments say what the server writes after reading a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Well-behaved: `200` with a 2-byte body, kept alive (the baseline of time and memory).
    None,
    /// `content-length: 1000`, 500 bytes of it, then a TCP reset (SO_LINGER 0, close).
    ResetMidBody,
    /// `content-length: 1000`, 10 bytes of it, then close.
    LongLengthClose,
    /// `content-length: 1000`, 10 bytes of it, then nothing (the connection held open).
    LongLengthHang,
    /// `content-length: 2`, "ok", then a whole `503` answer nobody asked for, on a kept-alive
    /// connection.
    ShortLength,
    /// A chunked body of 1 KiB chunks that never ends.
    EndlessChunked,
    /// One chunk declared 1 GiB long, streamed at about 50 MB/s.
    HugeChunk,
    /// A chunked body whose chunk size is not a size: `zz`, `-5`, or 21 hex digits (past
    /// u64), in turn; then nothing.
    BadChunkSize,
    /// An answer head with one 1 MiB header line.
    HugeHeader,
    /// `100 Continue` answers without end (256 per millisecond).
    InterimFlood,
    /// `content-length: 100`, one byte per second.
    Drip,
    /// Shuts its write side down after reading the request, without answering.
    HalfCloseBeforeAnswer,
    /// `content-length: 100`, 10 bytes of it, then shuts its write side down.
    HalfCloseMidAnswer,
    /// A status line that is not one (`HTTP/1.1 2000 OK`, `HTTP/1.1 abc Nope`, `HTPT/1.1 200
    /// OK`, control bytes), in turn, with a well-formed rest.
    GarbageStatus,
    /// A `200` written right at accept, before any request; after the request, close (FIN).
    AnswerFirst,
    /// On an https URL: answers the TLS ClientHello with an HTTP/1.1 `400` (a plain HTTP
    /// server on the TLS port), then holds the connection.
    TlsGarbage,
}

impl Fault {
    /// Short names, for scenario names and the README's table.
    pub fn name(self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::ResetMidBody => "reset-mid-body",
            Fault::LongLengthClose => "long-length-close",
            Fault::LongLengthHang => "long-length-hang",
            Fault::ShortLength => "short-length",
            Fault::EndlessChunked => "endless-chunked",
            Fault::HugeChunk => "huge-chunk",
            Fault::BadChunkSize => "bad-chunk-size",
            Fault::HugeHeader => "huge-header",
            Fault::InterimFlood => "interim-flood",
            Fault::Drip => "drip",
            Fault::HalfCloseBeforeAnswer => "half-close-before",
            Fault::HalfCloseMidAnswer => "half-close-mid",
            Fault::GarbageStatus => "garbage-status",
            Fault::AnswerFirst => "answer-first",
            Fault::TlsGarbage => "tls-garbage",
        }
    }
}

/// A running server; dropping it stops accepting.
pub struct Server {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Starts a server with `fault` on 127.0.0.1, port 0.
pub fn start(fault: Fault) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let st = Arc::clone(&stop);
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(120);
        let mut n = 0;
        while !st.load(Ordering::SeqCst) && Instant::now() < until {
            match listener.accept() {
                Ok((conn, _)) => {
                    std::thread::spawn(move || serve(conn, fault, n));
                    n += 1;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    });
    Server { addr, stop }
}

/// What a connection does after an answer.
enum Flow {
    /// Read the next request.
    Next,
    /// The connection is over (closed, reset or held until the client left).
    End,
}

/// One connection, `i`th accepted: the fault in HTTP/1.1 or HTTP/2 form.
fn serve(conn: TcpStream, fault: Fault, i: u64) {
    let until = Instant::now() + CONN_LIFE;
    conn.set_nonblocking(false).unwrap();
    conn.set_nodelay(true).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    conn.set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut w = conn.try_clone().unwrap();
    if fault == Fault::TlsGarbage {
        return tls_garbage(conn, until);
    }
    if fault == Fault::AnswerFirst && w.write_all(OK).is_err() {
        return;
    }
    let mut r = BufReader::new(conn);
    let h2 = matches!(r.fill_buf(), Ok(b) if b.starts_with(b"PRI * HTTP/2.0"));
    if h2 {
        return h2::serve(r, w, fault, until);
    }
    let mut line = String::new();
    let mut n = i;
    while Instant::now() < until && crate::common::read_get_head(&mut r, &mut line) {
        match answer(fault, &mut w, n, until) {
            Flow::Next => n += 1,
            Flow::End => return,
        }
    }
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/// Writes the fault's answer to the `n`th request (of this server, counting from the
/// connection's accept index, so faults that rotate do so across connections too).
fn answer(fault: Fault, w: &mut TcpStream, n: u64, until: Instant) -> Flow {
    let head = |len: usize| format!("HTTP/1.1 200 OK\r\ncontent-length: {len}\r\n\r\n");
    let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    let sent = match fault {
        Fault::None | Fault::TlsGarbage => return write_then(w, OK, Flow::Next),
        Fault::ResetMidBody => {
            let _ = w.write_all(&[head(1000).as_bytes(), &[b'x'; 500]].concat());
            std::thread::sleep(Duration::from_millis(20));
            // Both handles close when the connection ends: with linger 0, that is the RST.
            linger_zero(w);
            return Flow::End;
        }
        Fault::LongLengthClose => {
            let _ = w.write_all(&[head(1000).as_bytes(), &[b'x'; 10]].concat());
            let _ = w.shutdown(Shutdown::Both);
            return Flow::End;
        }
        Fault::LongLengthHang => w.write_all(&[head(1000).as_bytes(), &[b'x'; 10]].concat()),
        Fault::ShortLength => {
            let extra = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n";
            return write_then(w, &[OK, extra].concat(), Flow::Next);
        }
        Fault::EndlessChunked => {
            let chunk = [b"400\r\n", &[b'c'; 1024][..], b"\r\n"].concat();
            w.write_all(chunked)
                .map(|_| stream(w, &chunk.repeat(64), Duration::ZERO, until))
        }
        Fault::HugeChunk => w
            .write_all(&[&chunked[..], b"40000000\r\n"].concat())
            .map(|_| stream(w, &[b'h'; 256 * 1024], Duration::from_millis(5), until)),
        Fault::BadChunkSize => {
            let sizes: [&[u8]; 3] = [b"zz\r\n", b"-5\r\nhello\r\n", b"100000000000000000000\r\n"];
            w.write_all(&[&chunked[..], sizes[(n % 3) as usize]].concat())
        }
        Fault::HugeHeader => {
            let big = [
                b"HTTP/1.1 200 OK\r\nx-huge: ",
                &[b'a'; 1 << 20][..],
                b"\r\n",
            ]
            .concat();
            return write_then(
                w,
                &[&big[..], b"content-length: 2\r\n\r\nok"].concat(),
                Flow::Next,
            );
        }
        Fault::InterimFlood => {
            let interim = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(256);
            stream(w, &interim, Duration::from_millis(1), until);
            Ok(())
        }
        Fault::Drip => w
            .write_all(head(100).as_bytes())
            .map(|_| stream(w, b"d", Duration::from_secs(1), until)),
        Fault::HalfCloseBeforeAnswer => w.shutdown(Shutdown::Write),
        Fault::HalfCloseMidAnswer => w
            .write_all(&[head(100).as_bytes(), &[b'x'; 10]].concat())
            .and_then(|_| w.shutdown(Shutdown::Write)),
        Fault::GarbageStatus => {
            let lines: [&[u8]; 4] = [
                b"HTTP/1.1 2000 OK\r\n",
                b"HTTP/1.1 abc Nope\r\n",
                b"HTPT/1.1 200 OK\r\n",
                b"\x00\x01\x7f\x1b garbage\r\n",
            ];
            let rest = b"content-length: 2\r\n\r\nok";
            return write_then(w, &[lines[(n % 4) as usize], rest].concat(), Flow::Next);
        }
        Fault::AnswerFirst => {
            // Answered at accept; now close without a word.
            let _ = w.shutdown(Shutdown::Both);
            return Flow::End;
        }
    };
    if sent.is_ok() {
        hold(w, until);
    }
    Flow::End
}

/// Writes `bytes`, then `flow` (or the end when the write failed).
fn write_then(w: &mut TcpStream, bytes: &[u8], flow: Flow) -> Flow {
    match w.write_all(bytes) {
        Ok(()) => flow,
        Err(_) => Flow::End,
    }
}

/// Writes `piece` over and over, pausing `every` between writes, until a write fails (the
/// client left), `until`, or [`STREAM_CAP`] bytes.
pub fn stream(w: &mut impl Write, piece: &[u8], every: Duration, until: Instant) {
    let mut sent = 0u64;
    while Instant::now() < until && sent < STREAM_CAP {
        if w.write_all(piece).is_err() {
            return;
        }
        sent += piece.len() as u64;
        std::thread::sleep(every);
    }
}

/// Keeps the connection open, reading and dropping whatever comes, until the client closes
/// it or `until`: the server says nothing more, and lets the client decide when to give up.
pub fn hold(conn: &mut TcpStream, until: Instant) {
    let _ = conn.set_read_timeout(Some(Duration::from_millis(100)));
    let mut sink = [0u8; 16 * 1024];
    while Instant::now() < until {
        match conn.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return,
        }
    }
}

/// Makes the connection end with a TCP reset when its last handle closes: SO_LINGER on with
/// a zero timeout.
pub fn linger_zero(conn: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized `linger` value.
    let rc = unsafe {
        libc::setsockopt(
            conn.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt SO_LINGER");
}

/// Reads the ClientHello (whatever arrives first), answers it as a plain HTTP server would,
/// then holds the connection.
fn tls_garbage(mut conn: TcpStream, until: Instant) {
    let mut hello = [0u8; 4096];
    if conn.read(&mut hello).is_ok()
        && conn
            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            .is_ok()
    {
        hold(&mut conn, until);
    }
}
