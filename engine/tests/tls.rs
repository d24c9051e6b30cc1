//! `engine serve` over TLS end to end: a certificate made at test time (common/testcert.rs), the
//! server in-process on 127.0.0.1:0 (and once as the real binary), and a rustls client that
//! trusts exactly that certificate, speaking HTTP/1.1 or HTTP/2 as ALPN settles. Also what a
//! TLS port must survive: a client sending plain HTTP or noise instead of a ClientHello, and
//! clients that connect and say nothing. Every wait is bounded by `TIMEOUT` and every loop by a
//! count; all traffic stays on 127.0.0.1.
#![cfg(feature = "server")]

mod common;

use bytes::Bytes;
use common::testcert::{self, KeyKind, TestCert, SERVER_NAME};
use common::{binary, valid_batch, Server, Spawned, TIMEOUT};
use engine::server::{ServeOptions, ServerTls, TlsError, TlsFiles, Transport};
use engine::Design;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

const H2: &[u8] = b"h2";
const H1: &[u8] = b"http/1.1";

/// A generated certificate written to a temporary directory (removed on drop).
struct CertFiles {
    cert: TestCert,
    files: TlsFiles,
    _dir: TempDir,
}

fn cert_files(kind: KeyKind) -> CertFiles {
    let dir = tempfile::tempdir().unwrap();
    let cert = testcert::self_signed(kind);
    let (cert_path, key_path) = cert.write_pem(dir.path());
    CertFiles {
        cert,
        files: TlsFiles {
            cert: cert_path,
            key: key_path,
        },
        _dir: dir,
    }
}

/// A TLS server in-process, and the certificate its clients must trust.
async fn start_tls(kind: KeyKind, opts: ServeOptions) -> (Server, CertFiles) {
    let certs = cert_files(kind);
    let tls = ServerTls::from_files(&certs.files).expect("the generated files load");
    let server = Server::start_with(Design::Cas, opts, Transport::Tls(tls)).await;
    (server, certs)
}

/// A client trusting only `cert`, offering `alpn` (in preference order).
fn connector(cert: &TestCert, alpn: &[&[u8]]) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(cert.cert_der.clone()))
        .unwrap();
    let mut config = ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}

/// Connects and completes the handshake.
async fn connect(addr: SocketAddr, cert: &TestCert, alpn: &[&[u8]]) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from(SERVER_NAME).unwrap();
    tokio::time::timeout(TIMEOUT, connector(cert, alpn).connect(name, tcp))
        .await
        .expect("handshake in time")
        .expect("handshake succeeds")
}

