//! HTTP/1.1 answer framing without I/O: the head parser and the chunked-body decoder the
//! builtin client ([`super::wire`]) drives with the bytes it reads.
//!
//! Why apart from the socket: a decoder that only sees byte slices can be fuzzed (fuzz/, target
//! `http_response`) and tested on every split of its input without a server. And the chunk
//! decoder hands out data as it arrives, whatever a chunk's declared size: the client it
//! replaces read each chunk whole into its buffer (up to 256 MiB per connection), so a server
//! declaring one huge chunk grew the harness's memory with every byte it sent.

use crate::load::worker::ErrorKind;

/// Header slots for parsing an answer head.
const MAX_HEADERS: usize = 64;
/// The longest chunk-size line (size, extensions, CRLF) or trailer line accepted. Real servers
/// send a few bytes; the bound keeps a line without end from growing the read buffer.
pub const MAX_LINE: usize = 8 * 1024;
/// The most trailer bytes accepted after the last chunk (as much as a head).
pub const MAX_TRAILERS: usize = 64 * 1024;

/// How the answer's body is delimited.
pub enum Framing {
    None,
    Length(usize),
    Chunked,
    Close,
}

/// What the head of an answer said.
pub struct Head {
    /// Bytes of the head, blank line included.
    pub len: usize,
    pub status: u16,
    pub framing: Framing,
    /// The server keeps the connection open after this answer.
    pub keep_alive: bool,
}

/// Parses an answer head at the front of `bytes`: `None` while it is incomplete.
pub fn parse_head(bytes: &[u8]) -> Result<Option<Head>, ErrorKind> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut slots);
    let len = match resp.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(ErrorKind::Io),
    };
    let status = resp.code.ok_or(ErrorKind::Io)?;
    let http10 = resp.version == Some(0);
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut encoded = false;
    let mut close = false;
    let mut keep_alive = false;
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = parse_length(h.value).ok_or(ErrorKind::Io)?;
            // Repeated lengths must agree (RFC 9112 6.3).
            if length.is_some_and(|l| l != n) {
                return Err(ErrorKind::Io);
            }
            length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            encoded = true;
            // Chunked must be the final coding; anything else is framed by the close.
            chunked = h
                .value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        }
    }
    // Transfer-Encoding overrides Content-Length (RFC 9112 6.3, rule 3).
    let framing = match (encoded, chunked, length) {
        (true, true, _) => Framing::Chunked,
        (true, false, _) => Framing::Close,
        (false, _, Some(n)) => Framing::Length(n),
        (false, _, None) => Framing::Close,
    };
    Ok(Some(Head {
        len,
        status,
        framing,
        keep_alive: !close && (!http10 || keep_alive),
    }))
}

fn parse_length(v: &[u8]) -> Option<usize> {
    let v = v.trim_ascii();
    if v.is_empty() || v.len() > 18 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        v.iter()
            .fold(0usize, |n, &d| n * 10 + usize::from(d - b'0')),
    )
}

/// What [`ChunkDecoder::next`] found in its input.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Body bytes (part of a chunk: as many as the input held).
    Data(&'a [u8]),
    /// The input ends inside framing: call again with the unconsumed bytes and more.
    More,
    /// The body and its trailers are complete.
    Done,
}

/// Where the decoder is in a chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before a chunk-size line.
    Size,
    /// Inside a chunk's data: this many bytes to go.
    Data(u64),
    /// After a chunk's data, before its CRLF.
    DataEnd,
    /// After the last chunk: trailer lines, then the blank line.
    Trailers,
    Done,
}

