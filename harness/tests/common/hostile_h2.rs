//! The HTTP/2 form of the hostile server's faults, for hyper's HTTP/2 client (prior knowledge
//! over plain TCP). Hand-made frames: a server preface, an ACK for the client's SETTINGS, and
//! per request the fault's HEADERS (HPACK literals, never indexed or Huffman-coded, so no
//! encoder state) and DATA. Flow control is honoured where a fault streams (the endless body
//! sends only what the client's windows allow), so a client that fails does so because of the
//! fault, not because the server broke a rule it did not mean to break.
//!
//! Faults of chunked encoding (a huge or malformed chunk size) have no HTTP/2 form.

use super::{hold, linger_zero, stream, Fault, Flow};
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DATA: u8 = 0;
const HEADERS: u8 = 1;
const SETTINGS: u8 = 4;
const PING: u8 = 6;
const WINDOW_UPDATE: u8 = 8;
const CONTINUATION: u8 = 9;
const END_STREAM: u8 = 1;
const END_HEADERS: u8 = 4;
const ACK: u8 = 1;
/// The largest frame payload a peer must accept (its default SETTINGS_MAX_FRAME_SIZE).
const MAX_FRAME: usize = 16_384;

impl Fault {
    /// Whether the fault has an HTTP/2 form (chunked encoding does not exist there).
    pub fn has_h2_form(self) -> bool {
        !matches!(self, Fault::HugeChunk | Fault::BadChunkSize)
    }
}

/// What the client's frames said so far: its streams' initial window and the connection's
/// window (both grow with its WINDOW_UPDATEs).
struct Windows {
    stream: Arc<AtomicI64>,
    conn: Arc<AtomicI64>,
}

/// One HTTP/2 connection whose preface is waiting in `r`.
pub fn serve(mut r: BufReader<TcpStream>, mut w: TcpStream, fault: Fault, until: Instant) {
    let mut preface = [0u8; 24];
    if r.read_exact(&mut preface).is_err() || w.write_all(&frame(SETTINGS, 0, 0, &[])).is_err() {
        return;
    }
    let win = Windows {
        stream: Arc::new(AtomicI64::new(65_535)),
        conn: Arc::new(AtomicI64::new(65_535)),
    };
    let mut n = 0;
    while Instant::now() < until {
        let Some(id) = next_request(&mut r, &mut w, &win) else {
            return;
        };
        match answer(fault, r, &mut w, id, n, until, &win) {
            (Flow::Next, Some(back)) => {
                r = back;
                n += 1;
            }
            _ => return,
        }
    }
}

/// Reads frames until a request's HEADERS, answering SETTINGS and PINGs and noting window
/// sizes on the way; the request's stream id, or `None` when the connection ended.
fn next_request(r: &mut impl Read, w: &mut impl Write, win: &Windows) -> Option<u32> {
    loop {
        let (kind, flags, id, payload) = read_frame(r)?;
        match kind {
            HEADERS => return Some(id),
            SETTINGS if flags & ACK == 0 => {
                for s in payload.chunks_exact(6) {
                    if s[..2] == [0, 4] {
                        let v = u32::from_be_bytes([s[2], s[3], s[4], s[5]]);
                        win.stream.store(i64::from(v), Ordering::SeqCst);
                    }
                }
                w.write_all(&frame(SETTINGS, ACK, 0, &[])).ok()?;
            }
            PING if flags & ACK == 0 => w.write_all(&frame(PING, ACK, 0, &payload)).ok()?,
            WINDOW_UPDATE if id == 0 => {
                let inc = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
                win.conn
                    .fetch_add(i64::from(inc & 0x7fff_ffff), Ordering::SeqCst);
            }
            _ => {}
        }
    }
}

/// The fault's answer on stream `id` (the `n`th request); gives the reader back when the
/// connection goes on.
fn answer(
    fault: Fault,
    r: BufReader<TcpStream>,
    w: &mut TcpStream,
    id: u32,
    n: u64,
    until: Instant,
    win: &Windows,
) -> (Flow, Option<BufReader<TcpStream>>) {
    let head = |len: usize| headers(id, &block("200", Some(len), None), false);
    let data = |bytes: &[u8], end: bool| frame(DATA, if end { END_STREAM } else { 0 }, id, bytes);
    let sent = match fault {
        Fault::None | Fault::TlsGarbage | Fault::HugeChunk | Fault::BadChunkSize => {
            let ok = [head(2), data(b"ok", true)].concat();
            return (write_then(w, &ok), Some(r));
        }
        Fault::ResetMidBody => {
            let _ = w.write_all(&[head(1000), data(&[b'x'; 500], false)].concat());
            std::thread::sleep(Duration::from_millis(20));
            linger_zero(w);
            return (Flow::End, None);
        }
        Fault::LongLengthClose => {
            let _ = w.write_all(&[head(1000), data(&[b'x'; 10], true)].concat());
            let _ = w.shutdown(Shutdown::Both);
            return (Flow::End, None);
        }
        Fault::LongLengthHang => w.write_all(&[head(1000), data(&[b'x'; 10], false)].concat()),
        Fault::ShortLength => {
            let long = [head(2), data(b"ok, and more than was declared", true)].concat();
            return (write_then(w, &long), Some(r));
        }
        Fault::EndlessChunked => {
            let endless = headers(id, &block("200", None, None), false);
            w.write_all(&endless)
                .map(|_| endless_body(r, w, id, until, win))
        }
        Fault::HugeHeader => {
            let big = block("200", Some(2), Some(("x-huge", 1 << 20)));
            let ok = [headers(id, &big, false), data(b"ok", true)].concat();
            return (write_then(w, &ok), Some(r));
        }
        Fault::InterimFlood => {
            let interim = headers(id, &block("100", None, None), false).repeat(256);
            stream(w, &interim, Duration::from_millis(1), until);
            Ok(())
        }
        Fault::Drip => w.write_all(&head(100)).map(|_| drip(w, id, until)),
        Fault::HalfCloseBeforeAnswer => w.shutdown(Shutdown::Write),
        Fault::HalfCloseMidAnswer => w
            .write_all(&[head(100), data(&[b'x'; 10], false)].concat())
            .and_then(|_| w.shutdown(Shutdown::Write)),
        Fault::GarbageStatus => {
            let status = ["2000", "abc", "20"][(n % 3) as usize];
            let bad = [
                headers(id, &block(status, Some(2), None), false),
                data(b"ok", true),
            ];
            return (write_then(w, &bad.concat()), Some(r));
        }
        // The HTTP/1.1 answer written at accept already broke the connection.
        Fault::AnswerFirst => Ok(()),
    };
    if sent.is_ok() {
        hold(w, until);
    }
    (Flow::End, None)
}

