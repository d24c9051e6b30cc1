//! `[http.tls]`: how an https target is reached (trust, SNI name, client certificate,
//! protocol versions, session resumption).
//!
//! Files are resolved against the scenario file's directory (a scenario and its certificates
//! travel together; `output.dir`, by contrast, is where the user wants output and stays
//! relative to the working directory) and read here, with the parser the run uses
//! ([`crate::pem`]), so a missing or wrong file is a validation error naming the field and the
//! file rather than a failed run. Settings that contradict each other are refused rather than
//! one silently winning: `insecure = true` with a `ca_file`, a certificate without its key.

use std::path::PathBuf;

use rustls_pki_types::ServerName;

use super::values::Ctx;
use super::Result;
use crate::plan::{ClientAuth, Target, TlsOptions, TlsTrust, TlsVersion};
use crate::raw::{RawTls, S};

pub(super) fn tls(cx: &Ctx, raw: Option<&S<RawTls>>, target: &Target) -> Result<TlsOptions> {
    let mut o = TlsOptions::default();
    let Some(raw) = raw else { return Ok(o) };
    if let Target::Http { base_url, .. } = target {
        if !base_url.starts_with("https://") {
            return Err(cx.err(
                raw.span(),
                "http.tls",
                format!("[http.tls] applies to https:// targets, but target.url is {base_url:?}"),
            ));
        }
    }
    let r = raw.get_ref();
    o.trust = trust(cx, r)?;
    if let Some(n) = &r.server_name {
        if ServerName::try_from(n.get_ref().as_str()).is_err() {
            return Err(cx.err(
                n.span(),
                "http.tls.server_name",
                format!(
                    "expected a DNS name or an IP address, found {:?}",
                    n.get_ref()
                ),
            ));
        }
        o.server_name = Some(n.get_ref().clone());
    }
    o.client_auth = client_auth(cx, r)?;
    if let Some(v) = &r.versions {
        o.versions = versions(cx, v)?;
    }
    if let Some(b) = &r.resumption {
        o.resumption = *b.get_ref();
    }
    Ok(o)
}

/// `ca_file` or `insecure = true` (not both), else the system's roots alone.
fn trust(cx: &Ctx, r: &RawTls) -> Result<TlsTrust> {
    let insecure = r.insecure.as_ref().filter(|b| *b.get_ref());
    match (&r.ca_file, insecure) {
        (Some(_), Some(i)) => Err(cx.err(
            i.span(),
            "http.tls.insecure",
            "insecure = true accepts any certificate, so ca_file would be ignored: set one or the other",
        )),
        (None, Some(_)) => Ok(TlsTrust::Insecure),
        (Some(f), None) => {
            let path = pem_file(cx, f, "http.tls.ca_file", Kind::Certificates)?;
            Ok(TlsTrust::Roots {
                ca_file: Some(path),
            })
        }
        (None, None) => Ok(TlsTrust::Roots { ca_file: None }),
    }
}

/// `client_cert` and `client_key`: both or neither.
fn client_auth(cx: &Ctx, r: &RawTls) -> Result<Option<ClientAuth>> {
    match (&r.client_cert, &r.client_key) {
        (None, None) => Ok(None),
        (Some(c), None) => Err(cx.err(
            c.span(),
            "http.tls.client_cert",
            "needs client_key too (the certificate's private key, PEM)",
        )),
        (None, Some(k)) => Err(cx.err(
            k.span(),
            "http.tls.client_key",
            "needs client_cert too (the certificate chain the key belongs to, PEM)",
        )),
        (Some(c), Some(k)) => Ok(Some(ClientAuth {
            cert: pem_file(cx, c, "http.tls.client_cert", Kind::Certificates)?,
            key: pem_file(cx, k, "http.tls.client_key", Kind::Key)?,
        })),
    }
}

fn versions(cx: &Ctx, v: &S<Vec<S<String>>>) -> Result<Vec<TlsVersion>> {
    let field = "http.tls.versions";
    if v.get_ref().is_empty() {
        return Err(cx.err(
            v.span(),
            field,
            "must name at least one of \"1.2\" and \"1.3\"",
        ));
    }
    let mut out = Vec::new();
    for (i, s) in v.get_ref().iter().enumerate() {
        let version = match s.get_ref().as_str() {
            "1.2" => TlsVersion::Tls12,
            "1.3" => TlsVersion::Tls13,
            other => {
                return Err(cx.err(
                    s.span(),
                    format!("{field}[{i}]"),
                    format!("expected \"1.2\" or \"1.3\", found {other:?}"),
                ))
            }
        };
        if out.contains(&version) {
            return Err(cx.err(
                s.span(),
                format!("{field}[{i}]"),
                format!("{:?} is listed twice", version.as_str()),
            ));
        }
        out.push(version);
    }
    Ok(out)
}

enum Kind {
    Certificates,
    Key,
}

/// Resolves `raw` against the scenario's directory and checks that it holds what `kind` needs.
fn pem_file(cx: &Ctx, raw: &S<String>, field: &str, kind: Kind) -> Result<PathBuf> {
    if raw.get_ref().trim().is_empty() {
        return Err(cx.err(raw.span(), field, "must not be empty"));
    }
    let path = cx.resolve(raw.get_ref());
    let checked = match kind {
        Kind::Certificates => crate::pem::certificates(&path).map(drop),
        Kind::Key => crate::pem::private_key(&path).map(drop),
    };
    checked.map_err(|e| cx.err(raw.span(), field, e.to_string()))?;
    Ok(path)
}
