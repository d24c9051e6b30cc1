//! TLS for https targets: the run's rustls client configuration, built once from `[http.tls]`,
//! the handshake every new connection makes, and what those handshakes did.
//!
//! Why rustls with aws-lc-rs: both are already built into the harness for goose's reqwest, so
//! https costs no new native dependency (no OpenSSL). The provider is given to each
//! `ClientConfig` explicitly rather than installed as the process default, so nothing else in
//! the process (goose's client, a library caller) has its TLS changed by a run.
//!
//! Trust: the system's roots (rustls-native-certs, the store curl and goose's reqwest read on
//! Linux) plus `ca_file`; or, with `insecure = true`, any certificate ([`AnyCertificate`]:
//! handshake signatures are still checked, the chain and name are not). The name sent as SNI
//! and checked against the certificate is `server_name`, else the URL's host (an IP address
//! is checked against the certificate's IP entries, and rustls sends no SNI for it, as RFC 6066
//! requires). One session cache serves every connection of the run, so with `resumption` on a
//! reconnecting worker resumes (TLS 1.3 tickets, TLS 1.2 session IDs or tickets).
//!
//! Failures are data: a failed handshake, a refused certificate, a server that will not speak
//! HTTP/2 when asked, or a TLS alert later on the connection is an error of kind `tls` for the
//! worker to count ([`kind_of`]); [`TlsStats`] keeps the first distinct messages with counts for
//! results.json and the reports ("invalid peer certificate: certificate expired on ...").

use super::HttpError;
use crate::load::errors::ErrorKind;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::{self, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use scenario::{TlsOptions, TlsTrust, TlsVersion};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Distinct failure messages kept for the results (the rest are counted under `tls` only).
const MAX_MESSAGES: usize = 8;

/// Which application protocol a connection asks for by ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alpn {
    /// "http/1.1": the builtin client, hyper's HTTP/1.1 and the control path.
    Http11,
    /// "h2" only: a server that does not agree is a `tls` error, never a silent HTTP/1.1.
    H2,
}

/// The run's TLS client: configurations, the name to verify, and what happened.
pub struct TlsClient {
    http11: Arc<ClientConfig>,
    h2: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    stats: Arc<TlsStats>,
    /// What results.json says about the set-up (the counts are filled in at the end).
    setup: results::TlsInfo,
}

/// What the load connections' handshakes did, shared by every worker. Touched once per
/// connection, never per request.
#[derive(Default)]
pub struct TlsStats {
    handshakes: AtomicU64,
    resumed: AtomicU64,
    tls12: AtomicU64,
    tls13: AtomicU64,
    messages: Mutex<Vec<results::TlsError>>,
}

