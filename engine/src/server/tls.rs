//! HTTPS for `engine serve --tls-cert FILE --tls-key FILE`: the PEM files turned into a rustls
//! server configuration once, at startup, and the per-connection handshake with a deadline.
//!
//! Why these choices:
//! - rustls 0.23 through tokio-rustls 0.26, with the **aws-lc-rs** provider installed explicitly
//!   (`builder_with_provider`), not rustls' process-wide default: aws-lc-rs is the backend the
//!   workspace already compiles for reqwest (goose), so no second crypto library is linked, and
//!   an explicit provider cannot be changed by whichever other crate installs a default first.
//! - PEM parsing with rustls-pki-types' own `PemObject` (rustls-pemfile is deprecated). The key
//!   may be PKCS#8 (`BEGIN PRIVATE KEY`), PKCS#1 (`BEGIN RSA PRIVATE KEY`) or SEC1
//!   (`BEGIN EC PRIVATE KEY`); aws-lc-rs loads all three.
//! - Each way the files can be wrong is its own [`TlsError`] naming the flag and the file, and
//!   the key is checked against the certificate here: otherwise rustls would only fail at the
//!   first handshake, after `listening on` was printed and a harness had started measuring.
//! - ALPN offers `h2` then `http/1.1`. hyper-util's auto builder reads the connection's first
//!   bytes and serves HTTP/2 when they are the HTTP/2 preface, which is what a client that
//!   negotiated `h2` sends, so the negotiated protocol is the one served without a second
//!   builder; a client that offered no ALPN is served too.
//! - The handshake runs in the connection's own task (see `connection`) under
//!   [`ServerTls::accept`]'s deadline, so a client that sends nothing, or garbage instead of a
//!   ClientHello, costs one task and one connection permit for at most that long and never
//!   stalls the accept loop.
//!
//! What it costs (test profile, client and server in one process on the shared 2-vCPU VM,
//! sequential, 300 connections x 4 rounds): a new connection with a full TLS 1.3 handshake and
//! one GET took 0.47-0.58 ms of CPU with an ECDSA P-256 certificate and 0.75-0.83 ms with RSA 2048,
//! against 0.05-0.06 ms in the clear; on a kept-alive connection a GET took 13.5 us against
//! 11.3 us. So TLS runs should keep connections alive unless the handshake is what is measured.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::rustls::crypto::{aws_lc_rs, CryptoProvider};
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::sign::{CertifiedKey, SingleCertAndKey};
use tokio_rustls::rustls::{self, InconsistentKeys, ServerConfig};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// The protocols offered in ALPN, most preferred first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The certificate chain and private key files given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificates, the server's own first, then any intermediates.
    pub cert: PathBuf,
    /// PEM private key of the first certificate.
    pub key: PathBuf,
}

/// Why the TLS files cannot be served with. Every message names the flag and the file; the
/// underlying error is the `source`, which `{:#}` (as `engine: error:` prints) appends.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("--tls-cert {}: cannot read it", .path.display())]
    ReadCert { path: PathBuf, source: io::Error },
    #[error("--tls-key {}: cannot read it", .path.display())]
    ReadKey { path: PathBuf, source: io::Error },
    #[error("--tls-cert {}: not valid PEM: {detail}", .path.display())]
    CertPem { path: PathBuf, detail: String },
    #[error("--tls-key {}: not valid PEM: {detail}", .path.display())]
    KeyPem { path: PathBuf, detail: String },
    #[error(
        "--tls-cert {}: no certificate found (expected a PEM \"BEGIN CERTIFICATE\" section)",
        .0.display()
    )]
    NoCertificate(PathBuf),
    #[error(
        "--tls-key {}: no private key found (expected a PEM \"BEGIN PRIVATE KEY\", \"BEGIN RSA PRIVATE KEY\" or \"BEGIN EC PRIVATE KEY\" section)",
        .0.display()
    )]
    NoKey(PathBuf),
    #[error("--tls-key {}: not a usable private key", .path.display())]
    BadKey {
        path: PathBuf,
        source: rustls::Error,
    },
    #[error("--tls-cert {}: the first certificate cannot be used", .path.display())]
    BadCertificate {
        path: PathBuf,
        source: rustls::Error,
    },
    #[error(
        "--tls-key {} does not match the certificate in --tls-cert {} (their public keys differ)",
        .key.display(),
        .cert.display()
    )]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("building the TLS configuration")]
    Config(#[source] rustls::Error),
}

/// Why a connection's TLS handshake did not complete.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HandshakeError {
    #[error("TLS handshake failed")]
    Failed(#[source] io::Error),
    #[error("no TLS handshake within {0:?}")]
    TimedOut(Duration),
}

/// A loaded certificate and key, ready to accept connections. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerTls { .. }")
    }
}

impl ServerTls {
    /// Reads and checks the PEM files and builds the server configuration.
    pub fn from_files(files: &TlsFiles) -> Result<ServerTls, TlsError> {
        let certs = read_certs(&files.cert)?;
        let key = read_key(&files.key)?;
        let provider = Arc::new(aws_lc_rs::default_provider());
        let certified = certified_key(files, certs, key, &provider)?;
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        Ok(ServerTls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// Runs the server side of the handshake on `stream`, giving up after `deadline`.
    pub(crate) async fn accept(
        &self,
        stream: TcpStream,
        deadline: Duration,
    ) -> Result<TlsStream<TcpStream>, HandshakeError> {
        match tokio::time::timeout(deadline, self.acceptor.accept(stream)).await {
            Ok(Ok(tls)) => Ok(tls),
            Ok(Err(e)) => Err(HandshakeError::Failed(e)),
            Err(_) => Err(HandshakeError::TimedOut(deadline)),
        }
    }
}

/// Every certificate in `path`, in file order; at least one.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem_error = |e| match e {
        pem::Error::Io(source) => TlsError::ReadCert {
            path: path.to_path_buf(),
            source,
        },
        other => TlsError::CertPem {
            path: path.to_path_buf(),
            detail: describe(&other),
        },
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(pem_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_error)?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(path.to_path_buf()));
    }
    Ok(certs)
}

/// The first private key in `path`.
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoKey(path.to_path_buf()),
        pem::Error::Io(source) => TlsError::ReadKey {
            path: path.to_path_buf(),
            source,
        },
        other => TlsError::KeyPem {
            path: path.to_path_buf(),
            detail: describe(&other),
        },
    })
}

/// A PEM syntax error in words: pki-types prints the markers as byte arrays.
fn describe(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "a section has no \"-----END {}-----\" line",
            String::from_utf8_lossy(end_marker)
        ),
        pem::Error::IllegalSectionStart { line } => format!(
            "malformed section start {:?}",
            String::from_utf8_lossy(line)
        ),
        other => other.to_string(),
    }
}

/// Loads the key with `provider` and checks it belongs to the first certificate. The steps of
/// rustls' `with_single_cert`, taken one at a time so each failure names the right file.
fn certified_key(
    files: &TlsFiles,
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|source| TlsError::BadKey {
            path: files.key.clone(),
            source,
        })?;
    let certified = CertifiedKey::new(certs, signing_key);
    match certified.keys_match() {
        // Unknown: the key type cannot report its public key; rustls accepts that too.
        Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => Ok(certified),
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            Err(TlsError::KeyMismatch {
                cert: files.cert.clone(),
                key: files.key.clone(),
            })
        }
        Err(source) => Err(TlsError::BadCertificate {
            path: files.cert.clone(),
            source,
        }),
    }
}
