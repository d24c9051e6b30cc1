//! Where an HTTP target is, and whether we may send load there.
//!
//! Load tests only ever target this machine unless two people agreed otherwise: the scenario
//! (`allow_remote = true`) and whoever runs it (`--allow-remote`). The check resolves the host
//! and refuses unless every address is loopback (127.0.0.0/8 or ::1); it runs before any
//! connection is opened, so a refused target never sees a packet.

use super::HttpError;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// A parsed `http[s]://host[:port][/base]` URL, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL as given.
    pub url: String,
    /// `https://`: connections speak TLS (see [`super::tls`]).
    pub tls: bool,
    /// `host[:port]` for the Host header (as written in the URL).
    pub authority: String,
    pub host: String,
    pub port: u16,
    /// Path prefix without a trailing slash ("" for none); request paths are appended to it.
    pub base_path: String,
    /// Every address the host resolved to; connections use the first.
    pub addrs: Vec<SocketAddr>,
}

impl Endpoint {
    /// Parses `url` (`http://` or `https://`) and resolves its host.
    pub fn parse(url: &str) -> Result<Endpoint, HttpError> {
        let bad = |why: &str| HttpError::BadUrl {
            url: url.to_string(),
            why: why.to_string(),
        };
        let (tls, rest) = if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else {
            return Err(bad("must start with http:// or https://"));
        };
        let default_port = if tls { 443 } else { 80 };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(bad("needs a host (and no user info)"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6
                .find(']')
                .ok_or_else(|| bad("unclosed '[' in the host"))?;
            let host = &v6[..end];
            let port = match &v6[end + 1..] {
                "" => default_port,
                p => p
                    .strip_prefix(':')
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| bad("bad port"))?,
            };
            (host.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p.parse().map_err(|_| bad("bad port"))?),
                None => (authority.to_string(), default_port),
            }
        };
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        // An IP literal needs no lookup; a name is resolved by the system resolver
        // ("localhost" through /etc/hosts).
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => (host.as_str(), port)
                .to_socket_addrs()
                .map_err(|e| HttpError::Resolve {
                    host: host.clone(),
                    source: e,
                })?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(HttpError::Resolve {
                host: host.clone(),
                source: std::io::Error::other("no address"),
            });
        }
        Ok(Endpoint {
            url: url.to_string(),
            tls,
            authority: authority.to_string(),
            host,
            port,
            base_path: path.trim_end_matches('/').to_string(),
            addrs,
        })
    }

    /// Whether every resolved address is on this machine's loopback.
    pub fn is_loopback(&self) -> bool {
        self.addrs.iter().all(|a| is_loopback(a.ip()))
    }

    /// Refuses a non-loopback endpoint unless both the scenario and the command line allow it.
    pub fn check_allowed(&self, scenario_allows: bool, cli_allows: bool) -> Result<(), HttpError> {
        if self.is_loopback() || (scenario_allows && cli_allows) {
            return Ok(());
        }
        Err(HttpError::Remote {
            url: self.url.clone(),
            addrs: self
                .addrs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            scenario: scenario_allows,
            cli: cli_allows,
        })
    }
}

/// 127.0.0.0/8, ::1, and IPv4-mapped loopback (::ffff:127.x.y.z).
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Parses, resolves and checks a URL in one step: what every HTTP target goes through before
/// its first connection.
pub fn resolve_allowed(
    url: &str,
    scenario_allows: bool,
    cli_allows: bool,
) -> Result<Endpoint, HttpError> {
    let e = Endpoint::parse(url)?;
    e.check_allowed(scenario_allows, cli_allows)?;
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        let e = Endpoint::parse("http://127.0.0.1:8080/base/").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("127.0.0.1", 8080));
        assert_eq!(e.base_path, "/base");
        assert_eq!(e.authority, "127.0.0.1:8080");
        let e = Endpoint::parse("http://[::1]:9").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 9));
        assert!(e.is_loopback());
        let e = Endpoint::parse("http://127.1.2.3").unwrap();
        assert_eq!(e.port, 80);
        assert!(e.is_loopback());
        let e = Endpoint::parse("https://127.0.0.1").unwrap();
        assert_eq!((e.tls, e.port), (true, 443));
        let e = Endpoint::parse("https://[::1]:8443/api").unwrap();
        assert_eq!((e.tls, e.port, e.base_path.as_str()), (true, 8443, "/api"));
        assert!(!Endpoint::parse("http://127.0.0.1").unwrap().tls);
        assert!(Endpoint::parse("ftp://127.0.0.1").is_err());
        assert!(Endpoint::parse("http://127.0.0.1:x").is_err());
        assert!(Endpoint::parse("http://u@127.0.0.1").is_err());
    }

    #[test]
    fn refuses_remote_unless_both_allow() {
        // https changes nothing about where load may go.
        for url in [
            "http://10.1.2.3:80",
            "http://192.168.0.1",
            "http://[2001:db8::1]:80",
            "https://10.1.2.3:8443",
            "https://[2001:db8::1]",
        ] {
            let e = Endpoint::parse(url).unwrap();
            assert!(!e.is_loopback());
            for (s, c) in [(false, false), (true, false), (false, true)] {
                let err = e.check_allowed(s, c).unwrap_err().to_string();
                assert!(err.contains("loopback"), "{err}");
            }
            assert!(e.check_allowed(true, true).is_ok());
        }
        assert!(is_loopback("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_loopback("::ffff:10.0.0.1".parse().unwrap()));
    }
}
