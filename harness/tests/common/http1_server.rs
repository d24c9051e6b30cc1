//! A small hand-written HTTP/1.1 server on 127.0.0.1 for the connection-mode and pipelining
//! tests: it counts what a real server would not tell us (connections accepted, requests that
//! arrived together before the first was answered, `connection: close` headers) and can
//! misbehave on purpose (close a connection after answering k requests).
//!
//! Answers, by path: `/ok` 200 with a content-length body; `/teapot` 418 with a chunked body
//! (two framings, so a client that matched answers to the wrong requests, or misread where
//! one ends, shows as status errors); anything else (the harness's `/api/v11/info` probe)
//! 404 with a short text body. Every answer to a connection's batch of requests leaves in one write, as hyper's
//! `pipeline_flush` does. Bounded: each connection thread gives up after 5 s without a byte,
//! and the accept loop ends when the [`Server`] is dropped or after 120 s.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the server behaves.
#[derive(Clone, Copy, Debug, Default)]
pub struct Behaviour {
    /// Close each connection after answering this many requests on it (the rest unanswered).
    pub close_after: Option<u64>,
    /// With `close_after`: the last answer says `connection: close` (otherwise the server
    /// just closes after it).
    pub close_header: bool,
    /// Hold each batch of answers this long before writing it (a slow target).
    pub delay: Duration,
    /// Hold a batch with a `/teapot` request in it this much longer (a slow endpoint beside a
    /// fast one).
    pub teapot_delay: Duration,
}

/// What the server saw. Only connections whose first request is `/ok` or `/teapot` (the
/// load) are counted, not the harness's control requests.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub requests: AtomicU64,
    pub answered: AtomicU64,
    /// Requests that said `connection: close`.
    pub close_requests: AtomicU64,
    /// Most requests that had arrived on a connection when its first answer was written.
    pub max_before_first_answer: AtomicU64,
    /// Most requests a connection had waiting unanswered at any time.
    pub max_pending: AtomicU64,
}

impl Stats {
    pub fn get(&self, field: &AtomicU64) -> u64 {
        field.load(Ordering::SeqCst)
    }
}

/// A running server; dropping it stops accepting.
pub struct Server {
    pub url: String,
    pub stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Starts a server on 127.0.0.1, port 0.
pub fn start(behaviour: Behaviour) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let (s, st) = (Arc::clone(&stats), Arc::clone(&stop));
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(120);
        while !st.load(Ordering::SeqCst) && Instant::now() < until {
            match listener.accept() {
                Ok((conn, _)) => {
                    let s = Arc::clone(&s);
                    std::thread::spawn(move || serve(conn, behaviour, &s));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    });
    Server {
        url: format!("http://{addr}"),
        stats,
        stop,
    }
}

/// One request's path and whether it said `connection: close`.
struct Request {
    path: String,
    close: bool,
}

fn serve(mut conn: TcpStream, b: Behaviour, stats: &Stats) {
    conn.set_nonblocking(false).unwrap();
    conn.set_nodelay(true).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (mut buf, mut chunk) = (Vec::new(), [0u8; 64 * 1024]);
    let (mut load, mut first, mut answered) = (None, true, 0u64);
    loop {
        let n = match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        let pending = take_requests(&mut buf);
        if pending.is_empty() {
            continue;
        }
        let counted = *load.get_or_insert_with(|| {
            let is_load = pending[0].path == "/ok" || pending[0].path == "/teapot";
            if is_load {
                stats.connections.fetch_add(1, Ordering::SeqCst);
            }
            is_load
        });
        let n = pending.len() as u64;
        if counted {
            stats.requests.fetch_add(n, Ordering::SeqCst);
            let closes = pending.iter().filter(|r| r.close).count() as u64;
            stats.close_requests.fetch_add(closes, Ordering::SeqCst);
            stats.max_pending.fetch_max(n, Ordering::SeqCst);
            if first {
                stats.max_before_first_answer.fetch_max(n, Ordering::SeqCst);
            }
        }
        first = false;
        let teapot = pending.iter().any(|r| r.path == "/teapot");
        std::thread::sleep(
            b.delay
                + if teapot {
                    b.teapot_delay
                } else {
                    Duration::ZERO
                },
        );
        let mut out = Vec::new();
        for r in &pending {
            answered += 1;
            let closing = b.close_after == Some(answered);
            out.extend_from_slice(&answer(&r.path, (closing && b.close_header) || r.close));
            if counted {
                stats.answered.fetch_add(1, Ordering::SeqCst);
            }
            if closing || r.close {
                let _ = conn.write_all(&out);
                close(conn);
                return;
            }
        }
        if conn.write_all(&out).is_err() {
            return;
        }
    }
}

/// Ends a connection the way a server does after its last answer: FIN first, then whatever
/// the client still sends is read and dropped (closing with unread bytes would send a reset,
/// which can destroy answers the client has not read yet).
fn close(mut conn: TcpStream) {
    let _ = conn.shutdown(Shutdown::Write);
    let mut sink = [0u8; 16 * 1024];
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        match conn.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Removes every complete request (bodiless, as the tests send) from the front of `buf`.
fn take_requests(buf: &mut Vec<u8>) -> Vec<Request> {
    let mut out = Vec::new();
    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let path = head.split(' ').nth(1).unwrap_or("").to_string();
        let close = head
            .lines()
            .any(|l| l.starts_with("connection:") && l.contains("close"));
        out.push(Request { path, close });
        buf.drain(..end + 4);
    }
    out
}

fn answer(path: &str, close: bool) -> Vec<u8> {
    let close = if close { "connection: close\r\n" } else { "" };
    match path {
        "/ok" => format!("HTTP/1.1 200 OK\r\n{close}content-length: 2\r\n\r\nok").into_bytes(),
        "/teapot" => format!(
            "HTTP/1.1 418 I'm a teapot\r\n{close}transfer-encoding: chunked\r\n\r\n4\r\nI'm \r\n8\r\na teapot\r\n0\r\n\r\n"
        )
        .into_bytes(),
        _ => format!("HTTP/1.1 404 Not Found\r\n{close}content-length: 13\r\n\r\nno such path\n")
            .into_bytes(),
    }
}
