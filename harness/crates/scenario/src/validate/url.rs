//! URL, request-path and header-name syntax: a target's base URL, the paths of health checks
//! and request templates, and the header names templates send and checks read.
//!
//! Both return a reason rather than an error, so the section that owns the key can name its
//! own field (`target.url`, `target.health_path`, `requests[2].path`).

/// Checks `http[s]://host[:port][/path]` and returns it without a trailing slash. Loopback is
/// not checked here: the harness does that, with its `--allow-remote` flag.
pub(super) fn check_url(url: &str) -> std::result::Result<String, String> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("http://") {
        ("http", rest)
    } else if let Some(rest) = url.strip_prefix("https://") {
        ("https", rest)
    } else {
        return Err("it must start with \"http://\" or \"https://\"".into());
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if path.contains(['?', '#']) {
        return Err("a base URL cannot have a query or fragment".into());
    }
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the path contains whitespace".into());
    }
    if authority.contains('@') {
        return Err("user information is not supported".into());
    }
    let (host, port) = host_port(authority)?;
    if host.is_empty() {
        return Err("the host is missing".into());
    }
    if !host.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(format!(
            "the host {host:?} is not a valid host name or address"
        ));
    }
    if let Some(p) = port {
        match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => {}
            _ => return Err(format!("the port {p:?} is not a number from 1 to 65535")),
        }
    }
    Ok(format!(
        "{scheme}://{authority}{}",
        path.trim_end_matches('/')
    ))
}

/// Splits `host[:port]` or `[v6][:port]`; an IPv6 host keeps its brackets.
fn host_port(authority: &str) -> std::result::Result<(&str, Option<&str>), String> {
    let Some(v6) = authority.strip_prefix('[') else {
        return Ok(match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        });
    };
    let close = v6.find(']').ok_or("unclosed '[' in the host")?;
    v6[..close]
        .parse::<std::net::Ipv6Addr>()
        .map_err(|_| "the IPv6 address does not parse")?;
    let after = &v6[close + 1..];
    match after.strip_prefix(':') {
        Some(p) => Ok((&authority[..close + 2], Some(p))),
        None if after.is_empty() => Ok((authority, None)),
        None => Err("unexpected text after the IPv6 address".into()),
    }
}

/// A request path: starts with '/', no whitespace or control characters, no fragment.
pub(super) fn check_path(p: &str) -> std::result::Result<(), String> {
    check_template_path(p, p)
}

/// A request template's path `p`, whose `literal` text (`p` without its `{{ }}` variables,
/// since `{{ users.id }}` may be spaced inside its braces) obeys [`check_path`]'s rules; the
/// values variables take are checked where they are known (data columns at validation).
pub(super) fn check_template_path(p: &str, literal: &str) -> std::result::Result<(), String> {
    if !p.starts_with('/') {
        return Err(format!("must start with '/', found {p:?}"));
    }
    if literal.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "must not contain whitespace or control characters, found {p:?}"
        ));
    }
    if literal.contains('#') {
        return Err(format!("must not contain a fragment ('#'), found {p:?}"));
    }
    Ok(())
}

/// An HTTP header name: a token (RFC 9110 `tchar`s), not empty.
pub(super) fn is_header_name(name: &str) -> bool {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    !name.is_empty() && name.bytes().all(tchar)
}
