//! Prometheus remote-write (`harness run --remote-write URL`): the live metrics pushed, for a
//! Prometheus (or Mimir, Thanos, VictoriaMetrics) that cannot scrape the machine the harness
//! runs on, e.g. a pod of a Kubernetes Indexed Job.
//!
//! What is pushed is exactly what a scrape of `--metrics-addr` reads: each push renders the
//! same text ([`Live::render`]) and turns its samples into remote-write time series, so the
//! two outputs cannot disagree and the histograms keep every bucket (k6's users lose
//! percentiles on export: grafana/k6#3737). Protocol 1.0: a protobuf `WriteRequest`, snappy
//! block-compressed, POSTed every `--remote-write-interval` and once more with the final totals.
//! A failed push is counted and said at the end; it never stops the run.

use crate::load::live::Live;
use anyhow::{bail, Context as _, Result};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::Uri;
use std::net::ToSocketAddrs as _;
use std::time::Duration;

/// `--remote-write URL` with `--remote-write-interval`.
#[derive(Debug, Clone)]
pub struct RemoteWrite {
    pub url: Uri,
    pub interval: Duration,
}

impl RemoteWrite {
    /// An `http://` URL whose host is loopback unless `allow_remote` (the rule load obeys).
    pub fn new(url: &str, interval: Duration, allow_remote: bool) -> Result<RemoteWrite> {
        let uri: Uri = url
            .parse()
            .with_context(|| format!("--remote-write {url:?}: not a URL"))?;
        if uri.scheme_str() != Some("http") {
            bail!("--remote-write {url:?}: only http:// is supported");
        }
        let host = uri.host().unwrap_or_default();
        let port = uri.port_u16().unwrap_or(80);
        let addrs: Vec<_> = (host.trim_matches(['[', ']']), port)
            .to_socket_addrs()
            .with_context(|| format!("--remote-write {url:?}: resolving {host}"))?
            .collect();
        if !allow_remote && !addrs.iter().all(|a| a.ip().is_loopback()) {
            bail!("refusing to remote-write to {host}: not a loopback address (127.0.0.0/8 or ::1); --allow-remote allows it");
        }
        if interval.is_zero() {
            bail!("--remote-write-interval must be above zero");
        }
        Ok(RemoteWrite { url: uri, interval })
    }
}

/// How the pushes went, said at the end of the run.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Pushes {
    pub sent: u64,
    pub failed: u64,
    pub last_error: Option<String>,
}

