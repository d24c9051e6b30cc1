//! A self-signed certificate made at test time, for tests that speak TLS to `engine serve`.
//!
//! Made per run with rcgen rather than checked in, so no private key sits in the repository and
//! no test starts failing the day a fixture expires. The certificate names `localhost` and
//! `127.0.0.1`, is its own issuer and is no CA, so a rustls client that trusts exactly this
//! certificate accepts the server and nothing else.
//!
//! Reusable outside the engine: this file needs only `rcgen` (a workspace dev-dependency,
//! aws-lc-rs backend) and `std`. Another crate's tests (the harness's, for its HTTPS driver)
//! can include it as it is:
//! ```ignore
//! #[path = "../../engine/tests/common/testcert.rs"]
//! mod testcert;
//! ```
//! with `rcgen = { workspace = true }` in that crate's `[dev-dependencies]`.

use std::path::{Path, PathBuf};

/// The key algorithm of a generated certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA P-256 with SHA-256: fast to generate (well under a millisecond).
    EcdsaP256,
    /// RSA 2048 with PKCS#1 v1.5 SHA-256: what most deployed certificates still are; slower to
    /// generate (tens to hundreds of milliseconds).
    Rsa2048,
}

/// A self-signed certificate and its private key.
pub struct TestCert {
    /// `-----BEGIN CERTIFICATE-----` PEM.
    pub cert_pem: String,
    /// `-----BEGIN PRIVATE KEY-----` (PKCS#8) PEM.
    pub key_pem: String,
    /// The certificate's DER, for a client's root store.
    pub cert_der: Vec<u8>,
}

/// The names the certificate is valid for; clients connect to 127.0.0.1 and send this SNI.
pub const SERVER_NAME: &str = "localhost";

/// A fresh self-signed certificate for `localhost` and `127.0.0.1`.
pub fn self_signed(kind: KeyKind) -> TestCert {
    let key = match kind {
        KeyKind::EcdsaP256 => rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeyKind::Rsa2048 => {
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        }
    }
    .expect("generating a test key pair");
    let names = vec![SERVER_NAME.to_string(), "127.0.0.1".to_string()];
    let cert = rcgen::CertificateParams::new(names)
        .and_then(|params| params.self_signed(&key))
        .expect("self-signing a test certificate");
    TestCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert_der: cert.der().to_vec(),
    }
}

impl TestCert {
    /// Writes `cert.pem` and `key.pem` into `dir`; returns their paths (certificate, key).
    pub fn write_pem(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, &self.cert_pem).expect("writing cert.pem");
        std::fs::write(&key, &self.key_pem).expect("writing key.pem");
        (cert, key)
    }
}