impl TlsClient {
    /// Builds the configurations for `opts`, verifying against `url_host` unless `server_name`
    /// overrides it. A file that no longer loads (validation read it) is a usage error.
    pub fn new(opts: &TlsOptions, url_host: &str) -> Result<TlsClient, HttpError> {
        let bad = |why: String| HttpError::Tls(why);
        let name = opts.server_name.as_deref().unwrap_or(url_host);
        let server_name = ServerName::try_from(name.to_string())
            .map_err(|_| bad(format!("{name:?} is not a DNS name or an IP address")))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let versions: Vec<&'static rustls::SupportedProtocolVersion> = opts
            .versions
            .iter()
            .map(|v| match v {
                TlsVersion::Tls12 => &rustls::version::TLS12,
                TlsVersion::Tls13 => &rustls::version::TLS13,
            })
            .collect();
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&versions)
            .map_err(|e| bad(format!("TLS versions {:?}: {e}", opts.versions)))?;
        let (verifier, system_roots) = verifier(&opts.trust, &provider)?;
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match &opts.client_auth {
            None => builder.with_no_client_auth(),
            Some(auth) => {
                let certs =
                    scenario::pem::certificates(&auth.cert).map_err(|e| bad(e.to_string()))?;
                let key = scenario::pem::private_key(&auth.key).map_err(|e| bad(e.to_string()))?;
                builder.with_client_auth_cert(certs, key).map_err(|e| {
                    bad(format!(
                        "client certificate {} with key {}: {e}",
                        auth.cert.display(),
                        auth.key.display()
                    ))
                })?
            }
        };
        if !opts.resumption {
            config.resumption = Resumption::disabled();
        }
        let mut h2 = config.clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        h2.alpn_protocols = vec![b"h2".to_vec()];
        let setup = setup_info(opts, name, system_roots);
        Ok(TlsClient {
            http11: Arc::new(config),
            h2: Arc::new(h2),
            server_name,
            stats: Arc::new(TlsStats::default()),
            setup,
        })
    }

    /// Runs the handshake over `io`. Failures are counted and kept as messages (when `count`:
    /// the load connections, not the control path's), then returned as [`ErrorKind::Tls`].
    pub async fn handshake<S>(
        &self,
        io: S,
        alpn: Alpn,
        count: bool,
    ) -> Result<TlsStream<S>, ErrorKind>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let config = match alpn {
            Alpn::Http11 => &self.http11,
            Alpn::H2 => &self.h2,
        };
        let failed = |msg: String| {
            if count {
                self.stats.failed(msg);
            }
            ErrorKind::Tls
        };
        let stream = TlsConnector::from(Arc::clone(config))
            .connect(self.server_name.clone(), io)
            .await
            .map_err(|e| failed(self.handshake_message(&e, alpn)))?;
        let conn = stream.get_ref().1;
        if alpn == Alpn::H2 && conn.alpn_protocol() != Some(b"h2") {
            let chose = conn.alpn_protocol().map_or("none".to_string(), |p| {
                String::from_utf8_lossy(p).into_owned()
            });
            return Err(failed(format!(
                "the server did not agree to HTTP/2 by ALPN (it chose {chose}): http2 = true needs a server that offers h2 over TLS"
            )));
        }
        if count {
            self.stats.completed(conn);
        }
        Ok(stream)
    }

    fn handshake_message(&self, e: &std::io::Error, alpn: Alpn) -> String {
        let name = self.server_name.to_str();
        match rustls_error(e) {
            Some(
                r @ rustls::Error::AlertReceived(rustls::AlertDescription::NoApplicationProtocol),
            ) => format!(
                "TLS handshake with {name} failed: the server speaks none of the protocols asked for by ALPN ({}): {r}",
                match alpn {
                    Alpn::H2 => "h2; http2 = true needs a server that offers HTTP/2 over TLS",
                    Alpn::Http11 => "http/1.1",
                }
            ),
            Some(r) => format!("TLS handshake with {name} failed: {}", describe(r)),
            None if e.kind() == std::io::ErrorKind::UnexpectedEof => format!(
                "TLS handshake with {name} failed: the server closed the connection (not a TLS server, or it refused the handshake)"
            ),
            None => format!("TLS handshake with {name} failed: {e}"),
        }
    }

    /// Counts and messages of the load connections, shared with every worker's streams.
    pub fn stats(&self) -> &Arc<TlsStats> {
        &self.stats
    }

    /// The set-up and what the handshakes did, for results.json (`alpn`: what the load
    /// connections offered).
    pub fn info(&self, alpn: Alpn) -> results::TlsInfo {
        let s = &self.stats;
        let mut by_version = BTreeMap::new();
        for (v, n) in [("1.2", &s.tls12), ("1.3", &s.tls13)] {
            let n = n.load(Ordering::Relaxed);
            if n > 0 {
                by_version.insert(v.to_string(), n);
            }
        }
        results::TlsInfo {
            alpn: vec![match alpn {
                Alpn::Http11 => "http/1.1".into(),
                Alpn::H2 => "h2".into(),
            }],
            handshakes: s.handshakes.load(Ordering::Relaxed),
            resumed: s.resumed.load(Ordering::Relaxed),
            by_version,
            errors: s.messages.lock().map(|m| m.clone()).unwrap_or_default(),
            ..self.setup.clone()
        }
    }
}

impl TlsStats {
    fn completed(&self, conn: &rustls::ClientConnection) {
        self.handshakes.fetch_add(1, Ordering::Relaxed);
        if conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
            self.resumed.fetch_add(1, Ordering::Relaxed);
        }
        match conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_2) => self.tls12.fetch_add(1, Ordering::Relaxed),
            _ => self.tls13.fetch_add(1, Ordering::Relaxed),
        };
    }

    /// Counts one failure under its message (the first [`MAX_MESSAGES`] distinct ones).
    pub fn failed(&self, message: String) {
        // A poisoned lock only means another worker panicked; the counts are still whole.
        let mut m = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = m.iter_mut().find(|e| e.message == message) {
            e.count += 1;
        } else if m.len() < MAX_MESSAGES {
            m.push(results::TlsError { message, count: 1 });
        }
    }

    /// Counts a TLS error that surfaced on an established connection (an alert, such as a
    /// server refusing the client certificate after a TLS 1.3 handshake).
    pub fn failed_later(&self, e: &rustls::Error) {
        self.failed(format!(
            "TLS error on an established connection: {}",
            describe(e)
        ));
    }
}

