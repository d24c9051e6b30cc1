//! What each fuzz target does, in one place: `fuzz/fuzz_targets/<name>.rs` (cargo fuzz,
//! nightly) is one line calling the function of that name here, and the stable test
//! `tests/fuzz_corpora.rs` replays every file of `fuzz/corpus/<name>/` and
//! `fuzz/regressions/<name>/` through the same function, so CI checks the corpora without a
//! fuzzer. [`TARGETS`] is the one list both sides read.
//!
//! Each function takes any bytes. Errors from the code under test are fine (the input is
//! garbage most of the time); a panic is a finding, and the only panics written here are
//! asserts of real invariants: a round trip (decode, encode, decode gives the same value), or a
//! decoder giving the same answer whether its input arrives whole or in pieces. See
//! `fuzz/README.md` for what each target covers and what the runs found.

use crate::analysis::compare::Baseline;
use crate::drivers::http_native::h1::{self, Chunk, ChunkDecoder, Framing};
use crate::load::worker::ErrorKind;
use engine::tx::{decode_batch, decode_batch_into, encode_batch, Transfer, RECORD_SIZE};
use std::path::Path;

/// What a fuzz target runs on one input.
pub type FuzzFn = fn(&[u8]);

/// Every fuzz target: its name (`fuzz/fuzz_targets/<name>.rs`, `fuzz/corpus/<name>/`) and the
/// function it runs.
pub const TARGETS: &[(&str, FuzzFn)] = &[
    ("scenario", scenario),
    ("units", units),
    ("engine_batch", engine_batch),
    ("engine_json", engine_json),
    ("http_response", http_response),
    ("results_json", results_json),
    ("baselines", baselines),
    ("hlog", hlog),
];

/// A scenario file through the loader `harness run` and `harness validate` use (TOML, then
/// validation into a `Plan`). Invalid UTF-8 is replaced, as the loader would refuse it first.
/// Invariant: an error's line points into the file.
pub fn scenario(data: &[u8]) {
    let src = String::from_utf8_lossy(data);
    let Err(e) = scenario::parse(&src, Path::new("fuzz.toml")) else {
        return;
    };
    // Rendering the message is part of the error path a user sees.
    let _ = e.to_string();
    if let Some(line) = e.line {
        // One past the last line: an error at the end of a file ending in a newline.
        let lines = src.lines().count() + 1;
        assert!((1..=lines).contains(&line), "line {line} of {lines}: {e}");
    }
}

/// The unit parsers of scenario values and flags (scenario::units) and the engine's
/// `--max-body`-style size flag. Invariants: a parsed duration formatted back parses to the
/// same duration; rates and percentages are finite and not negative, as documented.
pub fn units(data: &[u8]) {
    use scenario::units::{format_duration, parse_duration, parse_percent, parse_rate, parse_size};
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = parse_duration(s) {
        let text = format_duration(d);
        assert_eq!(parse_duration(&text), Ok(d), "{s:?} formatted as {text:?}");
    }
    for v in [parse_rate(s), parse_percent(s)].into_iter().flatten() {
        assert!(v.is_finite() && v >= 0.0, "{s:?} parsed as {v}");
    }
    let _ = parse_size(s);
    let _ = engine::server::parse_size(s);
}

/// The engine's binary batch decoder (`POST /api/v11/transactions`, octet-stream).
/// Invariants: a whole number of records decodes, and encodes back to the same bytes; the
/// `_into` form gives the same transfers into a used vector; anything else is refused.
pub fn engine_batch(data: &[u8]) {
    let decoded = decode_batch(data);
    if !data.len().is_multiple_of(RECORD_SIZE) {
        assert!(decoded.is_err(), "{} bytes decoded", data.len());
        return;
    }
    let txs = decoded.expect("a whole number of records decodes");
    assert_eq!(txs.len(), data.len() / RECORD_SIZE);
    let mut bytes = Vec::new();
    encode_batch(&txs, &mut bytes);
    assert_eq!(bytes, data, "encode(decode(x)) != x");
    let mut reused = vec![Transfer::default(); 3];
    decode_batch_into(data, &mut reused).expect("decoded once already");
    assert_eq!(reused, txs, "decode_batch_into kept stale transfers");
}

/// The engine server's JSON transactions decoder (one object or an array). Invariant: what
/// decodes, written back as JSON in the same shape, decodes to the same transfers.
pub fn engine_json(data: &[u8]) {
    let Ok((txs, single)) = engine::server::decode_json_transfers(data) else {
        return;
    };
    assert!(
        !single || txs.len() == 1,
        "a single object gave {} transfers",
        txs.len()
    );
    let objects: Vec<String> = txs
        .iter()
        .map(|t| {
            format!(
                r#"{{"from":{},"to":{},"amount":{},"nonce":{}}}"#,
                t.from, t.to, t.amount, t.nonce
            )
        })
        .collect();
    let text = if single {
        objects[0].clone()
    } else {
        format!("[{}]", objects.join(","))
    };
    let again = engine::server::decode_json_transfers(text.as_bytes()).expect("re-encoded JSON");
    assert_eq!(
        again,
        (txs, single),
        "decode(encode(decode(x))) != decode(x)"
    );
}

