//! The PEM files a scenario names (`[http.tls]` `ca_file`, `client_cert`, `client_key`): read
//! and decoded once, the same way for validation and for the run.
//!
//! Why here: validation must refuse a missing or wrong file before anything runs, naming the
//! field and the file, and the harness must then load exactly what validation accepted. One
//! reader (rustls-pki-types' PEM parser, the one rustls uses) serves both, so the two cannot
//! disagree about what a valid file is.

use std::path::{Path, PathBuf};

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why a PEM file cannot be used. The message names the file.
#[derive(Debug, thiserror::Error)]
pub enum PemError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not valid PEM: {why}", path.display())]
    Syntax { path: PathBuf, why: String },
    #[error("{} holds no {what} (expected a PEM \"-----BEGIN {label}-----\" block)", path.display())]
    Empty {
        path: PathBuf,
        what: &'static str,
        label: &'static str,
    },
}

/// Every certificate in a PEM file (at least one).
pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let bytes = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| syntax(path, e))?;
    if certs.is_empty() {
        return Err(PemError::Empty {
            path: path.to_path_buf(),
            what: "certificate",
            label: "CERTIFICATE",
        });
    }
    Ok(certs)
}

/// The first private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, PemError> {
    let bytes = read(path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => PemError::Empty {
            path: path.to_path_buf(),
            what: "private key",
            label: "PRIVATE KEY",
        },
        e => syntax(path, e),
    })
}

fn read(path: &Path) -> Result<Vec<u8>, PemError> {
    std::fs::read(path).map_err(|source| PemError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// pki-types' own wording prints byte vectors; say it in words.
fn syntax(path: &Path, e: pem::Error) -> PemError {
    let why = match e {
        pem::Error::MissingSectionEnd { .. } => "a section has no END line".to_string(),
        pem::Error::IllegalSectionStart { .. } => "a BEGIN line is malformed".to_string(),
        pem::Error::Base64Decode(e) => format!("bad base64 ({e})"),
        pem::Error::SectionTooLarge => "a section is larger than 256 MB".to_string(),
        e => e.to_string(),
    };
    PemError::Syntax {
        path: path.to_path_buf(),
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_empty_and_broken_files_are_named() {
        let dir = std::env::temp_dir().join(format!("scenario-pem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let e = certificates(&missing).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("cannot read {}: ", missing.display())),
            "{e}"
        );
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "just text\n").unwrap();
        assert_eq!(
            certificates(&empty).unwrap_err().to_string(),
            format!(
                "{} holds no certificate (expected a PEM \"-----BEGIN CERTIFICATE-----\" block)",
                empty.display()
            )
        );
        assert!(private_key(&empty)
            .unwrap_err()
            .to_string()
            .contains("holds no private key"));
        let broken = dir.join("broken.pem");
        std::fs::write(&broken, "-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap();
        assert_eq!(
            certificates(&broken).unwrap_err().to_string(),
            format!(
                "{} is not valid PEM: a section has no END line",
                broken.display()
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