/// The kind of error an I/O failure on a connection counts as: `tls` when rustls raised it.
pub fn kind_of(e: &std::io::Error) -> ErrorKind {
    if rustls_error(e).is_some() {
        ErrorKind::Tls
    } else {
        ErrorKind::Io
    }
}

/// Whether rustls raised `e` or anything in its source chain, looking inside I/O errors too
/// (an `io::Error`'s `source()` skips the error it wraps): for clients whose errors wrap ours
/// in their own types, such as goose's reqwest (reqwest -> hyper-util -> io -> io -> rustls).
pub fn in_chain(e: &(dyn std::error::Error + 'static)) -> bool {
    if e.is::<rustls::Error>() {
        return true;
    }
    let wrapped = e
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .is_some_and(|inner| in_chain(inner));
    wrapped || e.source().is_some_and(in_chain)
}

/// The rustls error inside an I/O error, if that is what it is.
pub fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// rustls's message, with the time-dependent parts of certificate validity made stable (they
/// count seconds since the check, which would make every second's failure a new message) and
/// a hint where the fix is ours to give.
fn describe(e: &rustls::Error) -> String {
    let date = |t: UnixTime| {
        humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.as_secs()),
        )
        .to_string()
    };
    match e {
        rustls::Error::InvalidCertificate(CertificateError::ExpiredContext { not_after, .. }) => {
            format!("invalid peer certificate: certificate expired (not valid after {})", date(*not_after))
        }
        rustls::Error::InvalidCertificate(CertificateError::NotValidYetContext { not_before, .. }) => {
            format!("invalid peer certificate: certificate not valid yet (not before {})", date(*not_before))
        }
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "invalid peer certificate: issued by an unknown certificate authority (give its CA in [http.tls] ca_file)".to_string()
        }
        e => e.to_string(),
    }
}

/// The server-certificate verifier for `trust`, and how many system roots it holds.
fn verifier(
    trust: &TlsTrust,
    provider: &Arc<CryptoProvider>,
) -> Result<(Arc<dyn ServerCertVerifier>, u64), HttpError> {
    let ca_file = match trust {
        TlsTrust::Insecure => {
            return Ok((Arc::new(AnyCertificate(Arc::clone(provider))), 0));
        }
        TlsTrust::Roots { ca_file } => ca_file,
    };
    let mut roots = RootCertStore::empty();
    // A system without a store (a minimal container) still works with a ca_file; the count in
    // results.json says what was there.
    let (system, _ignored) =
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = ca_file {
        let certs = scenario::pem::certificates(path).map_err(|e| HttpError::Tls(e.to_string()))?;
        for c in certs {
            roots.add(c).map_err(|e| {
                HttpError::Tls(format!(
                    "ca_file {}: a certificate cannot be a root: {e}",
                    path.display()
                ))
            })?;
        }
    }
    if roots.is_empty() {
        return Err(HttpError::Tls(
            "no trusted roots: the system has no certificate store and no ca_file is given".into(),
        ));
    }
    let v = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
        .build()
        .map_err(|e| HttpError::Tls(format!("building the certificate verifier: {e}")))?;
    Ok((v, system as u64))
}

fn setup_info(opts: &TlsOptions, server_name: &str, system_roots: u64) -> results::TlsInfo {
    let (insecure, ca_file) = match &opts.trust {
        TlsTrust::Insecure => (true, None),
        TlsTrust::Roots { ca_file } => (false, ca_file.as_ref().map(|p| p.display().to_string())),
    };
    results::TlsInfo {
        insecure,
        ca_file,
        system_roots,
        server_name: server_name.to_string(),
        client_cert: opts
            .client_auth
            .as_ref()
            .map(|a| a.cert.display().to_string()),
        versions: opts
            .versions
            .iter()
            .map(|v| v.as_str().to_string())
            .collect(),
        resumption: opts.resumption,
        ..results::TlsInfo::default()
    }
}

/// `insecure = true`: accepts any certificate chain for any name. The handshake's signatures
/// are still verified with the provider's algorithms, so the peer holds the key of the
/// certificate it sent; only who that is goes unchecked.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