/// `results.json` as `harness report`, `compare` and `merge` read it, with its embedded
/// histogram. Invariant: a result that was read writes JSON that reads back the same.
pub fn results_json(data: &[u8]) {
    let Ok(r) = results::RunResult::from_json_slice(data, Path::new("fuzz/results.json")) else {
        return;
    };
    let _ = r.decode_histogram();
    let json = r.to_json_pretty().expect("a read result serializes");
    let again = results::RunResult::from_json_slice(json.as_bytes(), Path::new("again.json"))
        .expect("a written result reads back");
    let json_again = again.to_json_pretty().expect("serializes");
    assert_eq!(json, json_again, "write(read(write(r))) != write(r)");
}

/// A saved baseline (`baselines/NAME.json`) as `harness compare` and `run --baseline` read it.
/// Invariant: a baseline that was read writes JSON that reads back the same.
pub fn baselines(data: &[u8]) {
    let Ok(b) = Baseline::from_slice(data, Path::new("fuzz/baseline.json")) else {
        return;
    };
    let json = serde_json::to_vec(&b).expect("a read baseline serializes");
    let again = Baseline::from_slice(&json, Path::new("again.json")).expect("reads back");
    assert_eq!(
        serde_json::to_vec(&again).expect("serializes"),
        json,
        "write(read(write(b))) != write(b)"
    );
}

/// A segment's `latency.hlog` (HdrHistogram interval log) as `harness merge` reads it.
pub fn hlog(data: &[u8]) {
    let _ = crate::analysis::merge::read_hlog(data);
}

/// An HTTP/1.1 answer through the builtin client's head parser and chunked decoder. The first
/// byte says how many of the next bytes are piece sizes (0 to 7, each 1 to 256 bytes); the rest
/// is the answer. Invariants: every prefix of a complete head is incomplete, not an error; a
/// chunked body decodes to the same bytes and the same outcome whole and fed in pieces.
pub fn http_response(data: &[u8]) {
    let n = data.first().map_or(0, |&b| usize::from(b % 8));
    let Some(sizes) = data.get(1..1 + n) else {
        return;
    };
    let sizes: Vec<usize> = sizes.iter().map(|&b| usize::from(b) + 1).collect();
    let answer = &data[1 + n..];
    let Ok(Some(head)) = h1::parse_head(answer) else {
        return;
    };
    assert!(head.len <= answer.len(), "head of {} bytes", head.len);
    for &cut in &sizes {
        let prefix = &answer[..head.len - cut.min(head.len)];
        assert!(
            matches!(h1::parse_head(prefix), Ok(None)),
            "a {}-byte prefix of a {}-byte head is not incomplete",
            prefix.len(),
            head.len
        );
    }
    if let Framing::Chunked = head.framing {
        let body = &answer[head.len..];
        let whole = decode_chunked(body, &[body.len().max(1)]);
        let pieces = decode_chunked(body, if sizes.is_empty() { &[1] } else { &sizes });
        assert_eq!(whole, pieces, "whole and in pieces of {sizes:?} disagree");
    }
}

/// How a chunked body ended: decoded bytes, bytes of input used, and the last answer (`Done`,
/// `More` when the input ran out, or the error). After an error `used` is 0: the decoder does
/// not say how far the failing call got, and the client drops the connection anyway (fuzzing
/// found the pieces' count 2 ahead when a chunk's CRLF ended a piece: not a decoder bug).
#[derive(Debug, PartialEq)]
struct Decoded {
    data: Vec<u8>,
    used: usize,
    end: Result<&'static str, ErrorKind>,
}

/// Feeds `body` to a [`ChunkDecoder`] as the client does: pieces of `sizes` bytes (cycled)
/// appended to a buffer, whose unused bytes are passed again with the next piece.
fn decode_chunked(body: &[u8], sizes: &[usize]) -> Decoded {
    let mut dec = ChunkDecoder::new();
    let mut out = Decoded {
        data: Vec::new(),
        used: 0,
        end: Ok("more"),
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut fed = 0;
    for &size in sizes.iter().cycle() {
        let piece = &body[fed..(fed + size).min(body.len())];
        fed += piece.len();
        buf.extend_from_slice(piece);
        loop {
            let (n, chunk) = match dec.next(&buf) {
                Ok(step) => step,
                Err(e) => {
                    out.end = Err(e);
                    out.used = 0;
                    return out;
                }
            };
            let stop = match chunk {
                Chunk::Data(d) => {
                    assert!(!d.is_empty(), "empty data chunk");
                    out.data.extend_from_slice(d);
                    false
                }
                Chunk::More => true,
                Chunk::Done => {
                    out.end = Ok("done");
                    true
                }
            };
            out.used += n;
            buf.drain(..n);
            if stop {
                break;
            }
        }
        if out.end == Ok("done") || fed == body.len() {
            return out;
        }
    }
    unreachable!("cycle() never ends; the loop returns once the body is fed")
}