/// Writes `bytes`; the connection goes on unless the write failed.
fn write_then(w: &mut TcpStream, bytes: &[u8]) -> Flow {
    match w.write_all(bytes) {
        Ok(()) => Flow::Next,
        Err(_) => Flow::End,
    }
}

/// DATA frames of one byte, one a second, on stream `id`.
fn drip(w: &mut TcpStream, id: u32, until: Instant) {
    stream(w, &frame(DATA, 0, id, b"d"), Duration::from_secs(1), until);
}

/// 1 KiB DATA frames on stream `id` without end, as fast as the client's windows allow (a
/// thread reads its WINDOW_UPDATEs meanwhile); until the client leaves or `until`.
fn endless_body(
    r: BufReader<TcpStream>,
    w: &mut TcpStream,
    id: u32,
    until: Instant,
    win: &Windows,
) {
    let stream_win = Arc::new(AtomicI64::new(win.stream.load(Ordering::SeqCst)));
    let (s, c) = (Arc::clone(&stream_win), Arc::clone(&win.conn));
    std::thread::spawn(move || {
        let mut r = r;
        while let Some((kind, _, on, p)) = read_frame(&mut r) {
            if kind == WINDOW_UPDATE && p.len() == 4 {
                let inc = i64::from(u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & 0x7fff_ffff);
                let to = if on == 0 { &c } else { &s };
                to.fetch_add(inc, Ordering::SeqCst);
            }
        }
    });
    let piece = frame(DATA, 0, id, &[b'c'; 1024]);
    let mut sent = 0u64;
    while Instant::now() < until && sent < super::STREAM_CAP {
        if stream_win.load(Ordering::SeqCst) < 1024 || win.conn.load(Ordering::SeqCst) < 1024 {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        if w.write_all(&piece).is_err() {
            return;
        }
        stream_win.fetch_sub(1024, Ordering::SeqCst);
        win.conn.fetch_sub(1024, Ordering::SeqCst);
        sent += 1024;
    }
}

/// Reads one frame: type, flags, stream id, payload; `None` at the end of the connection.
fn read_frame(r: &mut impl Read) -> Option<(u8, u8, u32, Vec<u8>)> {
    let mut h = [0u8; 9];
    r.read_exact(&mut h).ok()?;
    let len = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
    let id = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload).ok()?;
    Some((h[3], h[4], id, payload))
}

fn frame(kind: u8, flags: u8, id: u32, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_be_bytes();
    let mut f = vec![len[1], len[2], len[3], kind, flags];
    f.extend_from_slice(&id.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A header block as HEADERS and CONTINUATION frames of at most [`MAX_FRAME`] bytes.
fn headers(id: u32, block: &[u8], end_stream: bool) -> Vec<u8> {
    let pieces: Vec<&[u8]> = block.chunks(MAX_FRAME).collect();
    let mut out = Vec::new();
    for (i, p) in pieces.iter().enumerate() {
        let kind = if i == 0 { HEADERS } else { CONTINUATION };
        let mut flags = if i + 1 == pieces.len() {
            END_HEADERS
        } else {
            0
        };
        if i == 0 && end_stream {
            flags |= END_STREAM;
        }
        out.extend(frame(kind, flags, id, p));
    }
    out
}

/// An HPACK block: `:status` (name index 8), `content-length` (name index 28) when given, and
/// a header `name` whose value is `size` bytes long when given; literals without indexing.
fn block(status: &str, length: Option<usize>, extra: Option<(&str, usize)>) -> Vec<u8> {
    let mut b = Vec::new();
    literal(&mut b, 8, status.as_bytes());
    if let Some(len) = length {
        literal(&mut b, 28, len.to_string().as_bytes());
    }
    if let Some((name, size)) = extra {
        b.push(0);
        integer(&mut b, 7, 0, name.len());
        b.extend_from_slice(name.as_bytes());
        integer(&mut b, 7, 0, size);
        b.resize(b.len() + size, b'a');
    }
    b
}

/// A literal header field without indexing, its name from static table entry `index`.
fn literal(b: &mut Vec<u8>, index: usize, value: &[u8]) {
    integer(b, 4, 0, index);
    integer(b, 7, 0, value.len());
    b.extend_from_slice(value);
}

/// RFC 7541 5.1: `v` with an N-bit prefix, the first byte's other bits `first`.
fn integer(b: &mut Vec<u8>, bits: u32, first: u8, mut v: usize) {
    let max = (1usize << bits) - 1;
    if v < max {
        b.push(first | v as u8);
        return;
    }
    b.push(first | max as u8);
    v -= max;
    while v >= 128 {
        b.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    b.push(v as u8);
}