/// Pushes `live` every interval until `stop`, then once more (the final totals).
pub async fn run(
    rw: RemoteWrite,
    live: std::sync::Arc<Live>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Pushes {
    let mut pushes = Pushes::default();
    let mut tick = tokio::time::interval(rw.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let last = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.wait_for(|s| *s) => true,
        };
        let result = push(&rw.url, encode(&live.render(), now_ms())).await;
        pushes.sent += 1;
        if let Err(e) = result {
            pushes.failed += 1;
            pushes.last_error = Some(format!("{e:#}"));
        }
        if last {
            return pushes;
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// One POST of a compressed `WriteRequest`, with a 10 s limit; a non-2xx answer is an error
/// carrying the receiver's message.
async fn push(url: &Uri, body: Vec<u8>) -> Result<()> {
    let authority = url.authority().context("no host")?.as_str().to_string();
    let addr = authority.clone();
    let exchange = async move {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        let (mut send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let req = hyper::Request::post(url.clone())
            .header("host", authority)
            .header("content-type", "application/x-protobuf")
            .header("content-encoding", "snappy")
            .header("x-prometheus-remote-write-version", "0.1.0")
            .header("user-agent", "txbench-harness")
            .body(Full::new(Bytes::from(body)))?;
        let resp = send.send_request(req).await?;
        let status = resp.status();
        let text = resp.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            let text = String::from_utf8_lossy(&text[..text.len().min(300)]).into_owned();
            bail!("{status}: {}", text.trim());
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .context("no answer within 10 s")?
}

/// The remote-write protocol's messages (prometheus/prompb), the fields we send.
mod prompb {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct WriteRequest {
        #[prost(message, repeated, tag = "1")]
        pub timeseries: Vec<TimeSeries>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TimeSeries {
        #[prost(message, repeated, tag = "1")]
        pub labels: Vec<Label>,
        #[prost(message, repeated, tag = "2")]
        pub samples: Vec<Sample>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Label {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub value: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        #[prost(double, tag = "1")]
        pub value: f64,
        #[prost(int64, tag = "2")]
        pub timestamp: i64,
    }
}

/// Prometheus text (as [`engine::exposition`] writes it) as a snappy-compressed
/// `WriteRequest`, every sample stamped `at_ms`.
pub fn encode(text: &str, at_ms: i64) -> Vec<u8> {
    use prost::Message as _;
    let timeseries = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| series(l, at_ms))
        .collect();
    let raw = prompb::WriteRequest { timeseries }.encode_to_vec();
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .expect("snappy compresses any input under 4 GiB")
}

/// One sample line, `name{a="x",b="y"} value`, as a series with `__name__` first and the
/// labels sorted by name (the order remote-write receivers require). None for a line that is
/// not a sample (the writer makes none).
fn series(line: &str, at_ms: i64) -> Option<prompb::TimeSeries> {
    let (head, value) = line.rsplit_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let (name, rest) = match head.find('{') {
        Some(i) => (&head[..i], head[i + 1..].strip_suffix('}')?),
        None => (head, ""),
    };
    let mut labels = vec![prompb::Label {
        name: "__name__".into(),
        value: name.into(),
    }];
    labels.extend(parse_labels(rest)?);
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    Some(prompb::TimeSeries {
        labels,
        samples: vec![prompb::Sample {
            value,
            timestamp: at_ms,
        }],
    })
}

/// `a="x",b="q\"z"` with the exposition's escapes (backslash, double quote, line feed) undone.
fn parse_labels(mut s: &str) -> Option<Vec<prompb::Label>> {
    let mut out = Vec::new();
    while !s.is_empty() {
        let (name, after) = s.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (_, c) => value.push(c),
            }
        };
        out.push(prompb::Label {
            name: name.into(),
            value,
        });
        s = after[end + 1..].trim_start_matches(',');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    fn decode(body: &[u8]) -> prompb::WriteRequest {
        let raw = snap::raw::Decoder::new().decompress_vec(body).unwrap();
        prompb::WriteRequest::decode(raw.as_slice()).unwrap()
    }

    #[test]
    fn every_sample_line_becomes_a_sorted_series() {
        let mut e = engine::exposition::Exposition::default();
        let l = engine::exposition::labels(&[("stage", "q\"\\\nz"), ("scenario", "s")]);
        e.family("c_total", "counter", "help", &[(l, 7)]);
        e.single("g", "gauge", "help", 0.25);
        let w = decode(&encode(&e.0, 1_700_000_000_000));
        assert_eq!(w.timeseries.len(), 2);
        let c = &w.timeseries[0];
        let pairs: Vec<(&str, &str)> = c
            .labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("__name__", "c_total"),
                ("scenario", "s"),
                ("stage", "q\"\\\nz")
            ]
        );
        assert_eq!(
            c.samples,
            [prompb::Sample {
                value: 7.0,
                timestamp: 1_700_000_000_000
            }]
        );
        assert_eq!(w.timeseries[1].labels.len(), 1);
        assert_eq!(w.timeseries[1].samples[0].value, 0.25);
    }

    #[test]
    fn a_histogram_keeps_every_bucket() {
        let mut e = engine::exposition::Exposition::default();
        let series = engine::exposition::Series {
            labels: "",
            counts: &[1, 2, 3],
            sum: 0.5,
        };
        e.histogram("h", "help", &[0.001, 0.01], &[series]);
        let w = decode(&encode(&e.0, 0));
        let le: Vec<(String, f64)> = w
            .timeseries
            .iter()
            .filter_map(|t| {
                let le = t.labels.iter().find(|l| l.name == "le")?;
                Some((le.value.clone(), t.samples[0].value))
            })
            .collect();
        assert_eq!(
            le,
            [
                ("0.001".into(), 1.0),
                ("0.01".into(), 3.0),
                ("+Inf".into(), 6.0)
            ]
        );
        assert_eq!(w.timeseries.len(), 5, "three buckets, sum and count");
    }

    #[test]
    fn only_loopback_http_without_allow_remote() {
        let s = Duration::from_secs(5);
        assert!(RemoteWrite::new("http://127.0.0.1:9090/api/v1/write", s, false).is_ok());
        assert!(RemoteWrite::new("http://[::1]:9090/api/v1/write", s, false).is_ok());
        let remote = RemoteWrite::new("http://192.0.2.1:9090/api/v1/write", s, false);
        assert!(remote.unwrap_err().to_string().contains("not a loopback"));
        assert!(RemoteWrite::new("http://192.0.2.1:9090/api/v1/write", s, true).is_ok());
        let tls = RemoteWrite::new("https://127.0.0.1/api/v1/write", s, false);
        assert!(tls.unwrap_err().to_string().contains("only http://"));
        assert!(RemoteWrite::new("http://127.0.0.1/w", Duration::ZERO, false).is_err());
    }
}
