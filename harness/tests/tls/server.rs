//! The https side of the TLS tests: certificates made at test time (rcgen) and a small TLS
//! server (tokio-rustls + hyper's auto HTTP/1.1 / HTTP/2 server) that records, per
//! connection, what the handshake showed: the SNI name, whether the session was resumed,
//! ALPN, and whether a client certificate came. Loopback port 0 only.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A test CA and what it signed, written as PEM files in a directory.
pub struct Pki {
    pub dir: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    ca_der: CertificateDer<'static>,
}

/// A certificate and its key, for the server (DER) and as files for the client.
pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

impl Pki {
    /// A new CA, its certificate written to `dir/ca.pem`.
    pub fn new(dir: &Path) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "harness test CA");
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(dir.join("ca.pem"), cert.pem()).unwrap();
        Pki {
            dir: dir.to_path_buf(),
            issuer: Issuer::new(params, key),
            ca_der: cert.der().clone(),
        }
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A leaf for `names` (DNS names or IP addresses), valid now unless `expired`, for
    /// server or client use; written as `<file>.pem` and `<file>.key`.
    pub fn leaf(&self, file: &str, names: &[&str], client: bool, expired: bool) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, file);
        params.extended_key_usages.push(if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        });
        if expired {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let cert_file = self.dir.join(format!("{file}.pem"));
        let key_file = self.dir.join(format!("{file}.key"));
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        Leaf {
            chain: vec![cert.der().clone(), self.ca_der.clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            cert_file,
            key_file,
        }
    }

    fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        roots
    }
}

/// What the server saw of one connection's handshake.
#[derive(Clone, Debug, Default)]
pub struct Handshake {
    pub sni: Option<String>,
    pub resumed: bool,
    pub alpn: Option<String>,
    pub client_cert: bool,
}

/// How the server behaves.
pub struct Options<'a> {
    pub leaf: &'a Leaf,
    /// Refuse clients without a certificate signed by the test CA.
    pub require_client_cert: Option<&'a Pki>,
    pub alpn: &'a [&'a str],
    /// Answer every request with `connection: close`, so every request reconnects.
    pub close: bool,
}

/// A running test server: its address and the handshakes it completed.
pub struct Server {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Handshake>>>,
}

impl Server {
    pub fn start(o: Options<'_>) -> Server {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match o.require_client_cert {
            Some(pki) => builder.with_client_cert_verifier(
                rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(pki.roots()),
                    provider,
                )
                .build()
                .unwrap(),
            ),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(o.leaf.chain.clone(), o.leaf.key.clone_key())
            .unwrap();
        config.alpn_protocols = o.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (close, log) = (o.close, Arc::clone(&seen));
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(serve(listener, acceptor, close, log));
        });
        Server { addr, seen }
    }

    pub fn handshakes(&self) -> Vec<Handshake> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(
    listener: std::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    close: bool,
    seen: Arc<Mutex<Vec<Handshake>>>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let (acceptor, seen) = (acceptor.clone(), Arc::clone(&seen));
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return; // a refused handshake: the client counts it
            };
            let c = tls.get_ref().1;
            seen.lock().unwrap().push(Handshake {
                sni: c.server_name().map(str::to_string),
                resumed: c.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
                alpn: c
                    .alpn_protocol()
                    .map(|p| String::from_utf8_lossy(p).into_owned()),
                client_cert: c.peer_certificates().is_some_and(|p| !p.is_empty()),
            });
            let service = hyper::service::service_fn(move |req| answer(req, close));
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// `/big`: 100 kB of a known pattern (several TLS records); `/created`: 201; a POST body is
/// echoed back with its length checked; anything else: "ok".
async fn answer(
    req: Request<hyper::body::Incoming>,
    close: bool,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let path = req.uri().path().to_string();
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    let (status, out) = match (path.as_str(), body) {
        (_, Err(_)) => (400, Bytes::from_static(b"bad body")),
        ("/echo", Ok(b)) if declared == Some(b.len()) => (200, b),
        ("/echo", Ok(_)) => (400, Bytes::from_static(b"length mismatch")),
        ("/big", _) => (200, Bytes::from(big_body())),
        ("/created", _) => (201, Bytes::from_static(b"created")),
        _ => (200, Bytes::from_static(b"ok")),
    };
    let mut resp = Response::builder().status(status);
    if close {
        resp = resp.header("connection", "close");
    }
    Ok(resp.body(Full::new(out)).unwrap())
}

pub fn big_body() -> Vec<u8> {
    (0..100_000u32).map(|i| (i % 251) as u8).collect()
}