/// One answered request: the HTTP version it came back in, its status and body.
struct Reply {
    version: Version,
    status: StatusCode,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{:?}", self.body);
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Sends `req` over a new TLS connection, in HTTP/2 if ALPN chose `h2`, else HTTP/1.1.
async fn request(stream: TlsStream<TcpStream>, req: Request<Full<Bytes>>) -> Reply {
    let h2 = stream.get_ref().1.alpn_protocol() == Some(H2);
    let io = TokioIo::new(stream);
    let exchange = async {
        let response = if h2 {
            let (mut send, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .unwrap();
            tokio::spawn(conn);
            send.send_request(req).await.unwrap()
        } else {
            let (mut send, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
            tokio::spawn(conn);
            send.send_request(req).await.unwrap()
        };
        let (version, status) = (response.version(), response.status());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            version,
            status,
            body,
        }
    };
    tokio::time::timeout(TIMEOUT, exchange)
        .await
        .expect("answer in time")
}

fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(format!("https://{SERVER_NAME}{path}"))
        .header("host", SERVER_NAME)
        .body(Full::default())
        .unwrap()
}

fn post(content_type: &str, body: Vec<u8>) -> Request<Full<Bytes>> {
    Request::post(format!("https://{SERVER_NAME}/api/v11/transactions"))
        .header("host", SERVER_NAME)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

/// GET over a fresh connection offering `alpn`.
async fn get_over(addr: SocketAddr, cert: &TestCert, alpn: &[&[u8]], path: &str) -> Reply {
    request(connect(addr, cert, alpn).await, get(path)).await
}

/// The `/metrics` sample `http_connections_rejected_total{reason="tls_handshake_failed"}`.
async fn handshakes_failed(addr: SocketAddr, cert: &TestCert) -> u64 {
    let text = get_over(addr, cert, &[H1], "/metrics").await.body;
    let text = String::from_utf8(text.to_vec()).unwrap();
    let needle = "http_connections_rejected_total{reason=\"tls_handshake_failed\"} ";
    let line = text.lines().find_map(|l| l.strip_prefix(needle));
    line.unwrap_or_else(|| panic!("no {needle:?} in\n{text}"))
        .parse()
        .unwrap()
}

/// Polls `/metrics` until `n` failed handshakes are counted (the count lands just after the
/// server drops the socket, so a client can see the close first). At most 100 polls.
async fn wait_handshakes_failed(addr: SocketAddr, cert: &TestCert, n: u64) {
    let mut seen = 0;
    for _ in 0..100 {
        seen = handshakes_failed(addr, cert).await;
        if seen >= n {
            assert_eq!(seen, n, "more handshakes failed than were botched");
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{seen} failed handshakes counted, expected {n}");
}

/// Reads until the server closes the connection; panics if it is still open after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) {
    let mut sink = Vec::new();
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut sink)).await;
    // A reset is as good as a close here.
    assert!(read.is_ok(), "the server kept the connection open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_over_http1_chosen_by_alpn() {
    let (server, c) = start_tls(KeyKind::EcdsaP256, ServeOptions::default()).await;
    let stream = connect(server.addr, &c.cert, &[H1]).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(H1));
    let health = request(stream, get("/api/v11/health")).await;
    assert_eq!(health.version, Version::HTTP_11);
    assert_eq!(health.json()["status"], "UP");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_over_http2_chosen_by_alpn() {
    let (server, c) = start_tls(KeyKind::EcdsaP256, ServeOptions::default()).await;
    // Offered both, the server prefers h2.
    let stream = connect(server.addr, &c.cert, &[H1, H2]).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(H2));
    let health = request(stream, get("/api/v11/health")).await;
    assert_eq!(health.version, Version::HTTP_2);
    assert_eq!(health.json()["status"], "UP");
    // A client that offers no ALPN at all still gets HTTP/1.1.
    let plain = get_over(server.addr, &c.cert, &[], "/api/v11/health").await;
    assert_eq!(plain.version, Version::HTTP_11);
    assert_eq!(plain.status, StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_certificates_serve_too() {
    let (server, c) = start_tls(KeyKind::Rsa2048, ServeOptions::default()).await;
    let health = get_over(server.addr, &c.cert, &[H2, H1], "/api/v11/health").await;
    assert_eq!(health.version, Version::HTTP_2);
    assert_eq!(health.json()["status"], "UP");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_commit_over_tls_in_both_protocols() {
    let (server, c) = start_tls(KeyKind::EcdsaP256, ServeOptions::default()).await;
    let a = server.addr;
    let stream = connect(a, &c.cert, &[H2]).await;
    let r = request(
        stream,
        post("application/octet-stream", binary(&valid_batch(0, 500))),
    )
    .await;
    assert_eq!(r.version, Version::HTTP_2);
    let r = r.json();
    assert_eq!(r["committed"], 500);
    assert!(r["block"].as_u64().unwrap() >= 1);

    let one = br#"{"from":600,"to":601,"amount":5,"nonce":0}"#.to_vec();
    let stream = connect(a, &c.cert, &[H1]).await;
    let r = request(stream, post("application/json", one)).await;
    assert_eq!(r.version, Version::HTTP_11);
    assert_eq!(r.json()["results"], serde_json::json!([{"ok": true}]));

    let stats = get_over(a, &c.cert, &[H2], "/api/v11/stats").await.json();
    assert_eq!(stats["committed"], 501);
    assert_eq!(stats["http"]["tls_handshakes_failed"], 0);
    let audit = get_over(a, &c.cert, &[H1], "/api/v11/audit").await.json();
    assert_eq!(audit["ok"], true, "{audit}");
    assert_eq!(audit["committed_transfers"], 501);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_instead_of_a_client_hello_is_cut_off_and_counted() {
    let (server, c) = start_tls(KeyKind::EcdsaP256, ServeOptions::default()).await;
    let a = server.addr;
    // Plain HTTP to the TLS port (the usual mistake), then bytes that are no TLS record at all.
    let noise: Vec<u8> = (0..4096u32).map(|i| (i * 131 % 251) as u8).collect();
    for garbage in [
        &b"GET /api/v11/health HTTP/1.1\r\nhost: localhost\r\n\r\n"[..],
        &noise[..],
    ] {
        let mut s = TcpStream::connect(a).await.unwrap();
        // The server may close before reading it all; a failed write is fine.
        let _ = s.write_all(garbage).await;
        closed_within(&mut s, TIMEOUT).await;
    }
    // The next client is served as if nothing happened.
    let health = get_over(a, &c.cert, &[H2, H1], "/api/v11/health").await;
    assert_eq!(health.json()["status"], "UP");
    wait_handshakes_failed(a, &c.cert, 2).await;
    assert_eq!(
        get_over(a, &c.cert, &[H1], "/api/v11/stats").await.json()["http"]["tls_handshakes_failed"],
        2
    );
    promtool_accepts(&get_over(a, &c.cert, &[H1], "/metrics").await.body);
    server.shutdown().await;
}

/// `promtool check metrics` on the exposition. Skipped with a note when promtool (Debian
/// `prometheus`) is missing, except under `REQUIRE_TEST_TOOLS=1`: `.ci/run` installs it with
/// `.ci/deps` and sets that, so CI never skips the check.
fn promtool_accepts(text: &[u8]) {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        assert!(
            std::env::var_os("REQUIRE_TEST_TOOLS").is_none(),
            "promtool not installed (Debian package prometheus; .ci/deps installs it)"
        );
        eprintln!("promtool not installed: /metrics format not checked with it");
        return;
    };
    child.stdin.take().unwrap().write_all(text).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_clients_neither_block_others_nor_stay_forever() {
    let deadline = Duration::from_secs(3);
    let opts = ServeOptions {
        tls_handshake_timeout: deadline,
        ..ServeOptions::default()
    };
    let (server, c) = start_tls(KeyKind::EcdsaP256, opts).await;
    let a = server.addr;
    let opened = Instant::now();
    let mut silent = Vec::new();
    for _ in 0..8 {
        silent.push(TcpStream::connect(a).await.unwrap());
    }
    // Served while all eight sit in their handshakes: had the accept loop waited on one of
    // them, these would take the whole handshake deadline.
    for _ in 0..5 {
        let health = get_over(a, &c.cert, &[H2, H1], "/api/v11/health").await;
        assert_eq!(health.status, StatusCode::OK);
    }
    let served_in = opened.elapsed();
    assert!(served_in < deadline, "5 requests took {served_in:?}");
    // Then each silent client is let go at its deadline, and counted.
    for s in &mut silent {
        closed_within(s, TIMEOUT).await;
    }
    let closed_after = opened.elapsed();
    assert!(closed_after >= deadline, "closed after {closed_after:?}");
    wait_handshakes_failed(a, &c.cert, 8).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_connection_limit_a_tls_client_is_closed_without_bytes() {
    let opts = ServeOptions {
        max_connections: 1,
        ..ServeOptions::default()
    };
    let (server, c) = start_tls(KeyKind::EcdsaP256, opts).await;
    // The only slot: a handshake that has not started.
    let held = TcpStream::connect(server.addr).await.unwrap();
    // Permits are taken in the accept loop, in accept order, so this one is over the limit.
    let mut extra = TcpStream::connect(server.addr).await.unwrap();
    let mut raw = Vec::new();
    let read = tokio::time::timeout(TIMEOUT, extra.read_to_end(&mut raw)).await;
    assert!(read.is_ok(), "the connection over the limit was kept open");
    assert!(
        raw.is_empty(),
        "plain-text bytes sent to a TLS client: {raw:?}"
    );
    drop(held);
    // The slot comes back once the held connection is gone (its handshake fails on EOF).
    let mut served = false;
    for _ in 0..50 {
        let tcp = TcpStream::connect(server.addr).await.unwrap();
        let name = ServerName::try_from(SERVER_NAME).unwrap();
        let shake = connector(&c.cert, &[H1]).connect(name, tcp);
        if let Ok(Ok(stream)) = tokio::time::timeout(TIMEOUT, shake).await {
            served = request(stream, get("/api/v11/health")).await.status == StatusCode::OK;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "the freed slot was never served");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_silent_handshakes() {
    let opts = ServeOptions {
        tls_handshake_timeout: Duration::from_secs(60),
        ..ServeOptions::default()
    };
    let (server, c) = start_tls(KeyKind::EcdsaP256, opts).await;
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    // Make sure its connection task is running before shutdown starts.
    let health = get_over(server.addr, &c.cert, &[H1], "/api/v11/health").await;
    assert_eq!(health.status, StatusCode::OK);
    let started = Instant::now();
    server.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(5));
    closed_within(&mut silent, TIMEOUT).await;
}

#[test]
fn unusable_files_are_named_in_the_error() {
    let good = cert_files(KeyKind::EcdsaP256);
    let other = cert_files(KeyKind::EcdsaP256);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let garbled = dir.path().join("garbled.pem");
    std::fs::write(
        &garbled,
        "-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let load = |cert: &std::path::Path, key: &std::path::Path| {
        let files = TlsFiles {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
        };
        let e = ServerTls::from_files(&files).expect_err("these files must not load");
        (e.to_string(), e)
    };
    let (cert, key) = (&good.files.cert, &good.files.key);

    let (msg, e) = load(&missing, key);
    assert!(matches!(e, TlsError::ReadCert { .. }), "{msg}");
    assert!(msg.contains(&*missing.to_string_lossy()), "{msg}");
    let (msg, e) = load(cert, &missing);
    assert!(matches!(e, TlsError::ReadKey { .. }), "{msg}");
    let (msg, e) = load(key, key);
    assert!(matches!(e, TlsError::NoCertificate(_)), "{msg}");
    assert!(msg.contains("no certificate found"), "{msg}");
    let (msg, e) = load(cert, cert);
    assert!(matches!(e, TlsError::NoKey(_)), "{msg}");
    assert!(msg.contains("no private key found"), "{msg}");
    let (msg, e) = load(&garbled, key);
    assert!(matches!(e, TlsError::CertPem { .. }), "{msg}");
    let (msg, e) = load(cert, &other.files.key);
    assert!(matches!(e, TlsError::KeyMismatch { .. }), "{msg}");
    assert!(msg.contains("does not match"), "{msg}");
    assert!(msg.contains(&*other.files.key.to_string_lossy()), "{msg}");
}

/// Runs the real binary with `args`; returns its exit code and stderr. Bounded by `TIMEOUT`.
fn run_engine(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    use std::io::Read as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_engine"))
        .args(["serve", "--addr", "127.0.0.1:0", "--accounts", "100"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("engine serve {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code(), stderr)
}

#[test]
fn binary_exits_2_naming_the_bad_file() {
    let good = cert_files(KeyKind::EcdsaP256);
    let other = cert_files(KeyKind::EcdsaP256);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-cert.pem");
    let (cert, key) = (good.files.cert.as_os_str(), good.files.key.as_os_str());
    let cases: [(Vec<&std::ffi::OsStr>, &std::path::Path, &str); 4] = [
        (
            vec![
                "--tls-cert".as_ref(),
                missing.as_os_str(),
                "--tls-key".as_ref(),
                key,
            ],
            &missing,
            "cannot read it",
        ),
        (
            vec!["--tls-cert".as_ref(), key, "--tls-key".as_ref(), key],
            &good.files.key,
            "no certificate found",
        ),
        (
            vec!["--tls-cert".as_ref(), cert, "--tls-key".as_ref(), cert],
            &good.files.cert,
            "no private key found",
        ),
        (
            vec![
                "--tls-cert".as_ref(),
                cert,
                "--tls-key".as_ref(),
                other.files.key.as_os_str(),
            ],
            &other.files.key,
            "does not match",
        ),
    ];
    for (args, file, what) in cases {
        let (code, stderr) = run_engine(&args);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("engine: error: --tls-"), "{stderr}");
        assert!(stderr.contains(&*file.to_string_lossy()), "{stderr}");
        assert!(stderr.contains(what), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Half of the pair is a usage error, also exit 2.
    let (code, stderr) = run_engine(&["--tls-cert".as_ref(), cert]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--tls-key"), "{stderr}");
    let (code, stderr) = run_engine(&["--tls-key".as_ref(), key]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--tls-cert"), "{stderr}");
}

/// The real binary over TLS: announces `https://`, answers over HTTP/2, exits 0 on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_https() {
    let c = cert_files(KeyKind::EcdsaP256);
    let mut server = Spawned::start(&[
        "--accounts".as_ref(),
        "1000".as_ref(),
        "--workers".as_ref(),
        "1".as_ref(),
        "--tls-cert".as_ref(),
        c.files.cert.as_os_str(),
        "--tls-key".as_ref(),
        c.files.key.as_os_str(),
    ] as &[&std::ffi::OsStr]);
    assert_eq!(server.scheme, "https");
    let health = get_over(server.addr, &c.cert, &[H2, H1], "/api/v11/health").await;
    assert_eq!(health.version, Version::HTTP_2);
    assert_eq!(health.json()["accounts"], 1000);
    let status = tokio::task::block_in_place(|| server.terminate());
    assert_eq!(status.code(), Some(0));
}