/// Decodes a `transfer-encoding: chunked` body (RFC 9112 7.1) from byte slices, streaming:
/// it never needs more than one framing line buffered, so the caller's buffer stays small
/// however large a chunk is declared.
#[derive(Debug)]
pub struct ChunkDecoder {
    state: State,
    /// Trailer bytes seen so far (bounded by [`MAX_TRAILERS`]).
    trailers: usize,
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkDecoder {
    pub fn new() -> ChunkDecoder {
        ChunkDecoder {
            state: State::Size,
            trailers: 0,
        }
    }

    /// Decodes from the front of `input`: says how many of its bytes were used and what they
    /// gave. Bytes not used must be passed again (with more after them) on the next call.
    /// Malformed framing, an over-long line or too many trailer bytes is an `io` error.
    pub fn next<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Chunk<'a>), ErrorKind> {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            match self.state {
                State::Done => return Ok((used, Chunk::Done)),
                State::Data(left) => {
                    if rest.is_empty() {
                        return Ok((used, Chunk::More));
                    }
                    let n = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                    return Ok((used + n, Chunk::Data(&rest[..n])));
                }
                State::Size => match self.size(rest)? {
                    Some(n) => used += n,
                    None => return Ok((used, Chunk::More)),
                },
                State::DataEnd => match rest.get(..2) {
                    None if rest.first().is_none_or(|&b| b == b'\r') => {
                        return Ok((used, Chunk::More))
                    }
                    Some(b"\r\n") => {
                        used += 2;
                        self.state = State::Size;
                    }
                    _ => return Err(ErrorKind::Io),
                },
                State::Trailers => match self.trailer(rest)? {
                    Some(n) => used += n,
                    None => return Ok((used, Chunk::More)),
                },
            }
        }
    }

    /// A chunk-size line at the front of `rest`: its length once whole (`None` before).
    fn size(&mut self, rest: &[u8]) -> Result<Option<usize>, ErrorKind> {
        match httparse::parse_chunk_size(rest) {
            Ok(httparse::Status::Complete((n, 0))) => {
                self.state = State::Trailers;
                Ok(Some(n))
            }
            Ok(httparse::Status::Complete((n, size))) => {
                self.state = State::Data(size);
                Ok(Some(n))
            }
            Ok(httparse::Status::Partial) if rest.len() < MAX_LINE => Ok(None),
            Ok(httparse::Status::Partial) | Err(_) => Err(ErrorKind::Io),
        }
    }

    /// A trailer line (or the closing blank line) at the front of `rest`: its length once
    /// whole (`None` before). Trailer fields are skipped, not read.
    fn trailer(&mut self, rest: &[u8]) -> Result<Option<usize>, ErrorKind> {
        let Some(end) = memchr::memmem::find(rest, b"\r\n") else {
            return if rest.len() < MAX_LINE {
                Ok(None)
            } else {
                Err(ErrorKind::Io)
            };
        };
        if end == 0 {
            self.state = State::Done;
        } else {
            self.trailers += end + 2;
            if self.trailers > MAX_TRAILERS {
                return Err(ErrorKind::Io);
            }
        }
        Ok(Some(end + 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(s: &str) -> Head {
        parse_head(s.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn heads_give_status_framing_and_keep_alive() {
        let h = head("HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\nrest");
        assert_eq!((h.len, h.status, h.keep_alive), (39, 200, true));
        assert!(matches!(h.framing, Framing::Length(12)));
        let h = head(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n",
        );
        assert!(matches!(h.framing, Framing::Chunked));
        let h = head("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n");
        assert!(matches!(h.framing, Framing::Close));
        let h = head("HTTP/1.1 503 Busy\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n");
        assert_eq!((h.status, h.keep_alive), (503, false));
        let h = head("HTTP/1.0 200 OK\r\n\r\n");
        assert!(!h.keep_alive);
        assert!(matches!(h.framing, Framing::Close));
        let h = head("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n");
        assert!(h.keep_alive);
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-le")
            .unwrap()
            .is_none());
        for bad in [
            "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999\r\n\r\n",
            "HTTX/1.1 200 OK\r\n\r\n",
        ] {
            assert!(parse_head(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    /// Decodes `input` fed in pieces of `step` bytes (the last piece whatever is left), as a
    /// socket would bring it: the body, and whether it ended.
    fn decode_in_steps(input: &[u8], step: usize) -> Result<(Vec<u8>, bool), ErrorKind> {
        let mut d = ChunkDecoder::new();
        let (mut body, mut pending, mut fed) = (Vec::new(), Vec::new(), 0);
        loop {
            let (used, chunk) = d.next(&pending)?;
            match chunk {
                Chunk::Data(b) => body.extend_from_slice(b),
                Chunk::Done => return Ok((body, true)),
                Chunk::More if fed == input.len() => return Ok((body, false)),
                Chunk::More => {
                    let end = (fed + step).min(input.len());
                    pending.drain(..used);
                    pending.extend_from_slice(&input[fed..end]);
                    fed = end;
                    continue;
                }
            }
            pending.drain(..used);
        }
    }

    #[test]
    fn chunked_bodies_decode_alike_whatever_the_reads() {
        let body = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: 1\r\n\r\n";
        for step in [1, 2, 3, 7, body.len()] {
            assert_eq!(
                decode_in_steps(body, step).unwrap(),
                (b"hello world".to_vec(), true),
                "step {step}"
            );
        }
        // Cut short: no end, nothing invented.
        assert_eq!(
            decode_in_steps(&body[..12], 4).unwrap(),
            (b"hel".to_vec(), false)
        );
    }

    #[test]
    fn a_huge_declared_chunk_streams_without_buffering() {
        // 1 GiB declared; the decoder hands out what arrives and asks for no more than that.
        let mut d = ChunkDecoder::new();
        let (used, c) = d.next(b"40000000\r\nabc").unwrap();
        assert_eq!((used, c), (13, Chunk::Data(b"abc")));
        assert_eq!(d.next(b"").unwrap(), (0, Chunk::More));
        assert_eq!(d.next(b"de").unwrap(), (2, Chunk::Data(b"de")));
    }

    #[test]
    fn malformed_framing_is_an_error() {
        for bad in [
            &b"zz\r\n"[..],
            b"2\r\nabXY0\r\n\r\n",
            b"ffffffffffffffffff\r\n",
            &[b'1'; MAX_LINE][..],
        ] {
            assert_eq!(decode_in_steps(bad, 3), Err(ErrorKind::Io), "{bad:?}");
        }
        // Trailer lines without end.
        let mut trailers = b"0\r\n".to_vec();
        trailers.extend(std::iter::repeat_n(&b"x: y\r\n"[..], MAX_TRAILERS / 6 + 1).flatten());
        assert_eq!(decode_in_steps(&trailers, 100), Err(ErrorKind::Io));
    }
}
