//! The "Connections" section: how long opening connections took (TCP connect, TLS handshake:
//! k6's `http_req_connecting` and `http_req_tls_handshaking`) and, for https targets, how TLS
//! was set up and what it did (resumed handshakes, versions, failures by message).
//!
//! Why its own section: a slow handshake or a refused certificate is neither the target's
//! request latency nor the generator's lateness, and an https run whose certificates were not
//! checked must say so where its figures are read. [`tls_fact`] gives the scenario section its
//! one-line TLS summary (insecure runs say it there too).

use results::{Percentiles, Quantile, RunResult, TlsInfo};

use super::{Align, Block, Cell, Table};
use crate::fmt;

/// The section's blocks; nothing when no connection was timed and the target was not https.
pub(super) fn connections(r: &RunResult) -> Vec<Block> {
    let s = &r.summary;
    let tls = r.driver.tls.as_ref();
    if s.connect_us.is_none() && s.tls_handshake_us.is_none() && tls.is_none() {
        return Vec::new();
    }
    let mut b = vec![Block::Heading("Connections".into())];
    if s.connect_us.is_some() || s.tls_handshake_us.is_some() {
        b.push(Block::Table(times(
            s.connect_us.as_ref(),
            s.tls_handshake_us.as_ref(),
        )));
        b.push(Block::Note(
            "Per new connection, over the whole run (warm-up included: connections are mostly \
             opened at the start). Connect = TCP connect() to established; TLS handshake = \
             from there to a finished handshake, resumed or full."
                .into(),
        ));
    }
    if let Some(t) = tls {
        b.push(Block::Pairs(tls_pairs(t)));
        if !t.errors.is_empty() {
            b.push(Block::Paragraph("TLS errors (error kind `tls`):".into()));
            b.push(Block::Bullets(
                t.errors
                    .iter()
                    .map(|e| format!("{} ({}×)", e.message, fmt::count(e.count)))
                    .collect(),
            ));
        }
    }
    b
}

/// The scenario section's TLS line, for https targets.
pub fn tls_fact(t: &TlsInfo) -> (String, String) {
    let versions = t.versions.join(" and ");
    let value = if t.insecure {
        format!(
            "INSECURE: any server certificate accepted (insecure = true), the server was not \
             authenticated; TLS {versions}, SNI {}",
            t.server_name
        )
    } else {
        format!(
            "verified ({}); TLS {versions}, SNI {}",
            trust(t),
            t.server_name
        )
    };
    ("TLS".into(), value)
}

fn trust(t: &TlsInfo) -> String {
    match &t.ca_file {
        Some(f) => format!("system roots ({}) + {f}", fmt::count(t.system_roots)),
        None => format!("system roots ({})", fmt::count(t.system_roots)),
    }
}

fn times(connect: Option<&Percentiles>, handshake: Option<&Percentiles>) -> Table {
    let mut t = Table::new(&[
        ("Step", Align::Left),
        ("Count", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        ("max", Align::Right),
    ]);
    for (name, p) in [("TCP connect", connect), ("TLS handshake", handshake)] {
        let Some(p) = p else { continue };
        t.row(vec![
            Cell::plain(name),
            Cell::plain(fmt::count(p.count)),
            Cell::plain(fmt::percentile_cell(p, Quantile::P50)),
            Cell::plain(fmt::percentile_cell(p, Quantile::P90)),
            Cell::plain(fmt::percentile_cell(p, Quantile::P99)),
            Cell::plain(fmt::latency_us(p.max)),
        ]);
    }
    t
}

fn tls_pairs(t: &TlsInfo) -> Vec<(String, String)> {
    let mut pairs = vec![tls_fact(t)];
    if let Some(c) = &t.client_cert {
        pairs.push(("Client certificate (mutual TLS)".into(), c.clone()));
    }
    pairs.push(("ALPN offered".into(), t.alpn.join(", ")));
    let resumed = if t.resumption {
        format!(
            "on: {} of {} handshakes resumed a session",
            fmt::count(t.resumed),
            fmt::count(t.handshakes)
        )
    } else {
        format!("off: {} full handshakes", fmt::count(t.handshakes))
    };
    pairs.push(("Session resumption".into(), resumed));
    if !t.by_version.is_empty() {
        pairs.push((
            "Negotiated versions".into(),
            t.by_version
                .iter()
                .map(|(v, n)| format!("TLS {v}: {}", fmt::count(*n)))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    pairs
}
