//! `GET /debug/pprof/profile?seconds=N[&format=pb][&frequency=99]`: samples this process with
//! pprof and returns a flamegraph SVG or a pprof protobuf.
//!
//! Off unless `--enable-profiling` (404), and loopback clients only (403): a profile reveals
//! symbol names and costs CPU. Sampling is process-wide (SIGPROF via setitimer), so the async
//! worker only sleeps while the guard lives; symbolization and rendering, which take hundreds of
//! milliseconds, run on the blocking pool. pprof allows one profiler at a time: a second
//! concurrent request gets 409. 99 Hz by default: the kernel ticks at 250 Hz and higher rates
//! under-sample (FACTS.md).

use crate::server::routes::{error, respond, Resp};
use crate::server::State;
use hyper::header::HeaderValue;
use hyper::StatusCode;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Parsed query of a profile request.
#[derive(Debug, PartialEq, Eq)]
struct Query {
    seconds: u64,
    frequency: i32,
    protobuf: bool,
}

fn parse_query(query: Option<&str>) -> Result<Query, String> {
    let mut q = Query {
        seconds: 10,
        frequency: 99,
        protobuf: false,
    };
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "seconds" => {
                q.seconds = value
                    .parse()
                    .ok()
                    .filter(|s| (1..=300).contains(s))
                    .ok_or_else(|| format!("seconds={value:?} must be a whole number in 1..=300"))?
            }
            "frequency" => {
                q.frequency = value
                    .parse()
                    .ok()
                    .filter(|f| (1..=1000).contains(f))
                    .ok_or_else(|| {
                        format!("frequency={value:?} must be a whole number of Hz in 1..=1000")
                    })?
            }
            "format" => {
                q.protobuf = match value {
                    "pb" | "proto" | "protobuf" => true,
                    "svg" | "flamegraph" => false,
                    _ => return Err(format!("format={value:?} must be svg or pb")),
                }
            }
            _ => {
                return Err(format!(
                    "unknown parameter {key:?} (use seconds, frequency, format)"
                ))
            }
        }
    }
    Ok(q)
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

pub(crate) async fn profile(state: &State, peer: SocketAddr, query: Option<&str>) -> Resp {
    if !state.opts.enable_profiling {
        return error(
            StatusCode::NOT_FOUND,
            "not found",
            "profiling is disabled; start the server with --enable-profiling",
        );
    }
    if !is_loopback(peer.ip()) {
        return error(
            StatusCode::FORBIDDEN,
            "forbidden",
            format_args!(
                "profiles are served to loopback clients only, not {}",
                peer.ip()
            ),
        );
    }
    let q = match parse_query(query) {
        Ok(q) => q,
        Err(detail) => return error(StatusCode::BAD_REQUEST, "bad profile query", detail),
    };
    let guard = match pprof::ProfilerGuardBuilder::default()
        .frequency(q.frequency)
        .blocklist(&["libc", "libgcc", "pthread", "vdso"])
        .build()
    {
        Ok(g) => g,
        Err(e) => {
            return error(
                StatusCode::CONFLICT,
                "profiler unavailable",
                format_args!("{e} (is another profile being taken?)"),
            )
        }
    };
    // Shutdown ends the sampling early; the partial profile is still returned.
    let mut stop = state.stop.clone();
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs(q.seconds)) => {}
        () = crate::server::stopped(&mut stop) => {}
    }
    let rendered = tokio::task::spawn_blocking(move || render(guard, q.protobuf)).await;
    match rendered {
        Ok(Ok((body, content_type))) => respond(StatusCode::OK, content_type, body),
        Ok(Err(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "building the profile failed",
            e,
        ),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "building the profile failed",
            e,
        ),
    }
}

fn render(
    guard: pprof::ProfilerGuard<'static>,
    protobuf: bool,
) -> Result<(Vec<u8>, HeaderValue), pprof::Error> {
    let report = guard.report().build()?;
    // Stop sampling before the (slow) rendering.
    drop(guard);
    let mut body = Vec::new();
    if protobuf {
        use pprof::protos::Message;
        let profile = report.pprof()?;
        profile
            .encode(&mut body)
            .map_err(|e| pprof::Error::IoError(std::io::Error::other(e)))?;
        Ok((body, HeaderValue::from_static("application/octet-stream")))
    } else {
        if report.data.is_empty() {
            // pprof writes nothing for a profile without samples, and an empty body is no
            // SVG. It happens whenever the process stayed idle: SIGPROF counts CPU time.
            body = no_samples_svg(report.timing.duration, report.timing.frequency).into_bytes();
        } else {
            report.flamegraph(&mut body)?;
        }
        Ok((body, HeaderValue::from_static("image/svg+xml")))
    }
}

/// A one-line SVG saying that the window held no samples, so a viewer shows why the graph is
/// missing instead of failing on an empty file.
fn no_samples_svg(window: Duration, frequency: i32) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" standalone="no"?>"#,
            "\n",
            r#"<svg version="1.1" width="1200" height="60" viewBox="0 0 1200 60" xmlns="http://www.w3.org/2000/svg">"#,
            r#"<text x="600" y="35" text-anchor="middle" font-family="Verdana" font-size="17">"#,
            "No samples in {:.1} s at {} Hz: the process used no CPU (an idle server).",
            "</text></svg>\n"
        ),
        window.as_secs_f64(),
        frequency
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_validated() {
        assert_eq!(
            parse_query(Some("seconds=2&format=pb")),
            Ok(Query {
                seconds: 2,
                frequency: 99,
                protobuf: true
            })
        );
        assert_eq!(parse_query(None).map(|q| q.seconds), Ok(10));
        assert!(parse_query(Some("seconds=0")).is_err());
        assert!(parse_query(Some("seconds=301")).is_err());
        assert!(parse_query(Some("seconds=x")).is_err());
        assert!(parse_query(Some("frequency=0")).is_err());
        assert!(parse_query(Some("format=png")).is_err());
        assert!(parse_query(Some("secs=1")).is_err());
    }

    #[test]
    fn no_samples_svg_is_an_svg_document() {
        let svg = no_samples_svg(Duration::from_millis(2_040), 99);
        assert!(svg.starts_with("<?xml") && svg.contains("<svg ") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("No samples in 2.0 s at 99 Hz"), "{svg}");
    }

    #[test]
    fn loopback_includes_mapped_v4() {
        assert!(is_loopback("127.0.0.1".parse().unwrap()));
        assert!(is_loopback("::1".parse().unwrap()));
        assert!(is_loopback("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_loopback("10.0.0.1".parse().unwrap()));
    }
}
